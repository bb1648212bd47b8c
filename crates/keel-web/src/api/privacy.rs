//! `/api/v1/privacy/*` and `/api/v1/eligibility`: the consent ledger, suppressions, send-time
//! eligibility, subject requests, retention and the tag registry, for the privacy role.
//!
//! Also the shared privacy plumbing the public pages use: signing keys, link building, the
//! purposes and jurisdictions in force (ops-as-code documents), and recording Global Privacy
//! Control as an opt-out of sale and sharing where the person's jurisdiction requires it.

use crate::AppState;
use crate::api::{Page, PageQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::{ValidJson, ValidQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use keel_consent::eligibility::{
    Audience, Campaign, Channel, ChannelSet, ContactFacts, Reason, SendPolicy, UNKNOWN,
    check_audience, check_contact, consent_code, flag,
};
use keel_consent::ledger::{ConsentSource, ConsentState};
use keel_consent::retention::{RetentionPolicySpec, plan_retention};
use keel_consent::spec::{JurisdictionSpec, LawfulBasis, PurposeCategory, PurposeSpec};
use keel_consent::token::{self, SigningKey, TokenPurpose};
use keel_policy::Action;
use keel_store::privacy::{self as store, ConsentTextRef, NewConsent};
use keel_store::{Actor, Store};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

// ---------------------------------------------------------------------------------------------
// Configuration and plumbing

/// How long a double opt-in confirmation link stays valid.
pub const DOI_TTL_HOURS: i64 = 48;
/// How long preference-centre and unsubscribe links stay valid (RFC 8058 links must outlive the
/// campaign; CAN-SPAM asks at least 30 days).
pub const LINK_TTL_DAYS: i64 = 180;

/// Privacy settings of the running server.
#[derive(Debug)]
pub struct PrivacyConfig {
    /// Public base URL of Keel (`KEEL_PUBLIC_URL`), used in links sent by e-mail.
    pub base_url: String,
    /// The signing secret from `KEEL_PRIVACY_SECRET`; otherwise one is kept in the database.
    pub secret: Option<String>,
    /// Outgoing mail (`KEEL_SMTP_URL`, `KEEL_MAIL_FROM`); `None` means confirmation mails are
    /// logged, not sent.
    pub mailer: Option<keel_mail::Mailer>,
    /// Attempts per client address and per e-mail address on the public forms.
    limiter: Mutex<HashMap<String, Vec<Instant>>>,
}

impl PrivacyConfig {
    /// Settings from the environment.
    pub fn from_env() -> Self {
        let mailer =
            keel_mail::MailConfig::from_env().and_then(|c| match keel_mail::Mailer::new(&c) {
                Ok(m) => Some(m),
                Err(e) => {
                    tracing::error!("privacy mail disabled: {e}");
                    None
                }
            });
        Self::new(
            std::env::var("KEEL_PUBLIC_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
            std::env::var("KEEL_PRIVACY_SECRET")
                .ok()
                .filter(|s| s.len() >= 32),
            mailer,
        )
    }

    /// Explicit settings (tests, embedding).
    pub fn new(
        base_url: String,
        secret: Option<String>,
        mailer: Option<keel_mail::Mailer>,
    ) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            secret,
            mailer,
            limiter: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt under `key`; false when more than `max` happened within `window`.
    pub fn allow(&self, key: &str, max: usize, window: Duration) -> bool {
        let Ok(mut map) = self.limiter.lock() else {
            return true;
        };
        let now = Instant::now();
        let hits = map.entry(key.to_string()).or_default();
        hits.retain(|t| now.duration_since(*t) < window);
        if hits.len() >= max {
            return false;
        }
        hits.push(now);
        true
    }
}

/// Days the previous signing key is still accepted after a rotation, unless told otherwise.
pub const KEY_GRACE_DAYS: i64 = 60;

/// The keys that sign and verify privacy links: the current key first (it signs), then the
/// previous key while its grace period after a rotation lasts (it only verifies).
pub async fn signing_keys(state: &AppState) -> ApiResult<Vec<SigningKey>> {
    let secrets = match &state.privacy.secret {
        Some(s) => vec![s.clone()],
        None => {
            let s = store::signing_secrets(&state.store, Utc::now()).await?;
            std::iter::once(s.current).chain(s.previous).collect()
        }
    };
    secrets
        .iter()
        .map(|s| SigningKey::new(s.as_bytes()).map_err(|e| ApiError::Internal(e.to_string())))
        .collect()
}

/// A fresh random nonce.
pub fn nonce() -> [u8; 16] {
    let hex = keel_accounts::new_csrf_token();
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = hex
            .get(i * 2..i * 2 + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0);
    }
    out
}

/// Signs a link token.
pub async fn sign_token(
    state: &AppState,
    purpose: TokenPurpose,
    subject: &str,
    list: Option<&str>,
    campaign: Option<&str>,
    ttl: chrono::Duration,
) -> ApiResult<(String, keel_consent::token::TokenClaims)> {
    let keys = signing_keys(state).await?;
    let mut claims = token::claims(purpose, subject, Utc::now(), ttl, nonce());
    claims.list = list.map(str::to_string);
    claims.campaign = campaign.map(str::to_string);
    let key = keys
        .first()
        .ok_or_else(|| ApiError::Internal("no signing key".into()))?;
    Ok((token::sign(key, &claims), claims))
}

/// A link to a public privacy page carrying a signed token.
pub fn link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}{path}?token={token}", state.privacy.base_url)
}

/// The purposes and jurisdictions in force, from the stored ops-as-code documents.
#[derive(Debug, Clone, Default)]
pub struct PrivacyRules {
    /// Purposes by name.
    pub purposes: BTreeMap<String, PurposeSpec>,
    /// Jurisdictions by name.
    pub jurisdictions: BTreeMap<String, JurisdictionSpec>,
}

impl PrivacyRules {
    /// The jurisdiction covering an ISO 3166 region (`US-CA` also matches a jurisdiction listing
    /// `US-CA`; `DE` matches `DE`; a subdivision falls back to its country).
    pub fn jurisdiction_for_region(&self, region: &str) -> Option<String> {
        let region = region.trim().to_ascii_uppercase();
        let country = region.split('-').next().unwrap_or(&region).to_string();
        let find = |code: &str| {
            self.jurisdictions
                .iter()
                .find(|(_, j)| j.regions.iter().any(|r| r == code))
                .map(|(n, _)| n.clone())
        };
        find(&region).or_else(|| find(&country))
    }

    /// The send policy for eligibility checks.
    pub fn send_policy(&self) -> SendPolicy {
        SendPolicy {
            jurisdictions: self.jurisdictions.clone(),
            ..SendPolicy::default()
        }
    }
}

/// Loads the purposes and jurisdictions; a stored document that does not read is skipped with a
/// log line (ops-as-code validation keeps them valid).
pub async fn rules(store: &Store) -> ApiResult<PrivacyRules> {
    let mut out = PrivacyRules::default();
    for doc in keel_store::documents::list(store, Some("Purpose")).await? {
        match serde_json::from_value::<PurposeSpec>(doc.spec.0.clone()) {
            Ok(p) => {
                out.purposes.insert(doc.name, p);
            }
            Err(e) => tracing::warn!("Purpose/{} unreadable: {e}", doc.name),
        }
    }
    for doc in keel_store::documents::list(store, Some("Jurisdiction")).await? {
        match serde_json::from_value::<JurisdictionSpec>(doc.spec.0.clone()) {
            Ok(j) => {
                out.jurisdictions.insert(doc.name, j);
            }
            Err(e) => tracing::warn!("Jurisdiction/{} unreadable: {e}", doc.name),
        }
    }
    Ok(out)
}

/// The latest jurisdiction recorded for a subject in the ledger.
pub async fn known_jurisdiction(store: &Store, subject: &str) -> ApiResult<Option<String>> {
    Ok(store::ledger_for(store, subject)
        .await?
        .into_iter()
        .rev()
        .find_map(|e| e.jurisdiction))
}

