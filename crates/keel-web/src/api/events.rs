//! `/api/v1/sources` and `/api/v1/events`: managing write keys and inspecting what arrived.

use crate::AppState;
use crate::api::{Page, PageQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::{ValidJson, ValidQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use keel_policy::Action;
use keel_store::events::{self, Source, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// An event source.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// First characters of the write key.
    pub write_key_prefix: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Events stored.
    pub events: i64,
    /// Rejected messages by reason.
    pub rejected: Vec<RejectCount>,
}

/// Rejected messages for one reason.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RejectCount {
    /// Reason code.
    pub reason: String,
    /// How many.
    pub count: i64,
}

/// A source with its event and reject counts.
pub async fn source_out(state: &AppState, s: Source) -> ApiResult<SourceOut> {
    let (_, total) = events::list_events(&state.store, s.id, 1, 0).await?;
    let rejected = events::reject_counts(&state.store, s.id)
        .await?
        .into_iter()
        .map(|(reason, count)| RejectCount { reason, count })
        .collect();
    Ok(SourceOut {
        id: s.id,
        name: s.name,
        write_key_prefix: s.write_key_prefix,
        created_at: s.created_at,
        events: total,
        rejected,
    })
}

/// List sources with their event and reject counts.
#[utoipa::path(get, path = "/api/v1/sources", tag = "events", responses((status = 200, body = Vec<SourceOut>)))]
async fn list_sources(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SourceOut>>> {
    caller.require(&state, Action::EventsRead)?;
    let mut out = Vec::new();
    for s in events::sources(&state.store).await? {
        out.push(source_out(&state, s).await?);
    }
    Ok(Json(out))
}

/// A source to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSource {
    /// Unique name, e.g. `website`.
    pub name: String,
}

/// A created source with its write key, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSource {
    /// The source.
    pub source: SourceOut,
    /// Give this to the client library as its write key.
    pub write_key: String,
}

/// Create a source and its write key (admins).
#[utoipa::path(post, path = "/api/v1/sources", tag = "events", request_body = CreateSource,
    responses((status = 201, body = CreatedSource), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn create_source(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(input): ValidJson<CreateSource>,
) -> ApiResult<(StatusCode, Json<CreatedSource>)> {
    caller.require(&state, Action::UsersManage)?;
    let name = input.name.trim();
    if name.is_empty()
        || name.len() > 100
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "name",
            "use 1–100 letters, digits, '-', '_' or '.'",
        )]));
    }
    let (source, write_key) = events::create_source(&state.store, &caller.actor(), name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedSource {
            source: source_out(&state, source).await?,
            write_key,
        }),
    ))
}

/// Filters for the event list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Source name.
    pub source: String,
    /// Page size.
    pub limit: Option<i64>,
    /// Offset.
    pub offset: Option<i64>,
}

/// A stored event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    /// Id.
    pub id: i64,
    /// The client's message id.
    pub message_id: String,
    /// Kind.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Event or page name.
    pub name: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// Anonymous id.
    pub anonymous_id: Option<String>,
    /// When it happened (corrected for client clock skew).
    pub timestamp: DateTime<Utc>,
    /// When Keel received it.
    pub received_at: DateTime<Utc>,
    /// Properties.
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
    /// Traits.
    #[schema(value_type = Object)]
    pub traits: serde_json::Value,
    /// Context.
    #[schema(value_type = Object)]
    pub context: serde_json::Value,
}

impl From<StoredEvent> for EventOut {
    fn from(e: StoredEvent) -> Self {
        EventOut {
            id: e.id,
            message_id: e.message_id,
            event_type: e.event_type,
            name: e.name,
            user_id: e.user_id,
            anonymous_id: e.anonymous_id,
            timestamp: e.timestamp,
            received_at: e.received_at,
            properties: e.properties.0,
            traits: e.traits.0,
            context: e.context.0,
        }
    }
}

/// List a source's stored events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventQuery),
    responses((status = 200, body = Page<EventOut>), (status = 404, body = crate::error::Problem)))]
async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<EventQuery>,
) -> ApiResult<Json<Page<EventOut>>> {
    caller.require(&state, Action::EventsRead)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let source = events::source_by_name(&state.store, &q.source)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no source named {}", q.source)))?;
    let (items, total) = events::list_events(&state.store, source.id, limit, offset).await?;
    Ok(Json(Page {
        items: items.into_iter().map(EventOut::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sources, create_source))
        .routes(routes!(list_events))
}
