//! Hygiene: role and disposable addresses, suppression from bounces and complaints, the
//! inactivity sunset policy, and data quality scores (completeness, validity, uniqueness,
//! freshness) per field, per source and per object.
//!
//! The address lists are data files shipped with the crate (`data/*.txt`), so they can be
//! reviewed and extended without touching code.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

use crate::contract::CompiledContract;
use crate::record::Record;
use crate::value::FieldValue;

const ROLE_ADDRESSES: &str = include_str!("../data/role-addresses.txt");
const DISPOSABLE_DOMAINS: &str = include_str!("../data/disposable-domains.txt");

fn entries(list: &str) -> impl Iterator<Item = &str> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The role and disposable lists, loaded once and queried many times.
#[derive(Debug, Clone)]
pub struct AddressLists {
    role: BTreeSet<String>,
    disposable: BTreeSet<String>,
}

impl Default for AddressLists {
    /// The lists shipped with Keel.
    fn default() -> Self {
        Self::new(ROLE_ADDRESSES, DISPOSABLE_DOMAINS)
    }
}

/// What is notable about an address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressFlags {
    /// Reaches a function or team (`info@`, `sales@`), not a person.
    pub role: bool,
    /// Belongs to a throwaway mailbox service.
    pub disposable: bool,
}

impl AddressLists {
    /// Lists from text (one entry a line, `#` comments), e.g. extended by a workspace.
    pub fn new(role: &str, disposable: &str) -> Self {
        Self {
            role: entries(role).map(str::to_lowercase).collect(),
            disposable: entries(disposable).map(str::to_lowercase).collect(),
        }
    }

    /// Flags an address. Plus-addressing (`sales+emea@`) is ignored when checking roles, and
    /// subdomains of a disposable domain count as disposable.
    pub fn check(&self, email: &str) -> AddressFlags {
        let email = email.trim().to_lowercase();
        let Some((local, domain)) = email.rsplit_once('@') else {
            return AddressFlags::default();
        };
        let local = local.split('+').next().unwrap_or(local);
        let mut disposable = false;
        let mut d = domain;
        loop {
            if self.disposable.contains(d) {
                disposable = true;
                break;
            }
            match d.split_once('.') {
                Some((_, rest)) if rest.contains('.') => d = rest,
                _ => break,
            }
        }
        AddressFlags {
            role: self.role.contains(local),
            disposable,
        }
    }
}

/// A delivery outcome reported by an email service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    /// Delivered.
    Delivered,
    /// Temporary failure (mailbox full, greylisting).
    SoftBounce,
    /// Permanent failure (no such mailbox, domain does not exist).
    HardBounce,
    /// Marked as spam by the recipient.
    Complaint,
    /// Unsubscribed through a link or list-unsubscribe.
    Unsubscribe,
}

/// One delivery event for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryEvent {
    /// What happened.
    pub kind: DeliveryKind,
    /// When.
    pub at: DateTime<Utc>,
}

/// Why an address must not be mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// A hard bounce: the mailbox does not exist.
    HardBounce,
    /// A spam complaint.
    Complaint,
    /// The person unsubscribed.
    Unsubscribed,
    /// Too many soft bounces in a row.
    RepeatedSoftBounces,
}

/// A suppression and when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Why.
    pub reason: SuppressionReason,
    /// The event that caused it.
    pub since: DateTime<Utc>,
}

/// Decides whether delivery history suppresses an address. The earliest suppressing event
/// wins; `soft_bounce_limit` consecutive soft bounces (with no delivery in between) suppress.
pub fn suppression(events: &[DeliveryEvent], soft_bounce_limit: u32) -> Option<Suppression> {
    let mut sorted: Vec<&DeliveryEvent> = events.iter().collect();
    sorted.sort_by_key(|e| e.at);
    let mut soft = 0u32;
    for e in sorted {
        let reason = match e.kind {
            DeliveryKind::Delivered => {
                soft = 0;
                None
            }
            DeliveryKind::SoftBounce => {
                soft += 1;
                (soft_bounce_limit > 0 && soft >= soft_bounce_limit)
                    .then_some(SuppressionReason::RepeatedSoftBounces)
            }
            DeliveryKind::HardBounce => Some(SuppressionReason::HardBounce),
            DeliveryKind::Complaint => Some(SuppressionReason::Complaint),
            DeliveryKind::Unsubscribe => Some(SuppressionReason::Unsubscribed),
        };
        if let Some(reason) = reason {
            return Some(Suppression {
                reason,
                since: e.at,
            });
        }
    }
    None
}

/// An inactivity sunset policy: after `inactive_months` without engagement a contact enters
/// re-engagement; if it does not engage within `re_engagement_days`, it is sunset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SunsetPolicy {
    /// Months without engagement before re-engagement starts.
    pub inactive_months: u32,
    /// Days re-engagement lasts before the contact is sunset.
    pub re_engagement_days: u32,
}

/// Where a contact stands under a sunset policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum SunsetStatus {
    /// Engaged recently enough.
    Active,
    /// Inactive; start the re-engagement campaign now.
    StartReEngagement,
    /// In re-engagement until the given time.
    ReEngaging {
        /// When re-engagement ends.
        until: DateTime<Utc>,
    },
    /// Did not re-engage: stop mailing.
    Sunset,
}

