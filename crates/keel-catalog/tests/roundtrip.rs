//! Properties of plans and export over generated catalogs: applying a plan reaches the desired
//! state (so planning again is empty), and export → load gives back exactly what was exported.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use keel_catalog::*;
use keel_manifests::{Layout, Metadata, apply, export, load, plan};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        "\\PC{0,16}",
        select(vec![
            "yes",
            "no",
            "null",
            "~",
            "123",
            "-7",
            "1e3",
            "0x1F",
            "- item",
            "a: b",
            "#x",
            " lead",
            "trail ",
            "multi\nline\n",
            "'quoted\"",
            "2026-01-01",
            "",
            "@at",
            "tab\there",
            "[x]",
            "{y}",
            "*star",
            "&amp",
            "!tag",
            "%p",
            "|",
            ">",
            "true",
            "ümlaut ✓",
        ])
        .prop_map(str::to_string),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (2000i32..2100, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default())
}

fn metadata(name: String) -> impl Strategy<Value = Metadata> {
    (
        proptest::option::of(text()),
        proptest::collection::btree_map("[a-z]{1,6}", text(), 0..2),
    )
        .prop_map(move |(description, labels)| Metadata {
            name: name.clone(),
            description,
            labels,
            annotations: BTreeMap::new(),
        })
}

const PEOPLE: [&str; 3] = ["ann", "bob", "cy"];
const TOOLS: [&str; 4] = ["crm", "map", "dwh", "bi"];

fn person_name() -> impl Strategy<Value = String> {
    select(PEOPLE.to_vec()).prop_map(str::to_string)
}

fn tool_name() -> impl Strategy<Value = String> {
    select(TOOLS.to_vec()).prop_map(str::to_string)
}

fn people_list() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(person_name(), 0..3)
}

fn field() -> impl Strategy<Value = FieldRef> {
    (tool_name(), "[A-Za-z]{1,6}", "[A-Za-z_]{1,8}").prop_map(|(t, o, f)| FieldRef::new(&t, &o, &f))
}

fn person() -> impl Strategy<Value = Person> {
    (
        text(),
        "[a-z]{1,5}@[a-z]{1,5}\\.com",
        proptest::option::of(Just("ops".to_string())),
        proptest::option::of(text()),
        any::<bool>(),
        proptest::option::of(date()),
    )
        .prop_map(|(full_name, email, team, title, active, left_on)| Person {
            full_name,
            email,
            team,
            title,
            status: if active {
                PersonStatus::Active
            } else {
                PersonStatus::Left
            },
            left_on,
        })
}

const CATEGORIES: [Category; 6] = [
    Category::Email,
    Category::Crm,
    Category::Bi,
    Category::Middleware,
    Category::DataWarehouse,
    Category::Ads,
];
const LIFECYCLES: [Lifecycle; 5] = [
    Lifecycle::Evaluating,
    Lifecycle::Implementing,
    Lifecycle::Live,
    Lifecycle::Deprecated,
    Lifecycle::Retired,
];

fn tool() -> impl Strategy<Value = Tool> {
    (
        (
            text(),
            text(),
            subsequence(CATEGORIES.to_vec(), 0..4),
            select(LIFECYCLES.to_vec()),
        ),
        (people_list(), people_list(), people_list()),
        proptest::collection::vec(proptest::option::of(text()), 5),
        (
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(text()),
            people_list(),
            proptest::option::of(date()),
        ),
        proptest::collection::vec((text(), proptest::option::of(text()), people_list()), 0..2),
        proptest::collection::vec((text(), text()), 0..2),
    )
        .prop_map(
            |(
                (display_name, vendor, categories, lifecycle),
                (platform, service, support),
                links,
                gov,
                roles,
                metrics,
            )| {
                let mut t = Tool::new(&display_name, &vendor, lifecycle);
                t.categories = categories;
                t.owners = Owners {
                    platform,
                    service,
                    support,
                };
                t.links = Links {
                    docs: links[0].clone(),
                    runbook: links[1].clone(),
                    intake: links[2].clone(),
                    support: links[3].clone(),
                    release_process: links[4].clone(),
                };
                t.holds_pii = gov.0;
                t.sso = gov.1;
                t.governance = Governance {
                    policy: gov.2,
                    approvers: gov.3,
                    access_review: gov.4,
                };
                t.roles = roles
                    .into_iter()
                    .map(|(role, responsibilities, people)| Role {
                        role,
                        responsibilities,
                        people,
                        teams: vec![],
                    })
                    .collect();
                t.success_metrics = metrics
                    .into_iter()
                    .map(|(name, target)| SuccessMetric { name, target })
                    .collect();
                t
            },
        )
}

