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

#[test]
fn broken_work_documents_are_refused_with_file_and_line() {
    let dir = repo().join("crates/keel-work/testdata/broken");
    let (code, stdout, stderr) = check(&dir, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let has = |file: &str, line: usize, needle: &str| {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(&format!("{file}:{line}:"))
                    && l.contains(": error: ")
                    && l.contains(needle)),
            "no `{needle}` at {file}:{line} in\n{stdout}"
        );
    };
    // A workflow whose tasks wait for each other.
    has(
        "workflow.yaml",
        18,
        "dependency cycle: copy → design → copy",
    );
    // A condition on a fact no request type produces, with the likely intended one.
    has(
        "workflow.yaml",
        23,
        "\"budjet\" is not a fact of the request type; did you mean budget?",
    );
    // Conditions that cannot hold for the fact's type.
    has("policy.yaml", 10, "type mismatch: channels is a list");
    has("policy.yaml", 15, "type mismatch: budget is a whole number");
    // A party in the wrong form, and a value of the wrong type, at their own positions.
    has(
        "escalation.yaml",
        9,
        "\"boss\" must name a role, person or team",
    );
    has("escalation.yaml", 19, "expected text, found `42`");
    assert!(stderr.contains("6 errors"), "{stderr}");
}
