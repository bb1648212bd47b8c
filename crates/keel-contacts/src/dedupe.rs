//! Duplicate detection for contacts: the bridge between records and the matching engine.
//!
//! A [`Matcher`] holds a real-time index of existing contacts. Each new or imported contact
//! is checked against it and lands in exactly one band: at or above
//! [`Thresholds::auto_merge`] it is merged into the best candidate; in the review band it
//! is queued for a person with the explanation waterfall; below it stays separate.
//!
//! The model's m/u parameters are trained once per process on generated leads (the engine's
//! synthetic population of names, addresses and companies), so a fresh database with a few
//! contacts still matches sensibly; the index carries the real term frequencies.

use std::collections::HashMap;
use std::sync::OnceLock;

use keel_match::synthetic::{COLUMNS, generate};
use keel_match::{
    Explanation, MatchIndex, MatchSpec, Model, Prepared, RawRecord, TrainOptions, block,
    build_records, train,
};
use serde::{Deserialize, Serialize};

use crate::error::ContactsError;
use crate::record::{ObjectKind, Record};

/// The probability bands that decide what happens to a candidate duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// At or above this probability a duplicate is merged without asking.
    pub auto_merge: f64,
    /// At or above this (and below `auto_merge`) the pair goes to the review queue.
    pub review: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            auto_merge: 0.995,
            review: 0.50,
        }
    }
}

/// What to do with a newly checked contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Merge into the existing record `into`.
    Merge {
        /// The surviving record's id.
        into: String,
        /// Match probability.
        probability: f64,
    },
    /// Ask a person: the pair goes to the review queue.
    Review {
        /// The candidate's id.
        candidate: String,
        /// Match probability.
        probability: f64,
    },
    /// No duplicate worth a look.
    Separate,
}

/// The match columns, in the order values are given to the engine.
pub fn match_columns() -> Vec<String> {
    COLUMNS.iter().map(|c| c.to_string()).collect()
}

/// A contact's values for the matching engine, in [`match_columns`] order.
pub fn match_values(record: &Record) -> Vec<String> {
    let text = |f: &str| {
        record
            .get(f)
            .map(|v| v.as_text())
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let phone = {
        let p = text("phone");
        if p.is_empty() {
            text("mobile_phone")
        } else {
            p
        }
    };
    vec![
        text("first_name"),
        text("last_name"),
        text("email"),
        phone,
        text("company"),
        text("street"),
        text("postal_code"),
    ]
}

static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();

/// The shipped contact matching model (trained by [`train_contact_model`]).
pub const CONTACT_MODEL_JSON: &str = include_str!("../data/contact-model.json");

/// The contact matching model: m/u parameters trained on generated leads, shipped as JSON so
/// every process matches the same way without training at start-up.
pub fn contact_model() -> Result<&'static Model, ContactsError> {
    MODEL
        .get_or_init(|| serde_json::from_str(CONTACT_MODEL_JSON).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ContactsError::Match(e.clone()))
}

/// Trains the contact matching model on 20,000 generated leads (about a second in release).
pub fn train_contact_model() -> Result<Model, ContactsError> {
    let spec = MatchSpec::infer(&match_columns(), "id");
    let leads = generate(20_000, 42);
    let rows = leads
        .into_iter()
        .map(|l| RawRecord {
            id: l.id,
            source: 0,
            values: l.values.to_vec(),
        })
        .collect();
    let records = build_records(&spec, rows).map_err(match_error)?;
    let blocks = block(&records, &spec).map_err(match_error)?;
    let options = TrainOptions {
        u_pairs: 200_000,
        em_pairs: 200_000,
        ..TrainOptions::default()
    };
    train(&records, &spec, &blocks, &[], &options).map_err(match_error)
}

/// What [`Matcher::admit`] decided for a record.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// Merge, review or separate.
    pub decision: Decision,
    /// The waterfall against the candidate, for a review decision.
    pub explanation: Option<Explanation>,
}

