//! Contact data: contacts and accounts (each record kept as its canonical JSON with per-field
//! lineage), imports and their quarantine, the duplicate review queue, merges with exact
//! un-merge, hygiene events and suppression, lifecycle history, MQL hand-offs and quality
//! snapshots.
//!
//! The decisions — what a row means, whether two records are the same person, what a merged
//! record says — are made by `keel-contacts`; this module only stores their results, each
//! change in a transaction with its audit entry. Imports write in batches, with one audit entry
//! per batch naming every row range, merge and queued pair, so a million-row file is audited
//! without a million chain links.
//!
//! Merges are optimistic: both records are re-read inside the transaction and updated only at
//! the revision that was read, so of two concurrent merges of the same records exactly one
//! commits and the other gets [`StoreError::Conflict`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use keel_contacts::dedupe::{Admitted, Decision, Matcher};
use keel_contacts::import::{AcceptedRow, QuarantinedRow, RowOutcome};
use keel_contacts::merge::{MergeRecord, SurvivorshipConfig, merge, unmerge};
use keel_contacts::{ObjectKind, Record};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, state};
use crate::{Actor, Backend, DbRef, Result, Store, StoreError, Tx, now, sql};

// ---------------------------------------------------------------------------------------------
// Records

/// A stored contact or account, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ContactRow {
    /// Keel id.
    pub id: String,
    /// `contact` or `account`.
    pub object: String,
    /// Canonical e-mail (contacts).
    pub email: Option<String>,
    /// Display name: the person's full name or the company name.
    pub name: String,
    /// Company (contacts) or domain (accounts).
    pub company: Option<String>,
    /// System that created the record.
    pub source: String,
    /// Id in that system.
    pub source_id: Option<String>,
    /// Lifecycle stage.
    pub lifecycle_stage: String,
    /// Current lead score.
    pub score: f64,
    /// Owner (sales rep) when assigned.
    pub owner: Option<String>,
    /// Whether the address is suppressed (hard bounce, complaint, sunset).
    pub suppressed: bool,
    /// Why.
    pub suppression_reason: Option<String>,
    /// When merged away, the surviving record.
    pub merged_into: Option<String>,
    /// Last engagement seen (for the sunset policy).
    pub last_engaged_at: Option<DateTime<Utc>>,
    /// Incremented on every change.
    pub revision: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

const ROW_COLUMNS: &str = "id, object, email, name, company, source, source_id, lifecycle_stage, score, owner, suppressed, suppression_reason, merged_into, last_engaged_at, revision, created_at, updated_at";

/// A stored record with its full content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRecord {
    /// The listed columns.
    #[serde(flatten)]
    pub row: ContactRow,
    /// The record: fields, custom fields and lineage.
    pub record: Record,
    /// The record exactly as stored (its deterministic stored form,
    /// [`Record::to_stored_json`]), for byte comparisons.
    #[serde(skip)]
    pub bytes: String,
}

#[derive(sqlx::FromRow)]
struct FullRow {
    #[sqlx(flatten)]
    row: ContactRow,
    record: String,
}

impl TryFrom<FullRow> for StoredRecord {
    type Error = StoreError;
    fn try_from(f: FullRow) -> Result<Self> {
        let record = Record::from_stored_json(&f.record)
            .map_err(|e| StoreError::Corrupt(format!("contact `{}`: {e}", f.row.id)))?;
        Ok(StoredRecord {
            row: f.row,
            record,
            bytes: f.record,
        })
    }
}

/// The id Keel gives a record that has a source id: stable across re-imports.
pub fn record_id(object: ObjectKind, source: &str, source_id: &str) -> String {
    let digest = Sha256::digest(format!("{source}\u{1f}{source_id}").as_bytes());
    format!("{}_{}", prefix(object), hex(&digest[..10]))
}

/// The id of a record without a source id, from its import key.
pub fn record_id_from_key(object: ObjectKind, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("{}_{}", prefix(object), hex(&digest[..10]))
}

fn prefix(object: ObjectKind) -> &'static str {
    match object {
        ObjectKind::Contact => "ct",
        ObjectKind::Account => "ac",
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing into a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn text_of(record: &Record, field: &str) -> Option<String> {
    record
        .get(field)
        .map(|v| v.as_text())
        .filter(|s| !s.trim().is_empty())
}

/// The searchable columns derived from a record.
struct Derived {
    email: Option<String>,
    name: String,
    company: Option<String>,
    stage: String,
    owner: Option<String>,
}

fn derive(record: &Record) -> Derived {
    match record.object {
        ObjectKind::Contact => {
            let name = [text_of(record, "first_name"), text_of(record, "last_name")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let email = text_of(record, "email").map(|e| e.to_lowercase());
            Derived {
                name: if name.is_empty() {
                    email.clone().unwrap_or_else(|| record.id.clone())
                } else {
                    name
                },
                email,
                company: text_of(record, "company"),
                stage: text_of(record, "lifecycle_stage")
                    .map(|s| s.to_lowercase())
                    .filter(|s| keel_contacts::lifecycle::Stage::parse(s).is_some())
                    .unwrap_or_else(|| "lead".into()),
                owner: text_of(record, "owner"),
            }
        }
        ObjectKind::Account => Derived {
            name: text_of(record, "name")
                .or_else(|| text_of(record, "domain"))
                .unwrap_or_else(|| record.id.clone()),
            email: None,
            company: text_of(record, "domain"),
            stage: "customer".into(),
            owner: text_of(record, "owner"),
        },
    }
}

fn object_name(object: ObjectKind) -> &'static str {
    match object {
        ObjectKind::Contact => "contact",
        ObjectKind::Account => "account",
    }
}

/// Inserts a new record (not audited: callers audit the operation that created it).
async fn insert_record(tx: &mut Tx, record: &Record, merged_into: Option<&str>) -> Result<()> {
    let d = derive(record);
    sql("INSERT INTO contact_records (id, object, email, name, company, source, source_id, lifecycle_stage, owner, merged_into, record, revision, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13)")
        .bind(&record.id)
        .bind(object_name(record.object))
        .bind(d.email)
        .bind(d.name)
        .bind(d.company)
        .bind(&record.source)
        .bind(record.source_id.clone())
        .bind(d.stage)
        .bind(d.owner)
        .bind(merged_into.map(str::to_string))
        .bind(record.to_stored_json())
        .bind(record.created_at)
        .bind(record.updated_at)
        .execute(tx)
        .await?;
    Ok(())
}

/// Rewrites a record at the revision it was read at; `Conflict` if someone changed it since.
async fn update_record(
    tx: &mut Tx,
    record: &Record,
    revision: i64,
    merged_into: Option<&str>,
) -> Result<()> {
    let d = derive(record);
    let n = sql("UPDATE contact_records SET email = $1, name = $2, company = $3, source_id = $4, lifecycle_stage = $5, owner = $6, merged_into = $7, record = $8, revision = revision + 1, updated_at = $9 WHERE id = $10 AND revision = $11")
        .bind(d.email)
        .bind(d.name)
        .bind(d.company)
        .bind(record.source_id.clone())
        .bind(d.stage)
        .bind(d.owner)
        .bind(merged_into.map(str::to_string))
        .bind(record.to_stored_json())
        .bind(now())
        .bind(&record.id)
        .bind(revision)
        .execute(tx)
        .await?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "`{}` was changed by someone else; reload and try again",
            record.id
        )));
    }
    Ok(())
}

/// Creates one record, audited. A contact whose e-mail address was erased is refused (a
/// conflict naming [`ERASED_REASON`]).
pub async fn create(store: &Store, actor: &Actor, record: &Record) -> Result<()> {
    refuse_erased(store, record).await?;
    let mut tx = store.begin().await?;
    insert_record(&mut tx, record, None).await?;
    audit::record(
        &mut tx,
        actor,
        "create",
        object_name(record.object),
        &record.id,
        None,
        Some(state(record)?),
    )
    .await?;
    tx.commit().await
}

/// Reads one record.
pub async fn get<'a>(db: impl Into<DbRef<'a>>, id: &str) -> Result<StoredRecord> {
    find(db, id).await?.ok_or_else(|| StoreError::NotFound {
        entity: "contact",
        id: id.to_string(),
    })
}

/// Reads one record, if it exists.
pub async fn find<'a>(db: impl Into<DbRef<'a>>, id: &str) -> Result<Option<StoredRecord>> {
    sql(format!(
        "SELECT {ROW_COLUMNS}, record FROM contact_records WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional::<FullRow>(db)
    .await?
    .map(StoredRecord::try_from)
    .transpose()
}

/// A filter over records.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// `contact` or `account`.
    pub object: Option<String>,
    /// Matches name, e-mail or company (case-insensitive substring).
    pub q: Option<String>,
    /// Lifecycle stage.
    pub stage: Option<String>,
    /// Only suppressed (true) or only not suppressed (false).
    pub suppressed: Option<bool>,
    /// Include records merged into others.
    pub include_merged: bool,
}

/// Lists records with the total matching the filter.
pub async fn list(
    store: &Store,
    filter: &RecordFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ContactRow>, i64)> {
    let mut conditions = Vec::new();
    let mut args: Vec<crate::Value> = Vec::new();
    if let Some(o) = &filter.object {
        args.push(o.clone().into());
        conditions.push(format!("object = ${}", args.len()));
    }
    if let Some(q) = filter.q.as_ref().filter(|q| !q.trim().is_empty()) {
        args.push(format!("%{}%", q.trim().to_lowercase()).into());
        let n = args.len();
        conditions.push(format!(
            "(LOWER(name) LIKE ${n} OR LOWER(COALESCE(email, '')) LIKE ${n} OR LOWER(COALESCE(company, '')) LIKE ${n})"
        ));
    }
    if let Some(s) = &filter.stage {
        args.push(s.clone().into());
        conditions.push(format!("lifecycle_stage = ${}", args.len()));
    }
    if let Some(s) = filter.suppressed {
        args.push(s.into());
        conditions.push(format!("suppressed = ${}", args.len()));
    }
    if !filter.include_merged {
        conditions.push("merged_into IS NULL".into());
    }
    let clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let mut count = sql(format!("SELECT COUNT(*) FROM contact_records{clause}"));
    for a in &args {
        count = count.bind(a.clone());
    }
    let total = count.fetch_scalar(store).await?;
    let mut q = sql(format!(
        "SELECT {ROW_COLUMNS} FROM contact_records{clause} ORDER BY updated_at DESC, id LIMIT ${} OFFSET ${}",
        args.len() + 1,
        args.len() + 2
    ));
    for a in args {
        q = q.bind(a);
    }
    let rows = q.bind(limit).bind(offset).fetch_all(store).await?;
    Ok((rows, total))
}

/// Every active (not merged) record of an object, in full — for matching, scoring, segments
/// and quality reports.
pub async fn active_records(store: &Store, object: ObjectKind) -> Result<Vec<StoredRecord>> {
    sql(format!(
        "SELECT {ROW_COLUMNS}, record FROM contact_records WHERE object = $1 AND merged_into IS NULL ORDER BY id"
    ))
    .bind(object_name(object))
    .fetch_all::<FullRow>(store)
    .await?
    .into_iter()
    .map(StoredRecord::try_from)
    .collect()
}

/// Builds the real-time duplicate index over every active contact.
pub async fn matcher(
    store: &Store,
    thresholds: keel_contacts::dedupe::Thresholds,
) -> Result<Matcher> {
    let records = active_records(store, ObjectKind::Contact).await?;
    Matcher::build(records.iter().map(|r| &r.record), thresholds)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The ids of every stored record (contacts and accounts, merged ones too).
pub async fn record_ids(store: &Store) -> Result<HashSet<String>> {
    Ok(sql("SELECT id FROM contact_records")
        .fetch_all::<(String,)>(store)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect())
}

/// Sets the score and owner columns of a record (scoring runs, routing), audited.
pub async fn set_score(store: &Store, actor: &Actor, id: &str, score: f64) -> Result<()> {
    let mut tx = store.begin().await?;
    let n = sql("UPDATE contact_records SET score = $1 WHERE id = $2")
        .bind(score)
        .bind(id)
        .execute(&mut tx)
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound {
            entity: "contact",
            id: id.to_string(),
        });
    }
    audit::record(
        &mut tx,
        actor,
        "score",
        "contact",
        id,
        None,
        Some(serde_json::json!({ "score": score })),
    )
    .await?;
    tx.commit().await
}

