//! Privacy storage conformance: every test runs on SQLite and on PostgreSQL (see
//! `conformance.rs` for how PostgreSQL is found and when its half is skipped).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use keel_consent::ledger::{ConsentSource, ConsentState};
use keel_consent::spec::LawfulBasis;
use keel_events::{Event, EventType};
use keel_store::privacy::{
    self, ConsentTextRef, DoiOutcome, NewConsent, NewDoi, NewSubjectRequest,
};
use keel_store::{Actor, Store, audit, events};

fn t(day: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000 + day * 86_400, 0).unwrap()
}

fn consent(
    subject: &str,
    purpose: &str,
    state: ConsentState,
    day: i64,
    source: ConsentSource,
    text: bool,
) -> NewConsent {
    NewConsent {
        subject: subject.into(),
        contact_id: None,
        purpose: purpose.into(),
        state,
        at: t(day),
        source,
        jurisdiction: Some("eu".into()),
        lawful_basis: LawfulBasis::Consent,
        text: text.then(|| ConsentTextRef::Text {
            version: "v1".into(),
            body: "Send me Halyard news.".into(),
        }),
        detail: serde_json::json!({}),
    }
}

async fn ledger_round_trip(store: Store) {
    let actor = Actor::System("test");
    let a = privacy::record_consent(
        &store,
        &actor,
        &consent(
            "ana@example.com",
            "newsletter",
            ConsentState::Granted,
            1,
            ConsentSource::Form,
            true,
        ),
    )
    .await
    .unwrap();
    privacy::record_consent(
        &store,
        &actor,
        &consent(
            "ana@example.com",
            "newsletter",
            ConsentState::Withdrawn,
            2,
            ConsentSource::PreferenceCentre,
            false,
        ),
    )
    .await
    .unwrap();
    // An import without consent information after the withdrawal is kept but does not apply.
    privacy::record_consent(
        &store,
        &actor,
        &consent(
            "ana@example.com",
            "newsletter",
            ConsentState::Granted,
            3,
            ConsentSource::Import,
            false,
        ),
    )
    .await
    .unwrap();
    // The same text again is stored once.
    let b = privacy::record_consent(
        &store,
        &actor,
        &consent(
            "bo@example.com",
            "newsletter",
            ConsentState::Granted,
            1,
            ConsentSource::Form,
            true,
        ),
    )
    .await
    .unwrap();
    assert_eq!(a.text_hash, b.text_hash);
    let texts: i64 = keel_store::sql("SELECT COUNT(*) FROM consent_texts")
        .fetch_scalar(&store)
        .await
        .unwrap();
    assert_eq!(texts, 1);
    // Referencing a stored text by hash works; an unknown hash is refused.
    let mut by_hash = consent(
        "cy@example.com",
        "newsletter",
        ConsentState::Granted,
        1,
        ConsentSource::Api,
        false,
    );
    by_hash.text = Some(ConsentTextRef::Hash(a.text_hash.clone().unwrap()));
    assert_eq!(
        privacy::record_consent(&store, &actor, &by_hash)
            .await
            .unwrap()
            .text_version
            .as_deref(),
        Some("v1")
    );
    by_hash.text = Some(ConsentTextRef::Hash("sha256:nope".into()));
    assert!(
        privacy::record_consent(&store, &actor, &by_hash)
            .await
            .is_err()
    );

    let rows = privacy::ledger_for(&store, "ana@example.com")
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], a);
    assert_eq!(rows[0].at, t(1));
    let state = privacy::current_state(&store, "ana@example.com")
        .await
        .unwrap();
    let current = state.get("ana@example.com", "newsletter").unwrap();
    assert_eq!(current.state, ConsentState::Withdrawn);
    assert_eq!(state.ignored.len(), 1);
    let per_purpose = privacy::current_for_purpose(&store, "newsletter")
        .await
        .unwrap();
    assert_eq!(per_purpose.len(), 3);
    assert_eq!(per_purpose["bo@example.com"], ConsentState::Granted);
    let (found, total) = privacy::search_subjects(&store, "AN", 10, 0).await.unwrap();
    assert_eq!((found.len(), total, found[0].entries), (1, 1, 3));
    // Every ledger write is in the audit log, and the chain is intact.
    let (entries, _) = audit::list(
        &store,
        &audit::AuditFilter {
            entity_type: Some("consent".into()),
            ..Default::default()
        },
        50,
        0,
    )
    .await
    .unwrap();
    assert_eq!(entries.len(), 5);
    assert!(audit::verify(&store).await.unwrap().error.is_none());
}
on_both!(consent_ledger_round_trip, ledger_round_trip);

