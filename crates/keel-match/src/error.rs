//! The error type of the matching engine.

/// Everything that can go wrong inside the engine (it does no I/O, so only bad configuration or
/// inconsistent data).
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// The configuration has problems; each names its path.
    #[error("invalid match configuration: {}", .0.iter().map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>().join("; "))]
    Config(Vec<crate::config::Problem>),
    /// The phone region is not a known ISO code.
    #[error("`{0}` is not an ISO 3166 region code")]
    Region(String),
    /// A row has the wrong number of values.
    #[error("record `{id}` has {found} values but {expected} fields are configured")]
    FieldCount {
        /// The record id.
        id: String,
        /// Configured fields.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// A saved model does not fit the configured fields.
    #[error("the model does not fit this configuration: {0}")]
    ModelMismatch(String),
    /// A record id used in labels is unknown.
    #[error("labelled pair refers to unknown record id `{0}`")]
    UnknownId(String),
}
