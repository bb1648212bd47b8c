//! `/api/v1/attribution` and `/api/v1/journeys`: imports of ad costs and CRM opportunities (with
//! quarantine), the stored results of every attribution model with cost, ROAS and CAC, a
//! recompute job, and one person's journeys with the credit each touch got per model.
//!
//! The numbers come from `keel-attribution`; this module only loads stored rows into it.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::{ValidJson, ValidQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use keel_attribution::channels::ChannelRules;
use keel_attribution::compute::{self, Computed, WonOpportunity};
use keel_attribution::events::{ConversionEvent, Event, JourneyOptions, build_paths};
use keel_attribution::imports::{self, AdLayout};
use keel_attribution::markov::MarkovOptions;
use keel_attribution::model::ModelParams;
use keel_attribution::report::{self, Cost, Money};
use keel_attribution::shapley::ShapleyOptions;
use keel_attribution::{Attribution, ChannelCredit};
use keel_policy::Action;
use keel_store::attribution as store;
use keel_store::{Actor, Store};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The job kind that recomputes and stores every model's results.
pub const RECOMPUTE_JOB: &str = "attribution.recompute";

/// Track events that count as conversions when the `ChannelRules` document lists none (won CRM
/// opportunities always count, valued by their amount).
pub const CONVERSION_EVENTS: [&str; 2] = ["Form Submitted", "Order Completed"];

/// The model settings the server uses (the CLI's defaults).
pub fn model_params() -> ModelParams {
    ModelParams {
        direct: "Direct".into(),
        half_life: 7.0,
        position: (0.4, 0.2, 0.4),
        markov: MarkovOptions {
            order: 1,
            collapse: true,
        },
        shapley: ShapleyOptions {
            exact_max_channels: 20,
            samples: 20_000,
            seed: 1,
        },
    }
}

/// The conversion events in use: the `conversions` of the `ChannelRules` document, else
/// [`CONVERSION_EVENTS`].
pub fn conversion_events(rules: &ChannelRules) -> Vec<ConversionEvent> {
    let configured = &rules.spec().conversions;
    if configured.is_empty() {
        CONVERSION_EVENTS
            .iter()
            .map(|e| ConversionEvent::named(e))
            .collect()
    } else {
        configured.clone()
    }
}

fn journey_options(rules: &ChannelRules) -> JourneyOptions {
    JourneyOptions {
        conversion_events: conversion_events(rules),
        lookback_days: 30.0,
        session_timeout_minutes: 30.0,
        own_domains: Vec::new(),
    }
}

/// Channel rules: the stored `ChannelRules` document named `default`, else the GA4-style default.
async fn channel_rules(st: &Store) -> Result<ChannelRules, String> {
    let docs = keel_store::documents::list(st, Some("ChannelRules"))
        .await
        .map_err(|e| e.to_string())?;
    let Some(doc) = docs.first() else {
        return Ok(ChannelRules::ga4_default());
    };
    let spec: keel_attribution::channels::ChannelRulesSpec =
        serde_json::from_value(doc.spec.0.clone()).map_err(|e| e.to_string())?;
    ChannelRules::compile(&spec).map_err(|e| e.to_string())
}

fn close_time(day: &str) -> Option<DateTime<Utc>> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
}

/// Costs of the stored ad rows in their most common currency (ratios need one currency).
pub fn costs_of(rows: &[store::StoredAdCost]) -> Vec<Cost> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in rows {
        *counts.entry(r.currency.as_str()).or_default() += 1;
    }
    let Some(currency) = counts.iter().max_by_key(|(_, n)| **n).map(|(c, _)| *c) else {
        return Vec::new();
    };
    rows.iter()
        .filter(|r| r.currency == currency)
        .filter_map(|r| {
            let layout = AdLayout::parse(&r.platform)?;
            Some(Cost {
                channel: layout.channel().to_owned(),
                campaign: Some(r.campaign.clone()),
                amount: Money {
                    minor: r.cost_minor,
                    currency: r.currency.clone(),
                },
            })
        })
        .collect()
}

