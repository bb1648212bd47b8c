//! Keel's contact data core: the pure domain logic behind contacts, leads and accounts.
//!
//! Everything here is data in, data out — no files, sockets or clocks. Callers (storage,
//! HTTP, jobs, the CLI) read bytes and the current time and pass them in.
//!
//! - [`record`]: contacts and accounts with typed custom fields and per-field lineage.
//! - [`contract`]: `DataContract` documents: field types, formats, enumerations and
//!   normalisation; turning a raw row into a clean record or every reason it is rejected.
//! - [`import`]: field maps for Salesforce, HubSpot, Marketo and user layouts, header checks,
//!   encoding detection, quarantine and idempotency keys.
//! - [`dedupe`]: real-time duplicate checks with the matching engine (merge / review / separate).
//! - [`merge`]: survivorship rules, merge with conflicts reported, and exact un-merge.
//! - [`hygiene`]: role and disposable addresses, suppression, sunset policy, data quality scores.
//! - [`lifecycle`], [`scoring`], [`routing`]: stages as a governed state machine, lead scoring
//!   with decay and explanations, MQL detection, assignment to sales and lead-quality reports.
//! - [`kinds`]: the ops-as-code kinds (`DataContract`, `ScoringModel`, `Segment`).
//! - [`segment`]: saved audience definitions and their in-memory evaluator.

pub mod contract;
pub mod dedupe;
pub mod error;
pub mod hygiene;
pub mod import;
pub mod kinds;
pub mod lifecycle;
pub mod merge;
pub mod normalise;
pub mod problem;
pub mod record;
pub mod routing;
pub mod scoring;
pub mod segment;
pub mod value;

pub use contract::{CompiledContract, DataContract, Rejection};
pub use error::ContactsError;
pub use problem::Problem;
pub use record::{Lineage, ObjectKind, Record};
pub use value::FieldValue;

/// The `apiVersion` every Keel ops-as-code document carries.
pub const API_VERSION: &str = "keel/v1";
