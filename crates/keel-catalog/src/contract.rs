//! Contracts, licences and how many of the seats bought are used.

use std::fmt;

use chrono::{Duration, NaiveDate};
use keel_manifests::{Problem, Reference, Spec, push_index};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An amount of money in minor units (cents) and an ISO 4217 currency code.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// The amount in minor units: 1250000 is 12,500.00.
    pub amount_minor: i64,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
}

impl Money {
    /// `amount_minor` in `currency`.
    pub fn new(amount_minor: i64, currency: &str) -> Self {
        Money {
            amount_minor,
            currency: currency.to_string(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        let units = abs / 100;
        let digits = units.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{} {sign}{grouped}.{:02}", self.currency, abs % 100)
    }
}

/// Whether `code` looks like an ISO 4217 currency code (three upper-case letters).
pub fn valid_currency(code: &str) -> bool {
    code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())
}

/// How often the contract's `cost` is billed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BillingPeriod {
    /// Every month.
    Monthly,
    /// Every quarter.
    Quarterly,
    /// Every year.
    Annual,
}

impl BillingPeriod {
    /// Billing periods in a year.
    pub fn per_year(self) -> i64 {
        match self {
            BillingPeriod::Monthly => 12,
            BillingPeriod::Quarterly => 4,
            BillingPeriod::Annual => 1,
        }
    }
}

/// A contract or licence (kind `Contract`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// Who it is with.
    pub vendor: String,
    /// The tools it pays for.
    pub tools: Vec<String>,
    /// Edition or plan, e.g. "Enterprise".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Seats bought, for per-seat licences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<u32>,
    /// Cost per billing period.
    pub cost: Money,
    /// How often `cost` is billed.
    pub billing_period: BillingPeriod,
    /// First day of the term.
    pub start: NaiveDate,
    /// Last day of the term.
    pub end: NaiveDate,
    /// Whether it renews unless notice is given.
    #[serde(default)]
    pub auto_renew: bool,
    /// Days before `end` by which notice must be given.
    #[serde(default)]
    pub notice_days: u32,
    /// Whether a data processing agreement is signed.
    #[serde(default)]
    pub dpa_signed: bool,
    /// Date of the last security review of the vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_review: Option<NaiveDate>,
    /// Service levels the vendor promises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    /// Who owns the data and how it comes back on exit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_ownership: Option<String>,
    /// Who manages the contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl Contract {
    /// The cost over one year, in the contract's currency.
    pub fn annual_cost(&self) -> Money {
        Money::new(
            self.cost
                .amount_minor
                .saturating_mul(self.billing_period.per_year()),
            &self.cost.currency,
        )
    }

    /// The last day on which notice can be given: `end` minus `notice_days`.
    pub fn notice_deadline(&self) -> NaiveDate {
        self.end - Duration::days(i64::from(self.notice_days))
    }

    /// Whether the contract runs on `day`.
    pub fn is_current(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }

    /// Whether the contract pays for `tool`.
    pub fn covers(&self, tool: &str) -> bool {
        self.tools.iter().any(|t| t == tool)
    }
}

impl Spec for Contract {
    const KIND: &'static str = "Contract";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.end < self.start {
            problems.push(Problem::error(
                "end",
                format!(
                    "the term ends ({}) before it starts ({})",
                    self.end, self.start
                ),
            ));
        }
        if !valid_currency(&self.cost.currency) {
            problems.push(Problem::error(
                "cost.currency",
                format!(
                    "`{}` is not an ISO 4217 currency code (e.g. USD, EUR)",
                    self.cost.currency
                ),
            ));
        }
        if self.cost.amount_minor < 0 {
            problems.push(Problem::error(
                "cost.amount_minor",
                "a cost cannot be negative",
            ));
        }
        if self.tools.is_empty() {
            problems.push(Problem::error(
                "tools",
                "a contract pays for at least one tool",
            ));
        }
        if self.seats == Some(0) {
            problems.push(Problem::error(
                "seats",
                "zero seats; leave `seats` out for licences that are not per seat",
            ));
        }
        problems
    }

    fn references(&self) -> Vec<Reference> {
        let mut out: Vec<Reference> = self
            .tools
            .iter()
            .enumerate()
            .map(|(i, t)| Reference::new(push_index("tools", i), "Tool", t))
            .collect();
        if let Some(owner) = &self.owner {
            out.push(Reference::new("owner", "Person", owner));
        }
        out
    }
}

/// How a tool's seats were used on one day (kind `UsageSnapshot`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageSnapshot {
    /// Which tool.
    pub tool: String,
    /// The day measured.
    pub taken_on: NaiveDate,
    /// Seats given to someone.
    pub seats_assigned: u32,
    /// Seats used in the last 30 days.
    pub seats_active: u32,
    /// Features people used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features_used: Vec<String>,
}

impl Spec for UsageSnapshot {
    const KIND: &'static str = "UsageSnapshot";

    fn validate(&self) -> Vec<Problem> {
        if self.seats_active > self.seats_assigned {
            vec![Problem::error(
                "seats_active",
                format!(
                    "{} active seats but only {} assigned",
                    self.seats_active, self.seats_assigned
                ),
            )]
        } else {
            Vec::new()
        }
    }

    fn references(&self) -> Vec<Reference> {
        vec![Reference::new("tool", "Tool", &self.tool)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn contract() -> Contract {
        Contract {
            vendor: "Acme".into(),
            tools: vec!["acme".into()],
            tier: None,
            seats: Some(10),
            cost: Money::new(100_000, "USD"),
            billing_period: BillingPeriod::Monthly,
            start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            auto_renew: true,
            notice_days: 60,
            dpa_signed: true,
            security_review: None,
            sla: None,
            data_ownership: None,
            owner: None,
        }
    }

    #[test]
    fn money_prints_grouped() {
        assert_eq!(Money::new(1_250_000, "USD").to_string(), "USD 12,500.00");
        assert_eq!(Money::new(-5, "EUR").to_string(), "EUR -0.05");
        assert_eq!(
            Money::new(123_456_789, "USD").to_string(),
            "USD 1,234,567.89"
        );
    }

    #[test]
    fn annual_cost_and_deadline() {
        let c = contract();
        assert_eq!(c.annual_cost(), Money::new(1_200_000, "USD"));
        assert_eq!(
            c.notice_deadline(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
        assert!(c.is_current(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()));
    }

    #[test]
    fn contract_checks() {
        let mut c = contract();
        c.end = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        c.cost.currency = "usd".into();
        c.seats = Some(0);
        let paths: Vec<String> = c.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, vec!["end", "cost.currency", "seats"]);
    }
}
