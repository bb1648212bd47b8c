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
        version: 6,
        name: "work: requests, transitions, decisions, approvals, escalations, calendar feeds",
        sql: r#"
CREATE TABLE work_requests (
    id {id},
    request_type TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    fields {json} NOT NULL,
    requester_id {int} NOT NULL,
    requester TEXT NOT NULL,
    requested_launch TEXT,
    planned_launch TEXT,
    plan {json},
    version {int} NOT NULL,
    rework_count {int} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX work_requests_status ON work_requests (status);
CREATE INDEX work_requests_requester ON work_requests (requester_id);
CREATE TABLE work_transitions (
    id {id},
    request_id {int} NOT NULL REFERENCES work_requests (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    at {ts} NOT NULL
);
CREATE INDEX work_transitions_request ON work_transitions (request_id, at);
CREATE TABLE work_decisions (
    id {id},
    request_id {int} NOT NULL REFERENCES work_requests (id),
    outcome TEXT NOT NULL,
    policy TEXT,
    rule TEXT,
    decided_by TEXT NOT NULL,
    record {json} NOT NULL,
    at {ts} NOT NULL
);
CREATE INDEX work_decisions_request ON work_decisions (request_id);
CREATE TABLE work_approvals (
    id {id},
    request_id {int} NOT NULL REFERENCES work_requests (id),
    decision_id {int} NOT NULL REFERENCES work_decisions (id),
    approvers {json} NOT NULL,
    needed TEXT NOT NULL,
    quorum {int},
    status TEXT NOT NULL,
    created_at {ts} NOT NULL,
    closed_at {ts}
);
CREATE INDEX work_approvals_status ON work_approvals (status);
CREATE TABLE work_votes (
    id {id},
    approval_id {int} NOT NULL REFERENCES work_approvals (id),
    voter TEXT NOT NULL,
    vote TEXT NOT NULL,
    comment TEXT,
    at {ts} NOT NULL,
    UNIQUE (approval_id, voter)
);
CREATE TABLE work_comments (
    id {id},
    request_id {int} NOT NULL REFERENCES work_requests (id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    at {ts} NOT NULL
);
CREATE TABLE work_escalations (
    key TEXT PRIMARY KEY,
    request_id {int} NOT NULL REFERENCES work_requests (id),
    clock TEXT NOT NULL,
    level {int} NOT NULL,
    notify {json} NOT NULL,
    due_at {ts} NOT NULL,
    raised_at {ts} NOT NULL
);
CREATE TABLE work_roster (
    id {int} PRIMARY KEY,
    roster {json} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE TABLE work_check_runs (
    request_id {int} NOT NULL REFERENCES work_requests (id),
    check_run_id {int} NOT NULL REFERENCES check_runs (id),
    attached_by TEXT NOT NULL,
    attached_at {ts} NOT NULL,
    PRIMARY KEY (request_id, check_run_id)
);
CREATE TABLE calendar_feeds (
    user_id {int} PRIMARY KEY,
    token_digest TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL
);
"#,
    },
    Migration {
        version: 7,
        name: "privacy: consent ledger, suppressions, double opt-in, subject requests, tags, retention",
        sql: r#"
CREATE TABLE privacy_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE consent_texts (
    hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    version TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE consent_ledger (
    id {id},
    subject TEXT NOT NULL,
    contact_id TEXT,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    at {ts} NOT NULL,
    source TEXT NOT NULL,
    jurisdiction TEXT,
    lawful_basis TEXT NOT NULL,
    text_hash TEXT REFERENCES consent_texts(hash),
    text_version TEXT,
    detail {json} NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at {ts} NOT NULL
);
CREATE INDEX consent_ledger_subject ON consent_ledger(subject, purpose, at);
CREATE INDEX consent_ledger_purpose ON consent_ledger(purpose, subject);
CREATE TABLE privacy_preferences (
    subject TEXT PRIMARY KEY,
    max_sends_per_week {int},
    language TEXT,
    updated_at {ts} NOT NULL
);
CREATE TABLE suppressions (
    id {id},
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL,
    UNIQUE (subject, scope, value)
);
CREATE TABLE doi_tokens (
    nonce TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    jurisdiction TEXT,
    text_hash TEXT REFERENCES consent_texts(hash),
    text_version TEXT,
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL,
    used_at {ts}
);
CREATE INDEX doi_tokens_subject ON doi_tokens(subject);
CREATE TABLE subject_requests (
    id {id},
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    contact_id TEXT,
    jurisdiction TEXT,
    deadline_rule TEXT NOT NULL,
    status TEXT NOT NULL,
    identity_verified BOOLEAN NOT NULL,
    verification_note TEXT,
    received_at {ts} NOT NULL,
    due_on TEXT NOT NULL,
    extended_due_on TEXT NOT NULL,
    extended BOOLEAN NOT NULL,
    extension_reason TEXT,
    details {json} NOT NULL,
    result {json},
    completed_at {ts},
    created_by TEXT NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX subject_requests_subject ON subject_requests(subject);
CREATE TABLE erasure_tombstones (
    subject_digest TEXT PRIMARY KEY,
    request_id {int},
    erased_at {ts} NOT NULL
);
CREATE TABLE legal_holds (
    subject TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE privacy_tags (
    id {id},
    name TEXT NOT NULL UNIQUE,
    vendor TEXT NOT NULL,
    category TEXT NOT NULL,
    properties {json} NOT NULL,
    src_pattern TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE TABLE retention_runs (
    id {id},
    policy TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    as_of {ts} NOT NULL,
    dry_run_id {int},
    plan {json} NOT NULL,
    counts {json} NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL,
    finished_at {ts}
);
CREATE TABLE eligibility_runs (
    id {id},
    status TEXT NOT NULL,
    purpose TEXT NOT NULL,
    campaign {json} NOT NULL,
    segment TEXT NOT NULL,
    subjects {json} NOT NULL,
    total {int} NOT NULL,
    eligible {int} NOT NULL,
    by_reason {json} NOT NULL,
    error TEXT,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL,
    finished_at {ts}
);
"#,
    },
    Migration {
        version: 8,
        name: "contacts and accounts, imports, quarantine, duplicates, merges, hygiene, lifecycle, hand-offs",
        sql: r#"
CREATE TABLE contact_records (
    id TEXT PRIMARY KEY,
    object TEXT NOT NULL,
    email TEXT,
    name TEXT NOT NULL,
    company TEXT,
    source TEXT NOT NULL,
    source_id TEXT,
    lifecycle_stage TEXT NOT NULL,
    score {real} NOT NULL DEFAULT 0,
    owner TEXT,
    suppressed BOOLEAN NOT NULL DEFAULT FALSE,
    suppression_reason TEXT,
    merged_into TEXT,
    last_engaged_at {ts},
    record TEXT NOT NULL,
    revision {int} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX contact_records_email ON contact_records(email);
CREATE INDEX contact_records_object ON contact_records(object, merged_into);
CREATE INDEX contact_records_stage ON contact_records(lifecycle_stage);
CREATE TABLE contact_imports (
    id {id},
    file_name TEXT NOT NULL,
    layout TEXT NOT NULL,
    status TEXT NOT NULL,
    rows_read {int} NOT NULL DEFAULT 0,
    accepted {int} NOT NULL DEFAULT 0,
    updated {int} NOT NULL DEFAULT 0,
    quarantined {int} NOT NULL DEFAULT 0,
    unchanged {int} NOT NULL DEFAULT 0,
    merged {int} NOT NULL DEFAULT 0,
    queued_for_review {int} NOT NULL DEFAULT 0,
    check_duplicates BOOLEAN NOT NULL DEFAULT TRUE,
    error TEXT,
    content {bytes},
    job_id {int},
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL,
    finished_at {ts}
);
CREATE TABLE contact_import_keys (
    key TEXT PRIMARY KEY,
    import_id {int} NOT NULL,
    record_id TEXT
);
CREATE TABLE contact_quarantine (
    id {id},
    import_id {int} NOT NULL REFERENCES contact_imports(id),
    row_number {int} NOT NULL,
    line {int},
    raw_key TEXT NOT NULL UNIQUE,
    raw {json} NOT NULL,
    reasons {json} NOT NULL,
    resolved BOOLEAN NOT NULL DEFAULT FALSE,
    record_id TEXT,
    created_at {ts} NOT NULL,
    resolved_at {ts},
    resolved_by TEXT
);
CREATE INDEX contact_quarantine_import ON contact_quarantine(import_id, resolved);
CREATE TABLE contact_duplicates (
    id {id},
    left_id TEXT NOT NULL,
    right_id TEXT NOT NULL,
    probability {real} NOT NULL,
    explanation {json} NOT NULL,
    status TEXT NOT NULL,
    origin TEXT NOT NULL,
    created_at {ts} NOT NULL,
    decided_at {ts},
    decided_by TEXT,
    UNIQUE (left_id, right_id)
);
CREATE INDEX contact_duplicates_status ON contact_duplicates(status);
CREATE TABLE contact_merges (
    id {id},
    survivor_id TEXT NOT NULL,
    absorbed_id TEXT NOT NULL,
    merge_record TEXT NOT NULL,
    merged_revision {int} NOT NULL,
    probability {real},
    actor TEXT NOT NULL,
    created_at {ts} NOT NULL,
    undone_at {ts},
    undone_by TEXT
);
CREATE INDEX contact_merges_survivor ON contact_merges(survivor_id);
CREATE TABLE contact_hygiene (
    id {id},
    record_id TEXT,
    email TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    source TEXT NOT NULL,
    at {ts} NOT NULL
);
CREATE INDEX contact_hygiene_email ON contact_hygiene(email);
CREATE TABLE contact_lifecycle (
    id {id},
    record_id TEXT NOT NULL,
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    reason TEXT,
    actor TEXT NOT NULL,
    at {ts} NOT NULL
);
CREATE INDEX contact_lifecycle_record ON contact_lifecycle(record_id);
CREATE TABLE contact_handoffs (
    id {id},
    record_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    score {real} NOT NULL,
    status TEXT NOT NULL,
    started_at {ts} NOT NULL,
    due_at {ts} NOT NULL,
    decided_at {ts},
    reason TEXT,
    decided_by TEXT
);
CREATE INDEX contact_handoffs_status ON contact_handoffs(status);
CREATE TABLE contact_quality (
    id {id},
    at {ts} NOT NULL,
    object TEXT NOT NULL,
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    completeness {real},
    validity {real},
    uniqueness {real},
    freshness {real}
);
CREATE INDEX contact_quality_at ON contact_quality(at);
CREATE TABLE contact_engagement (
    id {id},
    record_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at {ts} NOT NULL
);
CREATE INDEX contact_engagement_record ON contact_engagement(record_id);
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
    Migration {
        version: 11,
        name: "MQL hand-off acceptance SLA outcome",
        sql: r#"
ALTER TABLE contact_handoffs ADD COLUMN sla_status TEXT;
ALTER TABLE contact_handoffs ADD COLUMN breached_at {ts};
"#,
    },
    Migration {
        version: 12,
        name: "privacy: erasure requests delivered to connected systems",
        sql: r#"
CREATE TABLE erasure_deliveries (
    id {id},
    request_id {int} NOT NULL,
    system TEXT NOT NULL,
    display_name TEXT NOT NULL,
    endpoint TEXT,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts {int} NOT NULL DEFAULT 0,
    last_error TEXT,
    job_id {int},
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    done_at {ts},
    done_by TEXT,
    note TEXT,
    UNIQUE (request_id, system)
);
CREATE INDEX erasure_deliveries_request ON erasure_deliveries(request_id);
"#,
    },
    Migration {
        version: 13,
        name: "attribution journeys kept between runs",
        sql: r#"
CREATE TABLE attribution_journeys (
    id {id},
    person TEXT NOT NULL,
    journey {json} NOT NULL
);
CREATE INDEX attribution_journeys_person ON attribution_journeys (person);
CREATE TABLE attribution_identities (
    id_key TEXT PRIMARY KEY,
    person TEXT NOT NULL
);
CREATE INDEX attribution_identities_person ON attribution_identities (person);
CREATE TABLE attribution_people (
    person TEXT PRIMARY KEY,
    untouched_conversions {int} NOT NULL,
    emails {json} NOT NULL
);
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
