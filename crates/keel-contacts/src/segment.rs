//! Segments (ops-as-code kind `Segment`): saved audience definitions as a small, serialisable
//! filter tree over fields, lifecycle stage, scores and event counts, plus an evaluator over
//! in-memory records. The tree is deliberately simple so it can also be compiled to SQL.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::contract::Metadata;
use crate::error::ContactsError;
use crate::lifecycle::Stage;
use crate::problem::{Problem, check_envelope};
use crate::record::{ObjectKind, Record};
use crate::scoring::{Event, Score};

/// The `kind` of a segment document.
pub const KIND: &str = "Segment";

/// A `Segment` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// Always `keel/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Always `Segment`.
    pub kind: String,
    /// Name and description.
    pub metadata: Metadata,
    /// The audience definition.
    pub spec: SegmentSpec,
}

/// The body of a segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    /// `contact` or `account`.
    pub object: String,
    /// Who is in the segment.
    pub filter: Filter,
}

/// A filter: a condition, or a combination of filters. Written as a one-key map
/// (`all: [...]`, `field: {...}`), which reads the same in YAML and JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FilterRepr", into = "FilterRepr")]
pub enum Filter {
    /// Every filter matches.
    All(Vec<Filter>),
    /// At least one filter matches.
    Any(Vec<Filter>),
    /// The filter does not match.
    Not(Box<Filter>),
    /// A field condition.
    Field(FieldCondition),
    /// The lifecycle stage is one of these.
    Stage(StageCondition),
    /// A score condition.
    Score(ScoreCondition),
    /// An event-count condition.
    Events(EventCondition),
}

/// The written form of a [`Filter`]: exactly one key set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Vec<Filter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any: Option<Vec<Filter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not: Option<Box<Filter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<FieldCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stage: Option<StageCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    score: Option<ScoreCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    events: Option<EventCondition>,
}

impl TryFrom<FilterRepr> for Filter {
    type Error = String;

    fn try_from(r: FilterRepr) -> Result<Self, String> {
        let mut found = Vec::new();
        if let Some(v) = r.all {
            found.push(Filter::All(v));
        }
        if let Some(v) = r.any {
            found.push(Filter::Any(v));
        }
        if let Some(v) = r.not {
            found.push(Filter::Not(v));
        }
        if let Some(v) = r.field {
            found.push(Filter::Field(v));
        }
        if let Some(v) = r.stage {
            found.push(Filter::Stage(v));
        }
        if let Some(v) = r.score {
            found.push(Filter::Score(v));
        }
        if let Some(v) = r.events {
            found.push(Filter::Events(v));
        }
        match (found.pop(), found.is_empty()) {
            (Some(f), true) => Ok(f),
            _ => Err(
                "a filter needs exactly one of: all, any, not, field, stage, score, events".into(),
            ),
        }
    }
}

impl From<Filter> for FilterRepr {
    fn from(f: Filter) -> Self {
        let mut r = FilterRepr::default();
        match f {
            Filter::All(v) => r.all = Some(v),
            Filter::Any(v) => r.any = Some(v),
            Filter::Not(v) => r.not = Some(v),
            Filter::Field(v) => r.field = Some(v),
            Filter::Stage(v) => r.stage = Some(v),
            Filter::Score(v) => r.score = Some(v),
            Filter::Events(v) => r.events = Some(v),
        }
        r
    }
}

/// Compares a field with a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldCondition {
    /// Field name.
    pub name: String,
    /// Comparison.
    pub op: Op,
    /// The value (a list for `in`/`not_in`; none for `is_set`/`is_not_set`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

/// Comparison operators. Text compares case-insensitively; numbers numerically; dates and
/// times by their ISO text, which sorts chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal (also true when the field is not set).
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// One of a list.
    In,
    /// None of a list (also true when not set).
    NotIn,
    /// Contains the text.
    Contains,
    /// Starts with the text.
    StartsWith,
    /// Ends with the text.
    EndsWith,
    /// Has a value.
    IsSet,
    /// Has no value.
    IsNotSet,
}