async fn suppressions_and_settings(store: Store) {
    let actor = Actor::System("test");
    let s = privacy::add_suppression(
        &store,
        &actor,
        "ana@example.com",
        "channel",
        "email",
        "hard_bounce",
    )
    .await
    .unwrap();
    let again = privacy::add_suppression(
        &store,
        &actor,
        "ana@example.com",
        "channel",
        "email",
        "complaint",
    )
    .await
    .unwrap();
    assert_eq!(s.id, again.id);
    privacy::add_suppression(
        &store,
        &actor,
        "ana@example.com",
        "global",
        "ignored",
        "request",
    )
    .await
    .unwrap();
    let list = privacy::suppressions_for(&store, "ana@example.com")
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].value, "");
    privacy::remove_suppression(&store, &actor, s.id)
        .await
        .unwrap();
    assert_eq!(
        privacy::list_suppressions(&store, "", 10, 0)
            .await
            .unwrap()
            .1,
        1
    );
    let secret = privacy::signing_secret(&store).await.unwrap();
    assert!(secret.len() >= 32);
    assert_eq!(privacy::signing_secret(&store).await.unwrap(), secret);
}
on_both!(suppressions_and_signing_secret, suppressions_and_settings);

async fn double_opt_in(store: Store) {
    let actor = Actor::System("test");
    let d = privacy::create_doi(
        &store,
        &actor,
        &NewDoi {
            nonce: "n1".into(),
            subject: "ana@example.com".into(),
            purpose: "newsletter".into(),
            jurisdiction: Some("eu".into()),
            text: Some(("v1".into(), "Send me Halyard news.".into())),
            expires_at: t(2),
        },
    )
    .await
    .unwrap();
    assert!(d.used_at.is_none());
    assert_eq!(privacy::list_dois(&store, true, 10).await.unwrap().len(), 1);
    match privacy::confirm_doi(&store, "n1", t(1), serde_json::json!({}))
        .await
        .unwrap()
    {
        DoiOutcome::Confirmed(row, entry) => {
            assert!(row.used_at.is_some());
            assert_eq!(entry.state, "granted");
            assert_eq!(entry.text_hash, d.text_hash);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        privacy::confirm_doi(&store, "n1", t(1), serde_json::json!({}))
            .await
            .unwrap(),
        DoiOutcome::AlreadyUsed(_)
    ));
    assert!(matches!(
        privacy::confirm_doi(&store, "nx", t(1), serde_json::json!({}))
            .await
            .unwrap(),
        DoiOutcome::Unknown
    ));
    privacy::create_doi(
        &store,
        &actor,
        &NewDoi {
            nonce: "n2".into(),
            subject: "bo@example.com".into(),
            purpose: "newsletter".into(),
            jurisdiction: None,
            text: None,
            expires_at: t(2),
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        privacy::confirm_doi(&store, "n2", t(3), serde_json::json!({}))
            .await
            .unwrap(),
        DoiOutcome::Expired(_)
    ));
    assert_eq!(privacy::list_dois(&store, true, 10).await.unwrap().len(), 1);
}
on_both!(double_opt_in_is_single_use, double_opt_in);

