//! Throughput of the work engines on seeded data: approval decisions through Cedar, native
//! condition evaluation, business-hours arithmetic, SLA clocks and scheduling.
//!
//! Run with `cargo run --release -p keel-work --example throughput [N]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use keel_work::approval::{ApprovalPolicies, PolicySpec};
use keel_work::capacity::{Person, Roster};
use keel_work::condition::{FactValue, Facts};
use keel_work::routing::WorkflowSpec;
use keel_work::schedule::{ScheduleInput, schedule};
use keel_work::sla::{SlaSpec, StatusEvent, evaluate};
use keel_work::{BusinessCalendarSpec, Document};

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn read(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ops/work/");
    std::fs::read_to_string(format!("{root}{path}")).unwrap()
}

/// One example document, read as `keel check` reads it.
fn doc<S: keel_work::Spec + keel_manifests::Spec + Clone>(path: &str) -> Document<S> {
    let files = [keel_manifests::SourceFile::new(path, read(path))];
    let loaded = keel_manifests::load(&files, &keel_work::registry());
    let (metadata, spec) = loaded.typed::<S>().next().unwrap();
    Document::from_manifests(metadata, spec.clone())
}

fn report(what: &str, n: usize, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{what:<40} {n:>8} in {:>8.3} s  {:>12.0}/s",
        secs,
        n as f64 / secs
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Seeded(0x4B45_454C);

    let policies: Vec<Document<PolicySpec>> = [
        "campaign-approvals",
        "tool-purchases",
        "data-pulls",
        "baseline",
    ]
    .iter()
    .map(|p| doc(&format!("policies/{p}.yaml")))
    .collect();
    let compiled = ApprovalPolicies::compile(&policies).unwrap();
    let channels = [
        "email",
        "paid_social",
        "paid_search",
        "webinar",
        "display",
        "sms",
    ];
    let types = ["campaign_brief", "email_send", "landing_page", "webinar"];
    let facts: Vec<Facts> = (0..n)
        .map(|_| {
            let mut f = Facts::new();
            f.insert(
                "request_type".into(),
                FactValue::Str(types[rng.below(4) as usize].into()),
            );
            f.insert(
                "requester".into(),
                FactValue::Str(format!("user{}", rng.below(50))),
            );
            f.insert(
                "requester_roles".into(),
                FactValue::Set(vec![FactValue::Str("marketer".into())]),
            );
            f.insert("budget".into(), FactValue::Int(rng.below(8_000_000) as i64));
            f.insert(
                "audience_size".into(),
                FactValue::Int(rng.below(500_000) as i64),
            );
            f.insert("gated_asset".into(), FactValue::Bool(rng.below(4) == 0));
            let picked = (0..1 + rng.below(3))
                .map(|_| FactValue::Str(channels[rng.below(6) as usize].into()))
                .collect();
            f.insert("channels".into(), FactValue::Set(picked));
            f
        })
        .collect();

    let t = Instant::now();
    let mut auto = 0;
    for (i, f) in facts.iter().enumerate() {
        if compiled
            .decide(&format!("req-{i}"), f)
            .unwrap()
            .outcome
            .word()
            == "auto_approve"
        {
            auto += 1;
        }
    }
    report("approval decisions (Cedar)", n, t);
    println!("  auto-approved by policy: {auto} of {n}");

    let conditions: Vec<_> = policies
        .iter()
        .flat_map(|p| p.spec.rules.iter().filter_map(|r| r.when.clone()))
        .collect();
    let t = Instant::now();
    let mut matched = 0usize;
    for f in &facts {
        matched += conditions.iter().filter(|c| c.matches(f)).count();
    }
    report("native condition evaluations", n * conditions.len(), t);
    let _ = matched;

    let cal_doc: Document<BusinessCalendarSpec> = doc("calendars/emea-office.yaml");
    let cal = cal_doc.spec.compile().unwrap();
    let base: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let instants: Vec<DateTime<Utc>> = (0..n)
        .map(|_| base + TimeDelta::minutes(rng.below(365 * 24 * 60) as i64))
        .collect();
    let t = Instant::now();
    for a in &instants {
        let d = TimeDelta::minutes(rng.below(40 * 60) as i64);
        let _ = cal.add_business_time(*a, d).unwrap();
    }
    report("business-time additions (up to 40h)", n, t);

    let sla: Document<SlaSpec> = doc("slas/campaign-sla.yaml");
    let statuses = [
        "submitted",
        "in_review",
        "changes_requested",
        "rework",
        "submitted",
        "in_review",
        "approved",
        "scheduled",
        "live",
    ];
    let histories: Vec<Vec<StatusEvent>> = instants
        .iter()
        .map(|a| {
            let mut at = *a;
            statuses
                .iter()
                .map(|s| {
                    at += TimeDelta::minutes(30 + rng.below(3 * 24 * 60) as i64);
                    StatusEvent {
                        at,
                        status: (*s).into(),
                    }
                })
                .collect()
        })
        .collect();
    let now: DateTime<Utc> = "2027-06-01T00:00:00Z".parse().unwrap();
    let t = Instant::now();
    for h in &histories {
        let _ = evaluate(&sla.spec, &cal, "normal", h, None, now).unwrap();
    }
    report("SLA evaluations (3 clocks, 9 events)", n, t);

    let workflow: Document<WorkflowSpec> = doc("workflows/campaign-delivery.yaml");
    let roster: Roster = serde_json::from_str(&read("demo/roster.json")).unwrap();
    let mut big = roster.clone();
    big.people.extend((0..20).map(|i| Person {
        id: format!("extra{i}"),
        name: None,
        roles: vec!["designer".into(), "copywriter".into()],
        team: None,
        weekly_hours: 40.0,
        time_off: vec![],
    }));
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let runs = (n / 20).max(1);
    let t = Instant::now();
    for f in facts.iter().take(runs) {
        let mut f = f.clone();
        f.insert("landing_page_needed".into(), FactValue::Bool(true));
        let plan = workflow.spec.expand(&f);
        let _ = schedule(&ScheduleInput {
            plan: &plan,
            calendar: &cal,
            roster: &big,
            earliest_start: start,
            blackouts: &[],
            existing: &[],
            requested_launch: None,
        })
        .unwrap();
    }
    report("routing + scheduling of a campaign", runs, t);
}
