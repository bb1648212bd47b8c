//! Privacy storage: the append-only consent ledger (with consent texts stored once by content
//! hash), preferences, suppressions, double opt-in tokens, subject requests with erasure
//! tombstones, legal holds, the tag registry, retention runs and eligibility runs.
//!
//! People are keyed by a *subject*: their normalised e-mail address, with an optional contact id
//! as text, so the ledger does not depend on how contacts are stored. Ledger rows are only ever
//! inserted; the current state is derived by `keel_consent::ledger::derive_state`. Every write
//! appends to the audit log in the same transaction, so the ledger is covered by the audit hash
//! chain.

use crate::audit::{self, state};
use crate::{Actor, Result, Store, StoreError, Tx, now, sql};
use chrono::{DateTime, NaiveDate, Utc};
use keel_consent::ledger::{
    ConsentEvent, ConsentSource, ConsentState, LedgerState, consent_text_hash, derive_state,
};
use keel_consent::spec::LawfulBasis;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sqlx::types::Json;
use std::collections::BTreeMap;

/// A serde enum's snake_case code, as stored in text columns.
pub fn code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Parses a stored code back into its enum.
pub fn parse_code<T: DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| StoreError::Corrupt(format!("{what} {text:?} is not a known value")))
}

/// Normalises an e-mail address into a subject key (trimmed, lower-case); `None` if it is not an
/// address.
pub fn subject_key(email: &str) -> Option<String> {
    keel_accounts::EmailAddress::parse(email)
        .ok()
        .map(|e| e.as_str().to_string())
}

// ---------------------------------------------------------------------------------------------
// Settings

/// The key that signs privacy links: `KEEL_PRIVACY_SECRET` when the caller passes it, otherwise a
/// random secret generated on first use and kept in the database (so links survive restarts).
pub async fn signing_secret(store: &Store) -> Result<String> {
    if let Some(v) = sql("SELECT value FROM privacy_settings WHERE key = 'signing_secret'")
        .fetch_optional_scalar::<String>(store)
        .await?
    {
        return Ok(v);
    }
    let secret = keel_accounts::new_session_token();
    let mut tx = store.begin().await?;
    let inserted = sql("INSERT INTO privacy_settings (key, value, created_at) VALUES ('signing_secret', $1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(&secret)
        .bind(now())
        .execute(&mut tx)
        .await?;
    if inserted > 0 {
        audit::record(
            &mut tx,
            &Actor::System("privacy"),
            "create",
            "privacy_setting",
            "signing_secret",
            None,
            Some(serde_json::json!({"generated": true})),
        )
        .await?;
    }
    tx.commit().await?;
    sql("SELECT value FROM privacy_settings WHERE key = 'signing_secret'")
        .fetch_scalar::<String>(store)
        .await
}

/// The signing secrets in force: links are signed with `current` and verified against it and,
/// until `previous_until`, against `previous` (the key before the last rotation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningSecrets {
    /// The key that signs new links.
    pub current: String,
    /// The key before the last rotation, while its grace period lasts.
    pub previous: Option<String>,
    /// When the previous key stops being accepted.
    pub previous_until: Option<DateTime<Utc>>,
    /// When the key was last rotated.
    pub rotated_at: Option<DateTime<Utc>>,
}

/// The current signing secret and, if still within its grace period at `at`, the previous one.
pub async fn signing_secrets(store: &Store, at: DateTime<Utc>) -> Result<SigningSecrets> {
    let current = signing_secret(store).await?;
    let rows: Vec<(String, String, DateTime<Utc>)> = sql("SELECT key, value, created_at FROM privacy_settings WHERE key IN ('signing_secret_previous', 'signing_secret_previous_until')")
        .fetch_all(store)
        .await?;
    let mut previous = None;
    let mut previous_until = None;
    let mut rotated_at = None;
    for (key, value, created_at) in rows {
        if key == "signing_secret_previous" {
            previous = Some(value);
            rotated_at = Some(created_at);
        } else {
            previous_until = DateTime::parse_from_rfc3339(&value)
                .ok()
                .map(|d| d.with_timezone(&Utc));
        }
    }
    let in_grace = previous_until.is_some_and(|until| at < until);
    Ok(SigningSecrets {
        current,
        previous: previous.filter(|_| in_grace),
        previous_until: previous_until.filter(|_| in_grace),
        rotated_at,
    })
}

/// What a key rotation did (never the keys themselves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRotation {
    /// When the new key took over.
    pub rotated_at: DateTime<Utc>,
    /// Until when links signed with the previous key keep working.
    pub previous_valid_until: DateTime<Utc>,
}

/// Replaces the signing secret with a fresh random one; the old one keeps verifying links until
/// `grace` has passed (a key retired earlier is forgotten). Audited without the secrets.
pub async fn rotate_signing_secret(
    store: &Store,
    actor: &Actor,
    grace: chrono::Duration,
) -> Result<KeyRotation> {
    let old = signing_secret(store).await?;
    let fresh = keel_accounts::new_session_token();
    let rotated_at = now();
    let until = keel_audit::storage_precision(rotated_at + grace);
    let mut tx = store.begin().await?;
    let changed = sql("UPDATE privacy_settings SET value = $1, created_at = $2 WHERE key = 'signing_secret' AND value = $3")
        .bind(&fresh)
        .bind(rotated_at)
        .bind(&old)
        .execute(&mut tx)
        .await?;
    if changed != 1 {
        return Err(StoreError::Conflict(
            "the signing key was rotated at the same time; try again".into(),
        ));
    }
    for (key, value) in [
        ("signing_secret_previous", old),
        ("signing_secret_previous_until", until.to_rfc3339()),
    ] {
        sql("INSERT INTO privacy_settings (key, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = $2, created_at = $3")
            .bind(key)
            .bind(value)
            .bind(rotated_at)
            .execute(&mut tx)
            .await?;
    }
    let rotation = KeyRotation {
        rotated_at,
        previous_valid_until: until,
    };
    audit::record(
        &mut tx,
        actor,
        "rotate",
        "privacy_setting",
        "signing_secret",
        None,
        Some(state(&rotation)?),
    )
    .await?;
    tx.commit().await?;
    Ok(rotation)
}

// ---------------------------------------------------------------------------------------------
// Consent ledger

/// A stored ledger row.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LedgerEntry {
    /// Id (arrival order).
    pub id: i64,
    /// Normalised e-mail.
    pub subject: String,
    /// Contact id, if known.
    pub contact_id: Option<String>,
    /// Purpose name.
    pub purpose: String,
    /// `granted`, `denied` or `withdrawn`.
    pub state: String,
    /// When the person made the statement.
    pub at: DateTime<Utc>,
    /// `form`, `import`, `api`, `preference_centre` or `cmp_string`.
    pub source: String,
    /// Jurisdiction name.
    pub jurisdiction: Option<String>,
    /// Legal ground.
    pub lawful_basis: String,
    /// Content hash of the consent text shown.
    pub text_hash: Option<String>,
    /// Its version label.
    pub text_version: Option<String>,
    /// Anything else worth keeping as proof (GPC header, campaign, IP-free user agent …).
    pub detail: Json<serde_json::Value>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl LedgerEntry {
    /// The pure ledger event.
    pub fn to_event(&self) -> Result<ConsentEvent> {
        Ok(ConsentEvent {
            subject: self.subject.clone(),
            purpose: self.purpose.clone(),
            state: parse_code("consent state", &self.state)?,
            at: self.at,
            source: parse_code("consent source", &self.source)?,
            jurisdiction: self.jurisdiction.clone(),
            lawful_basis: parse_code("lawful basis", &self.lawful_basis)?,
            text_hash: self.text_hash.clone(),
            text_version: self.text_version.clone(),
        })
    }
}

const LEDGER_COLUMNS: &str = "id, subject, contact_id, purpose, state, at, source, jurisdiction, lawful_basis, text_hash, text_version, detail, recorded_by, recorded_at";

/// The consent text shown, given either in full (stored once under its hash) or by a hash already
/// stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsentTextRef {
    /// The full text and its version label.
    Text {
        /// Version label.
        version: String,
        /// The exact text.
        body: String,
    },
    /// A stored text by hash.
    Hash(String),
}

/// A consent statement to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConsent {
    /// Normalised e-mail (use [`subject_key`]).
    pub subject: String,
    /// Contact id, if known.
    pub contact_id: Option<String>,
    /// Purpose name.
    pub purpose: String,
    /// State stated.
    pub state: ConsentState,
    /// When stated.
    pub at: DateTime<Utc>,
    /// Where from.
    pub source: ConsentSource,
    /// Jurisdiction name.
    pub jurisdiction: Option<String>,
    /// Legal ground.
    pub lawful_basis: LawfulBasis,
    /// The consent text shown, if any.
    pub text: Option<ConsentTextRef>,
    /// Further proof.
    pub detail: serde_json::Value,
}

/// A stored consent text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ConsentText {
    /// `sha256:` content hash.
    pub hash: String,
    /// Purpose it was first stored for.
    pub purpose: String,
    /// Version label.
    pub version: String,
    /// The exact text.
    pub body: String,
    /// First stored.
    pub created_at: DateTime<Utc>,
}

/// Stores a consent text once; returns its hash.
pub async fn store_consent_text(
    tx: &mut Tx,
    purpose: &str,
    version: &str,
    body: &str,
) -> Result<String> {
    let hash = consent_text_hash(body);
    sql("INSERT INTO consent_texts (hash, purpose, version, body, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO NOTHING")
        .bind(&hash)
        .bind(purpose)
        .bind(version)
        .bind(body.replace("\r\n", "\n"))
        .bind(now())
        .execute(&mut *tx)
        .await?;
    Ok(hash)
}