/// Sets many scores at once (the decay job), with one audit entry.
pub async fn set_scores(store: &Store, actor: &Actor, scores: &[(String, f64)]) -> Result<()> {
    let mut tx = store.begin().await?;
    for (id, score) in scores {
        sql("UPDATE contact_records SET score = $1 WHERE id = $2")
            .bind(*score)
            .bind(id)
            .execute(&mut tx)
            .await?;
    }
    audit::record(
        &mut tx,
        actor,
        "rescore",
        "contacts",
        "all",
        None,
        Some(serde_json::json!({ "records": scores.len() })),
    )
    .await?;
    tx.commit().await
}

/// Records the last engagement of a record (events feed this; the sunset policy reads it).
pub async fn set_last_engaged(store: &Store, id: &str, at: DateTime<Utc>) -> Result<()> {
    sql("UPDATE contact_records SET last_engaged_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(store)
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Imports

/// A stored import.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Import {
    /// Id.
    pub id: i64,
    /// File name as uploaded.
    pub file_name: String,
    /// Layout (`salesforce-lead`, … or a field map name).
    pub layout: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Rows read.
    pub rows_read: i64,
    /// New records.
    pub accepted: i64,
    /// Existing records updated (same source id).
    pub updated: i64,
    /// Rows quarantined.
    pub quarantined: i64,
    /// Rows already imported before.
    pub unchanged: i64,
    /// Rows merged into an existing duplicate.
    pub merged: i64,
    /// Rows whose duplicate went to the review queue.
    pub queued_for_review: i64,
    /// Whether rows were checked for duplicates.
    pub check_duplicates: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// The job that runs it (API uploads).
    pub job_id: Option<i64>,
    /// Who started it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

const IMPORT_COLUMNS: &str = "id, file_name, layout, status, rows_read, accepted, updated, quarantined, unchanged, merged, queued_for_review, check_duplicates, error, job_id, created_by, created_at, finished_at";

/// An import about to start.
#[derive(Debug, Clone)]
pub struct NewImport {
    /// File name.
    pub file_name: String,
    /// Layout.
    pub layout: String,
    /// The file's bytes when the import runs later as a job; `None` when run in place.
    pub content: Option<Vec<u8>>,
    /// Whether to check rows for duplicates.
    pub check_duplicates: bool,
}

/// Creates an import (status `queued` when it carries content for a job, else `running`).
pub async fn create_import(store: &Store, actor: &Actor, new: &NewImport) -> Result<Import> {
    let mut tx = store.begin().await?;
    let status = if new.content.is_some() {
        "queued"
    } else {
        "running"
    };
    let import: Import = sql(format!("INSERT INTO contact_imports (file_name, layout, status, check_duplicates, content, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {IMPORT_COLUMNS}"))
        .bind(&new.file_name)
        .bind(&new.layout)
        .bind(status)
        .bind(new.check_duplicates)
        .bind(new.content.clone())
        .bind(actor.label())
        .bind(now())
        .fetch_one(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "contact_import",
        import.id,
        None,
        Some(serde_json::json!({"file_name": new.file_name, "layout": new.layout})),
    )
    .await?;
    tx.commit().await?;
    Ok(import)
}

/// Links an import to the job that will run it.
pub async fn set_import_job(store: &Store, id: i64, job_id: i64) -> Result<()> {
    sql("UPDATE contact_imports SET job_id = $1 WHERE id = $2")
        .bind(job_id)
        .bind(id)
        .execute(store)
        .await
        .map(|_| ())
}

/// The uploaded content of an import (for the job that runs it).
pub async fn import_content(store: &Store, id: i64) -> Result<Option<Vec<u8>>> {
    sql("SELECT content FROM contact_imports WHERE id = $1")
        .bind(id)
        .fetch_optional_scalar::<Option<Vec<u8>>>(store)
        .await
        .map(Option::flatten)
}

/// Marks an import running.
pub async fn start_import(store: &Store, id: i64) -> Result<()> {
    sql("UPDATE contact_imports SET status = 'running' WHERE id = $1")
        .bind(id)
        .execute(store)
        .await
        .map(|_| ())
}

/// Finishes an import: `done`, or `failed` with the error. The uploaded content is dropped.
pub async fn finish_import(
    store: &Store,
    actor: &Actor,
    id: i64,
    error: Option<&str>,
) -> Result<Import> {
    let mut tx = store.begin().await?;
    let status = if error.is_some() { "failed" } else { "done" };
    let import: Import = sql(format!("UPDATE contact_imports SET status = $1, error = $2, finished_at = $3, content = NULL WHERE id = $4 RETURNING {IMPORT_COLUMNS}"))
        .bind(status)
        .bind(error.map(str::to_string))
        .bind(now())
        .bind(id)
        .fetch_optional(&mut tx)
        .await?
        .ok_or_else(|| StoreError::NotFound { entity: "import", id: id.to_string() })?;
    audit::record(
        &mut tx,
        actor,
        "finish",
        "contact_import",
        id,
        None,
        Some(state(&import)?),
    )
    .await?;
    tx.commit().await?;
    Ok(import)
}

/// Lists imports, newest first.
pub async fn imports(store: &Store, limit: i64, offset: i64) -> Result<(Vec<Import>, i64)> {
    let total = sql("SELECT COUNT(*) FROM contact_imports")
        .fetch_scalar(store)
        .await?;
    let items = sql(format!(
        "SELECT {IMPORT_COLUMNS} FROM contact_imports ORDER BY id DESC LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(store)
    .await?;
    Ok((items, total))
}

/// One import.
pub async fn import(store: &Store, id: i64) -> Result<Import> {
    sql(format!(
        "SELECT {IMPORT_COLUMNS} FROM contact_imports WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "import",
        id: id.to_string(),
    })
}

/// Every idempotency key already imported (rows with these keys change nothing).
pub async fn seen_keys(store: &Store) -> Result<HashSet<String>> {
    Ok(sql("SELECT key FROM contact_import_keys")
        .fetch_all::<(String,)>(store)
        .await?
        .into_iter()
        .map(|(k,)| k)
        .collect())
}

/// What one batch of an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchCounts {
    /// Rows in the batch.
    pub rows: i64,
    /// New records.
    pub accepted: i64,
    /// Existing records updated (same source id).
    pub updated: i64,
    /// Quarantined rows.
    pub quarantined: i64,
    /// Rows already imported.
    pub unchanged: i64,
    /// Rows merged into a duplicate.
    pub merged: i64,
    /// Rows queued for review.
    pub queued_for_review: i64,
}

impl BatchCounts {
    /// Adds another batch.
    pub fn add(&mut self, o: &BatchCounts) {
        self.rows += o.rows;
        self.accepted += o.accepted;
        self.updated += o.updated;
        self.quarantined += o.quarantined;
        self.unchanged += o.unchanged;
        self.merged += o.merged;
        self.queued_for_review += o.queued_for_review;
    }
}

/// How an import batch treats duplicates: what the real-time check ([`Matcher::admit`])
/// decided for its new rows, by row number, and the rules for automatic merges.
pub struct Dedupe<'m> {
    /// Decisions for new rows. A row without one is kept separate.
    pub decisions: HashMap<u64, Admitted>,
    /// Survivorship rules for automatic merges.
    pub survivorship: &'m SurvivorshipConfig,
}

/// The id an imported row's record gets: from its source id when it has one (stable across
/// re-imports), otherwise from its import key.
pub fn import_record_id(a: &AcceptedRow) -> String {
    match &a.record.source_id {
        Some(sid) => record_id(a.record.object, &a.record.source, sid),
        None => record_id_from_key(a.record.object, &a.key),
    }
}

/// Rows per multi-row statement on PostgreSQL (up to 12 parameters each: 4,800, well under
/// its limit of 65,535).
const INSERT_CHUNK: usize = 400;

/// Parameters per multi-row statement on SQLite. Statements reach SQLite with anonymous
/// parameters (see `db::sqlite_text`), which bind by position, so a statement can be large;
/// fewer statements mean fewer hand-overs to the connection's worker thread.
const SQLITE_PARAMS: usize = 2400;

/// Rows per multi-row statement with `params` parameters per row (`postgres_rows` on
/// PostgreSQL).
fn chunk_rows(tx: &Tx, params: usize, postgres_rows: usize) -> usize {
    match tx.backend() {
        Backend::Sqlite => (SQLITE_PARAMS / params.max(1)).max(1),
        Backend::Postgres => postgres_rows,
    }
}

/// Writes one batch of import outcomes in one transaction with one audit entry: quarantined
/// rows are kept with every reason; accepted rows update the record with the same source id or
/// become new records — as `dedupe` decided when given (merge above the auto-merge threshold,
/// queued for review in the band, separate below). `stored` holds new records' stored forms
/// prepared ahead, by row number; a record without one is serialised here.
pub async fn write_batch(
    store: &Store,
    actor: &Actor,
    import_id: i64,
    rows: Vec<RowOutcome>,
    mut dedupe: Option<Dedupe<'_>>,
    mut stored: HashMap<u64, String>,
) -> Result<BatchCounts> {
    let mut counts = BatchCounts {
        rows: rows.len() as i64,
        ..BatchCounts::default()
    };
    let first_row = rows.first().map(row_number).unwrap_or(0);
    let last_row = rows.last().map(row_number).unwrap_or(0);
    let mut accepted = Vec::new();
    let mut quarantined = Vec::new();
    for r in rows {
        match r {
            RowOutcome::Accepted(a) => accepted.push(a),
            RowOutcome::Quarantined(q) => quarantined.push(q),
            RowOutcome::Unchanged { .. } => counts.unchanged += 1,
        }
    }
    let mut tx = store.begin().await?;
    if tx.backend() == Backend::Postgres {
        // The table grows by millions of rows during one import: a generic plan cached while
        // it was small scans it for every id lookup (measured: 5 s per 400-id lookup at
        // 300,000 rows). Planning each statement for the table as it is costs little.
        sql("SET LOCAL plan_cache_mode = force_custom_plan")
            .execute(&mut tx)
            .await?;
    }
    let at = now();
    counts.quarantined = quarantined.len() as i64;
    write_quarantine(&mut tx, import_id, &quarantined, at).await?;

    // Idempotency: claim each key; a key someone else already holds means nothing changes.
    let mut claimed: HashSet<String> = HashSet::new();
    let rows_per = chunk_rows(&tx, 2, INSERT_CHUNK);
    for chunk in accepted.chunks(rows_per) {
        let placeholders: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let mut q = sql(format!(
            "INSERT INTO contact_import_keys (key, import_id) VALUES {} ON CONFLICT (key) DO NOTHING RETURNING key",
            placeholders.join(", ")
        ));
        for a in chunk {
            q = q.bind(&a.key).bind(import_id);
        }
        claimed.extend(
            q.fetch_all::<(String,)>(&mut tx)
                .await?
                .into_iter()
                .map(|(k,)| k),
        );
    }
    let mut fresh: Vec<(AcceptedRow, String)> = Vec::new();
    for mut a in accepted {
        if !claimed.contains(&a.key) {
            counts.unchanged += 1;
            continue;
        }
        let id = import_record_id(&a);
        a.record.id = id.clone();
        fresh.push((a, id));
    }
    // Which ids exist already (an updated row of a record imported before)?
    let mut existing: HashSet<String> = HashSet::new();
    let rows_per = chunk_rows(&tx, 1, INSERT_CHUNK);
    for chunk in fresh.chunks(rows_per) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut q = sql(format!(
            "SELECT id FROM contact_records WHERE id IN ({})",
            placeholders.join(", ")
        ));
        for (_, id) in chunk {
            q = q.bind(id);
        }
        existing.extend(
            q.fetch_all::<(String,)>(&mut tx)
                .await?
                .into_iter()
                .map(|(k,)| k),
        );
    }
    // New records with their stored form when the matching stage prepared it (dropped when a
    // later row of the batch changes the record).
    let mut new_records: Vec<(Record, Option<String>)> = Vec::new();
    let mut merges = Vec::new();
    let mut queued = Vec::new();
    let mut batch_ids: HashMap<String, usize> = HashMap::new();
    for (a, id) in fresh {
        if existing.contains(&id) {
            let current = get(&mut tx, &id).await?;
            let mut updated = current.record.clone();
            for (name, value) in &a.record.fields {
                if let Some(l) = a.record.lineage.get(name) {
                    updated.set(name.clone(), value.clone(), l.clone());
                }
            }
            if updated != current.record {
                update_record(
                    &mut tx,
                    &updated,
                    current.row.revision,
                    current.row.merged_into.as_deref(),
                )
                .await?;
                counts.updated += 1;
            } else {
                counts.unchanged += 1;
            }
            continue;
        }
        if let Some(&i) = batch_ids.get(&id) {
            // The same source id twice in one batch: the later row updates the earlier one.
            if let Some((r, json)) = new_records.get_mut(i) {
                *json = None;
                for (name, value) in &a.record.fields {
                    if let Some(l) = a.record.lineage.get(name) {
                        r.set(name.clone(), value.clone(), l.clone());
                    }
                }
            }
            counts.updated += 1;
            continue;
        }
        let admitted = dedupe.as_mut().and_then(|d| d.decisions.remove(&a.row));
        let decision = admitted
            .as_ref()
            .map_or(Decision::Separate, |x| x.decision.clone());
        if let Decision::Merge { into, .. } = &decision
            && batch_ids.contains_key(into)
        {
            // The survivor arrived earlier in this batch: write the pending records first.
            insert_records(&mut tx, &new_records).await?;
            new_records.clear();
            batch_ids.clear();
        }
        match (decision, dedupe.as_ref()) {
            (Decision::Merge { into, probability }, Some(d)) => {
                let survivor = get(&mut tx, &into).await?;
                let m = merge(
                    &survivor.record,
                    &a.record,
                    d.survivorship,
                    at,
                    &actor.label(),
                )
                .map_err(|e| StoreError::Conflict(e.to_string()))?;
                insert_record(&mut tx, &a.record, Some(&into)).await?;
                update_record(&mut tx, &m.record, survivor.row.revision, None).await?;
                let merge_id = insert_merge(
                    &mut tx,
                    &m.merge,
                    survivor.row.revision + 1,
                    Some(probability),
                    actor,
                    at,
                )
                .await?;
                merges.push(serde_json::json!({"merge": merge_id, "survivor": into, "absorbed": id, "probability": probability}));
                counts.merged += 1;
            }
            (
                Decision::Review {
                    candidate,
                    probability,
                },
                Some(_),
            ) => {
                let explanation = admitted
                    .and_then(|x| x.explanation)
                    .and_then(|e| serde_json::to_value(e).ok())
                    .unwrap_or(serde_json::Value::Null);
                batch_ids.insert(id.clone(), new_records.len());
                let json = stored.remove(&a.row);
                new_records.push((a.record, json));
                queued.push((candidate, id, probability, explanation));
                counts.accepted += 1;
                counts.queued_for_review += 1;
            }
            _ => {
                batch_ids.insert(id.clone(), new_records.len());
                let json = stored.remove(&a.row);
                new_records.push((a.record, json));
                counts.accepted += 1;
            }
        }
    }
    insert_records(&mut tx, &new_records).await?;
    let mut queued_ids = Vec::new();
    for (left, right, probability, explanation) in &queued {
        if let Some(id) = queue_pair(
            &mut tx,
            left,
            right,
            *probability,
            explanation,
            "import",
            at,
        )
        .await?
        {
            queued_ids.push(id);
        }
    }
    sql("UPDATE contact_imports SET rows_read = rows_read + $1, accepted = accepted + $2, updated = updated + $3, quarantined = quarantined + $4, unchanged = unchanged + $5, merged = merged + $6, queued_for_review = queued_for_review + $7 WHERE id = $8")
        .bind(counts.rows)
        .bind(counts.accepted)
        .bind(counts.updated)
        .bind(counts.quarantined)
        .bind(counts.unchanged)
        .bind(counts.merged)
        .bind(counts.queued_for_review)
        .bind(import_id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "import_batch",
        "contact_import",
        import_id,
        None,
        Some(serde_json::json!({
            "rows": [first_row, last_row],
            "counts": counts,
            "merges": merges,
            "queued_for_review": queued_ids,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(counts)
}

fn row_number(r: &RowOutcome) -> u64 {
    match r {
        RowOutcome::Accepted(a) => a.row,
        RowOutcome::Quarantined(q) => q.row,
        RowOutcome::Unchanged { row, .. } => *row,
    }
}

async fn insert_records(tx: &mut Tx, records: &[(Record, Option<String>)]) -> Result<()> {
    let rows_per = chunk_rows(tx, 12, INSERT_CHUNK);
    for chunk in records.chunks(rows_per) {
        let mut values = Vec::with_capacity(chunk.len());
        for i in 0..chunk.len() {
            let b = i * 12;
            values.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 1, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10,
                b + 11,
                b + 12
            ));
        }
        let mut q = sql(format!(
            "INSERT INTO contact_records (id, object, email, name, company, source, source_id, lifecycle_stage, owner, record, revision, created_at, updated_at) VALUES {}",
            values.join(", ")
        ));
        for (r, json) in chunk {
            let d = derive(r);
            let json = json.clone().unwrap_or_else(|| r.to_stored_json());
            q = q
                .bind(&r.id)
                .bind(object_name(r.object))
                .bind(d.email)
                .bind(d.name)
                .bind(d.company)
                .bind(&r.source)
                .bind(r.source_id.clone())
                .bind(d.stage)
                .bind(d.owner)
                .bind(json)
                .bind(r.created_at)
                .bind(r.updated_at);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

fn raw_key(q: &QuarantinedRow) -> String {
    let mut h = Sha256::new();
    for (k, v) in &q.raw {
        h.update(k.as_bytes());
        h.update([0x1f]);
        h.update(v.as_bytes());
        h.update([0x1e]);
    }
    if q.raw.is_empty() {
        // An unreadable row has no cells; its position is all that identifies it.
        h.update(format!("row {} line {:?}", q.row, q.line).as_bytes());
    }
    hex(&h.finalize()[..16])
}

async fn write_quarantine(
    tx: &mut Tx,
    import_id: i64,
    rows: &[QuarantinedRow],
    at: DateTime<Utc>,
) -> Result<()> {
    let rows_per = chunk_rows(tx, 7, INSERT_CHUNK / 2);
    for chunk in rows.chunks(rows_per) {
        if chunk.is_empty() {
            continue;
        }
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 7;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                )
            })
            .collect();
        let mut q = sql(format!(
            "INSERT INTO contact_quarantine (import_id, row_number, line, raw_key, raw, reasons, created_at) VALUES {} ON CONFLICT (raw_key) DO NOTHING",
            values.join(", ")
        ));
        for r in chunk {
            let raw: serde_json::Value = r
                .raw
                .iter()
                .map(|(k, v)| serde_json::json!([k, v]))
                .collect();
            q = q
                .bind(import_id)
                .bind(r.row as i64)
                .bind(r.line.map(|l| l as i64))
                .bind(raw_key(r))
                .bind(raw)
                .bind(state(&r.reasons)?)
                .bind(at);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Quarantine

/// A quarantined row.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct QuarantineRow {
    /// Id.
    pub id: i64,
    /// The import it came from.
    pub import_id: i64,
    /// 1-based data row number in the file.
    pub row_number: i64,
    /// Line where the row starts.
    pub line: Option<i64>,
    /// The raw cells as `[[column, value], …]`.
    pub raw: sqlx::types::Json<serde_json::Value>,
    /// Every reason (`[{field, value, reason}, …]`).
    pub reasons: sqlx::types::Json<serde_json::Value>,
    /// Whether it was fixed and re-submitted.
    pub resolved: bool,
    /// The record it became.
    pub record_id: Option<String>,
    /// When quarantined.
    pub created_at: DateTime<Utc>,
    /// When resolved.
    pub resolved_at: Option<DateTime<Utc>>,
}

impl QuarantineRow {
    /// The raw cells as (column, value) pairs.
    pub fn cells(&self) -> Vec<(String, String)> {
        self.raw
            .0
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        Some((
                            p.get(0)?.as_str()?.to_string(),
                            p.get(1)?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

const QUARANTINE_COLUMNS: &str =
    "id, import_id, row_number, line, raw, reasons, resolved, record_id, created_at, resolved_at";

/// Lists quarantined rows of one import or all, unresolved first.
pub async fn quarantine(
    store: &Store,
    import_id: Option<i64>,
    include_resolved: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<QuarantineRow>, i64)> {
    let mut cond = vec!["1 = 1".to_string()];
    if import_id.is_some() {
        cond.push("import_id = $3".into());
    }
    if !include_resolved {
        cond.push("resolved = FALSE".into());
    }
    let clause = cond.join(" AND ");
    let count_clause = clause.replace("$3", "$1");
    let mut count = sql(format!(
        "SELECT COUNT(*) FROM contact_quarantine WHERE {count_clause}"
    ));
    if let Some(i) = import_id {
        count = count.bind(i);
    }
    let total = count.fetch_scalar(store).await?;
    let mut q = sql(format!("SELECT {QUARANTINE_COLUMNS} FROM contact_quarantine WHERE {clause} ORDER BY resolved, import_id DESC, row_number LIMIT $1 OFFSET $2"))
        .bind(limit)
        .bind(offset);
    if let Some(i) = import_id {
        q = q.bind(i);
    }
    Ok((q.fetch_all(store).await?, total))
}

/// One quarantined row.
pub async fn quarantined(store: &Store, id: i64) -> Result<QuarantineRow> {
    sql(format!(
        "SELECT {QUARANTINE_COLUMNS} FROM contact_quarantine WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "quarantined row",
        id: id.to_string(),
    })
}

/// Resolves a quarantined row with the record its fixed cells became (a new record, or an
/// update of the record with the same id), audited with the fixed cells. A record whose
/// e-mail address was erased is refused (a conflict naming [`ERASED_REASON`]).
pub async fn resolve_quarantined(
    store: &Store,
    actor: &Actor,
    id: i64,
    fixed: &[(String, String)],
    record: &Record,
) -> Result<QuarantineRow> {
    refuse_erased(store, record).await?;
    let mut tx = store.begin().await?;
    let before: QuarantineRow = sql(format!(
        "SELECT {QUARANTINE_COLUMNS} FROM contact_quarantine WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut tx)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "quarantined row",
        id: id.to_string(),
    })?;
    if before.resolved {
        return Err(StoreError::Conflict(format!(
            "quarantined row {id} was already re-submitted"
        )));
    }
    match find(&mut tx, &record.id).await? {
        Some(current) => {
            let mut updated = current.record.clone();
            for (name, value) in &record.fields {
                if let Some(l) = record.lineage.get(name) {
                    updated.set(name.clone(), value.clone(), l.clone());
                }
            }
            update_record(&mut tx, &updated, current.row.revision, None).await?;
        }
        None => insert_record(&mut tx, record, None).await?,
    }
    let at = now();
    let row: QuarantineRow = sql(format!("UPDATE contact_quarantine SET resolved = TRUE, record_id = $1, resolved_at = $2, resolved_by = $3 WHERE id = $4 AND resolved = FALSE RETURNING {QUARANTINE_COLUMNS}"))
        .bind(&record.id)
        .bind(at)
        .bind(actor.label())
        .bind(id)
        .fetch_optional(&mut tx)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("quarantined row {id} was already re-submitted")))?;
    audit::record(
        &mut tx,
        actor,
        "resubmit",
        "contact_quarantine",
        id,
        Some(before.raw.0.clone()),
        Some(serde_json::json!({"cells": fixed, "record": record.id})),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------------------------------------
// Erased subjects

/// Why a row or a new contact whose e-mail address was erased is refused.
pub const ERASED_REASON: &str = "erased at the subject's request";

/// The e-mail addresses among `emails` that an erasure tombstoned: the batch form of
/// [`crate::privacy::is_tombstoned`] (the same [`crate::privacy::tombstone_digest`]), one query
/// per 400 addresses.
pub async fn tombstoned_addresses<'a>(
    store: &Store,
    emails: impl IntoIterator<Item = &'a str>,
) -> Result<HashSet<String>> {
    let mut by_digest: HashMap<String, Vec<String>> = HashMap::new();
    for email in emails {
        by_digest
            .entry(crate::privacy::tombstone_digest(email))
            .or_default()
            .push(email.to_string());
    }
    let digests: Vec<&String> = by_digest.keys().collect();
    let mut out = HashSet::new();
    for chunk in digests.chunks(INSERT_CHUNK) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut q = sql(format!(
            "SELECT subject_digest FROM erasure_tombstones WHERE subject_digest IN ({})",
            placeholders.join(", ")
        ));
        for d in chunk {
            q = q.bind(d.as_str());
        }
        for (d,) in q.fetch_all::<(String,)>(store).await? {
            out.extend(by_digest.get(&d).into_iter().flatten().cloned());
        }
    }
    Ok(out)
}

/// Turns accepted import rows whose e-mail address was erased into quarantined rows (reason
/// [`ERASED_REASON`], the record's cells as the raw row), so an import never re-creates an
/// erased person. Other rows pass through unchanged, in order.
pub async fn quarantine_erased(store: &Store, rows: Vec<RowOutcome>) -> Result<Vec<RowOutcome>> {
    let emails: Vec<String> = rows
        .iter()
        .filter_map(|r| match r {
            RowOutcome::Accepted(a) => text_of(&a.record, "email"),
            _ => None,
        })
        .collect();
    if emails.is_empty() {
        return Ok(rows);
    }
    let erased = tombstoned_addresses(store, emails.iter().map(String::as_str)).await?;
    if erased.is_empty() {
        return Ok(rows);
    }
    Ok(rows
        .into_iter()
        .map(|r| match r {
            RowOutcome::Accepted(a) => match text_of(&a.record, "email") {
                Some(email) if erased.contains(&email) => RowOutcome::Quarantined(QuarantinedRow {
                    row: a.row,
                    line: None,
                    raw: a
                        .record
                        .fields
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_text()))
                        .collect(),
                    reasons: vec![keel_contacts::contract::Rejection {
                        field: "email".into(),
                        value: email,
                        reason: ERASED_REASON.into(),
                    }],
                }),
                _ => RowOutcome::Accepted(a),
            },
            other => other,
        })
        .collect())
}

/// Refuses (as a conflict naming [`ERASED_REASON`]) a new contact whose e-mail address was
/// erased.
async fn refuse_erased(store: &Store, record: &Record) -> Result<()> {
    if let Some(email) = text_of(record, "email")
        && crate::privacy::is_tombstoned(store, &email).await?
    {
        return Err(StoreError::Conflict(format!(
            "contact `{}` is not created: its address was {ERASED_REASON}",
            record.id
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Duplicate review queue

/// A pair in the review queue.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DuplicatePair {
    /// Id.
    pub id: i64,
    /// The existing record.
    pub left_id: String,
    /// The new record.
    pub right_id: String,
    /// Match probability.
    pub probability: f64,
    /// The explanation waterfall (prior, terms, weight).
    pub explanation: sqlx::types::Json<serde_json::Value>,
    /// `open`, `merged`, `not_duplicate` or `skipped`.
    pub status: String,
    /// `import`, `batch` or `manual`.
    pub origin: String,
    /// When queued.
    pub created_at: DateTime<Utc>,
    /// When decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided.
    pub decided_by: Option<String>,
}

const PAIR_COLUMNS: &str = "id, left_id, right_id, probability, explanation, status, origin, created_at, decided_at, decided_by";

async fn queue_pair(
    tx: &mut Tx,
    left: &str,
    right: &str,
    probability: f64,
    explanation: &serde_json::Value,
    origin: &str,
    at: DateTime<Utc>,
) -> Result<Option<i64>> {
    let (l, r) = if left <= right {
        (left, right)
    } else {
        (right, left)
    };
    sql("INSERT INTO contact_duplicates (left_id, right_id, probability, explanation, status, origin, created_at) VALUES ($1, $2, $3, $4, 'open', $5, $6) ON CONFLICT (left_id, right_id) DO NOTHING RETURNING id")
        .bind(l)
        .bind(r)
        .bind(probability)
        .bind(explanation.clone())
        .bind(origin)
        .bind(at)
        .fetch_optional_scalar::<i64>(tx)
        .await
}

/// Queues a pair for review (batch re-deduplication, manual), audited. `None` when the pair
/// was queued before.
pub async fn queue_for_review(
    store: &Store,
    actor: &Actor,
    left: &str,
    right: &str,
    probability: f64,
    explanation: &serde_json::Value,
    origin: &str,
) -> Result<Option<i64>> {
    let mut tx = store.begin().await?;
    let id = queue_pair(
        &mut tx,
        left,
        right,
        probability,
        explanation,
        origin,
        now(),
    )
    .await?;
    if let Some(id) = id {
        audit::record(
            &mut tx,
            actor,
            "queue",
            "contact_duplicate",
            id,
            None,
            Some(serde_json::json!({"left": left, "right": right, "probability": probability})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Lists pairs with a status (`open` by default), most probable first.
pub async fn review_queue(
    store: &Store,
    status: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DuplicatePair>, i64)> {
    let total = sql("SELECT COUNT(*) FROM contact_duplicates WHERE status = $1")
        .bind(status)
        .fetch_scalar(store)
        .await?;
    let items = sql(format!("SELECT {PAIR_COLUMNS} FROM contact_duplicates WHERE status = $1 ORDER BY probability DESC, id LIMIT $2 OFFSET $3"))
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(store)
        .await?;
    Ok((items, total))
}

/// One pair.
pub async fn pair(store: &Store, id: i64) -> Result<DuplicatePair> {
    sql(format!(
        "SELECT {PAIR_COLUMNS} FROM contact_duplicates WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "duplicate pair",
        id: id.to_string(),
    })
}

/// A reviewer's decision on a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecision {
    /// They are the same: merge the right record into the left.
    Merge,
    /// Different people: never suggest the pair again.
    NotDuplicate,
    /// Decide later.
    Skip,
}

/// Records a decision; `Merge` merges the pair (right into left) in the same transaction.
/// Returns the merge id when one was made. A pair decided already is a conflict.
pub async fn decide_pair(
    store: &Store,
    actor: &Actor,
    id: i64,
    decision: ReviewDecision,
    survivorship: &SurvivorshipConfig,
) -> Result<Option<i64>> {
    let mut tx = store.begin().await?;
    let p: DuplicatePair = sql(format!(
        "SELECT {PAIR_COLUMNS} FROM contact_duplicates WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut tx)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "duplicate pair",
        id: id.to_string(),
    })?;
    if p.status != "open" && p.status != "skipped" {
        return Err(StoreError::Conflict(format!(
            "duplicate pair {id} was already decided ({})",
            p.status
        )));
    }
    let status = match decision {
        ReviewDecision::Merge => "merged",
        ReviewDecision::NotDuplicate => "not_duplicate",
        ReviewDecision::Skip => "skipped",
    };
    let at = now();
    let n = sql("UPDATE contact_duplicates SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4 AND status = $5")
        .bind(status)
        .bind(at)
        .bind(actor.label())
        .bind(id)
        .bind(&p.status)
        .execute(&mut tx)
        .await?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "duplicate pair {id} was decided by someone else"
        )));
    }
    let merge_id = if decision == ReviewDecision::Merge {
        Some(
            merge_in(
                &mut tx,
                actor,
                &p.left_id,
                &p.right_id,
                Some(p.probability),
                survivorship,
                at,
            )
            .await?,
        )
    } else {
        None
    };
    audit::record(
        &mut tx,
        actor,
        status,
        "contact_duplicate",
        id,
        None,
        Some(serde_json::json!({"left": p.left_id, "right": p.right_id, "merge": merge_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(merge_id)
}

// ---------------------------------------------------------------------------------------------
// Merges

/// A stored merge.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct MergeRow {
    /// Id.
    pub id: i64,
    /// The record that survived.
    pub survivor_id: String,
    /// The record merged into it.
    pub absorbed_id: String,
    /// The merge record (both originals, every decision and conflict) as JSON.
    pub merge_record: String,
    /// The survivor's revision right after the merge; un-merge refuses if it moved on.
    pub merged_revision: i64,
    /// Match probability, when the merge came from matching.
    pub probability: Option<f64>,
    /// Who merged.
    pub actor: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When undone.
    pub undone_at: Option<DateTime<Utc>>,
    /// Who undid it.
    pub undone_by: Option<String>,
}

impl MergeRow {
    /// The parsed merge record.
    pub fn record(&self) -> Result<MergeRecord> {
        serde_json::from_str(&self.merge_record)
            .map_err(|e| StoreError::Corrupt(format!("merge {}: {e}", self.id)))
    }
}

const MERGE_COLUMNS: &str = "id, survivor_id, absorbed_id, merge_record, merged_revision, probability, actor, created_at, undone_at, undone_by";

async fn insert_merge(
    tx: &mut Tx,
    m: &MergeRecord,
    merged_revision: i64,
    probability: Option<f64>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<i64> {
    let text = serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sql("INSERT INTO contact_merges (survivor_id, absorbed_id, merge_record, merged_revision, probability, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(&m.merged_id)
        .bind(&m.absorbed_id)
        .bind(text)
        .bind(merged_revision)
        .bind(probability)
        .bind(actor.label())
        .bind(at)
        .fetch_scalar(tx)
        .await
}

async fn merge_in(
    tx: &mut Tx,
    actor: &Actor,
    survivor_id: &str,
    absorbed_id: &str,
    probability: Option<f64>,
    survivorship: &SurvivorshipConfig,
    at: DateTime<Utc>,
) -> Result<i64> {
    let survivor = get(&mut *tx, survivor_id).await?;
    let absorbed = get(&mut *tx, absorbed_id).await?;
    for r in [&survivor, &absorbed] {
        if let Some(into) = &r.row.merged_into {
            return Err(StoreError::Conflict(format!(
                "`{}` was already merged into `{into}`",
                r.row.id
            )));
        }
    }
    let m = merge(
        &survivor.record,
        &absorbed.record,
        survivorship,
        at,
        &actor.label(),
    )
    .map_err(|e| StoreError::Conflict(e.to_string()))?;
    update_record(tx, &m.record, survivor.row.revision, None).await?;
    update_record(
        tx,
        &absorbed.record,
        absorbed.row.revision,
        Some(survivor_id),
    )
    .await?;
    let id = insert_merge(
        tx,
        &m.merge,
        survivor.row.revision + 1,
        probability,
        actor,
        at,
    )
    .await?;
    audit::record(
        tx,
        actor,
        "merge",
        "contact",
        survivor_id,
        Some(serde_json::json!({"survivor": survivor_id, "absorbed": absorbed_id})),
        Some(serde_json::json!({"merge": id, "decisions": m.merge.decisions, "conflicts": m.merge.conflicts})),
    )
    .await?;
    Ok(id)
}

/// Merges `absorbed_id` into `survivor_id` under the survivorship rules, audited. Of two
/// concurrent merges touching the same records exactly one commits; the other gets
/// [`StoreError::Conflict`].
pub async fn merge_records(
    store: &Store,
    actor: &Actor,
    survivor_id: &str,
    absorbed_id: &str,
    survivorship: &SurvivorshipConfig,
) -> Result<MergeRow> {
    let run = async {
        let mut tx = store.begin().await?;
        let id = merge_in(
            &mut tx,
            actor,
            survivor_id,
            absorbed_id,
            None,
            survivorship,
            now(),
        )
        .await?;
        let row = merge_row(&mut tx, id).await?;
        tx.commit().await?;
        Ok(row)
    };
    run.await.map_err(as_conflict)
}

/// A deadlock or serialisation failure between two merges is the same thing as losing the
/// race: the other merge won.
fn as_conflict(e: StoreError) -> StoreError {
    match &e {
        StoreError::Database(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("40P01" | "40001")) =>
        {
            StoreError::Conflict("another merge of these records won; reload and try again".into())
        }
        _ => e,
    }
}

async fn merge_row<'a>(db: impl Into<DbRef<'a>>, id: i64) -> Result<MergeRow> {
    sql(format!(
        "SELECT {MERGE_COLUMNS} FROM contact_merges WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "merge",
        id: id.to_string(),
    })
}

/// One merge.
pub async fn merge_by_id(store: &Store, id: i64) -> Result<MergeRow> {
    merge_row(store, id).await
}

/// Merges involving a record (as survivor or absorbed), newest first.
pub async fn merges_of(store: &Store, record_id: &str) -> Result<Vec<MergeRow>> {
    sql(format!("SELECT {MERGE_COLUMNS} FROM contact_merges WHERE survivor_id = $1 OR absorbed_id = $1 ORDER BY id DESC"))
        .bind(record_id)
        .fetch_all(store)
        .await
}

/// Recent merges, newest first.
pub async fn merges(store: &Store, limit: i64, offset: i64) -> Result<(Vec<MergeRow>, i64)> {
    let total = sql("SELECT COUNT(*) FROM contact_merges")
        .fetch_scalar(store)
        .await?;
    let items = sql(format!(
        "SELECT {MERGE_COLUMNS} FROM contact_merges ORDER BY id DESC LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(store)
    .await?;
    Ok((items, total))
}

/// Undoes a merge: both records return byte-identical to what they were before it. Refused
/// when the merge was undone already or the survivor changed since (undoing would lose that).
pub async fn unmerge_records(store: &Store, actor: &Actor, merge_id: i64) -> Result<MergeRow> {
    let mut tx = store.begin().await?;
    let row = merge_row(&mut tx, merge_id).await?;
    if row.undone_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "merge {merge_id} was already undone"
        )));
    }
    let m = row.record()?;
    let (survivor, absorbed) = unmerge(&m).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let current = get(&mut tx, &row.survivor_id).await?;
    if current.row.revision != row.merged_revision {
        return Err(StoreError::Conflict(format!(
            "`{}` changed after merge {merge_id}; un-merging would lose those changes",
            row.survivor_id
        )));
    }
    let gone = get(&mut tx, &row.absorbed_id).await?;
    update_record(&mut tx, &survivor, current.row.revision, None).await?;
    update_record(&mut tx, &absorbed, gone.row.revision, None).await?;
    // Restore the original timestamps too: the record is what it was, not a new edit.
    for r in [&survivor, &absorbed] {
        sql("UPDATE contact_records SET updated_at = $1 WHERE id = $2")
            .bind(r.updated_at)
            .bind(&r.id)
            .execute(&mut tx)
            .await?;
    }
    let at = now();
    let n = sql("UPDATE contact_merges SET undone_at = $1, undone_by = $2 WHERE id = $3 AND undone_at IS NULL")
        .bind(at)
        .bind(actor.label())
        .bind(merge_id)
        .execute(&mut tx)
        .await?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "merge {merge_id} was already undone"
        )));
    }
    sql("UPDATE contact_duplicates SET status = 'open', decided_at = NULL, decided_by = NULL WHERE status = 'merged' AND ((left_id = $1 AND right_id = $2) OR (left_id = $2 AND right_id = $1))")
        .bind(&row.survivor_id)
        .bind(&row.absorbed_id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "unmerge",
        "contact",
        &row.survivor_id,
        None,
        Some(
            serde_json::json!({"merge": merge_id, "restored": [row.survivor_id, row.absorbed_id]}),
        ),
    )
    .await?;
    let row = merge_row(&mut tx, merge_id).await?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------------------------------------
// Hygiene

/// A hygiene event: a bounce, complaint, flagged address or sunset.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HygieneEvent {
    /// Id.
    pub id: i64,
    /// The record, when the address belongs to one.
    pub record_id: Option<String>,
    /// The address.
    pub email: String,
    /// `hard_bounce`, `soft_bounce`, `complaint`, `role_address`, `disposable_domain`,
    /// `sunset`, `reengage`.
    pub kind: String,
    /// Details (bounce code, list name …).
    pub detail: String,
    /// Where it came from (`api`, `webhook`, `import`, `sunset-job`).
    pub source: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}

const HYGIENE_COLUMNS: &str = "id, record_id, email, kind, detail, source, at";

/// Kinds that suppress the address.
pub const SUPPRESSING: &[&str] = &["hard_bounce", "complaint", "sunset"];

/// Kinds that also put the address on the privacy suppression list for the e-mail channel.
pub const CHANNEL_SUPPRESSING: &[&str] = &["hard_bounce", "complaint"];

/// Records a hygiene event; suppressing kinds suppress every active record with the address,
/// and hard bounces and complaints add an e-mail channel suppression to the privacy
/// suppression list (reason: the kind), in the same transaction. Returns the event and the
/// records suppressed.
pub async fn record_hygiene(
    store: &Store,
    actor: &Actor,
    email: &str,
    kind: &str,
    detail: &str,
    source: &str,
    at: DateTime<Utc>,
) -> Result<(HygieneEvent, Vec<String>)> {
    let email = email.trim().to_lowercase();
    let mut tx = store.begin().await?;
    let ids: Vec<(String,)> =
        sql("SELECT id FROM contact_records WHERE email = $1 AND merged_into IS NULL ORDER BY id")
            .bind(&email)
            .fetch_all(&mut tx)
            .await?;
    let event: HygieneEvent = sql(format!("INSERT INTO contact_hygiene (record_id, email, kind, detail, source, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {HYGIENE_COLUMNS}"))
        .bind(ids.first().map(|(i,)| i.clone()))
        .bind(&email)
        .bind(kind)
        .bind(detail)
        .bind(source)
        .bind(at)
        .fetch_one(&mut tx)
        .await?;
    let mut suppressed = Vec::new();
    if SUPPRESSING.contains(&kind) {
        for (id,) in &ids {
            let n = sql("UPDATE contact_records SET suppressed = TRUE, suppression_reason = $1, revision = revision + 1 WHERE id = $2 AND suppressed = FALSE")
                .bind(kind)
                .bind(id)
                .execute(&mut tx)
                .await?;
            if n > 0 {
                suppressed.push(id.clone());
            }
        }
    }
    if CHANNEL_SUPPRESSING.contains(&kind) {
        let subject = crate::privacy::subject_key(&email).unwrap_or_else(|| email.clone());
        crate::privacy::add_suppression_tx(&mut tx, actor, &subject, "channel", "email", kind)
            .await?;
    }
    audit::record(
        &mut tx,
        actor,
        kind,
        "contact_hygiene",
        event.id,
        None,
        Some(serde_json::json!({"email": email, "detail": detail, "suppressed": suppressed})),
    )
    .await?;
    tx.commit().await?;
    Ok((event, suppressed))
}

/// Lists hygiene events, newest first, optionally of one kind.
pub async fn hygiene_events(
    store: &Store,
    kind: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<HygieneEvent>, i64)> {
    let (count, list) = match kind {
        Some(_) => (
            "SELECT COUNT(*) FROM contact_hygiene WHERE kind = $3",
            format!(
                "SELECT {HYGIENE_COLUMNS} FROM contact_hygiene WHERE kind = $3 ORDER BY at DESC, id DESC LIMIT $1 OFFSET $2"
            ),
        ),
        None => (
            "SELECT COUNT(*) FROM contact_hygiene",
            format!(
                "SELECT {HYGIENE_COLUMNS} FROM contact_hygiene ORDER BY at DESC, id DESC LIMIT $1 OFFSET $2"
            ),
        ),
    };
    let total = match kind {
        Some(k) => {
            sql(count.replace("$3", "$1"))
                .bind(k)
                .fetch_scalar(store)
                .await?
        }
        None => sql(count).fetch_scalar(store).await?,
    };
    let mut q = sql(list).bind(limit).bind(offset);
    if let Some(k) = kind {
        q = q.bind(k);
    }
    Ok((q.fetch_all(store).await?, total))
}

/// Hygiene events of one record.
pub async fn hygiene_of(store: &Store, record_id: &str) -> Result<Vec<HygieneEvent>> {
    sql(format!("SELECT {HYGIENE_COLUMNS} FROM contact_hygiene WHERE record_id = $1 ORDER BY at DESC, id DESC"))
        .bind(record_id)
        .fetch_all(store)
        .await
}

/// Counts of hygiene events by kind.
pub async fn hygiene_counts(store: &Store) -> Result<BTreeMap<String, i64>> {
    Ok(
        sql("SELECT kind, COUNT(*) FROM contact_hygiene GROUP BY kind ORDER BY kind")
            .fetch_all::<(String, i64)>(store)
            .await?
            .into_iter()
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

/// One lifecycle change.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StageChange {
    /// Id.
    pub id: i64,
    /// The record.
    pub record_id: String,
    /// Stage before (none for the first).
    pub from_stage: Option<String>,
    /// Stage after.
    pub to_stage: String,
    /// Why.
    pub reason: Option<String>,
    /// Who.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

const STAGE_COLUMNS: &str = "id, record_id, from_stage, to_stage, reason, actor, at";

/// Moves a record to a stage (already checked by `keel_contacts::lifecycle`), recording the
/// change in its history, audited. `Conflict` when the stage moved since it was read.
pub async fn change_stage(
    store: &Store,
    actor: &Actor,
    record_id: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<StageChange> {
    let mut tx = store.begin().await?;
    let change = change_stage_in(&mut tx, actor, record_id, from, to, reason, at).await?;
    tx.commit().await?;
    Ok(change)
}

async fn change_stage_in(
    tx: &mut Tx,
    actor: &Actor,
    record_id: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<StageChange> {
    let n = sql("UPDATE contact_records SET lifecycle_stage = $1, revision = revision + 1 WHERE id = $2 AND lifecycle_stage = $3")
        .bind(to)
        .bind(record_id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "`{record_id}` is no longer at stage {from}"
        )));
    }
    let change: StageChange = sql(format!("INSERT INTO contact_lifecycle (record_id, from_stage, to_stage, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {STAGE_COLUMNS}"))
        .bind(record_id)
        .bind(from)
        .bind(to)
        .bind(reason.map(str::to_string))
        .bind(actor.label())
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        "stage",
        "contact",
        record_id,
        Some(serde_json::json!({"stage": from})),
        Some(serde_json::json!({"stage": to, "reason": reason})),
    )
    .await?;
    Ok(change)
}

/// A record's lifecycle history, oldest first.
pub async fn stage_history(store: &Store, record_id: &str) -> Result<Vec<StageChange>> {
    sql(format!(
        "SELECT {STAGE_COLUMNS} FROM contact_lifecycle WHERE record_id = $1 ORDER BY at, id"
    ))
    .bind(record_id)
    .fetch_all(store)
    .await
}

// ---------------------------------------------------------------------------------------------
// MQL hand-offs

/// A lead handed to sales.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Handoff {
    /// Id.
    pub id: i64,
    /// The lead.
    pub record_id: String,
    /// The sales rep it was routed to.
    pub owner: String,
    /// Score when it crossed the MQL threshold.
    pub score: f64,
    /// `waiting`, `accepted` or `rejected`.
    pub status: String,
    /// When the acceptance clock started.
    pub started_at: DateTime<Utc>,
    /// When acceptance was due as projected by the SLA engine when the clock started (the
    /// clock itself is always recomputed from `started_at` and `decided_at`).
    pub due_at: DateTime<Utc>,
    /// When sales decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was rejected (or a note on acceptance).
    pub reason: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// The acceptance SLA's outcome: `met` or `missed` once known (`missed` as soon as the
    /// clock breaches, even while waiting), `None` while running within target.
    pub sla_status: Option<String>,
    /// When the breach was recorded.
    pub breached_at: Option<DateTime<Utc>>,
}

const HANDOFF_COLUMNS: &str = "id, record_id, owner, score, status, started_at, due_at, decided_at, reason, decided_by, sla_status, breached_at";

/// Hands an MQL to sales: moves it to `mql` (from `from_stage`), assigns the owner and starts
/// the acceptance clock, in one transaction.
/// (Eight plain arguments read better at the call sites than a one-use struct.)
#[allow(clippy::too_many_arguments)]
pub async fn start_handoff(
    store: &Store,
    actor: &Actor,
    record_id: &str,
    from_stage: &str,
    owner: &str,
    score: f64,
    started_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
) -> Result<Handoff> {
    let mut tx = store.begin().await?;
    if from_stage != "mql" {
        change_stage_in(
            &mut tx,
            actor,
            record_id,
            from_stage,
            "mql",
            Some("crossed the MQL score threshold"),
            started_at,
        )
        .await?;
    }
    sql("UPDATE contact_records SET owner = $1, score = $2 WHERE id = $3")
        .bind(owner)
        .bind(score)
        .bind(record_id)
        .execute(&mut tx)
        .await?;
    let h: Handoff = sql(format!("INSERT INTO contact_handoffs (record_id, owner, score, status, started_at, due_at) VALUES ($1, $2, $3, 'waiting', $4, $5) RETURNING {HANDOFF_COLUMNS}"))
        .bind(record_id)
        .bind(owner)
        .bind(score)
        .bind(started_at)
        .bind(due_at)
        .fetch_one(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "handoff",
        "contact",
        record_id,
        None,
        Some(state(&h)?),
    )
    .await?;
    tx.commit().await?;
    Ok(h)
}

/// Sales accepts (→ `sql`) or rejects (→ back to `lead`, reason required by the caller) a
/// hand-off now. A hand-off decided already is a conflict. The SLA outcome is left as it is;
/// [`decide_handoff_at`] records it.
pub async fn decide_handoff(
    store: &Store,
    actor: &Actor,
    id: i64,
    accept: bool,
    reason: Option<&str>,
) -> Result<Handoff> {
    decide_handoff_at(store, actor, id, accept, reason, now(), None).await
}

/// Like [`decide_handoff`], decided at `at`, recording the acceptance SLA's outcome (`met` or
/// `missed`, as the SLA engine computed it for a decision at `at`). A breach recorded earlier
/// stays `missed`.
pub async fn decide_handoff_at(
    store: &Store,
    actor: &Actor,
    id: i64,
    accept: bool,
    reason: Option<&str>,
    at: DateTime<Utc>,
    sla_status: Option<&str>,
) -> Result<Handoff> {
    let mut tx = store.begin().await?;
    let status = if accept { "accepted" } else { "rejected" };
    let h: Handoff = sql(format!("UPDATE contact_handoffs SET status = $1, decided_at = $2, reason = $3, decided_by = $4, sla_status = COALESCE(sla_status, $5) WHERE id = $6 AND status = 'waiting' RETURNING {HANDOFF_COLUMNS}"))
        .bind(status)
        .bind(at)
        .bind(reason.map(str::to_string))
        .bind(actor.label())
        .bind(sla_status.map(str::to_string))
        .bind(id)
        .fetch_optional(&mut tx)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("hand-off {id} does not exist or was already decided")))?;
    let to = if accept { "sql" } else { "lead" };
    let from: Option<String> = sql("SELECT lifecycle_stage FROM contact_records WHERE id = $1")
        .bind(&h.record_id)
        .fetch_optional_scalar(&mut tx)
        .await?;
    if let Some(from) = from.filter(|f| f == "mql") {
        let why = if accept {
            Some("accepted by sales")
        } else {
            reason
        };
        change_stage_in(&mut tx, actor, &h.record_id, &from, to, why, at).await?;
    }
    audit::record(
        &mut tx,
        actor,
        status,
        "contact_handoff",
        id,
        None,
        Some(state(&h)?),
    )
    .await?;
    tx.commit().await?;
    Ok(h)
}

/// Records that a waiting hand-off's acceptance SLA breached at `at` (`sla_status` becomes
/// `missed`), audited. Returns `false` when it was recorded before or is decided already.
pub async fn record_handoff_breach(
    store: &Store,
    actor: &Actor,
    id: i64,
    at: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = store.begin().await?;
    let n = sql("UPDATE contact_handoffs SET sla_status = 'missed', breached_at = $1 WHERE id = $2 AND status = 'waiting' AND breached_at IS NULL")
        .bind(at)
        .bind(id)
        .execute(&mut tx)
        .await?;
    if n > 0 {
        audit::record(
            &mut tx,
            actor,
            "sla_breach",
            "contact_handoff",
            id,
            None,
            Some(serde_json::json!({"sla_status": "missed", "breached_at": at})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n > 0)
}

/// How many hand-offs met and missed their acceptance SLA (`met`, `missed`).
pub async fn handoff_sla_outcomes(store: &Store) -> Result<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = sql("SELECT sla_status, COUNT(*) FROM contact_handoffs WHERE sla_status IS NOT NULL GROUP BY sla_status")
        .fetch_all(store)
        .await?;
    Ok(rows.into_iter().collect())
}

/// One hand-off.
pub async fn handoff(store: &Store, id: i64) -> Result<Handoff> {
    sql(format!(
        "SELECT {HANDOFF_COLUMNS} FROM contact_handoffs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "hand-off",
        id: id.to_string(),
    })
}

/// Lists hand-offs with a status (all when `None`), oldest due first.
pub async fn handoffs(
    store: &Store,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Handoff>, i64)> {
    let (total, items) = match status {
        Some(s) => (
            sql("SELECT COUNT(*) FROM contact_handoffs WHERE status = $1")
                .bind(s)
                .fetch_scalar(store)
                .await?,
            sql(format!("SELECT {HANDOFF_COLUMNS} FROM contact_handoffs WHERE status = $1 ORDER BY due_at, id LIMIT $2 OFFSET $3"))
                .bind(s)
                .bind(limit)
                .bind(offset)
                .fetch_all(store)
                .await?,
        ),
        None => (
            sql("SELECT COUNT(*) FROM contact_handoffs")
                .fetch_scalar(store)
                .await?,
            sql(format!("SELECT {HANDOFF_COLUMNS} FROM contact_handoffs ORDER BY due_at, id LIMIT $1 OFFSET $2"))
                .bind(limit)
                .bind(offset)
                .fetch_all(store)
                .await?,
        ),
    };
    Ok((items, total))
}

/// Hand-offs of one record.
pub async fn handoffs_of(store: &Store, record_id: &str) -> Result<Vec<Handoff>> {
    sql(format!(
        "SELECT {HANDOFF_COLUMNS} FROM contact_handoffs WHERE record_id = $1 ORDER BY id DESC"
    ))
    .bind(record_id)
    .fetch_all(store)
    .await
}

// ---------------------------------------------------------------------------------------------
// Data quality snapshots

/// One stored quality score line.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct QualityLine {
    /// When measured.
    pub at: DateTime<Utc>,
    /// `contact` or `account`.
    pub object: String,
    /// `object`, `field` or `source`.
    pub scope: String,
    /// Field or source name (`all` for the object).
    pub name: String,
    /// Completeness share.
    pub completeness: Option<f64>,
    /// Validity share.
    pub validity: Option<f64>,
    /// Uniqueness share.
    pub uniqueness: Option<f64>,
    /// Freshness share.
    pub freshness: Option<f64>,
}

/// Stores a quality report as one snapshot (for trends).
pub async fn record_quality(
    store: &Store,
    actor: &Actor,
    object: &str,
    report: &keel_contacts::hygiene::QualityReport,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = store.begin().await?;
    let mut lines = vec![("object", "all".to_string(), report.object)];
    lines.extend(
        report
            .by_field
            .iter()
            .map(|(k, v)| ("field", k.clone(), *v)),
    );
    lines.extend(
        report
            .by_source
            .iter()
            .map(|(k, v)| ("source", k.clone(), *v)),
    );
    for (scope, name, s) in &lines {
        sql("INSERT INTO contact_quality (at, object, scope, name, completeness, validity, uniqueness, freshness) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(at)
            .bind(object)
            .bind(*scope)
            .bind(name)
            .bind(s.completeness)
            .bind(s.validity)
            .bind(s.uniqueness)
            .bind(s.freshness)
            .execute(&mut tx)
            .await?;
    }
    audit::record(
        &mut tx,
        actor,
        "measure",
        "contact_quality",
        object,
        None,
        Some(serde_json::json!({"records": report.records, "lines": lines.len()})),
    )
    .await?;
    tx.commit().await
}

/// The object-level quality trend (one line per snapshot), oldest first.
pub async fn quality_trend(store: &Store, object: &str, limit: i64) -> Result<Vec<QualityLine>> {
    let mut lines: Vec<QualityLine> = sql("SELECT at, object, scope, name, completeness, validity, uniqueness, freshness FROM contact_quality WHERE object = $1 AND scope = 'object' ORDER BY at DESC LIMIT $2")
        .bind(object)
        .bind(limit)
        .fetch_all(store)
        .await?;
    lines.reverse();
    Ok(lines)
}

/// Counts for the contacts overview.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Overview {
    /// Active contacts.
    pub contacts: i64,
    /// Active accounts.
    pub accounts: i64,
    /// Suppressed contacts.
    pub suppressed: i64,
    /// Open review pairs.
    pub open_duplicates: i64,
    /// Unresolved quarantined rows.
    pub quarantined: i64,
    /// Hand-offs waiting for sales.
    pub waiting_handoffs: i64,
    /// Active contacts per lifecycle stage.
    pub stages: BTreeMap<String, i64>,
}

/// The counts shown on the contacts overview.
pub async fn overview(store: &Store) -> Result<Overview> {
    let count = |q: &'static str| sql(q).fetch_scalar::<i64>(store);
    Ok(Overview {
        contacts: count("SELECT COUNT(*) FROM contact_records WHERE object = 'contact' AND merged_into IS NULL").await?,
        accounts: count("SELECT COUNT(*) FROM contact_records WHERE object = 'account' AND merged_into IS NULL").await?,
        suppressed: count("SELECT COUNT(*) FROM contact_records WHERE suppressed = TRUE AND merged_into IS NULL").await?,
        open_duplicates: count("SELECT COUNT(*) FROM contact_duplicates WHERE status = 'open'").await?,
        quarantined: count("SELECT COUNT(*) FROM contact_quarantine WHERE resolved = FALSE").await?,
        waiting_handoffs: count("SELECT COUNT(*) FROM contact_handoffs WHERE status = 'waiting'").await?,
        stages: sql("SELECT lifecycle_stage, COUNT(*) FROM contact_records WHERE object = 'contact' AND merged_into IS NULL GROUP BY lifecycle_stage ORDER BY lifecycle_stage")
            .fetch_all::<(String, i64)>(store)
            .await?
            .into_iter()
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Running an import

/// Rows per import transaction unless told otherwise. Larger batches write fewer pages:
/// each new record lands at a random place in the id and e-mail indexes, and SQLite writes
/// every page a transaction touched. Measured on 1M rows into SQLite: 71 s with 2,000-row
/// batches, 51–64 s with 8,000, no better with 20,000.
pub const IMPORT_BATCH_ROWS: usize = 8000;

/// Everything an import run needs besides the store.
pub struct ImportJob {
    /// The stored import (from [`create_import`]).
    pub import_id: i64,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Declared text encoding label (`latin1`, `windows-1252` …), if any.
    pub encoding: Option<String>,
    /// Whether the file is JSON Lines (otherwise CSV).
    pub json_lines: bool,
    /// The field map.
    pub map: keel_contacts::import::FieldMap,
    /// The contract rows are checked against.
    pub contract: keel_contacts::CompiledContract,
    /// Lineage source and time.
    pub options: keel_contacts::import::ImportOptions,
    /// Duplicate checks: thresholds and survivorship, or `None` to skip them.
    pub dedupe: Option<(keel_contacts::dedupe::Thresholds, SurvivorshipConfig)>,
    /// Rows per transaction.
    pub batch_size: usize,
}

/// Why an import cannot start: the whole file is refused before any row is read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file as a whole is unusable (encoding, header).
    #[error(transparent)]
    File(#[from] keel_contacts::ContactsError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a file up front — text encoding and header — so a wrong file gets one clear error
/// before anything is written.
pub fn precheck(
    bytes: &[u8],
    encoding: Option<&str>,
    json_lines: bool,
    map: &keel_contacts::import::FieldMap,
    contract: &keel_contacts::CompiledContract,
) -> std::result::Result<(), keel_contacts::ContactsError> {
    use keel_contacts::ContactsError;
    let declared = match encoding {
        Some(label) => Some(
            keel_contacts::import::encoding_for_label(label)
                .ok_or_else(|| ContactsError::Read(format!("unknown text encoding `{label}`")))?,
        ),
        None => None,
    };
    let text = keel_contacts::import::decode(bytes, declared)?;
    if json_lines {
        return Ok(());
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ContactsError::Read(format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    map.check_header(&header, contract)
        .map(|_| ())
        .map_err(ContactsError::Header)
}

/// A batch as the matching stage hands it to the writer: the rows, the duplicate decisions
/// and each new record's stored form, by row number.
type Staged = (
    Vec<RowOutcome>,
    HashMap<u64, Admitted>,
    HashMap<u64, String>,
);

/// Runs an import: the pure pipeline reads the file on its own thread and hands over batches
/// of row outcomes; each batch is written in one transaction ([`write_batch`]).
/// `progress(rows_done)` is called after every batch. The import is finished (`done` or
/// `failed`) before this returns.
pub async fn run_import(
    store: &Store,
    actor: &Actor,
    job: ImportJob,
    mut progress: impl FnMut(u64),
) -> std::result::Result<Import, ImportError> {
    let import_id = job.import_id;
    match run_import_inner(store, actor, job, &mut progress).await {
        Ok(()) => Ok(finish_import(store, actor, import_id, None).await?),
        Err(e) => {
            let _ = finish_import(store, actor, import_id, Some(&e.to_string())).await;
            Err(e)
        }
    }
}

async fn run_import_inner(
    store: &Store,
    actor: &Actor,
    job: ImportJob,
    progress: &mut impl FnMut(u64),
) -> std::result::Result<(), ImportError> {
    start_import(store, job.import_id).await?;
    let seen = seen_keys(store).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<RowOutcome>>(4);
    let batch_size = job.batch_size.max(1);
    let ImportJob {
        bytes,
        encoding,
        json_lines,
        map,
        contract,
        options,
        ..
    } = job;
    let reader = std::thread::spawn(
        move || -> std::result::Result<u64, keel_contacts::ContactsError> {
            let declared = encoding
                .as_deref()
                .and_then(keel_contacts::import::encoding_for_label);
            let text = keel_contacts::import::decode(&bytes, declared)?;
            let mut batch = Vec::with_capacity(batch_size);
            let send = |o: RowOutcome, batch: &mut Vec<RowOutcome>| {
                batch.push(o);
                if batch.len() >= batch_size {
                    // A closed channel means the writer failed; its error is reported instead.
                    let _ = tx.blocking_send(std::mem::take(batch));
                }
            };
            let rows = if json_lines {
                let outcome = keel_contacts::import::import_json_lines(
                    std::io::Cursor::new(text.as_bytes()),
                    &map,
                    &contract,
                    &options,
                    &seen,
                )?;
                let n = outcome.rows_read;
                let mut all: Vec<RowOutcome> = outcome
                    .accepted
                    .into_iter()
                    .map(RowOutcome::Accepted)
                    .chain(outcome.quarantined.into_iter().map(RowOutcome::Quarantined))
                    .chain(
                        outcome
                            .unchanged
                            .into_iter()
                            .map(|(row, key)| RowOutcome::Unchanged { row, key }),
                    )
                    .collect();
                all.sort_by_key(row_number);
                for o in all {
                    send(o, &mut batch);
                }
                n
            } else {
                let reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .from_reader(text.as_bytes());
                keel_contacts::import::import_csv_each(
                    reader,
                    &map,
                    &contract,
                    &options,
                    &seen,
                    |o| send(o, &mut batch),
                )?
            };
            if !batch.is_empty() {
                let _ = tx.blocking_send(batch);
            }
            Ok(rows)
        },
    );
    // The matching stage: tombstoned addresses are quarantined first (an erased person must
    // not enter the index), then every new contact is checked against the real-time index and
    // added to it, on its own thread, while this task writes the batch before. It skips rows
    // whose record exists already (updates are written over, not matched) and repeats of an
    // id in this file; the writer still re-checks both against the database in its
    // transaction and then ignores the decision.
    let (decided_tx, mut decided_rx) = tokio::sync::mpsc::channel::<Result<Staged>>(2);
    let handle = tokio::runtime::Handle::current();
    let stage_store = store.clone();
    let stage_dedupe = job.dedupe.as_ref().map(|(t, _)| *t);
    let stage = std::thread::spawn(move || {
        let mut matching: Option<(Matcher, HashSet<String>)> = None;
        while let Some(batch) = rx.blocking_recv() {
            let decided = (|| -> Result<Staged> {
                let mut batch = handle.block_on(quarantine_erased(&stage_store, batch))?;
                let mut decisions = HashMap::new();
                // Each new record's id is set here. Without duplicate checks this thread has
                // nothing else to do, so it also prepares the stored forms off the writer's
                // path (the writer uses one unless it changes the record); with them, matching
                // keeps this thread the busiest and the writer serialises.
                let mut stored = HashMap::new();
                for o in &mut batch {
                    if let RowOutcome::Accepted(a) = o {
                        a.record.id = import_record_id(a);
                        if stage_dedupe.is_none() {
                            stored.insert(a.row, a.record.to_stored_json());
                        }
                    }
                }
                let Some(thresholds) = stage_dedupe else {
                    return Ok((batch, decisions, stored));
                };
                if !batch.iter().any(|o| matches!(o, RowOutcome::Accepted(_))) {
                    return Ok((batch, decisions, stored));
                }
                if matching.is_none() {
                    // Built when the first batch with an accepted row arrives: a re-import
                    // whose rows are all unchanged never reads every contact.
                    let m = handle.block_on(matcher(&stage_store, thresholds))?;
                    let known = handle.block_on(record_ids(&stage_store))?;
                    matching = Some((m, known));
                }
                let Some((m, known)) = matching.as_mut() else {
                    return Ok((batch, decisions, stored));
                };
                for o in &mut batch {
                    if let RowOutcome::Accepted(a) = o {
                        if !known.insert(a.record.id.clone()) {
                            continue;
                        }
                        let admitted = m
                            .admit(&a.record)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        decisions.insert(a.row, admitted);
                    }
                }
                Ok((batch, decisions, stored))
            })();
            let failed = decided.is_err();
            if decided_tx.blocking_send(decided).is_err() || failed {
                break;
            }
        }
    });
    let mut done = 0u64;
    while let Some(decided) = decided_rx.recv().await {
        let (batch, decisions, stored) = decided?;
        let n = batch.len() as u64;
        let d = job.dedupe.as_ref().map(|(_, s)| Dedupe {
            decisions,
            survivorship: s,
        });
        write_batch(store, actor, job.import_id, batch, d, stored).await?;
        done += n;
        progress(done);
    }
    stage.join().map_err(|_| {
        StoreError::Corrupt("the import's matching stage stopped unexpectedly".into())
    })?;
    reader
        .join()
        .map_err(|_| StoreError::Corrupt("the import reader stopped unexpectedly".into()))??;
    Ok(())
}

/// Quarantine counts of one import by `field: reason`, most frequent first.
pub async fn quarantine_reasons(store: &Store, import_id: i64) -> Result<Vec<(String, i64)>> {
    let rows: Vec<(sqlx::types::Json<serde_json::Value>,)> =
        sql("SELECT reasons FROM contact_quarantine WHERE import_id = $1")
            .bind(import_id)
            .fetch_all(store)
            .await?;
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for (reasons,) in rows {
        for r in reasons.0.as_array().into_iter().flatten() {
            let field = r.get("field").and_then(|v| v.as_str()).unwrap_or("row");
            let reason = r.get("reason").and_then(|v| v.as_str()).unwrap_or("");
            *counts.entry(format!("{field}: {reason}")).or_default() += 1;
        }
    }
    let mut out: Vec<(String, i64)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

/// Records engagement (an e-mail click, a form fill, a demo request) of a record: it feeds
/// the score and moves `last_engaged_at` forward.
pub async fn record_engagement(
    store: &Store,
    record_id: &str,
    kind: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = store.begin().await?;
    sql("INSERT INTO contact_engagement (record_id, kind, at) VALUES ($1, $2, $3)")
        .bind(record_id)
        .bind(kind)
        .bind(at)
        .execute(&mut tx)
        .await?;
    sql("UPDATE contact_records SET last_engaged_at = $1 WHERE id = $2 AND (last_engaged_at IS NULL OR last_engaged_at < $1)")
        .bind(at)
        .bind(record_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await
}

/// Every engagement event by record, for scoring.
pub async fn engagement_events(
    store: &Store,
) -> Result<HashMap<String, Vec<keel_contacts::scoring::Event>>> {
    let rows: Vec<(String, String, DateTime<Utc>)> =
        sql("SELECT record_id, kind, at FROM contact_engagement ORDER BY record_id, at")
            .fetch_all(store)
            .await?;
    let mut out: HashMap<String, Vec<keel_contacts::scoring::Event>> = HashMap::new();
    for (id, kind, at) in rows {
        out.entry(id)
            .or_default()
            .push(keel_contacts::scoring::Event { kind, at });
    }
    Ok(out)
}

/// Engagement events of one record, newest first.
pub async fn engagement_of(
    store: &Store,
    record_id: &str,
) -> Result<Vec<keel_contacts::scoring::Event>> {
    Ok(
        sql("SELECT kind, at FROM contact_engagement WHERE record_id = $1 ORDER BY at DESC")
            .bind(record_id)
            .fetch_all::<(String, DateTime<Utc>)>(store)
            .await?
            .into_iter()
            .map(|(kind, at)| keel_contacts::scoring::Event { kind, at })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Privacy: erasure and retention of contact records

/// What erasing or anonymising contact records removed. Counts only: never the address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContactErasure {
    /// Contact records deleted (including records merged into them).
    pub records_deleted: u64,
    /// Contact records anonymised (identifying fields removed, aggregates kept).
    pub records_anonymised: u64,
    /// Hygiene events (bounces, complaints …) deleted.
    pub hygiene_deleted: u64,
    /// Lifecycle history rows deleted.
    pub lifecycle_deleted: u64,
    /// Engagement rows deleted.
    pub engagement_deleted: u64,
    /// Merge history rows deleted (they keep both originals for un-merge).
    pub merges_deleted: u64,
    /// Duplicate-review pairs deleted.
    pub duplicates_deleted: u64,
    /// MQL hand-offs deleted.
    pub handoffs_deleted: u64,
    /// Quarantined import rows deleted.
    pub quarantine_deleted: u64,
    /// Import keys forgotten.
    pub import_keys_deleted: u64,
    /// Lines removed from stored import files.
    pub import_lines_removed: u64,
    /// The erased records' addresses (lower-case), whose raw copies
    /// [`scrub_raw_copies`] removes once per erasure or retention run. Never serialised: the
    /// counts are what gets audited.
    #[serde(skip)]
    pub addresses: BTreeSet<String>,
}

impl ContactErasure {
    /// Adds another erasure's counts.
    pub fn add(&mut self, o: &ContactErasure) {
        self.records_deleted += o.records_deleted;
        self.records_anonymised += o.records_anonymised;
        self.hygiene_deleted += o.hygiene_deleted;
        self.lifecycle_deleted += o.lifecycle_deleted;
        self.engagement_deleted += o.engagement_deleted;
        self.merges_deleted += o.merges_deleted;
        self.duplicates_deleted += o.duplicates_deleted;
        self.handoffs_deleted += o.handoffs_deleted;
        self.quarantine_deleted += o.quarantine_deleted;
        self.import_keys_deleted += o.import_keys_deleted;
        self.import_lines_removed += o.import_lines_removed;
        self.addresses.extend(o.addresses.iter().cloned());
    }
}

/// Ids of the contact records holding an address (canonical, lower-case), merged-away records
/// included, and of every record merged into them.
pub async fn records_of_email<'a>(db: impl Into<DbRef<'a>>, email: &str) -> Result<Vec<String>> {
    let email = email.trim().to_lowercase();
    let mut db = db.into();
    let mut ids: Vec<String> =
        sql("SELECT id FROM contact_records WHERE object = 'contact' AND email = $1 ORDER BY id")
            .bind(&email)
            .fetch_all::<(String,)>(db.reborrow())
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect();
    let mut i = 0;
    while i < ids.len() {
        let absorbed: Vec<(String,)> =
            sql("SELECT id FROM contact_records WHERE merged_into = $1 ORDER BY id")
                .bind(&ids[i])
                .fetch_all(db.reborrow())
                .await?;
        for (id,) in absorbed {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        i += 1;
    }
    Ok(ids)
}

/// Deletes the history rows that hold a record's personal data: hygiene events (also those
/// logged by address), merges, duplicate pairs, quarantined rows and import keys naming it. The
/// address goes to `out.addresses`: raw copies of it (unresolved quarantined rows, stored import
/// files) are removed by [`scrub_raw_copies`], once for all records of an erasure or a retention
/// run rather than once per record.
async fn erase_personal_history(
    tx: &mut Tx,
    id: &str,
    email: Option<&str>,
    out: &mut ContactErasure,
) -> Result<()> {
    out.hygiene_deleted += sql("DELETE FROM contact_hygiene WHERE record_id = $1 OR email = $2")
        .bind(id)
        .bind(email.unwrap_or(id))
        .execute(&mut *tx)
        .await?;
    out.merges_deleted +=
        sql("DELETE FROM contact_merges WHERE survivor_id = $1 OR absorbed_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    out.duplicates_deleted +=
        sql("DELETE FROM contact_duplicates WHERE left_id = $1 OR right_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    out.quarantine_deleted += sql("DELETE FROM contact_quarantine WHERE record_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    out.import_keys_deleted += sql("DELETE FROM contact_import_keys WHERE record_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if let Some(email) = email {
        out.addresses.insert(email.to_string());
    }
    Ok(())
}

/// Removes the raw copies of `out.addresses` that row-level deletes cannot reach: unresolved
/// quarantined rows whose raw values hold one of the addresses exactly, and the lines naming one
/// in stored import files (the header line stays). Reads the quarantine and the stored files
/// once, whatever the number of addresses. Adds to `out`'s counts.
pub async fn scrub_raw_copies(tx: &mut Tx, out: &mut ContactErasure) -> Result<()> {
    if out.addresses.is_empty() {
        return Ok(());
    }
    let rows: Vec<(i64, String)> =
        sql("SELECT id, CAST(raw AS TEXT) FROM contact_quarantine ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
    for (qid, raw) in rows {
        let lower = raw.to_lowercase();
        if !out.addresses.iter().any(|a| lower.contains(a.as_str())) {
            continue;
        }
        let holds = serde_json::from_str::<serde_json::Value>(&raw)
            .ok()
            .is_some_and(|v| json_mentions(&v, &out.addresses));
        if holds {
            out.quarantine_deleted += sql("DELETE FROM contact_quarantine WHERE id = $1")
                .bind(qid)
                .execute(&mut *tx)
                .await?;
        }
    }
    out.import_lines_removed += scrub_import_files(tx, &out.addresses).await?;
    Ok(())
}

fn json_mentions(v: &serde_json::Value, addresses: &BTreeSet<String>) -> bool {
    match v {
        serde_json::Value::String(s) => addresses.contains(&s.trim().to_lowercase()),
        serde_json::Value::Array(a) => a.iter().any(|x| json_mentions(x, addresses)),
        serde_json::Value::Object(o) => o.values().any(|x| json_mentions(x, addresses)),
        _ => false,
    }
}

/// Removes the lines naming any of `addresses` from stored import files (the header line stays).
async fn scrub_import_files(tx: &mut Tx, addresses: &BTreeSet<String>) -> Result<u64> {
    let files: Vec<(i64, Option<Vec<u8>>)> =
        sql("SELECT id, content FROM contact_imports WHERE content IS NOT NULL ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
    let mut removed = 0;
    for (id, content) in files {
        let Some(bytes) = content else { continue };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let names = |t: &str| {
            let lower = t.to_lowercase();
            addresses.iter().any(|a| lower.contains(a.as_str()))
        };
        if !names(&text) {
            continue;
        }
        let mut kept = String::with_capacity(text.len());
        for (n, line) in text.split_inclusive('\n').enumerate() {
            if n > 0 && names(line) {
                removed += 1;
            } else {
                kept.push_str(line);
            }
        }
        sql("UPDATE contact_imports SET content = $1 WHERE id = $2")
            .bind(kept.into_bytes())
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(removed)
}

/// Deletes one contact record and every row tied to it (hygiene, lifecycle, engagement, merges,
/// duplicate pairs, hand-offs, quarantined rows, import keys), inside `tx`, audited by id and
/// counts only. A record that does not exist erases nothing. The caller finishes with
/// [`scrub_raw_copies`] once all records are erased.
pub async fn erase_contact(tx: &mut Tx, actor: &Actor, id: &str) -> Result<ContactErasure> {
    let mut out = ContactErasure::default();
    let Some(email) = sql("SELECT email FROM contact_records WHERE id = $1")
        .bind(id)
        .fetch_optional::<(Option<String>,)>(&mut *tx)
        .await?
    else {
        return Ok(out);
    };
    let email = email.0.map(|e| e.to_lowercase());
    erase_personal_history(tx, id, email.as_deref(), &mut out).await?;
    out.lifecycle_deleted += sql("DELETE FROM contact_lifecycle WHERE record_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    out.engagement_deleted += sql("DELETE FROM contact_engagement WHERE record_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    out.handoffs_deleted += sql("DELETE FROM contact_handoffs WHERE record_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    out.records_deleted += sql("DELETE FROM contact_records WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(tx, actor, "erase", "contact", id, None, Some(state(&out)?)).await?;
    Ok(out)
}

/// Fields an anonymised contact keeps: they describe a segment, not a person.
pub const ANONYMOUS_FIELDS: &[&str] = &[
    "country",
    "industry",
    "employees",
    "annual_revenue",
    "lead_source",
    "lifecycle_stage",
];

/// The source of an anonymised record.
pub const ANONYMISED_SOURCE: &str = "anonymised";

/// Anonymises one contact record inside `tx`: keeps only [`ANONYMOUS_FIELDS`] (with their
/// lineage), its stage, score and engagement counts for aggregates; removes the address, name,
/// company, owner and source id, and deletes the history rows that hold personal data (hygiene,
/// merges, duplicate pairs, quarantined rows). Audited by id and counts only. The caller
/// finishes with [`scrub_raw_copies`].
pub async fn anonymise_contact(tx: &mut Tx, actor: &Actor, id: &str) -> Result<ContactErasure> {
    let mut out = ContactErasure::default();
    let Some(stored) = find(&mut *tx, id).await? else {
        return Ok(out);
    };
    let email = stored.row.email.clone().map(|e| e.to_lowercase());
    erase_personal_history(tx, id, email.as_deref(), &mut out).await?;
    let mut record = Record::new(
        stored.record.id.clone(),
        stored.record.object,
        ANONYMISED_SOURCE,
        stored.record.created_at,
    );
    record.updated_at = stored.record.updated_at;
    for field in ANONYMOUS_FIELDS {
        if let (Some(v), Some(l)) = (
            stored.record.fields.get(*field),
            stored.record.lineage.get(*field),
        ) {
            record.fields.insert((*field).to_string(), v.clone());
            record.lineage.insert((*field).to_string(), l.clone());
        }
    }
    out.records_anonymised += sql("UPDATE contact_records SET email = NULL, name = $1, company = NULL, source = $2, source_id = NULL, owner = NULL, record = $3, revision = revision + 1, updated_at = $4 WHERE id = $5")
        .bind(format!("Anonymised {}", stored.row.id))
        .bind(ANONYMISED_SOURCE)
        .bind(record.to_stored_json())
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        "anonymise",
        "contact",
        id,
        None,
        Some(state(&out)?),
    )
    .await?;
    Ok(out)
}

/// A contact as retention sees it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RetentionContact {
    /// Record id.
    pub id: String,
    /// Its address, if any.
    pub email: Option<String>,
    /// Last engagement seen.
    pub last_engaged_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl RetentionContact {
    /// Last activity: the later of the last engagement and the last change.
    pub fn last_active(&self) -> DateTime<Utc> {
        match self.last_engaged_at {
            Some(e) if e > self.updated_at => e,
            _ => self.updated_at,
        }
    }
}

/// Contacts a retention policy may apply to: active (not merged away), not yet anonymised.
pub async fn retention_contacts(store: &Store) -> Result<Vec<RetentionContact>> {
    sql("SELECT id, email, last_engaged_at, updated_at FROM contact_records WHERE object = 'contact' AND merged_into IS NULL AND source <> $1 ORDER BY id")
        .bind(ANONYMISED_SOURCE)
        .fetch_all(store)
        .await
}

/// Everything stored about one contact record, for access exports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactHistory {
    /// The record with its field lineage.
    pub record: StoredRecord,
    /// Hygiene events.
    pub hygiene: Vec<HygieneEvent>,
    /// Lifecycle history.
    pub lifecycle: Vec<StageChange>,
    /// Engagement, newest first.
    pub engagement: Vec<keel_contacts::scoring::Event>,
    /// Merges it took part in.
    pub merges: Vec<MergeRow>,
    /// MQL hand-offs.
    pub handoffs: Vec<Handoff>,
}

/// The history of every contact record of an address (see [`records_of_email`]).
pub async fn history_of_email(store: &Store, email: &str) -> Result<Vec<ContactHistory>> {
    let mut out = Vec::new();
    for id in records_of_email(store, email).await? {
        let Some(record) = find(store, &id).await? else {
            continue;
        };
        let mut hygiene = hygiene_of(store, &id).await?;
        // Events logged by address alone belong to the first record, listed once.
        if out.is_empty() {
            let by_address: Vec<HygieneEvent> = sql(format!("SELECT {HYGIENE_COLUMNS} FROM contact_hygiene WHERE email = $1 AND (record_id IS NULL OR record_id <> $2) ORDER BY at DESC, id DESC"))
                .bind(email.trim().to_lowercase())
                .bind(&id)
                .fetch_all(store)
                .await?;
            hygiene.extend(by_address);
        }
        out.push(ContactHistory {
            hygiene,
            lifecycle: stage_history(store, &id).await?,
            engagement: engagement_of(store, &id).await?,
            merges: merges_of(store, &id).await?,
            handoffs: handoffs_of(store, &id).await?,
            record,
        });
    }
    Ok(out)
}