/// Records a Global Privacy Control signal for `subject`: a `denied` statement for every
/// sale/sharing purpose, where the jurisdiction treats GPC as an opt-out (an unknown jurisdiction
/// gets the strictest treatment, as in eligibility). Purposes already denied by GPC are skipped,
/// so repeated signals do not grow the ledger. Returns the rows appended.
pub async fn record_gpc(
    store: &Store,
    rules: &PrivacyRules,
    subject: &str,
    jurisdiction: Option<&str>,
    source: ConsentSource,
    actor: &Actor,
) -> ApiResult<Vec<store::LedgerEntry>> {
    let spec = jurisdiction.and_then(|j| rules.jurisdictions.get(j));
    let current = store::current_state(store, subject).await?;
    let ledger = store::ledger_for(store, subject).await?;
    let mut appended = Vec::new();
    for (name, purpose) in &rules.purposes {
        let opts_out = purpose.category.is_sale_or_sharing()
            && spec.is_none_or(|s| s.gpc_opts_out(purpose.category));
        if !opts_out {
            continue;
        }
        if let Some(c) = current.get(subject, name)
            && c.state != ConsentState::Granted
            && ledger
                .get(c.event)
                .is_some_and(|e| e.detail.0.get("signal").and_then(|s| s.as_str()) == Some("gpc"))
        {
            continue;
        }
        let entry = store::record_consent(
            store,
            actor,
            &NewConsent {
                subject: subject.to_string(),
                contact_id: None,
                purpose: name.clone(),
                state: ConsentState::Denied,
                at: keel_store::now(),
                source,
                jurisdiction: jurisdiction.map(str::to_string),
                lawful_basis: purpose.lawful_basis,
                text: None,
                detail: serde_json::json!({"signal": "gpc", "header": "Sec-GPC: 1"}),
            },
        )
        .await?;
        appended.push(entry);
    }
    Ok(appended)
}

/// Whether the request carries `Sec-GPC: 1`.
pub fn gpc(headers: &HeaderMap) -> bool {
    keel_consent::spec::gpc_header_signals_opt_out(
        headers.get("sec-gpc").and_then(|v| v.to_str().ok()),
    )
}

/// The ingestion hook: when a tracking call carries `Sec-GPC: 1`, records the opt-out for every
/// person the accepted events identify (an `email` trait or an e-mail `userId`), in the
/// jurisdiction given by a `jurisdiction` trait or the `country`/`region` traits. Failures are
/// logged, never fail ingestion.
pub async fn record_gpc_from_events(
    state: &AppState,
    headers: &HeaderMap,
    events: &[keel_events::Event],
) {
    if !gpc(headers) {
        return;
    }
    let rules = match rules(&state.store).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("GPC not recorded: {e}");
            return;
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    for e in events {
        let traits = |k: &str| {
            e.traits
                .get(k)
                .or_else(|| e.context.get("traits").and_then(|t| t.get(k)))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let subject = traits("email")
            .and_then(|m| store::subject_key(&m))
            .or_else(|| e.user_id.as_deref().and_then(store::subject_key));
        let Some(subject) = subject else { continue };
        if !seen.insert(subject.clone()) {
            continue;
        }
        let jurisdiction = traits("jurisdiction")
            .filter(|j| rules.jurisdictions.contains_key(j))
            .or_else(|| {
                let region = traits("region").or_else(|| traits("country"))?;
                rules.jurisdiction_for_region(&region)
            });
        if let Err(err) = record_gpc(
            &state.store,
            &rules,
            &subject,
            jurisdiction.as_deref(),
            ConsentSource::Api,
            &Actor::System("ingest.gpc"),
        )
        .await
        {
            tracing::warn!("GPC not recorded: {err}");
        }
    }
}

fn subject_or_error(field: &str, email: &str) -> ApiResult<String> {
    store::subject_key(email).ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(field, "must be an e-mail address")])
    })
}

// ---------------------------------------------------------------------------------------------
// Consent

/// A consent statement to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentIn {
    /// The person's e-mail address.
    pub email: String,
    /// Contact id, if known.
    #[serde(default)]
    pub contact_id: Option<String>,
    /// Purpose name (a `Purpose` document).
    pub purpose: String,
    /// `granted`, `denied` or `withdrawn`.
    #[schema(value_type = String)]
    pub state: ConsentState,
    /// When the person made the statement (now if absent).
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// `form`, `import`, `api`, `preference_centre` or `cmp_string` (default `api`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub source: Option<ConsentSource>,
    /// Jurisdiction name (a `Jurisdiction` document).
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// Legal ground (the purpose's when absent).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub lawful_basis: Option<LawfulBasis>,
    /// The exact consent text shown (stored once by content hash).
    #[serde(default)]
    pub text: Option<String>,
    /// The text's version label (required with `text`).
    #[serde(default)]
    pub text_version: Option<String>,
    /// Or: the hash of a text already stored.
    #[serde(default)]
    pub text_hash: Option<String>,
    /// Further proof (form URL, campaign …).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// A ledger row.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntryOut {
    /// The row.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub entry: store::LedgerEntry,
}

