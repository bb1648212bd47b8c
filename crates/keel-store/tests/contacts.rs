//! Contact storage on both databases: imports with quarantine and idempotency, duplicate
//! checks, merge and byte-identical un-merge, concurrent merges, hygiene, lifecycle and
//! hand-offs. PostgreSQL as in `conformance.rs` (skipped with a message when unreachable,
//! except under `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use chrono::{Duration, TimeZone, Utc};
use keel_contacts::dedupe::Thresholds;
use keel_contacts::import::{ImportOptions, Layout};
use keel_contacts::merge::SurvivorshipConfig;
use keel_contacts::record::Lineage;
use keel_contacts::{FieldValue, ObjectKind, Record};
use keel_store::contacts::{self, ImportJob, NewImport, ReviewDecision};
use keel_store::{Actor, Store, StoreError, audit};

const MESSY: &[u8] = include_bytes!("../../keel-contacts/testdata/messy-salesforce-leads.csv");

fn job(import_id: i64, dedupe: bool) -> ImportJob {
    let map = Layout::SalesforceLead.field_map().unwrap();
    ImportJob {
        import_id,
        bytes: MESSY.to_vec(),
        encoding: None,
        json_lines: false,
        contract: map.default_contract().unwrap(),
        map,
        options: ImportOptions {
            source: "messy-salesforce-leads.csv".into(),
            at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        },
        dedupe: dedupe.then(|| (Thresholds::default(), SurvivorshipConfig::default())),
        batch_size: 5,
    }
}

async fn new_import(store: &Store, dedupe: bool) -> i64 {
    contacts::create_import(
        store,
        &Actor::System("test"),
        &NewImport {
            file_name: "messy-salesforce-leads.csv".into(),
            layout: "salesforce-lead".into(),
            content: None,
            check_duplicates: dedupe,
        },
    )
    .await
    .unwrap()
    .id
}

async fn messy_import_quarantines_exactly(store: Store) {
    let actor = Actor::System("test");
    let id = new_import(&store, false).await;
    let done = contacts::run_import(&store, &actor, job(id, false), |_| {})
        .await
        .unwrap();
    assert_eq!(done.status, "done");
    assert_eq!(
        (
            done.rows_read,
            done.accepted,
            done.quarantined,
            done.unchanged
        ),
        (18, 7, 10, 1)
    );
    let (rows, total) = contacts::quarantine(&store, Some(id), false, 50, 0)
        .await
        .unwrap();
    assert_eq!(total, 10);
    let numbers: Vec<i64> = rows.iter().map(|r| r.row_number).collect();
    assert_eq!(numbers, vec![3, 4, 5, 6, 7, 8, 9, 12, 13, 16]);
    let first = &rows[0];
    assert_eq!(
        first.reasons.0[0]["reason"].as_str(),
        Some("required field is missing")
    );
    assert_eq!(first.reasons.0[0]["field"].as_str(), Some("last_name"));
    assert!(
        first
            .cells()
            .iter()
            .any(|(c, v)| c == "FirstName" && v == "Carla")
    );
    let reasons = contacts::quarantine_reasons(&store, id).await.unwrap();
    assert!(reasons.iter().any(|(r, _)| r == "email: has no `@`"));
    let (listed, n) = contacts::list(&store, &contacts::RecordFilter::default(), 50, 0)
        .await
        .unwrap();
    assert_eq!((listed.len(), n), (7, 7));

    // Re-importing the same file changes nothing and quarantines nothing twice.
    let again = new_import(&store, false).await;
    let done = contacts::run_import(&store, &actor, job(again, false), |_| {})
        .await
        .unwrap();
    assert_eq!((done.accepted, done.updated, done.unchanged), (0, 0, 8));
    let (_, total) = contacts::quarantine(&store, None, false, 50, 0)
        .await
        .unwrap();
    assert_eq!(total, 10);
    assert_eq!(
        contacts::list(&store, &contacts::RecordFilter::default(), 50, 0)
            .await
            .unwrap()
            .1,
        7
    );

    // A quarantined row fixed and re-submitted becomes a record once.
    let q = &rows[0];
    let rec = record("ct_fixed", "Carla", "Fixed", "carla@initech.com");
    contacts::resolve_quarantined(&store, &actor, q.id, &q.cells(), &rec)
        .await
        .unwrap();
    let twice = contacts::resolve_quarantined(&store, &actor, q.id, &q.cells(), &rec).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))));
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(
    messy_import_quarantines_exactly_on_both,
    messy_import_quarantines_exactly
);

