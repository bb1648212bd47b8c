//! Lead scoring (ops-as-code kind `ScoringModel`): fit points from attributes, engagement
//! points from events that decay with a half-life, a total with a line-by-line explanation,
//! and MQL threshold crossing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contract::Metadata;
use crate::error::ContactsError;
use crate::lifecycle::Stage;
use crate::problem::{Problem, check_envelope};
use crate::record::Record;
use crate::segment::Filter;

/// The `kind` of a scoring model document.
pub const KIND: &str = "ScoringModel";

/// The shipped default lead-scoring model (YAML).
pub const DEFAULT_MODEL: &str = include_str!("../contracts/lead-scoring.yaml");

/// Something a person did (an email click, a form fill, a webinar attended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Event kind, e.g. `email_click`, `demo_requested`.
    pub kind: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// A `ScoringModel` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringModel {
    /// Always `keel/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Always `ScoringModel`.
    pub kind: String,
    /// Name and description.
    pub metadata: Metadata,
    /// The rules.
    pub spec: ScoringSpec,
}

/// The body of a scoring model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringSpec {
    /// Attribute rules: when the filter matches the record, add the points.
    #[serde(default)]
    pub fit: Vec<FitRule>,
    /// Event rules: each matching event adds points, decayed by its age.
    #[serde(default)]
    pub engagement: Vec<EngagementRule>,
    /// Days after which an event is worth half its points.
    pub half_life_days: f64,
    /// Total score at which a lead becomes an MQL.
    pub mql_threshold: f64,
}

/// Points for an attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FitRule {
    /// Shown in explanations.
    pub name: String,
    /// Field conditions only (no scores or events).
    pub when: Filter,
    /// Points (negative to penalise, e.g. students or competitors).
    pub points: f64,
}

/// Points for an event kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementRule {
    /// Shown in explanations.
    pub name: String,
    /// Event kind it scores.
    pub event: String,
    /// Points per event when fresh.
    pub points: f64,
    /// Most points this rule may add in total (after decay), to stop one behaviour dominating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
}

/// One line of a score's explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    /// Rule name.
    pub rule: String,
    /// Points it added (after decay and cap).
    pub points: f64,
    /// Details, e.g. `3 events, decayed from 15`.
    pub detail: String,
}

/// A record's score with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Fit points.
    pub fit: f64,
    /// Engagement points after decay.
    pub engagement: f64,
    /// Fit plus engagement.
    pub total: f64,
    /// Every rule that contributed, in model order.
    pub lines: Vec<ScoreLine>,
}

impl ScoringModel {
    /// Parses a scoring model from YAML.
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
        let s = &self.spec;
        if !(s.half_life_days.is_finite() && s.half_life_days > 0.0) {
            problems.push(Problem::new(
                "spec.half_life_days",
                "half_life_days must be a positive number of days",
            ));
        }
        if !s.mql_threshold.is_finite() {
            problems.push(Problem::new(
                "spec.mql_threshold",
                "mql_threshold must be a number",
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, r) in s.fit.iter().enumerate() {
            if !names.insert(r.name.as_str()) {
                problems.push(Problem::new(
                    format!("spec.fit[{i}].name"),
                    format!("rule `{}` is defined twice", r.name),
                ));
            }
            if !r.points.is_finite() {
                problems.push(Problem::new(
                    format!("spec.fit[{i}].points"),
                    "points must be a number",
                ));
            }
            let path = format!("spec.fit[{i}].when");
            r.when.check(&path, &mut problems);
            if uses_context(&r.when) {
                problems.push(Problem::new(
                    path,
                    "fit rules may only test fields, not stages, scores or events",
                ));
            }
        }
        for (i, r) in s.engagement.iter().enumerate() {
            if !names.insert(r.name.as_str()) {
                problems.push(Problem::new(
                    format!("spec.engagement[{i}].name"),
                    format!("rule `{}` is defined twice", r.name),
                ));
            }
            if r.event.trim().is_empty() {
                problems.push(Problem::new(
                    format!("spec.engagement[{i}].event"),
                    "event must not be empty",
                ));
            }
            if !r.points.is_finite() {
                problems.push(Problem::new(
                    format!("spec.engagement[{i}].points"),
                    "points must be a number",
                ));
            }
            if r.cap.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
                problems.push(Problem::new(
                    format!("spec.engagement[{i}].cap"),
                    "cap must be a positive number",
                ));
            }
        }
        problems
    }

    /// Scores a record and its events as of `now`. Events after `now` are ignored.
    /// Engagement decays as `points × 0.5^(age_days / half_life_days)`.
    pub fn score(&self, record: &Record, events: &[Event], now: DateTime<Utc>) -> Score {
        let mut lines = Vec::new();
        let mut fit = 0.0;
        for r in &self.spec.fit {
            if r.when.matches(
                &crate::segment::Subject {
                    record,
                    stage: None,
                    score: None,
                    events: &[],
                },
                now,
            ) {
                fit += r.points;
                lines.push(ScoreLine {
                    rule: r.name.clone(),
                    points: r.points,
                    detail: "attribute matches".into(),
                });
            }
        }
        let mut engagement = 0.0;
        for r in &self.spec.engagement {
            let mut count = 0usize;
            let mut points = 0.0;
            for e in events.iter().filter(|e| e.kind == r.event && e.at <= now) {
                count += 1;
                let age_days = (now - e.at).num_seconds() as f64 / 86_400.0;
                points += r.points * 0.5_f64.powf(age_days / self.spec.half_life_days);
            }
            if count == 0 {
                continue;
            }
            let undecayed = r.points * count as f64;
            let mut detail = format!("{count} event(s), {undecayed} before decay");
            if let Some(cap) = r.cap
                && points > cap
            {
                points = cap;
                detail.push_str(&format!(", capped at {cap}"));
            }
            engagement += points;
            lines.push(ScoreLine {
                rule: r.name.clone(),
                points,
                detail,
            });
        }
        Score {
            fit,
            engagement,
            total: fit + engagement,
            lines,
        }
    }
}

fn uses_context(f: &Filter) -> bool {
    match f {
        Filter::All(fs) | Filter::Any(fs) => fs.iter().any(uses_context),
        Filter::Not(f) => uses_context(f),
        Filter::Field(_) => false,
        Filter::Stage(_) | Filter::Score(_) | Filter::Events(_) => true,
    }
}

/// Which way a score crossed the MQL threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crossing {
    /// From below to at-or-above.
    Up,
    /// From at-or-above to below (e.g. by decay).
    Down,
}

/// Whether moving from `previous` to `current` crosses `threshold`.
pub fn threshold_crossing(previous: f64, current: f64, threshold: f64) -> Option<Crossing> {
    match (previous >= threshold, current >= threshold) {
        (false, true) => Some(Crossing::Up),
        (true, false) => Some(Crossing::Down),
        _ => None,
    }
}

/// Whether a record at `stage` with `score` should become an MQL now: only subscribers and
/// leads are promoted, and only when the score reaches the model's threshold.
pub fn should_become_mql(model: &ScoringModel, stage: Stage, score: &Score) -> bool {
    matches!(stage, Stage::Subscriber | Stage::Lead) && score.total >= model.spec.mql_threshold
}
