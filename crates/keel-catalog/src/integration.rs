//! Integrations between tools and automations (middleware recipes) that move data.

use std::fmt;

use chrono::{DateTime, Utc};
use keel_manifests::{Problem, Reference, Spec, push_index};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A field of a tool's object, written `tool.object.field`, e.g. `salesforce.Lead.Email`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct FieldRef(pub String);

impl FieldRef {
    /// The field `tool.object.field`.
    pub fn new(tool: &str, object: &str, field: &str) -> Self {
        FieldRef(format!("{tool}.{object}.{field}"))
    }

    /// The tool, object and field, if the text has all three parts.
    pub fn parts(&self) -> Option<(&str, &str, &str)> {
        let (tool, rest) = self.0.split_once('.')?;
        let (object, field) = rest.split_once('.')?;
        (!tool.is_empty() && !object.is_empty() && !field.is_empty())
            .then_some((tool, object, field))
    }

    /// The tool part.
    pub fn tool(&self) -> Option<&str> {
        self.parts().map(|(tool, _, _)| tool)
    }

    fn check(&self, path: &str, problems: &mut Vec<Problem>, references: &mut Vec<Reference>) {
        match self.parts() {
            Some((tool, _, _)) => references.push(Reference::new(path, "Tool", tool)),
            None => problems.push(Problem::error(
                path,
                format!("`{}` is not a field reference; write `tool.object.field`, e.g. `salesforce.Lead.Email`", self.0),
            )),
        }
    }
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How an integration is built.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationKind {
    /// A connector the vendors ship.
    Native,
    /// Through a middleware tool (Zapier, Workato, Segment …), named in `via`.
    Middleware,
    /// Code someone wrote and must maintain.
    Custom,
}

/// Which way data flows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From `from` to `to` only.
    OneWay,
    /// Both ways.
    TwoWay,
}

/// How often data moves.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// As events happen.
    RealTime,
    /// Every 15 minutes.
    #[serde(rename = "every_15_minutes")]
    Every15Minutes,
    /// Every hour.
    Hourly,
    /// Once a day.
    Daily,
    /// Once a week.
    Weekly,
    /// When someone runs it.
    OnDemand,
}

/// Whether an integration is running.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationStatus {
    /// Not built yet.
    Planned,
    /// Running normally.
    Active,
    /// Running with errors.
    Degraded,
    /// Not working.
    Broken,
    /// Switched off for now.
    Paused,
    /// Switched off for good.
    Retired,
}

/// One mapped field: source field name to target field name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// Field on the source object.
    pub from: String,
    /// Field on the target object.
    pub to: String,
}

/// One object synchronised, with its field mappings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectMapping {
    /// Object in the source tool, e.g. `Lead`.
    pub from: String,
    /// Object in the target tool, e.g. `Contact`.
    pub to: String,
    /// Field mappings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldMapping>,
}

/// An integration between two tools (kind `Integration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Integration {
    /// Source tool.
    pub from: String,
    /// Target tool.
    pub to: String,
    /// Native, middleware or custom.
    pub kind: IntegrationKind,
    /// The middleware tool, for `kind: middleware`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// One way or two way.
    pub direction: Direction,
    /// Objects and field mappings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ObjectMapping>,
    /// How often it runs.
    pub frequency: Frequency,
    /// Who is accountable for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Whether it is running.
    pub status: IntegrationStatus,
    /// Where it is documented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

impl Integration {
    /// Every (source field, target field) pair it moves; two-way integrations give both ways.
    pub fn field_flows(&self) -> Vec<(FieldRef, FieldRef)> {
        let mut flows = Vec::new();
        for object in &self.objects {
            for field in &object.fields {
                let source = FieldRef::new(&self.from, &object.from, &field.from);
                let target = FieldRef::new(&self.to, &object.to, &field.to);
                if self.direction == Direction::TwoWay {
                    flows.push((target.clone(), source.clone()));
                }
                flows.push((source, target));
            }
        }
        flows
    }
}

impl Spec for Integration {
    const KIND: &'static str = "Integration";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.from == self.to {
            problems.push(Problem::error(
                "to",
                "an integration connects two different tools",
            ));
        }
        match (self.kind, &self.via) {
            (IntegrationKind::Middleware, None) => {
                problems.push(Problem::error(
                    "kind",
                    "a middleware integration names its middleware tool in `via`",
                ));
            }
            (IntegrationKind::Native | IntegrationKind::Custom, Some(_)) => {
                problems.push(Problem::error(
                    "via",
                    "only `kind: middleware` integrations go `via` another tool",
                ));
            }
            _ => {}
        }
        for (i, object) in self.objects.iter().enumerate() {
            if object.fields.is_empty() {
                problems.push(Problem::warning(
                    format!("objects[{i}].fields"),
                    "no field mappings listed; impact analysis cannot follow this object",
                ));
            }
        }
        problems
    }

    fn references(&self) -> Vec<Reference> {
        let mut out = vec![
            Reference::new("from", "Tool", &self.from),
            Reference::new("to", "Tool", &self.to),
        ];
        if let Some(via) = &self.via {
            out.push(Reference::new("via", "Tool", via));
        }
        if let Some(owner) = &self.owner {
            out.push(Reference::new("owner", "Person", owner));
        }
        out
    }
}

