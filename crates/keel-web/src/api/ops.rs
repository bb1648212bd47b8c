//! `/api/v1/ops`: ops as code against a running Keel — the same plan, apply and export as the
//! CLI does against a database, for `keel plan|apply|export --server URL --token T`.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::ValidJson;
use axum::Json;
use axum::extract::State;
use keel_manifests::{Document, Plan, SourceFile};
use keel_policy::Action;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The desired state: every document of an ops-as-code directory.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesiredState {
    /// Documents as in the files (apiVersion, kind, metadata, spec).
    #[schema(value_type = Vec<Object>)]
    pub documents: Vec<serde_json::Value>,
    /// Why (recorded with the change when applying).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Checks submitted documents exactly as `keel check` checks files.
fn check(documents: &[serde_json::Value]) -> ApiResult<Vec<Document>> {
    let files: Vec<SourceFile> = documents
        .iter()
        .enumerate()
        .map(|(i, d)| {
            SourceFile::new(
                format!("documents[{i}]"),
                serde_json::to_string_pretty(d).unwrap_or_default(),
            )
        })
        .collect();
    let loaded = keel_manifests::load(&files, &crate::ops::registry());
    let errors: Vec<FieldError> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == keel_manifests::Severity::Error)
        .map(|d| {
            FieldError::new(
                format!(
                    "{}:{}:{}",
                    d.location.file, d.location.line, d.location.column
                ),
                d.message.clone(),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(loaded.documents())
    } else {
        Err(ApiError::validation(errors))
    }
}

async fn plan_for(state: &AppState, documents: &[serde_json::Value]) -> ApiResult<Plan> {
    let desired = check(documents)?;
    let current = crate::ops::current_documents(&state.store)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(keel_manifests::plan(&current, &desired))
}

/// What would change to make the running state match the documents.
#[utoipa::path(post, path = "/api/v1/ops/plan", tag = "catalog", request_body = DesiredState,
    responses((status = 200, body = Object), (status = 422, body = crate::error::Problem)))]
async fn plan(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(input): ValidJson<DesiredState>,
) -> ApiResult<Json<Plan>> {
    caller.require(&state, Action::CatalogRead)?;
    Ok(Json(plan_for(&state, &input.documents).await?))
}

/// The outcome of an apply.
#[derive(Debug, Serialize, ToSchema)]
pub struct Applied {
    /// What was changed.
    #[schema(value_type = Object)]
    pub plan: Plan,
    /// How many objects changed.
    pub changes: usize,
}

/// Make the running state match the documents, as one recorded change.
#[utoipa::path(post, path = "/api/v1/ops/apply", tag = "catalog", request_body = DesiredState,
    responses((status = 200, body = Applied), (status = 422, body = crate::error::Problem)))]
async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(input): ValidJson<DesiredState>,
) -> ApiResult<Json<Applied>> {
    caller.require(&state, Action::CatalogWrite)?;
    let plan = plan_for(&state, &input.documents).await?;
    let reason = input
        .reason
        .unwrap_or_else(|| "applied through the API".into());
    let changes = crate::ops::apply_plan(&state.store, &caller.actor(), &plan, &reason)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(Applied { plan, changes }))
}

/// Every document of the running state.
#[utoipa::path(get, path = "/api/v1/ops/export", tag = "catalog", responses((status = 200, body = Vec<Object>)))]
async fn export(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Document>>> {
    caller.require(&state, Action::CatalogRead)?;
    Ok(Json(
        crate::ops::current_documents(&state.store)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(plan))
        .routes(routes!(apply))
        .routes(routes!(export))
}
