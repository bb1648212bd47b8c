//! The loader with a small made-up kind: every problem reported at once, with positions;
//! domain checks, references and set checks plug in through the registry.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_manifests::{
    Layout, ObjectRef, Problem, Reference, Registry, Severity, SourceFile, Spec, documents_to_yaml,
    export, load, plan,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A task in a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Task {
    /// Title.
    title: String,
    /// Hours of effort.
    hours: u32,
    /// Tasks this one waits for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    /// Due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    due: Option<chrono::NaiveDate>,
}

impl Spec for Task {
    const KIND: &'static str = "Task";

    fn validate(&self) -> Vec<Problem> {
        if self.hours > 40 {
            vec![Problem::warning(
                "hours",
                "more than a week of work; split it",
            )]
        } else {
            vec![]
        }
    }

    fn references(&self) -> Vec<Reference> {
        self.depends_on
            .iter()
            .enumerate()
            .map(|(i, d)| Reference::new(format!("depends_on[{i}]"), "Task", d))
            .collect()
    }
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register::<Task>().add_check(|loaded| {
        loaded
            .typed::<Task>()
            .filter(|(_, t)| t.title.is_empty())
            .map(|(m, _)| {
                (
                    ObjectRef::new("Task", &m.name),
                    Problem::error("spec.title", "a task needs a title"),
                )
            })
            .collect()
    });
    registry
}

fn messages(files: &[SourceFile]) -> Vec<String> {
    load(files, &registry())
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect()
}

const GOOD: &str = "\
apiVersion: keel/v1
kind: Task
metadata:
  name: copy
spec:
  title: Write copy
  hours: 4
---
apiVersion: keel/v1
kind: Task
metadata:
  name: design
  labels: {team: creative}
spec:
  title: Design
  hours: 8
  depends_on: [copy]
  due: 2026-12-01
";

#[test]
fn good_multi_document_files_load() {
    let loaded = load(&[SourceFile::new("tasks.yaml", GOOD)], &registry());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    assert_eq!(loaded.objects.len(), 2);
    let design = loaded.get(&ObjectRef::new("Task", "design")).unwrap();
    assert_eq!(design.spec::<Task>().unwrap().depends_on, vec!["copy"]);
    assert_eq!(design.locate("spec.depends_on[0]").line, 17);
}

#[test]
fn every_problem_in_every_file_is_reported() {
    let broken = "\
apiVersion: keel/v1
kind: Task
metadata:
  name: build
spec:
  title: Build
  hours: many
  depends_on: [copy, qa]
  due: 2026-02-31
  priority: high
---
apiVersion: keel/v1
kind: Tsk
metadata: {name: x}
spec: {}
---
apiVersion: keel/v1
kind: Task
metadata:
  name: copy
spec:
  title: x
  hours: 50
---
apiVersion: keel/v1
kind: Task
metadata:
  name: review
spec:
  title: ''
  hours: 1
";
    let syntax = "kind: Task\nspec: [unclosed\n";
    let got = messages(&[
        SourceFile::new("a.yaml", GOOD),
        SourceFile::new("b.yaml", broken),
        SourceFile::new("c.yaml", syntax),
    ]);
    let want = [
        "b.yaml:7:10: error: expected a whole number, found `many`",
        "b.yaml:9:8: error: `2026-02-31` is not a valid date (expected YYYY-MM-DD, e.g. 2026-11-30)",
        "b.yaml:10:3: error: unknown field `priority`; expected one of: depends_on, due, hours, title",
        "b.yaml:13:7: error: unknown kind `Tsk` (did you mean `Task`?)",
        "b.yaml:20:9: error: duplicate Task `copy`: first defined at a.yaml:4:9",
        "b.yaml:23:10: warning: more than a week of work; split it",
        "b.yaml:30:10: error: Task/review: a task needs a title",
    ];
    for w in want {
        assert!(got.iter().any(|g| g == w), "missing `{w}` in {got:#?}");
    }
    assert!(
        got.iter()
            .any(|g| g.starts_with("c.yaml:") && g.contains("error: YAML syntax")),
        "{got:#?}"
    );
}

#[test]
fn dangling_references_suggest_a_name() {
    let text = GOOD.replace("depends_on: [copy]", "depends_on: [cpy]");
    let got = messages(&[SourceFile::new("t.yaml", text)]);
    assert_eq!(
        got,
        vec!["t.yaml:17:16: error: unknown Task `cpy` (did you mean `copy`?)"]
    );
}

#[test]
fn envelope_problems_are_reported() {
    let text = "\
apiVersion: keel/v2
kind: Task
metadata:
  name: Not Valid
  owner: me
spec:
  title: x
  hours: 1
extra: 1
---
- just
- a list
";
    let got = messages(&[SourceFile::new("e.yaml", text)]);
    let want = [
        "e.yaml:1:13: error: unsupported apiVersion `keel/v2`; expected `keel/v1`",
        "e.yaml:5:3: error: unknown field `owner`; expected one of: annotations, description, labels, name",
        "e.yaml:9:1: error: unknown field `extra`",
        "e.yaml:11:1: error: a document must be a mapping with apiVersion, kind, metadata and spec, found a list",
    ];
    for w in want {
        assert!(
            got.iter().any(|g| g.starts_with(w)),
            "missing `{w}` in {got:#?}"
        );
    }
}

#[test]
fn export_is_stable_and_round_trips() {
    let registry = registry();
    let loaded = load(&[SourceFile::new("tasks.yaml", GOOD)], &registry);
    let docs = loaded.documents();
    let text = documents_to_yaml(&registry, &docs).unwrap();
    assert_eq!(
        text,
        "apiVersion: keel/v1\nkind: Task\nmetadata:\n  name: copy\nspec:\n  title: Write copy\n  hours: 4\n---\n\
         apiVersion: keel/v1\nkind: Task\nmetadata:\n  name: design\n  labels:\n    team: creative\nspec:\n  title: Design\n  hours: 8\n  depends_on:\n    - copy\n  due: 2026-12-01\n"
    );
    let files = export(&registry, &docs, Layout::FilePerObject).unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec!["tasks/copy.yaml", "tasks/design.yaml"]);
    let again = load(&files, &registry);
    assert!(again.diagnostics.is_empty());
    assert!(plan(&docs, &again.documents()).is_empty());
}

#[test]
fn plans_show_field_changes() {
    let registry = registry();
    let current = load(&[SourceFile::new("t.yaml", GOOD)], &registry).documents();
    let desired = load(
        &[SourceFile::new(
            "t.yaml",
            GOOD.replace("hours: 8", "hours: 6"),
        )],
        &registry,
    )
    .documents();
    let p = plan(&current, &desired);
    assert_eq!(
        p.to_string(),
        "~ Task/design\n    spec.hours: 8 -> 6\n0 to create, 1 to change, 0 to delete"
    );
}

#[test]
fn warnings_alone_are_not_errors() {
    let loaded = load(
        &[SourceFile::new(
            "t.yaml",
            GOOD.replace("hours: 8", "hours: 80"),
        )],
        &registry(),
    );
    assert!(!loaded.has_errors());
    assert_eq!(loaded.warning_count(), 1);
    assert_eq!(loaded.diagnostics[0].severity, Severity::Warning);
}
