//! Server-rendered pages. Each handler authenticates with [`PageCaller`] (which sends anonymous
//! visitors to the sign-in page), checks its action, and renders a template in the layout.

mod admin;
mod attribution;
mod catalog;
mod checks;
mod contacts;
mod events;
pub mod privacy;
mod session;
mod work;

use crate::AppState;
use crate::auth::{Caller, resolve_caller};
use crate::error::ApiError;
use crate::render::Frame;
use axum::Router;
use axum::extract::{FromRequestParts, OriginalUri, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use keel_policy::Action;
use keel_store::accounts;
use keel_store::jobs;
use serde::Serialize;

/// A signed-in caller on a page; anonymous visitors are redirected to `/login?next=…`.
#[derive(Debug, Clone)]
pub struct PageCaller(pub Caller);

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page.
    SignIn(String),
    /// Any other error, shown as an error page.
    Api(ApiError),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}

impl From<keel_store::StoreError> for PageError {
    fn from(e: keel_store::StoreError) -> Self {
        PageError::Api(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn(next) => {
                let target = format!(
                    "/login?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                Redirect::to(&target).into_response()
            }
            PageError::Api(e) => {
                let problem = e.problem();
                let status = StatusCode::from_u16(problem.status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let detail = if status.is_server_error() {
                    "Something went wrong on Keel's side; it has been logged.".to_string()
                } else {
                    problem.detail
                };
                let body = ERROR_PAGE
                    .replace("{title}", &html_escape(&problem.title))
                    .replace("{detail}", &html_escape(&detail));
                (
                    status,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    body,
                )
                    .into_response()
            }
        }
    }
}

const ERROR_PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · Keel</title><link rel="stylesheet" href="/static/keel.css"></head><body><main class="login-wrap" id="content"><div class="panel login"><h1 style="text-align:center;font-size:1.3rem">{title}</h1><p style="text-align:center" class="muted">{detail}</p><p style="text-align:center"><a class="button secondary" href="/">Back to Keel</a></p></div></main></body></html>"#;

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into());
        match resolve_caller(state, parts).await? {
            Some(caller) => Ok(PageCaller(caller)),
            None => Err(PageError::SignIn(next)),
        }
    }
}

/// Result of page handlers.
pub type PageResult = Result<Response, PageError>;

#[derive(Serialize)]
struct HomeStats {
    users: i64,
    active_users: i64,
    teams: usize,
    jobs_total: i64,
    jobs_failed: i64,
    audit_entries: u64,
    audit_intact: bool,
}

async fn home(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    caller.require(&state, Action::MeRead)?;
    let (users, total_users) = accounts::list_users(&state.store, None, 200, 0).await?;
    let teams = accounts::list_teams(&state.store).await?;
    let job_counts = jobs::counts(&state.store).await?;
    let verification = keel_store::audit::verify(&state.store).await?;
    let stats = HomeStats {
        users: total_users,
        active_users: users.iter().filter(|u| u.user.active).count() as i64,
        teams: teams.len(),
        jobs_total: job_counts.iter().map(|(_, n)| n).sum(),
        jobs_failed: job_counts
            .iter()
            .filter(|(s, _)| s == "failed")
            .map(|(_, n)| n)
            .sum(),
        audit_entries: verification.checked,
        audit_intact: verification.error.is_none(),
    };
    let mut role_counts: Vec<(String, f64)> = keel_accounts::Role::ALL
        .iter()
        .map(|r| {
            (
                r.label().to_string(),
                users.iter().filter(|u| u.roles.contains(r)).count() as f64,
            )
        })
        .collect();
    role_counts.retain(|(_, n)| *n > 0.0);
    let charts = serde_json::json!({
        "jobs": crate::pages::charts::bars("Jobs by status", &job_counts.iter().map(|(s, n)| (s.clone(), *n as f64)).collect::<Vec<_>>()),
        "roles": crate::pages::charts::bars("People by role", &role_counts),
    });
    let frame = Frame::new(&state, &caller, "Overview", "/");
    Ok(state.pages.render(
        "home.html",
        minijinja::context! { stats, teams, charts, ..minijinja::Value::from_serialize(&frame) },
    ))
}

pub mod charts;

/// Reads a URL-encoded form body, keeping repeated fields (`roles=a&roles=b`), which `axum::Form`
/// cannot.
pub fn form_values(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The first value of a form field, trimmed (empty when absent).
pub fn field(values: &[(String, String)], name: &str) -> String {
    values
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// Every value of a repeated form field.
pub fn fields(values: &[(String, String)], name: &str) -> Vec<String> {
    values
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// Fallback for unknown paths: a problem document under `/api`, a page elsewhere.
pub async fn not_found(State(state): State<AppState>, OriginalUri(uri): OriginalUri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::NotFound(format!("no endpoint at {}", uri.path())).into_response();
    }
    state.pages.error(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address.",
    )
}

const CSS: &str = include_str!("../../static/keel.css");
const LOGO: &str = include_str!("../../static/keel.svg");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn logo() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        LOGO,
    )
        .into_response()
}

/// Every page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/keel.css", get(stylesheet))
        .route("/static/keel.svg", get(logo))
        .merge(session::router())
        .merge(admin::router())
        .merge(events::router())
        .merge(attribution::router())
        .merge(catalog::router())
        .merge(checks::router())
        .merge(work::router())
        .merge(privacy::router())
        .merge(contacts::router())
}