fn record(id: &str, first: &str, last: &str, email: &str) -> Record {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap();
    let lin = |system: &str| Lineage {
        system: system.into(),
        source: "test".into(),
        at,
    };
    let mut r = Record::new(id, ObjectKind::Contact, "salesforce", at);
    r.set(
        "first_name",
        FieldValue::Text(first.into()),
        lin("salesforce"),
    );
    r.set(
        "last_name",
        FieldValue::Text(last.into()),
        lin("salesforce"),
    );
    r.set("email", FieldValue::Text(email.into()), lin("hubspot"));
    r.set(
        "favourite_trail",
        FieldValue::Text(format!("{first}'s loop")),
        lin("web_form"),
    );
    r
}

async fn merge_then_unmerge_restores_bytes(store: Store) {
    let actor = Actor::System("test");
    let a = record("ct_a", "Maria", "Lopez", "maria@halyard.example");
    let mut b = record("ct_b", "María", "López", "maria.lopez@halyard.example");
    b.set(
        "title",
        FieldValue::Text("Head of Trails".into()),
        Lineage {
            system: "marketo".into(),
            source: "x".into(),
            at: Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
        },
    );
    contacts::create(&store, &actor, &a).await.unwrap();
    contacts::create(&store, &actor, &b).await.unwrap();
    let before_a = contacts::get(&store, "ct_a").await.unwrap();
    let before_b = contacts::get(&store, "ct_b").await.unwrap();

    let m = contacts::merge_records(
        &store,
        &actor,
        "ct_a",
        "ct_b",
        &SurvivorshipConfig::default(),
    )
    .await
    .unwrap();
    let merged = contacts::get(&store, "ct_a").await.unwrap();
    assert!(merged.record.get("title").is_some());
    assert_eq!(
        contacts::get(&store, "ct_b")
            .await
            .unwrap()
            .row
            .merged_into
            .as_deref(),
        Some("ct_a")
    );
    // Merging again is refused cleanly.
    let again = contacts::merge_records(
        &store,
        &actor,
        "ct_a",
        "ct_b",
        &SurvivorshipConfig::default(),
    )
    .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));

    contacts::unmerge_records(&store, &actor, m.id)
        .await
        .unwrap();
    let after_a = contacts::get(&store, "ct_a").await.unwrap();
    let after_b = contacts::get(&store, "ct_b").await.unwrap();
    assert_eq!(
        after_a.bytes, before_a.bytes,
        "survivor restored byte for byte"
    );
    assert_eq!(
        after_b.bytes, before_b.bytes,
        "absorbed restored byte for byte"
    );
    assert_eq!(after_b.row.merged_into, None);
    let twice = contacts::unmerge_records(&store, &actor, m.id).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))));
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(
    merge_then_unmerge_restores_bytes_on_both,
    merge_then_unmerge_restores_bytes
);

