//! The error type of the catalog crate.

/// What can go wrong turning documents into a catalog or reading an inventory file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A stored document does not match its kind.
    #[error("{object}: spec does not match its kind: {source}")]
    Spec {
        /// The object, as `Kind/name`.
        object: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The inventory CSV cannot be read at all (as opposed to bad rows, which are reported per row).
    #[error("inventory CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The inventory CSV lacks a column it needs.
    #[error("inventory CSV: no `{0}` column in the header")]
    MissingColumn(&'static str),
}