/// A real-time index of existing contacts.
#[derive(Debug)]
pub struct Matcher {
    index: MatchIndex,
    /// Record id per index position (an absorbed record's values keep pointing at its survivor).
    ids: Vec<String>,
    /// The first index position of each id, so explanations find their candidate without a
    /// scan of the whole index.
    first: HashMap<String, usize>,
    thresholds: Thresholds,
}

impl Matcher {
    /// Builds the index from existing contacts (accounts are skipped).
    pub fn build<'a>(
        records: impl IntoIterator<Item = &'a Record>,
        thresholds: Thresholds,
    ) -> Result<Self, ContactsError> {
        let model = contact_model()?;
        let mut ids = Vec::new();
        let rows: Vec<RawRecord> = records
            .into_iter()
            .filter(|r| r.object == ObjectKind::Contact)
            .map(|r| {
                ids.push(r.id.clone());
                RawRecord {
                    id: r.id.clone(),
                    source: 0,
                    values: match_values(r),
                }
            })
            .collect();
        let built = build_records(&model.spec, rows).map_err(match_error)?;
        let index = MatchIndex::build(model, built).map_err(match_error)?;
        Ok(Matcher::new(index, ids, thresholds))
    }

    fn new(index: MatchIndex, ids: Vec<String>, thresholds: Thresholds) -> Self {
        let mut first = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            first.entry(id.clone()).or_insert(i);
        }
        Matcher {
            index,
            ids,
            first,
            thresholds,
        }
    }

    /// Builds the index from (id, match values) pairs, e.g. read straight from storage.
    pub fn from_values(
        rows: Vec<(String, Vec<String>)>,
        thresholds: Thresholds,
    ) -> Result<Self, ContactsError> {
        let model = contact_model()?;
        let ids = rows.iter().map(|(id, _)| id.clone()).collect();
        let raw = rows
            .into_iter()
            .map(|(id, values)| RawRecord {
                id,
                source: 0,
                values,
            })
            .collect();
        let built = build_records(&model.spec, raw).map_err(match_error)?;
        let index = MatchIndex::build(model, built).map_err(match_error)?;
        Ok(Matcher::new(index, ids, thresholds))
    }

    /// The thresholds in force.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Number of indexed records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Decides what to do with `record`: the best candidate other than the record itself.
    pub fn check(&self, record: &Record) -> Result<Decision, ContactsError> {
        if record.object != ObjectKind::Contact {
            return Ok(Decision::Separate);
        }
        let prepared = self
            .index
            .prepare(match_values(record))
            .map_err(match_error)?;
        Ok(self.decide(record, &prepared).0)
    }

    /// The band of `record`'s best candidate other than itself, and that candidate's index
    /// position.
    fn decide(&self, record: &Record, prepared: &Prepared) -> (Decision, Option<usize>) {
        let found = self.index.query_prepared(prepared, self.thresholds.review);
        let best = found.into_iter().find_map(|c| {
            let id = self.ids.get(c.index)?;
            (id != &record.id).then(|| (id.clone(), c.index, c.match_probability))
        });
        match best {
            Some((into, _, probability)) if probability >= self.thresholds.auto_merge => {
                (Decision::Merge { into, probability }, None)
            }
            Some((candidate, index, probability)) => (
                Decision::Review {
                    candidate,
                    probability,
                },
                Some(index),
            ),
            None => (Decision::Separate, None),
        }
    }

    /// Checks `record` and adds it to the index in one step, standardising it once: under the
    /// survivor's id when the decision is a merge, under its own id otherwise. A review
    /// decision carries the explanation waterfall against the candidate.
    pub fn admit(&mut self, record: &Record) -> Result<Admitted, ContactsError> {
        if record.object != ObjectKind::Contact {
            return Ok(Admitted {
                decision: Decision::Separate,
                explanation: None,
            });
        }
        let prepared = self
            .index
            .prepare(match_values(record))
            .map_err(match_error)?;
        let (decision, reviewed) = self.decide(record, &prepared);
        let explanation = match (&decision, reviewed) {
            (Decision::Review { candidate, .. }, Some(index)) => {
                // Explained against the candidate's first indexed values, as `explain` does.
                let at = self.first.get(candidate).copied().unwrap_or(index);
                Some(
                    self.index
                        .explain_prepared(&prepared, at)
                        .map_err(match_error)?,
                )
            }
            _ => None,
        };
        let under = match &decision {
            Decision::Merge { into, .. } => into.clone(),
            _ => record.id.clone(),
        };
        self.index.insert_prepared(under.clone(), &prepared);
        self.first.entry(under.clone()).or_insert(self.ids.len());
        self.ids.push(under);
        Ok(Admitted {
            decision,
            explanation,
        })
    }

    /// Adds a record's values to the index under `id` (its own, or its survivor's).
    pub fn insert(&mut self, id: &str, record: &Record) -> Result<(), ContactsError> {
        self.index
            .insert(RawRecord {
                id: id.to_string(),
                source: 0,
                values: match_values(record),
            })
            .map_err(match_error)?;
        self.first.entry(id.to_string()).or_insert(self.ids.len());
        self.ids.push(id.to_string());
        Ok(())
    }

    /// The explanation waterfall of `record` against the indexed record `candidate`.
    pub fn explain(&self, record: &Record, candidate: &str) -> Result<Explanation, ContactsError> {
        let Some(&i) = self.first.get(candidate) else {
            return Err(ContactsError::Match(format!(
                "`{candidate}` is not in the index"
            )));
        };
        self.index
            .explain(match_values(record), i)
            .map_err(match_error)
    }
}

