//! Retention policies (ops-as-code kind `RetentionPolicy`) and the selection of the records they
//! affect.
//!
//! The same pure function serves the dry run and the real run: given the policy, the records and
//! "now", it returns exactly which records are deleted or anonymised and which are spared by a
//! legal hold. The job that executes it only applies the plan, so what the privacy officer saw in
//! the dry run is what happens.

use crate::spec::Problem;
use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

/// What happens to an affected record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    /// Remove the record.
    Delete,
    /// Keep the record for aggregates but strip what identifies the person.
    Anonymise,
}

/// Contacts inactive for `inactive_months` are deleted or anonymised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRetention {
    /// Months without activity.
    pub inactive_months: u32,
    /// What to do.
    pub action: RetentionAction,
}

/// Events older than `older_than_months` are deleted or anonymised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRetention {
    /// Age in months.
    pub older_than_months: u32,
    /// What to do.
    pub action: RetentionAction,
}

/// `spec` of kind `RetentionPolicy`. Records under legal hold are always exempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicySpec {
    /// The rule for contacts.
    #[serde(default)]
    pub contacts: Option<ContactRetention>,
    /// The rule for events.
    #[serde(default)]
    pub events: Option<EventRetention>,
}

/// Longest period accepted (100 years): anything longer is a typo.
const MAX_MONTHS: u32 = 1200;

impl RetentionPolicySpec {
    /// Every problem in the spec, with paths under `spec.`.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.contacts.is_none() && self.events.is_none() {
            problems.push(Problem {
                path: "spec".into(),
                message: "set contacts, events or both".into(),
            });
        }
        let mut months = |path: &str, value: u32| {
            if value == 0 || value > MAX_MONTHS {
                problems.push(Problem {
                    path: path.into(),
                    message: format!("{value} is not between 1 and {MAX_MONTHS} months"),
                });
            }
        };
        if let Some(c) = self.contacts {
            months("spec.contacts.inactive_months", c.inactive_months);
        }
        if let Some(e) = self.events {
            months("spec.events.older_than_months", e.older_than_months);
        }
        problems
    }
}

/// Which kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A contact; its time is its last activity.
    Contact,
    /// An event; its time is when it happened.
    Event,
}

/// A record the policy is applied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRecord {
    /// Record id.
    pub id: String,
    /// Kind.
    pub kind: RecordKind,
    /// Last activity (contacts) or occurrence time (events).
    pub at: DateTime<Utc>,
    /// Whether a legal hold covers it.
    pub legal_hold: bool,
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedChange {
    /// Record id.
    pub id: String,
    /// Kind.
    pub kind: RecordKind,
    /// What happens.
    pub action: RetentionAction,
}

/// The outcome of applying a policy: the dry-run report and the work list of the real run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionPlan {
    /// Contacts last active before this are affected.
    pub contact_cutoff: Option<DateTime<Utc>>,
    /// Events older than this are affected.
    pub event_cutoff: Option<DateTime<Utc>>,
    /// Records to delete or anonymise, in input order.
    pub changes: Vec<PlannedChange>,
    /// Ids of records the policy would affect but a legal hold protects.
    pub held: Vec<String>,
}

/// Selects the records a policy affects at `now`.
pub fn plan_retention(
    policy: &RetentionPolicySpec,
    records: &[RetentionRecord],
    now: DateTime<Utc>,
) -> RetentionPlan {
    let cutoff = |months: u32| now.checked_sub_months(Months::new(months));
    let contact = policy
        .contacts
        .and_then(|c| cutoff(c.inactive_months).map(|at| (at, c.action)));
    let event = policy
        .events
        .and_then(|e| cutoff(e.older_than_months).map(|at| (at, e.action)));
    let mut plan = RetentionPlan {
        contact_cutoff: contact.map(|c| c.0),
        event_cutoff: event.map(|e| e.0),
        ..RetentionPlan::default()
    };
    for record in records {
        let rule = match record.kind {
            RecordKind::Contact => contact,
            RecordKind::Event => event,
        };
        let Some((cutoff, action)) = rule else {
            continue;
        };
        if record.at >= cutoff {
            continue;
        }
        if record.legal_hold {
            plan.held.push(record.id.clone());
        } else {
            plan.changes.push(PlannedChange {
                id: record.id.clone(),
                kind: record.kind,
                action,
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn record(id: &str, kind: RecordKind, at: &str, legal_hold: bool) -> RetentionRecord {
        RetentionRecord {
            id: id.into(),
            kind,
            at: utc(at),
            legal_hold,
        }
    }

    #[test]
    fn selects_inactive_contacts_and_old_events_except_held() {
        let policy = RetentionPolicySpec {
            contacts: Some(ContactRetention {
                inactive_months: 24,
                action: RetentionAction::Anonymise,
            }),
            events: Some(EventRetention {
                older_than_months: 13,
                action: RetentionAction::Delete,
            }),
        };
        let records = [
            record("c-old", RecordKind::Contact, "2024-01-01T00:00:00Z", false),
            record("c-edge", RecordKind::Contact, "2024-06-01T00:00:00Z", false),
            record("c-held", RecordKind::Contact, "2020-01-01T00:00:00Z", true),
            record("c-new", RecordKind::Contact, "2026-01-01T00:00:00Z", false),
            record("e-old", RecordKind::Event, "2025-04-30T23:59:59Z", false),
            record("e-new", RecordKind::Event, "2025-05-01T00:00:00Z", false),
        ];
        let plan = plan_retention(&policy, &records, utc("2026-06-01T00:00:00Z"));
        let ids: Vec<(&str, RetentionAction)> = plan
            .changes
            .iter()
            .map(|c| (c.id.as_str(), c.action))
            .collect();
        assert_eq!(
            ids,
            [
                ("c-old", RetentionAction::Anonymise),
                ("e-old", RetentionAction::Delete)
            ]
        );
        assert_eq!(plan.held, ["c-held"]);
        assert_eq!(plan.contact_cutoff, Some(utc("2024-06-01T00:00:00Z")));
    }

    #[test]
    fn kinds_without_a_rule_are_untouched() {
        let policy = RetentionPolicySpec {
            contacts: None,
            events: Some(EventRetention {
                older_than_months: 1,
                action: RetentionAction::Delete,
            }),
        };
        let plan = plan_retention(
            &policy,
            &[record(
                "c",
                RecordKind::Contact,
                "2000-01-01T00:00:00Z",
                false,
            )],
            utc("2026-06-01T00:00:00Z"),
        );
        assert!(plan.changes.is_empty() && plan.held.is_empty());
    }

    #[test]
    fn validation() {
        let empty = RetentionPolicySpec {
            contacts: None,
            events: None,
        };
        assert_eq!(empty.validate()[0].path, "spec");
        let bad = RetentionPolicySpec {
            contacts: Some(ContactRetention {
                inactive_months: 0,
                action: RetentionAction::Delete,
            }),
            events: Some(EventRetention {
                older_than_months: 5000,
                action: RetentionAction::Delete,
            }),
        };
        let paths: Vec<String> = bad.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "spec.contacts.inactive_months",
                "spec.events.older_than_months"
            ]
        );
    }
}
