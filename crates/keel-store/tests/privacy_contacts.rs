//! Privacy reaching contact records, on both databases: an erasure request deletes the person's
//! contact records and the history rows that hold their data and keeps only the tombstone;
//! a retention policy over inactive contacts executes exactly its dry run, legal holds exempt.
//! PostgreSQL as in `conformance.rs` (skipped with a message when unreachable, except under
//! `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use keel_consent::retention::{ContactRetention, RetentionAction, RetentionPolicySpec};
use keel_contacts::merge::SurvivorshipConfig;
use keel_contacts::record::Lineage;
use keel_contacts::{FieldValue, ObjectKind, Record};
use keel_events::{Event, EventType};
use keel_store::privacy::{self, NewSubjectRequest};
use keel_store::{Actor, Store, audit, contacts, events, sql};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap()
}

fn record(id: &str, first: &str, email: &str) -> Record {
    let lin = |system: &str| Lineage {
        system: system.into(),
        source: "test".into(),
        at: at(),
    };
    let mut r = Record::new(id, ObjectKind::Contact, "salesforce", at());
    r.set(
        "first_name",
        FieldValue::Text(first.into()),
        lin("salesforce"),
    );
    r.set(
        "last_name",
        FieldValue::Text("Lind".into()),
        lin("salesforce"),
    );
    r.set("email", FieldValue::Text(email.into()), lin("hubspot"));
    r.set("country", FieldValue::Text("SE".into()), lin("salesforce"));
    r.set(
        "phone",
        FieldValue::Text("+46701234567".into()),
        lin("salesforce"),
    );
    r
}

async fn count(store: &Store, query: &str, id: &str) -> i64 {
    sql(query.to_string())
        .bind(id.to_string())
        .fetch_scalar(store)
        .await
        .unwrap()
}

