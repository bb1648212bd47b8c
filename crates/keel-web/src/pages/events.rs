//! The ingestion health page: sources, write keys, volumes and rejects.

use crate::AppState;
use crate::api::events::SourceOut;
use crate::error::{ApiError, FieldError};
use crate::pages::{PageCaller, PageResult};
use crate::render::Frame;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use chrono::{Duration, Timelike};
use keel_policy::Action;
use keel_store::events;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
struct EventsQuery {
    source: Option<String>,
}

#[derive(Serialize)]
struct Created {
    name: String,
    key: String,
}

#[derive(Serialize)]
struct Totals {
    events: i64,
    last_hour: i64,
    rejected: i64,
}

async fn render(
    state: &AppState,
    caller: &crate::auth::Caller,
    headers: &HeaderMap,
    selected: Option<String>,
    created: Option<Created>,
    errors: Vec<FieldError>,
) -> PageResult {
    let mut sources: Vec<SourceOut> = Vec::new();
    for s in events::sources(&state.store).await? {
        sources.push(crate::api::events::source_out(state, s).await?);
    }
    let now = keel_store::now();
    let since = now - Duration::hours(24);
    let recent: Vec<(chrono::DateTime<chrono::Utc>,)> =
        keel_store::sql("SELECT received_at FROM events WHERE received_at >= $1")
            .bind(since)
            .fetch_all(&state.store)
            .await?;
    let mut per_hour = [0f64; 24];
    for (at,) in &recent {
        let hours_ago = (now - *at).num_hours().clamp(0, 23) as usize;
        if let Some(slot) = per_hour.get_mut(23 - hours_ago) {
            *slot += 1.0;
        }
    }
    let hour_labels: Vec<(String, f64)> = per_hour
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let hour = (now - Duration::hours(23 - i as i64)).hour();
            (format!("{hour:02}:00"), *n)
        })
        .collect();
    let reject_totals: Vec<(String, f64)> = {
        let rows: Vec<(String, i64)> = keel_store::sql(
            "SELECT reason, COUNT(*) FROM event_rejects GROUP BY reason ORDER BY COUNT(*) DESC",
        )
        .fetch_all(&state.store)
        .await?;
        rows.into_iter().map(|(r, n)| (r, n as f64)).collect()
    };
    let totals = Totals {
        events: sources.iter().map(|s| s.events).sum(),
        last_hour: per_hour.last().map(|n| *n as i64).unwrap_or(0),
        rejected: reject_totals.iter().map(|(_, n)| *n as i64).sum(),
    };
    let charts = serde_json::json!({
        "per_hour": if recent.is_empty() { None } else { crate::pages::charts::columns("Events per hour", &hour_labels) },
        "rejects": crate::pages::charts::bars("Rejected by reason", &reject_totals),
    });
    let selected = selected.or_else(|| sources.first().map(|s| s.name.clone()));
    let mut list: Vec<crate::api::events::EventOut> = Vec::new();
    if let Some(name) = &selected
        && let Some(src) = events::source_by_name(&state.store, name).await?
    {
        list = events::list_events(&state.store, src.id, 25, 0)
            .await?
            .0
            .into_iter()
            .map(Into::into)
            .collect();
    }
    let base_url = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_default();
    let mut frame = Frame::new(state, caller, "Events", "/events");
    frame.errors = errors;
    Ok(state.pages.render(
        "events.html",
        minijinja::context! { sources, totals, charts, selected, events => list, created, base_url,
            can_create => caller.can(state, Action::UsersManage), ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> PageResult {
    caller.require(&state, Action::EventsRead)?;
    render(&state, &caller, &headers, q.source, None, Vec::new()).await
}

async fn create_source(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::UsersManage)?;
    let name = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    if name.is_empty()
        || name.len() > 100
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return render(
            &state,
            &caller,
            &headers,
            None,
            None,
            vec![FieldError::new(
                "name",
                "use 1–100 letters, digits, '-', '_' or '.'",
            )],
        )
        .await;
    }
    match events::create_source(&state.store, &caller.actor(), &name).await {
        Ok((source, key)) => {
            render(
                &state,
                &caller,
                &headers,
                Some(source.name.clone()),
                Some(Created {
                    name: source.name,
                    key,
                }),
                Vec::new(),
            )
            .await
        }
        Err(e) if e.is_unique_violation() => {
            render(
                &state,
                &caller,
                &headers,
                None,
                None,
                vec![FieldError::new("name", e.to_string())],
            )
            .await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events", get(page))
        .route("/events/sources", axum::routing::post(create_source))
}
