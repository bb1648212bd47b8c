//! The work domain of Keel: how a marketing request enters, is routed, approved, scheduled and
//! held to its service levels.
//!
//! Everything here is pure: ops-as-code documents (`RequestType`, `Workflow`, `Policy`, `SLA`,
//! `EscalationPath`, `CampaignRules`, plus `BusinessCalendar` from `keel-calendar`) are typed
//! `spec` structs that validate to a list of [`Problem`]s, and the engines are functions of their
//! inputs (a submission, a list of status events, a roster, the current time). Storage, HTTP,
//! background jobs and notifications call into this crate; it never calls out.
//!
//! Module map:
//! - [`intake`]: request types, typed intake fields and validation of submissions;
//! - [`condition`]: the small condition language shared by routing and approval policies, and the
//!   request facts it reads;
//! - [`states`]: governed states, a state machine per request type;
//! - [`routing`]: workflows that expand a request into a task graph;
//! - [`schedule`]: scheduling a task graph on business days against people's capacity, the
//!   earliest feasible launch date and what constrains it;
//! - [`approval`]: approval policies compiled to Cedar and decided by `keel-policy`, decisions
//!   with their reasons, simulation;
//! - [`sla`]: SLA clocks and escalations computed from the status history;
//! - [`campaign`]: campaign calendar conflicts and the iCalendar feed;
//! - [`capacity`]: utilisation per person and team per week;
//! - [`workspace`]: checks across documents (references, states, fact names and types);
//! - [`manifests`]: the work kinds registered with `keel-manifests` for `keel check/plan/apply`.

pub mod approval;
pub mod campaign;
pub mod capacity;
pub mod condition;
pub mod intake;
pub mod manifests;
pub mod routing;
pub mod schedule;
pub mod sla;
pub mod states;
pub mod workspace;

use serde::{Deserialize, Serialize};

pub use keel_calendar::{BusinessCalendarSpec, Calendar, CalendarError, Problem};
pub use manifests::{register, registry};

/// The API version every document of this crate carries.
pub const API_VERSION: &str = "keel/v1";

/// Errors of the work domain that are not validation problems of a single document.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// A document did not validate; every problem is listed.
    #[error("{kind} {name:?} is invalid: {}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The document kind.
        kind: String,
        /// The document name.
        name: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// Business-calendar arithmetic failed.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// The approval policies could not be compiled to, or evaluated by, the policy engine.
    #[error("policy engine: {0}")]
    PolicyEngine(String),
    /// A scheduling input referred to something that does not exist or cannot be satisfied.
    #[error("cannot schedule: {0}")]
    Unschedulable(String),
}

/// `metadata` of an ops-as-code document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Stable identifier, lower-case letters, digits, `-` and `_`.
    pub name: String,
    /// Human title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the document is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who owns the document (a person or team reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// An ops-as-code document: `apiVersion: keel/v1`, `kind`, `metadata`, `spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document<S> {
    /// Always `keel/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// The kind, such as `RequestType`.
    pub kind: String,
    /// Name and descriptive metadata.
    pub metadata: Metadata,
    /// The typed specification.
    pub spec: S,
}

/// A `spec` type that belongs to one document kind and can validate itself.
pub trait Spec {
    /// The `kind` value of documents holding this spec.
    const KIND: &'static str;
    /// Every problem in the spec, with paths from the document root (`spec.…`).
    fn validate(&self) -> Vec<Problem>;
}

impl Spec for BusinessCalendarSpec {
    const KIND: &'static str = "BusinessCalendar";
    fn validate(&self) -> Vec<Problem> {
        BusinessCalendarSpec::validate(self)
    }
}

impl<S: Spec> Document<S> {
    /// Every problem in the document: envelope (`apiVersion`, `kind`, `metadata.name`) and spec.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.api_version != API_VERSION {
            problems.push(Problem::new(
                "apiVersion",
                format!("expected {API_VERSION:?}, found {:?}", self.api_version),
            ));
        }
        if self.kind != S::KIND {
            problems.push(Problem::new(
                "kind",
                format!("expected {:?}, found {:?}", S::KIND, self.kind),
            ));
        }
        if let Err(message) = check_name(&self.metadata.name) {
            problems.push(Problem::new("metadata.name", message));
        }
        problems.extend(self.spec.validate());
        problems
    }

    /// The spec if the document is valid, otherwise every problem as an error.
    pub fn checked(&self) -> Result<&S, WorkError> {
        let problems = self.validate();
        if problems.is_empty() {
            Ok(&self.spec)
        } else {
            Err(WorkError::Invalid {
                kind: S::KIND.into(),
                name: self.metadata.name.clone(),
                problems,
            })
        }
    }
}

/// Checks an identifier: lower-case ASCII letters, digits, `-` and `_`, starting with a letter.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("must not be empty".into()),
        Some(c) if !c.is_ascii_lowercase() => {
            return Err(format!("{name:?} must start with a lower-case letter"));
        }
        _ => {}
    }
    if let Some(bad) =
        chars.find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "{name:?} contains {bad:?}; use lower-case letters, digits, '-' and '_'"
        ));
    }
    Ok(())
}

/// A reference to who acts or is asked to act: `role:brand-approver`, `person:ana`, `team:design`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub enum Party {
    /// Anyone holding the role.
    Role(String),
    /// One named person.
    Person(String),
    /// Anyone in the team.
    Team(String),
}

impl TryFrom<String> for Party {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let (kind, id) = s.split_once(':').ok_or_else(|| {
            format!(
                "{s:?} must name a role, person or team, as role:NAME, person:NAME or team:NAME"
            )
        })?;
        if id.trim().is_empty() {
            return Err(format!("{s:?} has an empty name after {kind:?}"));
        }
        match kind {
            "role" => Ok(Party::Role(id.into())),
            "person" => Ok(Party::Person(id.into())),
            "team" => Ok(Party::Team(id.into())),
            _ => Err(format!("{s:?} must start with role:, person: or team:")),
        }
    }
}

impl From<Party> for String {
    fn from(p: Party) -> String {
        p.to_string()
    }
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Party::Role(r) => write!(f, "role:{r}"),
            Party::Person(p) => write!(f, "person:{p}"),
            Party::Team(t) => write!(f, "team:{t}"),
        }
    }
}

/// Problems for duplicate values in a list, pointing at the second occurrence.
pub(crate) fn duplicates<'a>(
    items: impl IntoIterator<Item = &'a str>,
    path: impl Fn(usize) -> String,
    what: &str,
) -> Vec<Problem> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .enumerate()
        .filter(|(_, s)| !seen.insert(*s))
        .map(|(i, s)| Problem::new(path(i), format!("{what} {s:?} is defined twice")))
        .collect()
}