/// Finds a stored consent text.
pub async fn consent_text(store: &Store, hash: &str) -> Result<Option<ConsentText>> {
    sql("SELECT hash, purpose, version, body, created_at FROM consent_texts WHERE hash = $1")
        .bind(hash)
        .fetch_optional(store)
        .await
}

/// Appends one statement inside `tx`, audited.
pub async fn append_consent(tx: &mut Tx, actor: &Actor, c: &NewConsent) -> Result<LedgerEntry> {
    let (hash, version) = match &c.text {
        None => (None, None),
        Some(ConsentTextRef::Text { version, body }) => (
            Some(store_consent_text(tx, &c.purpose, version, body).await?),
            Some(version.clone()),
        ),
        Some(ConsentTextRef::Hash(hash)) => {
            let version = sql("SELECT version FROM consent_texts WHERE hash = $1")
                .bind(hash)
                .fetch_optional_scalar::<String>(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    entity: "consent text",
                    id: hash.clone(),
                })?;
            (Some(hash.clone()), Some(version))
        }
    };
    let entry = sql(format!("INSERT INTO consent_ledger (subject, contact_id, purpose, state, at, source, jurisdiction, lawful_basis, text_hash, text_version, detail, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {LEDGER_COLUMNS}"))
        .bind(&c.subject)
        .bind(c.contact_id.clone())
        .bind(&c.purpose)
        .bind(code(&c.state))
        .bind(keel_audit::storage_precision(c.at))
        .bind(code(&c.source))
        .bind(c.jurisdiction.clone())
        .bind(code(&c.lawful_basis))
        .bind(hash)
        .bind(version)
        .bind(c.detail.clone())
        .bind(actor.label())
        .bind(now())
        .fetch_one::<LedgerEntry>(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        "append",
        "consent",
        entry.id,
        None,
        Some(state(&entry)?),
    )
    .await?;
    Ok(entry)
}

/// Appends one statement in its own transaction.
pub async fn record_consent(store: &Store, actor: &Actor, c: &NewConsent) -> Result<LedgerEntry> {
    let mut tx = store.begin().await?;
    let entry = append_consent(&mut tx, actor, c).await?;
    tx.commit().await?;
    Ok(entry)
}

/// Every ledger row of a subject, in arrival order.
pub async fn ledger_for(store: &Store, subject: &str) -> Result<Vec<LedgerEntry>> {
    sql(format!(
        "SELECT {LEDGER_COLUMNS} FROM consent_ledger WHERE subject = $1 ORDER BY id"
    ))
    .bind(subject)
    .fetch_all(store)
    .await
}

/// The derived current state of a subject's purposes.
pub async fn current_state(store: &Store, subject: &str) -> Result<LedgerState> {
    let events = ledger_for(store, subject)
        .await?
        .iter()
        .map(LedgerEntry::to_event)
        .collect::<Result<Vec<_>>>()?;
    Ok(derive_state(&events))
}

/// The current state of one purpose for every subject with a ledger entry for it.
pub async fn current_for_purpose(
    store: &Store,
    purpose: &str,
) -> Result<BTreeMap<String, ConsentState>> {
    let rows: Vec<LedgerEntry> = sql(format!(
        "SELECT {LEDGER_COLUMNS} FROM consent_ledger WHERE purpose = $1 ORDER BY id"
    ))
    .bind(purpose)
    .fetch_all(store)
    .await?;
    let events = rows
        .iter()
        .map(LedgerEntry::to_event)
        .collect::<Result<Vec<_>>>()?;
    Ok(derive_state(&events)
        .current
        .into_iter()
        .map(|((subject, _), c)| (subject, c.state))
        .collect())
}

/// A subject found in the ledger, with how many statements it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SubjectSummary {
    /// Normalised e-mail.
    pub subject: String,
    /// Ledger rows.
    pub entries: i64,
    /// Latest statement time.
    pub last_at: DateTime<Utc>,
}

/// Subjects whose address contains `query` (all when empty), with counts; and the total.
pub async fn search_subjects(
    store: &Store,
    query: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SubjectSummary>, i64)> {
    let pattern = format!("%{}%", query.trim().to_lowercase());
    let total = sql("SELECT COUNT(DISTINCT subject) FROM consent_ledger WHERE subject LIKE $1")
        .bind(&pattern)
        .fetch_scalar(store)
        .await?;
    let items = sql("SELECT subject, COUNT(*) AS entries, MAX(at) AS last_at FROM consent_ledger WHERE subject LIKE $1 GROUP BY subject ORDER BY subject LIMIT $2 OFFSET $3")
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(store)
        .await?;
    Ok((items, total))
}

/// Every subject in the ledger.
pub async fn all_subjects(store: &Store) -> Result<Vec<String>> {
    sql("SELECT DISTINCT subject FROM consent_ledger ORDER BY subject")
        .fetch_all::<(String,)>(store)
        .await
        .map(|rows| rows.into_iter().map(|r| r.0).collect())
}

/// Per subject: the latest jurisdiction recorded, and whether any statement came from a Global
/// Privacy Control signal (`detail.signal = "gpc"`).
pub async fn latest_jurisdictions_and_gpc(
    store: &Store,
) -> Result<(
    std::collections::HashMap<String, String>,
    std::collections::HashSet<String>,
)> {
    let rows: Vec<(String, Option<String>, Json<serde_json::Value>)> =
        sql("SELECT subject, jurisdiction, detail FROM consent_ledger ORDER BY id")
            .fetch_all(store)
            .await?;
    let mut jurisdictions = std::collections::HashMap::new();
    let mut gpc = std::collections::HashSet::new();
    for (subject, jurisdiction, detail) in rows {
        if detail.0.get("signal").and_then(|s| s.as_str()) == Some("gpc") {
            gpc.insert(subject.clone());
        }
        if let Some(j) = jurisdiction {
            jurisdictions.insert(subject, j);
        }
    }
    Ok((jurisdictions, gpc))
}

/// Counts of current states per purpose (for the overview chart).
pub async fn state_counts(store: &Store) -> Result<Vec<(String, String, i64)>> {
    let rows: Vec<LedgerEntry> = sql(format!(
        "SELECT {LEDGER_COLUMNS} FROM consent_ledger ORDER BY id"
    ))
    .fetch_all(store)
    .await?;
    let events = rows
        .iter()
        .map(LedgerEntry::to_event)
        .collect::<Result<Vec<_>>>()?;
    let mut counts: BTreeMap<(String, String), i64> = BTreeMap::new();
    for ((_, purpose), c) in derive_state(&events).current {
        *counts.entry((purpose, code(&c.state))).or_default() += 1;
    }
    Ok(counts.into_iter().map(|((p, s), n)| (p, s, n)).collect())
}

// ---------------------------------------------------------------------------------------------
// Preferences

/// A subject's own settings that are not consent statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Preferences {
    /// Normalised e-mail.
    pub subject: String,
    /// Own cap on marketing sends per week.
    pub max_sends_per_week: Option<i64>,
    /// Preferred language of pages and messages.
    pub language: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A subject's preferences, if set.
pub async fn preferences(store: &Store, subject: &str) -> Result<Option<Preferences>> {
    sql("SELECT subject, max_sends_per_week, language, updated_at FROM privacy_preferences WHERE subject = $1")
        .bind(subject)
        .fetch_optional(store)
        .await
}

