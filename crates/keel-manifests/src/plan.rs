//! Plans: the difference between the state Keel holds and the state the files describe.
//!
//! A plan is a pure function of two document sets, so `keel plan` can show it before anything
//! changes and `keel apply` can record exactly it. Applying a plan to the current state gives
//! the desired state, so planning again yields an empty plan.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostic::{push_index, push_key};
use crate::document::{Document, ObjectRef};

/// One field whose value differs; `None` means absent on that side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Dotted path from the document root, e.g. `spec.owners.platform[0]`.
    pub path: String,
    /// The current value.
    pub before: Option<Value>,
    /// The desired value.
    pub after: Option<Value>,
}

/// An object that exists on both sides but differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Which object.
    pub object: ObjectRef,
    /// Every field that differs, in path order.
    pub fields: Vec<FieldChange>,
    /// The desired document.
    pub after: Document,
}

/// What would change to turn the current state into the desired one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Plan {
    /// Objects to create, sorted by kind and name.
    pub create: Vec<Document>,
    /// Objects to change, sorted by kind and name.
    pub change: Vec<Change>,
    /// Objects to delete, sorted by kind and name.
    pub delete: Vec<ObjectRef>,
}

impl Plan {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.change.is_empty() && self.delete.is_empty()
    }
}

fn index(documents: &[Document]) -> BTreeMap<ObjectRef, &Document> {
    documents.iter().map(|d| (d.object_ref(), d)).collect()
}

/// The plan that turns `current` into `desired`. Objects are matched by kind and name.
pub fn plan(current: &[Document], desired: &[Document]) -> Plan {
    let current = index(current);
    let desired = index(desired);
    let mut out = Plan::default();
    for (object, wanted) in &desired {
        match current.get(object) {
            None => out.create.push((*wanted).clone()),
            Some(existing) => {
                let mut fields = Vec::new();
                let before = serde_json::to_value(existing).unwrap_or(Value::Null);
                let after = serde_json::to_value(wanted).unwrap_or(Value::Null);
                diff("", Some(&before), Some(&after), &mut fields);
                if !fields.is_empty() {
                    out.change.push(Change {
                        object: object.clone(),
                        fields,
                        after: (*wanted).clone(),
                    });
                }
            }
        }
    }
    out.delete = current
        .keys()
        .filter(|o| !desired.contains_key(*o))
        .cloned()
        .collect();
    out
}

fn diff(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                diff(&push_key(path, key), a.get(key), b.get(key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(&push_index(path, i), Some(x), Some(y), out);
            }
        }
        (a, b) if a != b => {
            out.push(FieldChange {
                path: path.to_string(),
                before: a.cloned(),
                after: b.cloned(),
            });
        }
        _ => {}
    }
}

/// The state after applying `plan` to `current`, sorted by kind and name.
pub fn apply(current: &[Document], plan: &Plan) -> Vec<Document> {
    let mut state: BTreeMap<ObjectRef, Document> = current
        .iter()
        .map(|d| (d.object_ref(), d.clone()))
        .collect();
    for object in &plan.delete {
        state.remove(object);
    }
    for change in &plan.change {
        state.insert(change.object.clone(), change.after.clone());
    }
    for document in &plan.create {
        state.insert(document.object_ref(), document.clone());
    }
    state.into_values().collect()
}

fn short(value: &Option<Value>) -> String {
    match value {
        None => "(absent)".to_string(),
        Some(v) => v.to_string(),
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for document in &self.create {
            writeln!(f, "+ {}", document.object_ref())?;
        }
        for change in &self.change {
            writeln!(f, "~ {}", change.object)?;
            for field in &change.fields {
                writeln!(
                    f,
                    "    {}: {} -> {}",
                    field.path,
                    short(&field.before),
                    short(&field.after)
                )?;
            }
        }
        for object in &self.delete {
            writeln!(f, "- {object}")?;
        }
        write!(
            f,
            "{} to create, {} to change, {} to delete",
            self.create.len(),
            self.change.len(),
            self.delete.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Metadata;
    use serde_json::json;

    fn doc(kind: &str, name: &str, spec: Value) -> Document {
        Document {
            api_version: "keel/v1".into(),
            kind: kind.into(),
            metadata: Metadata::named(name),
            spec,
        }
    }

    #[test]
    fn creates_changes_and_deletes() {
        let current = vec![
            doc("Tool", "a", json!({"vendor": "A", "seats": [1, 2]})),
            doc("Tool", "gone", json!({})),
        ];
        let desired = vec![
            doc(
                "Tool",
                "a",
                json!({"vendor": "B", "seats": [1, 3], "sso": true}),
            ),
            doc("Tool", "new", json!({})),
        ];
        let p = plan(&current, &desired);
        assert_eq!(p.create.len(), 1);
        assert_eq!(p.delete, vec![ObjectRef::new("Tool", "gone")]);
        let paths: Vec<&str> = p.change[0].fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, vec!["spec.seats[1]", "spec.sso", "spec.vendor"]);
        assert_eq!(p.change[0].fields[1].before, None);
        assert_eq!(p.change[0].fields[2].after, Some(json!("B")));
        let text = p.to_string();
        assert!(
            text.contains("~ Tool/a\n    spec.seats[1]: 2 -> 3"),
            "{text}"
        );
        assert!(text.ends_with("1 to create, 1 to change, 1 to delete"));
        let applied = apply(&current, &p);
        assert!(plan(&applied, &desired).is_empty());
    }

    #[test]
    fn lists_of_different_length_change_whole() {
        let p = plan(
            &[doc("T", "a", json!({"x": [1]}))],
            &[doc("T", "a", json!({"x": [1, 2]}))],
        );
        assert_eq!(p.change[0].fields[0].path, "spec.x");
    }
}
