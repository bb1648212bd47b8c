//! Who is calling, what they may do, and the checks every request passes.
//!
//! A caller is identified by a login-session cookie (HTTP-only, SameSite=Lax) or by an API token
//! (`Authorization: Bearer keel_…`). Every handler names the [`Action`] it performs and calls
//! [`Caller::require`], which asks the one permission table in `keel-policy`. Writes made with a
//! session cookie must carry the session's CSRF token, as the `X-CSRF-Token` header or, for HTML
//! forms, a `csrf_token` field (moved into the header by [`csrf_form_field`] before handlers run).

use crate::AppState;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use keel_accounts::Role;
use keel_policy::{Action, Principal};
use keel_store::Actor;
use keel_store::accounts::{self, UserWithRoles};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "keel_session";
/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A browser session, with its CSRF token.
    Session {
        /// The session's CSRF token, to embed in forms.
        csrf_token: String,
    },
    /// An API token.
    Token {
        /// The token's id.
        token_id: i64,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: UserWithRoles,
    /// Roles in effect (a token may be scoped to fewer than the user holds).
    pub roles: Vec<Role>,
    /// How they authenticated.
    pub credential: Credential,
}

impl Caller {
    /// The audit-log actor for changes this caller makes.
    pub fn actor(&self) -> Actor {
        match self.credential {
            Credential::Session { .. } => Actor::User(self.user.user.id),
            Credential::Token { token_id } => Actor::Token {
                token_id,
                user_id: self.user.user.id,
            },
        }
    }

    fn principal(&self) -> Principal {
        Principal {
            id: self.user.user.id.to_string(),
            roles: self.roles.clone(),
        }
    }

    /// Whether the caller may perform `action`.
    pub fn can(&self, state: &AppState, action: Action) -> bool {
        state.permissions.allows(&self.principal(), action)
    }

    /// Refuses with 403 unless the caller may perform `action`.
    pub fn require(&self, state: &AppState, action: Action) -> Result<(), ApiError> {
        if self.can(state, action) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                action: action.as_str(),
            })
        }
    }

    /// The CSRF token to embed in forms (empty for token callers, who need none).
    pub fn csrf_token(&self) -> &str {
        match &self.credential {
            Credential::Session { csrf_token } => csrf_token,
            Credential::Token { .. } => "",
        }
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Resolves the caller of a request, or `None` when there are no valid credentials.
pub async fn resolve_caller(state: &AppState, parts: &Parts) -> Result<Option<Caller>, ApiError> {
    if let Some(secret) = bearer(parts) {
        let Some(token) = accounts::token_by_secret(&state.store, &secret).await? else {
            return Err(ApiError::Unauthenticated);
        };
        let user = accounts::user(&state.store, token.user_id).await?;
        // A token never grants more than its owner currently holds.
        let roles = token
            .scope_roles()
            .into_iter()
            .filter(|r| user.roles.contains(r))
            .collect();
        return Ok(Some(Caller {
            user,
            roles,
            credential: Credential::Token { token_id: token.id },
        }));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = accounts::session(&state.store, cookie.value()).await? else {
        return Ok(None);
    };
    if is_write(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
            return Err(ApiError::Csrf);
        }
    }
    let user = accounts::user(&state.store, session.user_id).await?;
    Ok(Some(Caller {
        roles: user.roles.clone(),
        user,
        credential: Credential::Session {
            csrf_token: session.csrf_token,
        },
    }))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let caller = resolve_caller(state, parts)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// Largest HTML form body accepted.
pub const MAX_FORM_BODY: usize = 256 * 1024;

/// Middleware: for URL-encoded form posts, copies the `csrf_token` field into the CSRF header so
/// the one check in [`resolve_caller`] covers forms and API calls alike.
pub async fn csrf_form_field(req: Request, next: Next) -> Result<Response, ApiError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form || !is_write(req.method()) || req.headers().contains_key(CSRF_HEADER) {
        return Ok(next.run(req).await);
    }
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BODY)
        .await
        .map_err(|_| ApiError::TooLarge {
            limit: MAX_FORM_BODY,
        })?;
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.into_owned());
    if let Some(token) = token.and_then(|t| HeaderValue::from_str(&t).ok()) {
        parts.headers.insert(CSRF_HEADER, token);
    }
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// Limits failed sign-ins per e-mail and per client address, in memory.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Failed attempts allowed per key in [`LOGIN_WINDOW`].
pub const LOGIN_MAX_FAILURES: usize = 5;
/// The window over which failures are counted.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

impl LoginLimiter {
    /// Refuses with 429 if any key has used up its attempts.
    pub fn check(&self, keys: &[String]) -> Result<(), ApiError> {
        let Ok(mut map) = self.failures.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        for key in keys {
            if let Some(times) = map.get_mut(key) {
                times.retain(|t| now.duration_since(*t) < LOGIN_WINDOW);
                if times.len() >= LOGIN_MAX_FAILURES {
                    let oldest = times.first().copied().unwrap_or(now);
                    let wait = LOGIN_WINDOW.saturating_sub(now.duration_since(oldest));
                    return Err(ApiError::TooManyRequests {
                        retry_after_secs: wait.as_secs().max(1),
                    });
                }
            }
        }
        Ok(())
    }

    /// Records a failed attempt against every key.
    pub fn failed(&self, keys: &[String]) {
        if let Ok(mut map) = self.failures.lock() {
            for key in keys {
                map.entry(key.clone()).or_default().push(Instant::now());
            }
        }
    }

    /// Clears the e-mail's failures after a successful sign-in.
    pub fn succeeded(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

/// Extracts the client's address for rate limiting (the socket peer).
pub fn client_key(parts_or_req: &axum::http::Extensions) -> String {
    parts_or_req
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| format!("ip:{}", c.0.ip()))
        .unwrap_or_else(|| "ip:unknown".to_string())
}