/// Record a consent statement (appended to the ledger; nothing is updated in place).
#[utoipa::path(post, path = "/api/v1/privacy/consent", tag = "privacy", request_body = ConsentIn,
    responses((status = 201, body = LedgerEntryOut), (status = 422, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn record_consent(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(req): ValidJson<ConsentIn>,
) -> ApiResult<(StatusCode, Json<LedgerEntryOut>)> {
    caller.require(&state, Action::PrivacyManage)?;
    let rules = rules(&state.store).await?;
    let mut errors = Vec::new();
    let subject = store::subject_key(&req.email);
    if subject.is_none() {
        errors.push(FieldError::new("email", "must be an e-mail address"));
    }
    let purpose = rules.purposes.get(&req.purpose);
    if purpose.is_none() {
        errors.push(FieldError::new(
            "purpose",
            format!(
                "unknown purpose {:?}; known: {}",
                req.purpose,
                rules
                    .purposes
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if let Some(j) = &req.jurisdiction
        && !rules.jurisdictions.contains_key(j)
    {
        errors.push(FieldError::new(
            "jurisdiction",
            format!("unknown jurisdiction {j:?}"),
        ));
    }
    let text = match (&req.text, &req.text_version, &req.text_hash) {
        (Some(_), _, Some(_)) => {
            errors.push(FieldError::new(
                "text_hash",
                "give text or text_hash, not both",
            ));
            None
        }
        (Some(body), Some(version), None) if !body.trim().is_empty() => {
            Some(ConsentTextRef::Text {
                version: version.clone(),
                body: body.clone(),
            })
        }
        (Some(_), _, None) => {
            errors.push(FieldError::new(
                "text_version",
                "a non-empty text needs its version label",
            ));
            None
        }
        (None, _, Some(hash)) => Some(ConsentTextRef::Hash(hash.clone())),
        (None, _, None) => None,
    };
    if req
        .at
        .is_some_and(|at| at > Utc::now() + chrono::Duration::minutes(5))
    {
        errors.push(FieldError::new("at", "must not be in the future"));
    }
    let (Some(subject), Some(purpose), true) = (subject, purpose, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let entry = store::record_consent(
        &state.store,
        &caller.actor(),
        &NewConsent {
            subject,
            contact_id: req.contact_id,
            purpose: req.purpose,
            state: req.state,
            at: req.at.unwrap_or_else(keel_store::now),
            source: req.source.unwrap_or(ConsentSource::Api),
            jurisdiction: req.jurisdiction,
            lawful_basis: req.lawful_basis.unwrap_or(purpose.lawful_basis),
            text,
            detail: req.detail.unwrap_or_else(|| serde_json::json!({})),
        },
    )
    .await
    .map_err(|e| match e {
        keel_store::StoreError::NotFound {
            entity: "consent text",
            id,
        } => ApiError::validation(vec![FieldError::new(
            "text_hash",
            format!("no stored consent text {id}"),
        )]),
        other => other.into(),
    })?;
    Ok((StatusCode::CREATED, Json(LedgerEntryOut { entry })))
}

/// A person's consent history: the proof.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentHistory {
    /// The address.
    pub subject: String,
    /// Every ledger row in arrival order.
    #[schema(value_type = Vec<Object>)]
    pub ledger: Vec<store::LedgerEntry>,
    /// The consent texts referred to.
    #[schema(value_type = Vec<Object>)]
    pub texts: Vec<store::ConsentText>,
    /// The state in force per purpose, with the row that set it.
    #[schema(value_type = Object)]
    pub current: BTreeMap<String, serde_json::Value>,
    /// Rows kept but not applied (e.g. an import after a withdrawal), with the reason.
    #[schema(value_type = Vec<Object>)]
    pub ignored: Vec<serde_json::Value>,
}

/// Builds a consent history.
pub async fn consent_history(store: &Store, subject: &str) -> ApiResult<ConsentHistory> {
    let ledger = store::ledger_for(store, subject).await?;
    let events = ledger
        .iter()
        .map(store::LedgerEntry::to_event)
        .collect::<Result<Vec<_>, _>>()?;
    let derived = keel_consent::ledger::derive_state(&events);
    let mut texts = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for hash in ledger.iter().filter_map(|e| e.text_hash.clone()) {
        if seen.insert(hash.clone())
            && let Some(t) = store::consent_text(store, &hash).await?
        {
            texts.push(t);
        }
    }
    let current = derived
        .current
        .iter()
        .map(|((_, purpose), c)| {
            (
                purpose.clone(),
                serde_json::json!({
                    "state": c.state, "since": c.since, "source": c.source,
                    "ledger_id": ledger.get(c.event).map(|e| e.id),
                    "text_hash": c.text_hash, "text_version": c.text_version,
                    "jurisdiction": c.jurisdiction, "lawful_basis": c.lawful_basis,
                }),
            )
        })
        .collect();
    let ignored = derived
        .ignored
        .iter()
        .map(|i| serde_json::json!({"ledger_id": ledger.get(i.event).map(|e| e.id), "reason": i.reason}))
        .collect();
    Ok(ConsentHistory {
        subject: subject.to_string(),
        ledger,
        texts,
        current,
        ignored,
    })
}

/// A person's consent history as proof: every statement, the texts shown, and what is in force.
#[utoipa::path(get, path = "/api/v1/privacy/consent/{email}", tag = "privacy",
    params(("email" = String, Path, description = "E-mail address")),
    responses((status = 200, body = ConsentHistory), (status = 422, body = crate::error::Problem)))]
async fn get_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
) -> ApiResult<Json<ConsentHistory>> {
    caller.require(&state, Action::PrivacyManage)?;
    let subject = subject_or_error("email", &email)?;
    Ok(Json(consent_history(&state.store, &subject).await?))
}

// ---------------------------------------------------------------------------------------------
// Suppressions

/// A suppression to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionIn {
    /// E-mail address.
    pub email: String,
    /// `global`, `channel` or `brand`.
    pub scope: String,
    /// Channel (`email`, `sms` …) or brand name; not used for global.
    #[serde(default)]
    pub value: Option<String>,
    /// Why, e.g. `hard_bounce`, `complaint`, `request`.
    pub reason: String,
}

/// Filter for suppressions.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuppressionQuery {
    /// Address contains.
    pub q: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Offset.
    pub offset: Option<i64>,
}

/// Validates and adds a suppression.
pub async fn add_suppression(
    state: &AppState,
    actor: &Actor,
    req: &SuppressionIn,
) -> ApiResult<store::Suppression> {
    let mut errors = Vec::new();
    let subject = store::subject_key(&req.email);
    if subject.is_none() {
        errors.push(FieldError::new("email", "must be an e-mail address"));
    }
    let value = req.value.clone().unwrap_or_default().trim().to_string();
    match req.scope.as_str() {
        "global" => {}
        "channel" => {
            if serde_json::from_value::<Channel>(serde_json::json!(value)).is_err() {
                errors.push(FieldError::new(
                    "value",
                    "must be a channel: email, sms, push, phone, post or messaging",
                ));
            }
        }
        "brand" => {
            if value.is_empty() {
                errors.push(FieldError::new("value", "name the brand"));
            }
        }
        _ => errors.push(FieldError::new("scope", "must be global, channel or brand")),
    }
    if req.reason.trim().is_empty() {
        errors.push(FieldError::new(
            "reason",
            "say why (e.g. hard_bounce, complaint, request)",
        ));
    }
    let (Some(subject), true) = (subject, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    Ok(store::add_suppression(
        &state.store,
        actor,
        &subject,
        &req.scope,
        &value,
        req.reason.trim(),
    )
    .await?)
}

/// Add a suppression (idempotent per address, scope and value).
#[utoipa::path(post, path = "/api/v1/privacy/suppressions", tag = "privacy", request_body = SuppressionIn,
    responses((status = 201, body = Object), (status = 422, body = crate::error::Problem)))]
async fn create_suppression(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(req): ValidJson<SuppressionIn>,
) -> ApiResult<(StatusCode, Json<store::Suppression>)> {
    caller.require(&state, Action::PrivacyManage)?;
    Ok((
        StatusCode::CREATED,
        Json(add_suppression(&state, &caller.actor(), &req).await?),
    ))
}

/// List suppressions, newest first.
#[utoipa::path(get, path = "/api/v1/privacy/suppressions", tag = "privacy", params(SuppressionQuery),
    responses((status = 200, body = Object)))]
async fn list_suppressions(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<SuppressionQuery>,
) -> ApiResult<Json<Page<store::Suppression>>> {
    caller.require(&state, Action::PrivacyManage)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let (items, total) =
        store::list_suppressions(&state.store, q.q.as_deref().unwrap_or(""), limit, offset).await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// Remove a suppression.
#[utoipa::path(delete, path = "/api/v1/privacy/suppressions/{id}", tag = "privacy",
    params(("id" = i64, Path, description = "Suppression id")),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem)))]
async fn delete_suppression(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<store::Suppression>> {
    caller.require(&state, Action::PrivacyManage)?;
    Ok(Json(
        store::remove_suppression(&state.store, &caller.actor(), id).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Eligibility

/// What to check for one contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityIn {
    /// The contact's e-mail address.
    pub email: String,
    /// Purpose of the campaign (a `Purpose` document).
    pub purpose: String,
    /// Channel: email, sms, push, phone, post or messaging.
    #[schema(value_type = String)]
    pub channel: Channel,
    /// Brand, for brand suppression lists.
    #[serde(default)]
    pub brand: Option<String>,
    /// Jurisdictions the campaign may go to (all when absent).
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// The contact's jurisdiction (the latest in the ledger when absent).
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// The contact's IANA time zone.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<chrono_tz::Tz>,
    /// Whether the contact's browser sent Global Privacy Control.
    #[serde(default)]
    pub gpc: bool,
    /// Channels the contact has an address for (e-mail is assumed reachable).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub reachable: Option<Vec<Channel>>,
    /// Sends in the last 7 days.
    #[serde(default)]
    pub sends_7d: u16,
    /// Sends in the last 30 days.
    #[serde(default)]
    pub sends_30d: u16,
}

/// The answer for one contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct EligibilityOut {
    /// Whether the contact may receive the campaign now.
    pub eligible: bool,
    /// Every reason against (stable codes).
    pub reasons: Vec<String>,
    /// The facts the decision was made on.
    #[schema(value_type = Object)]
    pub facts: ContactFacts,
}

/// The stored facts about one subject for a purpose.
pub async fn contact_facts(
    store_: &Store,
    subject: &str,
    purpose: &str,
) -> ApiResult<ContactFacts> {
    let state = store::current_state(store_, subject).await?;
    let consent = state.get(subject, purpose).map(|c| c.state);
    let mut channels_opted_out = 0u8;
    for channel in Channel::ALL {
        if state
            .get(subject, &format!("channel:{}", store::code(&channel)))
            .is_some_and(|c| c.state != ConsentState::Granted)
        {
            channels_opted_out |= channel.bit();
        }
    }
    let mut facts = ContactFacts {
        consent,
        channels_opted_out: ChannelSet(channels_opted_out),
        channels_reachable: ChannelSet(Channel::Email.bit()),
        jurisdiction: known_jurisdiction(store_, subject).await?,
        ..ContactFacts::default()
    };
    for s in store::suppressions_for(store_, subject).await? {
        match s.scope.as_str() {
            "global" => facts.suppressed_global = true,
            "channel" => {
                if let Ok(c) = serde_json::from_value::<Channel>(serde_json::json!(s.value)) {
                    facts.suppressed_channels.0 |= c.bit();
                }
            }
            _ => facts.suppressed_brands.push(s.value),
        }
    }
    if let Some(p) = store::preferences(store_, subject).await? {
        facts.max_sends_per_week = p.max_sends_per_week.and_then(|n| u16::try_from(n).ok());
    }
    facts.gpc = store::ledger_for(store_, subject)
        .await?
        .iter()
        .any(|e| e.detail.0.get("signal").and_then(|s| s.as_str()) == Some("gpc"));
    Ok(facts)
}

/// May this contact receive this campaign, on this channel, now — and if not, every reason.
#[utoipa::path(post, path = "/api/v1/eligibility", tag = "privacy", request_body = EligibilityIn,
    responses((status = 200, body = EligibilityOut), (status = 422, body = crate::error::Problem)))]
