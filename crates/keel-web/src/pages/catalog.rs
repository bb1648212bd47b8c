//! The stack catalog's pages: tool list, tool page with scorecard and blast radius, the stack
//! graph, audits, and forms to add a tool or a contract.

use crate::AppState;
use crate::api::catalog::{audit_report, store_document};
use crate::error::{ApiError, FieldError};
use crate::pages::{PageCaller, PageResult, field as one, fields as many, form_values};
use crate::render::Frame;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use keel_catalog::impact::{Graph as ImpactGraph, Node as ImpactNode};
use keel_catalog::{Catalog, Category, Lifecycle};
use keel_charts::{Chart, Gauge};
use keel_policy::Action;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

async fn load(state: &AppState) -> Result<Catalog, ApiError> {
    crate::ops::catalog(&state.store)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn enum_names<T: Serialize>(values: &[T]) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| {
            serde_json::to_value(v)
                .ok()
                .and_then(|j| j.as_str().map(str::to_string))
        })
        .collect()
}

fn categories() -> Vec<String> {
    use Category::*;
    enum_names(&[
        Email,
        MarketingAutomation,
        Crm,
        Cdp,
        WebAnalytics,
        TagManagement,
        ConsentManagement,
        Dam,
        Cms,
        LandingPages,
        Ads,
        Social,
        WorkManagement,
        Bi,
        DataWarehouse,
        Middleware,
        DataPipeline,
        EmailQa,
        Experimentation,
        Collaboration,
        Events,
        Other,
    ])
}

fn lifecycles() -> Vec<String> {
    enum_names(&[
        Lifecycle::Evaluating,
        Lifecycle::Implementing,
        Lifecycle::Live,
        Lifecycle::Deprecated,
        Lifecycle::Retired,
    ])
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct ListQuery {
    q: Option<String>,
    category: Option<String>,
    lifecycle: Option<String>,
}

#[derive(Serialize)]
struct ToolRow {
    name: String,
    display_name: String,
    vendor: String,
    categories: Vec<String>,
    lifecycle: String,
    owners: Vec<String>,
    gauge: Option<String>,
}

fn readiness_gauge(title: &str, score: usize) -> String {
    Gauge {
        title: title.to_string(),
        value: score as f64,
        max: 8.0,
        ..Default::default()
    }
    .render()
}

async fn list(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<ListQuery>,
) -> PageResult {
    caller.require(&state, Action::CatalogRead)?;
    let c = load(&state).await?;
    let cards = keel_catalog::scorecard::scorecards(&c, today());
    let needle = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    let mut rows = Vec::new();
    for (name, entry) in &c.tools {
        let t = &entry.spec;
        let cats = enum_names(&t.categories);
        let lifecycle = enum_names(&[t.lifecycle]).pop().unwrap_or_default();
        if !needle.is_empty()
            && !name.contains(&needle)
            && !t.display_name.to_lowercase().contains(&needle)
            && !t.vendor.to_lowercase().contains(&needle)
        {
            continue;
        }
        if q.category
            .as_deref()
            .is_some_and(|f| !f.is_empty() && !cats.iter().any(|c| c == f))
        {
            continue;
        }
        if q.lifecycle
            .as_deref()
            .is_some_and(|f| !f.is_empty() && f != lifecycle)
        {
            continue;
        }
        let owners: BTreeSet<String> = t
            .owners
            .platform
            .iter()
            .chain(&t.owners.service)
            .cloned()
            .collect();
        let gauge = cards
            .iter()
            .find(|s| &s.tool == name)
            .map(|s| readiness_gauge(&format!("{} readiness", t.display_name), s.score()));
        rows.push(ToolRow {
            name: name.clone(),
            display_name: t.display_name.clone(),
            vendor: t.vendor.clone(),
            categories: cats,
            lifecycle,
            owners: owners.into_iter().collect(),
            gauge,
        });
    }
    let report = audit_report(&c, 120);
    let findings: usize = report
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_array()).map(Vec::len).sum())
        .unwrap_or(0);
    let totals = serde_json::json!({
        "tools": c.tools.len(),
        "live": c.tools.values().filter(|t| t.spec.lifecycle == Lifecycle::Live).count(),
        "integrations": c.integrations.len(),
        "ready": cards.iter().filter(|s| s.ready()).count(),
        "findings": findings,
    });
    let frame = Frame::new(&state, &caller, "Stack catalog", "/catalog");
    Ok(state.pages.render(
        "catalog.html",
        minijinja::context! { tools => rows, totals, filter => q, categories => categories(), lifecycles => lifecycles(),
            can_write => caller.can(&state, Action::CatalogWrite), ..minijinja::Value::from_serialize(&frame) },
    ))
}