/// What an automation has done lately.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunHistory {
    /// When it last ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<DateTime<Utc>>,
    /// Runs in the last 30 days.
    #[serde(default)]
    pub runs_30d: u32,
    /// Failed runs in the last 30 days.
    #[serde(default)]
    pub failures_30d: u32,
}

impl RunHistory {
    /// Share of failed runs in the last 30 days (0 when it did not run).
    pub fn error_rate(&self) -> f64 {
        if self.runs_30d == 0 {
            0.0
        } else {
            f64::from(self.failures_30d) / f64::from(self.runs_30d)
        }
    }
}

/// One step of an automation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the step does, e.g. "Create or update lead".
    pub action: String,
    /// The tool the step acts on.
    pub tool: String,
    /// Fields it reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<FieldRef>,
    /// Fields it writes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<FieldRef>,
}

/// Whether an automation is switched on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AutomationStatus {
    /// Switched on.
    Active,
    /// Switched off for now.
    Paused,
    /// Switched off for good.
    Retired,
}

/// An automation: a middleware recipe or workflow (kind `Automation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    /// The tool it runs on (Zapier, Workato, Marketo …).
    pub platform: String,
    /// What starts it.
    pub trigger: String,
    /// What it does, in order.
    pub steps: Vec<Step>,
    /// Who is accountable for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Where it is documented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// Switched on or off.
    pub status: AutomationStatus,
    /// Recent runs.
    #[serde(default)]
    pub runs: RunHistory,
}

impl Automation {
    /// Every tool it touches: its platform and the tools of its steps, without repeats.
    pub fn tools(&self) -> Vec<&str> {
        let mut tools: Vec<&str> = std::iter::once(self.platform.as_str())
            .chain(self.steps.iter().map(|s| s.tool.as_str()))
            .collect();
        tools.sort_unstable();
        tools.dedup();
        tools
    }
}

impl Spec for Automation {
    const KIND: &'static str = "Automation";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut refs = Vec::new();
        if self.steps.is_empty() {
            problems.push(Problem::error(
                "steps",
                "an automation has at least one step",
            ));
        }
        if self.runs.failures_30d > self.runs.runs_30d {
            problems.push(Problem::error(
                "runs.failures_30d",
                "more failures than runs",
            ));
        }
        for (i, step) in self.steps.iter().enumerate() {
            for (j, field) in step.reads.iter().enumerate() {
                field.check(&format!("steps[{i}].reads[{j}]"), &mut problems, &mut refs);
            }
            for (j, field) in step.writes.iter().enumerate() {
                field.check(&format!("steps[{i}].writes[{j}]"), &mut problems, &mut refs);
            }
        }
        problems
    }

    fn references(&self) -> Vec<Reference> {
        let mut problems = Vec::new();
        let mut out = vec![Reference::new("platform", "Tool", &self.platform)];
        for (i, step) in self.steps.iter().enumerate() {
            out.push(Reference::new(
                format!("steps[{i}].tool"),
                "Tool",
                &step.tool,
            ));
            for (j, field) in step.reads.iter().enumerate() {
                field.check(&format!("steps[{i}].reads[{j}]"), &mut problems, &mut out);
            }
            for (j, field) in step.writes.iter().enumerate() {
                field.check(&format!("steps[{i}].writes[{j}]"), &mut problems, &mut out);
            }
        }
        if let Some(owner) = &self.owner {
            out.push(Reference::new("owner", "Person", owner));
        }
        out
    }
}

/// Appends references for a list of field references, for kinds that read fields.
pub(crate) fn field_list_refs(
    field: &str,
    list: &[FieldRef],
    problems: &mut Vec<Problem>,
    refs: &mut Vec<Reference>,
) {
    for (i, f) in list.iter().enumerate() {
        f.check(&push_index(field, i), problems, refs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_refs_have_three_parts() {
        assert_eq!(
            FieldRef("salesforce.Lead.Email".into()).parts(),
            Some(("salesforce", "Lead", "Email"))
        );
        assert_eq!(FieldRef("a.b.c.d".into()).parts(), Some(("a", "b", "c.d")));
        assert_eq!(FieldRef("salesforce.Lead".into()).parts(), None);
        assert_eq!(FieldRef("a..c".into()).parts(), None);
    }

    #[test]
    fn error_rate_is_failures_over_runs() {
        let runs = RunHistory {
            last_run: None,
            runs_30d: 200,
            failures_30d: 10,
        };
        assert!((runs.error_rate() - 0.05).abs() < 1e-12);
        assert_eq!(RunHistory::default().error_rate(), 0.0);
    }
}
