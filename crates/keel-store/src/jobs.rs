//! The job queue's rows: queued, running, finished and failed jobs, and recurring schedules.
//!
//! The runner (`keel-jobs`) owns the behaviour; this module owns the SQL. A job is claimed with a
//! lease (`locked_until`): if the process dies mid-job, the lease runs out and another runner (or
//! the restarted one) claims it again, so an enqueued job is never lost.

use crate::{Backend, DbRef, Result, Store, StoreError, now, sql};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// A job's state.
pub mod status {
    /// Waiting for its `run_at`.
    pub const QUEUED: &str = "queued";
    /// Claimed by a runner.
    pub const RUNNING: &str = "running";
    /// Finished successfully.
    pub const SUCCEEDED: &str = "succeeded";
    /// Gave up after its last attempt.
    pub const FAILED: &str = "failed";
    /// Cancelled by a person.
    pub const CANCELLED: &str = "cancelled";
}

/// A background job.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Job {
    /// Id.
    pub id: i64,
    /// Which handler runs it, e.g. `sessions.purge`.
    pub kind: String,
    /// Handler input.
    pub payload: sqlx::types::Json<serde_json::Value>,
    /// See [`status`].
    pub status: String,
    /// Not before.
    pub run_at: DateTime<Utc>,
    /// Attempts so far.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// Runner holding the lease.
    pub locked_by: Option<String>,
    /// When the lease runs out.
    pub locked_until: Option<DateTime<Utc>>,
    /// The schedule that enqueued it, if any.
    pub schedule_name: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Finished (succeeded, failed or cancelled).
    pub finished_at: Option<DateTime<Utc>>,
}

/// A recurring schedule that enqueues a job every `every_seconds`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Schedule {
    /// Unique name.
    pub name: String,
    /// Job kind enqueued.
    pub kind: String,
    /// Payload of each job.
    pub payload: sqlx::types::Json<serde_json::Value>,
    /// Interval.
    pub every_seconds: i64,
    /// Next time a job is due.
    pub next_run_at: DateTime<Utc>,
    /// Whether it runs.
    pub enabled: bool,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Handler kind.
    pub kind: String,
    /// Handler input.
    pub payload: serde_json::Value,
    /// Not before (now if `None`).
    pub run_at: Option<DateTime<Utc>>,
    /// Attempts allowed (at least 1).
    pub max_attempts: i64,
}

impl NewJob {
    /// A job to run as soon as possible, retried up to 5 times.
    pub fn now(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        NewJob {
            kind: kind.into(),
            payload,
            run_at: None,
            max_attempts: 5,
        }
    }
}

const COLUMNS: &str = "id, kind, payload, status, run_at, attempts, max_attempts, last_error, locked_by, locked_until, schedule_name, created_at, updated_at, finished_at";

/// Enqueues a job, in the caller's transaction or on its own. The job is durable once this returns
/// (or once the caller's transaction commits).
pub async fn enqueue<'a>(db: impl Into<DbRef<'a>>, job: &NewJob) -> Result<i64> {
    enqueue_from_schedule(db, job, None).await
}

async fn enqueue_from_schedule<'a>(
    db: impl Into<DbRef<'a>>,
    job: &NewJob,
    schedule: Option<&str>,
) -> Result<i64> {
    let at = now();
    sql("INSERT INTO jobs (kind, payload, status, run_at, attempts, max_attempts, schedule_name, created_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8) RETURNING id")
        .bind(&job.kind)
        .bind(job.payload.clone())
        .bind(status::QUEUED)
        .bind(job.run_at.unwrap_or(at))
        .bind(job.max_attempts.max(1))
        .bind(schedule)
        .bind(at)
        .bind(at)
        .fetch_scalar(db)
        .await
}

/// Claims the next due job (or one whose runner's lease ran out) for `runner`, holding it for `lease`.
pub async fn claim_next(store: &Store, runner: &str, lease: Duration) -> Result<Option<Job>> {
    let at = now();
    let skip_locked = match store.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        // SQLite has one writer at a time (BEGIN IMMEDIATE), so no row locking is needed.
        Backend::Sqlite => "",
    };
    let mut tx = store.begin().await?;
    let job: Option<Job> = sql(format!(
        "UPDATE jobs SET status = $1, locked_by = $2, locked_until = $3, attempts = attempts + 1, updated_at = $4 \
         WHERE id = (SELECT id FROM jobs WHERE (status = $5 AND run_at <= $4) OR (status = $1 AND locked_until < $4) \
         ORDER BY run_at, id LIMIT 1 {skip_locked}) RETURNING {COLUMNS}"
    ))
    .bind(status::RUNNING)
    .bind(runner)
    .bind(at + lease)
    .bind(at)
    .bind(status::QUEUED)
    .fetch_optional(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(job)
}

/// Marks a claimed job as succeeded.
pub async fn succeed(store: &Store, id: i64) -> Result<()> {
    let at = now();
    sql("UPDATE jobs SET status = $1, finished_at = $2, updated_at = $2, locked_by = NULL, locked_until = NULL, last_error = NULL WHERE id = $3")
        .bind(status::SUCCEEDED)
        .bind(at)
        .bind(id)
        .execute(store)
        .await
        .map(|_| ())
}