async fn eligibility(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(req): ValidJson<EligibilityIn>,
) -> ApiResult<Json<EligibilityOut>> {
    caller.require(&state, Action::PrivacyManage)?;
    let rules = rules(&state.store).await?;
    let mut errors = Vec::new();
    let subject = store::subject_key(&req.email);
    if subject.is_none() {
        errors.push(FieldError::new("email", "must be an e-mail address"));
    }
    let purpose = rules.purposes.get(&req.purpose);
    if purpose.is_none() {
        errors.push(FieldError::new(
            "purpose",
            format!("unknown purpose {:?}", req.purpose),
        ));
    }
    if let Some(j) = &req.jurisdiction
        && !rules.jurisdictions.contains_key(j)
    {
        errors.push(FieldError::new(
            "jurisdiction",
            format!("unknown jurisdiction {j:?}"),
        ));
    }
    let (Some(subject), Some(purpose), true) = (subject, purpose, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let mut facts = contact_facts(&state.store, &subject, &req.purpose).await?;
    if req.jurisdiction.is_some() {
        facts.jurisdiction = req.jurisdiction;
    }
    facts.time_zone = req.time_zone;
    facts.gpc |= req.gpc;
    if let Some(r) = req.reachable {
        facts.channels_reachable = r.into_iter().collect();
    }
    facts.sends_7d = req.sends_7d;
    facts.sends_30d = req.sends_30d;
    let campaign = Campaign {
        category: purpose.category,
        channel: req.channel,
        topic: None,
        brand: req.brand,
        regions: req.regions,
    };
    let decision = check_contact(&facts, &campaign, &rules.send_policy(), Utc::now());
    Ok(Json(EligibilityOut {
        eligible: decision.eligible,
        reasons: decision
            .reasons
            .iter()
            .map(|r| r.code().to_string())
            .collect(),
        facts,
    }))
}

/// An audience to check as a job.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityRunIn {
    /// Purpose of the campaign.
    pub purpose: String,
    /// Channel.
    #[schema(value_type = String)]
    pub channel: Channel,
    /// Brand.
    #[serde(default)]
    pub brand: Option<String>,
    /// Jurisdictions the campaign may go to.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// The addresses to check; every person in the consent ledger when both this and `segment`
    /// are absent.
    #[serde(default)]
    pub emails: Option<Vec<String>>,
    /// A saved contact `Segment` whose members are checked (instead of `emails`).
    #[serde(default)]
    pub segment: Option<String>,
}

/// The members of a saved contact segment, as eligibility sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentMembers {
    /// Their normalised addresses, each once, in record order.
    pub subjects: Vec<String>,
    /// Each address's country (from the contact record), for the jurisdiction when the ledger
    /// has none.
    pub regions: HashMap<String, String>,
    /// Members without a usable address (they cannot be sent to and are not counted).
    pub without_address: usize,
}

/// The members of the stored `Segment` named `name` (contact segments only), evaluated like the
/// contacts pages do, suppressed contacts included so eligibility can report them. `None` when
/// there is no such segment.
pub async fn segment_members(store_: &Store, name: &str) -> ApiResult<Option<SegmentMembers>> {
    let Some(d) = keel_store::documents::get(store_, keel_contacts::segment::KIND, name).await?
    else {
        return Ok(None);
    };
    let segment = crate::api::contacts::segment_of(&d)
        .map_err(|e| ApiError::Internal(format!("Segment/{name}: {e}")))?;
    if segment.spec.object != "contact" {
        return Err(ApiError::validation(vec![FieldError::new(
            "segment",
            format!(
                "segment {name:?} selects {}s, not contacts",
                segment.spec.object
            ),
        )]));
    }
    let pool = crate::api::contacts::SegmentPool::load(store_).await?;
    let subjects = pool.subjects(true);
    let mut out = SegmentMembers::default();
    let mut seen = std::collections::HashSet::new();
    for m in segment.members(&subjects, keel_store::now()) {
        match m.record.text("email").and_then(store::subject_key) {
            Some(s) => {
                if seen.insert(s.clone()) {
                    if let Some(c) = m.record.text("country") {
                        out.regions.insert(s.clone(), c.to_string());
                    }
                    out.subjects.push(s);
                }
            }
            None => out.without_address += 1,
        }
    }
    Ok(Some(out))
}

/// Builds the columnar audience for `subjects` and a purpose from the ledger, suppressions and
/// preferences, in a handful of queries.
///
/// `regions` gives an address's country (from its contact record) for people whose ledger names
/// no jurisdiction; contact records suppressed by hygiene count as globally suppressed.
pub async fn build_audience(
    store_: &Store,
    rules: &PrivacyRules,
    purpose: &str,
    subjects: &[String],
    regions: &HashMap<String, String>,
) -> ApiResult<Audience> {
    let consent = store::current_for_purpose(store_, purpose).await?;
    let mut channel_out: HashMap<String, u8> = HashMap::new();
    for channel in Channel::ALL {
        for (subject, s) in
            store::current_for_purpose(store_, &format!("channel:{}", store::code(&channel)))
                .await?
        {
            if s != ConsentState::Granted {
                *channel_out.entry(subject).or_default() |= channel.bit();
            }
        }
    }
    let suppressions = store::all_suppressions(store_).await?;
    let (jurisdiction_of, gpc_subjects) = store::latest_jurisdictions_and_gpc(store_).await?;
    let names: Vec<String> = rules.jurisdictions.keys().cloned().collect();
    let index: HashMap<&str, u16> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u16))
        .collect();
    let row_of: HashMap<&str, u32> = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let n = subjects.len();
    let mut a = Audience {
        jurisdictions: names.clone(),
        time_zones: Vec::new(),
        jurisdiction: Vec::with_capacity(n),
        time_zone: vec![UNKNOWN; n],
        consent: Vec::with_capacity(n),
        flags: vec![0; n],
        topics_opted_out: vec![0; n],
        channels_opted_out: Vec::with_capacity(n),
        channels_reachable: vec![Channel::Email.bit(); n],
        suppressed_channels: vec![0; n],
        brand_suppressions: BTreeMap::new(),
        max_sends_per_week: vec![0; n],
        sends_7d: vec![0; n],
        sends_30d: vec![0; n],
    };
    for (i, s) in subjects.iter().enumerate() {
        let by_region = || {
            regions
                .get(s)
                .and_then(|r| rules.jurisdiction_for_region(r))
        };
        a.jurisdiction.push(
            jurisdiction_of
                .get(s)
                .cloned()
                .or_else(by_region)
                .and_then(|j| index.get(j.as_str()).copied())
                .unwrap_or(UNKNOWN),
        );
        a.consent.push(match consent.get(s) {
            None => consent_code::NONE,
            Some(ConsentState::Granted) => consent_code::GRANTED,
            Some(ConsentState::Denied) => consent_code::DENIED,
            Some(ConsentState::Withdrawn) => consent_code::WITHDRAWN,
        });
        a.channels_opted_out
            .push(channel_out.get(s).copied().unwrap_or(0));
        if gpc_subjects.contains(s) {
            a.flags[i] |= flag::GPC;
        }
    }
    let hygiene_suppressed: Vec<(String,)> = keel_store::sql(
        "SELECT email FROM contact_records WHERE suppressed = TRUE AND email IS NOT NULL AND merged_into IS NULL",
    )
    .fetch_all(store_)
    .await?;
    for (email,) in hygiene_suppressed {
        if let Some(&row) = store::subject_key(&email)
            .as_deref()
            .and_then(|s| row_of.get(s))
        {
            a.flags[row as usize] |= flag::SUPPRESSED_GLOBAL;
        }
    }
    for s in suppressions {
        let Some(&row) = row_of.get(s.subject.as_str()) else {
            continue;
        };
        match s.scope.as_str() {
            "global" => a.flags[row as usize] |= flag::SUPPRESSED_GLOBAL,
            "channel" => {
                if let Ok(c) = serde_json::from_value::<Channel>(serde_json::json!(s.value)) {
                    a.suppressed_channels[row as usize] |= c.bit();
                }
            }
            _ => a.brand_suppressions.entry(s.value).or_default().push(row),
        }
    }
    for rows in a.brand_suppressions.values_mut() {
        rows.sort_unstable();
    }
    Ok(a)
}