/// Sets a subject's preferences inside `tx`, audited with before and after.
pub async fn set_preferences(
    tx: &mut Tx,
    actor: &Actor,
    subject: &str,
    max_sends_per_week: Option<i64>,
    language: Option<&str>,
) -> Result<Preferences> {
    let before: Option<Preferences> = sql("SELECT subject, max_sends_per_week, language, updated_at FROM privacy_preferences WHERE subject = $1")
        .bind(subject)
        .fetch_optional(&mut *tx)
        .await?;
    let after = sql("INSERT INTO privacy_preferences (subject, max_sends_per_week, language, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (subject) DO UPDATE SET max_sends_per_week = $2, language = $3, updated_at = $4 RETURNING subject, max_sends_per_week, language, updated_at")
        .bind(subject)
        .bind(max_sends_per_week)
        .bind(language.map(str::to_string))
        .bind(now())
        .fetch_one::<Preferences>(&mut *tx)
        .await?;
    let before = before.map(|b| state(&b)).transpose()?;
    audit::record(
        tx,
        actor,
        "update",
        "privacy_preferences",
        subject,
        before,
        Some(state(&after)?),
    )
    .await?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------------
// Suppressions

/// A suppression-list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Suppression {
    /// Id.
    pub id: i64,
    /// Normalised e-mail (or an erased subject's digest).
    pub subject: String,
    /// `global`, `channel` or `brand`.
    pub scope: String,
    /// The channel or brand name (empty for global).
    pub value: String,
    /// Why, e.g. `hard_bounce`, `complaint`, `request`.
    pub reason: String,
    /// Who added it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The scopes a suppression can have.
pub const SUPPRESSION_SCOPES: [&str; 3] = ["global", "channel", "brand"];

const SUPPRESSION_COLUMNS: &str = "id, subject, scope, value, reason, created_by, created_at";

/// Adds a suppression (or returns the existing one for the same subject, scope and value).
pub async fn add_suppression(
    store: &Store,
    actor: &Actor,
    subject: &str,
    scope: &str,
    value: &str,
    reason: &str,
) -> Result<Suppression> {
    let mut tx = store.begin().await?;
    let s = add_suppression_tx(&mut tx, actor, subject, scope, value, reason).await?;
    tx.commit().await?;
    Ok(s)
}

/// [`add_suppression`] inside a transaction.
pub async fn add_suppression_tx(
    tx: &mut Tx,
    actor: &Actor,
    subject: &str,
    scope: &str,
    value: &str,
    reason: &str,
) -> Result<Suppression> {
    let value = if scope == "global" { "" } else { value };
    let inserted: Option<Suppression> = sql(format!("INSERT INTO suppressions (subject, scope, value, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject, scope, value) DO NOTHING RETURNING {SUPPRESSION_COLUMNS}"))
        .bind(subject)
        .bind(scope)
        .bind(value)
        .bind(reason)
        .bind(actor.label())
        .bind(now())
        .fetch_optional(&mut *tx)
        .await?;
    match inserted {
        Some(s) => {
            audit::record(
                tx,
                actor,
                "create",
                "suppression",
                s.id,
                None,
                Some(state(&s)?),
            )
            .await?;
            Ok(s)
        }
        None => {
            sql(format!("SELECT {SUPPRESSION_COLUMNS} FROM suppressions WHERE subject = $1 AND scope = $2 AND value = $3"))
                .bind(subject)
                .bind(scope)
                .bind(value)
                .fetch_one(&mut *tx)
                .await
        }
    }
}

/// Removes a suppression, audited.
pub async fn remove_suppression(store: &Store, actor: &Actor, id: i64) -> Result<Suppression> {
    let mut tx = store.begin().await?;
    let s: Suppression = sql(format!(
        "SELECT {SUPPRESSION_COLUMNS} FROM suppressions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut tx)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "suppression",
        id: id.to_string(),
    })?;
    sql("DELETE FROM suppressions WHERE id = $1")
        .bind(id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "delete",
        "suppression",
        id,
        Some(state(&s)?),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// A subject's suppressions.
pub async fn suppressions_for(store: &Store, subject: &str) -> Result<Vec<Suppression>> {
    sql(format!(
        "SELECT {SUPPRESSION_COLUMNS} FROM suppressions WHERE subject = $1 ORDER BY id"
    ))
    .bind(subject)
    .fetch_all(store)
    .await
}

/// Suppressions whose subject contains `query`, newest first, and the total.
pub async fn list_suppressions(
    store: &Store,
    query: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Suppression>, i64)> {
    let pattern = format!("%{}%", query.trim().to_lowercase());
    let total = sql("SELECT COUNT(*) FROM suppressions WHERE subject LIKE $1")
        .bind(&pattern)
        .fetch_scalar(store)
        .await?;
    let items = sql(format!("SELECT {SUPPRESSION_COLUMNS} FROM suppressions WHERE subject LIKE $1 ORDER BY id DESC LIMIT $2 OFFSET $3"))
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(store)
        .await?;
    Ok((items, total))
}

/// Every suppression (for building audiences).
pub async fn all_suppressions(store: &Store) -> Result<Vec<Suppression>> {
    sql(format!(
        "SELECT {SUPPRESSION_COLUMNS} FROM suppressions ORDER BY id"
    ))
    .fetch_all(store)
    .await
}

// ---------------------------------------------------------------------------------------------
// Double opt-in

/// A pending or used double opt-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DoiToken {
    /// The signed token's nonce.
    pub nonce: String,
    /// Normalised e-mail.
    pub subject: String,
    /// Purpose being confirmed.
    pub purpose: String,
    /// Jurisdiction at subscription.
    pub jurisdiction: Option<String>,
    /// Consent text shown on the form.
    pub text_hash: Option<String>,
    /// Its version.
    pub text_version: Option<String>,
    /// Subscribed.
    pub created_at: DateTime<Utc>,
    /// Link expiry.
    pub expires_at: DateTime<Utc>,
    /// Confirmed (the link is spent).
    pub used_at: Option<DateTime<Utc>>,
}

const DOI_COLUMNS: &str = "nonce, subject, purpose, jurisdiction, text_hash, text_version, created_at, expires_at, used_at";

/// A subscription awaiting confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDoi {
    /// The token nonce (hex).
    pub nonce: String,
    /// Normalised e-mail.
    pub subject: String,
    /// Purpose.
    pub purpose: String,
    /// Jurisdiction.
    pub jurisdiction: Option<String>,
    /// Consent text shown, with its version.
    pub text: Option<(String, String)>,
    /// Link expiry.
    pub expires_at: DateTime<Utc>,
}

/// Records a pending double opt-in, audited.
pub async fn create_doi(store: &Store, actor: &Actor, d: &NewDoi) -> Result<DoiToken> {
    let mut tx = store.begin().await?;
    let (hash, version) = match &d.text {
        Some((version, body)) => (
            Some(store_consent_text(&mut tx, &d.purpose, version, body).await?),
            Some(version.clone()),
        ),
        None => (None, None),
    };
    let row: DoiToken = sql(format!("INSERT INTO doi_tokens (nonce, subject, purpose, jurisdiction, text_hash, text_version, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {DOI_COLUMNS}"))
        .bind(&d.nonce)
        .bind(&d.subject)
        .bind(&d.purpose)
        .bind(d.jurisdiction.clone())
        .bind(hash)
        .bind(version)
        .bind(now())
        .bind(keel_audit::storage_precision(d.expires_at))
        .fetch_one(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "doi",
        &row.nonce,
        None,
        Some(state(&row)?),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// What confirming a double opt-in did.
#[derive(Debug, Clone, PartialEq)]
pub enum DoiOutcome {
    /// Confirmed now; the grant is in the ledger.
    Confirmed(DoiToken, Box<LedgerEntry>),
    /// The link was already used.
    AlreadyUsed(DoiToken),
    /// The stored subscription has expired.
    Expired(DoiToken),
    /// No such subscription (e.g. erased since).
    Unknown,
}

/// Confirms a double opt-in by nonce at `at`: marks the token spent and appends the grant, in one
/// transaction, so a link works exactly once even under concurrent clicks.
pub async fn confirm_doi(
    store: &Store,
    nonce: &str,
    at: DateTime<Utc>,
    detail: serde_json::Value,
) -> Result<DoiOutcome> {
    let mut tx = store.begin().await?;
    let Some(row) = sql(format!(
        "SELECT {DOI_COLUMNS} FROM doi_tokens WHERE nonce = $1"
    ))
    .bind(nonce)
    .fetch_optional::<DoiToken>(&mut tx)
    .await?
    else {
        return Ok(DoiOutcome::Unknown);
    };
    if row.used_at.is_some() {
        return Ok(DoiOutcome::AlreadyUsed(row));
    }
    if at >= row.expires_at {
        return Ok(DoiOutcome::Expired(row));
    }
    let at = keel_audit::storage_precision(at);
    let spent = sql("UPDATE doi_tokens SET used_at = $1 WHERE nonce = $2 AND used_at IS NULL")
        .bind(at)
        .bind(nonce)
        .execute(&mut tx)
        .await?;
    if spent == 0 {
        return Ok(DoiOutcome::AlreadyUsed(row));
    }
    let actor = Actor::System("double-opt-in");
    let entry = append_consent(
        &mut tx,
        &actor,
        &NewConsent {
            subject: row.subject.clone(),
            contact_id: None,
            purpose: row.purpose.clone(),
            state: ConsentState::Granted,
            at,
            source: ConsentSource::Form,
            jurisdiction: row.jurisdiction.clone(),
            lawful_basis: LawfulBasis::Consent,
            text: row.text_hash.clone().map(ConsentTextRef::Hash),
            detail,
        },
    )
    .await?;
    let mut used = row;
    used.used_at = Some(at);
    audit::record(
        &mut tx,
        &actor,
        "confirm",
        "doi",
        &used.nonce,
        None,
        Some(serde_json::json!({"ledger_entry": entry.id})),
    )
    .await?;
    tx.commit().await?;
    Ok(DoiOutcome::Confirmed(used, Box::new(entry)))
}

/// Double opt-ins, pending first, newest first.
pub async fn list_dois(store: &Store, pending_only: bool, limit: i64) -> Result<Vec<DoiToken>> {
    let filter = if pending_only {
        "WHERE used_at IS NULL"
    } else {
        ""
    };
    sql(format!(
        "SELECT {DOI_COLUMNS} FROM doi_tokens {filter} ORDER BY created_at DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(store)
    .await
}

/// A subject's double opt-ins.
pub async fn dois_for(store: &Store, subject: &str) -> Result<Vec<DoiToken>> {
    sql(format!(
        "SELECT {DOI_COLUMNS} FROM doi_tokens WHERE subject = $1 ORDER BY created_at"
    ))
    .bind(subject)
    .fetch_all(store)
    .await
}

// ---------------------------------------------------------------------------------------------
// Subject requests

/// A stored subject request.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SubjectRequest {
    /// Id.
    pub id: i64,
    /// `access`, `erasure` or `rectification`.
    pub kind: String,
    /// Normalised e-mail (an erased subject's digest after erasure).
    pub subject: String,
    /// Contact id, if known.
    pub contact_id: Option<String>,
    /// Jurisdiction name.
    pub jurisdiction: Option<String>,
    /// `one_month_plus_two` or `forty_five_days_plus_forty_five`.
    pub deadline_rule: String,
    /// `received`, `verified`, `awaiting_systems` (erased in Keel, connected systems still to
    /// confirm), `completed` or `rejected`.
    pub status: String,
    /// Whether the requester's identity was verified.
    pub identity_verified: bool,
    /// How it was verified.
    pub verification_note: Option<String>,
    /// When received.
    pub received_at: DateTime<Utc>,
    /// Due date (`YYYY-MM-DD`, organisation's time zone).
    pub due_on: String,
    /// Due date if extended.
    pub extended_due_on: String,
    /// Whether the extension is used.
    pub extended: bool,
    /// Why it was extended (told to the requester).
    pub extension_reason: Option<String>,
    /// Request details (e.g. fields to rectify).
    pub details: Json<serde_json::Value>,
    /// The outcome (access export summary, erasure counts …).
    pub result: Option<Json<serde_json::Value>>,
    /// When completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Who logged it.
    pub created_by: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl SubjectRequest {
    /// The due date in force (extended or not).
    pub fn effective_due_on(&self) -> Option<NaiveDate> {
        let text = if self.extended {
            &self.extended_due_on
        } else {
            &self.due_on
        };
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }
}

const REQUEST_COLUMNS: &str = "id, kind, subject, contact_id, jurisdiction, deadline_rule, status, identity_verified, verification_note, received_at, due_on, extended_due_on, extended, extension_reason, details, result, completed_at, created_by, updated_at";

/// A request to log.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubjectRequest {
    /// `access`, `erasure` or `rectification`.
    pub kind: String,
    /// Normalised e-mail.
    pub subject: String,
    /// Contact id.
    pub contact_id: Option<String>,
    /// Jurisdiction name.
    pub jurisdiction: Option<String>,
    /// Deadline rule code.
    pub deadline_rule: String,
    /// When received.
    pub received_at: DateTime<Utc>,
    /// Due date.
    pub due_on: NaiveDate,
    /// Due date if extended.
    pub extended_due_on: NaiveDate,
    /// Details.
    pub details: serde_json::Value,
}

/// Logs a subject request, audited.
pub async fn create_request(
    store: &Store,
    actor: &Actor,
    r: &NewSubjectRequest,
) -> Result<SubjectRequest> {
    let mut tx = store.begin().await?;
    let row: SubjectRequest = sql(format!("INSERT INTO subject_requests (kind, subject, contact_id, jurisdiction, deadline_rule, status, identity_verified, received_at, due_on, extended_due_on, extended, details, created_by, updated_at) VALUES ($1, $2, $3, $4, $5, 'received', FALSE, $6, $7, $8, FALSE, $9, $10, $11) RETURNING {REQUEST_COLUMNS}"))
        .bind(&r.kind)
        .bind(&r.subject)
        .bind(r.contact_id.clone())
        .bind(r.jurisdiction.clone())
        .bind(&r.deadline_rule)
        .bind(keel_audit::storage_precision(r.received_at))
        .bind(r.due_on.to_string())
        .bind(r.extended_due_on.to_string())
        .bind(r.details.clone())
        .bind(actor.label())
        .bind(now())
        .fetch_one(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "subject_request",
        row.id,
        None,
        Some(state(&row)?),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// One request.
pub async fn request(store: &Store, id: i64) -> Result<SubjectRequest> {
    request_in(&mut crate::DbRef::Store(store), id).await
}

async fn request_in(db: &mut crate::DbRef<'_>, id: i64) -> Result<SubjectRequest> {
    sql(format!(
        "SELECT {REQUEST_COLUMNS} FROM subject_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.reborrow())
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "subject request",
        id: id.to_string(),
    })
}

/// Requests, open ones first by due date, then completed ones newest first.
pub async fn list_requests(store: &Store, open_only: bool) -> Result<Vec<SubjectRequest>> {
    let filter = if open_only {
        "WHERE status IN ('received', 'verified', 'awaiting_systems')"
    } else {
        ""
    };
    let mut rows: Vec<SubjectRequest> = sql(format!(
        "SELECT {REQUEST_COLUMNS} FROM subject_requests {filter} ORDER BY id"
    ))
    .fetch_all(store)
    .await?;
    rows.sort_by(|a, b| {
        let open = |r: &SubjectRequest| {
            matches!(
                r.status.as_str(),
                "received" | "verified" | "awaiting_systems"
            )
        };
        open(b)
            .cmp(&open(a))
            .then_with(|| a.effective_due_on().cmp(&b.effective_due_on()))
    });
    Ok(rows)
}

/// A subject's requests.
pub async fn requests_for(store: &Store, subject: &str) -> Result<Vec<SubjectRequest>> {
    sql(format!(
        "SELECT {REQUEST_COLUMNS} FROM subject_requests WHERE subject = $1 ORDER BY id"
    ))
    .bind(subject)
    .fetch_all(store)
    .await
}

async fn update_request(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    before: &SubjectRequest,
    set: crate::Sql,
) -> Result<SubjectRequest> {
    let after: SubjectRequest = set.fetch_one(&mut *tx).await?;
    audit::record(
        tx,
        actor,
        action,
        "subject_request",
        before.id,
        Some(state(before)?),
        Some(state(&after)?),
    )
    .await?;
    Ok(after)
}

fn open_or_conflict(r: &SubjectRequest) -> Result<()> {
    if matches!(r.status.as_str(), "completed" | "rejected") {
        return Err(StoreError::Conflict(format!(
            "subject request {} is already {}",
            r.id, r.status
        )));
    }
    Ok(())
}

/// Marks the requester's identity verified.
pub async fn verify_request(
    store: &Store,
    actor: &Actor,
    id: i64,
    note: &str,
) -> Result<SubjectRequest> {
    let mut tx = store.begin().await?;
    let before = request_in(&mut crate::DbRef::Tx(&mut tx), id).await?;
    open_or_conflict(&before)?;
    let set = sql(format!("UPDATE subject_requests SET identity_verified = TRUE, status = 'verified', verification_note = $1, updated_at = $2 WHERE id = $3 RETURNING {REQUEST_COLUMNS}"))
            .bind(note)
            .bind(now())
            .bind(id);
    let after = update_request(&mut tx, actor, "verify", &before, set).await?;
    tx.commit().await?;
    Ok(after)
}

/// Uses the extension (once).
pub async fn extend_request(
    store: &Store,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<SubjectRequest> {
    let mut tx = store.begin().await?;
    let before = request_in(&mut crate::DbRef::Tx(&mut tx), id).await?;
    open_or_conflict(&before)?;
    if before.extended {
        return Err(StoreError::Conflict(format!(
            "subject request {id} is already extended"
        )));
    }
    let set = sql(format!("UPDATE subject_requests SET extended = TRUE, extension_reason = $1, updated_at = $2 WHERE id = $3 RETURNING {REQUEST_COLUMNS}"))
            .bind(reason)
            .bind(now())
            .bind(id);
    let after = update_request(&mut tx, actor, "extend", &before, set).await?;
    tx.commit().await?;
    Ok(after)
}

/// Completes a request with its result. Erasure requests erase the subject in the same
/// transaction (see [`erase_subject`]); a request whose identity is not verified is refused.
pub async fn complete_request(
    store: &Store,
    actor: &Actor,
    id: i64,
    result: serde_json::Value,
) -> Result<SubjectRequest> {
    complete_request_with_systems(store, actor, id, result, &[]).await
}

/// A connected system that holds contact data and must be told about an erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectedSystem {
    /// Catalog name of the tool.
    pub name: String,
    /// Its display name.
    pub display_name: String,
    /// Webhook receiving erasure requests; `None` makes it a manual task.
    pub endpoint: Option<String>,
}

/// The job kind that delivers an erasure request to one connected system.
pub const ERASURE_JOB: &str = "privacy.erasure";

/// [`complete_request`], telling `systems` about an erasure: in the same transaction as the
/// erasure in Keel, one delivery per system is recorded, with a durable job for each that has an
/// endpoint (the others are manual tasks). The request then waits in `awaiting_systems` until
/// every delivery is confirmed or acknowledged (see [`acknowledge_delivery`]).
pub async fn complete_request_with_systems(
    store: &Store,
    actor: &Actor,
    id: i64,
    result: serde_json::Value,
    systems: &[ConnectedSystem],
) -> Result<SubjectRequest> {
    let mut tx = store.begin().await?;
    let before = request_in(&mut crate::DbRef::Tx(&mut tx), id).await?;
    open_or_conflict(&before)?;
    if before.status == "awaiting_systems" {
        return Err(StoreError::Conflict(format!(
            "request {id} is erased in Keel and waits for its connected systems; acknowledge them instead"
        )));
    }
    if !before.identity_verified {
        return Err(StoreError::Conflict(format!(
            "verify the requester's identity before completing request {id}"
        )));
    }
    let mut result = result;
    let mut subject = before.subject.clone();
    let mut status = "completed";
    if before.kind == "erasure" {
        let erased = erase_subject(
            &mut tx,
            actor,
            &before.subject,
            before.contact_id.as_deref(),
            id,
        )
        .await?;
        subject = erased.digest.clone();
        for system in systems {
            queue_delivery(&mut tx, actor, &before, system).await?;
        }
        if !systems.is_empty() {
            status = "awaiting_systems";
        }
        result = serde_json::json!({"erasure": erased, "note": result, "connected_systems": systems.len()});
    }
    let completed_at = (status == "completed").then(now);
    let set = sql(format!("UPDATE subject_requests SET status = $1, result = $2, completed_at = $3, updated_at = $4, subject = $5 WHERE id = $6 RETURNING {REQUEST_COLUMNS}"))
            .bind(status)
            .bind(result)
            .bind(completed_at)
            .bind(now())
            .bind(subject)
            .bind(id);
    let after = update_request(&mut tx, actor, "complete", &before, set).await?;
    tx.commit().await?;
    Ok(after)
}

/// An erasure request for one connected system: delivered by webhook, or a manual task.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ErasureDelivery {
    /// Id.
    pub id: i64,
    /// The subject request.
    pub request_id: i64,
    /// Catalog name of the tool.
    pub system: String,
    /// Its display name.
    pub display_name: String,
    /// Webhook, if any.
    pub endpoint: Option<String>,
    /// The address to erase there until the delivery is done; the tombstone digest after.
    pub subject: String,
    /// `queued` (webhook pending or retrying), `manual` (someone must erase by hand),
    /// `failed` (webhook gave up), `delivered` (webhook accepted) or `acknowledged` (confirmed by
    /// a person).
    pub status: String,
    /// Webhook attempts so far.
    pub attempts: i64,
    /// Last webhook error.
    pub last_error: Option<String>,
    /// The delivery job.
    pub job_id: Option<i64>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it was done.
    pub done_at: Option<DateTime<Utc>>,
    /// Who acknowledged it (or the job that delivered it).
    pub done_by: Option<String>,
    /// Acknowledgement note.
    pub note: Option<String>,
}

impl ErasureDelivery {
    /// Whether nothing is left to do for this system.
    pub fn is_done(&self) -> bool {
        matches!(self.status.as_str(), "delivered" | "acknowledged")
    }
}

const DELIVERY_COLUMNS: &str = "id, request_id, system, display_name, endpoint, subject, status, attempts, last_error, job_id, created_at, updated_at, done_at, done_by, note";

async fn queue_delivery(
    tx: &mut Tx,
    actor: &Actor,
    request: &SubjectRequest,
    system: &ConnectedSystem,
) -> Result<ErasureDelivery> {
    let status = if system.endpoint.is_some() {
        "queued"
    } else {
        "manual"
    };
    let at = now();
    let mut d: ErasureDelivery = sql(format!("INSERT INTO erasure_deliveries (request_id, system, display_name, endpoint, subject, status, attempts, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7) RETURNING {DELIVERY_COLUMNS}"))
        .bind(request.id)
        .bind(&system.name)
        .bind(&system.display_name)
        .bind(system.endpoint.clone())
        .bind(&request.subject)
        .bind(status)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
    if system.endpoint.is_some() {
        let job = crate::jobs::enqueue(
            &mut *tx,
            &crate::jobs::NewJob {
                max_attempts: 8,
                ..crate::jobs::NewJob::now(ERASURE_JOB, serde_json::json!({"delivery": d.id}))
            },
        )
        .await?;
        sql("UPDATE erasure_deliveries SET job_id = $1 WHERE id = $2")
            .bind(job)
            .bind(d.id)
            .execute(&mut *tx)
            .await?;
        d.job_id = Some(job);
    }
    audit::record(
        tx,
        actor,
        "queue",
        "erasure_delivery",
        d.id,
        None,
        Some(serde_json::json!({"request": request.id, "system": d.system, "status": d.status, "job": d.job_id})),
    )
    .await?;
    Ok(d)
}

/// One delivery.
pub async fn delivery(store: &Store, id: i64) -> Result<ErasureDelivery> {
    sql(format!(
        "SELECT {DELIVERY_COLUMNS} FROM erasure_deliveries WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "erasure delivery",
        id: id.to_string(),
    })
}

/// A request's deliveries, by system.
pub async fn deliveries_for(store: &Store, request_id: i64) -> Result<Vec<ErasureDelivery>> {
    sql(format!(
        "SELECT {DELIVERY_COLUMNS} FROM erasure_deliveries WHERE request_id = $1 ORDER BY system"
    ))
    .bind(request_id)
    .fetch_all(store)
    .await
}

/// Every delivery by request (for the queue page).
pub async fn all_deliveries(store: &Store) -> Result<BTreeMap<i64, Vec<ErasureDelivery>>> {
    let rows: Vec<ErasureDelivery> = sql(format!(
        "SELECT {DELIVERY_COLUMNS} FROM erasure_deliveries ORDER BY request_id, system"
    ))
    .fetch_all(store)
    .await?;
    let mut out: BTreeMap<i64, Vec<ErasureDelivery>> = BTreeMap::new();
    for d in rows {
        out.entry(d.request_id).or_default().push(d);
    }
    Ok(out)
}

/// Marks a delivery done (`delivered` or `acknowledged`), forgets the address in it, and
/// completes its request when every system is done. Returns the delivery and the request.
async fn finish_delivery(
    tx: &mut Tx,
    actor: &Actor,
    d: &ErasureDelivery,
    status: &str,
    note: Option<&str>,
) -> Result<(ErasureDelivery, SubjectRequest)> {
    let after: ErasureDelivery = sql(format!("UPDATE erasure_deliveries SET status = $1, subject = $2, done_at = $3, updated_at = $3, done_by = $4, note = $5 WHERE id = $6 RETURNING {DELIVERY_COLUMNS}"))
        .bind(status)
        .bind(subject_digest(&d.subject))
        .bind(now())
        .bind(actor.label())
        .bind(note.map(str::to_string))
        .bind(d.id)
        .fetch_one(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        status,
        "erasure_delivery",
        d.id,
        Some(serde_json::json!({"status": d.status, "attempts": d.attempts})),
        Some(serde_json::json!({"status": after.status, "note": note})),
    )
    .await?;
    let before = request_in(&mut crate::DbRef::Tx(&mut *tx), d.request_id).await?;
    let open: i64 = sql("SELECT COUNT(*) FROM erasure_deliveries WHERE request_id = $1 AND status NOT IN ('delivered', 'acknowledged')")
        .bind(d.request_id)
        .fetch_scalar(&mut *tx)
        .await?;
    if open > 0 || before.status != "awaiting_systems" {
        return Ok((after, before));
    }
    let rows: Vec<ErasureDelivery> = sql(format!(
        "SELECT {DELIVERY_COLUMNS} FROM erasure_deliveries WHERE request_id = $1 ORDER BY system"
    ))
    .bind(d.request_id)
    .fetch_all(&mut *tx)
    .await?;
    let systems: BTreeMap<String, String> =
        rows.into_iter().map(|r| (r.system, r.status)).collect();
    let mut result = before
        .result
        .as_ref()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| serde_json::json!({}));
    if let Some(o) = result.as_object_mut() {
        o.insert("systems".into(), serde_json::json!(systems));
    }
    let set = sql(format!("UPDATE subject_requests SET status = 'completed', result = $1, completed_at = $2, updated_at = $2 WHERE id = $3 RETURNING {REQUEST_COLUMNS}"))
        .bind(result)
        .bind(now())
        .bind(d.request_id);
    let request = update_request(tx, actor, "complete", &before, set).await?;
    Ok((after, request))
}

/// Records that the webhook accepted a delivery (by the delivery job).
pub async fn mark_delivered(
    store: &Store,
    actor: &Actor,
    id: i64,
) -> Result<(ErasureDelivery, SubjectRequest)> {
    let mut tx = store.begin().await?;
    let d: ErasureDelivery = sql(format!(
        "SELECT {DELIVERY_COLUMNS} FROM erasure_deliveries WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut tx)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "erasure delivery",
        id: id.to_string(),
    })?;
    if d.is_done() {
        let r = request_in(&mut crate::DbRef::Tx(&mut tx), d.request_id).await?;
        return Ok((d, r));
    }
    let out = finish_delivery(&mut tx, actor, &d, "delivered", None).await?;
    tx.commit().await?;
    Ok(out)
}

/// Records a failed webhook attempt; `give_up` marks the delivery `failed` (someone must then
/// acknowledge it by hand). Not audited per attempt (the job keeps its own history); giving up
/// is.
pub async fn record_delivery_failure(
    store: &Store,
    id: i64,
    error: &str,
    give_up: bool,
) -> Result<ErasureDelivery> {
    let mut tx = store.begin().await?;
    let status = if give_up { "failed" } else { "queued" };
    let d: ErasureDelivery = sql(format!("UPDATE erasure_deliveries SET attempts = attempts + 1, last_error = $1, status = $2, updated_at = $3 WHERE id = $4 AND status IN ('queued', 'failed') RETURNING {DELIVERY_COLUMNS}"))
        .bind(error)
        .bind(status)
        .bind(now())
        .bind(id)
        .fetch_optional(&mut tx)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("erasure delivery {id} is not pending")))?;
    if give_up {
        audit::record(
            &mut tx,
            &Actor::System("privacy.erasure"),
            "fail",
            "erasure_delivery",
            id,
            None,
            Some(serde_json::json!({"attempts": d.attempts, "error": error})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(d)
}

/// A person confirms that a system's data was erased (a manual task, or a webhook that failed or
/// is still retrying), with a note. Completes the request when it was the last one.
pub async fn acknowledge_delivery(
    store: &Store,
    actor: &Actor,
    request_id: i64,
    system: &str,
    note: &str,
) -> Result<(ErasureDelivery, SubjectRequest)> {
    let mut tx = store.begin().await?;
    let d: ErasureDelivery = sql(format!(
        "SELECT {DELIVERY_COLUMNS} FROM erasure_deliveries WHERE request_id = $1 AND system = $2"
    ))
    .bind(request_id)
    .bind(system)
    .fetch_optional(&mut tx)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "erasure delivery",
        id: format!("{request_id}/{system}"),
    })?;
    if d.is_done() {
        return Err(StoreError::Conflict(format!(
            "{system} is already {} for request {request_id}",
            d.status
        )));
    }
    let out = finish_delivery(&mut tx, actor, &d, "acknowledged", Some(note)).await?;
    tx.commit().await?;
    Ok(out)
}

/// What an erasure removed or anonymised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureSummary {
    /// The tombstone key: SHA-256 of the normalised address.
    pub digest: String,
    /// Events deleted.
    pub events_deleted: u64,
    /// Ledger rows whose subject was replaced by the digest (kept as proof, no longer personal).
    pub ledger_rows_pseudonymised: u64,
    /// Suppressions re-keyed to the digest (so the person stays suppressed).
    pub suppressions_kept: u64,
    /// Double opt-ins deleted.
    pub dois_deleted: u64,
    /// Preferences deleted.
    pub preferences_deleted: u64,
    /// Contact records and their history (by address and by the request's contact id).
    pub contacts: crate::contacts::ContactErasure,
    /// Hygiene events logged by address without a contact record.
    pub hygiene_deleted: u64,
    /// CRM opportunities whose contact address was removed.
    pub opportunities_unlinked: u64,
}

/// The tombstone key of a subject.
pub fn subject_digest(subject: &str) -> String {
    format!("erased:{}", keel_accounts::secret_digest(subject))
}

/// Erases a subject inside `tx`: deletes their events and preferences, pseudonymises their
/// ledger rows and suppressions to the digest, and records a tombstone so the address is not
/// re-imported. Audited with counts only (never the address).
pub async fn erase_subject(
    tx: &mut Tx,
    actor: &Actor,
    subject: &str,
    contact_id: Option<&str>,
    request_id: i64,
) -> Result<ErasureSummary> {
    let digest = subject_digest(subject);
    // The person's contact records: by address, and the one the request names.
    let mut record_ids = crate::contacts::records_of_email(&mut *tx, subject).await?;
    if let Some(id) = contact_id {
        let named: Option<(Option<String>,)> =
            sql("SELECT email FROM contact_records WHERE id = $1 AND object = 'contact'")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        // A named record with another person's address is not erased.
        if let Some((email,)) = named
            && email
                .as_deref()
                .and_then(subject_key)
                .as_deref()
                .is_none_or(|e| e == subject)
            && !record_ids.iter().any(|r| r == id)
        {
            record_ids.push(id.to_string());
        }
    }
    let mut event_ids = Vec::new();
    let mut ids_to_match: Vec<Option<&str>> = vec![contact_id];
    ids_to_match.extend(record_ids.iter().map(|r| Some(r.as_str())));
    for cid in ids_to_match {
        for id in matching_event_ids(&mut crate::DbRef::Tx(&mut *tx), subject, cid).await? {
            if !event_ids.contains(&id) {
                event_ids.push(id);
            }
        }
    }
    let mut events_deleted = 0;
    for id in event_ids {
        events_deleted += sql("DELETE FROM events WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let mut contacts = crate::contacts::ContactErasure::default();
    for id in &record_ids {
        let one = crate::contacts::erase_contact(tx, actor, id).await?;
        contacts.add(&one);
    }
    crate::contacts::scrub_raw_copies(tx, &mut contacts).await?;
    let hygiene_deleted = sql("DELETE FROM contact_hygiene WHERE email = $1")
        .bind(subject)
        .execute(&mut *tx)
        .await?;
    let opportunities_unlinked =
        sql("UPDATE opportunities SET contact_email = NULL WHERE LOWER(contact_email) = $1")
            .bind(subject)
            .execute(&mut *tx)
            .await?;
    let ledger_rows_pseudonymised =
        sql("UPDATE consent_ledger SET subject = $1, contact_id = NULL WHERE subject = $2")
            .bind(&digest)
            .bind(subject)
            .execute(&mut *tx)
            .await?;
    let suppressions_kept = sql("UPDATE suppressions SET subject = $1 WHERE subject = $2")
        .bind(&digest)
        .bind(subject)
        .execute(&mut *tx)
        .await?;
    let dois_deleted = sql("DELETE FROM doi_tokens WHERE subject = $1")
        .bind(subject)
        .execute(&mut *tx)
        .await?;
    let preferences_deleted = sql("DELETE FROM privacy_preferences WHERE subject = $1")
        .bind(subject)
        .execute(&mut *tx)
        .await?;
    sql("INSERT INTO erasure_tombstones (subject_digest, request_id, erased_at) VALUES ($1, $2, $3) ON CONFLICT (subject_digest) DO NOTHING")
        .bind(&digest)
        .bind(request_id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    let summary = ErasureSummary {
        digest: digest.clone(),
        events_deleted,
        ledger_rows_pseudonymised,
        suppressions_kept,
        dois_deleted,
        preferences_deleted,
        contacts,
        hygiene_deleted,
        opportunities_unlinked,
    };
    audit::record(
        tx,
        actor,
        "erase",
        "privacy_subject",
        &digest,
        None,
        Some(state(&summary)?),
    )
    .await?;
    Ok(summary)
}

/// The digest a tombstone is kept under for an address as imported or typed: the canonical
/// address when it parses, else the trimmed lower-case text.
pub fn tombstone_digest(address: &str) -> String {
    let subject = subject_key(address).unwrap_or_else(|| address.trim().to_lowercase());
    subject_digest(&subject)
}

/// Whether an address was erased (and must not be re-imported). The address is normalised first.
pub async fn is_tombstoned(store: &Store, address: &str) -> Result<bool> {
    Ok(
        sql("SELECT COUNT(*) FROM erasure_tombstones WHERE subject_digest = $1")
            .bind(tombstone_digest(address))
            .fetch_scalar::<i64>(store)
            .await?
            > 0,
    )
}

// ---------------------------------------------------------------------------------------------
// Events of a subject (access export, erasure, retention)

#[derive(sqlx::FromRow)]
struct EventIdentity {
    id: i64,
    user_id: Option<String>,
    traits: Json<serde_json::Value>,
    context: Json<serde_json::Value>,
}

fn traits_email(v: &serde_json::Value) -> Option<String> {
    v.get("email")
        .and_then(|e| e.as_str())
        .and_then(subject_key)
}

/// Ids of events that belong to a subject: `userId` equal to the address or the contact id, or
/// an `email` trait (in `traits` or `context.traits`) equal to the address.
async fn matching_event_ids(
    db: &mut crate::DbRef<'_>,
    subject: &str,
    contact_id: Option<&str>,
) -> Result<Vec<i64>> {
    // Narrow in SQL (user id, or the address anywhere in the JSON text), decide exactly in Rust.
    let pattern = format!("%{subject}%");
    let rows: Vec<EventIdentity> = sql("SELECT id, user_id, traits, context FROM events WHERE user_id = $1 OR user_id = $2 OR LOWER(CAST(traits AS TEXT)) LIKE $3 OR LOWER(CAST(context AS TEXT)) LIKE $3 ORDER BY id")
        .bind(subject)
        .bind(contact_id.unwrap_or(subject))
        .bind(pattern)
        .fetch_all(db.reborrow())
        .await?;
    Ok(rows
        .into_iter()
        .filter(|r| {
            let by_user = r.user_id.as_deref().is_some_and(|u| {
                subject_key(u).as_deref() == Some(subject) || Some(u) == contact_id
            });
            let by_trait = traits_email(&r.traits.0).as_deref() == Some(subject)
                || r.context.0.get("traits").and_then(traits_email).as_deref() == Some(subject);
            by_user || by_trait
        })
        .map(|r| r.id)
        .collect())
}

/// A subject's events, as stored.
pub async fn events_for(
    store: &Store,
    subject: &str,
    contact_id: Option<&str>,
) -> Result<Vec<crate::events::StoredEvent>> {
    let ids = matching_event_ids(&mut crate::DbRef::Store(store), subject, contact_id).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(e) = sql("SELECT id, message_id, event_type, name, user_id, anonymous_id, timestamp, received_at, properties, traits, context FROM events WHERE id = $1")
            .bind(id)
            .fetch_optional(store)
            .await?
        {
            out.push(e);
        }
    }
    Ok(out)
}

/// Everything Keel holds about an address.
#[derive(Debug, Clone, Serialize)]
pub struct AccessExport {
    /// The address.
    pub subject: String,
    /// When exported.
    pub exported_at: DateTime<Utc>,
    /// Every ledger row.
    pub consent_ledger: Vec<LedgerEntry>,
    /// The consent texts those rows refer to.
    pub consent_texts: Vec<ConsentText>,
    /// Current state per purpose.
    pub current_consent: BTreeMap<String, String>,
    /// Preferences.
    pub preferences: Option<Preferences>,
    /// Suppressions.
    pub suppressions: Vec<Suppression>,
    /// Double opt-ins.
    pub double_opt_ins: Vec<DoiToken>,
    /// Subject requests.
    pub subject_requests: Vec<SubjectRequest>,
    /// Legal hold, if any.
    pub legal_hold: Option<LegalHold>,
    /// Behavioural events.
    pub events: Vec<crate::events::StoredEvent>,
    /// Contact records (with field lineage) and their hygiene, lifecycle, engagement, merge and
    /// hand-off history.
    pub contacts: Vec<crate::contacts::ContactHistory>,
}

/// Builds the access export of an address.
pub async fn access_export(
    store: &Store,
    subject: &str,
    contact_id: Option<&str>,
) -> Result<AccessExport> {
    let consent_ledger = ledger_for(store, subject).await?;
    let mut consent_texts = Vec::new();
    let mut hashes: Vec<&str> = consent_ledger
        .iter()
        .filter_map(|e| e.text_hash.as_deref())
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    for h in hashes {
        if let Some(t) = consent_text(store, h).await? {
            consent_texts.push(t);
        }
    }
    let events = consent_ledger
        .iter()
        .map(LedgerEntry::to_event)
        .collect::<Result<Vec<_>>>()?;
    let current_consent = derive_state(&events)
        .current
        .into_iter()
        .map(|((_, p), c)| (p, code(&c.state)))
        .collect();
    // Events keyed by the address, the request's contact id or any of the person's records.
    let contacts = crate::contacts::history_of_email(store, subject).await?;
    let mut events = events_for(store, subject, contact_id).await?;
    for c in &contacts {
        for e in events_for(store, subject, Some(&c.record.row.id)).await? {
            if !events.iter().any(|x| x.id == e.id) {
                events.push(e);
            }
        }
    }
    events.sort_by_key(|e| e.id);
    Ok(AccessExport {
        subject: subject.to_string(),
        exported_at: now(),
        consent_texts,
        current_consent,
        preferences: preferences(store, subject).await?,
        suppressions: suppressions_for(store, subject).await?,
        double_opt_ins: dois_for(store, subject).await?,
        subject_requests: requests_for(store, subject).await?,
        legal_hold: legal_hold(store, subject).await?,
        events,
        contacts,
        consent_ledger,
    })
}

// ---------------------------------------------------------------------------------------------
// Legal holds

/// A legal hold: the subject's records are exempt from retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct LegalHold {
    /// Normalised e-mail.
    pub subject: String,
    /// Why.
    pub reason: String,
    /// Who placed it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Places a legal hold, audited.
pub async fn place_legal_hold(
    store: &Store,
    actor: &Actor,
    subject: &str,
    reason: &str,
) -> Result<LegalHold> {
    let mut tx = store.begin().await?;
    let hold: LegalHold = sql("INSERT INTO legal_holds (subject, reason, created_by, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (subject) DO UPDATE SET reason = $2 RETURNING subject, reason, created_by, created_at")
        .bind(subject)
        .bind(reason)
        .bind(actor.label())
        .bind(now())
        .fetch_one(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "legal_hold",
        subject,
        None,
        Some(state(&hold)?),
    )
    .await?;
    tx.commit().await?;
    Ok(hold)
}

/// A subject's legal hold.
pub async fn legal_hold(store: &Store, subject: &str) -> Result<Option<LegalHold>> {
    sql("SELECT subject, reason, created_by, created_at FROM legal_holds WHERE subject = $1")
        .bind(subject)
        .fetch_optional(store)
        .await
}

/// Every legal hold.
pub async fn legal_holds(store: &Store) -> Result<Vec<LegalHold>> {
    sql("SELECT subject, reason, created_by, created_at FROM legal_holds ORDER BY subject")
        .fetch_all(store)
        .await
}

// ---------------------------------------------------------------------------------------------
// Tag registry

/// A script or tag on the web properties.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Tag {
    /// Id.
    pub id: i64,
    /// Unique name, e.g. `ga4`.
    pub name: String,
    /// Vendor, e.g. `Google`.
    pub vendor: String,
    /// Consent category (a purpose category, e.g. `analytics`).
    pub category: String,
    /// Web properties it runs on.
    pub properties: Json<Vec<String>>,
    /// Substring of the script URL that identifies it (for page checks).
    pub src_pattern: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A tag to create or the new values of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagInput {
    /// Unique name.
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Consent category.
    pub category: String,
    /// Web properties.
    pub properties: Vec<String>,
    /// Script URL substring.
    pub src_pattern: String,
}

const TAG_COLUMNS: &str =
    "id, name, vendor, category, properties, src_pattern, created_at, updated_at";

/// Creates a tag, audited; a duplicate name is a conflict.
pub async fn create_tag(store: &Store, actor: &Actor, t: &TagInput) -> Result<Tag> {
    let mut tx = store.begin().await?;
    let tag: Tag = sql(format!("INSERT INTO privacy_tags (name, vendor, category, properties, src_pattern, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {TAG_COLUMNS}"))
        .bind(&t.name)
        .bind(&t.vendor)
        .bind(&t.category)
        .bind(serde_json::json!(t.properties))
        .bind(&t.src_pattern)
        .bind(now())
        .fetch_one(&mut tx)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Conflict(format!("a tag named {} already exists", t.name))
            } else {
                e
            }
        })?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "tag",
        tag.id,
        None,
        Some(state(&tag)?),
    )
    .await?;
    tx.commit().await?;
    Ok(tag)
}

