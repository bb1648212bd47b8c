//! Standardised records stored column by column, compactly enough to hold a million leads.
//!
//! Each column keeps its standardised texts in one string arena, with per-record offsets, a
//! value hash (for blocking and term frequencies), the kind-specific extra and the number of
//! records sharing the value (for term-frequency adjustment).

use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHasher};

use crate::config::{FieldKind, MatchSpec};
use crate::error::MatchError;
use crate::standardise::{Standard, parse_region, standardise};

/// One input row: its id, which input it came from (0 = first file, 1 = linked file) and the raw
/// value of every configured field, in the order of [`MatchSpec::fields`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// The record's id in the input.
    pub id: String,
    /// 0 for the first input, 1 for the input linked against it.
    pub source: u8,
    /// Raw values, one per configured field.
    pub values: Vec<String>,
}

/// The standardised values of one field for every record.
#[derive(Debug, Clone, Default)]
pub struct Column {
    /// The field's kind.
    pub kind: FieldKind,
    text: String,
    offsets: Vec<usize>,
    aux: Vec<u32>,
    hash: Vec<u64>,
    freq: Vec<u32>,
    /// How many records have a value in this column.
    pub non_null: u32,
}

/// A value as comparisons see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    /// Standardised text.
    pub text: &'a str,
    /// Kind-specific extra.
    pub aux: u32,
    /// Hash of the text (never 0).
    pub hash: u64,
    /// Number of records holding this value (at least 1).
    pub freq: u32,
}

/// Hash of a standardised text, never 0 (0 marks a missing value).
pub fn value_hash(text: &str) -> u64 {
    let mut h = FxHasher::default();
    text.hash(&mut h);
    h.finish().max(1)
}

impl Column {
    fn new(kind: FieldKind) -> Self {
        Column {
            kind,
            offsets: vec![0],
            ..Column::default()
        }
    }

    fn push(&mut self, value: Option<Standard>) {
        match value {
            Some(v) => {
                self.hash.push(value_hash(&v.text));
                self.text.push_str(&v.text);
                self.aux.push(v.aux);
            }
            None => {
                self.hash.push(0);
                self.aux.push(0);
            }
        }
        self.offsets.push(self.text.len());
    }

    /// The value of record `i`, `None` when missing.
    pub fn get(&self, i: usize) -> Option<Value<'_>> {
        let hash = *self.hash.get(i)?;
        if hash == 0 {
            return None;
        }
        let start = *self.offsets.get(i)?;
        let end = *self.offsets.get(i + 1)?;
        Some(Value {
            text: self.text.get(start..end)?,
            aux: self.aux.get(i).copied().unwrap_or(0),
            hash,
            freq: self.freq.get(i).copied().unwrap_or(1).max(1),
        })
    }

    /// The value hash of record `i` (0 when missing).
    pub fn hash_of(&self, i: usize) -> u64 {
        self.hash.get(i).copied().unwrap_or(0)
    }

    /// Sets how many records hold the value of record `i` (used by the real-time index).
    pub(crate) fn set_freq(&mut self, i: usize, freq: u32) {
        if self.freq.len() <= i {
            self.freq.resize(i + 1, 1);
        }
        if let Some(f) = self.freq.get_mut(i) {
            *f = freq;
        }
        self.non_null = self.non_null.max(freq);
    }

    /// Counts of every value in the column, keyed by value hash.
    pub fn value_counts(&self) -> FxHashMap<u64, u32> {
        let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
        for &h in self.hash.iter().filter(|&&h| h != 0) {
            *counts.entry(h).or_default() += 1;
        }
        counts
    }
}

/// Standardised records, ready for blocking and scoring.
#[derive(Debug, Clone)]
pub struct Records {
    /// Record ids, in input order.
    pub ids: Vec<String>,
    /// Which input each record came from.
    pub sources: Vec<u8>,
    /// One column per configured field.
    pub columns: Vec<Column>,
    /// Whether any record comes from a second input (cached: asked for every block).
    link: bool,
}