/// Checks an audience: `(total, eligible, contacts per reason code)`.
pub async fn check_segment(
    store_: &Store,
    purpose: &str,
    channel: Channel,
    brand: Option<String>,
    regions: Option<Vec<String>>,
    subjects: &[String],
    contact_regions: &HashMap<String, String>,
) -> ApiResult<(i64, i64, BTreeMap<String, u64>)> {
    let rules = rules(store_).await?;
    let spec = rules.purposes.get(purpose).ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            "purpose",
            format!("unknown purpose {purpose:?}"),
        )])
    })?;
    let audience = build_audience(store_, &rules, purpose, subjects, contact_regions).await?;
    let campaign = Campaign {
        category: spec.category,
        channel,
        topic: None,
        brand,
        regions,
    };
    let outcome = check_audience(&audience, &campaign, &rules.send_policy(), Utc::now())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let by_reason = outcome
        .by_reason
        .iter()
        .map(|(r, n)| (r.code().to_string(), *n))
        .collect();
    Ok((subjects.len() as i64, outcome.eligible as i64, by_reason))
}

/// The job `privacy.eligibility`: checks a queued run and stores its counts.
pub async fn run_eligibility_job(store_: &Store, run_id: i64) -> Result<(), String> {
    let run = store::eligibility_run(store_, run_id)
        .await
        .map_err(|e| e.to_string())?;
    let campaign: EligibilityRunIn =
        serde_json::from_value(run.campaign.0.clone()).map_err(|e| e.to_string())?;
    let mut contact_regions = HashMap::new();
    let subjects = if let Some(name) = &campaign.segment {
        match segment_members(store_, name).await {
            Ok(Some(m)) => {
                contact_regions = m.regions;
                m.subjects
            }
            Ok(None) => {
                let message = format!("no Segment named {name}");
                store::finish_eligibility_run(
                    store_,
                    run_id,
                    0,
                    0,
                    &BTreeMap::new(),
                    Some(&message),
                )
                .await
                .map_err(|e| e.to_string())?;
                return Err(message);
            }
            Err(e) => return Err(e.to_string()),
        }
    } else if run.segment == "all" {
        store::all_subjects(store_)
            .await
            .map_err(|e| e.to_string())?
    } else {
        run.subjects.0.clone()
    };
    match check_segment(
        store_,
        &run.purpose,
        campaign.channel,
        campaign.brand,
        campaign.regions,
        &subjects,
        &contact_regions,
    )
    .await
    {
        Ok((total, eligible, by_reason)) => {
            store::finish_eligibility_run(store_, run_id, total, eligible, &by_reason, None)
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        }
        Err(e) => {
            let message = e.to_string();
            store::finish_eligibility_run(store_, run_id, 0, 0, &BTreeMap::new(), Some(&message))
                .await
                .map_err(|e| e.to_string())?;
            Err(message)
        }
    }
}

/// Check an audience (the given addresses, the members of a saved contact segment, or everyone in
/// the ledger) as a background job; the run's counts by reason appear when it is done.
#[utoipa::path(post, path = "/api/v1/eligibility/runs", tag = "privacy", request_body = EligibilityRunIn,
    responses((status = 202, body = Object), (status = 422, body = crate::error::Problem)))]