/// One tag.
pub async fn tag(store: &Store, id: i64) -> Result<Tag> {
    sql(format!(
        "SELECT {TAG_COLUMNS} FROM privacy_tags WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "tag",
        id: id.to_string(),
    })
}

/// Every tag by name.
pub async fn tags(store: &Store) -> Result<Vec<Tag>> {
    sql(format!(
        "SELECT {TAG_COLUMNS} FROM privacy_tags ORDER BY name"
    ))
    .fetch_all(store)
    .await
}

/// Replaces a tag's values, audited with before and after.
pub async fn update_tag(store: &Store, actor: &Actor, id: i64, t: &TagInput) -> Result<Tag> {
    let before = tag(store, id).await?;
    let mut tx = store.begin().await?;
    let after: Tag = sql(format!("UPDATE privacy_tags SET name = $1, vendor = $2, category = $3, properties = $4, src_pattern = $5, updated_at = $6 WHERE id = $7 RETURNING {TAG_COLUMNS}"))
        .bind(&t.name)
        .bind(&t.vendor)
        .bind(&t.category)
        .bind(serde_json::json!(t.properties))
        .bind(&t.src_pattern)
        .bind(now())
        .bind(id)
        .fetch_one(&mut tx)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Conflict(format!("a tag named {} already exists", t.name))
            } else {
                e
            }
        })?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "tag",
        id,
        Some(state(&before)?),
        Some(state(&after)?),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes a tag, audited.
