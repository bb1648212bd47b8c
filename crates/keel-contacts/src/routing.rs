//! Routing leads to sales (round robin, by territory, or to the account owner) as a pure
//! function, and the lead-quality report built from sales' accept/reject feedback.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ContactsError;
use crate::record::Record;

/// A sales rep who can receive leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rep {
    /// The rep's id (as the CRM knows it).
    pub id: String,
    /// Whether the rep takes new leads now (holiday, full pipeline).
    #[serde(default = "yes")]
    pub available: bool,
}

fn yes() -> bool {
    true
}

/// A territory: leads from these countries (and optionally states) go to these reps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Territory {
    /// Territory name, shown in the assignment reason.
    pub name: String,
    /// ISO alpha-2 country codes.
    pub countries: Vec<String>,
    /// States or regions; empty means the whole country.
    #[serde(default)]
    pub states: Vec<String>,
    /// Reps covering the territory, shared round robin.
    pub reps: Vec<String>,
}

/// How leads are assigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingPolicy {
    /// Every rep, in round-robin order.
    pub reps: Vec<Rep>,
    /// Territories, first match wins; leads matching none go round robin over all reps.
    #[serde(default)]
    pub territories: Vec<Territory>,
    /// Whether a lead whose account has an owner goes to that owner first.
    #[serde(default)]
    pub account_owner_first: bool,
}

/// Round-robin position, kept between calls by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingState {
    /// Next position per pool (`all` or a territory name).
    pub cursors: BTreeMap<String, usize>,
}

/// Who gets the lead and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The rep's id.
    pub rep: String,
    /// Why this rep, in words.
    pub reason: String,
}

/// Assigns a lead. `account_owner` is the owner of the lead's account, if known. Returns the
/// assignment and the next round-robin state; unavailable reps are skipped.
pub fn route(
    lead: &Record,
    account_owner: Option<&str>,
    policy: &RoutingPolicy,
    state: &RoutingState,
) -> Result<(Assignment, RoutingState), ContactsError> {
    let available = |id: &str| policy.reps.iter().any(|r| r.id == id && r.available);
    if policy.account_owner_first
        && let Some(owner) = account_owner
        && available(owner)
    {
        return Ok((
            Assignment {
                rep: owner.to_string(),
                reason: "owner of the lead's account".into(),
            },
            state.clone(),
        ));
    }
    let country = lead.text("country").unwrap_or_default();
    let region = lead.text("state").unwrap_or_default().to_lowercase();
    let territory = policy.territories.iter().find(|t| {
        t.countries.iter().any(|c| c.eq_ignore_ascii_case(country))
            && (t.states.is_empty() || t.states.iter().any(|s| s.to_lowercase() == region))
    });
    let (pool_name, pool, why): (String, Vec<&str>, String) = match territory {
        Some(t) => (
            format!("territory:{}", t.name),
            t.reps.iter().map(String::as_str).collect(),
            format!("territory {}", t.name),
        ),
        None => (
            "all".into(),
            policy.reps.iter().map(|r| r.id.as_str()).collect(),
            "round robin".into(),
        ),
    };
    let start = state.cursors.get(&pool_name).copied().unwrap_or(0);
    for step in 0..pool.len() {
        let i = (start + step) % pool.len();
        let Some(rep) = pool.get(i) else { continue };
        if available(rep) {
            let mut next = state.clone();
            next.cursors.insert(pool_name, (i + 1) % pool.len());
            return Ok((
                Assignment {
                    rep: (*rep).to_string(),
                    reason: why,
                },
                next,
            ));
        }
    }
    Err(ContactsError::NoRep(lead.id.clone()))
}

/// Sales' verdict on a routed lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadFeedback {
    /// The lead.
    pub lead_id: String,
    /// The lead's source (campaign, channel or system).
    pub source: String,
    /// Accepted, or rejected with a reason.
    pub accepted: bool,
    /// Why it was rejected (`bad contact data`, `student`, `competitor`, `no budget`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Lead quality of one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceQuality {
    /// The source.
    pub source: String,
    /// Leads with feedback.
    pub total: usize,
    /// Accepted by sales.
    pub accepted: usize,
    /// Rejected by sales.
    pub rejected: usize,
    /// accepted / total.
    pub acceptance_rate: f64,
    /// Rejections by reason (`unspecified` when none was given).
    pub rejection_reasons: BTreeMap<String, usize>,
}

/// Aggregates feedback into per-source lead quality, worst acceptance rate first.
pub fn lead_quality_report(feedback: &[LeadFeedback]) -> Vec<SourceQuality> {
    let mut by_source: BTreeMap<&str, SourceQuality> = BTreeMap::new();
    for f in feedback {
        let q = by_source
            .entry(f.source.as_str())
            .or_insert_with(|| SourceQuality {
                source: f.source.clone(),
                total: 0,
                accepted: 0,
                rejected: 0,
                acceptance_rate: 0.0,
                rejection_reasons: BTreeMap::new(),
            });
        q.total += 1;
        if f.accepted {
            q.accepted += 1;
        } else {
            q.rejected += 1;
            let reason = f
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .unwrap_or("unspecified")
                .to_lowercase();
            *q.rejection_reasons.entry(reason).or_insert(0) += 1;
        }
    }
    let mut out: Vec<SourceQuality> = by_source
        .into_values()
        .map(|mut q| {
            q.acceptance_rate = q.accepted as f64 / q.total as f64;
            q
        })
        .collect();
    out.sort_by(|a, b| {
        a.acceptance_rate
            .total_cmp(&b.acceptance_rate)
            .then_with(|| a.source.cmp(&b.source))
    });
    out
}

/// The acceptance SLA of an MQL hand-off: sales has this much business time to accept or
/// reject a lead.
pub const ACCEPTANCE_BUSINESS_HOURS: i64 = 24;

/// The business calendar the acceptance clock runs on when none is configured: Monday to
/// Friday, 09:00–17:00 US Eastern.
pub fn default_sales_calendar() -> keel_calendar::BusinessCalendarSpec {
    let day = || vec!["09:00-17:00".to_string()];
    keel_calendar::BusinessCalendarSpec {
        timezone: "America/New_York".into(),
        hours: keel_calendar::WeekHours {
            monday: day(),
            tuesday: day(),
            wednesday: day(),
            thursday: day(),
            friday: day(),
            saturday: Vec::new(),
            sunday: Vec::new(),
        },
        holidays: Vec::new(),
    }
}

/// When a hand-off started at `started_at` is due: [`ACCEPTANCE_BUSINESS_HOURS`] of business
/// time later on `calendar`.
pub fn acceptance_due(
    calendar: &keel_calendar::BusinessCalendarSpec,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, ContactsError> {
    let compiled = calendar
        .compile()
        .map_err(|e| ContactsError::Calendar(e.to_string()))?;
    compiled
        .add_business_time(
            started_at,
            chrono::TimeDelta::hours(ACCEPTANCE_BUSINESS_HOURS),
        )
        .map_err(|e| ContactsError::Calendar(e.to_string()))
}