/// The stack graph drawn with `keel-charts`, with `impacted` (and `start`) highlighted.
fn draw_graph(
    graph: &ImpactGraph,
    title: &str,
    start: Option<&ImpactNode>,
    impacted: &[keel_catalog::impact::Impacted],
    only_related: bool,
) -> String {
    use keel_charts::{Direction, Edge, Graph, Node, NodeKind};
    let id = |n: &ImpactNode| n.to_string();
    let mut keep: BTreeSet<String> = BTreeSet::new();
    if only_related {
        if let Some(s) = start {
            keep.insert(id(s));
        }
        for i in impacted {
            keep.insert(id(&i.node));
            keep.extend(i.path.iter().map(id));
        }
    }
    let include = |n: &ImpactNode| !only_related || keep.contains(&id(n));
    let nodes = graph
        .nodes()
        .filter(|n| include(n))
        .map(|n| {
            let (kind, label, href) = match n {
                ImpactNode::Tool(t) => (
                    NodeKind::Tool,
                    t.clone(),
                    Some(format!("/catalog/tools/{t}")),
                ),
                ImpactNode::Field(f) => (
                    NodeKind::Field,
                    f.clone(),
                    Some(format!("/catalog/graph?field={f}")),
                ),
                ImpactNode::Integration(i) => (NodeKind::Integration, i.clone(), None),
                ImpactNode::Automation(a) => (NodeKind::Automation, a.clone(), None),
                ImpactNode::Dashboard(d) => (NodeKind::Dashboard, d.clone(), None),
            };
            Node {
                id: id(n),
                label,
                kind,
                href,
            }
        })
        .collect();
    let edges = graph
        .edges()
        .filter(|(a, b)| include(a) && include(b))
        .map(|(a, b)| Edge {
            from: id(a),
            to: id(b),
            label: None,
        })
        .collect();
    let mut highlight: Vec<String> = impacted.iter().map(|i| id(&i.node)).collect();
    if let Some(s) = start {
        highlight.push(id(s));
    }
    Graph {
        title: title.to_string(),
        nodes,
        edges,
        highlight,
        focus: start.map(id),
        direction: Direction::Auto,
        ..Default::default()
    }
    .render()
}

/// The whole stack at tool level: tools joined by their integrations (fields left out, so the
/// picture stays readable at 40+ tools).
fn overview_graph(c: &Catalog) -> String {
    use keel_charts::{Direction, Edge, Graph, Node, NodeKind};
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for (name, i) in &c.integrations {
        used.insert(i.spec.from.clone());
        used.insert(i.spec.to.clone());
        let id = format!("integration:{name}");
        nodes.push(Node {
            id: id.clone(),
            label: name.clone(),
            kind: NodeKind::Integration,
            href: None,
        });
        edges.push(Edge {
            from: format!("tool:{}", i.spec.from),
            to: id.clone(),
            label: None,
        });
        edges.push(Edge {
            from: id,
            to: format!("tool:{}", i.spec.to),
            label: None,
        });
    }
    for tool in used {
        let label = c
            .tools
            .get(&tool)
            .map(|t| t.spec.display_name.clone())
            .unwrap_or_else(|| tool.clone());
        nodes.push(Node {
            id: format!("tool:{tool}"),
            label,
            kind: NodeKind::Tool,
            href: Some(format!("/catalog/graph?tool={tool}")),
        });
    }
    Graph {
        title: "Tools and the integrations between them".into(),
        nodes,
        edges,
        direction: Direction::Auto,
        ..Default::default()
    }
    .render()
}

