//! Dashboards that read the stack, change records (release management) and incidents.

use chrono::{DateTime, NaiveDate, Utc};
use keel_manifests::{Problem, Reference, Spec, push_index};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::integration::{FieldRef, field_list_refs};

/// What a dashboard reads.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reads {
    /// Tools it reads from as a whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Fields it reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldRef>,
}

/// A dashboard or report (kind `Dashboard`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    /// The BI tool it is built in.
    pub tool: String,
    /// What it reads.
    #[serde(default)]
    pub reads: Reads,
    /// Who is accountable for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Where to open it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Spec for Dashboard {
    const KIND: &'static str = "Dashboard";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        field_list_refs(
            "reads.fields",
            &self.reads.fields,
            &mut problems,
            &mut Vec::new(),
        );
        problems
    }

    fn references(&self) -> Vec<Reference> {
        let mut out = vec![Reference::new("tool", "Tool", &self.tool)];
        for (i, t) in self.reads.tools.iter().enumerate() {
            out.push(Reference::new(push_index("reads.tools", i), "Tool", t));
        }
        field_list_refs(
            "reads.fields",
            &self.reads.fields,
            &mut Vec::new(),
            &mut out,
        );
        if let Some(owner) = &self.owner {
            out.push(Reference::new("owner", "Person", owner));
        }
        out
    }
}

/// Items of the stack a change or incident touches.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Affected {
    /// Tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Integrations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrations: Vec<String>,
    /// Automations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub automations: Vec<String>,
    /// Dashboards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dashboards: Vec<String>,
}

impl Affected {
    fn references(&self, prefix: &str, out: &mut Vec<Reference>) {
        let lists = [
            ("tools", "Tool", &self.tools),
            ("integrations", "Integration", &self.integrations),
            ("automations", "Automation", &self.automations),
            ("dashboards", "Dashboard", &self.dashboards),
        ];
        for (field, kind, names) in lists {
            for (i, name) in names.iter().enumerate() {
                out.push(Reference::new(
                    push_index(&format!("{prefix}.{field}"), i),
                    kind,
                    name,
                ));
            }
        }
    }

    /// Whether nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
            && self.integrations.is_empty()
            && self.automations.is_empty()
            && self.dashboards.is_empty()
    }
}

/// How risky a change is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Easily undone, few people affected.
    Low,
    /// Needs a rollback plan.
    Medium,
    /// Could stop campaigns or lose data.
    High,
}

/// Where a change is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Planned, not done.
    Planned,
    /// Done.
    RolledOut,
    /// Done, then undone.
    RolledBack,
    /// Not going ahead.
    Cancelled,
}

/// A change to the stack (kind `ChangeRecord`): release management for martech.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRecord {
    /// What changes.
    pub what: String,
    /// Why.
    pub why: String,
    /// How risky it is.
    pub risk: Risk,
    /// Who asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// Who approved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// Where it is.
    pub status: ChangeStatus,
    /// The day it is planned for.
    pub planned_for: NaiveDate,
    /// The day it was rolled out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_out_on: Option<NaiveDate>,
    /// The day it was rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_on: Option<NaiveDate>,
    /// How to undo it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_plan: Option<String>,
    /// What it touches.
    pub affects: Affected,
}

impl ChangeRecord {
    /// The day the change last happened or is due: rollback, rollout, or plan.
    pub fn last_activity(&self) -> NaiveDate {
        self.rolled_back_on
            .or(self.rolled_out_on)
            .unwrap_or(self.planned_for)
    }
}

impl Spec for ChangeRecord {
    const KIND: &'static str = "ChangeRecord";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.affects.is_empty() {
            problems.push(Problem::error("affects", "a change record names at least one affected tool, integration, automation or dashboard"));
        }
        match self.status {
            ChangeStatus::RolledOut if self.rolled_out_on.is_none() => {
                problems.push(Problem::error(
                    "status",
                    "a rolled-out change says when (`rolled_out_on`)",
                ));
            }
            ChangeStatus::RolledBack if self.rolled_back_on.is_none() => {
                problems.push(Problem::error(
                    "status",
                    "a rolled-back change says when (`rolled_back_on`)",
                ));
            }
            _ => {}
        }
        if let (Some(out), Some(back)) = (self.rolled_out_on, self.rolled_back_on)
            && back < out
        {
            problems.push(Problem::error(
                "rolled_back_on",
                "rolled back before it was rolled out",
            ));
        }
        if self.risk != Risk::Low && self.status != ChangeStatus::Cancelled {
            if self.approver.is_none() {
                problems.push(Problem::error(
                    "approver",
                    "medium and high risk changes need an approver",
                ));
            }
            if self.rollback_plan.is_none() {
                problems.push(Problem::warning(
                    "rollback_plan",
                    "medium and high risk changes should say how to roll back",
                ));
            }
        }
        problems
    }

    fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        if let Some(p) = &self.requested_by {
            out.push(Reference::new("requested_by", "Person", p));
        }
        if let Some(p) = &self.approver {
            out.push(Reference::new("approver", "Person", p));
        }
        self.affects.references("affects", &mut out);
        out
    }
}

/// How bad an incident is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Campaigns or revenue stopped.
    Sev1,
    /// Major function broken, workaround hard.
    Sev2,
    /// Degraded, workaround exists.
    Sev3,
    /// Minor.
    Sev4,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub note: String,
}

/// An incident (kind `Incident`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// One-line summary.
    pub title: String,
    /// How bad.
    pub severity: Severity,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it was resolved, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who led the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// What it hit.
    pub affects: Affected,
    /// What happened when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
    /// How it was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

impl Spec for Incident {
    const KIND: &'static str = "Incident";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Some(resolved) = self.resolved_at {
            if resolved < self.started_at {
                problems.push(Problem::error("resolved_at", "resolved before it started"));
            }
            if self.resolution.is_none() {
                problems.push(Problem::warning(
                    "resolution",
                    "a resolved incident should say how it was resolved",
                ));
            }
        }
        for (i, pair) in self.timeline.windows(2).enumerate() {
            if pair[1].at < pair[0].at {
                problems.push(Problem::error(
                    format!("timeline[{}].at", i + 1),
                    "timeline entries go in time order",
                ));
            }
        }
        if self.affects.is_empty() {
            problems.push(Problem::error("affects", "an incident names at least one affected tool, integration, automation or dashboard"));
        }
        problems
    }

    fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        if let Some(p) = &self.owner {
            out.push(Reference::new("owner", "Person", p));
        }
        self.affects.references("affects", &mut out);
        out
    }
}
