//! The crate's one error type, and the `Problem` shape used by ops-as-code validation.

/// Everything that can go wrong in the attribution engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value in an input table is missing or malformed; names the place exactly.
    #[error("{origin}:{row}:{column}: {field}: {message}")]
    Input {
        /// Where the data came from (usually a file name).
        origin: String,
        /// 1-based line of the row in the input.
        row: u64,
        /// 1-based column of the field.
        column: usize,
        /// Name of the column.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The input table as a whole is unusable (missing header, unreadable CSV).
    #[error("{origin}: {message}")]
    Table {
        /// Where the data came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A model was asked for something it cannot do with these data or options.
    #[error("{0}")]
    Model(String),
    /// Channel rules failed validation.
    #[error("invalid channel rules: {}", .0.iter().map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>().join("; "))]
    Rules(Vec<Problem>),
}

/// One problem found while validating an ops-as-code document, at a dotted path inside it
/// (for example `spec.rules[3].all[0].regex`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Dotted path of the offending value inside the document.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}