async fn concurrent_merges_one_wins(store: Store) {
    let actor = Actor::System("test");
    for (id, first) in [("ct_x", "Ana"), ("ct_y", "Anna"), ("ct_z", "Ann")] {
        contacts::create(
            &store,
            &actor,
            &record(id, first, "Ng", &format!("{first}@ng.example")),
        )
        .await
        .unwrap();
    }
    let cfg = SurvivorshipConfig::default();
    for _ in 0..3 {
        let (s1, s2) = (store.clone(), store.clone());
        let (c1, c2) = (cfg.clone(), cfg.clone());
        let t1 = tokio::spawn(async move {
            contacts::merge_records(&s1, &Actor::System("one"), "ct_x", "ct_y", &c1).await
        });
        let t2 = tokio::spawn(async move {
            contacts::merge_records(&s2, &Actor::System("two"), "ct_x", "ct_y", &c2).await
        });
        let (r1, r2) = (t1.await.unwrap(), t2.await.unwrap());
        let wins = [&r1, &r2].iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "exactly one merge commits: {r1:?} {r2:?}");
        let loser = if r1.is_err() { r1 } else { r2 };
        assert!(matches!(loser, Err(StoreError::Conflict(_))), "{loser:?}");
        let (merges, _) = contacts::merges(&store, 10, 0).await.unwrap();
        let open = merges.iter().find(|m| m.undone_at.is_none()).unwrap();
        contacts::unmerge_records(&store, &actor, open.id)
            .await
            .unwrap();
    }
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(
    concurrent_merges_one_wins_on_both,
    concurrent_merges_one_wins
);

