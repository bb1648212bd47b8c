//! The REST API under `/api/v1`, one module per resource.
//!
//! Conventions, defined once here: JSON in and out; errors as problem documents (see
//! [`crate::error`]); lists take `limit` (1–200, default 50) and `offset` and return a [`Page`];
//! filters are plain query parameters named after the field they filter.

pub mod access;
pub mod attribution;
pub mod audit;
pub mod catalog;
pub mod checks;
pub mod contacts;
pub mod events;
pub mod ingest;
pub mod jobs;
pub mod ops;
pub mod privacy;
pub mod webhooks;
pub mod work;

use crate::AppState;
use crate::error::{ApiError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

/// Pagination parameters shared by every list endpoint.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    pub offset: Option<i64>,
}

impl PageQuery {
    /// The validated `(limit, offset)`.
    pub fn resolve(&self) -> Result<(i64, i64), ApiError> {
        let limit = self.limit.unwrap_or(50);
        let offset = self.offset.unwrap_or(0);
        let mut errors = Vec::new();
        if !(1..=200).contains(&limit) {
            errors.push(FieldError::new("limit", "must be between 1 and 200"));
        }
        if offset < 0 {
            errors.push(FieldError::new("offset", "must not be negative"));
        }
        if errors.is_empty() {
            Ok((limit, offset))
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: i64,
    /// The page size used.
    pub limit: i64,
    /// The offset used.
    pub offset: i64,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token created with `keel token create` or on the Tokens page.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "write_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("A source's write key as the user name, empty password (Segment convention)."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Browser session; writes also need the X-CSRF-Token header.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keel API",
        description = "Marketing operations run like a service organisation. Errors are RFC 9457 problem documents (application/problem+json).",
        license(name = "Apache-2.0")
    ),
    modifiers(&Security),
    security(("token" = []), ("session" = [])),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    tags(
        (name = "access", description = "Users, teams, roles and API tokens"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "jobs", description = "Background jobs"),
        (name = "notifications", description = "Outgoing webhooks (generic JSON or Slack)"),
        (name = "operations", description = "Health checks and metrics (no authentication)"),
        (name = "catalog", description = "The martech stack: tools, integrations, contracts, scorecards, audits, impact"),
        (name = "checks", description = "Pre-send email and pre-launch page checks"),
        (name = "events", description = "Event sources and ingested events"),
        (name = "contacts", description = "Contacts and accounts: imports, quarantine, duplicates, merges, hygiene, quality, segments, MQL hand-offs"),
        (name = "attribution", description = "Cost and opportunity imports, attribution results, journeys"),
        (name = "ingestion", description = "Segment-compatible tracking API (write-key authentication)"),
        (name = "privacy", description = "Consent ledger, suppressions, eligibility, subject requests, retention, tag registry"),
    )
)]
struct ApiDoc;

/// Every API route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(access::router())
        .merge(attribution::router())
        .merge(audit::router())
        .merge(jobs::router())
        .merge(events::router())
        .merge(catalog::router())
        .merge(checks::router())
        .merge(ingest::router())
        .merge(crate::metrics::router())
        .merge(webhooks::router())
        .merge(ops::router())
        .merge(work::router())
        .merge(privacy::router())
        .merge(contacts::router())
}