pub async fn delete_tag(store: &Store, actor: &Actor, id: i64) -> Result<Tag> {
    let before = tag(store, id).await?;
    let mut tx = store.begin().await?;
    sql("DELETE FROM privacy_tags WHERE id = $1")
        .bind(id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "delete",
        "tag",
        id,
        Some(state(&before)?),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(before)
}

// ---------------------------------------------------------------------------------------------
// Retention

/// A stored retention run (dry run or execution).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RetentionRun {
    /// Id.
    pub id: i64,
    /// The `RetentionPolicy` document name.
    pub policy: String,
    /// `dry_run` or `execute`.
    pub mode: String,
    /// `planned`, `queued`, `done` or `failed`.
    pub status: String,
    /// The "now" the plan was computed for.
    pub as_of: DateTime<Utc>,
    /// For executions: the dry run executed.
    pub dry_run_id: Option<i64>,
    /// The plan (`keel_consent::retention::RetentionPlan`).
    pub plan: Json<serde_json::Value>,
    /// Counts by kind and action, and samples.
    pub counts: Json<serde_json::Value>,
    /// Who started it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When finished.
    pub finished_at: Option<DateTime<Utc>>,
}

const RUN_COLUMNS: &str = "id, policy, mode, status, as_of, dry_run_id, plan, counts, created_by, created_at, finished_at";