#[derive(Serialize)]
struct RecordRow {
    kind: &'static str,
    name: String,
    summary: String,
}

async fn tool_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(name): Path<String>,
) -> PageResult {
    caller.require(&state, Action::CatalogRead)?;
    let c = load(&state).await?;
    let entry = c
        .tools
        .get(&name)
        .ok_or_else(|| ApiError::NotFound(format!("no tool named {name}")))?;
    let scorecard = keel_catalog::scorecard::scorecards(&c, today())
        .into_iter()
        .find(|s| s.tool == name);
    let gauge = scorecard
        .as_ref()
        .map(|s| readiness_gauge("Service readiness", s.score()));
    let contracts: Vec<serde_json::Value> = c
        .contracts
        .iter()
        .filter(|(_, e)| e.spec.tools.contains(&name))
        .map(|(n, e)| serde_json::json!({"name": n, "spec": e.spec, "cost": format!("{:.2} {}", e.spec.cost.amount_minor as f64 / 100.0, e.spec.cost.currency)}))
        .collect();
    let usage = c.latest_usage(&name).map(|u| serde_json::json!({"seats_assigned": u.spec.seats_assigned, "seats_active": u.spec.seats_active, "as_of": u.spec.taken_on}));
    let integrations: Vec<serde_json::Value> = c
        .integrations
        .iter()
        .filter(|(_, e)| e.spec.from == name || e.spec.to == name)
        .map(|(n, e)| serde_json::json!({"name": n, "spec": e.spec}))
        .collect();
    let mut records: Vec<RecordRow> = c
        .changes
        .iter()
        .filter(|(_, e)| {
            serde_json::to_string(&e.spec.affects)
                .unwrap_or_default()
                .contains(&format!("\"{name}"))
        })
        .map(|(n, e)| RecordRow {
            kind: "Change",
            name: n.clone(),
            summary: e.spec.what.clone(),
        })
        .collect();
    records.extend(
        c.incidents
            .iter()
            .filter(|(_, e)| {
                serde_json::to_string(&e.spec.affects)
                    .unwrap_or_default()
                    .contains(&format!("\"{name}"))
            })
            .map(|(n, e)| RecordRow {
                kind: "Incident",
                name: n.clone(),
                summary: e.spec.title.clone(),
            }),
    );
    let graph = ImpactGraph::build(&c);
    let start = ImpactNode::Tool(name.clone());
    let impacted = if graph.contains(&start) {
        graph.downstream(&start)
    } else {
        Vec::new()
    };
    let drawn = (!impacted.is_empty()).then(|| {
        draw_graph(
            &graph,
            &format!("What depends on {}", entry.spec.display_name),
            Some(&start),
            &impacted,
            true,
        )
    });
    let frame = Frame::new(&state, &caller, &entry.spec.display_name, "/catalog");
    Ok(state.pages.render(
        "tool.html",
        minijinja::context! { tool => entry.spec, scorecard, gauge, contracts, usage, integrations, records, impacted, graph => drawn,
            ..minijinja::Value::from_serialize(&frame) },
    ))
}

#[derive(Debug, Default, Deserialize)]
struct GraphQuery {
    tool: Option<String>,
    field: Option<String>,
}