impl SunsetPolicy {
    /// Classifies a contact. `last_engaged` falls back to `created` for contacts that never
    /// engaged; engagement after re-engagement started makes the contact active again.
    pub fn classify(
        &self,
        created: DateTime<Utc>,
        last_engaged: Option<DateTime<Utc>>,
        re_engagement_started: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> SunsetStatus {
        let last = last_engaged.unwrap_or(created).max(created);
        let inactive_from = last
            .checked_add_months(Months::new(self.inactive_months))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if now < inactive_from {
            return SunsetStatus::Active;
        }
        match re_engagement_started {
            Some(started) if started >= last => {
                let until = started + Duration::days(i64::from(self.re_engagement_days));
                if now < until {
                    SunsetStatus::ReEngaging { until }
                } else {
                    SunsetStatus::Sunset
                }
            }
            _ => SunsetStatus::StartReEngagement,
        }
    }
}

/// Quality scores, each a share between 0 and 1; `None` when it does not apply
/// (e.g. uniqueness of a field not declared unique, or no values to judge).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct QualityScores {
    /// Share of records that have a value.
    pub completeness: Option<f64>,
    /// Share of values that satisfy the contract.
    pub validity: Option<f64>,
    /// Share of values no other record shares (fields declared `unique`).
    pub uniqueness: Option<f64>,
    /// Share of values observed within the freshness window.
    pub freshness: Option<f64>,
}

/// Quality scores of a set of records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Records scored.
    pub records: usize,
    /// Means over the fields, for the whole object.
    pub object: QualityScores,
    /// Per contract field.
    pub by_field: BTreeMap<String, QualityScores>,
    /// Per source system (the record's `source`), means over the fields.
    pub by_source: BTreeMap<String, QualityScores>,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    records: usize,
    present: usize,
    valid: usize,
    unique: usize,
    fresh: usize,
}

impl Tally {
    fn scores(&self, unique_applies: bool) -> QualityScores {
        let share = |n: usize, of: usize| (of > 0).then(|| n as f64 / of as f64);
        QualityScores {
            completeness: share(self.present, self.records),
            validity: share(self.valid, self.present),
            uniqueness: if unique_applies {
                share(self.unique, self.present)
            } else {
                None
            },
            freshness: share(self.fresh, self.present),
        }
    }
}

fn mean(scores: &[QualityScores]) -> QualityScores {
    let avg = |f: fn(&QualityScores) -> Option<f64>| {
        let v: Vec<f64> = scores.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    QualityScores {
        completeness: avg(|s| s.completeness),
        validity: avg(|s| s.validity),
        uniqueness: avg(|s| s.uniqueness),
        freshness: avg(|s| s.freshness),
    }
}

/// Scores `records` against the contract's fields as of `now`; values whose lineage is older
/// than `fresh_days` are stale.
pub fn quality_report(
    records: &[Record],
    contract: &CompiledContract,
    now: DateTime<Utc>,
    fresh_days: u32,
) -> QualityReport {
    let fresh_since = now - Duration::days(i64::from(fresh_days));
    let mut counts: Vec<HashMap<&FieldValue, usize>> = vec![HashMap::new(); contract.fields.len()];
    for r in records {
        for (i, f) in contract.fields.iter().enumerate() {
            if let (true, Some(v)) = (f.spec.unique, r.get(&f.spec.name))
                && let Some(c) = counts.get_mut(i)
            {
                *c.entry(v).or_insert(0) += 1;
            }
        }
    }
    // Tallies per field, overall and per source.
    let mut overall = vec![Tally::default(); contract.fields.len()];
    let mut per_source: BTreeMap<&str, Vec<Tally>> = BTreeMap::new();
    for r in records {
        let source = per_source
            .entry(r.source.as_str())
            .or_insert_with(|| vec![Tally::default(); contract.fields.len()]);
        for (i, f) in contract.fields.iter().enumerate() {
            let mut t = Tally {
                records: 1,
                ..Tally::default()
            };
            if let Some(v) = r.get(&f.spec.name) {
                t.present = 1;
                t.valid = usize::from(contract.check_value(&f.spec.name, v).is_ok());
                t.unique = usize::from(counts.get(i).and_then(|c| c.get(v)).copied() == Some(1));
                t.fresh = usize::from(
                    r.lineage
                        .get(&f.spec.name)
                        .is_some_and(|l| l.at >= fresh_since),
                );
            }
            for tally in [overall.get_mut(i), source.get_mut(i)]
                .into_iter()
                .flatten()
            {
                tally.records += t.records;
                tally.present += t.present;
                tally.valid += t.valid;
                tally.unique += t.unique;
                tally.fresh += t.fresh;
            }
        }
    }
    let field_scores: Vec<QualityScores> = contract
        .fields
        .iter()
        .zip(&overall)
        .map(|(f, t)| t.scores(f.spec.unique))
        .collect();
    QualityReport {
        records: records.len(),
        object: mean(&field_scores),
        by_field: contract
            .fields
            .iter()
            .map(|f| f.spec.name.clone())
            .zip(field_scores.iter().copied())
            .collect(),
        by_source: per_source
            .into_iter()
            .map(|(s, tallies)| {
                let scores: Vec<QualityScores> = contract
                    .fields
                    .iter()
                    .zip(&tallies)
                    .map(|(f, t)| t.scores(f.spec.unique))
                    .collect();
                (s.to_string(), mean(&scores))
            })
            .collect(),
    }
}