/// Stored events as the engine reads them, with the (user id, e-mail) pairs of their traits.
fn to_events(rows: Vec<store::EventForAttribution>) -> (Vec<Event>, Vec<(String, String)>) {
    let mut events: Vec<Event> = Vec::with_capacity(rows.len());
    let mut emails: Vec<(String, String)> = Vec::new();
    for r in rows {
        let email = r
            .traits
            .0
            .get("email")
            .or_else(|| r.context.0.pointer("/traits/email"))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        if let (Some(user), Some(email)) = (&r.user_id, email) {
            emails.push((user.clone(), email));
        }
        let v = serde_json::json!({
            "type": r.event_type,
            "userId": r.user_id,
            "anonymousId": r.anonymous_id,
            "previousId": r.previous_id,
            "timestamp": r.timestamp.to_rfc3339(),
            "event": r.name,
            "properties": r.properties.0,
            "context": r.context.0,
        });
        // Stored events were validated on ingestion; any the engine cannot read are left out.
        if let Ok(Some(e)) = Event::from_segment(&v) {
            events.push(e);
        }
    }
    (events, emails)
}

async fn won_opportunities(st: &Store) -> Result<Vec<WonOpportunity>, String> {
    Ok(store::opportunities(st)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|o| o.won == 1)
        .filter_map(|o| {
            let money = Money {
                minor: o.amount_minor,
                currency: o.currency.clone(),
            };
            Some(WonOpportunity {
                id: o.opportunity_id,
                email: o.contact_email?,
                amount: money.major(),
                closed_at: o.close_date.as_deref().and_then(close_time)?,
            })
        })
        .collect())
}

/// Loads stored events, won opportunities and costs and runs every model.
pub async fn compute_from_store(st: &Store) -> Result<Computed, String> {
    let rows = store::all_events(st).await.map_err(|e| e.to_string())?;
    let (events, emails) = to_events(rows);
    let won = won_opportunities(st).await?;
    let costs = costs_of(&store::ad_costs(st).await.map_err(|e| e.to_string())?);
    let rules = channel_rules(st).await?;
    compute::compute(
        events,
        &won,
        &emails,
        &costs,
        &rules,
        &journey_options(&rules),
        &model_params(),
    )
    .map_err(|e| e.to_string())
}

/// A fingerprint of everything besides events that shapes journeys: channel rules, journey
/// options and won opportunities. A run whose fingerprint differs from the last one rebuilds
/// every journey.
fn fingerprint(rules: &ChannelRules, options: &JourneyOptions, won: &[WonOpportunity]) -> String {
    let text = serde_json::json!({
        "rules": rules.spec(),
        "conversions": options.conversion_events,
        "lookback_days": options.lookback_days,
        "session_timeout_minutes": options.session_timeout_minutes,
        "own_domains": options.own_domains,
        "won": won.iter().map(|o| (&o.id, &o.email, o.amount, o.closed_at)).collect::<Vec<_>>(),
    })
    .to_string();
    // A content digest: stable across builds and runs, unlike the standard hasher.
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
}