/// The record's lifecycle stage is one of `in`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageCondition {
    /// Accepted stages.
    #[serde(rename = "in")]
    pub stages: Vec<Stage>,
}

/// Which score a score condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// Fit from attributes.
    Fit,
    /// Engagement from events, decayed.
    Engagement,
    /// Fit plus engagement.
    Total,
}

/// Compares a score with a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreCondition {
    /// Which score.
    pub kind: ScoreKind,
    /// Comparison (`eq, ne, lt, lte, gt, gte`).
    pub op: Op,
    /// The number.
    pub value: f64,
}

/// Counts events of one kind (optionally within the last N days) and compares the count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCondition {
    /// Event kind (e.g. `webinar_attended`).
    pub event: String,
    /// Only events in the last N days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<u32>,
    /// Comparison (`eq, ne, lt, lte, gt, gte`).
    pub op: Op,
    /// The count.
    pub count: u64,
}

/// What a filter is evaluated against: a record and what Keel knows about it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The record.
    pub record: &'a Record,
    /// Its lifecycle stage, if known.
    pub stage: Option<Stage>,
    /// Its current score, if scored.
    pub score: Option<&'a Score>,
    /// Its events.
    pub events: &'a [Event],
}

impl Segment {
    /// Parses a segment from YAML.
    pub fn from_yaml(text: &str) -> Result<Self, ContactsError> {
        serde_yaml::from_str(text).map_err(|e| ContactsError::Parse {
            what: KIND,
            message: e.to_string(),
        })
    }

    /// Every problem in the document.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        check_envelope(
            &self.api_version,
            &self.kind,
            KIND,
            &self.metadata.name,
            &mut problems,
        );
        if ObjectKind::parse(&self.spec.object).is_none() {
            problems.push(Problem::new(
                "spec.object",
                format!(
                    "object `{}` is not `contact` or `account`",
                    self.spec.object
                ),
            ));
        }
        self.spec.filter.check("spec.filter", &mut problems);
        problems
    }

    /// The records (with their context) that are in the segment.
    pub fn members<'a>(
        &self,
        subjects: &'a [Subject<'a>],
        now: DateTime<Utc>,
    ) -> Vec<&'a Subject<'a>> {
        subjects
            .iter()
            .filter(|s| self.spec.filter.matches(s, now))
            .collect()
    }
}

impl Filter {
    /// Checks the filter's shape, adding problems under `path`.
    pub fn check(&self, path: &str, problems: &mut Vec<Problem>) {
        match self {
            Self::All(fs) | Self::Any(fs) => {
                let key = if matches!(self, Self::All(_)) {
                    "all"
                } else {
                    "any"
                };
                if fs.is_empty() {
                    problems.push(Problem::new(
                        format!("{path}.{key}"),
                        "needs at least one filter",
                    ));
                }
                for (i, f) in fs.iter().enumerate() {
                    f.check(&format!("{path}.{key}[{i}]"), problems);
                }
            }
            Self::Not(f) => f.check(&format!("{path}.not"), problems),
            Self::Field(c) => {
                let p = format!("{path}.field");
                match (c.op, &c.value) {
                    (Op::IsSet | Op::IsNotSet, Some(_)) => {
                        problems.push(Problem::new(
                            format!("{p}.value"),
                            "is_set and is_not_set take no value",
                        ));
                    }
                    (Op::IsSet | Op::IsNotSet, None) => {}
                    (Op::In | Op::NotIn, Some(serde_json::Value::Array(_))) => {}
                    (Op::In | Op::NotIn, _) => {
                        problems.push(Problem::new(
                            format!("{p}.value"),
                            "in and not_in need a list of values",
                        ));
                    }
                    (_, None) => problems.push(Problem::new(
                        format!("{p}.value"),
                        "this comparison needs a value",
                    )),
                    (_, Some(serde_json::Value::Array(_) | serde_json::Value::Object(_))) => {
                        problems.push(Problem::new(
                            format!("{p}.value"),
                            "this comparison needs a single value",
                        ));
                    }
                    _ => {}
                }
            }
            Self::Stage(s) => {
                if s.stages.is_empty() {
                    problems.push(Problem::new(
                        format!("{path}.stage.in"),
                        "needs at least one stage",
                    ));
                }
            }
            Self::Score(s) => {
                if !is_numeric_op(s.op) {
                    problems.push(Problem::new(
                        format!("{path}.score.op"),
                        "scores compare with eq, ne, lt, lte, gt or gte",
                    ));
                }
            }
            Self::Events(e) => {
                if !is_numeric_op(e.op) {
                    problems.push(Problem::new(
                        format!("{path}.events.op"),
                        "counts compare with eq, ne, lt, lte, gt or gte",
                    ));
                }
                if e.within_days == Some(0) {
                    problems.push(Problem::new(
                        format!("{path}.events.within_days"),
                        "within_days must be at least 1",
                    ));
                }
            }
        }
    }