impl Records {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Appends record `i` of `other` (same fields) under the given id.
    pub(crate) fn append(&mut self, other: &Records, i: usize, id: String) {
        self.ids.push(id);
        self.sources.push(0);
        for (col, src) in self.columns.iter_mut().zip(&other.columns) {
            let v = src.get(i).map(|v| Standard {
                text: v.text.to_string(),
                aux: v.aux,
            });
            let present = v.is_some();
            col.push(v);
            col.freq.push(1);
            if present {
                col.non_null += 1;
            }
        }
    }

    /// Whether records from two inputs are being linked (rather than one deduplicated).
    pub fn is_link(&self) -> bool {
        self.link
    }
}

/// Builds [`Records`] from raw rows, standardising batches in parallel.
#[derive(Debug)]
pub struct RecordsBuilder {
    kinds: Vec<FieldKind>,
    region: Option<phonenumber::country::Id>,
    records: Records,
}

impl RecordsBuilder {
    /// A builder for the fields of `spec`.
    pub fn new(spec: &MatchSpec) -> Result<Self, MatchError> {
        let region = parse_region(&spec.default_region)
            .ok_or_else(|| MatchError::Region(spec.default_region.clone()))?;
        let kinds: Vec<FieldKind> = spec.fields.iter().map(|f| f.kind).collect();
        Ok(RecordsBuilder {
            records: Records {
                ids: Vec::new(),
                sources: Vec::new(),
                columns: kinds.iter().map(|&k| Column::new(k)).collect(),
                link: false,
            },
            kinds,
            region: Some(region),
        })
    }

    /// Standardises and appends a batch of rows.
    pub fn push_batch(&mut self, rows: Vec<RawRecord>) -> Result<(), MatchError> {
        let kinds = &self.kinds;
        let region = self.region;
        if let Some(bad) = rows.iter().find(|r| r.values.len() != kinds.len()) {
            return Err(MatchError::FieldCount {
                id: bad.id.clone(),
                expected: kinds.len(),
                found: bad.values.len(),
            });
        }
        let standardised: Vec<(String, u8, Vec<Option<Standard>>)> = rows
            .into_par_iter()
            .map(|r| {
                let values = r
                    .values
                    .iter()
                    .zip(kinds)
                    .map(|(raw, &kind)| standardise(kind, raw, region))
                    .collect();
                (r.id, r.source, values)
            })
            .collect();
        for (id, source, values) in standardised {
            self.records.ids.push(id);
            self.records.sources.push(source);
            for (col, v) in self.records.columns.iter_mut().zip(values) {
                col.push(v);
            }
        }
        Ok(())
    }

    /// Standardises and appends one row.
    pub fn push_one(&mut self, row: RawRecord) -> Result<(), MatchError> {
        if row.values.len() != self.kinds.len() {
            return Err(MatchError::FieldCount {
                id: row.id,
                expected: self.kinds.len(),
                found: row.values.len(),
            });
        }
        self.records.ids.push(row.id);
        self.records.sources.push(row.source);
        for ((col, raw), &kind) in self
            .records
            .columns
            .iter_mut()
            .zip(&row.values)
            .zip(&self.kinds)
        {
            col.push(standardise(kind, raw, self.region));
        }
        Ok(())
    }

    /// Finishes the records, counting value frequencies.
    pub fn finish(mut self) -> Records {
        self.records.link = self.records.sources.iter().any(|&s| s != 0);
        let count = |col: &mut Column| {
            let counts = col.value_counts();
            col.non_null = counts.values().sum();
            col.freq = col
                .hash
                .iter()
                .map(|h| counts.get(h).copied().unwrap_or(0))
                .collect();
        };
        // A real-time query standardises one record at a time; handing that to the thread pool
        // cost more in wake-ups than the counting itself.
        if self.records.ids.len() < 4096 {
            self.records.columns.iter_mut().for_each(count);
        } else {
            self.records.columns.par_iter_mut().for_each(count);
        }
        self.records
    }
}

/// Builds records from rows in one call (convenient for tests and small inputs).
pub fn build_records(spec: &MatchSpec, rows: Vec<RawRecord>) -> Result<Records, MatchError> {
    let mut b = RecordsBuilder::new(spec)?;
    b.push_batch(rows)?;
    Ok(b.finish())
}