/// Rebuilds the journeys of the events in `rows` (complete people: every event of every id
/// they name) and keeps them in place of those people's earlier journeys. Returns how many
/// journeys were built and how many people they belong to.
async fn rebuild(
    st: &Store,
    rows: Vec<store::EventForAttribution>,
    what: store::Replace<'_>,
    won: &[WonOpportunity],
    rules: &ChannelRules,
    options: &JourneyOptions,
) -> Result<(usize, usize), String> {
    let (mut events, emails) = to_events(rows);
    let (extra, _) = compute::opportunity_events(won, &emails);
    events.extend(extra);
    let built = build_paths(&events, rules, options).map_err(|e| e.to_string())?;
    let identities: Vec<(String, String)> = built
        .identities
        .entries()
        .map(|(k, p)| (k.to_owned(), p.to_owned()))
        .collect();
    let mut people: std::collections::BTreeMap<String, store::KeptPerson> = (0..built.people)
        .filter_map(|p| built.identities.name(p))
        .map(|name| {
            (
                name.to_owned(),
                store::KeptPerson {
                    person: name.to_owned(),
                    untouched_conversions: 0,
                    emails: Vec::new(),
                },
            )
        })
        .collect();
    for &p in &built.untouched {
        if let Some(k) = built.identities.name(p).and_then(|n| people.get_mut(n)) {
            k.untouched_conversions += 1;
        }
    }
    for (user, email) in &emails {
        let email = email.trim().to_ascii_lowercase();
        let person = built
            .identities
            .lookup(&format!("user:{user}"))
            .and_then(|p| built.identities.name(p));
        if let Some(k) = person.and_then(|n| people.get_mut(n))
            && !k.emails.contains(&email)
        {
            k.emails.push(email);
        }
    }
    let journeys = built.kept_journeys();
    let people: Vec<store::KeptPerson> = people.into_values().collect();
    store::replace_journeys(st, what, &identities, &people, &journeys)
        .await
        .map_err(|e| e.to_string())?;
    Ok((journeys.len(), people.len()))
}

/// Every event of the people that the events stored after event `after` belong to: the events
/// naming any of their ids, then any id those name, until no new id appears. Returns the events
/// (oldest first) and the ids as identity keys (`u:…` and `a:…`).
async fn affected_events(
    st: &Store,
    after: i64,
) -> Result<(Vec<store::EventForAttribution>, Vec<String>), String> {
    let fresh = store::events_after(st, after)
        .await
        .map_err(|e| e.to_string())?;
    let mut seen: std::collections::BTreeSet<String> = Default::default();
    let mut queue: Vec<String> = Vec::new();
    let mut found: std::collections::BTreeMap<i64, store::EventForAttribution> = Default::default();
    let mut note = |r: &store::EventForAttribution, queue: &mut Vec<String>| {
        for id in [&r.user_id, &r.anonymous_id, &r.previous_id]
            .into_iter()
            .flatten()
        {
            if seen.insert(id.clone()) {
                queue.push(id.clone());
            }
        }
    };
    for r in fresh {
        note(&r, &mut queue);
        found.insert(r.id, r);
    }
    while let Some(id) = queue.pop() {
        for r in store::events_naming(st, &id)
            .await
            .map_err(|e| e.to_string())?
        {
            note(&r, &mut queue);
            found.insert(r.id, r);
        }
    }
    let mut rows: Vec<store::EventForAttribution> = found.into_values().collect();
    rows.sort_by(|a, b| a.timestamp.cmp(&b.timestamp).then(a.id.cmp(&b.id)));
    let keys = seen
        .iter()
        .flat_map(|id| [format!("u:{id}"), format!("a:{id}")])
        .collect();
    Ok((rows, keys))
}

/// Recomputes every model and stores the results (the job handler). Only the journeys of people
/// with events stored since the last run are rebuilt, unless the channel rules, conversion
/// events or won opportunities changed since; the models are then refitted over every kept
/// journey.
pub async fn recompute(st: &Store) -> Result<serde_json::Value, String> {
    recompute_with(st, false).await
}

