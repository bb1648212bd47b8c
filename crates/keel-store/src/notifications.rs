//! Outgoing webhooks and the notifications sent through them.
//!
//! A notification has a stable key (e.g. a renewal reminder's contract, term and stage), so the
//! job that raises it can run every day and still send each one once: recording a notification
//! and enqueueing its deliveries happen in one transaction, and a key already recorded is skipped.

use crate::audit::{self, state};
use crate::jobs::{self, NewJob};
use crate::{Actor, Result, Store, StoreError, now, sql};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Webhook {
    /// Id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The URL posted to.
    pub url: String,
    /// `json` (Keel's generic payload) or `slack` (Slack incoming-webhook payload).
    pub format: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Payload formats a webhook can take.
pub const FORMATS: [&str; 2] = ["json", "slack"];

/// Creates a webhook, audited.
pub async fn create_webhook(
    store: &Store,
    actor: &Actor,
    name: &str,
    url: &str,
    format: &str,
) -> Result<Webhook> {
    let mut tx = store.begin().await?;
    let hook = sql("INSERT INTO webhooks (name, url, format, created_at) VALUES ($1, $2, $3, $4) RETURNING id, name, url, format, created_at")
        .bind(name.trim())
        .bind(url.trim())
        .bind(format)
        .bind(now())
        .fetch_one::<Webhook>(&mut tx)
        .await
        .map_err(|e| if e.is_unique_violation() { StoreError::Conflict(format!("a webhook named {name} already exists")) } else { e })?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "webhook",
        hook.id,
        None,
        Some(state(&hook)?),
    )
    .await?;
    tx.commit().await?;
    Ok(hook)
}

/// Lists webhooks.
pub async fn webhooks(store: &Store) -> Result<Vec<Webhook>> {
    sql("SELECT id, name, url, format, created_at FROM webhooks ORDER BY name")
        .fetch_all(store)
        .await
}

/// Finds one webhook.
pub async fn webhook(store: &Store, id: i64) -> Result<Webhook> {
    sql("SELECT id, name, url, format, created_at FROM webhooks WHERE id = $1")
        .bind(id)
        .fetch_optional(store)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "webhook",
            id: id.to_string(),
        })
}

/// Deletes a webhook, audited.
pub async fn delete_webhook(store: &Store, actor: &Actor, id: i64) -> Result<()> {
    let before = webhook(store, id).await?;
    let mut tx = store.begin().await?;
    sql("DELETE FROM webhooks WHERE id = $1")
        .bind(id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "delete",
        "webhook",
        id,
        Some(state(&before)?),
        None,
    )
    .await?;
    tx.commit().await
}

/// A notification as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Notification {
    /// Stable key: the same event is only ever notified once.
    pub key: String,
    /// e.g. `renewal_reminder`.
    pub kind: String,
    /// One line for people.
    pub title: String,
    /// Details.
    pub payload: sqlx::types::Json<serde_json::Value>,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
}

/// Records a notification and enqueues one `webhook.deliver` job per webhook, in one
/// transaction. Returns false (and does nothing) when the key was recorded before.
pub async fn raise(
    store: &Store,
    key: &str,
    kind: &str,
    title: &str,
    payload: serde_json::Value,
) -> Result<bool> {
    let mut tx = store.begin().await?;
    let inserted = sql("INSERT INTO notifications (key, kind, title, payload, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(kind)
        .bind(title)
        .bind(payload)
        .bind(now())
        .execute(&mut tx)
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    let hooks: Vec<(i64,)> = sql("SELECT id FROM webhooks ORDER BY id")
        .fetch_all(&mut tx)
        .await?;
    for (id,) in hooks {
        jobs::enqueue(
            &mut tx,
            &NewJob {
                max_attempts: 8,
                ..NewJob::now(
                    "webhook.deliver",
                    serde_json::json!({"webhook_id": id, "key": key}),
                )
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Finds a notification by key.
pub async fn notification(store: &Store, key: &str) -> Result<Notification> {
    sql("SELECT key, kind, title, payload, created_at FROM notifications WHERE key = $1")
        .bind(key)
        .fetch_optional(store)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "notification",
            id: key.to_string(),
        })
}

/// Recent notifications, newest first.
pub async fn recent(store: &Store, limit: i64) -> Result<Vec<Notification>> {
    sql("SELECT key, kind, title, payload, created_at FROM notifications ORDER BY created_at DESC LIMIT $1")
        .bind(limit)
        .fetch_all(store)
        .await
}
