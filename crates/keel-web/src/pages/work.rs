//! Work pages: the intake form rendered from the request type, my requests, the request page
//! (fields, plan as a Gantt chart with the critical path, state history, decisions with their
//! reasons, approvals, comments, SLA clocks), the approver inbox, the campaign calendar (month
//! and week), its iCalendar feed, the workload view and the SLA board.

use std::collections::BTreeMap;

use crate::AppState;
use crate::api::work::{self as api, person};
use crate::error::{ApiError, FieldError};
use crate::pages::{PageCaller, PageResult, field, fields, form_values};
use crate::render::Frame;
use crate::work::{self as flow, Submission, Vote, Workspace};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, Days, NaiveDate, Utc};
use keel_charts::{BarChart, Chart, Gantt, GanttTask, Orientation, Series};
use keel_policy::Action;
use keel_store::work::{self as stored, RequestFilter};
use keel_work::intake::{FieldSpec, FieldType};
use serde::{Deserialize, Serialize};

/// Turns the intake form's fields into the submission JSON the request type validates.
/// Values that do not parse are passed through as text so validation names them.
fn submission_fields(spec: &[FieldSpec], values: &[(String, String)]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for f in spec {
        let key = &f.key;
        let raw = field(values, key);
        let value = match f.field_type {
            FieldType::MultiSelect => {
                let items: Vec<serde_json::Value> = fields(values, key)
                    .into_iter()
                    .filter(|v| !v.trim().is_empty())
                    .map(serde_json::Value::String)
                    .collect();
                if items.is_empty() {
                    continue;
                }
                serde_json::Value::Array(items)
            }
            FieldType::Boolean => serde_json::Value::Bool(raw == "true" || raw == "on"),
            FieldType::Number => {
                if raw.is_empty() {
                    continue;
                }
                match raw.replace(',', "").parse::<f64>() {
                    Ok(n) => serde_json::json!(n),
                    Err(_) => serde_json::Value::String(raw),
                }
            }
            FieldType::Money => {
                if raw.is_empty() {
                    continue;
                }
                let currency = field(values, &format!("{key}__currency"));
                let currency = if currency.is_empty() {
                    f.currencies
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "EUR".into())
                } else {
                    currency
                };
                match raw.replace(',', "").parse::<f64>() {
                    Ok(n) => {
                        serde_json::json!({"amount_minor": (n * 100.0).round() as i64, "currency": currency})
                    }
                    Err(_) => serde_json::Value::String(raw),
                }
            }
            FieldType::Audience => {
                if raw.is_empty() {
                    continue;
                }
                let size = field(values, &format!("{key}__size"));
                match size.replace(',', "").parse::<i64>() {
                    Ok(n) => serde_json::json!({"segment": raw, "size": n}),
                    Err(_) if size.is_empty() => serde_json::json!({"segment": raw}),
                    Err(_) => serde_json::json!({"segment": raw, "size": size}),
                }
            }
            _ => {
                if raw.is_empty() {
                    continue;
                }
                serde_json::Value::String(raw)
            }
        };
        out.insert(key.clone(), value);
    }
    serde_json::Value::Object(out)
}

#[derive(Serialize)]
struct TypeCard {
    name: String,
    title: String,
    description: Option<String>,
    fields: usize,
}

