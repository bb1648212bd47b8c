//! Declarative objects — the documents of ops as code (tools, integrations, contracts, request
//! types, workflows, policies, data contracts, purposes …) — stored as they are written:
//! `apiVersion`, `kind`, `metadata`, `spec`.
//!
//! Each kind's meaning and validation belong to its domain crate; this module only keeps
//! documents, versions them (`revision`), and records every change in the audit log. A set of
//! changes (a `keel apply`) is written in one transaction, so it lands whole or not at all.

use crate::audit::{self, state};
use crate::{Actor, DbRef, Result, Store, StoreError, Tx, now, sql};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A stored document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Document {
    /// Kind, e.g. `Tool`.
    pub kind: String,
    /// Unique name within the kind.
    pub name: String,
    /// e.g. `keel/v1`.
    pub api_version: String,
    /// `metadata` (labels, annotations, description …).
    pub metadata: sqlx::types::Json<serde_json::Value>,
    /// `spec`.
    pub spec: sqlx::types::Json<serde_json::Value>,
    /// Incremented on every change; clients send it back to detect concurrent edits.
    pub revision: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What a document should be (the content of a file, or a form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredDocument {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// API version.
    pub api_version: String,
    /// Metadata.
    pub metadata: serde_json::Value,
    /// Spec.
    pub spec: serde_json::Value,
}

/// One change of a set.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentChange {
    /// Create or replace a document.
    Put(DesiredDocument),
    /// Delete a document.
    Delete {
        /// Kind.
        kind: String,
        /// Name.
        name: String,
    },
}

const COLUMNS: &str = "kind, name, api_version, metadata, spec, revision, created_at, updated_at";

/// Lists documents, of one kind or all, ordered by kind and name.
pub async fn list<'a>(db: impl Into<DbRef<'a>>, kind: Option<&str>) -> Result<Vec<Document>> {
    match kind {
        Some(k) => {
            sql(format!(
                "SELECT {COLUMNS} FROM documents WHERE kind = $1 ORDER BY name"
            ))
            .bind(k)
            .fetch_all(db)
            .await
        }
        None => {
            sql(format!(
                "SELECT {COLUMNS} FROM documents ORDER BY kind, name"
            ))
            .fetch_all(db)
            .await
        }
    }
}

/// Finds one document.
pub async fn get<'a>(db: impl Into<DbRef<'a>>, kind: &str, name: &str) -> Result<Option<Document>> {
    sql(format!(
        "SELECT {COLUMNS} FROM documents WHERE kind = $1 AND name = $2"
    ))
    .bind(kind)
    .bind(name)
    .fetch_optional(db)
    .await
}

async fn put_in(
    tx: &mut Tx,
    actor: &Actor,
    doc: &DesiredDocument,
    expected_revision: Option<i64>,
) -> Result<Document> {
    let before = get(&mut *tx, &doc.kind, &doc.name).await?;
    if let (Some(expected), Some(current)) = (expected_revision, &before)
        && expected != current.revision
    {
        return Err(StoreError::Conflict(format!(
            "{} {} was changed by someone else (revision {} is now {}); reload and try again",
            doc.kind, doc.name, expected, current.revision
        )));
    }
    let at = now();
    let stored = match &before {
        Some(current) => sql(format!("UPDATE documents SET api_version = $1, metadata = $2, spec = $3, revision = $4, updated_at = $5 WHERE kind = $6 AND name = $7 RETURNING {COLUMNS}"))
            .bind(&doc.api_version)
            .bind(doc.metadata.clone())
            .bind(doc.spec.clone())
            .bind(current.revision + 1)
            .bind(at)
            .bind(&doc.kind)
            .bind(&doc.name)
            .fetch_one::<Document>(&mut *tx)
            .await?,
        None => sql(format!("INSERT INTO documents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING {COLUMNS}"))
            .bind(&doc.kind)
            .bind(&doc.name)
            .bind(&doc.api_version)
            .bind(doc.metadata.clone())
            .bind(doc.spec.clone())
            .bind(at)
            .fetch_one::<Document>(&mut *tx)
            .await?,
    };
    let entity = format!("{}/{}", doc.kind, doc.name);
    let action = if before.is_some() { "update" } else { "create" };
    let before_state = before.as_ref().map(|b| state(&content(b))).transpose()?;
    audit::record(
        tx,
        actor,
        action,
        "document",
        entity,
        before_state,
        Some(state(&content(&stored))?),
    )
    .await?;
    Ok(stored)
}

fn content(d: &Document) -> DesiredDocument {
    DesiredDocument {
        kind: d.kind.clone(),
        name: d.name.clone(),
        api_version: d.api_version.clone(),
        metadata: d.metadata.0.clone(),
        spec: d.spec.0.clone(),
    }
}

async fn delete_in(tx: &mut Tx, actor: &Actor, kind: &str, name: &str) -> Result<()> {
    let Some(before) = get(&mut *tx, kind, name).await? else {
        return Err(StoreError::NotFound {
            entity: "document",
            id: format!("{kind}/{name}"),
        });
    };
    sql("DELETE FROM documents WHERE kind = $1 AND name = $2")
        .bind(kind)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        "delete",
        "document",
        format!("{kind}/{name}"),
        Some(state(&content(&before))?),
        None,
    )
    .await?;
    Ok(())
}

/// Creates or replaces one document, audited. With `expected_revision`, refuses (409) when the
/// stored document has moved on, so two people editing the same object cannot silently overwrite
/// each other.
pub async fn put(
    store: &Store,
    actor: &Actor,
    doc: &DesiredDocument,
    expected_revision: Option<i64>,
) -> Result<Document> {
    let mut tx = store.begin().await?;
    let stored = put_in(&mut tx, actor, doc, expected_revision).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Deletes one document, audited.
pub async fn delete(store: &Store, actor: &Actor, kind: &str, name: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    delete_in(&mut tx, actor, kind, name).await?;
    tx.commit().await
}

/// Applies a set of changes in one transaction, with one audit entry per change and one for the
/// set (naming how many objects changed and why). Nothing is written if any change fails.
pub async fn apply(
    store: &Store,
    actor: &Actor,
    changes: &[DocumentChange],
    reason: &str,
) -> Result<usize> {
    let mut tx = store.begin().await?;
    for change in changes {
        match change {
            DocumentChange::Put(doc) => {
                put_in(&mut tx, actor, doc, None).await?;
            }
            DocumentChange::Delete { kind, name } => delete_in(&mut tx, actor, kind, name).await?,
        }
    }
    audit::record(
        &mut tx,
        actor,
        "apply",
        "change_set",
        now().format("%Y%m%dT%H%M%S%.6fZ").to_string(),
        None,
        Some(serde_json::json!({"changes": changes.len(), "reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(changes.len())
}
