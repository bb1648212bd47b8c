//! The two-database harness of the storage tests: every test body runs on a fresh SQLite file
//! and then on its own PostgreSQL schema (`KEEL_TEST_POSTGRES`, skipped with a message when
//! unreachable, except under `CI=true`, where it fails).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use keel_store::{Store, migrations};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The PostgreSQL server the tests use.
pub fn pg_url() -> String {
    std::env::var("KEEL_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A migrated SQLite database in a temporary directory (kept while the directory lives).
pub async fn sqlite_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    (store, dir)
}

/// A migrated PostgreSQL schema of its own for `test` (`t_…`, which CI drops before a run), or
/// `None` when the server is unreachable outside CI.
pub async fn postgres_store(test: &str) -> Option<Store> {
    let schema = format!(
        "t_{}_{}_{}",
        test,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    match Store::connect_postgres_schema(&pg_url(), &schema).await {
        Ok(store) => {
            migrations::migrate(&store).await.unwrap();
            Some(store)
        }
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "PostgreSQL is required on CI but unreachable at {}: {e}",
                    pg_url()
                );
            }
            eprintln!(
                "SKIPPED PostgreSQL half of `{test}`: cannot reach {}: {e}",
                pg_url()
            );
            None
        }
    }
}

/// Defines test `$name` running `$body` (an async fn taking `Store`) on both databases.
macro_rules! on_both {
    ($name:ident, $body:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (store, _dir) = crate::common::sqlite_store().await;
            assert_eq!(store.backend(), ::keel_store::Backend::Sqlite);
            $body(store).await;
            if let Some(store) = crate::common::postgres_store(stringify!($name)).await {
                assert_eq!(store.backend(), ::keel_store::Backend::Postgres);
                $body(store).await;
            }
        }
    };
}
