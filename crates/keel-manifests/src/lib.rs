//! Ops-as-code for Keel: YAML documents (`apiVersion: keel/v1`, `kind`, `metadata`, `spec`)
//! loaded from a directory tree, checked, and written back.
//!
//! - [`load`] parses every file, keeps the line and column of every node, checks each document
//!   against the schema of its kind (generated from the domain types), runs the kind's own
//!   checks, finds duplicate names and dangling references, and reports **every** problem as
//!   `file:line:column: error: message`.
//! - Kinds are registered by domain crates through [`Spec`] and [`Registry`]; the loader knows
//!   nothing about any domain.
//! - [`plan()`] diffs two document sets (create / change with field-level before and after /
//!   delete); [`export`] writes documents back as stable, readable YAML.
//!
//! Everything except the small [`fs`] module is pure: text in, data out.

mod diagnostic;
mod document;
mod error;
pub mod fs;
mod load;
mod plan;
mod registry;
pub mod schema;
mod write;
pub mod yaml;

pub use diagnostic::{Diagnostic, Location, Problem, Severity, join_path, push_index, push_key};
pub use document::{API_VERSION, Document, Metadata, ObjectRef};
pub use error::Error;
pub use load::{Loaded, LoadedObject, SourceFile, load, valid_name};
pub use plan::{Change, FieldChange, Plan, apply, plan};
pub use registry::{Finding, Reference, Registry, SetCheck, Spec};
pub use write::{Layout, document_to_yaml, documents_to_yaml, export, kind_stem};