async fn review_hygiene_and_handoffs(store: Store) {
    let actor = Actor::System("test");
    let a = record("ct_p", "Sam", "Reyes", "sam@halyard.example");
    let b = record("ct_q", "Samuel", "Reyes", "sreyes@halyard.example");
    contacts::create(&store, &actor, &a).await.unwrap();
    contacts::create(&store, &actor, &b).await.unwrap();
    let explanation = serde_json::json!({"prior": -3.0, "terms": []});
    let id = contacts::queue_for_review(&store, &actor, "ct_q", "ct_p", 0.9, &explanation, "batch")
        .await
        .unwrap()
        .unwrap();
    // Queued once, whatever the order of the pair.
    assert!(
        contacts::queue_for_review(&store, &actor, "ct_p", "ct_q", 0.9, &explanation, "batch")
            .await
            .unwrap()
            .is_none()
    );
    let (open, _) = contacts::review_queue(&store, "open", 10, 0).await.unwrap();
    assert_eq!(open.len(), 1);
    let merge = contacts::decide_pair(
        &store,
        &actor,
        id,
        ReviewDecision::Merge,
        &SurvivorshipConfig::default(),
    )
    .await
    .unwrap();
    assert!(merge.is_some());
    let decided = contacts::decide_pair(
        &store,
        &actor,
        id,
        ReviewDecision::Skip,
        &SurvivorshipConfig::default(),
    )
    .await;
    assert!(matches!(decided, Err(StoreError::Conflict(_))));

    let (_, suppressed) = contacts::record_hygiene(
        &store,
        &actor,
        "SAM@halyard.example",
        "hard_bounce",
        "550 5.1.1",
        "api",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(suppressed, vec!["ct_p".to_string()]);
    assert!(contacts::get(&store, "ct_p").await.unwrap().row.suppressed);

    let start = keel_store::now() - Duration::hours(2);
    let h = contacts::start_handoff(
        &store,
        &actor,
        "ct_p",
        "lead",
        "rep:jo",
        72.0,
        start,
        start + Duration::hours(24),
    )
    .await
    .unwrap();
    assert_eq!(
        contacts::get(&store, "ct_p")
            .await
            .unwrap()
            .row
            .lifecycle_stage,
        "mql"
    );
    let h = contacts::decide_handoff(&store, &actor, h.id, false, Some("student, not a buyer"))
        .await
        .unwrap();
    assert_eq!(h.status, "rejected");
    let history = contacts::stage_history(&store, "ct_p").await.unwrap();
    let stages: Vec<&str> = history.iter().map(|c| c.to_stage.as_str()).collect();
    assert_eq!(stages, vec!["mql", "lead"]);
    assert!(matches!(
        contacts::decide_handoff(&store, &actor, h.id, true, None).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(
    review_hygiene_and_handoffs_on_both,
    review_hygiene_and_handoffs
);

async fn handoff_sla_outcomes(store: Store) {
    let actor = Actor::System("test");
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap();
    for id in ["ct_met", "ct_missed"] {
        let mut r = Record::new(id, ObjectKind::Contact, "api", start);
        r.set(
            "email",
            FieldValue::Text(format!("{id}@example.com")),
            Lineage {
                system: "api".into(),
                source: "test".into(),
                at: start,
            },
        );
        contacts::create(&store, &actor, &r).await.unwrap();
    }
    let due = start + Duration::hours(72);
    let met = contacts::start_handoff(&store, &actor, "ct_met", "lead", "rep", 80.0, start, due)
        .await
        .unwrap();
    let missed =
        contacts::start_handoff(&store, &actor, "ct_missed", "lead", "rep", 80.0, start, due)
            .await
            .unwrap();
    assert_eq!(met.sla_status, None);
    let met = contacts::decide_handoff_at(
        &store,
        &actor,
        met.id,
        true,
        None,
        start + Duration::hours(3),
        Some("met"),
    )
    .await
    .unwrap();
    assert_eq!(met.sla_status.as_deref(), Some("met"));
    assert_eq!(met.decided_at, Some(start + Duration::hours(3)));
    // A breach is recorded once, while waiting, and survives a late decision.
    assert!(
        contacts::record_handoff_breach(&store, &actor, missed.id, due)
            .await
            .unwrap()
    );
    assert!(
        !contacts::record_handoff_breach(&store, &actor, missed.id, due)
            .await
            .unwrap()
    );
    let missed = contacts::decide_handoff_at(
        &store,
        &actor,
        missed.id,
        false,
        Some("too late"),
        due + Duration::hours(5),
        Some("met"),
    )
    .await
    .unwrap();
    assert_eq!(missed.sla_status.as_deref(), Some("missed"));
    assert_eq!(missed.breached_at, Some(due));
    assert!(
        !contacts::record_handoff_breach(&store, &actor, met.id, due)
            .await
            .unwrap(),
        "a decided hand-off never breaches"
    );
    let outcomes = contacts::handoff_sla_outcomes(&store).await.unwrap();
    assert_eq!(outcomes.get("met"), Some(&1));
    assert_eq!(outcomes.get("missed"), Some(&1));
    assert_eq!(contacts::handoff(&store, met.id).await.unwrap(), met);
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(handoff_sla_outcomes_on_both, handoff_sla_outcomes);

async fn import_checks_duplicates(store: Store) {
    let actor = Actor::System("test");
    // An existing contact the messy file's first row duplicates (same person, other source).
    let mut existing = Record::new(
        "ct_existing",
        ObjectKind::Contact,
        "hubspot",
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
    );
    let lin = Lineage {
        system: "hubspot".into(),
        source: "crm".into(),
        at: existing.created_at,
    };
    for (f, v) in [
        ("first_name", "Ann"),
        ("last_name", "Smith"),
        ("email", "ann.smith@acme.com"),
        ("company", "Acme Inc"),
        ("phone", "+14155552671"),
    ] {
        existing.set(f, FieldValue::Text(v.into()), lin.clone());
    }
    contacts::create(&store, &actor, &existing).await.unwrap();
    let id = new_import(&store, true).await;
    let done = contacts::run_import(&store, &actor, job(id, true), |_| {})
        .await
        .unwrap();
    assert_eq!(done.rows_read, 18);
    assert_eq!(done.quarantined, 10);
    assert!(done.merged + done.queued_for_review >= 1, "{done:?}");
    assert_eq!(
        done.accepted + done.merged + done.unchanged + done.quarantined + done.updated,
        18,
        "every row is accounted for: {done:?}"
    );
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(import_checks_duplicates_on_both, import_checks_duplicates);

async fn erased_addresses_are_not_recreated(store: Store) {
    let actor = Actor::System("test");
    let erased = "ann.smith@acme.com";
    keel_store::sql("INSERT INTO erasure_tombstones (subject_digest, request_id, erased_at) VALUES ($1, NULL, $2)")
        .bind(keel_store::privacy::subject_digest(
            &keel_store::privacy::subject_key(erased).unwrap(),
        ))
        .bind(keel_store::now())
        .execute(&store)
        .await
        .unwrap();
    assert!(
        keel_store::privacy::is_tombstoned(&store, erased)
            .await
            .unwrap()
    );
    let found = contacts::tombstoned_addresses(&store, ["Ann.Smith@Acme.com", "bob@globex.de"])
        .await
        .unwrap();
    assert_eq!(
        found,
        std::collections::HashSet::from(["Ann.Smith@Acme.com".to_string()])
    );

    // The first two rows of the messy export: Ann (erased) and Bob.
    let text = std::str::from_utf8(MESSY).unwrap();
    let two: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    let id = new_import(&store, true).await;
    let mut j = job(id, true);
    j.bytes = two.into_bytes();
    let done = contacts::run_import(&store, &actor, j, |_| {})
        .await
        .unwrap();
    assert_eq!((done.accepted, done.quarantined), (1, 1), "{done:?}");
    let (rows, _) = contacts::quarantine(&store, Some(id), true, 10, 0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].row_number, 1);
    let reasons = contacts::quarantine_reasons(&store, id).await.unwrap();
    assert_eq!(
        reasons,
        vec![(format!("email: {}", contacts::ERASED_REASON), 1)]
    );
    let (listed, _) = contacts::list(&store, &contacts::RecordFilter::default(), 50, 0)
        .await
        .unwrap();
    assert!(
        listed.iter().all(|r| r.email.as_deref() != Some(erased)),
        "{listed:?}"
    );

    // A new contact with the address is refused too.
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let mut r = Record::new("ct_ann", ObjectKind::Contact, "api", at);
    r.set(
        "email",
        FieldValue::Text(erased.into()),
        Lineage {
            system: "api".into(),
            source: "form".into(),
            at,
        },
    );
    match contacts::create(&store, &actor, &r).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains(contacts::ERASED_REASON), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(contacts::find(&store, "ct_ann").await.unwrap().is_none());
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(
    erased_addresses_are_not_recreated_on_both,
    erased_addresses_are_not_recreated
);

async fn bounces_and_complaints_suppress_the_email_channel(store: Store) {
    let actor = Actor::System("test");
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    for (kind, email) in [
        ("hard_bounce", "Gone@Example.com"),
        ("complaint", "angry@example.com"),
        ("sunset", "quiet@example.com"),
    ] {
        contacts::record_hygiene(&store, &actor, email, kind, "test", "webhook", at)
            .await
            .unwrap();
    }
    // Twice: the suppression is not duplicated.
    contacts::record_hygiene(
        &store,
        &actor,
        "gone@example.com",
        "hard_bounce",
        "again",
        "webhook",
        at,
    )
    .await
    .unwrap();
    let gone = keel_store::privacy::suppressions_for(&store, "gone@example.com")
        .await
        .unwrap();
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert_eq!(
        (
            gone[0].scope.as_str(),
            gone[0].value.as_str(),
            gone[0].reason.as_str()
        ),
        ("channel", "email", "hard_bounce")
    );
    let angry = keel_store::privacy::suppressions_for(&store, "angry@example.com")
        .await
        .unwrap();
    assert_eq!(
        angry
            .iter()
            .map(|s| (s.scope.as_str(), s.value.as_str(), s.reason.as_str()))
            .collect::<Vec<_>>(),
        vec![("channel", "email", "complaint")]
    );
    // A sunset is Keel's own decision, not the mailbox's: no privacy suppression.
    assert!(
        keel_store::privacy::suppressions_for(&store, "quiet@example.com")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(
    bounces_and_complaints_suppress_the_email_channel_on_both,
    bounces_and_complaints_suppress_the_email_channel
);
