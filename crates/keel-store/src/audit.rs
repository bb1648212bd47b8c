//! Appending to and reading the hash-chained audit log.

use crate::{Actor, Backend, Result, Store, Tx, now, sql};
use chrono::{DateTime, Utc};
use keel_audit::{AuditEntry, ChainError, ChainVerifier, NewAuditEntry};
use serde::Serialize;

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    entity_type: String,
    entity_id: String,
    before_state: Option<String>,
    after_state: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<Row> for AuditEntry {
    fn from(r: Row) -> Self {
        AuditEntry {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            before: r.before_state,
            after: r.after_state,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// Records one change inside the caller's transaction, chained to the current head.
pub async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: impl ToString,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<AuditEntry> {
    let new = NewAuditEntry {
        actor: actor.label(),
        action: action.to_string(),
        entity_type: entity_type.to_string(),
        entity_id: entity_id.to_string(),
        before,
        after,
    };
    if tx.backend() == Backend::Postgres {
        // Serialise appenders so two transactions cannot both extend the same head.
        sql("SELECT pg_advisory_xact_lock(7261002)")
            .execute(&mut *tx)
            .await?;
    }
    let head: Option<(i64, String)> =
        sql("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let entry = new.seal(head.as_ref().map(|(s, h)| (*s, h.as_str())), now());
    sql("INSERT INTO audit_log (seq, at, actor, action, entity_type, entity_id, before_state, after_state, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(entry.seq)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.entity_type)
        .bind(&entry.entity_id)
        .bind(entry.before.clone())
        .bind(entry.after.clone())
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *tx)
        .await?;
    Ok(entry)
}

/// Serialises an entity's state for the audit log.
pub fn state<T: Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| crate::StoreError::Corrupt(e.to_string()))
}

/// A filter over the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this entity type.
    pub entity_type: Option<String>,
    /// Only this entity id (with `entity_type`).
    pub entity_id: Option<String>,
    /// Only entries whose actor label starts with this.
    pub actor: Option<String>,
}

/// Lists entries newest first, with the total matching count.
pub async fn list(
    store: &Store,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditEntry>, i64)> {
    let mut conditions = Vec::new();
    let mut args: Vec<String> = Vec::new();
    if let Some(t) = &filter.entity_type {
        args.push(t.clone());
        conditions.push(format!("entity_type = ${}", args.len()));
    }
    if let Some(id) = &filter.entity_id {
        args.push(id.clone());
        conditions.push(format!("entity_id = ${}", args.len()));
    }
    if let Some(a) = &filter.actor {
        args.push(format!("{a}%"));
        conditions.push(format!("actor LIKE ${}", args.len()));
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let mut count = sql(format!("SELECT COUNT(*) FROM audit_log {where_clause}"));
    let mut page = sql(format!(
        "SELECT * FROM audit_log {where_clause} ORDER BY seq DESC LIMIT ${} OFFSET ${}",
        args.len() + 1,
        args.len() + 2
    ));
    for a in &args {
        count = count.bind(a);
        page = page.bind(a);
    }
    let total: i64 = count.fetch_scalar(store).await?;
    let rows: Vec<Row> = page.bind(limit).bind(offset).fetch_all(store).await?;
    Ok((rows.into_iter().map(AuditEntry::from).collect(), total))
}

/// The outcome of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Entries verified before stopping.
    pub checked: u64,
    /// Hash of the last good entry.
    pub head: String,
    /// The first problem, if any.
    pub error: Option<String>,
    /// Sequence number of the first bad entry, if any.
    pub first_bad_seq: Option<i64>,
}

/// Walks the whole chain in pages of 1,000 and reports the first bad entry.
pub async fn verify(store: &Store) -> Result<Verification> {
    let mut verifier = ChainVerifier::new();
    let mut after = 0i64;
    loop {
        let rows: Vec<Row> = sql("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000")
            .bind(after)
            .fetch_all(store)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            after = row.seq;
            let entry = AuditEntry::from(row);
            if let Err(e) = verifier.check(&entry) {
                let seq = match &e {
                    ChainError::Altered { seq } | ChainError::Broken { seq, .. } => *seq,
                    ChainError::Gap { expected, .. } => *expected,
                };
                return Ok(Verification {
                    checked: verifier.checked(),
                    head: verifier.head().to_string(),
                    error: Some(e.to_string()),
                    first_bad_seq: Some(seq),
                });
            }
        }
    }
    Ok(Verification {
        checked: verifier.checked(),
        head: verifier.head().to_string(),
        error: None,
        first_bad_seq: None,
    })
}
