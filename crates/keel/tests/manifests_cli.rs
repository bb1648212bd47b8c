//! `keel check DIR` on the example stack and on the broken test data.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .arg("check")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_example_stack_passes() {
    let (code, stdout, stderr) = check(&repo().join("examples/ops"), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains(": 0 errors, 0 warnings"), "{stderr}");
}

#[test]
fn broken_files_fail_with_every_problem_located() {
    let dir = repo().join("crates/keel-catalog/testdata/broken");
    let (code, stdout, stderr) = check(&dir, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 25, "{stdout}");
    assert!(lines.iter().all(|l| l.contains(".yaml:") && (l.contains(": error: ") || l.contains(": warning: "))), "{stdout}");
    assert!(
        stdout.contains(
            "tools/salesforce.yaml:11:5: error: unknown field `platfrom` (did you mean `platform`?)"
        ),
        "{stdout}"
    );
    let errors = lines.iter().filter(|l| l.contains(": error: ")).count();
    assert!(stderr.contains(&format!("{errors} errors")), "{stderr}");
}

#[test]
fn json_output_has_locations() {
    let dir = repo().join("crates/keel-catalog/testdata/broken/teams.yaml");
    let (code, stdout, _) = check(&dir, &["--json"]);
    assert_eq!(code, 1);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["location"]["line"], 7);
    assert_eq!(first["severity"], "error");
}

#[test]
fn a_missing_directory_is_a_usage_error() {
    let (code, _, stderr) = check(Path::new("/nonexistent/keel-ops"), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no such file or directory"), "{stderr}");
}