async fn create_eligibility_run(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<store::EligibilityRun>)> {
    caller.require(&state, Action::PrivacyManage)?;
    let req: EligibilityRunIn = crate::json::parse_json(&body)?;
    let rules = rules(&state.store).await?;
    let mut errors = Vec::new();
    if !rules.purposes.contains_key(&req.purpose) {
        errors.push(FieldError::new(
            "purpose",
            format!("unknown purpose {:?}", req.purpose),
        ));
    }
    let mut subjects = Vec::new();
    for (i, e) in req.emails.iter().flatten().enumerate() {
        match store::subject_key(e) {
            Some(s) => subjects.push(s),
            None => errors.push(FieldError::new(
                format!("emails[{i}]"),
                "must be an e-mail address",
            )),
        }
    }
    if let Some(name) = &req.segment {
        if req.emails.is_some() {
            errors.push(FieldError::new(
                "segment",
                "give emails or segment, not both",
            ));
        } else if keel_store::documents::get(&state.store, keel_contacts::segment::KIND, name)
            .await?
            .is_none()
        {
            errors.push(FieldError::new(
                "segment",
                format!("no Segment named {name:?}"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let segment = match (&req.segment, &req.emails) {
        (Some(name), _) => name.as_str(),
        (None, Some(_)) => "list",
        (None, None) => "all",
    };
    let campaign: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let run = store::queue_eligibility_run(
        &state.store,
        &caller.actor(),
        &req.purpose,
        campaign,
        segment,
        &subjects,
    )
    .await?;
    state.job_waker.notify_one();
    Ok((StatusCode::ACCEPTED, Json(run)))
}

/// One eligibility run with its counts by reason.
#[utoipa::path(get, path = "/api/v1/eligibility/runs/{id}", tag = "privacy",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem)))]
async fn get_eligibility_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<store::EligibilityRun>> {
    caller.require(&state, Action::PrivacyManage)?;
    Ok(Json(store::eligibility_run(&state.store, id).await?))
}

/// Query for unsubscribe headers.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeHeadersQuery {
    /// The recipient.
    pub email: String,
    /// The campaign.
    pub campaign: String,
    /// The purpose the campaign is sent under (withdrawn on unsubscribe); all marketing when absent.
    pub purpose: Option<String>,
}

/// The RFC 8058 `List-Unsubscribe` and `List-Unsubscribe-Post` header values for a recipient
/// and campaign (needs an https `KEEL_PUBLIC_URL`).
#[utoipa::path(get, path = "/api/v1/privacy/unsubscribe-headers", tag = "privacy", params(UnsubscribeHeadersQuery),
    responses((status = 200, body = Object), (status = 422, body = crate::error::Problem)))]
async fn unsubscribe_headers(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<UnsubscribeHeadersQuery>,
) -> ApiResult<Json<token::UnsubscribeHeaders>> {
    caller.require(&state, Action::PrivacyManage)?;
    let subject = subject_or_error("email", &q.email)?;
    let (tok, _) = sign_token(
        &state,
        TokenPurpose::Unsubscribe,
        &subject,
        q.purpose.as_deref(),
        Some(&q.campaign),
        chrono::Duration::days(LINK_TTL_DAYS),
    )
    .await?;
    let endpoint = format!("{}/privacy/unsubscribe", state.privacy.base_url);
    token::list_unsubscribe_headers(&endpoint, &tok, None)
        .map(Json)
        .map_err(|e| ApiError::validation(vec![FieldError::new("KEEL_PUBLIC_URL", e.to_string())]))
}

// ---------------------------------------------------------------------------------------------
// Subject requests

/// A subject request to log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectRequestIn {
    /// `access`, `erasure` or `rectification`.
    pub kind: String,
    /// The requester's e-mail address.
    pub email: String,
    /// Contact id, if known.
    #[serde(default)]
    pub contact_id: Option<String>,
    /// Jurisdiction name; decides the deadline (GDPR one month, CCPA 45 days).
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// When the request was received (now if absent).
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    /// Details (for rectification: the fields and their corrected values).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// The organisation's time zone for deadlines (`KEEL_PRIVACY_TZ`, default UTC).
pub fn privacy_tz() -> chrono_tz::Tz {
    std::env::var("KEEL_PRIVACY_TZ")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(chrono_tz::Tz::UTC)
}

/// Validates and logs a subject request with its deadlines.
pub async fn create_request(
    store_: &Store,
    actor: &Actor,
    req: SubjectRequestIn,
) -> ApiResult<store::SubjectRequest> {
    let rules = rules(store_).await?;
    let mut errors = Vec::new();
    if !matches!(req.kind.as_str(), "access" | "erasure" | "rectification") {
        errors.push(FieldError::new(
            "kind",
            "must be access, erasure or rectification",
        ));
    }
    let subject = store::subject_key(&req.email);
    if subject.is_none() {
        errors.push(FieldError::new("email", "must be an e-mail address"));
    }
    let regime = match &req.jurisdiction {
        Some(j) => match rules.jurisdictions.get(j) {
            Some(spec) => spec.regime,
            None => {
                errors.push(FieldError::new(
                    "jurisdiction",
                    format!("unknown jurisdiction {j:?}"),
                ));
                keel_consent::spec::Regime::Gdpr
            }
        },
        // Without a jurisdiction the shorter (GDPR) deadline is the safe one.
        None => keel_consent::spec::Regime::Gdpr,
    };
    let (Some(subject), true) = (subject, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let received_at = req.received_at.unwrap_or_else(keel_store::now);
    let rule = regime.deadline_rule();
    let deadline = keel_consent::requests::request_deadline(rule, received_at, privacy_tz());
    Ok(store::create_request(
        store_,
        actor,
        &store::NewSubjectRequest {
            kind: req.kind,
            subject,
            contact_id: req.contact_id,
            jurisdiction: req.jurisdiction,
            deadline_rule: store::code(&rule),
            received_at,
            due_on: deadline.due_on,
            extended_due_on: deadline.extended_due_on,
            details: req.details.unwrap_or_else(|| serde_json::json!({})),
        },
    )
    .await?)
}

/// A request with where it stands against its deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectRequestOut {
    /// The request.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub request: store::SubjectRequest,
    /// Days left until the due date in force (negative: overdue).
    pub days_left: Option<i64>,
    /// `on_track`, `due_soon` (7 days or fewer), `overdue` or `closed`.
    pub sla: String,
}

impl From<store::SubjectRequest> for SubjectRequestOut {
    fn from(request: store::SubjectRequest) -> Self {
        let today = Utc::now().with_timezone(&privacy_tz()).date_naive();
        let open = matches!(
            request.status.as_str(),
            "received" | "verified" | "awaiting_systems"
        );
        let days_left = request.effective_due_on().map(|d| (d - today).num_days());
        let sla = match (open, days_left) {
            (false, _) => "closed",
            (true, Some(d)) if d < 0 => "overdue",
            (true, Some(d)) if d <= 7 => "due_soon",
            _ => "on_track",
        };
        SubjectRequestOut {
            request,
            days_left,
            sla: sla.to_string(),
        }
    }
}

/// Log a subject request; its deadlines follow the jurisdiction's law.
#[utoipa::path(post, path = "/api/v1/privacy/requests", tag = "privacy", request_body = SubjectRequestIn,
    responses((status = 201, body = SubjectRequestOut), (status = 422, body = crate::error::Problem)))]
async fn post_request(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(req): ValidJson<SubjectRequestIn>,
) -> ApiResult<(StatusCode, Json<SubjectRequestOut>)> {
    caller.require(&state, Action::PrivacyManage)?;
    let r = create_request(&state.store, &caller.actor(), req).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// Filter for requests.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// Only open requests.
    pub open: Option<bool>,
}

/// The subject-request queue: open requests by due date, then closed ones.
#[utoipa::path(get, path = "/api/v1/privacy/requests", tag = "privacy", params(RequestQuery),
    responses((status = 200, body = Vec<SubjectRequestOut>)))]
async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<RequestQuery>,
) -> ApiResult<Json<Vec<SubjectRequestOut>>> {
    caller.require(&state, Action::PrivacyManage)?;
    let rows = store::list_requests(&state.store, q.open.unwrap_or(false)).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// One subject request.
#[utoipa::path(get, path = "/api/v1/privacy/requests/{id}", tag = "privacy",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = SubjectRequestOut), (status = 404, body = crate::error::Problem)))]
async fn get_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<SubjectRequestOut>> {
    caller.require(&state, Action::PrivacyManage)?;
    Ok(Json(store::request(&state.store, id).await?.into()))
}

/// A note for a request step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepIn {
    /// How identity was verified, why the deadline is extended, or a completion note.
    pub note: String,
}

fn note_required(note: &str) -> ApiResult<()> {
    if note.trim().is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            "note",
            "must not be empty",
        )]));
    }
    Ok(())
}

/// Record that the requester's identity was verified.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/verify", tag = "privacy", request_body = StepIn,
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = SubjectRequestOut), (status = 409, body = crate::error::Problem)))]
async fn verify_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(step): ValidJson<StepIn>,
) -> ApiResult<Json<SubjectRequestOut>> {
    caller.require(&state, Action::PrivacyManage)?;
    note_required(&step.note)?;
    Ok(Json(
        store::verify_request(&state.store, &caller.actor(), id, step.note.trim())
            .await?
            .into(),
    ))
}

/// Use the extension the law allows (once), with the reason told to the requester.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/extend", tag = "privacy", request_body = StepIn,
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = SubjectRequestOut), (status = 409, body = crate::error::Problem)))]
async fn extend_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(step): ValidJson<StepIn>,
) -> ApiResult<Json<SubjectRequestOut>> {
    caller.require(&state, Action::PrivacyManage)?;
    note_required(&step.note)?;
    Ok(Json(
        store::extend_request(&state.store, &caller.actor(), id, step.note.trim())
            .await?
            .into(),
    ))
}

/// The connected systems an erasure must reach: the catalog's tools in service that hold
/// personal data, each with its erasure webhook if it has one.
pub async fn connected_systems(store_: &Store) -> ApiResult<Vec<store::ConnectedSystem>> {
    let catalog = crate::ops::catalog(store_)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(catalog
        .tools
        .iter()
        .filter(|(_, t)| t.spec.holds_pii && t.spec.lifecycle.in_service())
        .map(|(name, t)| store::ConnectedSystem {
            name: name.clone(),
            display_name: t.spec.display_name.clone(),
            endpoint: t.spec.erasure_endpoint.clone(),
        })
        .collect())
}

/// Completes a request: access attaches the export summary; erasure erases and tombstones in
/// Keel and queues the erasure for every connected system (the request completes when they are
/// all done).
pub async fn complete_request(
    store_: &Store,
    actor: &Actor,
    id: i64,
    note: &str,
) -> ApiResult<store::SubjectRequest> {
    let r = store::request(store_, id).await?;
    let mut systems = Vec::new();
    let result = match r.kind.as_str() {
        "access" => {
            let export = store::access_export(store_, &r.subject, r.contact_id.as_deref()).await?;
            serde_json::json!({
                "note": note,
                "export": {
                    "consent_ledger": export.consent_ledger.len(),
                    "suppressions": export.suppressions.len(),
                    "events": export.events.len(),
                    "double_opt_ins": export.double_opt_ins.len(),
                    "subject_requests": export.subject_requests.len(),
                    "contacts": export.contacts.len(),
                },
            })
        }
        "erasure" => {
            systems = connected_systems(store_).await?;
            serde_json::json!(note)
        }
        _ => serde_json::json!(note),
    };
    Ok(store::complete_request_with_systems(store_, actor, id, result, &systems).await?)
}

