//! `/api/v1/webhooks`: where Keel sends notifications (renewal reminders, audit findings), as
//! generic JSON or Slack incoming-webhook payloads.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::ValidJson;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use keel_policy::Action;
use keel_store::notifications::{self, FORMATS, Webhook};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// An outgoing webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// URL posted to.
    pub url: String,
    /// `json` or `slack`.
    pub format: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookOut {
    fn from(w: Webhook) -> Self {
        WebhookOut {
            id: w.id,
            name: w.name,
            url: w.url,
            format: w.format,
            created_at: w.created_at,
        }
    }
}

/// A webhook to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Unique name.
    pub name: String,
    /// An http(s) URL, e.g. a Slack incoming-webhook URL.
    pub url: String,
    /// `json` (default) or `slack`.
    #[serde(default)]
    pub format: Option<String>,
}

/// List webhooks.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "notifications", responses((status = 200, body = Vec<WebhookOut>)))]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<WebhookOut>>> {
    caller.require(&state, Action::UsersManage)?;
    Ok(Json(
        notifications::webhooks(&state.store)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Add a webhook (admins).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "notifications", request_body = CreateWebhook,
    responses((status = 201, body = WebhookOut), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(input): ValidJson<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookOut>)> {
    caller.require(&state, Action::UsersManage)?;
    let mut errors = Vec::new();
    if input.name.trim().is_empty() {
        errors.push(FieldError::new("name", "must not be empty"));
    }
    let url = input.url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() < 10
        || url.contains(char::is_whitespace)
    {
        errors.push(FieldError::new("url", "must be an http:// or https:// URL"));
    }
    let format = input.format.unwrap_or_else(|| "json".into());
    if !FORMATS.contains(&format.as_str()) {
        errors.push(FieldError::new("format", "must be `json` or `slack`"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let hook =
        notifications::create_webhook(&state.store, &caller.actor(), &input.name, url, &format)
            .await?;
    Ok((StatusCode::CREATED, Json(hook.into())))
}

/// Remove a webhook (admins).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "notifications", params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(&state, Action::UsersManage)?;
    notifications::delete_webhook(&state.store, &caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
}
