//! Small catalogs built in code for unit tests.

use chrono::NaiveDate;
use keel_manifests::Metadata;

use crate::catalog::{Catalog, Entry};
use crate::contract::{BillingPeriod, Contract, Money, UsageSnapshot};
use crate::people::{Person, PersonStatus};
use crate::tool::{Category, Lifecycle, Tool};

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn today() -> NaiveDate {
    day(2026, 11, 22)
}

pub fn entry<T>(name: &str, spec: T) -> Entry<T> {
    Entry {
        metadata: Metadata::named(name),
        spec,
    }
}

pub fn person(catalog: &mut Catalog, name: &str, active: bool) {
    catalog.people.insert(
        name.into(),
        entry(
            name,
            Person {
                full_name: name.into(),
                email: format!("{name}@example.com"),
                team: None,
                title: None,
                status: if active {
                    PersonStatus::Active
                } else {
                    PersonStatus::Left
                },
                left_on: None,
            },
        ),
    );
}

pub fn tool<'a>(catalog: &'a mut Catalog, name: &str, categories: &[Category]) -> &'a mut Tool {
    let mut t = Tool::new(name, "Vendor", Lifecycle::Live);
    t.categories = categories.to_vec();
    catalog.tools.insert(name.into(), entry(name, t));
    &mut catalog.tools.get_mut(name).unwrap().spec
}

pub fn contract<'a>(
    catalog: &'a mut Catalog,
    name: &str,
    tools: &[&str],
    annual_minor: i64,
    seats: Option<u32>,
) -> &'a mut Contract {
    let c = Contract {
        vendor: "Vendor".into(),
        tools: tools.iter().map(|t| t.to_string()).collect(),
        tier: None,
        seats,
        cost: Money::new(annual_minor, "USD"),
        billing_period: BillingPeriod::Annual,
        start: day(2026, 1, 1),
        end: day(2026, 12, 31),
        auto_renew: true,
        notice_days: 30,
        dpa_signed: true,
        security_review: None,
        sla: None,
        data_ownership: None,
        owner: None,
    };
    catalog.contracts.insert(name.into(), entry(name, c));
    &mut catalog.contracts.get_mut(name).unwrap().spec
}

pub fn usage(catalog: &mut Catalog, tool: &str, taken_on: NaiveDate, assigned: u32, active: u32) {
    let name = format!("{tool}-{taken_on}");
    catalog.usage.insert(
        name.clone(),
        entry(
            &name,
            UsageSnapshot {
                tool: tool.into(),
                taken_on,
                seats_assigned: assigned,
                seats_active: active,
                features_used: vec![],
            },
        ),
    );
}