async fn graph_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<GraphQuery>,
) -> PageResult {
    caller.require(&state, Action::CatalogRead)?;
    let c = load(&state).await?;
    let graph = ImpactGraph::build(&c);
    let start = match (
        q.tool.as_deref().filter(|s| !s.is_empty()),
        q.field.as_deref().filter(|s| !s.is_empty()),
    ) {
        (_, Some(f)) => Some(ImpactNode::Field(f.to_string())),
        (Some(t), None) => Some(ImpactNode::Tool(t.to_string())),
        _ => None,
    };
    let mut error = None;
    let impacted = match &start {
        Some(s) if graph.contains(s) => graph.downstream(s),
        Some(s) => {
            error = Some(format!("{s} is not in the stack graph"));
            Vec::new()
        }
        None => Vec::new(),
    };
    let drawn = match start.as_ref().filter(|s| graph.contains(s)) {
        Some(s) => draw_graph(
            &graph,
            &format!("Blast radius of {s}"),
            Some(s),
            &impacted,
            true,
        ),
        None => overview_graph(&c),
    };
    let frame = Frame::new(&state, &caller, "Stack graph", "/catalog/graph");
    Ok(state.pages.render(
        "graph.html",
        minijinja::context! { graph => drawn, impacted, error, tools => c.tools.keys().collect::<Vec<_>>(),
            selected_tool => q.tool, selected_field => q.field, ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn audits_page(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    caller.require(&state, Action::CatalogRead)?;
    let c = load(&state).await?;
    let window = 120;
    let report = audit_report(&c, window);
    let seat_rows: Vec<(String, f64, f64)> = keel_catalog::audit::seat_usage(&c, today())
        .into_iter()
        .map(|s| (s.tool, f64::from(s.active), f64::from(s.unused)))
        .collect();
    let seat_chart = (!seat_rows.is_empty()).then(|| {
        keel_charts::BarChart {
            title: "Active and unused seats".into(),
            categories: seat_rows.iter().map(|r| r.0.clone()).collect(),
            series: vec![
                keel_charts::Series::new("active", seat_rows.iter().map(|r| r.1).collect()),
                keel_charts::Series::new("unused", seat_rows.iter().map(|r| r.2).collect()),
            ],
            orientation: keel_charts::Orientation::Horizontal,
            stacked: true,
            ..Default::default()
        }
        .render()
    });
    // The renewal calendar: every notice deadline in the next year, one cell per day.
    let deadlines: Vec<(chrono::NaiveDate, f64)> =
        keel_catalog::audit::renewals_due(&c, today(), 365)
            .into_iter()
            .map(|r| (r.notice_deadline, 1.0))
            .collect();
    let calendar = (!deadlines.is_empty()).then(|| {
        keel_charts::Heatmap::calendar("Notice deadlines over the next 12 months", &deadlines)
            .render()
    });
    let all_renewals = keel_catalog::audit::renewals_due(&c, today(), 365);
    let frame = Frame::new(&state, &caller, "Stack audits", "/catalog/audits");
    Ok(state.pages.render(
        "audits.html",
        minijinja::context! { report, window, seat_chart, calendar, all_renewals, ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn render_new(
    state: &AppState,
    caller: &crate::auth::Caller,
    kind: &str,
    form: serde_json::Value,
    errors: Vec<FieldError>,
) -> PageResult {
    let c = load(state).await?;
    let people: Vec<&String> = c
        .people
        .iter()
        .filter(|(n, _)| c.is_active_person(n))
        .map(|(n, _)| n)
        .collect();
    let mut frame = Frame::new(
        state,
        caller,
        &format!("Add a {}", kind.to_lowercase()),
        "/catalog",
    );
    frame.errors = errors;
    Ok(state.pages.render(
        "catalog_new.html",
        minijinja::context! { kind, form, people, tools => c.tools.keys().collect::<Vec<_>>(), categories => categories(), lifecycles => lifecycles(),
            ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn new_form(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(kind): Path<String>,
) -> PageResult {
    caller.require(&state, Action::CatalogWrite)?;
    let kind = match kind.as_str() {
        "tool" => "Tool",
        "contract" => "Contract",
        _ => return Err(ApiError::NotFound(format!("cannot add a {kind} here")).into()),
    };
    render_new(
        &state,
        &caller,
        kind,
        serde_json::json!({"lifecycle": "evaluating"}),
        Vec::new(),
    )
    .await
}

fn tool_document(v: &[(String, String)]) -> serde_json::Value {
    let mut owners = serde_json::Map::new();
    for (field, key) in [("platform_owner", "platform"), ("service_owner", "service")] {
        let who = one(v, field);
        if !who.is_empty() {
            owners.insert(key.into(), serde_json::json!([who]));
        }
    }
    serde_json::json!({
        "apiVersion": "keel/v1", "kind": "Tool", "metadata": {"name": one(v, "name")},
        "spec": {"display_name": one(v, "display_name"), "vendor": one(v, "vendor"), "categories": many(v, "categories"),
                 "lifecycle": one(v, "lifecycle"), "owners": owners, "holds_pii": one(v, "holds_pii") == "true", "sso": one(v, "sso") == "true"}
    })
}

fn contract_document(v: &[(String, String)]) -> Result<serde_json::Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let cost = one(v, "cost");
    let amount_minor = match cost.parse::<f64>() {
        Ok(x) if x >= 0.0 && x.is_finite() => (x * 100.0).round() as i64,
        _ => {
            errors.push(FieldError::new(
                "cost",
                format!("`{cost}` is not an amount"),
            ));
            0
        }
    };
    let number = |key: &str, errors: &mut Vec<FieldError>| -> Option<u32> {
        let raw = one(v, key);
        if raw.is_empty() {
            return None;
        }
        raw.parse::<u32>()
            .map_err(|_| {
                errors.push(FieldError::new(
                    key,
                    format!("`{raw}` is not a whole number"),
                ))
            })
            .ok()
    };
    let seats = number("seats", &mut errors);
    let notice = number("notice_days", &mut errors).unwrap_or(0);
    if !errors.is_empty() {
        return Err(errors);
    }
    let tier = one(v, "tier");
    let mut spec = serde_json::json!({
        "vendor": one(v, "vendor"), "tools": many(v, "tools"),
        "cost": {"amount_minor": amount_minor, "currency": one(v, "currency").to_uppercase()},
        "billing_period": one(v, "billing_period"), "start": one(v, "start"), "end": one(v, "end"),
        "auto_renew": one(v, "auto_renew") == "true", "notice_days": notice, "dpa_signed": one(v, "dpa_signed") == "true",
    });
    if let Some(s) = seats {
        spec["seats"] = serde_json::json!(s);
    }
    if !tier.is_empty() {
        spec["tier"] = serde_json::json!(tier);
    }
    Ok(
        serde_json::json!({"apiVersion": "keel/v1", "kind": "Contract", "metadata": {"name": one(v, "name")}, "spec": spec}),
    )
}

async fn create(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(kind): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::CatalogWrite)?;
    let values = form_values(&body);
    let (kind, document) = match kind.as_str() {
        "tool" => ("Tool", Ok(tool_document(&values))),
        "contract" => ("Contract", contract_document(&values)),
        _ => return Err(ApiError::NotFound(format!("cannot add a {kind} here")).into()),
    };
    let mut form: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    for (k, v) in &values {
        if ["categories", "tools"].contains(&k.as_str()) {
            if let Some(list) = form
                .entry(k.clone())
                .or_insert_with(|| serde_json::json!([]))
                .as_array_mut()
            {
                list.push(serde_json::json!(v));
            }
        } else {
            form.insert(k.clone(), serde_json::json!(v));
        }
    }
    let document = match document {
        Ok(d) => d,
        Err(errors) => {
            return render_new(
                &state,
                &caller,
                kind,
                serde_json::Value::Object(form),
                errors,
            )
            .await;
        }
    };
    let name = one(&values, "name");
    if keel_store::documents::get(&state.store, kind, &name)
        .await?
        .is_some()
    {
        let errors = vec![FieldError::new(
            "name",
            format!("a {} named {name} already exists", kind.to_lowercase()),
        )];
        return render_new(
            &state,
            &caller,
            kind,
            serde_json::Value::Object(form),
            errors,
        )
        .await;
    }
    match store_document(&state, &caller, kind, &name, &document, None).await {
        Ok(_) => {
            let target = if kind == "Tool" {
                format!("/catalog/tools/{name}")
            } else {
                "/catalog/audits".to_string()
            };
            Ok(Redirect::to(&target).into_response())
        }
        Err(ApiError::Validation { errors, .. }) => {
            render_new(
                &state,
                &caller,
                kind,
                serde_json::Value::Object(form),
                errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/catalog", get(list))
        .route("/catalog/tools/{name}", get(tool_page))
        .route("/catalog/graph", get(graph_page))
        .route("/catalog/audits", get(audits_page))
        .route("/catalog/new/{kind}", get(new_form).post(create))
        .route("/catalog/changes", get(changes_page))
        .route("/catalog/{kind}/new", axum::routing::post(new_record))
}

async fn changes_page(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    render_changes(&state, &caller, Vec::new()).await
}

async fn render_changes(
    state: &AppState,
    caller: &crate::auth::Caller,
    errors: Vec<FieldError>,
) -> PageResult {
    caller.require(state, Action::CatalogRead)?;
    let c = load(state).await?;
    let mut changes: Vec<serde_json::Value> = c
        .changes
        .iter()
        .map(|(n, e)| serde_json::json!({"name": n, "spec": e.spec}))
        .collect();
    changes.sort_by(|a, b| {
        b["spec"]["planned_for"]
            .as_str()
            .cmp(&a["spec"]["planned_for"].as_str())
    });
    let mut incidents: Vec<serde_json::Value> = c
        .incidents
        .iter()
        .map(|(n, e)| serde_json::json!({"name": n, "spec": e.spec}))
        .collect();
    incidents.sort_by(|a, b| {
        b["spec"]["started_at"]
            .as_str()
            .cmp(&a["spec"]["started_at"].as_str())
    });
    let people: Vec<&String> = c
        .people
        .iter()
        .filter(|(n, _)| c.is_active_person(n))
        .map(|(n, _)| n)
        .collect();
    let mut frame = Frame::new(state, caller, "Changes and incidents", "/catalog/changes");
    frame.errors = errors;
    Ok(state.pages.render(
        "changes.html",
        minijinja::context! { changes, incidents, people, tools => c.tools.keys().collect::<Vec<_>>(),
            integration_names => c.integrations.keys().collect::<Vec<_>>(), can_write => caller.can(state, Action::CatalogWrite),
            ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn new_record(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(kind): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::CatalogWrite)?;
    let v = form_values(&body);
    let name = one(&v, "name");
    let (kind, spec) = match kind.as_str() {
        "changes" => {
            let mut spec = serde_json::json!({"what": one(&v, "what"), "why": one(&v, "why"), "risk": one(&v, "risk"), "status": "planned",
                "planned_for": one(&v, "planned_for"), "affects": {"tools": many(&v, "tools")}});
            for key in ["approver", "rollback_plan"] {
                let value = one(&v, key);
                if !value.is_empty() {
                    spec[key] = serde_json::json!(value);
                }
            }
            ("ChangeRecord", spec)
        }
        "incidents" => {
            let mut spec = serde_json::json!({"title": one(&v, "title"), "severity": one(&v, "severity"),
                "started_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "affects": {"integrations": many(&v, "integrations")}});
            let owner = one(&v, "owner");
            if !owner.is_empty() {
                spec["owner"] = serde_json::json!(owner);
            }
            ("Incident", spec)
        }
        _ => return Err(ApiError::NotFound(format!("cannot record {kind} here")).into()),
    };
    if keel_store::documents::get(&state.store, kind, &name)
        .await?
        .is_some()
    {
        return render_changes(
            &state,
            &caller,
            vec![FieldError::new("name", format!("{name} already exists"))],
        )
        .await;
    }
    let document = serde_json::json!({"apiVersion": "keel/v1", "kind": kind, "metadata": {"name": name}, "spec": spec});
    match store_document(&state, &caller, kind, &name, &document, None).await {
        Ok(_) => Ok(Redirect::to("/catalog/changes").into_response()),
        Err(ApiError::Validation { errors, .. }) => render_changes(&state, &caller, errors).await,
        Err(e) => Err(e.into()),
    }
}
