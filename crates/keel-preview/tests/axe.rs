#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Runs axe-core in headless Chromium over a fixture with known accessibility defects.
//! Skipped with a note when Chromium is not installed, unless `CI=true`.

use keel_checks::axe::{Target, findings, parse_results, run_options};
use std::path::Path;
use std::time::Duration;

fn browser() -> Option<&'static Path> {
    let path = Path::new("/usr/bin/chromium");
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("chromium is required on CI (apt-get install chromium)");
    }
    eprintln!("SKIPPED accessibility test: /usr/bin/chromium not installed");
    None
}

#[test]
fn reports_the_seeded_defects_at_their_lines() {
    let Some(browser) = browser() else { return };
    let html = include_bytes!("fixtures/a11y-defects.html");
    let json = keel_preview::accessibility(
        browser,
        html,
        &run_options(Target::Email),
        1280,
        Duration::from_secs(120),
    )
    .unwrap();
    let violations = parse_results(&json).unwrap();
    let found = findings(html, &violations, &keel_checks::Policy::default());
    let at = |rule: &str| {
        found
            .iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("{rule} not reported: {found:#?}"))
    };
    let alt = at("a11y.image-alt");
    assert_eq!(alt.location.map(|l| l.line), Some(6));
    let link = at("a11y.link-name");
    assert_eq!(link.location.map(|l| l.line), Some(8));
    assert_eq!(at("a11y.html-has-lang").location.map(|l| l.line), Some(2));
    assert_eq!(at("a11y.color-contrast").location.map(|l| l.line), Some(7));
    // Page-only rules are left out for email.
    assert!(!found.iter().any(|f| f.rule == "a11y.region"), "{found:#?}");
    assert!(alt.help.contains("dequeuniversity.com"));
}