fn integration() -> impl Strategy<Value = Integration> {
    (
        (tool_name(), tool_name(), any::<bool>(), any::<bool>()),
        proptest::collection::vec(
            (
                "[A-Za-z]{1,6}",
                "[A-Za-z]{1,6}",
                proptest::collection::vec(("[A-Za-z]{1,5}", "[A-Za-z]{1,5}"), 0..3),
            ),
            0..2,
        ),
        (
            proptest::option::of(person_name()),
            proptest::option::of(text()),
        ),
    )
        .prop_map(
            |((from, to, middleware, two_way), objects, (owner, docs))| Integration {
                from,
                to,
                kind: if middleware {
                    IntegrationKind::Middleware
                } else {
                    IntegrationKind::Native
                },
                via: middleware.then(|| "dwh".to_string()),
                direction: if two_way {
                    Direction::TwoWay
                } else {
                    Direction::OneWay
                },
                objects: objects
                    .into_iter()
                    .map(|(from, to, fields)| ObjectMapping {
                        from,
                        to,
                        fields: fields
                            .into_iter()
                            .map(|(from, to)| FieldMapping { from, to })
                            .collect(),
                    })
                    .collect(),
                frequency: Frequency::Every15Minutes,
                owner,
                status: IntegrationStatus::Active,
                docs,
            },
        )
}

fn automation() -> impl Strategy<Value = Automation> {
    (
        tool_name(),
        text(),
        proptest::collection::vec(
            (
                text(),
                tool_name(),
                proptest::collection::vec(field(), 0..2),
                proptest::collection::vec(field(), 0..2),
            ),
            1..3,
        ),
        proptest::option::of(person_name()),
        proptest::option::of(time()),
        any::<u16>(),
    )
        .prop_map(
            |(platform, trigger, steps, owner, last_run, runs)| Automation {
                platform,
                trigger,
                steps: steps
                    .into_iter()
                    .map(|(action, tool, reads, writes)| Step {
                        action,
                        tool,
                        reads,
                        writes,
                    })
                    .collect(),
                owner,
                docs: None,
                status: AutomationStatus::Active,
                runs: RunHistory {
                    last_run,
                    runs_30d: u32::from(runs),
                    failures_30d: u32::from(runs / 3),
                },
            },
        )
}

fn contract() -> impl Strategy<Value = Contract> {
    (
        (
            text(),
            proptest::collection::vec(tool_name(), 1..3),
            proptest::option::of(text()),
            proptest::option::of(1u32..10_000),
        ),
        (
            any::<i64>(),
            select(vec!["USD", "EUR"]),
            select(vec![
                BillingPeriod::Monthly,
                BillingPeriod::Quarterly,
                BillingPeriod::Annual,
            ]),
        ),
        (
            date(),
            date(),
            any::<bool>(),
            any::<u32>(),
            any::<bool>(),
            proptest::option::of(date()),
        ),
        (
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(person_name()),
        ),
    )
        .prop_map(
            |(
                (vendor, tools, tier, seats),
                (amount, currency, billing_period),
                (start, end, auto_renew, notice_days, dpa_signed, security_review),
                (sla, data_ownership, owner),
            )| Contract {
                vendor,
                tools,
                tier,
                seats,
                cost: Money::new(amount, currency),
                billing_period,
                start,
                end,
                auto_renew,
                notice_days,
                dpa_signed,
                security_review,
                sla,
                data_ownership,
                owner,
            },
        )
}

