//! Event sources (write keys) and ingested events.

use crate::audit::{self, state};
use crate::{Actor, Result, Store, StoreError, now, sql};
use chrono::{DateTime, Utc};
use keel_accounts::secret_digest;
use keel_events::Event;
use serde::Serialize;

/// A source of events: one website, app or server, with its own write key.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Source {
    /// Id.
    pub id: i64,
    /// Unique name, e.g. `website`.
    pub name: String,
    /// First characters of the write key.
    pub write_key_prefix: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Disabled sources refuse events.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Creates a source with a new write key; returns the source and the key (shown once).
pub async fn create_source(store: &Store, actor: &Actor, name: &str) -> Result<(Source, String)> {
    // Write keys travel in browsers' page source, so they identify rather than protect; they are
    // still stored only as digests.
    let key = format!("wk_{}", &keel_accounts::new_session_token()[..32]);
    let mut tx = store.begin().await?;
    let source = sql("INSERT INTO sources (name, write_key_digest, write_key_prefix, created_at) VALUES ($1, $2, $3, $4) RETURNING id, name, write_key_prefix, created_at, disabled_at")
        .bind(name.trim())
        .bind(secret_digest(&key))
        .bind(&key[..9])
        .bind(now())
        .fetch_one::<Source>(&mut tx)
        .await
        .map_err(|e| if e.is_unique_violation() { StoreError::Conflict(format!("a source named {name} already exists")) } else { e })?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "source",
        source.id,
        None,
        Some(state(&source)?),
    )
    .await?;
    tx.commit().await?;
    Ok((source, key))
}

/// Finds the enabled source for a write key.
pub async fn source_by_write_key(store: &Store, key: &str) -> Result<Option<Source>> {
    sql("SELECT id, name, write_key_prefix, created_at, disabled_at FROM sources WHERE write_key_digest = $1 AND disabled_at IS NULL")
        .bind(secret_digest(key))
        .fetch_optional(store)
        .await
}

/// Lists sources.
pub async fn sources(store: &Store) -> Result<Vec<Source>> {
    sql("SELECT id, name, write_key_prefix, created_at, disabled_at FROM sources ORDER BY name")
        .fetch_all(store)
        .await
}

/// Finds a source by name.
pub async fn source_by_name(store: &Store, name: &str) -> Result<Option<Source>> {
    sql("SELECT id, name, write_key_prefix, created_at, disabled_at FROM sources WHERE name = $1")
        .bind(name)
        .fetch_optional(store)
        .await
}

/// A message that could not be accepted, kept with its reason.
#[derive(Debug, Clone)]
pub struct RejectedEvent {
    /// Stable reason code.
    pub reason: String,
    /// Human explanation.
    pub detail: String,
    /// The raw message.
    pub payload: String,
}

/// Stores accepted events (skipping message ids already stored for the source) and rejected
/// ones, in one transaction. Returns how many new events were stored. Only after this returns may
/// the client be told the events are accepted.
pub async fn ingest(
    store: &Store,
    source_id: i64,
    events: &[Event],
    rejected: &[RejectedEvent],
) -> Result<u64> {
    let mut tx = store.begin().await?;
    let mut stored = 0;
    for e in events {
        stored += sql("INSERT INTO events (source_id, message_id, event_type, name, user_id, anonymous_id, group_id, previous_id, timestamp, received_at, sent_at, properties, traits, context) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (source_id, message_id) DO NOTHING")
            .bind(source_id)
            .bind(&e.message_id)
            .bind(e.event_type.as_str())
            .bind(e.name.clone())
            .bind(e.user_id.clone())
            .bind(e.anonymous_id.clone())
            .bind(e.group_id.clone())
            .bind(e.previous_id.clone())
            .bind(e.timestamp)
            .bind(e.received_at)
            .bind(e.sent_at)
            .bind(e.properties.clone())
            .bind(e.traits.clone())
            .bind(e.context.clone())
            .execute(&mut tx)
            .await?;
    }
    for r in rejected {
        sql("INSERT INTO event_rejects (source_id, received_at, reason, detail, payload) VALUES ($1, $2, $3, $4, $5)")
            .bind(source_id)
            .bind(now())
            .bind(&r.reason)
            .bind(&r.detail)
            .bind(&r.payload)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(stored)
}

/// A stored event as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredEvent {
    /// Id.
    pub id: i64,
    /// The client's message id.
    pub message_id: String,
    /// identify, track, page, screen, group or alias.
    pub event_type: String,
    /// Event or page name.
    pub name: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// Anonymous id.
    pub anonymous_id: Option<String>,
    /// When it happened (skew-corrected).
    pub timestamp: DateTime<Utc>,
    /// When Keel received it.
    pub received_at: DateTime<Utc>,
    /// Properties.
    pub properties: sqlx::types::Json<serde_json::Value>,
    /// Traits.
    pub traits: sqlx::types::Json<serde_json::Value>,
    /// Context.
    pub context: sqlx::types::Json<serde_json::Value>,
}

/// Lists a source's events, newest first, with the total count.
pub async fn list_events(
    store: &Store,
    source_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<StoredEvent>, i64)> {
    let total = sql("SELECT COUNT(*) FROM events WHERE source_id = $1")
        .bind(source_id)
        .fetch_scalar(store)
        .await?;
    let items = sql("SELECT id, message_id, event_type, name, user_id, anonymous_id, timestamp, received_at, properties, traits, context FROM events WHERE source_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3")
        .bind(source_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(store)
        .await?;
    Ok((items, total))
}

/// Counts rejected events per reason for a source.
pub async fn reject_counts(store: &Store, source_id: i64) -> Result<Vec<(String, i64)>> {
    sql("SELECT reason, COUNT(*) FROM event_rejects WHERE source_id = $1 GROUP BY reason ORDER BY reason")
        .bind(source_id)
        .fetch_all(store)
        .await
}
