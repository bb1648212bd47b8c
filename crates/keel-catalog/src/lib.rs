//! Keel's martech service catalog: the stack as data, and the questions asked of it.
//!
//! The catalog kinds — [`Person`], [`Team`], [`Tool`], [`Integration`], [`Automation`],
//! [`Contract`], [`UsageSnapshot`], [`Dashboard`], [`ChangeRecord`], [`Incident`] — are plain serde
//! types registered with the ops-as-code loader by [`register`]. Everything else is a pure
//! function of a [`Catalog`] (and `today` where time matters):
//!
//! - [`scorecard`]: the service readiness scorecard on the eight conditions;
//! - [`audit`]: owners, overlaps, seats, renewals, undocumented flows, DPAs;
//! - [`impact`]: the stack graph and what is downstream of a tool or field;
//! - [`renewal`]: 120/60/30-day renewal reminders;
//! - [`import`]: SaaS-management inventory CSV import.
//!
//! Plans (what `keel plan` shows) are [`keel_manifests::plan()`] over
//! [`Catalog::to_documents`].

pub mod audit;
mod catalog;
mod contract;
mod error;
#[cfg(test)]
mod fixtures;
pub mod impact;
pub mod import;
mod integration;
mod people;
mod records;
pub mod renewal;
pub mod scorecard;
mod tool;

pub use catalog::{Catalog, Entries, Entry, check, register, registry};
pub use contract::{BillingPeriod, Contract, Money, UsageSnapshot, valid_currency};
pub use error::Error;
pub use integration::{
    Automation, AutomationStatus, Direction, FieldMapping, FieldRef, Frequency, Integration,
    IntegrationKind, IntegrationStatus, ObjectMapping, RunHistory, Step,
};
pub use people::{Person, PersonStatus, Team, looks_like_email};
pub use records::{
    Affected, ChangeRecord, ChangeStatus, Dashboard, Incident, Reads, Risk, Severity, TimelineEntry,
};
pub use tool::{Category, Governance, Lifecycle, Links, Owners, Role, SuccessMetric, Tool};