/// [`recompute`], rebuilding every journey when `full`.
pub async fn recompute_with(st: &Store, full: bool) -> Result<serde_json::Value, String> {
    // Read the watermark first: events stored while this run reads are seen again next time.
    let last_event = store::last_event_id(st).await.map_err(|e| e.to_string())?;
    let rules = channel_rules(st).await?;
    let won = won_opportunities(st).await?;
    let options = compute::with_opportunities(&journey_options(&rules), !won.is_empty());
    let print = fingerprint(&rules, &options, &won);
    let previous = store::latest_run(st).await.map_err(|e| e.to_string())?;
    let since = previous.as_ref().and_then(|r| {
        let s = &r.summary.0;
        (s.get("fingerprint").and_then(|f| f.as_str()) == Some(print.as_str()))
            .then(|| s.get("last_event_id").and_then(serde_json::Value::as_i64))
            .flatten()
    });
    let (mode, (rebuilt_journeys, rebuilt_people)) = match since {
        Some(after) if !full => {
            let (rows, keys) = affected_events(st, after).await?;
            let counts = if rows.is_empty() {
                (0, 0)
            } else {
                rebuild(
                    st,
                    rows,
                    store::Replace::PeopleOf(&keys),
                    &won,
                    &rules,
                    &options,
                )
                .await?
            };
            ("incremental", counts)
        }
        _ => {
            let rows = store::all_events(st).await.map_err(|e| e.to_string())?;
            (
                "full",
                rebuild(st, rows, store::Replace::All, &won, &rules, &options).await?,
            )
        }
    };
    let journeys = store::kept_journeys(st).await.map_err(|e| e.to_string())?;
    let people = store::kept_people(st).await.map_err(|e| e.to_string())?;
    let paths = compute::paths_of(&journeys).map_err(|e| e.to_string())?;
    let costs = costs_of(&store::ad_costs(st).await.map_err(|e| e.to_string())?);
    let (_, attributions, _) =
        compute::fit_every(&paths, &costs, &model_params()).map_err(|e| e.to_string())?;
    let mut credits = Vec::new();
    for a in &attributions {
        for c in a.channels.iter().chain(&a.campaigns) {
            credits.push(store::StoredCredit {
                model: a.model.clone(),
                channel: c.channel.clone(),
                campaign: c.campaign.clone(),
                conversions: c.conversions,
                value: c.value,
            });
        }
    }
    let known_emails: std::collections::BTreeSet<&str> = people
        .iter()
        .flat_map(|p| p.emails.iter().map(String::as_str))
        .collect();
    let unmatched = won
        .iter()
        .filter(|o| !known_emails.contains(o.email.trim().to_ascii_lowercase().as_str()))
        .count();
    let converted = journeys.iter().filter(|j| j.conversions > 0.0).count();
    let summary = serde_json::json!({
        "people": people.len(),
        "conversions": converted,
        "conversions_without_touches": people.iter().map(|p| p.untouched_conversions).sum::<i64>(),
        "null_journeys": journeys.len() - converted,
        "unmatched_opportunities": unmatched,
        "conversion_events": options.conversion_events.iter().map(ConversionEvent::label).collect::<Vec<_>>(),
        "mode": mode,
        "rebuilt_journeys": rebuilt_journeys,
        "rebuilt_people": rebuilt_people,
        "last_event_id": last_event,
        "fingerprint": print,
        "models": attributions.iter().map(|a| serde_json::json!({"model": a.model, "conventions": a.conventions})).collect::<Vec<_>>(),
    });
    store::store_results(st, &Actor::System("attribution"), summary.clone(), &credits)
        .await
        .map_err(|e| e.to_string())?;
    Ok(summary)
}

/// An import file sent as text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    /// The file's name, kept with quarantined rows.
    pub file_name: String,
    /// The CSV text.
    pub content: String,
    /// `google-ads` or `meta-ads` (cost imports only).
    pub layout: Option<String>,
    /// Currency of rows whose file names none (default USD).
    pub currency: Option<String>,
}

