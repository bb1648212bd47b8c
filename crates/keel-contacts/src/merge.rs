//! Survivorship and merge: two records of the same object become one, field by field, under
//! per-field rules; the merge record keeps both originals byte for byte so un-merge restores
//! them exactly, and lists every conflict and decision for the audit trail.
//!
//! The matching engine decides *which* records are the same; this module decides *what the
//! merged record says*. Inputs are plain data, so the review queue, auto-merge and the UI all
//! call the same function.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ContactsError;
use crate::record::{Lineage, Record};
use crate::value::FieldValue;

/// How a field's surviving value is chosen when the two records disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The value from the system highest in `source_precedence`; ties go to the most recent.
    SourcePrecedence,
    /// The value observed most recently (by lineage time); ties keep the survivor's.
    MostRecent,
    /// The value carrying the most information (longest, blanks ignored); ties go to the most recent.
    MostComplete,
}

/// A consent field: a merge never overwrites it, and a withdrawal on either side survives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentField {
    /// Field name (e.g. `email_opt_out`).
    pub field: String,
    /// Values (as text) that mean consent is withdrawn (e.g. `true`, `unsubscribed`).
    pub withdrawn_values: Vec<String>,
}

/// Survivorship settings for one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurvivorshipConfig {
    /// Rule for fields without their own.
    pub default_rule: Rule,
    /// Per-field rules.
    #[serde(default)]
    pub fields: BTreeMap<String, Rule>,
    /// Systems, most trusted first, for [`Rule::SourcePrecedence`].
    #[serde(default)]
    pub source_precedence: Vec<String>,
    /// Consent fields, which no rule may overwrite.
    #[serde(default)]
    pub consent_fields: Vec<ConsentField>,
}

impl Default for SurvivorshipConfig {
    /// Most recent wins, CRM over marketing automation for names and titles, most complete
    /// for addresses, and `email_opt_out` protected.
    fn default() -> Self {
        let mut fields = BTreeMap::new();
        for f in [
            "first_name",
            "last_name",
            "title",
            "company",
            "owner",
            "lead_status",
        ] {
            fields.insert(f.to_string(), Rule::SourcePrecedence);
        }
        for f in ["street", "city", "state", "postal_code"] {
            fields.insert(f.to_string(), Rule::MostComplete);
        }
        Self {
            default_rule: Rule::MostRecent,
            fields,
            source_precedence: vec![
                "salesforce".into(),
                "hubspot".into(),
                "marketo".into(),
                "web_form".into(),
            ],
            consent_fields: vec![ConsentField {
                field: "email_opt_out".into(),
                withdrawn_values: vec!["true".into()],
            }],
        }
    }
}

impl SurvivorshipConfig {
    /// Every problem with the settings, with paths relative to the settings (`fields.title`).
    pub fn validate(&self) -> Vec<crate::problem::Problem> {
        use crate::problem::Problem;
        let mut problems = Vec::new();
        let uses_precedence = self.default_rule == Rule::SourcePrecedence
            || self.fields.values().any(|r| *r == Rule::SourcePrecedence);
        if uses_precedence && self.source_precedence.is_empty() {
            problems.push(Problem::new(
                "source_precedence",
                "a field uses source_precedence but no systems are ranked",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, s) in self.source_precedence.iter().enumerate() {
            if !seen.insert(s) {
                problems.push(Problem::new(
                    format!("source_precedence[{i}]"),
                    format!("system `{s}` is ranked twice"),
                ));
            }
        }
        for (i, c) in self.consent_fields.iter().enumerate() {
            if c.withdrawn_values.is_empty() {
                problems.push(Problem::new(
                    format!("consent_fields[{i}].withdrawn_values"),
                    "list the values that mean consent is withdrawn",
                ));
            }
            if self.fields.contains_key(&c.field) {
                problems.push(Problem::new(
                    format!("fields.{}", c.field),
                    "a consent field cannot have a survivorship rule; consent is never overwritten",
                ));
            }
        }
        problems
    }
}

/// Which of the two merged records a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The survivor (first argument; its id is kept).
    Survivor,
    /// The absorbed record (second argument).
    Absorbed,
}

/// How one field of the merged record was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDecision {
    /// Field name.
    pub field: String,
    /// Which record the surviving value came from.
    pub from: Side,
    /// Why, in words (`only the absorbed record has it`, `salesforce ranks above hubspot`).
    pub reason: String,
}