/// The records retention applies to: contacts (by last activity: the later of their last
/// engagement and last change; merged-away and already anonymised records excluded) and events
/// (by time), each with its legal hold marked (a hold on an address covers its contact records
/// and its events).
pub async fn retention_records(
    store: &Store,
) -> Result<Vec<keel_consent::retention::RetentionRecord>> {
    let holds: std::collections::BTreeSet<String> = legal_holds(store)
        .await?
        .into_iter()
        .map(|h| h.subject)
        .collect();
    let mut out: Vec<keel_consent::retention::RetentionRecord> =
        crate::contacts::retention_contacts(store)
            .await?
            .into_iter()
            .map(|c| keel_consent::retention::RetentionRecord {
                legal_hold: c
                    .email
                    .as_deref()
                    .and_then(subject_key)
                    .is_some_and(|s| holds.contains(&s)),
                at: c.last_active(),
                id: c.id,
                kind: keel_consent::retention::RecordKind::Contact,
            })
            .collect();
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        user_id: Option<String>,
        timestamp: DateTime<Utc>,
        traits: Json<serde_json::Value>,
    }
    let rows: Vec<Row> = sql("SELECT id, user_id, timestamp, traits FROM events ORDER BY id")
        .fetch_all(store)
        .await?;
    out.extend(rows.into_iter().map(|r| {
        let held = r
            .user_id
            .as_deref()
            .and_then(subject_key)
            .is_some_and(|s| holds.contains(&s))
            || traits_email(&r.traits.0).is_some_and(|s| holds.contains(&s));
        keel_consent::retention::RetentionRecord {
            id: r.id.to_string(),
            kind: keel_consent::retention::RecordKind::Event,
            at: r.timestamp,
            legal_hold: held,
        }
    }));
    Ok(out)
}