async fn erasure_reaches_contacts(store: Store) {
    let actor = Actor::System("test");
    contacts::create(&store, &actor, &record("ct_ana1", "Ana", "ana@example.com"))
        .await
        .unwrap();
    contacts::create(
        &store,
        &actor,
        &record("ct_ana2", "Ana", "ana.l@example.com"),
    )
    .await
    .unwrap();
    contacts::create(&store, &actor, &record("ct_bo", "Bo", "bo@example.com"))
        .await
        .unwrap();
    // ana.l@ was merged into ana@: the absorbed record is the same person's.
    contacts::merge_records(
        &store,
        &actor,
        "ct_ana1",
        "ct_ana2",
        &SurvivorshipConfig::default(),
    )
    .await
    .unwrap();
    contacts::record_hygiene(
        &store,
        &actor,
        "ana@example.com",
        "hard_bounce",
        "550",
        "api",
        at(),
    )
    .await
    .unwrap();
    contacts::record_hygiene(
        &store,
        &actor,
        "bo@example.com",
        "complaint",
        "",
        "api",
        at(),
    )
    .await
    .unwrap();
    contacts::record_engagement(&store, "ct_ana1", "email_click", at())
        .await
        .unwrap();
    contacts::change_stage(&store, &actor, "ct_ana1", "lead", "mql", None, at())
        .await
        .unwrap();
    let (source, _) = events::create_source(&store, &actor, "web").await.unwrap();
    let event = |id: &str, user: &str| Event {
        message_id: id.into(),
        event_type: EventType::Track,
        name: Some("Viewed".into()),
        user_id: Some(user.into()),
        anonymous_id: None,
        group_id: None,
        previous_id: None,
        timestamp: at(),
        received_at: at(),
        sent_at: None,
        properties: serde_json::json!({}),
        traits: serde_json::json!({}),
        context: serde_json::json!({}),
    };
    // One event keyed by the contact id (not the address): erasure finds it through the record.
    events::ingest(
        &store,
        source.id,
        &[event("e1", "ct_ana1"), event("e2", "bo@example.com")],
        &[],
    )
    .await
    .unwrap();

    let history = contacts::history_of_email(&store, "ana@example.com")
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "the record and the one merged into it");
    assert_eq!(history[0].record.row.id, "ct_ana1");
    assert_eq!(history[0].hygiene.len(), 1);
    assert_eq!(history[0].lifecycle.len(), 1);
    assert_eq!(history[0].engagement.len(), 1);
    assert_eq!(history[0].merges.len(), 1);
    assert_eq!(
        history[0].record.record.lineage["email"].system.as_ref(),
        "hubspot",
        "field lineage is part of the record"
    );

    let r = privacy::create_request(
        &store,
        &actor,
        &NewSubjectRequest {
            kind: "erasure".into(),
            subject: "ana@example.com".into(),
            contact_id: None,
            jurisdiction: None,
            deadline_rule: "one_month_plus_two".into(),
            received_at: at(),
            due_on: at().date_naive(),
            extended_due_on: at().date_naive(),
            details: serde_json::json!({}),
        },
    )
    .await
    .unwrap();
    privacy::verify_request(&store, &actor, r.id, "ok")
        .await
        .unwrap();
    let done = privacy::complete_request(&store, &actor, r.id, serde_json::json!(null))
        .await
        .unwrap();
    let erasure = &done.result.as_ref().unwrap().0["erasure"];
    assert_eq!(erasure["contacts"]["records_deleted"], 2);
    assert_eq!(erasure["contacts"]["merges_deleted"], 1);
    assert_eq!(erasure["contacts"]["hygiene_deleted"], 1);
    assert_eq!(erasure["contacts"]["lifecycle_deleted"], 1);
    assert_eq!(erasure["contacts"]["engagement_deleted"], 1);
    assert_eq!(erasure["events_deleted"], 1);
    // Nothing of Ana is left in contacts, only the tombstone.
    for (query, key) in [
        (
            "SELECT COUNT(*) FROM contact_records WHERE id LIKE $1",
            "ct_ana%",
        ),
        (
            "SELECT COUNT(*) FROM contact_records WHERE email LIKE $1",
            "%ana%",
        ),
        (
            "SELECT COUNT(*) FROM contact_hygiene WHERE email = $1",
            "ana@example.com",
        ),
        (
            "SELECT COUNT(*) FROM contact_merges WHERE survivor_id = $1",
            "ct_ana1",
        ),
        (
            "SELECT COUNT(*) FROM contact_lifecycle WHERE record_id = $1",
            "ct_ana1",
        ),
        (
            "SELECT COUNT(*) FROM contact_engagement WHERE record_id = $1",
            "ct_ana1",
        ),
        ("SELECT COUNT(*) FROM events WHERE user_id = $1", "ct_ana1"),
    ] {
        assert_eq!(count(&store, query, key).await, 0, "{query} {key}");
    }
    assert!(
        privacy::is_tombstoned(&store, "Ana@Example.com")
            .await
            .unwrap()
    );
    // Bo is untouched.
    assert!(contacts::find(&store, "ct_bo").await.unwrap().is_some());
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM contact_hygiene WHERE email = $1",
            "bo@example.com"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM events WHERE user_id = $1",
            "bo@example.com"
        )
        .await,
        1
    );
    // The audit names record ids and counts, never the address.
    let (entries, _) = audit::list(&store, &audit::AuditFilter::default(), 500, 0)
        .await
        .unwrap();
    let erase_entries: Vec<_> = entries.iter().filter(|e| e.action == "erase").collect();
    assert!(erase_entries.len() >= 3);
    for e in erase_entries {
        let text = serde_json::to_string(&e.after).unwrap();
        assert!(!text.contains("ana@example.com"), "{text}");
    }
    assert!(audit::verify(&store).await.unwrap().error.is_none());
}
on_both!(
    erasure_deletes_contact_records_and_history,
    erasure_reaches_contacts
);

