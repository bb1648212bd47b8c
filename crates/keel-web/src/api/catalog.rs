//! `/api/v1/catalog`: the stack catalog's documents (create, read, update, delete, list by kind),
//! readiness scorecards, audits and impact analysis.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::{ValidJson, ValidQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keel_catalog::impact::{Graph, Node};
use keel_manifests::SourceFile;
use keel_policy::Action;
use keel_store::documents;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A catalog document, as in the ops-as-code files.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentBody {
    /// Always `keel/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Kind: Tool, Integration, Automation, Contract, UsageSnapshot, Person, Team, Dashboard, ChangeRecord, Incident.
    pub kind: String,
    /// `name` and optional labels, annotations, description.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// The kind's fields.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// Revision (read only; send it back in `If-Match`-style `expected_revision` to detect concurrent edits).
    #[serde(default, skip_deserializing)]
    pub revision: i64,
}

impl From<documents::Document> for DocumentBody {
    fn from(d: documents::Document) -> Self {
        DocumentBody {
            api_version: d.api_version,
            kind: d.kind,
            metadata: d.metadata.0,
            spec: d.spec.0,
            revision: d.revision,
        }
    }
}

/// Filters for the document list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KindQuery {
    /// Only this kind.
    pub kind: Option<String>,
}

/// List catalog documents.
#[utoipa::path(get, path = "/api/v1/catalog/documents", tag = "catalog", params(KindQuery), responses((status = 200, body = Vec<DocumentBody>)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<KindQuery>,
) -> ApiResult<Json<Vec<DocumentBody>>> {
    caller.require(&state, Action::CatalogRead)?;
    let docs = documents::list(&state.store, q.kind.as_deref()).await?;
    Ok(Json(docs.into_iter().map(DocumentBody::from).collect()))
}

/// Get one document.
#[utoipa::path(get, path = "/api/v1/catalog/documents/{kind}/{name}", tag = "catalog",
    params(("kind" = String, Path, description = "Kind"), ("name" = String, Path, description = "Name")),
    responses((status = 200, body = DocumentBody), (status = 404, body = crate::error::Problem)))]
async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, name)): Path<(String, String)>,
) -> ApiResult<Json<DocumentBody>> {
    caller.require(&state, Action::CatalogRead)?;
    let doc = documents::get(&state.store, &kind, &name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no {kind} named {name}")))?;
    Ok(Json(doc.into()))
}

/// A document to store.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PutBody {
    /// The document (apiVersion, kind, metadata, spec).
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    /// The revision you last read; the write is refused with 409 if it changed since.
    pub expected_revision: Option<i64>,
}

/// Create or replace a document. It is validated exactly as `keel check` validates files,
/// including references to other objects.
#[utoipa::path(put, path = "/api/v1/catalog/documents/{kind}/{name}", tag = "catalog",
    params(("kind" = String, Path, description = "Kind"), ("name" = String, Path, description = "Name")),
    request_body = PutBody,
    responses((status = 200, body = DocumentBody), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, name)): Path<(String, String)>,
    ValidJson(body): ValidJson<PutBody>,
) -> ApiResult<Json<DocumentBody>> {
    caller.require(&state, Action::CatalogWrite)?;
    let stored = store_document(
        &state,
        &caller,
        &kind,
        &name,
        &body.document,
        body.expected_revision,
    )
    .await?;
    Ok(Json(stored))
}

