//! Problems found in ops-as-code files: where they are and what is wrong.
//!
//! Domain crates speak in [`Problem`]s (a dotted path inside one document and a message); the
//! loader turns them into [`Diagnostic`]s with a file, line and column, which is what people read.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a problem is: errors fail `keel check`, warnings are reported but do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The files cannot be applied as they are.
    Error,
    /// Worth a look, but the files are usable.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A problem inside one document, found by a schema or a domain rule.
///
/// `path` is dotted from the document root, for example `spec.tasks[2].depends_on[0]` or
/// `metadata.name`; an empty path means the whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where inside the document, as a dotted path.
    pub path: String,
    /// What is wrong, in one sentence a person can act on.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Problem {
    /// An error at `path`.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    /// A warning at `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
            severity: Severity::Warning,
        }
    }

    /// The same problem with `prefix` put in front of its path (for problems found on a part of
    /// a document, such as its `spec`).
    #[must_use]
    pub fn under(mut self, prefix: &str) -> Self {
        self.path = join_path(prefix, &self.path);
        self
    }
}

/// Joins two dotted paths; indexes (`[3]`) attach without a dot.
pub fn join_path(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else if rest.is_empty() {
        prefix.to_string()
    } else if rest.starts_with('[') {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}.{rest}")
    }
}

/// Appends a mapping key to a dotted path, quoting keys that are not plain words.
pub fn push_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        join_path(path, key)
    } else {
        format!("{path}[{}]", serde_json::Value::String(key.to_string()))
    }
}

/// Appends a sequence index to a dotted path.
pub fn push_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// A position in a source file; line and column start at 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// The file, as given to the loader (usually relative to the directory checked).
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A problem placed in a file: what `keel check` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.severity, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_keys_and_indexes() {
        assert_eq!(join_path("spec", "tasks[2]"), "spec.tasks[2]");
        assert_eq!(join_path("spec.tasks", "[2]"), "spec.tasks[2]");
        assert_eq!(push_key("metadata.labels", "team"), "metadata.labels.team");
        assert_eq!(
            push_key("metadata.labels", "a.b/c"),
            "metadata.labels[\"a.b/c\"]"
        );
        assert_eq!(push_index("spec.steps", 0), "spec.steps[0]");
        assert_eq!(
            Problem::error("owner", "x").under("spec").path,
            "spec.owner"
        );
    }

    #[test]
    fn diagnostics_print_like_compilers() {
        let d = Diagnostic {
            location: Location {
                file: "tools/a.yaml".into(),
                line: 3,
                column: 5,
            },
            severity: Severity::Error,
            message: "unknown field `ownr`".into(),
        };
        assert_eq!(
            d.to_string(),
            "tools/a.yaml:3:5: error: unknown field `ownr`"
        );
    }
}
