//! Blocking: which pairs of records are compared at all.
//!
//! Several rules are OR-ed; each groups records by a key built from one or more fields, and
//! every pair inside a group is a candidate. A pair found by an earlier rule is not produced
//! again by a later one (checked by comparing the earlier rules' keys, so no set of pairs is
//! held in memory). Groups larger than `max_block_size` are skipped and reported.

use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use rustc_hash::FxHasher;
use serde::Serialize;

use crate::config::{FieldKind, FieldSpec};
use crate::records::Records;
use crate::standardise::formal_name;

/// How one field contributes to a blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTransform {
    /// The whole standardised value.
    Full,
    /// The first N characters.
    Prefix(usize),
    /// The last N characters.
    Suffix(usize),
    /// The formal form of a given name (Bob → robert).
    Formal,
    /// An email's local part.
    Local,
    /// An email's domain.
    Domain,
}

/// One part of a blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPart {
    /// Field index.
    pub field: usize,
    /// Transformation applied.
    pub transform: KeyTransform,
}

/// A blocking rule: records with equal keys are compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingRule {
    /// The rule as written (`first_name:formal & last_name`).
    pub text: String,
    /// The key parts, all of which must be present.
    pub parts: Vec<KeyPart>,
}

impl BlockingRule {
    /// Parses `column[:transform] & column[:transform] …`, where a transform is `prefixN`,
    /// `suffixN`, `formal`, `local` or `domain`.
    pub fn parse(text: &str, fields: &[FieldSpec]) -> Result<Self, String> {
        let mut parts = Vec::new();
        for raw in text.split('&').map(str::trim) {
            let (column, transform) = raw.split_once(':').unwrap_or((raw, ""));
            let column = column.trim();
            let field = fields
                .iter()
                .position(|f| f.column == column)
                .ok_or_else(|| {
                    format!(
                        "blocking rule `{text}` names `{column}`, which is not a configured field"
                    )
                })?;
            let t = transform.trim();
            let number =
                |prefix: &str| t.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
            let transform = if t.is_empty() {
                KeyTransform::Full
            } else if let Some(n) = number("prefix") {
                KeyTransform::Prefix(n)
            } else if let Some(n) = number("suffix") {
                KeyTransform::Suffix(n)
            } else {
                match t {
                    "formal" => KeyTransform::Formal,
                    "local" => KeyTransform::Local,
                    "domain" => KeyTransform::Domain,
                    _ => {
                        return Err(format!(
                            "unknown key transform `{t}` in `{text}`; use prefixN, suffixN, formal, local or domain"
                        ));
                    }
                }
            };
            parts.push(KeyPart { field, transform });
        }
        if parts.is_empty() {
            return Err("empty blocking rule".into());
        }
        Ok(BlockingRule {
            text: text.to_string(),
            parts,
        })
    }

    /// The key of record `i`, `None` when a part is missing.
    pub fn key(&self, records: &Records, i: usize) -> Option<u64> {
        let mut h = FxHasher::default();
        for part in &self.parts {
            let v = records.columns.get(part.field)?.get(i)?;
            let t = v.text;
            let piece: &str = match part.transform {
                KeyTransform::Full => t,
                KeyTransform::Prefix(n) => t.get(..n).unwrap_or(t),
                KeyTransform::Suffix(n) => t.get(t.len().saturating_sub(n)..).unwrap_or(t),
                KeyTransform::Formal => formal_name(t, v.aux),
                KeyTransform::Local => t.rsplit_once('@').map_or(t, |(l, _)| l),
                KeyTransform::Domain => t.rsplit_once('@').map_or(t, |(_, d)| d),
            };
            piece.hash(&mut h);
            0xffu8.hash(&mut h);
        }
        Some(h.finish().max(1))
    }

