//! `keel check-email` and `keel check-page` end to end: formats and exit codes.

use std::process::Command;

fn testdata(path: &str) -> String {
    format!(
        "{}/../keel-checks/testdata/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn check_email_json_exits_1_on_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args([
            "check-email",
            &testdata("email/seeded.html"),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let js = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "link-javascript")
        .unwrap();
    assert_eq!(js["line"], 16);
    assert_eq!(js["column"], 4);
    assert_eq!(js["severity"], "error");
}

#[test]
fn check_email_text_and_sarif() {
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args([
            "check-email",
            &testdata("email/clean.html"),
            &testdata("message/good.eml"),
            "--clients",
            "gmail,outlook.windows",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0 errors"));
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args([
            "check-email",
            &testdata("message/bad.eml"),
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args([
            "check-email",
            &testdata("email/clean.html"),
            "--clients",
            "hotmail",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hotmail"));
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["check-page", "/nonexistent/page.html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_page_with_policy() {
    let dir = std::env::temp_dir().join(format!("keel-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: p}\nspec:\n  disabled: [script-consent, script-unknown, form-consent, form-label, privacy-link, img-alt]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args([
            "check-page",
            &testdata("page/landing.html"),
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::write(&policy, "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: p}\nspec:\n  disabled: [nope]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args([
            "check-page",
            &testdata("page/landing.html"),
            "--policy",
            policy.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("spec.disabled[0]"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_email_a11y_runs_axe_in_chromium() {
    if !std::path::Path::new("/usr/bin/chromium").exists() {
        eprintln!("SKIPPED --a11y test: /usr/bin/chromium not installed");
        return;
    }
    let fixture = format!(
        "{}/../keel-preview/tests/fixtures/a11y-defects.html",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["check-email", &fixture, "--a11y", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let alt = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "a11y.image-alt")
        .unwrap_or_else(|| panic!("no a11y.image-alt in {rows}"));
    assert_eq!(alt["line"], 6);
}