    /// Whether the subject matches, as of `now` (for event windows).
    pub fn matches(&self, s: &Subject<'_>, now: DateTime<Utc>) -> bool {
        match self {
            Self::All(fs) => fs.iter().all(|f| f.matches(s, now)),
            Self::Any(fs) => fs.iter().any(|f| f.matches(s, now)),
            Self::Not(f) => !f.matches(s, now),
            Self::Field(c) => field_matches(c, s.record),
            Self::Stage(c) => s.stage.is_some_and(|st| c.stages.contains(&st)),
            Self::Score(c) => s.score.is_some_and(|sc| {
                let v = match c.kind {
                    ScoreKind::Fit => sc.fit,
                    ScoreKind::Engagement => sc.engagement,
                    ScoreKind::Total => sc.total,
                };
                compare_numbers(c.op, v, c.value)
            }),
            Self::Events(c) => {
                let since = c.within_days.map(|d| now - Duration::days(i64::from(d)));
                let n = s
                    .events
                    .iter()
                    .filter(|e| e.kind == c.event && since.is_none_or(|t| e.at >= t) && e.at <= now)
                    .count() as u64;
                compare_numbers(c.op, n as f64, c.count as f64)
            }
        }
    }
}

fn is_numeric_op(op: Op) -> bool {
    matches!(op, Op::Eq | Op::Ne | Op::Lt | Op::Lte | Op::Gt | Op::Gte)
}

fn compare_numbers(op: Op, a: f64, b: f64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Lte => a <= b,
        Op::Gt => a > b,
        Op::Gte => a >= b,
        _ => false,
    }
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

/// Evaluates a field condition against a record.
pub fn field_matches(c: &FieldCondition, record: &Record) -> bool {
    let value = record.get(&c.name);
    match c.op {
        Op::IsSet => return value.is_some(),
        Op::IsNotSet => return value.is_none(),
        _ => {}
    }
    let Some(value) = value else {
        return matches!(c.op, Op::Ne | Op::NotIn);
    };
    let Some(target) = &c.value else {
        return false;
    };
    let text = value.as_text().to_lowercase();
    let equal = |t: &serde_json::Value| match (value.as_number(), t.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => text == json_text(t),
    };
    match c.op {
        Op::Eq => equal(target),
        Op::Ne => !equal(target),
        Op::In => target.as_array().is_some_and(|a| a.iter().any(equal)),
        Op::NotIn => target.as_array().is_some_and(|a| !a.iter().any(equal)),
        Op::Contains => text.contains(&json_text(target)),
        Op::StartsWith => text.starts_with(&json_text(target)),
        Op::EndsWith => text.ends_with(&json_text(target)),
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => match (value.as_number(), target.as_f64()) {
            (Some(a), Some(b)) => compare_numbers(c.op, a, b),
            _ => {
                let ord = text.as_str().cmp(json_text(target).as_str());
                match c.op {
                    Op::Lt => ord.is_lt(),
                    Op::Lte => ord.is_le(),
                    Op::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                }
            }
        },
        Op::IsSet | Op::IsNotSet => false,
    }
}
