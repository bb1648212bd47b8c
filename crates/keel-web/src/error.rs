//! The one error format of the HTTP API: RFC 9457 problem documents.
//!
//! Every failure a client can see is an [`ApiError`]; each variant has a stable `type` code and an
//! HTTP status, defined here once, and validation failures carry one entry per offending field.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where: a JSON path such as `roles[1]` or a query parameter name.
    pub field: String,
    /// What is wrong, in words a person can act on.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI-reference naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// Per-field problems, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For 409 on a state machine: what would have been allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

/// Everything that can go wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// Authenticated, but the role does not allow the action.
    #[error("your roles do not allow `{action}`")]
    Forbidden {
        /// The action that was refused.
        action: &'static str,
    },
    /// A cookie-authenticated write came without the session's CSRF token.
    #[error("missing or wrong CSRF token")]
    Csrf,
    /// Input did not parse (malformed JSON, wrong content type).
    #[error("{detail}")]
    BadRequest {
        /// What was wrong.
        detail: String,
        /// Where.
        errors: Vec<FieldError>,
    },
    /// Input parsed but is invalid.
    #[error("{detail}")]
    Validation {
        /// Summary.
        detail: String,
        /// Every invalid field.
        errors: Vec<FieldError>,
    },
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with the current state.
    #[error("{detail}")]
    Conflict {
        /// What conflicts.
        detail: String,
        /// What would have been allowed instead.
        allowed: Option<Vec<String>>,
    },
    /// The body is larger than allowed.
    #[error("request body is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Too many attempts.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Something failed on Keel's side.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A validation error listing every field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => format!("1 field is invalid: {}", errors[0].field),
            n => format!("{n} fields are invalid"),
        };
        ApiError::Validation { detail, errors }
    }

    /// The status code and stable problem type of this error.
    pub fn status_and_type(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ApiError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
            ApiError::Csrf => (StatusCode::FORBIDDEN, "csrf", "CSRF check failed"),
            ApiError::BadRequest { .. } => {
                (StatusCode::BAD_REQUEST, "bad-request", "Malformed request")
            }
            ApiError::Validation { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid input",
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::TooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Request too large",
            ),
            ApiError::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (status, kind, title) = self.status_and_type();
        let (errors, allowed) = match self {
            ApiError::BadRequest { errors, .. } | ApiError::Validation { errors, .. } => {
                (errors.clone(), None)
            }
            ApiError::Conflict { allowed, .. } => (Vec::new(), allowed.clone()),
            _ => (Vec::new(), None),
        };
        Problem {
            kind: format!("/problems/{kind}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            errors,
            allowed,
        }
    }
}

impl From<keel_store::StoreError> for ApiError {
    fn from(e: keel_store::StoreError) -> Self {
        use keel_store::StoreError as S;
        match e {
            S::NotFound { .. } => ApiError::NotFound(e.to_string()),
            S::Conflict(detail) => ApiError::Conflict {
                detail,
                allowed: None,
            },
            other if other.is_unique_violation() => ApiError::Conflict {
                detail: "this would duplicate an existing record".into(),
                allowed: None,
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            // The detail goes to the log, not to the client.
            tracing::error!("internal error: {detail}");
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::TooManyRequests { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        if matches!(self, ApiError::Unauthenticated) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"keel\""),
            );
        }
        response
    }
}

/// Result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