/// The body posted to a connected system's erasure webhook.
pub fn erasure_webhook_body(
    d: &store::ErasureDelivery,
    r: &store::SubjectRequest,
) -> serde_json::Value {
    serde_json::json!({
        "type": "erasure_request",
        "request_id": r.id,
        "delivery_id": d.id,
        "system": d.system,
        "email": d.subject,
        "jurisdiction": r.jurisdiction,
        "received_at": r.received_at,
        "due_on": if r.extended { &r.extended_due_on } else { &r.due_on },
    })
}

/// The job `privacy.erasure`: posts one erasure request to one connected system's webhook. A
/// non-2xx answer or a network error is an error, so the job runner retries with backoff;
/// `last_attempt` marks the delivery failed (a person must then acknowledge it).
pub async fn deliver_erasure(
    store_: &Store,
    delivery_id: i64,
    last_attempt: bool,
) -> Result<(), String> {
    let d = store::delivery(store_, delivery_id)
        .await
        .map_err(|e| e.to_string())?;
    if d.is_done() || d.status == "manual" {
        return Ok(());
    }
    let Some(url) = d.endpoint.clone() else {
        return Ok(());
    };
    let r = store::request(store_, d.request_id)
        .await
        .map_err(|e| e.to_string())?;
    let body = erasure_webhook_body(&d, &r).to_string();
    let sent = crate::outbound::post_json(url, body, std::time::Duration::from_secs(15)).await;
    match sent {
        Ok(()) => {
            store::mark_delivered(store_, &Actor::System("privacy.erasure"), delivery_id)
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        }
        Err(message) => {
            store::record_delivery_failure(store_, delivery_id, &message, last_attempt)
                .await
                .map_err(|e| e.to_string())?;
            Err(message)
        }
    }
}

/// A request's connected systems and where each stands.
#[utoipa::path(get, path = "/api/v1/privacy/requests/{id}/systems", tag = "privacy",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem)))]
async fn list_request_systems(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<store::ErasureDelivery>>> {
    caller.require(&state, Action::PrivacyManage)?;
    store::request(&state.store, id).await?;
    Ok(Json(store::deliveries_for(&state.store, id).await?))
}

/// Confirm that a connected system's data was erased (a manual task, or a webhook that failed);
/// the request completes when every system is done.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/systems/{system}/acknowledge", tag = "privacy",
    request_body = StepIn,
    params(("id" = i64, Path, description = "Request id"), ("system" = String, Path, description = "Tool name")),
    responses((status = 200, body = SubjectRequestOut), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)))]
async fn acknowledge_system(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, system)): Path<(i64, String)>,
    ValidJson(step): ValidJson<StepIn>,
) -> ApiResult<Json<SubjectRequestOut>> {
    caller.require(&state, Action::PrivacyManage)?;
    note_required(&step.note)?;
    let (_, r) =
        store::acknowledge_delivery(&state.store, &caller.actor(), id, &system, step.note.trim())
            .await?;
    Ok(Json(r.into()))
}

/// Complete a request (erasure deletes or anonymises and keeps a tombstone).
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/complete", tag = "privacy", request_body = StepIn,
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = SubjectRequestOut), (status = 409, body = crate::error::Problem)))]
async fn post_complete_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(step): ValidJson<StepIn>,
) -> ApiResult<Json<SubjectRequestOut>> {
    caller.require(&state, Action::PrivacyManage)?;
    let r = complete_request(&state.store, &caller.actor(), id, step.note.trim()).await?;
    state.job_waker.notify_one();
    Ok(Json(r.into()))
}

/// Format of an access export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `json` (default) or `html` (a printable document for the person).
    pub format: Option<String>,
}

/// Renders an access export as a printable, self-contained HTML document.
pub fn export_html(
    state: &AppState,
    export: &store::AccessExport,
    request: Option<&store::SubjectRequest>,
) -> ApiResult<String> {
    state
        .pages
        .render_to_string(
            "privacy_export.html",
            serde_json::json!({"x": export, "request": request}),
        )
        .map_err(|e| ApiError::Internal(format!("rendering the access export: {e}")))
}

/// The access export of a request's subject: everything Keel holds about the address, as JSON
/// or (`?format=html`) as a printable document, downloaded as a file.
#[utoipa::path(get, path = "/api/v1/privacy/requests/{id}/export", tag = "privacy",
    params(("id" = i64, Path, description = "Request id"), ExportQuery),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn export_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidQuery(q): ValidQuery<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    caller.require(&state, Action::PrivacyManage)?;
    let r = store::request(&state.store, id).await?;
    let export = store::access_export(&state.store, &r.subject, r.contact_id.as_deref()).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(export).into_response()),
        "html" => {
            let html = export_html(&state, &export, Some(&r))?;
            Ok((
                [
                    (
                        axum::http::header::CONTENT_TYPE,
                        "text/html; charset=utf-8".to_string(),
                    ),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"access-export-{id}.html\""),
                    ),
                ],
                html,
            )
                .into_response())
        }
        other => Err(ApiError::validation(vec![FieldError::new(
            "format",
            format!("{other:?} is not json or html"),
        )])),
    }
}

// ---------------------------------------------------------------------------------------------
// Retention

/// Computes a retention policy's plan now and stores it as a dry run.
pub async fn dry_run(
    store_: &Store,
    actor: &Actor,
    policy: &str,
) -> ApiResult<store::RetentionRun> {
    let doc = keel_store::documents::get(store_, "RetentionPolicy", policy)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no RetentionPolicy named {policy}")))?;
    let spec: RetentionPolicySpec = serde_json::from_value(doc.spec.0.clone())
        .map_err(|e| ApiError::Internal(format!("RetentionPolicy/{policy}: {e}")))?;
    let records = store::retention_records(store_).await?;
    let as_of = keel_store::now();
    let plan = plan_retention(&spec, &records, as_of);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for c in &plan.changes {
        *counts
            .entry(format!(
                "{}.{}",
                store::code(&c.kind),
                store::code(&c.action)
            ))
            .or_default() += 1;
    }
    // Up to ten samples of each kind of change, so contacts are not hidden behind events.
    let mut samples: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for c in &plan.changes {
        let list = samples.entry(store::code(&c.kind)).or_default();
        if list.len() < 10 {
            list.push(c.id.as_str());
        }
    }
    let summary = serde_json::json!({
        "changes": counts,
        "held": plan.held.len(),
        "samples": samples,
    });
    let plan = serde_json::to_value(&plan).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(store::record_dry_run(store_, actor, policy, as_of, plan, summary).await?)
}

/// Dry-run a retention policy: what would be deleted or anonymised now, with counts and samples.
#[utoipa::path(post, path = "/api/v1/privacy/retention/{policy}/dry-run", tag = "privacy",
    params(("policy" = String, Path, description = "RetentionPolicy name")),
    responses((status = 201, body = Object), (status = 404, body = crate::error::Problem)))]
async fn post_dry_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(policy): Path<String>,
) -> ApiResult<(StatusCode, Json<store::RetentionRun>)> {
    caller.require(&state, Action::PrivacyManage)?;
    Ok((
        StatusCode::CREATED,
        Json(dry_run(&state.store, &caller.actor(), &policy).await?),
    ))
}

/// Execute a dry run exactly as planned, as a background job (`privacy.retention`).
#[utoipa::path(post, path = "/api/v1/privacy/retention/runs/{id}/execute", tag = "privacy",
    params(("id" = i64, Path, description = "Dry run id")),
    responses((status = 202, body = Object), (status = 404, body = crate::error::Problem)))]
