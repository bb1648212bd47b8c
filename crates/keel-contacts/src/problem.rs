//! Problems found while validating an ops-as-code document, with a dotted path into it.

use serde::{Deserialize, Serialize};

/// One problem inside a document: where (`spec.fields[3].type`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Dotted path inside the document, e.g. `spec.fields[3].type`.
    pub path: String,
    /// What is wrong, in one sentence a person can act on.
    pub message: String,
}

impl Problem {
    /// Builds a problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Checks the envelope shared by every document (`apiVersion`, `kind`, `metadata.name`).
pub(crate) fn check_envelope(
    api_version: &str,
    kind: &str,
    expected_kind: &str,
    name: &str,
    problems: &mut Vec<Problem>,
) {
    if api_version != crate::API_VERSION {
        problems.push(Problem::new(
            "apiVersion",
            format!(
                "apiVersion is `{api_version}`, expected `{}`",
                crate::API_VERSION
            ),
        ));
    }
    if kind != expected_kind {
        problems.push(Problem::new(
            "kind",
            format!("kind is `{kind}`, expected `{expected_kind}`"),
        ));
    }
    if name.trim().is_empty() {
        problems.push(Problem::new("metadata.name", "name must not be empty"));
    }
}

/// Whether `name` is a lower snake_case identifier (the form every field name takes).
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