    /// Readable key value of record `i` (for the blocking report).
    pub fn key_text(&self, records: &Records, i: usize) -> String {
        self.parts
            .iter()
            .map(|p| {
                records
                    .columns
                    .get(p.field)
                    .and_then(|c| c.get(i))
                    .map_or(String::new(), |v| v.text.to_string())
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// Blocking rules derived from the field kinds when none are configured.
pub fn default_rules(fields: &[FieldSpec]) -> Vec<String> {
    let col = |k: FieldKind| {
        fields
            .iter()
            .find(|f| f.kind == k)
            .map(|f| f.column.clone())
    };
    let mut rules = Vec::new();
    let first = col(FieldKind::FirstName);
    let last = col(FieldKind::LastName);
    let full = col(FieldKind::Name);
    if let Some(e) = col(FieldKind::Email) {
        rules.push(e.clone());
    }
    if let Some(p) = col(FieldKind::Phone) {
        rules.push(format!("{p}:suffix7"));
    }
    if let (Some(f), Some(l)) = (&first, &last) {
        rules.push(format!("{f}:formal & {l}"));
        rules.push(format!("{f}:formal & {l}:prefix3"));
        if let Some(d) = col(FieldKind::Date) {
            rules.push(format!("{f}:prefix1 & {d}"));
        }
        if let Some(z) = col(FieldKind::Postcode) {
            rules.push(format!("{l} & {z}"));
        }
        if let Some(c) = col(FieldKind::Company) {
            rules.push(format!("{f}:formal & {c}"));
        }
    } else if let Some(n) = &full {
        rules.push(n.clone());
        if let Some(z) = col(FieldKind::Postcode) {
            rules.push(format!("{n}:prefix3 & {z}"));
        }
    }
    if rules.is_empty()
        && let Some(f) = fields.first()
    {
        rules.push(f.column.clone());
    }
    rules
}

/// Per-rule statistics shown before (and after) a run.
#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    /// The rule.
    pub rule: String,
    /// Number of groups with at least two records.
    pub blocks: usize,
    /// Pairs inside this rule's groups (before removing pairs of earlier rules).
    pub comparisons: u64,
    /// Groups skipped for exceeding the size limit.
    pub skipped_blocks: usize,
    /// Records in skipped groups.
    pub skipped_records: usize,
    /// The largest groups: key value and size.
    pub largest: Vec<(String, usize)>,
}

/// The cost of a blocking configuration.
#[derive(Debug, Clone, Serialize)]
pub struct BlockingReport {
    /// One entry per rule.
    pub rules: Vec<RuleReport>,
    /// Sum of per-rule comparisons (an upper bound of distinct pairs).
    pub total_comparisons: u64,
}

/// Blocked records: per rule, the records sorted by key, and the groups.
#[derive(Debug)]
pub struct Blocks {
    /// Per rule and record: the key, or 0 when missing or in a skipped group.
    pub keys: Vec<Vec<u64>>,
    /// Candidate groups: (rule, record indices).
    pub groups: Vec<(usize, Vec<u32>)>,
    /// The report.
    pub report: BlockingReport,
}

fn pairs_in(group: &[u32], records: &Records) -> u64 {
    if records.is_link() {
        let a = group
            .iter()
            .filter(|&&i| records.sources.get(i as usize) == Some(&0))
            .count() as u64;
        a * (group.len() as u64 - a)
    } else {
        let n = group.len() as u64;
        n * n.saturating_sub(1) / 2
    }
}

/// Computes keys and groups for every rule.
pub fn block(records: &Records, rules: &[BlockingRule], max_block_size: usize) -> Blocks {
    let mut keys = Vec::with_capacity(rules.len());
    let mut groups = Vec::new();
    let mut reports = Vec::new();
    for (r, rule) in rules.iter().enumerate() {
        let mut rule_keys: Vec<u64> = (0..records.len())
            .into_par_iter()
            .map(|i| rule.key(records, i).unwrap_or(0))
            .collect();
        let mut order: Vec<(u64, u32)> = rule_keys
            .iter()
            .enumerate()
            .filter(|(_, k)| **k != 0)
            .map(|(i, &k)| (k, i as u32))
            .collect();
        order.par_sort_unstable();
        let mut report = RuleReport {
            rule: rule.text.clone(),
            blocks: 0,
            comparisons: 0,
            skipped_blocks: 0,
            skipped_records: 0,
            largest: Vec::new(),
        };
        let mut sizes: Vec<(usize, u32)> = Vec::new();
        for chunk in order.chunk_by(|a, b| a.0 == b.0) {
            if chunk.len() < 2 {
                continue;
            }
            let first = chunk.first().map_or(0, |c| c.1);
            sizes.push((chunk.len(), first));
            if chunk.len() > max_block_size {
                report.skipped_blocks += 1;
                report.skipped_records += chunk.len();
                for &(_, i) in chunk {
                    if let Some(k) = rule_keys.get_mut(i as usize) {
                        *k = 0;
                    }
                }
                continue;
            }
            let members: Vec<u32> = chunk.iter().map(|c| c.1).collect();
            let n = pairs_in(&members, records);
            if n == 0 {
                continue;
            }
            report.blocks += 1;
            report.comparisons += n;
            groups.push((r, members));
        }
        sizes.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
        report.largest = sizes
            .iter()
            .take(5)
            .map(|&(n, i)| (rule.key_text(records, i as usize), n))
            .collect();
        keys.push(rule_keys);
        reports.push(report);
    }
    let total_comparisons = reports.iter().map(|r| r.comparisons).sum();
    Blocks {
        keys,
        groups,
        report: BlockingReport {
            rules: reports,
            total_comparisons,
        },
    }
}

impl Blocks {
    /// Whether the pair was already produced by a rule before `rule`.
    pub fn seen_earlier(&self, rule: usize, a: usize, b: usize) -> bool {
        self.keys.iter().take(rule).any(|k| {
            let ka = k.get(a).copied().unwrap_or(0);
            ka != 0 && Some(&ka) == k.get(b)
        })
    }

    /// Calls `f(a, b)` for every distinct candidate pair in group `g` (a < b; in link mode `a`
    /// is from the first input).
    pub fn for_each_pair_in(&self, g: usize, records: &Records, f: impl FnMut(usize, usize)) {
        self.pairs_in_group(g, records, true, f);
    }

    /// Like [`Blocks::for_each_pair_in`], optionally keeping pairs an earlier rule also found.
    pub fn pairs_in_group(
        &self,
        g: usize,
        records: &Records,
        dedupe: bool,
        mut f: impl FnMut(usize, usize),
    ) {
        let Some((rule, members)) = self.groups.get(g) else {
            return;
        };
        let link = records.is_link();
        for (x, &i) in members.iter().enumerate() {
            for &j in members.iter().skip(x + 1) {
                let (a, b) = if i < j {
                    (i as usize, j as usize)
                } else {
                    (j as usize, i as usize)
                };
                if link && records.sources.get(a) == records.sources.get(b) {
                    continue;
                }
                if dedupe && self.seen_earlier(*rule, a, b) {
                    continue;
                }
                f(a, b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MatchSpec;
    use crate::records::{RawRecord, build_records};

    fn spec() -> MatchSpec {
        let f = |c: &str, k| FieldSpec {
            column: c.into(),
            kind: k,
            role: None,
            tf: None,
            thresholds: None,
        };
        MatchSpec::with_fields(vec![
            f("first", FieldKind::FirstName),
            f("last", FieldKind::LastName),
            f("email", FieldKind::Email),
        ])
    }

    fn rec(id: &str, v: [&str; 3]) -> RawRecord {
        RawRecord {
            id: id.into(),
            source: 0,
            values: v.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn rules_are_ored_and_pairs_deduplicated() {
        let s = spec();
        let recs = build_records(
            &s,
            vec![
                rec("1", ["Bob", "Smith", "b@x.com"]),
                rec("2", ["Robert", "Smith", "b@x.com"]),
                rec("3", ["Rob", "Smith", ""]),
                rec("4", ["Ann", "Lee", "a@y.com"]),
            ],
        )
        .unwrap();
        let rules: Vec<_> = ["email", "first:formal & last"]
            .iter()
            .map(|r| BlockingRule::parse(r, &s.fields).unwrap())
            .collect();
        let blocks = block(&recs, &rules, 100);
        let mut pairs = Vec::new();
        for g in 0..blocks.groups.len() {
            blocks.for_each_pair_in(g, &recs, |a, b| pairs.push((a, b)));
        }
        pairs.sort_unstable();
        assert_eq!(pairs, [(0, 1), (0, 2), (1, 2)]);
        assert_eq!(blocks.report.rules[0].comparisons, 1);
        assert_eq!(blocks.report.rules[1].comparisons, 3);
    }

    #[test]
    fn oversized_blocks_are_skipped_and_reported() {
        let s = spec();
        let rows = (0..5)
            .map(|i| rec(&i.to_string(), ["Ann", "Lee", ""]))
            .collect();
        let recs = build_records(&s, rows).unwrap();
        let rules = vec![BlockingRule::parse("last", &s.fields).unwrap()];
        let blocks = block(&recs, &rules, 3);
        assert!(blocks.groups.is_empty());
        assert_eq!(blocks.report.rules[0].skipped_blocks, 1);
        assert_eq!(blocks.report.rules[0].largest, [("lee".to_string(), 5)]);
    }

    #[test]
    fn bad_rules_are_explained() {
        let s = spec();
        assert!(
            BlockingRule::parse("nope", &s.fields)
                .unwrap_err()
                .contains("nope")
        );
        assert!(
            BlockingRule::parse("first:weird", &s.fields)
                .unwrap_err()
                .contains("weird")
        );
        assert_eq!(default_rules(&s.fields)[0], "email");
    }
}