async fn new_request(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    caller.require(&state, Action::RequestsSubmit)?;
    let ws = Workspace::load(&state.store).await?;
    let types: Vec<TypeCard> = ws
        .docs
        .request_types
        .iter()
        .map(|t| TypeCard {
            name: t.metadata.name.clone(),
            title: t.spec.title.clone(),
            description: t.spec.description.clone(),
            fields: t.spec.fields.len(),
        })
        .collect();
    let frame = Frame::new(&state, &caller, "New request", "/requests/new");
    Ok(state.pages.render(
        "work_new.html",
        minijinja::context! { types, ..minijinja::Value::from_serialize(&frame) },
    ))
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    caller: &crate::auth::Caller,
    ws: &Workspace,
    type_name: &str,
    form: BTreeMap<String, serde_json::Value>,
    errors: Vec<FieldError>,
    estimate: Option<serde_json::Value>,
    gantt: Option<String>,
) -> PageResult {
    let ty = ws
        .request_type(type_name)
        .ok_or_else(|| ApiError::NotFound(format!("no request type {type_name}")))?;
    let bad: Vec<String> = errors
        .iter()
        .map(|e| e.field.trim_start_matches("fields.").to_owned())
        .collect();
    let mut frame = Frame::new(state, caller, &ty.spec.title, "/requests/new");
    frame.errors = errors;
    let spec = serde_json::to_value(&ty.spec).unwrap_or_default();
    Ok(state.pages.render(
        "work_form.html",
        minijinja::context! { type_name, spec, form, bad, estimate, gantt, priorities => keel_work::intake::PRIORITIES, ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn intake_form(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(type_name): Path<String>,
) -> PageResult {
    caller.require(&state, Action::RequestsSubmit)?;
    let ws = Workspace::load(&state.store).await?;
    render_form(
        &state,
        &caller,
        &ws,
        &type_name,
        BTreeMap::new(),
        Vec::new(),
        None,
        None,
    )
    .await
}

fn gantt_of(schedule: &keel_work::schedule::Schedule, title: &str) -> String {
    let chart = Gantt {
        title: title.into(),
        tasks: schedule
            .tasks
            .iter()
            .map(|t| GanttTask {
                label: t.name.clone(),
                assignee: t.person.clone(),
                start: t.start,
                finish: t.finish,
                critical: schedule.critical_path.contains(&t.id),
            })
            .collect(),
        milestone: Some((schedule.launch, "Launch".into())),
    };
    chart.render()
}

async fn intake_submit(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(type_name): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::RequestsSubmit)?;
    let ws = Workspace::load(&state.store).await?;
    let ty = ws
        .request_type(&type_name)
        .ok_or_else(|| ApiError::NotFound(format!("no request type {type_name}")))?;
    let values = form_values(&body);
    let mut form: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for (k, v) in &values {
        if k == "csrf_token" {
            continue;
        }
        match form.get_mut(k) {
            Some(serde_json::Value::Array(a)) => a.push(serde_json::Value::String(v.clone())),
            Some(existing) => {
                let first = existing.clone();
                *existing =
                    serde_json::Value::Array(vec![first, serde_json::Value::String(v.clone())]);
            }
            None => {
                form.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
        }
    }
    let submission = Submission {
        request_type: type_name.clone(),
        title: Some(field(&values, "__title")).filter(|t| !t.is_empty()),
        priority: Some(field(&values, "__priority")).filter(|t| !t.is_empty()),
        fields: submission_fields(&ty.spec.fields, &values),
    };
    let who = person(&caller);
    if field(&values, "__action") == "estimate" {
        let all = stored::all_requests(&state.store).await?;
        let existing = flow::existing_bookings(&all, None);
        return match ws.estimate(&who, &submission, &existing, Utc::now().date_naive()) {
            Ok(e) => {
                let gantt = e.schedule.as_ref().map(|s| gantt_of(s, "Proposed plan"));
                let estimate = serde_json::json!({
                    "launch": e.schedule.as_ref().map(|s| s.launch),
                    "requested_feasible": e.schedule.as_ref().and_then(|s| s.requested_feasible),
                    "explanation": e.schedule.as_ref().map(|s| s.explanation.clone()).unwrap_or_default(),
                    "decision": e.decision,
                });
                render_form(
                    &state,
                    &caller,
                    &ws,
                    &type_name,
                    form,
                    Vec::new(),
                    Some(estimate),
                    gantt,
                )
                .await
            }
            Err(ApiError::Validation { errors, .. }) => {
                render_form(&state, &caller, &ws, &type_name, form, errors, None, None).await
            }
            Err(e) => Err(e.into()),
        };
    }
    match flow::submit(
        &state.store,
        &ws,
        &caller.actor(),
        &who,
        &submission,
        keel_store::now(),
    )
    .await
    {
        Ok(done) => {
            state.job_waker.notify_one();
            Ok(Redirect::to(&format!("/requests/{}?submitted=1", done.request.id)).into_response())
        }
        Err(ApiError::Validation { errors, .. }) => {
            render_form(&state, &caller, &ws, &type_name, form, errors, None, None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<ListQuery>,
) -> PageResult {
    caller.require(&state, Action::RequestsRead)?;
    let sees_all =
        caller.can(&state, Action::RequestsManage) || caller.can(&state, Action::ApprovalsDecide);
    let mine = q.scope.as_deref() == Some("mine") || !sees_all;
    let filter = RequestFilter {
        requester_id: mine.then_some(caller.user.user.id),
        statuses: q
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        request_type: None,
    };
    let (items, total) = stored::requests(&state.store, &filter, 200, 0).await?;
    let requests: Vec<api::RequestOut> = items.into_iter().map(Into::into).collect();
    let frame = Frame::new(
        &state,
        &caller,
        if mine { "My requests" } else { "Requests" },
        "/requests",
    );
    Ok(state.pages.render(
        "work_list.html",
        minijinja::context! { requests, total, mine, sees_all, status => q.status.unwrap_or_default(), can_submit => caller.can(&state, Action::RequestsSubmit), ..minijinja::Value::from_serialize(&frame) },
    ))
}

#[derive(Deserialize)]
struct ShowQuery {
    #[serde(default)]
    submitted: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    caller.require(&state, Action::RequestsRead)?;
    render_request(
        &state,
        &caller,
        id,
        q.submitted
            .is_some()
            .then(|| "Request submitted.".to_owned()),
        Vec::new(),
    )
    .await
}

async fn render_request(
    state: &AppState,
    caller: &crate::auth::Caller,
    id: i64,
    notice: Option<String>,
    errors: Vec<FieldError>,
) -> PageResult {
    let ws = Workspace::load(&state.store).await?;
    let d = api::detail(&state.store, &ws, id).await?;
    let schedule: Option<keel_work::schedule::Schedule> =
        serde_json::from_value(d.plan.clone()).ok();
    let gantt = schedule.as_ref().map(|s| gantt_of(s, "Plan"));
    let ty = ws.request_type(&d.request.request_type);
    let labels: BTreeMap<String, String> = ty
        .map(|t| {
            t.spec
                .fields
                .iter()
                .map(|f| (f.key.clone(), f.label.clone()))
                .collect()
        })
        .unwrap_or_default();
    let type_title = ty
        .map(|t| t.spec.title.clone())
        .unwrap_or_else(|| d.request.request_type.clone());
    let request = stored::request(&state.store, id).await?;
    let can_move = api::may_move(state, caller, &request).is_ok();
    let brief: Vec<(String, serde_json::Value)> = match &request.fields.0 {
        serde_json::Value::Object(m) => {
            // In the order of the intake form, then anything else.
            let order: Vec<String> = ty
                .map(|t| t.spec.fields.iter().map(|f| f.key.clone()).collect())
                .unwrap_or_default();
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by_key(|k| order.iter().position(|o| o == *k).unwrap_or(usize::MAX));
            keys.into_iter()
                .map(|k| {
                    (
                        labels.get(k).cloned().unwrap_or_else(|| k.clone()),
                        shown(&m[k]),
                    )
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let (recent_runs, _) = keel_store::checks::list(&state.store, 20, 0).await?;
    let recent_runs: Vec<serde_json::Value> = recent_runs
        .into_iter()
        .map(
            |c| serde_json::json!({"id": c.id, "name": c.name, "kind": c.kind, "errors": c.errors}),
        )
        .collect();
    let requires_check = ty.is_some_and(|t| t.spec.launch_requires_clean_check);
    let mut frame = Frame::new(
        state,
        caller,
        &format!("#{} {}", d.request.id, d.request.title),
        "/requests",
    );
    frame.notice = notice;
    frame.errors = errors;
    Ok(state.pages.render(
        "work_request.html",
        minijinja::context! { d, gantt, brief, type_title, schedule, can_move, recent_runs, requires_check, ..minijinja::Value::from_serialize(&frame) },
    ))
}

/// A submitted field as people read it: money with its currency, audiences with their size,
/// yes/no for booleans, lists as items.
fn shown(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as V;
    let text = match v {
        V::Bool(true) => "yes".to_owned(),
        V::Bool(false) => "no".to_owned(),
        V::Array(items) => {
            return serde_json::json!({"items": items.iter().map(|i| i.as_str().map(str::to_owned).unwrap_or_else(|| i.to_string())).collect::<Vec<_>>()});
        }
        V::Object(m) if m.contains_key("amount_minor") => {
            let minor = m.get("amount_minor").and_then(V::as_i64).unwrap_or(0);
            let currency = m.get("currency").and_then(V::as_str).unwrap_or("");
            format!(
                "{} {currency}",
                keel_charts::format::grouped(minor as f64 / 100.0, 2)
            )
        }
        V::Object(m) if m.contains_key("segment") => {
            let segment = m.get("segment").and_then(V::as_str).unwrap_or("");
            match m.get("size").and_then(V::as_i64) {
                Some(n) => format!(
                    "{segment} ({} people)",
                    keel_charts::format::grouped(n as f64, 0)
                ),
                None => segment.to_owned(),
            }
        }
        V::String(s) => s.clone(),
        other => other.to_string(),
    };
    serde_json::json!({"text": text})
}

async fn move_request(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::RequestsRead)?;
    let request = stored::request(&state.store, id).await?;
    api::may_move(&state, &caller, &request)?;
    let values = form_values(&body);
    let to = field(&values, "to");
    let reason = field(&values, "reason");
    let version = field(&values, "version").parse::<i64>().ok();
    let ws = Workspace::load(&state.store).await?;
    match flow::transition(
        &state.store,
        &ws,
        &caller.actor(),
        &person(&caller),
        id,
        &to,
        Some(reason.as_str()).filter(|r| !r.is_empty()),
        version,
        keel_store::now(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(e @ (ApiError::Validation { .. } | ApiError::Conflict { .. })) => {
            let errors = match e {
                ApiError::Validation { errors, .. } => errors,
                other => vec![FieldError::new("status", other.to_string())],
            };
            render_request(&state, &caller, id, None, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn comment(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::RequestsRead)?;
    let request = stored::request(&state.store, id).await?;
    api::may_move(&state, &caller, &request)?;
    let values = form_values(&body);
    let text = field(&values, "body");
    if text.is_empty() {
        return render_request(
            &state,
            &caller,
            id,
            None,
            vec![FieldError::new("comment", "is empty")],
        )
        .await;
    }
    stored::add_comment(
        &state.store,
        &caller.actor(),
        id,
        &caller.user.user.email,
        &text,
        keel_store::now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/requests/{id}#comments")).into_response())
}

async fn attach_check(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::RequestsRead)?;
    let request = stored::request(&state.store, id).await?;
    api::may_move(&state, &caller, &request)?;
    let values = form_values(&body);
    let Ok(run) = field(&values, "check_run_id").parse::<i64>() else {
        return render_request(
            &state,
            &caller,
            id,
            None,
            vec![FieldError::new("check_run_id", "choose a check run")],
        )
        .await;
    };
    keel_store::checks::get(&state.store, run).await?;
    stored::attach_check_run(
        &state.store,
        &caller.actor(),
        id,
        run,
        &caller.user.user.email,
    )
    .await?;
    Ok(Redirect::to(&format!("/requests/{id}#checks")).into_response())
}

async fn inbox(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    caller.require(&state, Action::ApprovalsDecide)?;
    render_inbox(&state, &caller, None, Vec::new()).await
}

async fn render_inbox(
    state: &AppState,
    caller: &crate::auth::Caller,
    notice: Option<String>,
    errors: Vec<FieldError>,
) -> PageResult {
    let ws = Workspace::load(&state.store).await?;
    let items = api::inbox(state, &ws, caller).await?;
    let metrics = api::metrics_of(&state.store, &ws).await?;
    let mut frame = Frame::new(state, caller, "Approval inbox", "/approvals");
    frame.notice = notice;
    frame.errors = errors;
    Ok(state.pages.render(
        "work_inbox.html",
        minijinja::context! { items, metrics, ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn vote(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::ApprovalsDecide)?;
    let values = form_values(&body);
    let choice = match field(&values, "vote").as_str() {
        "approve" => Vote::Approve,
        "reject" => Vote::Reject,
        "request_changes" => Vote::RequestChanges,
        other => {
            return render_inbox(
                &state,
                &caller,
                None,
                vec![FieldError::new("vote", format!("{other:?} is not a vote"))],
            )
            .await;
        }
    };
    let comment = field(&values, "comment");
    let ws = Workspace::load(&state.store).await?;
    match flow::vote(
        &state.store,
        &ws,
        &caller.actor(),
        &person(&caller),
        id,
        choice,
        Some(comment.as_str()),
        keel_store::now(),
    )
    .await
    {
        Ok(r) => {
            render_inbox(
                &state,
                &caller,
                Some(format!(
                    "Recorded. #{} {} is now {}.",
                    r.id,
                    r.title,
                    r.status.replace('_', " ")
                )),
                Vec::new(),
            )
            .await
        }
        Err(ApiError::Validation { errors, .. }) => {
            render_inbox(&state, &caller, None, errors).await
        }
        Err(e @ ApiError::Conflict { .. }) => {
            render_inbox(
                &state,
                &caller,
                None,
                vec![FieldError::new("approval", e.to_string())],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct CalendarQuery {
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    date: Option<NaiveDate>,
}

#[derive(Serialize)]
struct Day {
    date: NaiveDate,
    day: u32,
    in_month: bool,
    today: bool,
    blackout: Option<String>,
    entries: Vec<serde_json::Value>,
}

async fn calendar(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<CalendarQuery>,
) -> PageResult {
    caller.require(&state, Action::CalendarRead)?;
    render_calendar(&state, &caller, q, None).await
}

async fn render_calendar(
    state: &AppState,
    caller: &crate::auth::Caller,
    q: CalendarQuery,
    feed: Option<String>,
) -> PageResult {
    let ws = Workspace::load(&state.store).await?;
    let all = stored::all_requests(&state.store).await?;
    let entries = flow::calendar_entries(&all, "");
    let rules = ws.campaign_rules();
    let conflicts = keel_work::campaign::conflicts(&entries, &rules);
    let in_conflict: std::collections::HashSet<&str> =
        conflicts.iter().flat_map(|c| c.entries()).collect();
    let today = Utc::now().date_naive();
    let anchor = q.date.unwrap_or(today);
    let week = q.view.as_deref() == Some("week");
    let (first, last, month_start) = if week {
        let monday = keel_work::capacity::week_start(anchor);
        (monday, monday + Days::new(6), monday)
    } else {
        let month_start = anchor.with_day(1).unwrap_or(anchor);
        let next = month_start
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(month_start);
        let first = keel_work::capacity::week_start(month_start);
        let last_of_month = next.pred_opt().unwrap_or(next);
        let last = keel_work::capacity::week_start(last_of_month) + Days::new(6);
        (first, last, month_start)
    };
    let mut days = Vec::new();
    let mut d = first;
    while d <= last {
        let on_day: Vec<serde_json::Value> = entries
            .iter()
            .filter(|e| e.start <= d && d <= e.end)
            .map(|e| {
                let conflicted = in_conflict.contains(e.id.as_str());
                serde_json::json!({"id": e.id, "title": e.title, "channel": e.channel, "audience": e.audience, "url": e.url, "conflict": conflicted})
            })
            .collect();
        days.push(Day {
            date: d,
            day: d.day(),
            in_month: week || d.month() == month_start.month(),
            today: d == today,
            blackout: rules
                .blackouts
                .iter()
                .find(|b| b.contains(d))
                .map(|b| b.reason.clone()),
            entries: on_day,
        });
        d = d + Days::new(1);
    }
    let weeks: Vec<&[Day]> = days.chunks(7).collect();
    let (prev, next) = if week {
        (anchor - Days::new(7), anchor + Days::new(7))
    } else {
        (
            month_start
                .checked_sub_months(chrono::Months::new(1))
                .unwrap_or(month_start),
            month_start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(month_start),
        )
    };
    let conflicts: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
    let heading = if week {
        format!("Week of {}", first.format("%-d %B %Y"))
    } else {
        month_start.format("%B %Y").to_string()
    };
    let mut frame = Frame::new(state, caller, "Campaign calendar", "/calendar");
    frame.notice = feed.clone().map(|_| "Your calendar feed address is below. It is shown once; creating a new one revokes the old.".to_owned());
    Ok(state.pages.render(
        "work_calendar.html",
        minijinja::context! { weeks, heading, conflicts, week, prev, next, anchor, feed, ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn create_feed(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    headers: axum::http::HeaderMap,
) -> PageResult {
    caller.require(&state, Action::CalendarRead)?;
    let path = api::rotate_feed(&state, &caller).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let url = format!("http://{host}{path}");
    render_calendar(
        &state,
        &caller,
        CalendarQuery {
            view: None,
            date: None,
        },
        Some(url),
    )
    .await
}

#[derive(Deserialize)]
struct FeedQuery {
    #[serde(default)]
    token: String,
}

/// `/calendar.ics?token=…`: the campaign calendar as iCalendar for Google Calendar and Outlook.
/// Authenticated by the per-user feed token (calendar clients cannot sign in).
async fn ics(
    State(state): State<AppState>,
    Query(q): Query<FeedQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let unauthorised = || {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "calendar feed token missing, wrong or revoked; create a new one on the calendar page\n",
        )
            .into_response()
    };
    if q.token.is_empty() {
        return unauthorised();
    }
    let user =
        match stored::calendar_feed_user(&state.store, &keel_accounts::secret_digest(&q.token))
            .await
        {
            Ok(Some(u)) => u,
            Ok(None) => return unauthorised(),
            Err(e) => return ApiError::from(e).into_response(),
        };
    match keel_store::accounts::user(&state.store, user).await {
        Ok(u) if u.user.active => {}
        _ => return unauthorised(),
    }
    let all = match stored::all_requests(&state.store).await {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let domain = host.split(':').next().unwrap_or("localhost").to_owned();
    let entries = flow::calendar_entries(&all, &format!("http://{host}"));
    let body =
        keel_work::campaign::to_icalendar(&entries, "Keel campaign calendar", &domain, Utc::now());
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}

#[derive(Deserialize)]
struct WorkloadQuery {
    #[serde(default)]
    from: Option<NaiveDate>,
}

async fn workload(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<WorkloadQuery>,
) -> PageResult {
    caller.require(&state, Action::CalendarRead)?;
    let ws = Workspace::load(&state.store).await?;
    let from = q.from.unwrap_or_else(|| Utc::now().date_naive());
    let weeks = 8;
    let (loads, warnings) = api::capacity_of(&state.store, &ws, from, weeks).await?;
    let mut who: Vec<String> = Vec::new();
    let mut week_labels: Vec<NaiveDate> = Vec::new();
    for l in &loads {
        if !who.contains(&l.who) {
            who.push(l.who.clone());
        }
        if !week_labels.contains(&l.week) {
            week_labels.push(l.week);
        }
    }
    let rows: Vec<serde_json::Value> = who
        .iter()
        .map(|w| {
            let cells: Vec<serde_json::Value> = week_labels
                .iter()
                .map(|wk| {
                    loads
                        .iter()
                        .find(|l| &l.who == w && &l.week == wk)
                        .map(|l| serde_json::json!({"pct": l.utilisation_percent.round(), "alloc": (l.allocated_hours * 10.0).round() / 10.0, "avail": (l.available_hours * 10.0).round() / 10.0, "over": l.over_allocated}))
                        .unwrap_or(serde_json::Value::Null)
                })
                .collect();
            serde_json::json!({"who": w, "team": w.starts_with("team:"), "cells": cells})
        })
        .collect();
    let first_week: Vec<&keel_work::capacity::WeekLoad> = loads
        .iter()
        .filter(|l| Some(&l.week) == week_labels.first() && !l.who.starts_with("team:"))
        .collect();
    let chart = BarChart {
        title: "Utilisation this week (%)".into(),
        categories: first_week.iter().map(|l| l.who.clone()).collect(),
        series: vec![Series::new(
            "Utilisation",
            first_week.iter().map(|l| l.utilisation_percent).collect(),
        )],
        orientation: Orientation::Horizontal,
        ..BarChart::default()
    }
    .render();
    let frame = Frame::new(&state, &caller, "Workload", "/workload");
    Ok(state.pages.render(
        "work_workload.html",
        minijinja::context! { rows, week_labels, warnings, chart, ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn sla(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    caller.require(&state, Action::RequestsRead)?;
    let ws = Workspace::load(&state.store).await?;
    let rows = api::sla_board(&state.store, &ws).await?;
    let metrics = api::metrics_of(&state.store, &ws).await?;
    let escalations = stored::escalations(&state.store, None).await?;
    let counts =
        ["ok", "warning", "breached"].map(|s| rows.iter().filter(|r| r.worst == s).count() as f64);
    let chart = BarChart {
        title: "Requests by worst SLA status".into(),
        categories: vec!["On track".into(), "Warning".into(), "Breached".into()],
        series: vec![Series::new("Requests", counts.to_vec())],
        ..BarChart::default()
    }
    .render();
    let metrics_chart = BarChart {
        title: "Decisions".into(),
        categories: vec!["Decided by policy".into(), "Sent to people".into()],
        series: vec![Series::new(
            "Decisions",
            vec![
                metrics.decided_by_policy as f64,
                metrics.decided_by_people as f64,
            ],
        )],
        ..BarChart::default()
    }
    .render();
    let open: Vec<&api::SlaRow> = rows
        .iter()
        .filter(|r| !matches!(r.request.status.as_str(), "done" | "rejected" | "cancelled"))
        .collect();
    // MQL hand-offs on the same engine: waiting ones with their acceptance clock, and how
    // often sales met or missed it.
    let mut handoffs = Vec::new();
    let mut handoff_outcomes = BTreeMap::new();
    if caller.can(&state, Action::SalesHandoff) || caller.can(&state, Action::ContactsRead) {
        let sla = ws.handoff_sla()?;
        let now = keel_store::now();
        let (waiting, _) =
            keel_store::contacts::handoffs(&state.store, Some("waiting"), 200, 0).await?;
        for h in waiting {
            if let Some(c) = crate::work::handoff_clock(&sla, &h, now) {
                handoffs.push(minijinja::context! { id => h.id, owner => h.owner, record_id => h.record_id, clock => crate::work::clock_json(&c) });
            }
        }
        handoff_outcomes = keel_store::contacts::handoff_sla_outcomes(&state.store).await?;
    }
    let frame = Frame::new(&state, &caller, "SLA board", "/sla");
    Ok(state.pages.render(
        "work_sla.html",
        minijinja::context! { rows => open, metrics, chart, metrics_chart, escalations, handoffs, handoff_outcomes, ..minijinja::Value::from_serialize(&frame) },
    ))
}

/// Routes of the work pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/requests", get(list))
        .route("/requests/new", get(new_request))
        .route(
            "/requests/new/{type_name}",
            get(intake_form).post(intake_submit),
        )
        .route("/requests/{id}", get(show))
        .route("/requests/{id}/move", post(move_request))
        .route("/requests/{id}/comment", post(comment))
        .route("/requests/{id}/checks", post(attach_check))
        .route("/approvals", get(inbox))
        .route("/approvals/{id}/vote", post(vote))
        .route("/calendar", get(calendar))
        .route("/calendar/feed", post(create_feed))
        .route("/calendar.ics", get(ics))
        .route("/workload", get(workload))
        .route("/sla", get(sla))
}