async fn execute_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(&state, Action::PrivacyManage)?;
    let run = store::retention_run(&state.store, id).await?;
    if run.mode != "dry_run" {
        return Err(ApiError::Conflict {
            detail: format!("run {id} is not a dry run"),
            allowed: None,
        });
    }
    let mut tx = state.store.begin().await?;
    let job = keel_store::jobs::enqueue(
        &mut tx,
        &keel_store::jobs::NewJob::now(
            "privacy.retention",
            serde_json::json!({"dry_run": id, "actor": caller.actor().label()}),
        ),
    )
    .await?;
    keel_store::audit::record(
        &mut tx,
        &caller.actor(),
        "queue",
        "retention_run",
        id,
        None,
        Some(serde_json::json!({"job": job})),
    )
    .await?;
    tx.commit().await?;
    state.job_waker.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"job": job, "dry_run": id})),
    ))
}

/// Retention runs, newest first.
#[utoipa::path(get, path = "/api/v1/privacy/retention/runs", tag = "privacy",
    responses((status = 200, body = Object)))]
async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<store::RetentionRun>>> {
    caller.require(&state, Action::PrivacyManage)?;
    Ok(Json(store::retention_runs(&state.store, 50).await?))
}

// ---------------------------------------------------------------------------------------------
// Tags

/// A tag on the web properties.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagIn {
    /// Unique name.
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Consent category: a purpose category (analytics, targeted_advertising …).
    pub category: String,
    /// Web properties it runs on.
    #[serde(default)]
    pub properties: Vec<String>,
    /// Substring of its script URL.
    pub src_pattern: String,
}

/// Validates a tag.
pub fn validate_tag(t: &TagIn) -> ApiResult<store::TagInput> {
    let mut errors = Vec::new();
    if !keel_manifests::valid_name(&t.name) {
        errors.push(FieldError::new(
            "name",
            "use lower-case letters, digits and dashes",
        ));
    }
    if t.vendor.trim().is_empty() {
        errors.push(FieldError::new("vendor", "must not be empty"));
    }
    if serde_json::from_value::<PurposeCategory>(serde_json::json!(t.category)).is_err() {
        errors.push(FieldError::new(
            "category",
            "must be a purpose category: marketing_communications, profiling, targeted_advertising, sale_or_sharing, analytics or transactional",
        ));
    }
    if t.src_pattern.trim().is_empty() {
        errors.push(FieldError::new("src_pattern", "must not be empty"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(store::TagInput {
        name: t.name.clone(),
        vendor: t.vendor.trim().to_string(),
        category: t.category.clone(),
        properties: t
            .properties
            .iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        src_pattern: t.src_pattern.trim().to_string(),
    })
}

/// The tag registry.
#[utoipa::path(get, path = "/api/v1/privacy/tags", tag = "privacy", responses((status = 200, body = Object)))]
async fn list_tags(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<store::Tag>>> {
    caller.require(&state, Action::PrivacyManage)?;
    Ok(Json(store::tags(&state.store).await?))
}

/// Register a tag.
#[utoipa::path(post, path = "/api/v1/privacy/tags", tag = "privacy", request_body = TagIn,
    responses((status = 201, body = Object), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn create_tag(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(t): ValidJson<TagIn>,
) -> ApiResult<(StatusCode, Json<store::Tag>)> {
    caller.require(&state, Action::PrivacyManage)?;
    let input = validate_tag(&t)?;
    Ok((
        StatusCode::CREATED,
        Json(store::create_tag(&state.store, &caller.actor(), &input).await?),
    ))
}

/// Replace a tag.
#[utoipa::path(put, path = "/api/v1/privacy/tags/{id}", tag = "privacy", request_body = TagIn,
    params(("id" = i64, Path, description = "Tag id")),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem)))]
async fn update_tag(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(t): ValidJson<TagIn>,
) -> ApiResult<Json<store::Tag>> {
    caller.require(&state, Action::PrivacyManage)?;
    let input = validate_tag(&t)?;
    Ok(Json(
        store::update_tag(&state.store, &caller.actor(), id, &input).await?,
    ))
}

/// Remove a tag.
#[utoipa::path(delete, path = "/api/v1/privacy/tags/{id}", tag = "privacy",
    params(("id" = i64, Path, description = "Tag id")),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem)))]
async fn delete_tag(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<store::Tag>> {
    caller.require(&state, Action::PrivacyManage)?;
    Ok(Json(
        store::delete_tag(&state.store, &caller.actor(), id).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Signing key

/// A key rotation's settings.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeyIn {
    /// Days links signed with the previous key keep working (default 60, at most 3650).
    #[serde(default)]
    pub grace_days: Option<i64>,
}

/// Where the signing key stands (never the key itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyOut {
    /// `environment` (`KEEL_PRIVACY_SECRET`) or `database`.
    pub source: String,
    /// When the key was last rotated.
    pub rotated_at: Option<DateTime<Utc>>,
    /// Until when the previous key is still accepted, if it is.
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// Where the link-signing key stands: its source, last rotation and the previous key's grace.
#[utoipa::path(get, path = "/api/v1/privacy/signing-key", tag = "privacy",
    responses((status = 200, body = SigningKeyOut), (status = 403, body = crate::error::Problem)))]
async fn get_signing_key(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<SigningKeyOut>> {
    caller.require(&state, Action::PrivacyKeysManage)?;
    if state.privacy.secret.is_some() {
        return Ok(Json(SigningKeyOut {
            source: "environment".into(),
            rotated_at: None,
            previous_valid_until: None,
        }));
    }
    let s = store::signing_secrets(&state.store, Utc::now()).await?;
    Ok(Json(SigningKeyOut {
        source: "database".into(),
        rotated_at: s.rotated_at,
        previous_valid_until: s.previous_until,
    }))
}

/// Rotate the key that signs preference-centre, double opt-in and one-click unsubscribe links;
/// links signed with the previous key keep working for the grace period. Audited.
#[utoipa::path(post, path = "/api/v1/privacy/signing-key/rotate", tag = "privacy", request_body = RotateKeyIn,
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn rotate_signing_key(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<store::KeyRotation>> {
    caller.require(&state, Action::PrivacyKeysManage)?;
    let req: RotateKeyIn = if body.iter().all(u8::is_ascii_whitespace) {
        RotateKeyIn::default()
    } else {
        crate::json::parse_json(&body)?
    };
    let days = req.grace_days.unwrap_or(KEY_GRACE_DAYS);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::validation(vec![FieldError::new(
            "grace_days",
            "must be between 1 and 3650",
        )]));
    }
    if state.privacy.secret.is_some() {
        return Err(ApiError::Conflict {
            detail: "links are signed with KEEL_PRIVACY_SECRET; rotate it in the environment"
                .into(),
            allowed: None,
        });
    }
    Ok(Json(
        store::rotate_signing_secret(&state.store, &caller.actor(), chrono::Duration::days(days))
            .await?,
    ))
}

/// Every reason code, for documentation and the UI.
pub fn reason_codes() -> Vec<&'static str> {
    Reason::ALL.iter().map(|r| r.code()).collect()
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_consent))
        .routes(routes!(get_history))
        .routes(routes!(create_suppression, list_suppressions))
        .routes(routes!(delete_suppression))
        .routes(routes!(eligibility))
        .routes(routes!(create_eligibility_run))
        .routes(routes!(get_eligibility_run))
        .routes(routes!(unsubscribe_headers))
        .routes(routes!(post_request, list_requests))
        .routes(routes!(get_request))
        .routes(routes!(verify_request))
        .routes(routes!(extend_request))
        .routes(routes!(post_complete_request))
        .routes(routes!(export_request))
        .routes(routes!(list_request_systems))
        .routes(routes!(acknowledge_system))
        .routes(routes!(post_dry_run))
        .routes(routes!(execute_run))
        .routes(routes!(list_runs))
        .routes(routes!(list_tags, create_tag))
        .routes(routes!(update_tag, delete_tag))
        .routes(routes!(get_signing_key))
        .routes(routes!(rotate_signing_key))
}
