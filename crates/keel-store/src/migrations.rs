//! Schema migrations, written once for both databases.
//!
//! Each migration is SQL with a few type placeholders (`{id}`, `{ts}`, `{json}`, `{int}`,
//! `{real}`, `{bytes}`) that [`render`] turns into each dialect's column types. Migrations run at
//! start-up, each in its own transaction, and are recorded in `keel_migrations`; a database that
//! was migrated by a newer Keel is refused rather than misread.

use crate::{Backend, Result, Store, StoreError, Tx, now, sql};

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Strictly increasing version number.
    pub version: i64,
    /// Short description.
    pub name: &'static str,
    /// SQL with type placeholders.
    pub sql: &'static str,
}

/// Every migration, in order. Later capabilities append to this list; never edit a released one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "accounts, audit log and jobs",
        sql: r#"
CREATE TABLE users (
    id {id},
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE TABLE user_roles (
    user_id {int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE TABLE teams (
    id {id},
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at {ts} NOT NULL
);
CREATE TABLE team_members (
    team_id {int} NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id {int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE TABLE sessions (
    id_digest TEXT PRIMARY KEY,
    user_id {int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
    id {id},
    user_id {int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    display_prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at {ts} NOT NULL,
    last_used_at {ts},
    revoked_at {ts}
);
CREATE TABLE audit_log (
    seq {int} PRIMARY KEY,
    at {ts} NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit_log(entity_type, entity_id);
CREATE TABLE jobs (
    id {id},
    kind TEXT NOT NULL,
    payload {json} NOT NULL,
    status TEXT NOT NULL,
    run_at {ts} NOT NULL,
    attempts {int} NOT NULL DEFAULT 0,
    max_attempts {int} NOT NULL,
    last_error TEXT,
    locked_by TEXT,
    locked_until {ts},
    schedule_name TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    finished_at {ts}
);
CREATE INDEX jobs_ready ON jobs(status, run_at);
CREATE TABLE job_schedules (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload {json} NOT NULL,
    every_seconds {int} NOT NULL,
    next_run_at {ts} NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE
);
"#,
    },
    Migration {
        version: 2,
        name: "event sources, events and rejected events",
        sql: r#"
CREATE TABLE sources (
    id {id},
    name TEXT NOT NULL UNIQUE,
    write_key_digest TEXT NOT NULL UNIQUE,
    write_key_prefix TEXT NOT NULL,
    created_at {ts} NOT NULL,
    disabled_at {ts}
);
CREATE TABLE events (
    id {id},
    source_id {int} NOT NULL REFERENCES sources(id),
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    name TEXT,
    user_id TEXT,
    anonymous_id TEXT,
    group_id TEXT,
    previous_id TEXT,
    timestamp {ts} NOT NULL,
    received_at {ts} NOT NULL,
    sent_at {ts},
    properties {json} NOT NULL,
    traits {json} NOT NULL,
    context {json} NOT NULL,
    UNIQUE (source_id, message_id)
);
CREATE INDEX events_user ON events(user_id, timestamp);
CREATE INDEX events_anonymous ON events(anonymous_id, timestamp);
CREATE TABLE event_rejects (
    id {id},
    source_id {int} REFERENCES sources(id),
    received_at {ts} NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload TEXT NOT NULL
);
"#,
    },
    Migration {
        version: 3,
        name: "ops-as-code documents",
        sql: r#"
CREATE TABLE documents (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    api_version TEXT NOT NULL,
    metadata {json} NOT NULL,
    spec {json} NOT NULL,
    revision {int} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    PRIMARY KEY (kind, name)
);
"#,
    },
    Migration {
        version: 4,
        name: "stored email and page check runs",
        sql: r#"
CREATE TABLE check_runs (
    id {id},
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    errors {int} NOT NULL,
    warnings {int} NOT NULL,
    infos {int} NOT NULL,
    report {json} NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
"#,
    },
    Migration {
        version: 5,
        name: "outgoing webhooks and sent notifications",
        sql: r#"
CREATE TABLE webhooks (
    id {id},
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    format TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE notifications (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    payload {json} NOT NULL,
    created_at {ts} NOT NULL
);
"#,
    },
    Migration {
        version: 9,
        name: "attribution imports, quarantine and results",
        sql: r#"
CREATE TABLE ad_costs (
    platform TEXT NOT NULL,
    day TEXT NOT NULL,
    campaign TEXT NOT NULL,
    impressions {int} NOT NULL,
    clicks {int} NOT NULL,
    cost_minor {int} NOT NULL,
    currency TEXT NOT NULL,
    imported_at {ts} NOT NULL,
    PRIMARY KEY (platform, day, campaign)
);
CREATE TABLE opportunities (
    opportunity_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    contact_email TEXT,
    amount_minor {int} NOT NULL,
    currency TEXT NOT NULL,
    stage TEXT NOT NULL,
    won {int} NOT NULL,
    close_date TEXT,
    imported_at {ts} NOT NULL
);
CREATE INDEX opportunities_email ON opportunities (contact_email);
CREATE TABLE import_quarantine (
    id {id},
    kind TEXT NOT NULL,
    file TEXT NOT NULL,
    row_number {int} NOT NULL,
    raw TEXT NOT NULL,
    reasons {json} NOT NULL,
    created_at {ts} NOT NULL,
    UNIQUE (kind, raw)
);
CREATE TABLE attribution_runs (
    id {id},
    computed_at {ts} NOT NULL,
    summary {json} NOT NULL
);
CREATE TABLE attribution_results (
    id {id},
    run_id {int} NOT NULL,
    model TEXT NOT NULL,
    channel TEXT NOT NULL,
    campaign TEXT,
    conversions {real} NOT NULL,
    value {real} NOT NULL
);
CREATE INDEX attribution_results_model ON attribution_results (model);
"#,
    },
];

/// Turns a migration's placeholders into the column types of `backend`.
pub fn render(sql: &str, backend: Backend) -> String {
    let pairs: [(&str, &str, &str); 6] = [
        (
            "{id}",
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        ),
        ("{ts}", "TEXT", "TIMESTAMPTZ"),
        ("{json}", "TEXT", "JSONB"),
        ("{int}", "INTEGER", "BIGINT"),
        ("{real}", "REAL", "DOUBLE PRECISION"),
        ("{bytes}", "BLOB", "BYTEA"),
    ];
    let mut out = sql.to_string();
    for (placeholder, sqlite, postgres) in pairs {
        out = out.replace(
            placeholder,
            match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            },
        );
    }
    out
}

/// Brings the schema up to date. Safe to run on every start and from several processes.
pub async fn migrate(store: &Store) -> Result<Vec<i64>> {
    let backend = store.backend();
    let mut tx = store.begin().await?;
    lock_for_migration(&mut tx).await?;
    Store::execute_script(
        &mut tx,
        &render(
            "CREATE TABLE IF NOT EXISTS keel_migrations (version {int} PRIMARY KEY, name TEXT NOT NULL, applied_at {ts} NOT NULL)",
            backend,
        ),
    )
    .await?;
    let applied: Vec<i64> = sql("SELECT version FROM keel_migrations ORDER BY version")
        .fetch_all::<(i64,)>(&mut tx)
        .await?
        .into_iter()
        .map(|(v,)| v)
        .collect();
    let known_max = MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some(newer) = applied.iter().find(|v| **v > known_max) {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {newer}, newer than this Keel knows ({known_max}); upgrade Keel"
        )));
    }
    let mut ran = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        Store::execute_script(&mut tx, &render(m.sql, backend)).await?;
        sql("INSERT INTO keel_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(now())
            .execute(&mut tx)
            .await?;
        ran.push(m.version);
    }
    tx.commit().await?;
    Ok(ran)
}

async fn lock_for_migration(tx: &mut Tx) -> Result<()> {
    // SQLite: BEGIN IMMEDIATE already holds the write lock. PostgreSQL: an advisory lock keeps two
    // servers starting at once from running the same migration twice.
    if tx.backend() == Backend::Postgres {
        sql("SELECT pg_advisory_xact_lock(7261001)")
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