fn usage() -> impl Strategy<Value = UsageSnapshot> {
    (
        tool_name(),
        date(),
        any::<u32>(),
        any::<u32>(),
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(
            |(tool, taken_on, seats_assigned, seats_active, features_used)| UsageSnapshot {
                tool,
                taken_on,
                seats_assigned,
                seats_active,
                features_used,
            },
        )
}

fn affected() -> impl Strategy<Value = Affected> {
    proptest::collection::vec(tool_name(), 1..3).prop_map(|tools| Affected {
        tools,
        ..Affected::default()
    })
}

fn change() -> impl Strategy<Value = ChangeRecord> {
    (
        text(),
        text(),
        proptest::option::of(person_name()),
        date(),
        proptest::option::of(date()),
        proptest::option::of(text()),
        affected(),
    )
        .prop_map(
            |(what, why, approver, planned_for, rolled_out_on, rollback_plan, affects)| {
                ChangeRecord {
                    what,
                    why,
                    risk: Risk::Medium,
                    requested_by: None,
                    approver,
                    status: ChangeStatus::RolledOut,
                    planned_for,
                    rolled_out_on,
                    rolled_back_on: None,
                    rollback_plan,
                    affects,
                }
            },
        )
}

fn incident() -> impl Strategy<Value = Incident> {
    (
        text(),
        time(),
        proptest::option::of(time()),
        affected(),
        proptest::collection::vec((time(), text()), 0..3),
        proptest::option::of(text()),
    )
        .prop_map(
            |(title, started_at, resolved_at, affects, timeline, resolution)| Incident {
                title,
                severity: Severity::Sev3,
                started_at,
                resolved_at,
                owner: None,
                affects,
                timeline: timeline
                    .into_iter()
                    .map(|(at, note)| TimelineEntry { at, note })
                    .collect(),
                resolution,
            },
        )
}

fn dashboard() -> impl Strategy<Value = Dashboard> {
    (
        tool_name(),
        proptest::collection::vec(tool_name(), 0..2),
        proptest::collection::vec(field(), 0..3),
        proptest::option::of(text()),
    )
        .prop_map(|(tool, tools, fields, url)| Dashboard {
            tool,
            reads: Reads { tools, fields },
            owner: None,
            url,
        })
}

fn entries<T: std::fmt::Debug + Clone + 'static>(
    prefix: &'static str,
    names: &'static [&'static str],
    spec: impl Strategy<Value = T> + Clone + 'static,
) -> impl Strategy<Value = Entries<T>> {
    subsequence(names.to_vec(), 0..=names.len())
        .prop_flat_map(move |chosen| {
            chosen
                .into_iter()
                .map(|n| {
                    let name = if prefix.is_empty() {
                        n.to_string()
                    } else {
                        format!("{prefix}-{n}")
                    };
                    (metadata(name.clone()), spec.clone())
                        .prop_map(move |(metadata, spec)| (name.clone(), Entry { metadata, spec }))
                })
                .collect::<Vec<_>>()
        })
        .prop_map(|v| v.into_iter().collect())
}

const IDS: [&str; 2] = ["one", "two"];

fn catalog() -> impl Strategy<Value = Catalog> {
    (
        (
            entries("", &PEOPLE, person().boxed()),
            entries("", &TOOLS, tool().boxed()),
            entries("i", &IDS, integration().boxed()),
        ),
        (
            entries("a", &IDS, automation().boxed()),
            entries("c", &IDS, contract().boxed()),
            entries("u", &IDS, usage().boxed()),
        ),
        (
            entries("d", &IDS, dashboard().boxed()),
            entries("chg", &IDS, change().boxed()),
            entries("inc", &IDS, incident().boxed()),
        ),
    )
        .prop_map(
            |(
                (people, tools, integrations),
                (automations, contracts, usage),
                (dashboards, changes, incidents),
            )| Catalog {
                people,
                teams: Entries::new(),
                tools,
                integrations,
                automations,
                contracts,
                usage,
                dashboards,
                changes,
                incidents,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn export_then_load_is_the_same_state(catalog in catalog(), per_object in any::<bool>()) {
        let registry = registry();
        let documents = catalog.to_documents().unwrap();
        let layout = if per_object { Layout::FilePerObject } else { Layout::FilePerKind };
        let files = export(&registry, &documents, layout).unwrap();
        let loaded = load(&files, &registry);
        let syntax: Vec<String> = loaded.diagnostics.iter().filter(|d| d.message.starts_with("YAML") || d.message.contains("expected")).map(ToString::to_string).collect();
        prop_assert!(syntax.is_empty(), "{:#?}\n{}", syntax, files.iter().map(|f| f.text.as_str()).collect::<String>());
        let p = plan(&documents, &loaded.documents());
        prop_assert!(p.is_empty(), "{}", p);
        prop_assert_eq!(Catalog::from_loaded(&loaded), catalog);
    }

    #[test]
    fn apply_then_plan_is_empty(current in catalog(), desired in catalog()) {
        let current_docs = current.to_documents().unwrap();
        let desired_docs = desired.to_documents().unwrap();
        let p = plan(&current_docs, &desired_docs);
        let after = apply(&current_docs, &p);
        let again = plan(&after, &desired_docs);
        prop_assert!(again.is_empty(), "{}", again);
        prop_assert_eq!(p.is_empty(), current == desired);
        prop_assert_eq!(Catalog::from_documents(&after).unwrap(), desired);
    }
}
