//! Request-body and query extraction that reports problems as problem documents naming the field.

use crate::error::{ApiError, FieldError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// The largest JSON body the API accepts (larger ones get 413).
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// A JSON body, deserialised with the path of any bad field reported.
#[derive(Debug, Clone)]
pub struct ValidJson<T>(pub T);

fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let message = inner.to_string();
    // Syntax errors are 400; well-formed JSON with wrong types or missing fields is 422.
    match inner.classify() {
        serde_json::error::Category::Data => ApiError::validation(vec![FieldError::new(
            if path == "." {
                "body".to_string()
            } else {
                path
            },
            message,
        )]),
        _ => ApiError::BadRequest {
            detail: format!("the body is not valid JSON: {message}"),
            errors: vec![FieldError::new("body", message)],
        },
    }
}

/// Parses JSON bytes into `T`, naming the field on error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(json_error)
}

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if !content_type.starts_with("application/json") && !content_type.contains("+json") {
            return Err(ApiError::BadRequest {
                detail: format!("expected Content-Type application/json, got `{content_type}`"),
                errors: vec![FieldError::new("Content-Type", "must be application/json")],
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge {
                    limit: MAX_JSON_BODY,
                }
            } else {
                ApiError::BadRequest {
                    detail: format!("could not read the body: {e}"),
                    errors: vec![],
                }
            }
        })?;
        parse_json(&bytes).map(ValidJson)
    }
}

/// Query parameters, with the offending parameter named on error.
#[derive(Debug, Clone)]
pub struct ValidQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ValidQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ValidQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                ApiError::validation(vec![FieldError::new(path, e.into_inner().to_string())])
            })
    }
}
