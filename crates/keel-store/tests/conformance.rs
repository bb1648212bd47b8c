//! The storage conformance suite: every test runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL is taken from `KEEL_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it cannot be reached the PostgreSQL half is skipped with a message — unless `CI=true`, where
//! skipping would hide a broken backend, so the test fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use chrono::Duration;
use keel_accounts::{EmailAddress, Role, hash_password, new_api_token};
use keel_store::accounts::{self, NewUser, UserChanges};
use keel_store::jobs::{self, NewJob};
use keel_store::{Actor, Store, audit, migrations, sql};

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

async fn users_roles_and_audit(store: Store) {
    let admin = Actor::System("test");
    let u = accounts::create_user(
        &store,
        &admin,
        &NewUser {
            email: email("Ada@Example.com"),
            name: "Ada Lovelace".into(),
            password_hash: Some(hash_password("analytical engine").unwrap()),
            roles: vec![Role::Ops, Role::Admin, Role::Ops],
        },
    )
    .await
    .unwrap();
    assert_eq!(u.user.email, "ada@example.com");
    assert_eq!(u.roles, vec![Role::Admin, Role::Ops]);

    let dup = accounts::create_user(
        &store,
        &admin,
        &NewUser {
            email: email("ada@example.com"),
            name: "Other".into(),
            password_hash: None,
            roles: vec![],
        },
    )
    .await;
    assert!(dup.unwrap_err().is_unique_violation());

    let (found, hash) = accounts::user_for_login(&store, &email("ada@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user.id, u.user.id);
    assert!(keel_accounts::verify_password("analytical engine", &hash.unwrap()).unwrap());

    let changed = accounts::update_user(
        &store,
        &Actor::User(u.user.id),
        u.user.id,
        &UserChanges {
            name: Some("Ada King".into()),
            roles: Some(vec![Role::Viewer]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(changed.user.name, "Ada King");
    assert_eq!(changed.roles, vec![Role::Viewer]);

    let (users, total) = accounts::list_users(&store, Some("king"), 10, 0)
        .await
        .unwrap();
    assert_eq!((users.len(), total), (1, 1));

    let (entries, total) = audit::list(&store, &audit::AuditFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(entries[0].action, "update");
    assert!(
        entries[0]
            .before
            .as_deref()
            .unwrap()
            .contains("Ada Lovelace")
    );
    assert!(entries[0].after.as_deref().unwrap().contains("Ada King"));
    let v = audit::verify(&store).await.unwrap();
    assert_eq!((v.checked, v.error), (2, None));
}
on_both!(users_roles_and_audit_on_both, users_roles_and_audit);

async fn audit_tampering_is_detected(store: Store) {
    let actor = Actor::System("test");
    for i in 0..5 {
        accounts::create_team(&store, &actor, &format!("Team {i}"), "")
            .await
            .unwrap();
    }
    assert_eq!(audit::verify(&store).await.unwrap().checked, 5);
    sql("UPDATE audit_log SET actor = 'user:666' WHERE seq = 3")
        .execute(&store)
        .await
        .unwrap();
    let v = audit::verify(&store).await.unwrap();
    assert_eq!(v.first_bad_seq, Some(3));
    assert_eq!(v.checked, 2);
    // Put it back, then delete a row instead.
    sql("UPDATE audit_log SET actor = 'system:test' WHERE seq = 3")
        .execute(&store)
        .await
        .unwrap();
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
    sql("DELETE FROM audit_log WHERE seq = 4")
        .execute(&store)
        .await
        .unwrap();
    let v = audit::verify(&store).await.unwrap();
    assert_eq!(v.first_bad_seq, Some(4));
}
on_both!(
    audit_tampering_is_detected_on_both,
    audit_tampering_is_detected
);

async fn sessions_and_tokens(store: Store) {
    let u = accounts::create_user(
        &store,
        &Actor::System("test"),
        &NewUser {
            email: email("grace@example.com"),
            name: "Grace".into(),
            password_hash: None,
            roles: vec![Role::Ops],
        },
    )
    .await
    .unwrap();
    let secret = keel_accounts::new_session_token();
    accounts::create_session(&store, u.user.id, &secret, "csrf")
        .await
        .unwrap();
    let s = accounts::session(&store, &secret).await.unwrap().unwrap();
    assert_eq!((s.user_id, s.csrf_token.as_str()), (u.user.id, "csrf"));
    assert!(accounts::session(&store, "wrong").await.unwrap().is_none());
    accounts::delete_session(&store, &secret).await.unwrap();
    assert!(accounts::session(&store, &secret).await.unwrap().is_none());

    let t = new_api_token();
    let token = accounts::create_token(
        &store,
        &Actor::User(u.user.id),
        u.user.id,
        "ci",
        &[Role::Ops],
        &t,
    )
    .await
    .unwrap();
    let found = accounts::token_by_secret(&store, &t.secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, token.id);
    assert_eq!(found.scope_roles(), vec![Role::Ops]);
    let stored: String = sql("SELECT digest FROM api_tokens WHERE id = $1")
        .bind(token.id)
        .fetch_scalar(&store)
        .await
        .unwrap();
    assert_ne!(stored, t.secret, "the secret itself is never stored");
    accounts::revoke_token(&store, &Actor::User(u.user.id), token.id)
        .await
        .unwrap();
    assert!(
        accounts::token_by_secret(&store, &t.secret)
            .await
            .unwrap()
            .is_none()
    );

    // Deactivating a user ends their sessions.
    let secret2 = keel_accounts::new_session_token();
    accounts::create_session(&store, u.user.id, &secret2, "c2")
        .await
        .unwrap();
    accounts::update_user(
        &store,
        &Actor::System("test"),
        u.user.id,
        &UserChanges {
            active: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(accounts::session(&store, &secret2).await.unwrap().is_none());
}
on_both!(sessions_and_tokens_on_both, sessions_and_tokens);

async fn job_queue(store: Store) {
    let id = jobs::enqueue(
        &store,
        &NewJob::now("demo.echo", serde_json::json!({"n": 1})),
    )
    .await
    .unwrap();
    let later = jobs::enqueue(
        &store,
        &NewJob {
            run_at: Some(keel_store::now() + Duration::hours(1)),
            ..NewJob::now("demo.later", serde_json::json!({}))
        },
    )
    .await
    .unwrap();
    let claimed = jobs::claim_next(&store, "r1", Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (claimed.id, claimed.attempts, claimed.status.as_str()),
        (id, 1, "running")
    );
    assert_eq!(claimed.payload.0["n"], 1);
    // Nothing else is due: the other job is in the future.
    assert!(
        jobs::claim_next(&store, "r2", Duration::minutes(5))
            .await
            .unwrap()
            .is_none()
    );
    jobs::fail(
        &store,
        id,
        "boom",
        Some(keel_store::now() - Duration::seconds(1)),
    )
    .await
    .unwrap();
    let again = jobs::claim_next(&store, "r2", Duration::seconds(-1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (id, 2));
    // Its lease (negative, so already expired) lets another runner take it over, as after a crash.
    let stolen = jobs::claim_next(&store, "r3", Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stolen.id, stolen.attempts, stolen.locked_by.as_deref()),
        (id, 3, Some("r3"))
    );
    jobs::succeed(&store, id).await.unwrap();
    assert_eq!(jobs::job(&store, id).await.unwrap().status, "succeeded");
    jobs::cancel(&store, later).await.unwrap();
    assert!(jobs::cancel(&store, later).await.is_err());
    assert_eq!(jobs::retry(&store, later).await.unwrap().status, "queued");

    jobs::ensure_schedule(
        &store,
        "tick",
        "demo.tick",
        serde_json::json!({}),
        Duration::hours(1),
    )
    .await
    .unwrap();
    let fired = jobs::enqueue_due_schedules(&store).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert!(
        jobs::enqueue_due_schedules(&store)
            .await
            .unwrap()
            .is_empty(),
        "fires once per interval"
    );
    let (all, total) = jobs::list(&store, None, 10, 0).await.unwrap();
    assert_eq!((all.len(), total), (3, 3));
}
on_both!(job_queue_on_both, job_queue);

async fn migrations_are_idempotent(store: Store) {
    assert!(migrations::migrate(&store).await.unwrap().is_empty());
    store.ping().await.unwrap();
}
on_both!(migrations_are_idempotent_on_both, migrations_are_idempotent);

async fn documents_apply_as_one_change(store: Store) {
    use keel_store::documents::{self, DesiredDocument, DocumentChange};
    let doc = |name: &str, seats: i64| DesiredDocument {
        kind: "Tool".into(),
        name: name.into(),
        api_version: "keel/v1".into(),
        metadata: serde_json::json!({"name": name}),
        spec: serde_json::json!({"vendor": "Acme", "seats": seats}),
    };
    let actor = Actor::System("test");
    documents::apply(
        &store,
        &actor,
        &[
            DocumentChange::Put(doc("hubspot", 10)),
            DocumentChange::Put(doc("segment", 5)),
        ],
        "initial",
    )
    .await
    .unwrap();
    let all = documents::list(&store, Some("Tool")).await.unwrap();
    assert_eq!(
        all.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        vec!["hubspot", "segment"]
    );
    // A failing change (delete of something absent) rolls the whole set back.
    let bad = documents::apply(
        &store,
        &actor,
        &[
            DocumentChange::Put(doc("hubspot", 99)),
            DocumentChange::Delete {
                kind: "Tool".into(),
                name: "nope".into(),
            },
        ],
        "broken",
    )
    .await;
    assert!(bad.is_err());
    let hub = documents::get(&store, "Tool", "hubspot")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((hub.spec.0["seats"].as_i64(), hub.revision), (Some(10), 1));
    // Optimistic concurrency.
    documents::put(&store, &actor, &doc("hubspot", 11), Some(1))
        .await
        .unwrap();
    let stale = documents::put(&store, &actor, &doc("hubspot", 12), Some(1)).await;
    assert!(matches!(stale, Err(keel_store::StoreError::Conflict(_))));
    documents::delete(&store, &actor, "Tool", "segment")
        .await
        .unwrap();
    assert_eq!(documents::list(&store, None).await.unwrap().len(), 1);
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(
    documents_apply_as_one_change_on_both,
    documents_apply_as_one_change
);

async fn work_requests_transitions_and_approvals(store: Store) {
    use keel_store::work::{self, EscalationRow, NewRequest};
    let actor = Actor::System("test");
    let at = keel_store::now();
    let mut tx = store.begin().await.unwrap();
    let r = work::insert_request(
        &mut tx,
        &actor,
        &NewRequest {
            request_type: "email_send".into(),
            title: "December newsletter".into(),
            status: "draft".into(),
            priority: "normal".into(),
            fields: serde_json::json!({"audience": {"segment": "emea", "size": 3}}),
            requester_id: 7,
            requester: "ana@example.com".into(),
            requested_launch: Some("2027-01-10".into()),
            planned_launch: None,
            plan: None,
            at,
        },
    )
    .await
    .unwrap();
    work::transition(
        &mut tx,
        &actor,
        r.id,
        r.version,
        "draft",
        "submitted",
        "ana@example.com",
        None,
        at,
    )
    .await
    .unwrap();
    let d = work::record_decision(
        &mut tx,
        &actor,
        r.id,
        "require_approval",
        Some("p"),
        Some("rule"),
        "policy",
        serde_json::json!({"reason": "why"}),
        at,
    )
    .await
    .unwrap();
    let a = work::open_approval(
        &mut tx,
        r.id,
        d.id,
        &["role:brand".into()],
        "quorum",
        Some(2),
        at,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let r = work::request(&store, r.id).await.unwrap();
    assert_eq!((r.status.as_str(), r.version), ("submitted", 2));
    assert_eq!(r.fields.0["audience"]["size"], 3);

    // Two moves from the same version: the second finds the request changed.
    let mut t1 = store.begin().await.unwrap();
    work::transition(
        &mut t1,
        &actor,
        r.id,
        r.version,
        "submitted",
        "in_review",
        "x",
        None,
        at,
    )
    .await
    .unwrap();
    t1.commit().await.unwrap();
    let mut t2 = store.begin().await.unwrap();
    let stale = work::transition(
        &mut t2,
        &actor,
        r.id,
        r.version,
        "submitted",
        "cancelled",
        "y",
        Some("late"),
        at,
    )
    .await;
    assert!(
        matches!(stale, Err(keel_store::StoreError::Conflict(_))),
        "{stale:?}"
    );
    drop(t2);
    let history = work::transitions(&store, r.id).await.unwrap();
    let moves: Vec<&str> = history.iter().map(|t| t.to_status.as_str()).collect();
    assert_eq!(moves, ["submitted", "in_review"]);

    // One vote per person; an approval closes once.
    let mut tx = store.begin().await.unwrap();
    work::vote(&mut tx, a.id, "dan@example.com", "approve", None, at)
        .await
        .unwrap();
    let twice = work::vote(&mut tx, a.id, "dan@example.com", "approve", None, at).await;
    assert!(
        matches!(twice, Err(keel_store::StoreError::Conflict(_))),
        "{twice:?}"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert!(
        work::close_approval(&mut tx, a.id, "approved", at)
            .await
            .unwrap()
    );
    assert!(
        !work::close_approval(&mut tx, a.id, "rejected", at)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert!(work::pending_approvals(&store).await.unwrap().is_empty());

    // Escalations are raised once per key.
    let e = EscalationRow {
        key: format!("sla:{}:approval:1", r.id),
        request_id: r.id,
        clock: "approval".into(),
        level: 1,
        notify: sqlx::types::Json(vec!["person:dan".into()]),
        due_at: at,
        raised_at: at,
    };
    assert!(work::record_escalation(&store, &e).await.unwrap());
    assert!(!work::record_escalation(&store, &e).await.unwrap());
    assert_eq!(
        work::escalations(&store, Some(r.id)).await.unwrap().len(),
        1
    );

    // Roster and calendar feeds.
    let roster =
        serde_json::json!({"people": [{"id": "dan", "weekly_hours": 40.0}], "allocations": []});
    work::set_roster(&store, &actor, &roster).await.unwrap();
    assert_eq!(work::roster(&store).await.unwrap(), Some(roster));
    work::set_calendar_feed(&store, &actor, 7, "digest-1")
        .await
        .unwrap();
    work::set_calendar_feed(&store, &actor, 7, "digest-2")
        .await
        .unwrap();
    assert_eq!(
        work::calendar_feed_user(&store, "digest-1").await.unwrap(),
        None
    );
    assert_eq!(
        work::calendar_feed_user(&store, "digest-2").await.unwrap(),
        Some(7)
    );
    assert_eq!(audit::verify(&store).await.unwrap().error, None);
}
on_both!(
    work_requests_transitions_and_approvals_on_both,
    work_requests_transitions_and_approvals
);
