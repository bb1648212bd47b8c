//! `/api/v1/jobs`: background jobs.

use crate::AppState;
use crate::api::{Page, PageQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::ValidQuery;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use keel_policy::Action;
use keel_store::jobs::{self, Job};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A background job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobOut {
    /// Id.
    pub id: i64,
    /// Kind of work.
    pub kind: String,
    /// Input.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// queued, running, succeeded, failed or cancelled.
    pub status: String,
    /// Not before.
    pub run_at: DateTime<Utc>,
    /// Attempts so far.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Last error.
    pub last_error: Option<String>,
    /// Schedule that enqueued it.
    pub schedule_name: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Job> for JobOut {
    fn from(j: Job) -> Self {
        JobOut {
            id: j.id,
            kind: j.kind,
            payload: j.payload.0,
            status: j.status,
            run_at: j.run_at,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
            schedule_name: j.schedule_name,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// Filters for the job list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only jobs in this status.
    pub status: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Offset.
    pub offset: Option<i64>,
}

const STATUSES: [&str; 5] = ["queued", "running", "succeeded", "failed", "cancelled"];

/// List jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobQuery), responses((status = 200, body = Page<JobOut>)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<JobQuery>,
) -> ApiResult<Json<Page<JobOut>>> {
    caller.require(&state, Action::JobsRead)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    if let Some(s) = &q.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "status",
            format!("must be one of {}", STATUSES.join(", ")),
        )]));
    }
    let (items, total) = jobs::list(&state.store, q.status.as_deref(), limit, offset).await?;
    Ok(Json(Page {
        items: items.into_iter().map(JobOut::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// Get one job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = JobOut), (status = 404, body = crate::error::Problem)))]
async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobOut>> {
    caller.require(&state, Action::JobsRead)?;
    Ok(Json(jobs::job(&state.store, id).await?.into()))
}

/// Run a failed or cancelled job again.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = JobOut), (status = 409, body = crate::error::Problem)))]
async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobOut>> {
    caller.require(&state, Action::JobsManage)?;
    let job = jobs::retry(&state.store, id).await?;
    record(&state, &caller, "retry", &job).await?;
    state.job_waker.notify_one();
    Ok(Json(job.into()))
}

/// Cancel a queued job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = JobOut), (status = 409, body = crate::error::Problem)))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobOut>> {
    caller.require(&state, Action::JobsManage)?;
    let job = jobs::cancel(&state.store, id).await?;
    record(&state, &caller, "cancel", &job).await?;
    Ok(Json(job.into()))
}

async fn record(state: &AppState, caller: &Caller, action: &str, job: &Job) -> ApiResult<()> {
    let mut tx = state.store.begin().await?;
    keel_store::audit::record(
        &mut tx,
        &caller.actor(),
        action,
        "job",
        job.id,
        None,
        Some(keel_store::audit::state(job)?),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(retry))
        .routes(routes!(cancel))
}
