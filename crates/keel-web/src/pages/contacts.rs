//! The Contacts area: contact list and contact page (fields with lineage, lifecycle history),
//! imports with their quarantine (fix and re-submit a row), the duplicate review queue (side
//! by side, the explanation waterfall, merge / not a duplicate / skip), the data-quality
//! dashboard and MQL hand-offs for sales. Every action goes through the same functions as the
//! API in `api/contacts.rs`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use keel_charts::{
    BarChart, Chart, LineChart, Orientation, Series, TimeSeries, Waterfall, WaterfallStep,
};
use keel_contacts::hygiene::QualityScores;
use keel_policy::Action;
use keel_store::contacts as store;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::contacts::{
    self as api, ContactOut, ContactQuery, HandoffDecision, ImportOut, ImportRequest, QuarantineOut,
};
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::pages::charts::bars;
use crate::pages::{PageCaller, PageResult, field, form_values};
use crate::render::Frame;

fn frame(state: &AppState, caller: &Caller, title: &str, path: &str) -> Frame {
    Frame::new(state, caller, title, path)
}

// ---------------------------------------------------------------------------------------------
// List and record

async fn list_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<ContactQuery>,
) -> PageResult {
    caller.require(&state, Action::ContactsRead)?;
    let object = "contact";
    let page = api::list_records(&state, object, &q).await?;
    let overview = store::overview(&state.store).await?;
    let stages: Vec<(String, f64)> = [
        "subscriber",
        "lead",
        "mql",
        "sql",
        "opportunity",
        "customer",
        "disqualified",
    ]
    .iter()
    .map(|s| {
        (
            s.to_string(),
            overview.stages.get(*s).copied().unwrap_or(0) as f64,
        )
    })
    .collect();
    let stage_chart = bars("Contacts by lifecycle stage", &stages);
    let (accounts, _) = store::list(
        &state.store,
        &store::RecordFilter {
            object: Some("account".into()),
            ..Default::default()
        },
        10,
        0,
    )
    .await?;
    let accounts: Vec<ContactOut> = accounts.into_iter().map(Into::into).collect();
    let f = frame(&state, &caller, "Contacts", "/contacts");
    let next = (page.offset + page.limit < page.total).then_some(page.offset + page.limit);
    let prev = (page.offset > 0).then_some((page.offset - page.limit).max(0));
    Ok(state.pages.render(
        "contacts_list.html",
        minijinja::context! {
            page, overview, stage_chart, accounts, next, prev,
            q => q.q.clone().unwrap_or_default(),
            stage => q.stage.clone().unwrap_or_default(),
            ..minijinja::Value::from_serialize(&f)
        },
    ))
}

async fn record_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> PageResult {
    caller.require(&state, Action::ContactsRead)?;
    let detail = api::detail(&state, &id).await?;
    let title = detail.contact.name.clone();
    let can_write = caller.can(&state, Action::ContactsWrite);
    let f = frame(&state, &caller, &title, "/contacts");
    Ok(state.pages.render(
        "contacts_record.html",
        minijinja::context! { detail, can_write, ..minijinja::Value::from_serialize(&f) },
    ))
}

