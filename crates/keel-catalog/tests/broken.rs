//! Every error seeded in `testdata/broken` is reported at its file and line, and nothing else
//! is. Each seeded line carries `# expect: <part of the message>`.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use keel_catalog::registry;
use keel_manifests::{Severity, load};

#[test]
fn every_seeded_error_is_reported_at_its_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/broken");
    let files = keel_manifests::fs::read_tree(&dir).unwrap();
    let mut expected: BTreeMap<(String, usize), Vec<String>> = BTreeMap::new();
    for file in &files {
        for (i, line) in file.text.lines().enumerate() {
            for part in line.split("# expect: ").skip(1) {
                expected
                    .entry((file.path.clone(), i + 1))
                    .or_default()
                    .push(part.trim().to_string());
            }
        }
    }
    assert!(
        expected.len() >= 25,
        "only {} seeded errors",
        expected.len()
    );

    let loaded = load(&files, &registry());
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();

    for ((file, line), fragments) in &expected {
        for fragment in fragments {
            let found = errors.iter().any(|d| {
                d.location.file == *file
                    && d.location.line == *line
                    && d.message.contains(fragment.as_str())
            });
            assert!(
                found,
                "expected `{fragment}` at {file}:{line}; got:\n{}",
                rendered.join("\n")
            );
        }
    }
    for d in &errors {
        let key = (d.location.file.clone(), d.location.line);
        assert!(expected.contains_key(&key), "unexpected error: {d}");
    }
    // Every line is printed as `file:line:column: error: message`.
    assert!(
        rendered
            .iter()
            .all(|r| r.contains(".yaml:") && r.contains(": error: "))
    );
}