/// A refused row.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantinedOut {
    /// 1-based line in the file.
    pub row: u64,
    /// The row as written.
    pub raw: String,
    /// Every reason.
    pub reasons: Vec<String>,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOut {
    /// `google-ads`, `meta-ads` or `opportunities`.
    pub kind: String,
    /// Valid rows.
    pub accepted: u64,
    /// New rows.
    pub inserted: u64,
    /// Rows that replaced a different stored version.
    pub updated: u64,
    /// Rows already stored exactly so.
    pub unchanged: u64,
    /// Title lines and totals of the export.
    pub skipped: u64,
    /// Refused rows, kept in the quarantine.
    pub quarantined: Vec<QuarantinedOut>,
}

fn import_out(s: store::ImportSummary, q: Vec<imports::Quarantined>) -> ImportOut {
    ImportOut {
        kind: s.kind,
        accepted: s.accepted,
        inserted: s.inserted,
        updated: s.updated,
        unchanged: s.unchanged,
        skipped: s.skipped,
        quarantined: q
            .into_iter()
            .map(|q| QuarantinedOut {
                row: q.row,
                raw: q.raw,
                reasons: q.reasons,
            })
            .collect(),
    }
}

fn check_file(input: &ImportFile) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.file_name.trim().is_empty() || input.file_name.len() > 200 {
        errors.push(FieldError::new(
            "file_name",
            "give the file's name (1–200 characters)",
        ));
    }
    if input.content.trim().is_empty() {
        errors.push(FieldError::new("content", "the file is empty"));
    }
    errors
}

/// Import an ad platform's cost and delivery export; bad rows are quarantined with reasons.
#[utoipa::path(post, path = "/api/v1/attribution/imports/costs", tag = "attribution", request_body = ImportFile,
    responses((status = 200, body = ImportOut), (status = 422, body = crate::error::Problem)))]
async fn import_costs(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(input): ValidJson<ImportFile>,
) -> ApiResult<Json<ImportOut>> {
    caller.require(&state, Action::ImportsRun)?;
    let mut errors = check_file(&input);
    let layout = input.layout.as_deref().and_then(AdLayout::parse);
    if layout.is_none() {
        errors.push(FieldError::new("layout", "use google-ads or meta-ads"));
    }
    let (Some(layout), true) = (layout, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let currency = input.currency.as_deref().unwrap_or("USD");
    let parsed = imports::parse_ad_costs(&input.content, layout, currency)
        .map_err(|e| ApiError::validation(vec![FieldError::new("content", e.to_string())]))?;
    let summary = store::import_ad_costs(
        &state.store,
        &caller.actor(),
        layout,
        input.file_name.trim(),
        &parsed,
    )
    .await?;
    Ok(Json(import_out(summary, parsed.quarantined)))
}

/// Import CRM opportunities; bad rows are quarantined with reasons.
#[utoipa::path(post, path = "/api/v1/attribution/imports/opportunities", tag = "attribution", request_body = ImportFile,
    responses((status = 200, body = ImportOut), (status = 422, body = crate::error::Problem)))]
async fn import_opportunities(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(input): ValidJson<ImportFile>,
) -> ApiResult<Json<ImportOut>> {
    caller.require(&state, Action::ImportsRun)?;
    let errors = check_file(&input);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let currency = input.currency.as_deref().unwrap_or("USD");
    let parsed = imports::parse_opportunities(&input.content, currency)
        .map_err(|e| ApiError::validation(vec![FieldError::new("content", e.to_string())]))?;
    let summary = store::import_opportunities(
        &state.store,
        &caller.actor(),
        input.file_name.trim(),
        &parsed,
    )
    .await?;
    Ok(Json(import_out(summary, parsed.quarantined)))
}

/// Filter for the quarantine.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    /// `google-ads`, `meta-ads` or `opportunities`.
    pub kind: Option<String>,
}

/// A stored refused row.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredQuarantinedOut {
    /// What was imported.
    pub kind: String,
    /// The file.
    pub file: String,
    /// 1-based line.
    pub row: i64,
    /// The row as written.
    pub raw: String,
    /// Every reason.
    pub reasons: Vec<String>,
}