/// Stores a dry run, audited.
pub async fn record_dry_run(
    store: &Store,
    actor: &Actor,
    policy: &str,
    as_of: DateTime<Utc>,
    plan: serde_json::Value,
    counts: serde_json::Value,
) -> Result<RetentionRun> {
    let mut tx = store.begin().await?;
    let run: RetentionRun = sql(format!("INSERT INTO retention_runs (policy, mode, status, as_of, plan, counts, created_by, created_at, finished_at) VALUES ($1, 'dry_run', 'planned', $2, $3, $4, $5, $6, $6) RETURNING {RUN_COLUMNS}"))
        .bind(policy)
        .bind(keel_audit::storage_precision(as_of))
        .bind(plan)
        .bind(counts.clone())
        .bind(actor.label())
        .bind(now())
        .fetch_one(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "dry_run",
        "retention_run",
        run.id,
        None,
        Some(serde_json::json!({"policy": policy, "counts": counts})),
    )
    .await?;
    tx.commit().await?;
    Ok(run)
}

/// One run.
pub async fn retention_run(store: &Store, id: i64) -> Result<RetentionRun> {
    sql(format!(
        "SELECT {RUN_COLUMNS} FROM retention_runs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "retention run",
        id: id.to_string(),
    })
}

/// Runs, newest first.
pub async fn retention_runs(store: &Store, limit: i64) -> Result<Vec<RetentionRun>> {
    sql(format!(
        "SELECT {RUN_COLUMNS} FROM retention_runs ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(store)
    .await
}

/// Executes a dry run's plan exactly: the changes listed in it, nothing else, in one transaction
/// with an audit record. Returns the execution run, whose counts equal the dry run's.
pub async fn execute_retention(
    store: &Store,
    actor: &Actor,
    dry_run_id: i64,
) -> Result<RetentionRun> {
    let dry = retention_run(store, dry_run_id).await?;
    if dry.mode != "dry_run" {
        return Err(StoreError::Conflict(format!(
            "retention run {dry_run_id} is not a dry run"
        )));
    }
    let executed: i64 =
        sql("SELECT COUNT(*) FROM retention_runs WHERE dry_run_id = $1 AND status = 'done'")
            .bind(dry_run_id)
            .fetch_scalar(store)
            .await?;
    if executed > 0 {
        return Err(StoreError::Conflict(format!(
            "dry run {dry_run_id} was already executed"
        )));
    }
    let changes = dry
        .plan
        .0
        .get("changes")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    // A legal hold placed after the dry run still protects: such records are skipped and counted.
    let holds: std::collections::BTreeSet<String> = legal_holds(store)
        .await?
        .into_iter()
        .map(|h| h.subject)
        .collect();
    let mut tx = store.begin().await?;
    let mut applied: BTreeMap<String, u64> = BTreeMap::new();
    let mut skipped_held: u64 = 0;
    let mut contacts_erased = crate::contacts::ContactErasure::default();
    for change in &changes {
        let raw_id = change
            .get("id")
            .and_then(|v| v.as_str())
            .ok_or_else(|| StoreError::Corrupt(format!("retention plan change {change}")))?;
        let kind = change.get("kind").and_then(|v| v.as_str()).unwrap_or("");
        let action = change.get("action").and_then(|v| v.as_str()).unwrap_or("");
        if kind == "contact" {
            let email: Option<(Option<String>,)> =
                sql("SELECT email FROM contact_records WHERE id = $1")
                    .bind(raw_id)
                    .fetch_optional(&mut tx)
                    .await?;
            let held = email
                .and_then(|(e,)| e)
                .and_then(|e| subject_key(&e))
                .is_some_and(|e| holds.contains(&e));
            if held {
                skipped_held += 1;
                continue;
            }
            let (one, done) = match action {
                "delete" => {
                    let one = crate::contacts::erase_contact(&mut tx, actor, raw_id).await?;
                    let n = one.records_deleted;
                    (one, n)
                }
                "anonymise" => {
                    let one = crate::contacts::anonymise_contact(&mut tx, actor, raw_id).await?;
                    let n = one.records_anonymised;
                    (one, n)
                }
                other => {
                    return Err(StoreError::Corrupt(format!("retention action {other:?}")));
                }
            };
            contacts_erased.add(&one);
            *applied.entry(format!("{kind}.{action}")).or_default() += done;
            continue;
        }
        if kind != "event" {
            continue;
        }
        let id = raw_id
            .parse::<i64>()
            .map_err(|_| StoreError::Corrupt(format!("retention plan change {change}")))?;
        if !holds.is_empty() {
            let who: Option<(Option<String>, Json<serde_json::Value>)> =
                sql("SELECT user_id, traits FROM events WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut tx)
                    .await?;
            let held = who.is_some_and(|(user, traits)| {
                user.as_deref()
                    .and_then(subject_key)
                    .is_some_and(|s| holds.contains(&s))
                    || traits_email(&traits.0).is_some_and(|s| holds.contains(&s))
            });
            if held {
                skipped_held += 1;
                continue;
            }
        }
        let n = match action {
            "delete" => {
                sql("DELETE FROM events WHERE id = $1")
                    .bind(id)
                    .execute(&mut tx)
                    .await?
            }
            "anonymise" => {
                sql("UPDATE events SET user_id = NULL, anonymous_id = NULL, traits = $1, context = $1 WHERE id = $2")
                    .bind(serde_json::json!({}))
                    .bind(id)
                    .execute(&mut tx)
                    .await?
            }
            other => {
                return Err(StoreError::Corrupt(format!(
                    "retention action {other:?}"
                )));
            }
        };
        *applied.entry(format!("{kind}.{action}")).or_default() += n;
    }
    crate::contacts::scrub_raw_copies(&mut tx, &mut contacts_erased).await?;
    let counts = serde_json::json!({"applied": applied, "planned": dry.counts.0, "skipped_held": skipped_held});
    let run: RetentionRun = sql(format!("INSERT INTO retention_runs (policy, mode, status, as_of, dry_run_id, plan, counts, created_by, created_at, finished_at) VALUES ($1, 'execute', 'done', $2, $3, $4, $5, $6, $7, $7) RETURNING {RUN_COLUMNS}"))
        .bind(&dry.policy)
        .bind(dry.as_of)
        .bind(dry_run_id)
        .bind(dry.plan.0.clone())
        .bind(counts.clone())
        .bind(actor.label())
        .bind(now())
        .fetch_one(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "execute",
        "retention_run",
        run.id,
        None,
        Some(serde_json::json!({"policy": dry.policy, "dry_run": dry_run_id, "counts": counts})),
    )
    .await?;
    tx.commit().await?;
    Ok(run)
}

// ---------------------------------------------------------------------------------------------
// Eligibility runs

/// A stored audience eligibility check.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EligibilityRun {
    /// Id.
    pub id: i64,
    /// `queued`, `done` or `failed`.
    pub status: String,
    /// Purpose name.
    pub purpose: String,
    /// The campaign checked.
    pub campaign: Json<serde_json::Value>,
    /// Segment label (`all` or `list`).
    pub segment: String,
    /// The subjects (for lists).
    pub subjects: Json<Vec<String>>,
    /// Contacts checked.
    pub total: i64,
    /// Eligible contacts.
    pub eligible: i64,
    /// Contacts per reason code.
    pub by_reason: Json<BTreeMap<String, u64>>,
    /// Why it failed.
    pub error: Option<String>,
    /// Who started it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When finished.
    pub finished_at: Option<DateTime<Utc>>,
}

const ELIGIBILITY_COLUMNS: &str = "id, status, purpose, campaign, segment, subjects, total, eligible, by_reason, error, created_by, created_at, finished_at";

/// Queues an eligibility run and its job in one transaction, audited.
pub async fn queue_eligibility_run(
    store: &Store,
    actor: &Actor,
    purpose: &str,
    campaign: serde_json::Value,
    segment: &str,
    subjects: &[String],
) -> Result<EligibilityRun> {
    let mut tx = store.begin().await?;
    let run: EligibilityRun = sql(format!("INSERT INTO eligibility_runs (status, purpose, campaign, segment, subjects, total, eligible, by_reason, created_by, created_at) VALUES ('queued', $1, $2, $3, $4, 0, 0, $5, $6, $7) RETURNING {ELIGIBILITY_COLUMNS}"))
        .bind(purpose)
        .bind(campaign)
        .bind(segment)
        .bind(serde_json::json!(subjects))
        .bind(serde_json::json!({}))
        .bind(actor.label())
        .bind(now())
        .fetch_one(&mut tx)
        .await?;
    crate::jobs::enqueue(
        &mut tx,
        &crate::jobs::NewJob::now("privacy.eligibility", serde_json::json!({"run": run.id})),
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "eligibility_run",
        run.id,
        None,
        Some(
            serde_json::json!({"purpose": purpose, "segment": segment, "subjects": subjects.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(run)
}

/// Stores a run's outcome.
pub async fn finish_eligibility_run(
    store: &Store,
    id: i64,
    total: i64,
    eligible: i64,
    by_reason: &BTreeMap<String, u64>,
    error: Option<&str>,
) -> Result<EligibilityRun> {
    let mut tx = store.begin().await?;
    let run: EligibilityRun = sql(format!("UPDATE eligibility_runs SET status = $1, total = $2, eligible = $3, by_reason = $4, error = $5, finished_at = $6 WHERE id = $7 RETURNING {ELIGIBILITY_COLUMNS}"))
        .bind(if error.is_some() { "failed" } else { "done" })
        .bind(total)
        .bind(eligible)
        .bind(serde_json::json!(by_reason))
        .bind(error.map(str::to_string))
        .bind(now())
        .bind(id)
        .fetch_optional(&mut tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "eligibility run",
            id: id.to_string(),
        })?;
    audit::record(
        &mut tx,
        &Actor::System("privacy.eligibility"),
        "finish",
        "eligibility_run",
        id,
        None,
        Some(serde_json::json!({"total": total, "eligible": eligible, "by_reason": by_reason, "error": error})),
    )
    .await?;
    tx.commit().await?;
    Ok(run)
}

/// One eligibility run.
pub async fn eligibility_run(store: &Store, id: i64) -> Result<EligibilityRun> {
    sql(format!(
        "SELECT {ELIGIBILITY_COLUMNS} FROM eligibility_runs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "eligibility run",
        id: id.to_string(),
    })
}