async fn event(
    store: &Store,
    source: i64,
    id: &str,
    user: Option<&str>,
    email: Option<&str>,
    at: DateTime<Utc>,
) {
    let e = Event {
        message_id: id.into(),
        event_type: EventType::Track,
        name: Some("Viewed".into()),
        user_id: user.map(str::to_string),
        anonymous_id: Some("anon".into()),
        group_id: None,
        previous_id: None,
        timestamp: at,
        received_at: at,
        sent_at: None,
        properties: serde_json::json!({}),
        traits: email.map_or(serde_json::json!({}), |e| serde_json::json!({"email": e})),
        context: serde_json::json!({}),
    };
    events::ingest(store, source, &[e], &[]).await.unwrap();
}

async fn requests_export_and_erasure(store: Store) {
    let actor = Actor::System("test");
    let (source, _) = events::create_source(&store, &actor, "web").await.unwrap();
    event(&store, source.id, "m1", Some("ana@example.com"), None, t(1)).await;
    event(
        &store,
        source.id,
        "m2",
        Some("c-17"),
        Some("Ana@Example.com"),
        t(1),
    )
    .await;
    event(
        &store,
        source.id,
        "m3",
        Some("someone-else"),
        Some("bo@example.com"),
        t(1),
    )
    .await;
    privacy::record_consent(
        &store,
        &actor,
        &consent(
            "ana@example.com",
            "newsletter",
            ConsentState::Granted,
            1,
            ConsentSource::Form,
            true,
        ),
    )
    .await
    .unwrap();
    privacy::add_suppression(
        &store,
        &actor,
        "ana@example.com",
        "brand",
        "halyard-kids",
        "request",
    )
    .await
    .unwrap();
    let new = NewSubjectRequest {
        kind: "access".into(),
        subject: "ana@example.com".into(),
        contact_id: Some("c-17".into()),
        jurisdiction: Some("eu".into()),
        deadline_rule: "one_month_plus_two".into(),
        received_at: t(0),
        due_on: t(30).date_naive(),
        extended_due_on: t(90).date_naive(),
        details: serde_json::json!({}),
    };
    let r = privacy::create_request(&store, &actor, &new).await.unwrap();
    assert_eq!(r.status, "received");
    // Completing needs verified identity.
    assert!(
        privacy::complete_request(&store, &actor, r.id, serde_json::json!({}))
            .await
            .is_err()
    );
    privacy::verify_request(&store, &actor, r.id, "replied from the address")
        .await
        .unwrap();
    let ext = privacy::extend_request(&store, &actor, r.id, "complex")
        .await
        .unwrap();
    assert_eq!(ext.effective_due_on(), Some(t(90).date_naive()));
    assert!(
        privacy::extend_request(&store, &actor, r.id, "again")
            .await
            .is_err()
    );

    let export = privacy::access_export(&store, "ana@example.com", Some("c-17"))
        .await
        .unwrap();
    assert_eq!(export.consent_ledger.len(), 1);
    assert_eq!(export.consent_texts.len(), 1);
    assert_eq!(export.suppressions.len(), 1);
    assert_eq!(export.subject_requests.len(), 1);
    let ids: Vec<&str> = export
        .events
        .iter()
        .map(|e| e.message_id.as_str())
        .collect();
    assert_eq!(ids, ["m1", "m2"]);
    assert_eq!(export.current_consent["newsletter"], "granted");
    privacy::complete_request(&store, &actor, r.id, serde_json::json!({"exported": true}))
        .await
        .unwrap();
    assert!(
        privacy::verify_request(&store, &actor, r.id, "x")
            .await
            .is_err()
    );

    let mut erase = new.clone();
    erase.kind = "erasure".into();
    let e = privacy::create_request(&store, &actor, &erase)
        .await
        .unwrap();
    privacy::verify_request(&store, &actor, e.id, "ok")
        .await
        .unwrap();
    let done = privacy::complete_request(&store, &actor, e.id, serde_json::json!(null))
        .await
        .unwrap();
    assert_eq!(done.status, "completed");
    let result = &done.result.unwrap().0["erasure"];
    assert_eq!(result["events_deleted"], 2);
    assert_eq!(result["ledger_rows_pseudonymised"], 1);
    assert!(
        privacy::is_tombstoned(&store, " ANA@example.com")
            .await
            .unwrap()
    );
    let after = privacy::access_export(&store, "ana@example.com", Some("c-17"))
        .await
        .unwrap();
    assert!(
        after.consent_ledger.is_empty() && after.events.is_empty() && after.suppressions.is_empty()
    );
    // The suppression survives under the digest, and the other person's event is untouched.
    let digest = privacy::subject_digest("ana@example.com");
    assert_eq!(
        privacy::suppressions_for(&store, &digest)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        privacy::events_for(&store, "bo@example.com", None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(audit::verify(&store).await.unwrap().error.is_none());
}
on_both!(
    subject_requests_export_and_erasure,
    requests_export_and_erasure
);

async fn retention(store: Store) {
    let actor = Actor::System("test");
    let (source, _) = events::create_source(&store, &actor, "web").await.unwrap();
    let now = Utc::now();
    event(
        &store,
        source.id,
        "old1",
        Some("a@example.com"),
        None,
        now - Duration::days(800),
    )
    .await;
    event(
        &store,
        source.id,
        "old2",
        Some("held@example.com"),
        None,
        now - Duration::days(800),
    )
    .await;
    event(
        &store,
        source.id,
        "new1",
        Some("a@example.com"),
        None,
        now - Duration::days(3),
    )
    .await;
    privacy::place_legal_hold(&store, &actor, "held@example.com", "litigation")
        .await
        .unwrap();
    let policy = keel_consent::retention::RetentionPolicySpec {
        contacts: None,
        events: Some(keel_consent::retention::EventRetention {
            older_than_months: 24,
            action: keel_consent::retention::RetentionAction::Delete,
        }),
    };
    let records = privacy::retention_records(&store).await.unwrap();
    let plan = keel_consent::retention::plan_retention(&policy, &records, now);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.held.len(), 1);
    let dry = privacy::record_dry_run(
        &store,
        &actor,
        "events-2y",
        now,
        serde_json::to_value(&plan).unwrap(),
        serde_json::json!({"event.delete": 1}),
    )
    .await
    .unwrap();
    // An event arriving after the dry run is not touched by its execution.
    event(
        &store,
        source.id,
        "old3",
        Some("b@example.com"),
        None,
        now - Duration::days(900),
    )
    .await;
    let run = privacy::execute_retention(&store, &actor, dry.id)
        .await
        .unwrap();
    assert_eq!(run.counts.0["applied"]["event.delete"], 1);
    assert!(
        privacy::execute_retention(&store, &actor, dry.id)
            .await
            .is_err()
    );
    let left: Vec<String> = keel_store::sql("SELECT message_id FROM events ORDER BY message_id")
        .fetch_all::<(String,)>(&store)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(left, ["new1", "old2", "old3"]);
}
on_both!(retention_executes_the_dry_run, retention);

async fn tags(store: Store) {
    let actor = Actor::System("test");
    let input = privacy::TagInput {
        name: "ga4".into(),
        vendor: "Google".into(),
        category: "analytics".into(),
        properties: vec!["www.halyard.example".into()],
        src_pattern: "googletagmanager.com/gtag".into(),
    };
    let tag = privacy::create_tag(&store, &actor, &input).await.unwrap();
    assert!(
        privacy::create_tag(&store, &actor, &input)
            .await
            .unwrap_err()
            .is_unique_violation()
    );
    let mut changed = input.clone();
    changed.category = "targeted_advertising".into();
    assert_eq!(
        privacy::update_tag(&store, &actor, tag.id, &changed)
            .await
            .unwrap()
            .category,
        "targeted_advertising"
    );
    assert_eq!(privacy::tags(&store).await.unwrap().len(), 1);
    privacy::delete_tag(&store, &actor, tag.id).await.unwrap();
    assert!(privacy::tags(&store).await.unwrap().is_empty());
}
on_both!(tag_registry_crud, tags);