/// List quarantined import rows.
#[utoipa::path(get, path = "/api/v1/attribution/quarantine", tag = "attribution", params(QuarantineQuery),
    responses((status = 200, body = Vec<StoredQuarantinedOut>)))]
async fn quarantine(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<QuarantineQuery>,
) -> ApiResult<Json<Vec<StoredQuarantinedOut>>> {
    caller.require(&state, Action::ImportsRun)?;
    let rows = store::quarantine(&state.store, q.kind.as_deref()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| StoredQuarantinedOut {
                kind: r.kind,
                file: r.file,
                row: r.row_number,
                raw: r.raw,
                reasons: r.reasons.0,
            })
            .collect(),
    ))
}

/// Which model.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelQuery {
    /// Model name (e.g. `linear`, `markov_order_1`); all models when absent.
    pub model: Option<String>,
}

/// Credit of one model to a channel or campaign, with cost.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreditOut {
    /// Model.
    pub model: String,
    /// Channel.
    pub channel: String,
    /// Campaign (campaign rows only).
    pub campaign: Option<String>,
    /// Attributed conversions.
    pub conversions: f64,
    /// Attributed value.
    pub value: f64,
    /// Cost in major units, when known.
    pub cost: Option<f64>,
    /// Currency of the cost.
    pub currency: Option<String>,
    /// Value ÷ cost.
    pub roas: Option<f64>,
    /// Cost ÷ conversions.
    pub cac: Option<f64>,
}

/// Stored results of the last run.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttributionOut {
    /// When they were computed (absent before the first run).
    pub computed_at: Option<DateTime<Utc>>,
    /// Totals and each model's conventions.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// Models present.
    pub models: Vec<String>,
    /// Per model and channel.
    pub channels: Vec<CreditOut>,
    /// Per model, channel and campaign.
    pub campaigns: Vec<CreditOut>,
}

/// Stored results joined with imported costs.
pub async fn load_results(st: &Store, model: Option<&str>) -> ApiResult<AttributionOut> {
    let run = store::latest_run(st).await?;
    let rows = store::results(st, model).await?;
    let costs = costs_of(&store::ad_costs(st).await?);
    let mut models: Vec<String> = Vec::new();
    for r in &rows {
        if !models.contains(&r.model) {
            models.push(r.model.clone());
        }
    }
    let mut channels = Vec::new();
    let mut campaigns = Vec::new();
    for m in &models {
        let credit = |r: &store::StoredCredit| ChannelCredit {
            channel: r.channel.clone(),
            campaign: r.campaign.clone(),
            conversions: r.conversions,
            value: r.value,
        };
        let mine = rows.iter().filter(|r| &r.model == m);
        let attribution = Attribution {
            model: m.clone(),
            channels: mine
                .clone()
                .filter(|r| r.campaign.is_none())
                .map(credit)
                .collect(),
            campaigns: mine.filter(|r| r.campaign.is_some()).map(credit).collect(),
            conventions: String::new(),
        };
        let perf = report::performance(&attribution, &costs)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        for p in perf {
            let out = CreditOut {
                model: p.model,
                channel: p.channel,
                campaign: p.campaign.clone(),
                conversions: p.conversions,
                value: p.value,
                cost: p.cost.as_ref().map(Money::major),
                currency: p.cost.map(|c| c.currency),
                roas: p.roas,
                cac: p.cac,
            };
            if p.campaign.is_some() {
                campaigns.push(out);
            } else {
                channels.push(out);
            }
        }
    }
    Ok(AttributionOut {
        computed_at: run.as_ref().map(|r| r.computed_at),
        summary: run.map(|r| r.summary.0).unwrap_or(serde_json::Value::Null),
        models,
        channels,
        campaigns,
    })
}

/// Attributed conversions, value, cost, ROAS and CAC per channel and campaign, for one model or
/// every model, from the last recompute.
#[utoipa::path(get, path = "/api/v1/attribution", tag = "attribution", params(ModelQuery),
    responses((status = 200, body = AttributionOut)))]
