//! The runner against a real SQLite database: success, retry with backoff, give-up, restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_jobs::{Outcome, Runner};
use keel_store::jobs::{self, NewJob};
use keel_store::{Store, migrations};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

async fn store(dir: &tempfile::TempDir) -> Store {
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    store
}

#[tokio::test]
async fn runs_retries_and_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let calls = Arc::new(AtomicU32::new(0));
    let mut runner = Runner::new(store.clone());
    let c = calls.clone();
    runner.register("ok", move |ctx| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            assert_eq!(ctx.job.payload.0["x"], 1);
            Ok(())
        }
    });
    runner.register("flaky", |_ctx| async {
        Err("upstream said 503".to_string())
    });

    let ok = jobs::enqueue(&store, &NewJob::now("ok", serde_json::json!({"x": 1})))
        .await
        .unwrap();
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some(Outcome::Succeeded(ok))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let flaky = jobs::enqueue(
        &store,
        &NewJob {
            max_attempts: 2,
            ..NewJob::now("flaky", serde_json::json!({}))
        },
    )
    .await
    .unwrap();
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some(Outcome::Retrying(flaky))
    );
    let j = jobs::job(&store, flaky).await.unwrap();
    assert_eq!(j.status, "queued");
    assert_eq!(j.last_error.as_deref(), Some("upstream said 503"));
    assert!(j.run_at > keel_store::now(), "retry is delayed by backoff");
    // Not due yet.
    assert_eq!(runner.run_once().await.unwrap(), None);
    keel_store::sql("UPDATE jobs SET run_at = $1 WHERE id = $2")
        .bind(keel_store::now())
        .bind(flaky)
        .execute(&store)
        .await
        .unwrap();
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some(Outcome::Failed(flaky))
    );
    assert_eq!(jobs::job(&store, flaky).await.unwrap().status, "failed");

    let unknown = jobs::enqueue(&store, &NewJob::now("nobody", serde_json::json!({})))
        .await
        .unwrap();
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some(Outcome::Failed(unknown))
    );
    assert!(
        jobs::job(&store, unknown)
            .await
            .unwrap()
            .last_error
            .unwrap()
            .contains("no handler")
    );
}

#[tokio::test]
async fn queued_jobs_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = store(&dir).await;
        let id = jobs::enqueue(&store, &NewJob::now("ok", serde_json::json!({})))
            .await
            .unwrap();
        // A runner claims it and then "dies" without finishing (lease already over).
        jobs::claim_next(&store, "dead-runner", chrono::Duration::seconds(-1))
            .await
            .unwrap();
        store.close().await;
        id
    };
    let store = store(&dir).await;
    let mut runner = Runner::new(store.clone());
    runner.register("ok", |_| async { Ok(()) });
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some(Outcome::Succeeded(id))
    );
}
