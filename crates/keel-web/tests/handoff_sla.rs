//! The MQL hand-off's acceptance SLA runs on the work SLA engine: handing a lead to sales starts
//! the clock (24 business hours on the sales calendar by default) and arms a `work.sla` timer;
//! the sweep raises the warning once, records a breach as `missed` with its escalation; sales
//! deciding before the due time meets the SLA, after it misses it. Time is passed in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use keel_contacts::record::Lineage;
use keel_contacts::{FieldValue, ObjectKind, Record};
use keel_store::contacts;
use keel_store::{Actor, Store, migrations};
use keel_web::work::{self, Workspace};
use keel_work::sla::{ClockState, SlaStatus};

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    (store, dir)
}

/// Eastern time (UTC−5 in early March) as UTC.
fn ny(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour + 5, 0, 0).unwrap()
}

async fn lead(store: &Store, id: &str) {
    let at = ny(1, 9);
    let mut r = Record::new(id, ObjectKind::Contact, "api", at);
    r.set(
        "email",
        FieldValue::Text(format!("{id}@example.com")),
        Lineage {
            system: "api".into(),
            source: "test".into(),
            at,
        },
    );
    contacts::create(store, &Actor::System("test"), &r)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_mql_starts_the_acceptance_sla_which_sales_meets_or_misses() {
    let (store, _dir) = store().await;
    let actor = Actor::System("test");
    let sla = Workspace::load(&store)
        .await
        .unwrap()
        .handoff_sla()
        .unwrap();
    for id in ["ct_a", "ct_b", "ct_c"] {
        lead(&store, id).await;
    }
    // Monday 2 March 2026, 10:00 in New York.
    let start = ny(2, 10);
    let mut handed = Vec::new();
    for id in ["ct_a", "ct_b", "ct_c"] {
        handed.push(
            work::start_handoff(
                &store,
                &sla,
                &actor,
                id,
                "lead",
                "grace@example.com",
                81.0,
                start,
            )
            .await
            .unwrap(),
        );
    }
    let (a, b, c) = (&handed[0], &handed[1], &handed[2]);
    // 24 business hours of 09:00–17:00 weekdays: Thursday 10:00.
    assert_eq!(a.due_at, ny(5, 10));
    assert_eq!(
        contacts::get(&store, "ct_a")
            .await
            .unwrap()
            .row
            .lifecycle_stage,
        "mql"
    );
    // The clock started, and a timer is armed for its warning (75%: Wednesday 12:00).
    let clock = work::handoff_clock(&sla, a, start + Duration::hours(1)).unwrap();
    assert_eq!(
        (clock.state, clock.status),
        (ClockState::Running, SlaStatus::Ok)
    );
    assert_eq!(clock.warn_at, Some(ny(4, 12)));
    let timers: Vec<(String, String)> =
        keel_store::sql("SELECT kind, run_at FROM jobs WHERE kind = 'work.sla' ORDER BY id")
            .fetch_all(&store)
            .await
            .unwrap();
    assert_eq!(timers.len(), 3, "{timers:?}");

    // Wednesday 13:00: past the warning, raised once.
    let alerts = work::handoff_sla_sweep(&store, &sla, ny(4, 13))
        .await
        .unwrap();
    assert_eq!(alerts.len(), 3, "{alerts:?}");
    assert!(alerts.iter().all(|x| x.kind == "sla_warning"));
    assert!(
        work::handoff_sla_sweep(&store, &sla, ny(4, 14))
            .await
            .unwrap()
            .is_empty()
    );

    // Sales accepts A on Wednesday afternoon, before the due time: met.
    let decided = work::decide_handoff(&store, &sla, &actor, a.id, true, None, ny(4, 15))
        .await
        .unwrap();
    assert_eq!(decided.sla_status.as_deref(), Some("met"));
    let clock = work::handoff_clock(&sla, &decided, ny(9, 9)).unwrap();
    assert_eq!(
        (clock.state, clock.status),
        (ClockState::Stopped, SlaStatus::Ok)
    );

    // Thursday 11:00, an hour past due: B and C breach, recorded as missed and escalated to
    // the owner (level 1 at the breach).
    let alerts = work::handoff_sla_sweep(&store, &sla, ny(5, 11))
        .await
        .unwrap();
    let kinds: Vec<(&str, i64)> = alerts
        .iter()
        .map(|x| (x.kind.as_str(), x.handoff_id))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("sla_breach", b.id),
            ("sla_escalation", b.id),
            ("sla_breach", c.id),
            ("sla_escalation", c.id)
        ]
    );
    let b_now = contacts::handoff(&store, b.id).await.unwrap();
    assert_eq!(b_now.sla_status.as_deref(), Some("missed"));
    assert_eq!(b_now.breached_at, Some(ny(5, 10)));
    let clock = work::handoff_clock(&sla, &b_now, ny(5, 11)).unwrap();
    assert_eq!(clock.status, SlaStatus::Breached);
    // Rejecting it late keeps the SLA missed.
    let b_done = work::decide_handoff(
        &store,
        &sla,
        &actor,
        b.id,
        false,
        Some("no budget"),
        ny(5, 12),
    )
    .await
    .unwrap();
    assert_eq!(b_done.sla_status.as_deref(), Some("missed"));
    // Level 2 (ops, eight business hours after the breach) comes on Friday 10:00, once.
    let alerts = work::handoff_sla_sweep(&store, &sla, ny(6, 11))
        .await
        .unwrap();
    let kinds: Vec<(&str, i64)> = alerts
        .iter()
        .map(|x| (x.kind.as_str(), x.handoff_id))
        .collect();
    assert_eq!(kinds, vec![("sla_escalation", c.id)]);
    assert_eq!(alerts[0].notify, vec![keel_work::Party::Role("ops".into())]);

    // A hand-off decided past due with no sweep in between is missed all the same.
    let c_done = work::decide_handoff(&store, &sla, &actor, c.id, true, None, ny(9, 9))
        .await
        .unwrap();
    assert_eq!(c_done.sla_status.as_deref(), Some("missed"));
    let outcomes = contacts::handoff_sla_outcomes(&store).await.unwrap();
    assert_eq!(outcomes.get("met"), Some(&1));
    assert_eq!(outcomes.get("missed"), Some(&2));
    assert_eq!(keel_store::audit::verify(&store).await.unwrap().error, None);
}

