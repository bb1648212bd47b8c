//! Real-time matching: an index built once from existing records, against which single new
//! records (a form fill, an import row) are matched in microseconds.
//!
//! The index keeps, per blocking rule, a hash map from key to record indices, and the value
//! counts needed for term-frequency adjustment. A query standardises the new record, looks up
//! its keys, scores every candidate with the trained model and returns them best first.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::blocking::BlockingRule;
use crate::error::MatchError;
use crate::model::{Explanation, Model, Scorer, probability, weight_of};
use crate::records::{RawRecord, Records, RecordsBuilder};

/// A possible match for a queried record.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Candidate {
    /// Index of the existing record.
    pub index: usize,
    /// Its id.
    pub id: String,
    /// Its cluster id, when clusters were attached to the index.
    pub cluster_id: Option<String>,
    /// Match weight in bits.
    pub match_weight: f64,
    /// Match probability.
    pub match_probability: f64,
}

/// An index of existing records for matching one record at a time.
#[derive(Debug)]
pub struct MatchIndex {
    model: Model,
    scorer: Scorer,
    rules: Vec<BlockingRule>,
    records: Records,
    keys: Vec<FxHashMap<u64, Vec<u32>>>,
    counts: Vec<FxHashMap<u64, u32>>,
    cluster_ids: Option<Vec<String>>,
}

impl MatchIndex {
    /// Builds the index from standardised records and a trained model.
    pub fn build(model: &Model, records: Records) -> Result<Self, MatchError> {
        let rules = crate::rules(&model.spec)?;
        let mut keys: Vec<FxHashMap<u64, Vec<u32>>> = vec![FxHashMap::default(); rules.len()];
        for (rule, map) in rules.iter().zip(keys.iter_mut()) {
            for i in 0..records.len() {
                if let Some(k) = rule.key(&records, i) {
                    map.entry(k).or_default().push(i as u32);
                }
            }
        }
        let counts = records.columns.iter().map(|c| c.value_counts()).collect();
        Ok(MatchIndex {
            scorer: model.scorer()?,
            model: model.clone(),
            rules,
            records,
            keys,
            counts,
            cluster_ids: None,
        })
    }

    /// Attaches cluster ids (one per indexed record) so candidates carry them.
    pub fn with_cluster_ids(mut self, ids: Vec<String>) -> Self {
        if ids.len() == self.records.len() {
            self.cluster_ids = Some(ids);
        }
        self
    }

    /// Number of indexed records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn standardise_one(&self, values: Vec<String>) -> Result<Records, MatchError> {
        let mut b = RecordsBuilder::new(&self.model.spec)?;
        b.push_one(RawRecord {
            id: String::new(),
            source: 1,
            values,
        })?;
        let mut q = b.finish();
        for (col, counts) in q.columns.iter_mut().zip(&self.counts) {
            let h = col.hash_of(0);
            col.set_freq(0, counts.get(&h).copied().unwrap_or(0) + 1);
        }
        Ok(q)
    }

    /// Standardises one record (raw values in field order) once, for [`MatchIndex::query_prepared`],
    /// [`MatchIndex::explain_prepared`] and [`MatchIndex::insert_prepared`]. Its term
    /// frequencies are the index's as of now.
    pub fn prepare(&self, values: Vec<String>) -> Result<Prepared, MatchError> {
        Ok(Prepared(self.standardise_one(values)?))
    }

    /// Matches one record (raw values in field order) against the index; returns candidates at
    /// or above `min_probability`, best first.
    pub fn query(
        &self,
        values: Vec<String>,
        min_probability: f64,
    ) -> Result<Vec<Candidate>, MatchError> {
        Ok(self.query_prepared(&self.prepare(values)?, min_probability))
    }

    /// [`MatchIndex::query`] for a record already prepared.
    pub fn query_prepared(&self, prepared: &Prepared, min_probability: f64) -> Vec<Candidate> {
        let q = &prepared.0;
        let max_block = self.model.spec.max_block_size;
        let mut found: Vec<u32> = Vec::new();
        for (rule, map) in self.rules.iter().zip(&self.keys) {
            if let Some(k) = rule.key(q, 0)
                && let Some(ids) = map.get(&k)
                && ids.len() <= max_block
            {
                found.extend_from_slice(ids);
            }
        }
        found.sort_unstable();
        found.dedup();
        // Pairs that provably stay below the threshold are dropped part-way (a small margin
        // keeps rounding from dropping a pair right at it); the rest get their exact weight.
        let min_weight = if min_probability > 0.0 {
            weight_of(min_probability) - 1e-6
        } else {
            f64::NEG_INFINITY
        };
        let mut out: Vec<Candidate> = found
            .into_iter()
            .filter_map(|i| {
                let i = i as usize;
                let w = self
                    .scorer
                    .score_at_least(q, 0, &self.records, i, min_weight)?;
                let p = probability(w);
                (p >= min_probability).then(|| Candidate {
                    index: i,
                    id: self.records.ids.get(i).cloned().unwrap_or_default(),
                    cluster_id: self.cluster_ids.as_ref().and_then(|c| c.get(i).cloned()),
                    match_weight: w,
                    match_probability: p,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.match_weight
                .total_cmp(&a.match_weight)
                .then(a.index.cmp(&b.index))
        });
        out
    }

    /// The full waterfall of a queried record (raw values in field order) against the indexed
    /// record at `index`, with the same term frequencies the query used.
    pub fn explain(&self, values: Vec<String>, index: usize) -> Result<Explanation, MatchError> {
        self.explain_prepared(&self.prepare(values)?, index)
    }

    /// [`MatchIndex::explain`] for a record already prepared.
    pub fn explain_prepared(
        &self,
        prepared: &Prepared,
        index: usize,
    ) -> Result<Explanation, MatchError> {
        if index >= self.records.len() {
            return Err(MatchError::Config(vec![crate::config::Problem {
                path: "index".into(),
                message: format!("no indexed record {index}"),
            }]));
        }
        Ok(self.scorer.explain(&prepared.0, 0, &self.records, index))
    }

    /// Adds a record to the index (after matching it, for example), returning its index.
    pub fn insert(&mut self, record: RawRecord) -> Result<usize, MatchError> {
        let prepared = self.prepare(record.values)?;
        Ok(self.insert_prepared(record.id, &prepared))
    }

    /// [`MatchIndex::insert`] for a record already prepared, under `id`.
    pub fn insert_prepared(&mut self, id: String, prepared: &Prepared) -> usize {
        let q = &prepared.0;
        let i = self.records.len();
        for (rule, map) in self.rules.iter().zip(self.keys.iter_mut()) {
            if let Some(k) = rule.key(q, 0) {
                map.entry(k).or_default().push(i as u32);
            }
        }
        for (col, counts) in q.columns.iter().zip(self.counts.iter_mut()) {
            let h = col.hash_of(0);
            if h != 0 {
                *counts.entry(h).or_default() += 1;
            }
        }
        self.records.append(q, 0, id);
        if let Some(c) = self.cluster_ids.as_mut() {
            c.push(format!("new-{i}"));
        }
        i
    }
}

/// One record standardised for an index ([`MatchIndex::prepare`]): matched, explained and
/// inserted without standardising it again.
#[derive(Debug, Clone)]
pub struct Prepared(Records);
