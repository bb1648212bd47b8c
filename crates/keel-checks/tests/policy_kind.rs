#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `QualityPolicy` as an ops-as-code kind: the demo policy loads cleanly through the manifests
//! loader, and bad policies are reported with their paths.

use keel_manifests::{Registry, SourceFile, load};

fn registry() -> Registry {
    let mut r = Registry::new();
    keel_checks::register(&mut r);
    r
}

#[test]
fn the_demo_policy_checks_clean_and_is_usable() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/ops/quality/halyard-email.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let loaded = load(&[SourceFile::new(path, text.clone())], &registry());
    let problems: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let policy = keel_checks::Policy::from_yaml(&text).unwrap();
    assert!(policy.is_disabled("html-dir", None));
}

#[test]
fn bad_policies_are_reported_at_their_paths() {
    let text = "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: bad}\nspec:\n  disabled: [no-such-rule]\n  email: {clients: [hotmail]}\n";
    let loaded = load(&[SourceFile::new("bad.yaml", text)], &registry());
    let problems: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("unknown rule `no-such-rule`")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("unknown email client `hotmail`")),
        "{problems:#?}"
    );
    let typo =
        "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: t}\nspec:\n  severty: {}\n";
    assert!(load(&[SourceFile::new("t.yaml", typo)], &registry()).has_errors());
}
