//! The attribution dashboard (every model side by side, channel and campaign tables with cost,
//! ROAS and CAC) and the journey explorer (one person's touches with each model's credit).

use crate::AppState;
use crate::api::attribution::{CreditOut, load_results, person_journeys};
use crate::error::ApiError;
use crate::pages::{PageCaller, PageResult};
use crate::render::Frame;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use keel_policy::Action;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
struct DashboardQuery {
    model: Option<String>,
}

#[derive(Serialize)]
struct ModelChart {
    model: String,
    chart: Option<String>,
}

#[derive(Serialize)]
struct Row {
    channel: String,
    campaign: String,
    conversions: String,
    value: String,
    cost: String,
    roas: String,
    cac: String,
}

fn num(x: f64) -> String {
    format!("{x:.2}")
}

fn row(c: &CreditOut) -> Row {
    Row {
        channel: c.channel.clone(),
        campaign: c.campaign.clone().unwrap_or_default(),
        conversions: num(c.conversions),
        value: num(c.value),
        cost: c.cost.map(num).unwrap_or_else(|| "–".into()),
        roas: c
            .roas
            .map(|r| format!("{r:.2}×"))
            .unwrap_or_else(|| "–".into()),
        cac: c.cac.map(num).unwrap_or_else(|| "–".into()),
    }
}

async fn dashboard(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<DashboardQuery>,
) -> PageResult {
    caller.require(&state, Action::AttributionRead)?;
    let results = load_results(&state.store, None).await?;
    let charts: Vec<ModelChart> = results
        .models
        .iter()
        .map(|m| {
            let data: Vec<(String, f64)> = results
                .channels
                .iter()
                .filter(|c| &c.model == m)
                .map(|c| (c.channel.clone(), c.conversions))
                .collect();
            ModelChart {
                model: m.clone(),
                chart: crate::pages::charts::bars(&format!("Conversions by channel, {m}"), &data),
            }
        })
        .collect();
    let selected = q
        .model
        .filter(|m| results.models.contains(m))
        .or_else(|| {
            results
                .models
                .iter()
                .find(|m| m.starts_with("markov"))
                .cloned()
        })
        .or_else(|| results.models.first().cloned());
    let of = |rows: &[CreditOut]| -> Vec<Row> {
        rows.iter()
            .filter(|c| Some(&c.model) == selected.as_ref())
            .map(row)
            .collect()
    };
    let channels = of(&results.channels);
    let campaigns = of(&results.campaigns);
    let frame = Frame::new(&state, &caller, "Attribution", "/attribution");
    Ok(state.pages.render(
        "attribution_dashboard.html",
        minijinja::context! { computed_at => results.computed_at, summary => results.summary,
        models => results.models, charts, selected, channels, campaigns,
        ..minijinja::Value::from_serialize(&frame) },
    ))
}

#[derive(Debug, Default, Deserialize)]
struct JourneyQuery {
    person: Option<String>,
}

async fn journeys(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<JourneyQuery>,
) -> PageResult {
    caller.require(&state, Action::AttributionRead)?;
    let person = q
        .person
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    let (found, missing) = match &person {
        None => (None, false),
        Some(p) => match person_journeys(&state.store, p).await {
            Ok(j) => (Some(j), false),
            Err(ApiError::NotFound(_)) => (None, true),
            Err(e) => return Err(e.into()),
        },
    };
    let models: Vec<String> = found
        .as_ref()
        .and_then(|f| f.journeys.iter().find(|j| j.converted))
        .and_then(|j| j.touches.first())
        .map(|t| t.credit.keys().cloned().collect())
        .unwrap_or_default();
    let frame = Frame::new(&state, &caller, "Journeys", "/attribution/journeys");
    Ok(state.pages.render(
        "attribution_journeys.html",
        minijinja::context! { person, found, missing, models, ..minijinja::Value::from_serialize(&frame) },
    ))
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/attribution", get(dashboard))
        .route("/attribution/journeys", get(journeys))
}