async fn unmerge(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
) -> PageResult {
    caller.require(&state, Action::ContactsWrite)?;
    let m = store::unmerge_records(&state.store, &caller.actor(), id).await?;
    Ok(Redirect::to(&format!("/contacts/{}", m.survivor_id)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Imports and quarantine

async fn render_imports(
    state: &AppState,
    caller: &Caller,
    form: serde_json::Value,
    errors: Vec<FieldError>,
) -> PageResult {
    let (imports, _) = store::imports(&state.store, 25, 0).await?;
    let imports: Vec<ImportOut> = imports.into_iter().map(Into::into).collect();
    let (quarantine, quarantined) = store::quarantine(&state.store, None, false, 10, 0).await?;
    let quarantine: Vec<QuarantineOut> = quarantine.into_iter().map(Into::into).collect();
    let can_import = caller.can(state, Action::ImportsRun);
    let mut f = frame(state, caller, "Imports", "/contacts/imports");
    f.errors = errors;
    Ok(state.pages.render(
        "contacts_imports.html",
        minijinja::context! { imports, quarantine, quarantined, can_import, form, ..minijinja::Value::from_serialize(&f) },
    ))
}

async fn imports_page(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    caller.require(&state, Action::ContactsRead)?;
    render_imports(&state, &caller, serde_json::json!({}), Vec::new()).await
}

async fn upload(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::ImportsRun)?;
    let values = form_values(&body);
    let layout = field(&values, "layout");
    let content = values
        .iter()
        .find(|(k, _)| k == "content")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let map = field(&values, "map");
    let req = ImportRequest {
        file_name: field(&values, "file_name"),
        layout: layout.clone(),
        map: (!map.is_empty()).then_some(map.clone()),
        content: Some(content),
        content_base64: None,
        encoding: None,
        check_duplicates: Some(field(&values, "check_duplicates") != "off"),
    };
    match api::start_import(&state, &caller, req).await {
        Ok(import) => Ok(Redirect::to(&format!("/contacts/imports/{}", import.id)).into_response()),
        Err(ApiError::Validation { errors, .. }) => {
            let form = serde_json::json!({"file_name": field(&values, "file_name"), "layout": layout, "map": map});
            render_imports(&state, &caller, form, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn render_import(
    state: &AppState,
    caller: &Caller,
    id: i64,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> PageResult {
    let import: ImportOut = store::import(&state.store, id).await?.into();
    let (rows, total) = store::quarantine(&state.store, Some(id), true, 200, 0).await?;
    let rows: Vec<QuarantineOut> = rows.into_iter().map(Into::into).collect();
    let reasons: Vec<(String, f64)> = store::quarantine_reasons(&state.store, id)
        .await?
        .into_iter()
        .take(12)
        .map(|(r, n)| (r, n as f64))
        .collect();
    let reason_chart = bars("Quarantine reasons", &reasons);
    let can_fix = caller.can(state, Action::ImportsRun);
    let running = import.status == "queued" || import.status == "running";
    let mut f = frame(state, caller, &format!("Import #{id}"), "/contacts/imports");
    f.errors = errors;
    f.notice = notice;
    Ok(state.pages.render(
        "contacts_import.html",
        minijinja::context! { import, rows, total, reason_chart, can_fix, running, ..minijinja::Value::from_serialize(&f) },
    ))
}

async fn import_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
) -> PageResult {
    caller.require(&state, Action::ContactsRead)?;
    render_import(&state, &caller, id, Vec::new(), None).await
}

async fn resubmit(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::ImportsRun)?;
    let row = store::quarantined(&state.store, id).await?;
    let values = form_values(&body);
    let fixes: BTreeMap<String, String> = values
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("cell.").map(|c| (c.to_string(), v.clone())))
        .collect();
    match api::resubmit(&state, &caller, id, &fixes).await {
        Ok(done) => {
            let notice = format!(
                "Row {} re-submitted; it is now {}.",
                done.row_number,
                done.record_id.unwrap_or_default()
            );
            render_import(&state, &caller, row.import_id, Vec::new(), Some(notice)).await
        }
        Err(ApiError::Validation { errors, .. }) => {
            let errors = errors
                .into_iter()
                .map(|e| FieldError::new(format!("row {}: {}", row.row_number, e.field), e.message))
                .collect();
            render_import(&state, &caller, row.import_id, errors, None).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Duplicate review

/// One row of the side-by-side comparison.
#[derive(Debug, Serialize)]
struct CompareRow {
    field: String,
    left: String,
    right: String,
    left_from: String,
    right_from: String,
    same: bool,
}

/// The explanation as a running-total waterfall: the prior first, then each comparison's
/// match weight starting where the previous one ended, then the final weight with its
/// probability.
pub fn waterfall(explanation: &serde_json::Value) -> Option<String> {
    let terms = explanation.get("terms")?.as_array()?;
    let prior = explanation
        .get("prior")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let mut steps = vec![WaterfallStep::new("prior", prior)];
    for t in terms {
        let column = t.get("column").and_then(|v| v.as_str()).unwrap_or("?");
        let level = t.get("level").and_then(|v| v.as_str()).unwrap_or("");
        let value = t.get("counted").and_then(|v| v.as_f64()).unwrap_or(0.0);
        let side = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("–").to_string();
        steps.push(
            WaterfallStep::new(format!("{column} ({level})"), value).with_note(format!(
                "{} / {}",
                side("left"),
                side("right")
            )),
        );
    }
    let probability = explanation
        .get("match_probability")
        .and_then(|v| v.as_f64());
    let chart = Waterfall {
        title: "Why they match (bits of evidence)".into(),
        steps,
        total_label: "match weight".into(),
        total_note: probability.map(|p| format!("{:.1}% likely the same", p * 100.0)),
        value_format: keel_charts::ValueFormat::Number { decimals: 1 },
        ..Default::default()
    };
    Some(chart.render())
}

fn compare(left: &keel_contacts::Record, right: &keel_contacts::Record) -> Vec<CompareRow> {
    let mut names: Vec<&String> = left.fields.keys().chain(right.fields.keys()).collect();
    names.sort();
    names.dedup();
    let from = |r: &keel_contacts::Record, n: &str| {
        r.lineage
            .get(n)
            .map(|l| format!("{} · {}", l.system, l.at.format("%Y-%m-%d")))
            .unwrap_or_default()
    };
    names
        .into_iter()
        .map(|n| {
            let l = left.get(n).map(|v| v.as_text()).unwrap_or_default();
            let r = right.get(n).map(|v| v.as_text()).unwrap_or_default();
            CompareRow {
                field: n.clone(),
                same: l == r,
                left_from: from(left, n),
                right_from: from(right, n),
                left: l,
                right: r,
            }
        })
        .collect()
}

#[derive(Debug, Deserialize)]
struct ReviewPageQuery {
    pair: Option<i64>,
}

async fn review_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<ReviewPageQuery>,
) -> PageResult {
    caller.require(&state, Action::ContactsRead)?;
    let (open, total) = store::review_queue(&state.store, "open", 50, 0).await?;
    let (skipped, skipped_total) = store::review_queue(&state.store, "skipped", 20, 0).await?;
    let current = match q.pair {
        Some(id) => Some(store::pair(&state.store, id).await?),
        None => open.first().cloned().or_else(|| skipped.first().cloned()),
    };
    let mut pair = None;
    let mut rows = Vec::new();
    let mut chart = None;
    if let Some(p) = current {
        let l = store::find(&state.store, &p.left_id).await?;
        let r = store::find(&state.store, &p.right_id).await?;
        if let (Some(l), Some(r)) = (&l, &r) {
            rows = compare(&l.record, &r.record);
        }
        chart = waterfall(&p.explanation.0);
        pair = Some(api::pair_out(&state, p).await?);
    }
    let mut queue = Vec::new();
    for p in open.into_iter().chain(skipped) {
        queue.push(api::pair_out(&state, p).await?);
    }
    let can_decide = caller.can(&state, Action::ContactsWrite);
    let f = frame(&state, &caller, "Duplicate review", "/contacts/duplicates");
    Ok(state.pages.render(
        "contacts_review.html",
        minijinja::context! { pair, rows, chart, queue, total, skipped_total, can_decide, ..minijinja::Value::from_serialize(&f) },
    ))
}

async fn decide(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::ContactsWrite)?;
    let values = form_values(&body);
    let decision = api::parse_decision(&field(&values, "decision"))?;
    store::decide_pair(
        &state.store,
        &caller.actor(),
        id,
        decision,
        &keel_contacts::merge::SurvivorshipConfig::default(),
    )
    .await?;
    Ok(Redirect::to("/contacts/duplicates").into_response())
}

// ---------------------------------------------------------------------------------------------
// Data quality

#[derive(Debug, Serialize)]
struct ScoreRow {
    name: String,
    completeness: Option<f64>,
    validity: Option<f64>,
    uniqueness: Option<f64>,
    freshness: Option<f64>,
}

fn score_row(name: &str, s: &QualityScores) -> ScoreRow {
    let pct = |v: Option<f64>| v.map(|x| (x * 1000.0).round() / 10.0);
    ScoreRow {
        name: name.to_string(),
        completeness: pct(s.completeness),
        validity: pct(s.validity),
        uniqueness: pct(s.uniqueness),
        freshness: pct(s.freshness),
    }
}

async fn quality_page(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    caller.require(&state, Action::ContactsRead)?;
    let q = api::quality(&state).await?;
    let fields: Vec<ScoreRow> = q
        .report
        .by_field
        .iter()
        .map(|(k, v)| score_row(k, v))
        .collect();
    let sources: Vec<ScoreRow> = q
        .report
        .by_source
        .iter()
        .map(|(k, v)| score_row(k, v))
        .collect();
    let object = score_row("all contacts", &q.report.object);
    let completeness: Vec<(String, f64)> = fields
        .iter()
        .filter_map(|r| Some((r.name.clone(), r.completeness?)))
        .collect();
    let validity: Vec<(String, f64)> = fields
        .iter()
        .filter_map(|r| Some((r.name.clone(), r.validity?)))
        .collect();
    let by_source = BarChart {
        title: "Quality by source (%)".into(),
        categories: sources.iter().map(|s| s.name.clone()).collect(),
        series: vec![
            Series::new(
                "completeness",
                sources
                    .iter()
                    .map(|s| s.completeness.unwrap_or(f64::NAN))
                    .collect(),
            ),
            Series::new(
                "validity",
                sources
                    .iter()
                    .map(|s| s.validity.unwrap_or(f64::NAN))
                    .collect(),
            ),
            Series::new(
                "freshness",
                sources
                    .iter()
                    .map(|s| s.freshness.unwrap_or(f64::NAN))
                    .collect(),
            ),
        ],
        orientation: Orientation::Horizontal,
        ..Default::default()
    };
    let by_source = (!sources.is_empty()).then(|| by_source.render());
    let trend = if q.trend.len() >= 2 {
        let line = |name: &str, f: fn(&store::QualityLine) -> Option<f64>| {
            TimeSeries::new(
                name,
                q.trend
                    .iter()
                    .filter_map(|t| f(t).map(|v| (t.at, v * 100.0)))
                    .collect::<Vec<_>>(),
            )
        };
        Some(
            LineChart {
                title: "Quality over time (%)".into(),
                series: vec![
                    line("completeness", |t| t.completeness),
                    line("validity", |t| t.validity),
                    line("uniqueness", |t| t.uniqueness),
                    line("freshness", |t| t.freshness),
                ],
                ..Default::default()
            }
            .render(),
        )
    } else {
        None
    };
    let hygiene = store::hygiene_counts(&state.store).await?;
    let segments = api::segments(&state).await?;
    let f = frame(&state, &caller, "Data quality", "/contacts/quality");
    Ok(state.pages.render(
        "contacts_quality.html",
        minijinja::context! {
            object, fields, sources, hygiene, segments, by_source, trend,
            records => q.report.records,
            completeness_chart => bars("Completeness by field (%)", &completeness),
            validity_chart => bars("Validity by field (%)", &validity),
            ..minijinja::Value::from_serialize(&f)
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// MQL hand-offs

async fn render_handoffs(state: &AppState, caller: &Caller, errors: Vec<FieldError>) -> PageResult {
    let (waiting, _) = store::handoffs(&state.store, Some("waiting"), 100, 0).await?;
    let (decided, _) = store::handoffs(&state.store, None, 200, 0).await?;
    let sla = crate::work::Workspace::load(&state.store)
        .await?
        .handoff_sla()?;
    let mut w = Vec::new();
    for h in waiting {
        w.push(api::handoff_out(state, &sla, h).await?);
    }
    let mut recent = Vec::new();
    let mut reasons: BTreeMap<String, f64> = BTreeMap::new();
    for h in decided.into_iter().filter(|h| h.status != "waiting") {
        if h.status == "rejected" {
            *reasons
                .entry(h.reason.clone().unwrap_or_else(|| "no reason".into()))
                .or_default() += 1.0;
        }
        if recent.len() < 20 {
            recent.push(api::handoff_out(state, &sla, h).await?);
        }
    }
    let reasons: Vec<(String, f64)> = reasons.into_iter().collect();
    let reason_chart = bars("Why sales rejected leads", &reasons);
    let mut f = frame(state, caller, "MQL hand-offs", "/contacts/handoffs");
    f.errors = errors;
    Ok(state.pages.render(
        "contacts_handoffs.html",
        minijinja::context! { waiting => w, recent, reason_chart, ..minijinja::Value::from_serialize(&f) },
    ))
}

async fn handoffs_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
) -> PageResult {
    caller.require(&state, Action::SalesHandoff)?;
    render_handoffs(&state, &caller, Vec::new()).await
}

async fn decide_handoff(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::SalesHandoff)?;
    let values = form_values(&body);
    let d = HandoffDecision {
        accept: field(&values, "decision") == "accept",
        reason: Some(field(&values, "reason")).filter(|r| !r.is_empty()),
    };
    match api::decide_handoff(&state, &caller, id, &d).await {
        Ok(_) => Ok(Redirect::to("/contacts/handoffs").into_response()),
        Err(ApiError::Validation { errors, .. }) => render_handoffs(&state, &caller, errors).await,
        Err(e) => Err(e.into()),
    }
}

/// Routes of the Contacts area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contacts", get(list_page))
        .route("/contacts/imports", get(imports_page).post(upload))
        .route("/contacts/imports/{id}", get(import_page))
        .route("/contacts/quarantine/{id}", post(resubmit))
        .route("/contacts/duplicates", get(review_page))
        .route("/contacts/duplicates/{id}", post(decide))
        .route("/contacts/merges/{id}/unmerge", post(unmerge))
        .route("/contacts/quality", get(quality_page))
        .route("/contacts/handoffs", get(handoffs_page))
        .route("/contacts/handoffs/{id}", post(decide_handoff))
        .route("/contacts/{id}", get(record_page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waterfall_runs_from_the_prior_to_the_weight_and_probability() {
        let explanation = serde_json::json!({
            "prior": -9.0,
            "terms": [
                {"column": "email", "level": "exact", "left": "a@x.example", "right": "a@x.example", "counted": 12.0},
                {"column": "phone", "level": "else", "left": null, "right": "+1", "counted": -2.0},
            ],
            "personal_disagreement": false,
            "match_weight": 1.0,
            "match_probability": 0.6667,
        });
        let svg = waterfall(&explanation).expect("a chart");
        assert!(svg.contains("keel-chart-waterfall"));
        for label in [
            ">prior<",
            ">email (exact)<",
            ">phone (else)<",
            ">match weight<",
        ] {
            assert!(svg.contains(label), "{label}");
        }
        assert!(svg.contains(">1.0 · 66.7% likely the same<"));
        assert_eq!(svg.matches("keel-waterfall-rise").count(), 1);
        assert_eq!(svg.matches("keel-waterfall-fall").count(), 2);
        assert!(waterfall(&serde_json::Value::Null).is_none());
    }
}