/// Both records had different values for a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// Field name.
    pub field: String,
    /// The survivor's value.
    pub survivor: FieldValue,
    /// The absorbed record's value.
    pub absorbed: FieldValue,
    /// Which one was kept.
    pub kept: Side,
}

/// The audit trail of one merge, enough to undo it exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRecord {
    /// The merged record's id (the survivor's).
    pub merged_id: String,
    /// The absorbed record's id.
    pub absorbed_id: String,
    /// When the merge happened.
    pub at: DateTime<Utc>,
    /// Who or what merged (a reviewer, an auto-merge threshold).
    pub actor: String,
    /// The two originals as canonical JSON (survivor, absorbed), exactly as they were.
    pub originals: [String; 2],
    /// How every field was decided.
    pub decisions: Vec<FieldDecision>,
    /// Fields where the records disagreed.
    pub conflicts: Vec<Conflict>,
}

/// A merged record and its merge record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// The merged record (keeps the survivor's id).
    pub record: Record,
    /// The audit trail.
    pub merge: MergeRecord,
}

/// Merges `absorbed` into `survivor`. The survivor keeps its id; each field is decided by
/// its rule; consent withdrawals always survive; an identified record is never overwritten
/// by an anonymous one (the anonymous record only fills blanks).
pub fn merge(
    survivor: &Record,
    absorbed: &Record,
    config: &SurvivorshipConfig,
    at: DateTime<Utc>,
    actor: &str,
) -> Result<Merge, ContactsError> {
    let refuse = |message: &str| ContactsError::Merge {
        a: survivor.id.clone(),
        b: absorbed.id.clone(),
        message: message.to_string(),
    };
    if survivor.object != absorbed.object {
        return Err(refuse("they are different objects"));
    }
    if survivor.id == absorbed.id {
        return Err(refuse("a record cannot be merged with itself"));
    }
    let identity_wins = match (survivor.is_identified(), absorbed.is_identified()) {
        (true, false) => Some(Side::Survivor),
        (false, true) => Some(Side::Absorbed),
        _ => None,
    };
    let names: BTreeSet<&String> = survivor
        .fields
        .keys()
        .chain(absorbed.fields.keys())
        .collect();
    let mut record = survivor.clone();
    record.fields.clear();
    record.lineage.clear();
    record.created_at = survivor.created_at.min(absorbed.created_at);
    record.updated_at = at;
    if record.source_id.is_none() {
        record.source_id = absorbed.source_id.clone();
    }
    let mut decisions = Vec::with_capacity(names.len());
    let mut conflicts = Vec::new();
    for name in names {
        let a = survivor
            .fields
            .get(name)
            .map(|v| (v, survivor.lineage.get(name)));
        let b = absorbed
            .fields
            .get(name)
            .map(|v| (v, absorbed.lineage.get(name)));
        let (from, reason) = match (a, b) {
            (Some(_), None) => (Side::Survivor, "only the survivor has it".to_string()),
            (None, Some(_)) => (
                Side::Absorbed,
                "only the absorbed record has it".to_string(),
            ),
            (Some((va, _)), Some((vb, _))) if va == vb => {
                (Side::Survivor, "both agree".to_string())
            }
            (Some((va, la)), Some((vb, lb))) => {
                let (side, reason) = decide(name, (va, la), (vb, lb), config, identity_wins);
                conflicts.push(Conflict {
                    field: name.clone(),
                    survivor: va.clone(),
                    absorbed: vb.clone(),
                    kept: side,
                });
                (side, reason)
            }
            (None, None) => continue,
        };
        let source = match from {
            Side::Survivor => survivor,
            Side::Absorbed => absorbed,
        };
        if let Some(v) = source.fields.get(name) {
            record.fields.insert(name.clone(), v.clone());
        }
        if let Some(l) = source.lineage.get(name) {
            record.lineage.insert(name.clone(), l.clone());
        }
        decisions.push(FieldDecision {
            field: name.clone(),
            from,
            reason,
        });
    }
    let merge = MergeRecord {
        merged_id: survivor.id.clone(),
        absorbed_id: absorbed.id.clone(),
        at,
        actor: actor.to_string(),
        originals: [canonical(survivor), canonical(absorbed)],
        decisions,
        conflicts,
    };
    Ok(Merge { record, merge })
}