#[tokio::test]
async fn an_sla_document_for_hand_offs_replaces_the_default() {
    let (store, _dir) = store().await;
    let loaded = keel_manifests::load(
        &[keel_manifests::SourceFile::new(
            "sla.yaml",
            r#"apiVersion: keel/v1
kind: BusinessCalendar
metadata: {name: always}
spec:
  timezone: UTC
  hours:
    monday: ["00:00-24:00"]
    tuesday: ["00:00-24:00"]
    wednesday: ["00:00-24:00"]
    thursday: ["00:00-24:00"]
    friday: ["00:00-24:00"]
    saturday: ["00:00-24:00"]
    sunday: ["00:00-24:00"]
---
apiVersion: keel/v1
kind: SLA
metadata: {name: fast-acceptance}
spec:
  applies_to: [mql_handoff]
  calendar: always
  clocks:
    - name: acceptance
      starts_on: [waiting]
      stops_on: [accepted, rejected]
      targets: {normal: 4h}
"#,
        )],
        &keel_web::ops::registry(),
    );
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let plan = keel_manifests::plan(
        &keel_web::ops::current_documents(&store).await.unwrap(),
        &loaded.documents(),
    );
    keel_web::ops::apply_plan(&store, &Actor::System("test"), &plan, "sla")
        .await
        .unwrap();
    let sla = Workspace::load(&store)
        .await
        .unwrap()
        .handoff_sla()
        .unwrap();
    lead(&store, "ct_a").await;
    // Saturday evening: the document's calendar never closes.
    let start = Utc.with_ymd_and_hms(2026, 3, 7, 22, 0, 0).unwrap();
    let h = work::start_handoff(
        &store,
        &sla,
        &Actor::System("t"),
        "ct_a",
        "lead",
        "rep",
        80.0,
        start,
    )
    .await
    .unwrap();
    assert_eq!(h.due_at, start + Duration::hours(4));
}

#[test]
fn a_hand_off_sla_naming_statuses_hand_offs_lack_is_refused() {
    let loaded = keel_manifests::load(
        &[keel_manifests::SourceFile::new(
            "sla.yaml",
            "apiVersion: keel/v1\nkind: BusinessCalendar\nmetadata: {name: always}\nspec:\n  timezone: UTC\n  hours: {monday: [\"09:00-17:00\"]}\n---\napiVersion: keel/v1\nkind: SLA\nmetadata: {name: s}\nspec:\n  applies_to: [mql_handoff]\n  calendar: always\n  clocks:\n    - {name: acceptance, starts_on: [submitted], stops_on: [accepted], targets: {normal: 4h}}\n",
        )],
        &keel_web::ops::registry(),
    );
    let text: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|d| d.contains("\"submitted\" is not a state of mql_handoff")),
        "{text:?}"
    );
}
