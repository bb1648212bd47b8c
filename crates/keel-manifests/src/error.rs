//! The error type of this crate: reading and writing ops-as-code files.

use std::path::PathBuf;

/// What can go wrong outside the documents themselves (problems inside documents are
/// [`crate::Diagnostic`]s, not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file is not UTF-8 text.
    #[error("{path}: not UTF-8 text")]
    NotText {
        /// The file.
        path: PathBuf,
    },
    /// A document's spec does not match its kind's type.
    #[error("{object}: spec does not match its kind: {source}")]
    Spec {
        /// The object, as `Kind/name`.
        object: String,
        /// Why it did not decode.
        source: serde_json::Error,
    },
    /// A document of a kind nobody registered.
    #[error("{object}: kind is not registered")]
    UnknownKind {
        /// The object, as `Kind/name`.
        object: String,
    },
    /// A document could not be written as YAML.
    #[error("{object}: cannot be written as YAML: {message}")]
    Write {
        /// The object, as `Kind/name`.
        object: String,
        /// The serialiser's message.
        message: String,
    },
}