async fn contact_retention(store: Store) {
    let actor = Actor::System("test");
    for (id, first, email) in [
        ("ct_idle", "Idle", "idle@example.com"),
        ("ct_held", "Held", "held@example.com"),
        ("ct_busy", "Busy", "busy@example.com"),
        ("ct_gone", "Gone", "gone@example.com"),
    ] {
        contacts::create(&store, &actor, &record(id, first, email))
            .await
            .unwrap();
    }
    contacts::record_hygiene(
        &store,
        &actor,
        "idle@example.com",
        "soft_bounce",
        "",
        "api",
        at(),
    )
    .await
    .unwrap();
    let now = at() + Duration::days(400);
    // Busy clicked last month: active.
    contacts::record_engagement(&store, "ct_busy", "email_click", now - Duration::days(30))
        .await
        .unwrap();
    privacy::place_legal_hold(&store, &actor, "held@example.com", "litigation")
        .await
        .unwrap();
    for (action, expect) in [
        (RetentionAction::Anonymise, "anonymise"),
        (RetentionAction::Delete, "delete"),
    ] {
        let policy = RetentionPolicySpec {
            contacts: Some(ContactRetention {
                inactive_months: 12,
                action,
            }),
            events: None,
        };
        let records = privacy::retention_records(&store).await.unwrap();
        let plan = keel_consent::retention::plan_retention(&policy, &records, now);
        let planned: Vec<&str> = plan.changes.iter().map(|c| c.id.as_str()).collect();
        if action == RetentionAction::Anonymise {
            assert_eq!(planned, ["ct_gone", "ct_idle"]);
            assert_eq!(plan.held, ["ct_held"]);
        } else {
            // Anonymised records are not selected again.
            assert!(planned.is_empty(), "{planned:?}");
            break;
        }
        let key = format!("contact.{expect}");
        let dry = privacy::record_dry_run(
            &store,
            &actor,
            "contacts-1y",
            now,
            serde_json::to_value(&plan).unwrap(),
            serde_json::json!({"changes": {&key: planned.len()}}),
        )
        .await
        .unwrap();
        let run = privacy::execute_retention(&store, &actor, dry.id)
            .await
            .unwrap();
        // Execution equals the dry run.
        assert_eq!(run.counts.0["applied"][&key], planned.len() as u64);
        assert_eq!(run.counts.0["applied"][&key], dry.counts.0["changes"][&key]);
        let idle = contacts::get(&store, "ct_idle").await.unwrap();
        assert_eq!(idle.row.email, None);
        assert_eq!(idle.row.source, contacts::ANONYMISED_SOURCE);
        assert!(idle.record.get("email").is_none() && idle.record.get("phone").is_none());
        assert_eq!(idle.record.text("country"), Some("SE"));
        assert!(!idle.bytes.contains("idle@example.com") && !idle.bytes.contains("Idle"));
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM contact_hygiene WHERE email = $1",
                "idle@example.com"
            )
            .await,
            0
        );
        for id in ["ct_held", "ct_busy"] {
            let kept = contacts::get(&store, id).await.unwrap();
            assert!(kept.row.email.is_some(), "{id} untouched");
        }
    }
    // A delete policy on a fresh contact removes it (and keeps the held one).
    let mut old = record("ct_old", "Old", "old@example.com");
    old.updated_at = at() - Duration::days(10);
    contacts::create(&store, &actor, &old).await.unwrap();
    let policy = RetentionPolicySpec {
        contacts: Some(ContactRetention {
            inactive_months: 12,
            action: RetentionAction::Delete,
        }),
        events: None,
    };
    let records = privacy::retention_records(&store).await.unwrap();
    let plan = keel_consent::retention::plan_retention(&policy, &records, now);
    let planned: Vec<&str> = plan.changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(planned, ["ct_old"]);
    let mut also_old = record("ct_late_hold", "Late", "late@example.com");
    also_old.updated_at = at() - Duration::days(10);
    contacts::create(&store, &actor, &also_old).await.unwrap();
    let records = privacy::retention_records(&store).await.unwrap();
    let plan = keel_consent::retention::plan_retention(&policy, &records, now);
    let planned: Vec<&str> = plan.changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(planned, ["ct_late_hold", "ct_old"]);
    let dry = privacy::record_dry_run(
        &store,
        &actor,
        "contacts-delete",
        now,
        serde_json::to_value(&plan).unwrap(),
        serde_json::json!({}),
    )
    .await
    .unwrap();
    // A hold placed between the dry run and its execution still protects.
    privacy::place_legal_hold(&store, &actor, "late@example.com", "new claim")
        .await
        .unwrap();
    let run = privacy::execute_retention(&store, &actor, dry.id)
        .await
        .unwrap();
    assert_eq!(run.counts.0["applied"]["contact.delete"], 1);
    assert_eq!(run.counts.0["skipped_held"], 1);
    assert!(
        contacts::find(&store, "ct_late_hold")
            .await
            .unwrap()
            .is_some()
    );
    assert!(contacts::find(&store, "ct_old").await.unwrap().is_none());
    assert!(contacts::find(&store, "ct_held").await.unwrap().is_some());
    assert!(audit::verify(&store).await.unwrap().error.is_none());
}
on_both!(retention_of_inactive_contacts, contact_retention);