/// Explains a pair of records directly (an index of the one record `b`).
pub fn explain_pair(a: &Record, b: &Record) -> Result<Explanation, ContactsError> {
    let m = Matcher::build([b], Thresholds::default())?;
    m.explain(a, &b.id)
}

fn match_error(e: keel_match::MatchError) -> ContactsError {
    ContactsError::Match(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Lineage;
    use crate::value::FieldValue;
    use chrono::{TimeZone, Utc};

    fn contact(id: &str, first: &str, last: &str, email: &str, company: &str) -> Record {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let lin = Lineage {
            system: "test".into(),
            source: "t".into(),
            at,
        };
        let mut r = Record::new(id, ObjectKind::Contact, "test", at);
        for (f, v) in [
            ("first_name", first),
            ("last_name", last),
            ("email", email),
            ("company", company),
        ] {
            if !v.is_empty() {
                r.set(f, FieldValue::Text(v.into()), lin.clone());
            }
        }
        r
    }

    #[test]
    fn same_person_merges_and_strangers_stay_separate() {
        let existing = [
            contact(
                "a",
                "Maria",
                "Lopez",
                "maria.lopez@halyard.example",
                "Halyard",
            ),
            contact("b", "Tom", "Baker", "tom@wavecrest.example", "Wavecrest"),
        ];
        let m = Matcher::build(existing.iter(), Thresholds::default()).unwrap();
        let same = contact(
            "n1",
            "Maria",
            "Lopez",
            "maria.lopez@halyard.example",
            "Halyard",
        );
        // With two indexed records the engine is sure enough to merge or at least to ask.
        let d = m.check(&same).unwrap();
        assert!(
            matches!(&d, Decision::Merge { into, .. } | Decision::Review { candidate: into, .. } if into == "a"),
            "{d:?}"
        );
        let stranger = contact("n2", "Jo", "Nguyen", "jo@elsewhere.example", "Elsewhere");
        assert_eq!(m.check(&stranger).unwrap(), Decision::Separate);
        let e = m.explain(&same, "a").unwrap();
        assert_eq!(e.terms.len(), match_columns().len());
    }
}