/// Records a failed attempt: requeued at `retry_at`, or failed for good when `None`.
pub async fn fail(
    store: &Store,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let at = now();
    match retry_at {
        Some(when) => sql("UPDATE jobs SET status = $1, run_at = $2, last_error = $3, updated_at = $4, locked_by = NULL, locked_until = NULL WHERE id = $5")
            .bind(status::QUEUED)
            .bind(when)
            .bind(error)
            .bind(at)
            .bind(id)
            .execute(store)
            .await?,
        None => sql("UPDATE jobs SET status = $1, last_error = $2, updated_at = $3, finished_at = $3, locked_by = NULL, locked_until = NULL WHERE id = $4")
            .bind(status::FAILED)
            .bind(error)
            .bind(at)
            .bind(id)
            .execute(store)
            .await?,
    };
    Ok(())
}

/// Finds one job.
pub async fn job(store: &Store, id: i64) -> Result<Job> {
    sql(format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional(store)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "job",
            id: id.to_string(),
        })
}

/// Lists jobs newest first, optionally of one status, with the total count.
pub async fn list(
    store: &Store,
    status_filter: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Job>, i64)> {
    match status_filter {
        Some(s) => {
            let total = sql("SELECT COUNT(*) FROM jobs WHERE status = $1")
                .bind(s)
                .fetch_scalar(store)
                .await?;
            let jobs = sql(format!(
                "SELECT {COLUMNS} FROM jobs WHERE status = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
            ))
            .bind(s)
            .bind(limit)
            .bind(offset)
            .fetch_all(store)
            .await?;
            Ok((jobs, total))
        }
        None => {
            let total = sql("SELECT COUNT(*) FROM jobs").fetch_scalar(store).await?;
            let jobs = sql(format!(
                "SELECT {COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1 OFFSET $2"
            ))
            .bind(limit)
            .bind(offset)
            .fetch_all(store)
            .await?;
            Ok((jobs, total))
        }
    }
}

/// Counts jobs per status (for metrics and the admin page).
pub async fn counts(store: &Store) -> Result<Vec<(String, i64)>> {
    sql("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status")
        .fetch_all(store)
        .await
}

/// Puts a failed or cancelled job back in the queue to run now with fresh attempts.
pub async fn retry(store: &Store, id: i64) -> Result<Job> {
    let at = now();
    let changed = sql("UPDATE jobs SET status = $1, run_at = $2, attempts = 0, finished_at = NULL, updated_at = $2 WHERE id = $3 AND status IN ($4, $5)")
        .bind(status::QUEUED)
        .bind(at)
        .bind(id)
        .bind(status::FAILED)
        .bind(status::CANCELLED)
        .execute(store)
        .await?;
    let job = job(store, id).await?;
    if changed == 0 {
        return Err(StoreError::Conflict(format!(
            "job {id} is {}; only failed or cancelled jobs can be retried",
            job.status
        )));
    }
    Ok(job)
}

/// Cancels a queued job.
pub async fn cancel(store: &Store, id: i64) -> Result<Job> {
    let at = now();
    let changed = sql("UPDATE jobs SET status = $1, finished_at = $2, updated_at = $2 WHERE id = $3 AND status = $4")
        .bind(status::CANCELLED)
        .bind(at)
        .bind(id)
        .bind(status::QUEUED)
        .execute(store)
        .await?;
    let job = job(store, id).await?;
    if changed == 0 {
        return Err(StoreError::Conflict(format!(
            "job {id} is {}; only queued jobs can be cancelled",
            job.status
        )));
    }
    Ok(job)
}

/// Creates or updates a recurring schedule. An existing schedule keeps its next run time.
pub async fn ensure_schedule(
    store: &Store,
    name: &str,
    kind: &str,
    payload: serde_json::Value,
    every: Duration,
) -> Result<()> {
    sql("INSERT INTO job_schedules (name, kind, payload, every_seconds, next_run_at, enabled) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, every_seconds = excluded.every_seconds")
        .bind(name)
        .bind(kind)
        .bind(payload)
        .bind(every.num_seconds().max(1))
        .bind(now())
        .bind(true)
        .execute(store)
        .await
        .map(|_| ())
}

/// Lists schedules.
pub async fn schedules(store: &Store) -> Result<Vec<Schedule>> {
    sql("SELECT name, kind, payload, every_seconds, next_run_at, enabled FROM job_schedules ORDER BY name")
        .fetch_all(store)
        .await
}

/// Enqueues a job for every schedule that is due and moves each schedule to its next time, in one
/// transaction so a schedule fires once even with several runners. Missed runs are not replayed.
pub async fn enqueue_due_schedules(store: &Store) -> Result<Vec<i64>> {
    let at = now();
    let mut tx = store.begin().await?;
    if tx.backend() == Backend::Postgres {
        sql("SELECT pg_advisory_xact_lock(7261003)")
            .execute(&mut tx)
            .await?;
    }
    let due: Vec<Schedule> = sql("SELECT name, kind, payload, every_seconds, next_run_at, enabled FROM job_schedules WHERE enabled = $1 AND next_run_at <= $2")
        .bind(true)
        .bind(at)
        .fetch_all(&mut tx)
        .await?;
    let mut ids = Vec::new();
    for s in due {
        let job = NewJob {
            kind: s.kind.clone(),
            payload: s.payload.0.clone(),
            run_at: Some(at),
            max_attempts: 3,
        };
        ids.push(enqueue_from_schedule(&mut tx, &job, Some(&s.name)).await?);
        sql("UPDATE job_schedules SET next_run_at = $1 WHERE name = $2")
            .bind(at + Duration::seconds(s.every_seconds))
            .bind(&s.name)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(ids)
}