fn canonical(r: &Record) -> String {
    String::from_utf8(r.canonical_bytes()).unwrap_or_default()
}

type Candidate<'a> = (&'a FieldValue, Option<&'a Lineage>);

fn decide(
    field: &str,
    a: Candidate<'_>,
    b: Candidate<'_>,
    config: &SurvivorshipConfig,
    identity_wins: Option<Side>,
) -> (Side, String) {
    if let Some(consent) = config.consent_fields.iter().find(|c| c.field == field) {
        let withdrawn = |v: &FieldValue| {
            let t = v.as_text().to_lowercase();
            consent
                .withdrawn_values
                .iter()
                .any(|w| w.to_lowercase() == t)
        };
        return if withdrawn(b.0) && !withdrawn(a.0) {
            (
                Side::Absorbed,
                "consent: a withdrawal always survives".into(),
            )
        } else {
            (
                Side::Survivor,
                "consent: never overwritten by a merge".into(),
            )
        };
    }
    if let Some(side) = identity_wins {
        return (
            side,
            "an identified record is never overwritten by an anonymous one".into(),
        );
    }
    let at = |c: Candidate<'_>| c.1.map(|l| l.at);
    let most_recent = |why: &str| -> (Side, String) {
        if at(b) > at(a) {
            (
                Side::Absorbed,
                format!("{why}the absorbed value is more recent"),
            )
        } else {
            (
                Side::Survivor,
                format!("{why}the survivor's value is as recent or more"),
            )
        }
    };
    match config
        .fields
        .get(field)
        .copied()
        .unwrap_or(config.default_rule)
    {
        Rule::MostRecent => most_recent("most recent: "),
        Rule::MostComplete => {
            let (ca, cb) = (a.0.completeness(), b.0.completeness());
            if ca > cb {
                (
                    Side::Survivor,
                    "most complete: the survivor's value is longer".into(),
                )
            } else if cb > ca {
                (
                    Side::Absorbed,
                    "most complete: the absorbed value is longer".into(),
                )
            } else {
                most_recent("most complete tie; ")
            }
        }
        Rule::SourcePrecedence => {
            let system = |c: Candidate<'_>| c.1.map(|l| l.system.clone()).unwrap_or_default();
            let rank = |s: &str| {
                config
                    .source_precedence
                    .iter()
                    .position(|p| p == s)
                    .unwrap_or(usize::MAX)
            };
            let (sa, sb) = (system(a), system(b));
            match rank(&sa).cmp(&rank(&sb)) {
                std::cmp::Ordering::Less => (
                    Side::Survivor,
                    format!("source precedence: {sa} ranks above {sb}"),
                ),
                std::cmp::Ordering::Greater => (
                    Side::Absorbed,
                    format!("source precedence: {sb} ranks above {sa}"),
                ),
                std::cmp::Ordering::Equal => most_recent("source precedence tie; "),
            }
        }
    }
}

/// Undoes a merge: returns the two original records exactly as they were before it
/// (survivor, absorbed) — their canonical bytes are identical to the originals'.
pub fn unmerge(merge: &MergeRecord) -> Result<(Record, Record), ContactsError> {
    let fail = |message: String| ContactsError::Unmerge {
        merged_id: merge.merged_id.clone(),
        message,
    };
    let [a, b] = &merge.originals;
    let survivor: Record = serde_json::from_str(a)
        .map_err(|e| fail(format!("the survivor's original is unreadable: {e}")))?;
    let absorbed: Record = serde_json::from_str(b)
        .map_err(|e| fail(format!("the absorbed original is unreadable: {e}")))?;
    if survivor.id != merge.merged_id || absorbed.id != merge.absorbed_id {
        return Err(fail("the originals do not belong to this merge".into()));
    }
    if survivor.canonical_bytes() != a.as_bytes() || absorbed.canonical_bytes() != b.as_bytes() {
        return Err(fail(
            "the originals are not in canonical form; they may have been edited".into(),
        ));
    }
    Ok((survivor, absorbed))
}
