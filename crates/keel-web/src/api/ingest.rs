//! The Segment-compatible tracking API: `POST /v1/{identify,track,page,screen,group,alias,batch}`
//! and analytics.js's short paths (`/v1/i`, `/v1/t`, … `/v1/b`).
//!
//! Existing Segment and RudderStack client libraries send here by changing only their host. A
//! write key (HTTP Basic user name, or `writeKey` in the body) selects the source. Bodies may be
//! gzip-compressed and sent as `text/plain` (browsers avoid a CORS preflight that way). Success is
//! always `200 {"success": true}` — some clients treat any other 2xx as a failure — and is only
//! sent once the events are committed to the database. Repeated `messageId`s are stored once.

use crate::AppState;
use crate::error::{ApiError, ApiResult, FieldError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use base64::Engine;
use keel_events::{EventType, MAX_BATCH_BYTES, Rejection, parse_batch, parse_message};
use keel_store::events::{self, RejectedEvent};
use serde::Serialize;
use std::io::Read;
use tower_http::cors::{Any, CorsLayer};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What the tracking API answers on success.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResult {
    /// Always true on 200.
    pub success: bool,
    /// Messages newly stored (repeats of a stored `messageId` are not counted).
    pub stored: u64,
    /// Messages refused and kept in quarantine with their reason.
    pub rejected: usize,
}

fn bad(detail: impl Into<String>, field: &str) -> ApiError {
    let detail = detail.into();
    ApiError::BadRequest {
        errors: vec![FieldError::new(field, detail.clone())],
        detail,
    }
}

fn decode_body(headers: &HeaderMap, body: Bytes) -> ApiResult<Vec<u8>> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gzip {
        if body.len() > MAX_BATCH_BYTES {
            return Err(ApiError::TooLarge {
                limit: MAX_BATCH_BYTES,
            });
        }
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    // Read one byte past the limit so an oversize body is detected without inflating it all.
    flate2::read::GzDecoder::new(&body[..])
        .take(MAX_BATCH_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(format!("the body is not valid gzip: {e}"), "body"))?;
    if out.len() > MAX_BATCH_BYTES {
        return Err(ApiError::TooLarge {
            limit: MAX_BATCH_BYTES,
        });
    }
    Ok(out)
}

fn write_key(headers: &HeaderMap, body: &serde_json::Value) -> Option<String> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .map(|user_pass| user_pass.split(':').next().unwrap_or("").to_string())
        .filter(|k| !k.is_empty());
    from_header.or_else(|| {
        body.get("writeKey")
            .and_then(|k| k.as_str())
            .map(str::to_string)
    })
}

fn rejected(payload: &serde_json::Value, r: &Rejection) -> RejectedEvent {
    RejectedEvent {
        reason: r.code().to_string(),
        detail: r.to_string(),
        payload: payload.to_string(),
    }
}

/// Receive one message or a batch, as the Segment HTTP Tracking API does.
#[utoipa::path(post, path = "/v1/{kind}", tag = "ingestion",
    params(("kind" = String, Path, description = "identify, track, page, screen, group, alias, batch, import, or a short form i, t, p, s, g, a, b")),
    request_body(content = Object, description = "A Segment-spec message, or {\"batch\": [...]}", content_type = "application/json"),
    security(("write_key" = [])),
    responses((status = 200, body = IngestResult), (status = 400, body = crate::error::Problem),
        (status = 401, body = crate::error::Problem), (status = 413, body = crate::error::Problem)))]
async fn ingest(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<IngestResult>> {
    let raw = decode_body(&headers, body)?;
    let value: serde_json::Value = serde_json::from_slice(&raw)
        .map_err(|e| bad(format!("the body is not valid JSON: {e}"), "body"))?;
    let key = write_key(&headers, &value).ok_or(ApiError::Unauthenticated)?;
    let source = events::source_by_write_key(&state.store, &key)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let received_at = chrono::Utc::now();
    let (accepted, rejects) = match kind.as_str() {
        "batch" | "b" | "import" => {
            let parsed =
                parse_batch(&value, received_at).map_err(|r| bad(r.to_string(), "batch"))?;
            let rejects: Vec<RejectedEvent> = parsed
                .rejected
                .iter()
                .map(|(_, v, r)| rejected(v, r))
                .collect();
            (parsed.accepted, rejects)
        }
        other => {
            let Some(event_type) = EventType::from_path(other) else {
                return Err(ApiError::NotFound(format!(
                    "no tracking endpoint /v1/{other}"
                )));
            };
            match parse_message(&value, Some(event_type), None, received_at) {
                Ok(e) => (vec![e], Vec::new()),
                Err(r) => {
                    // A single bad message is refused, but kept with its reason.
                    events::ingest(&state.store, source.id, &[], &[rejected(&value, &r)]).await?;
                    return Err(bad(r.to_string(), r.code()));
                }
            }
        }
    };
    let stored = events::ingest(&state.store, source.id, &accepted, &rejects).await?;
    crate::api::privacy::record_gpc_from_events(&state, &headers, &accepted).await;
    Ok(Json(IngestResult {
        success: true,
        stored,
        rejected: rejects.len(),
    }))
}

/// Routes of this module, open to any origin (browsers send from customers' sites).
pub fn router() -> OpenApiRouter<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([axum::http::Method::POST, axum::http::Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::CONTENT_ENCODING,
        ])
        .max_age(std::time::Duration::from_secs(86_400));
    OpenApiRouter::new().routes(routes!(ingest)).layer(cors)
}