async fn results(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<ModelQuery>,
) -> ApiResult<Json<AttributionOut>> {
    caller.require(&state, Action::AttributionRead)?;
    Ok(Json(load_results(&state.store, q.model.as_deref()).await?))
}

/// A queued recompute.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedOut {
    /// The job's id (see `/api/v1/jobs/{id}`).
    pub job_id: i64,
}

/// Queue a recompute of every model from the stored events, opportunities and costs.
#[utoipa::path(post, path = "/api/v1/attribution/recompute", tag = "attribution",
    responses((status = 202, body = QueuedOut)))]
async fn queue_recompute(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<QueuedOut>)> {
    caller.require(&state, Action::ImportsRun)?;
    let job_id = keel_store::jobs::enqueue(
        &state.store,
        &keel_store::jobs::NewJob::now(RECOMPUTE_JOB, serde_json::json!({})),
    )
    .await?;
    state.job_waker.notify_one();
    Ok((StatusCode::ACCEPTED, Json(QueuedOut { job_id })))
}

/// One touch with each model's credit.
#[derive(Debug, Serialize, ToSchema)]
pub struct TouchOut {
    /// 1-based position.
    pub position: usize,
    /// Channel.
    pub channel: String,
    /// Campaign.
    pub campaign: Option<String>,
    /// Session start.
    pub at: DateTime<Utc>,
    /// Model → conversions credited to this touch.
    pub credit: std::collections::BTreeMap<String, f64>,
}

/// One journey.
#[derive(Debug, Serialize, ToSchema)]
pub struct JourneyOut {
    /// Whether it ended in a conversion.
    pub converted: bool,
    /// Conversion value.
    pub value: f64,
    /// Conversion time, or the last touch.
    pub end: DateTime<Utc>,
    /// Touches, oldest first.
    pub touches: Vec<TouchOut>,
}

/// A person's journeys.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    /// The stitched person (`user:…` or `anonymous:…`).
    pub person: String,
    /// Journeys, oldest first.
    pub journeys: Vec<JourneyOut>,
}

/// A person's journeys after stitching, computed from the stored data now.
pub async fn person_journeys(st: &Store, person: &str) -> ApiResult<PersonOut> {
    let computed = compute_from_store(st).await.map_err(ApiError::Internal)?;
    let (name, journeys) = computed
        .journeys_of(person)
        .ok_or_else(|| ApiError::NotFound(format!("no events for {person}")))?;
    Ok(PersonOut {
        person: name,
        journeys: journeys
            .into_iter()
            .map(|j| JourneyOut {
                converted: j.converted,
                value: j.value,
                end: j.end,
                touches: j
                    .touches
                    .into_iter()
                    .map(|t| TouchOut {
                        position: t.position,
                        channel: t.channel,
                        campaign: t.campaign,
                        at: t.at,
                        credit: t.credit.into_iter().collect(),
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// One person's journeys (user id, anonymous id, `user:…` or `anonymous:…`), each touch with
/// its channel, time and the credit every model gave it.
#[utoipa::path(get, path = "/api/v1/journeys/{person}", tag = "attribution",
    params(("person" = String, Path, description = "User id, anonymous id, user:ID or anonymous:ID")),
    responses((status = 200, body = PersonOut), (status = 404, body = crate::error::Problem)))]
async fn journeys(
    State(state): State<AppState>,
    caller: Caller,
    Path(person): Path<String>,
) -> ApiResult<Json<PersonOut>> {
    caller.require(&state, Action::AttributionRead)?;
    Ok(Json(person_journeys(&state.store, &person).await?))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(results))
        .routes(routes!(import_costs))
        .routes(routes!(import_opportunities))
        .routes(routes!(quarantine))
        .routes(routes!(queue_recompute))
        .routes(routes!(journeys))
}
