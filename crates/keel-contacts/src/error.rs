//! The one error type of this crate.

use crate::problem::Problem;

/// Everything that can go wrong in the contact core, each naming what and where.
#[derive(Debug, thiserror::Error)]
pub enum ContactsError {
    /// A YAML document could not be parsed into its typed form.
    #[error("cannot read {what}: {message}")]
    Parse {
        /// Which document (e.g. `DataContract`).
        what: &'static str,
        /// The parser's message, with line and column when it has them.
        message: String,
    },
    /// A document parsed but is not valid; every problem is listed.
    #[error("{what} is invalid: {}", join_problems(.problems))]
    Invalid {
        /// Which document.
        what: &'static str,
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// The file's header does not match the field map.
    #[error("{0}")]
    Header(#[from] crate::import::HeaderMismatch),
    /// The file is not in the declared (or detected) text encoding.
    #[error(
        "the file is not valid UTF-8 at byte {offset} (line {line}); if it was exported as Latin-1 or Windows-1252, declare that encoding"
    )]
    Encoding {
        /// Byte offset of the first invalid sequence.
        offset: usize,
        /// 1-based line of the first invalid sequence.
        line: usize,
    },
    /// The CSV or JSON Lines reader failed outside any single row (e.g. the header).
    #[error("cannot read the file: {0}")]
    Read(String),
    /// A merge record could not be turned back into the two original records.
    #[error("cannot un-merge `{merged_id}`: {message}")]
    Unmerge {
        /// The merged record's id.
        merged_id: String,
        /// What is wrong with the merge record.
        message: String,
    },
    /// Two records cannot be merged (e.g. different objects).
    #[error("cannot merge `{a}` and `{b}`: {message}")]
    Merge {
        /// First record id.
        a: String,
        /// Second record id.
        b: String,
        /// Why.
        message: String,
    },
    /// A lifecycle transition is not allowed.
    #[error(transparent)]
    Lifecycle(#[from] crate::lifecycle::TransitionError),
    /// Routing found nobody to assign the lead to.
    #[error("no sales rep is available to route `{0}` to")]
    NoRep(String),
    /// The matching engine refused its configuration or input.
    #[error("duplicate matching failed: {0}")]
    Match(String),
    /// The business calendar of a clock is unusable.
    #[error("business calendar: {0}")]
    Calendar(String),
}

fn join_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
