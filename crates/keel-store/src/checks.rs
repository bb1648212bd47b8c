//! Stored runs of the email and landing-page checks, so a launch can point at a clean run.

use crate::audit;
use crate::{Actor, Result, Store, StoreError, now, sql};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A stored check run.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CheckRun {
    /// Id.
    pub id: i64,
    /// `email`, `message` or `page`.
    pub kind: String,
    /// What was checked (file name or label).
    pub name: String,
    /// Error-level findings.
    pub errors: i64,
    /// Warnings.
    pub warnings: i64,
    /// Informational findings.
    pub infos: i64,
    /// The full report.
    pub report: sqlx::types::Json<serde_json::Value>,
    /// Who ran it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A run to store.
#[derive(Debug, Clone)]
pub struct NewCheckRun {
    /// `email`, `message` or `page`.
    pub kind: String,
    /// What was checked.
    pub name: String,
    /// Counts by severity.
    pub errors: i64,
    /// Warnings.
    pub warnings: i64,
    /// Infos.
    pub infos: i64,
    /// The report.
    pub report: serde_json::Value,
}

const COLUMNS: &str = "id, kind, name, errors, warnings, infos, report, created_by, created_at";

/// Stores a run, audited (without the report body, which can be large).
pub async fn record(store: &Store, actor: &Actor, run: &NewCheckRun) -> Result<CheckRun> {
    let mut tx = store.begin().await?;
    let stored = sql(format!("INSERT INTO check_runs (kind, name, errors, warnings, infos, report, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"))
        .bind(&run.kind)
        .bind(&run.name)
        .bind(run.errors)
        .bind(run.warnings)
        .bind(run.infos)
        .bind(run.report.clone())
        .bind(actor.label())
        .bind(now())
        .fetch_one::<CheckRun>(&mut tx)
        .await?;
    let summary = serde_json::json!({"kind": run.kind, "name": run.name, "errors": run.errors, "warnings": run.warnings, "infos": run.infos});
    audit::record(
        &mut tx,
        actor,
        "run",
        "check_run",
        stored.id,
        None,
        Some(summary),
    )
    .await?;
    tx.commit().await?;
    Ok(stored)
}

/// Lists recent runs, newest first.
pub async fn list(store: &Store, limit: i64, offset: i64) -> Result<(Vec<CheckRun>, i64)> {
    let total = sql("SELECT COUNT(*) FROM check_runs")
        .fetch_scalar(store)
        .await?;
    let runs = sql(format!(
        "SELECT {COLUMNS} FROM check_runs ORDER BY id DESC LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(store)
    .await?;
    Ok((runs, total))
}

/// Finds one run.
pub async fn get(store: &Store, id: i64) -> Result<CheckRun> {
    sql(format!("SELECT {COLUMNS} FROM check_runs WHERE id = $1"))
        .bind(id)
        .fetch_optional(store)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "check run",
            id: id.to_string(),
        })
}