/// Validates a document exactly as `keel check` validates a file — schema, names, and references
/// to the rest of the running catalog — and stores it. Problems come back as 422 naming the
/// line, column and field of the submitted document.
pub async fn store_document(
    state: &AppState,
    caller: &Caller,
    kind: &str,
    name: &str,
    document: &serde_json::Value,
    expected_revision: Option<i64>,
) -> ApiResult<DocumentBody> {
    const SUBMITTED: &str = "document";
    let text =
        serde_json::to_string_pretty(document).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut files: Vec<SourceFile> = crate::ops::current_documents(&state.store)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .into_iter()
        .filter(|d| !(d.kind == kind && d.metadata.name == name))
        .map(|d| {
            SourceFile::new(
                format!("stored/{}/{}", d.kind, d.metadata.name),
                serde_json::to_string(&d).unwrap_or_default(),
            )
        })
        .collect();
    // JSON is YAML, so the submitted document goes through the file loader unchanged.
    files.push(SourceFile::new(SUBMITTED, text));
    let loaded = keel_manifests::load(&files, &crate::ops::registry());
    let errors: Vec<FieldError> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == keel_manifests::Severity::Error && d.location.file == SUBMITTED)
        .map(|d| {
            FieldError::new(
                format!("{SUBMITTED}:{}:{}", d.location.line, d.location.column),
                d.message.clone(),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let doc = loaded
        .documents()
        .into_iter()
        .find(|d| d.kind == kind && d.metadata.name == name)
        .ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "metadata.name",
                format!("the document is not {kind}/{name}"),
            )])
        })?;
    let stored = documents::put(
        &state.store,
        &caller.actor(),
        &crate::ops::desired(&doc),
        expected_revision,
    )
    .await?;
    Ok(stored.into())
}

/// Delete a document.
#[utoipa::path(delete, path = "/api/v1/catalog/documents/{kind}/{name}", tag = "catalog",
    params(("kind" = String, Path, description = "Kind"), ("name" = String, Path, description = "Name")),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(&state, Action::CatalogWrite)?;
    documents::delete(&state.store, &caller.actor(), &kind, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn catalog(state: &AppState) -> ApiResult<keel_catalog::Catalog> {
    crate::ops::catalog(&state.store)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Service readiness scorecards of every live tool.
#[utoipa::path(get, path = "/api/v1/catalog/scorecards", tag = "catalog", responses((status = 200, body = Object)))]
async fn scorecards(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&state, Action::CatalogRead)?;
    let c = catalog(&state).await?;
    Ok(Json(
        serde_json::to_value(keel_catalog::scorecard::scorecards(&c, today())).unwrap_or_default(),
    ))
}

/// Filters for audits.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditWindow {
    /// Days ahead to look for renewal notice deadlines (default 120).
    pub renewal_window_days: Option<i64>,
}

/// Every audit of the stack: owners, overlaps, seats, renewals, undocumented flows, DPAs.
#[utoipa::path(get, path = "/api/v1/catalog/audits", tag = "catalog", params(AuditWindow), responses((status = 200, body = Object)))]
async fn audits(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<AuditWindow>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&state, Action::CatalogRead)?;
    let c = catalog(&state).await?;
    Ok(Json(audit_report(&c, q.renewal_window_days.unwrap_or(120))))
}

/// All audits as one JSON report.
pub fn audit_report(c: &keel_catalog::Catalog, window: i64) -> serde_json::Value {
    use keel_catalog::audit as a;
    let t = today();
    serde_json::json!({
        "tools_without_active_owners": a::tools_without_active_owners(c),
        "capability_overlaps": a::capability_overlaps(c, t),
        "seat_usage": a::seat_usage(c, t),
        "renewals_due": a::renewals_due(c, t, window),
        "flows_without_owner_or_docs": a::flows_without_owner_or_docs(c),
        "pii_without_dpa": a::pii_without_dpa(c, t),
    })
}

/// What to analyse.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImpactQuery {
    /// A tool name.
    pub tool: Option<String>,
    /// A field as `tool.object.field`.
    pub field: Option<String>,
}

/// Everything downstream of a tool or field, with the path to each.
#[utoipa::path(get, path = "/api/v1/impact", tag = "catalog", params(ImpactQuery),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn impact(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<ImpactQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&state, Action::CatalogRead)?;
    let start = match (&q.tool, &q.field) {
        (Some(t), None) => Node::Tool(t.clone()),
        (None, Some(f)) => Node::Field(f.clone()),
        _ => {
            return Err(ApiError::validation(vec![FieldError::new(
                "tool",
                "give exactly one of `tool` or `field`",
            )]));
        }
    };
    let graph = Graph::build(&catalog(&state).await?);
    if !graph.contains(&start) {
        return Err(ApiError::NotFound(format!(
            "{start} is not in the stack graph"
        )));
    }
    let downstream = graph.downstream(&start);
    Ok(Json(
        serde_json::json!({"start": start, "impacted": downstream}),
    ))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get, put, delete))
        .routes(routes!(scorecards))
        .routes(routes!(audits))
        .routes(routes!(impact))
}
