//! `/api/v1/checks`: run the email and landing-page checks and keep the results.

use crate::AppState;
use crate::api::{Page, PageQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::{ValidJson, ValidQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use keel_checks::{Policy, Report, Severity};
use keel_policy::Action;
use keel_store::checks::{self, CheckRun, NewCheckRun};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// A label for the run (e.g. the template's file name).
    #[serde(default)]
    pub name: Option<String>,
    /// The HTML (or, for email, a whole RFC 5322 message with headers).
    pub content: String,
    /// A `QualityPolicy` document in YAML; Keel's defaults when absent.
    #[serde(default)]
    pub policy: Option<String>,
    /// The name of a stored `QualityPolicy` document (ops-as-code) to check with, instead of
    /// `policy`.
    #[serde(default)]
    pub policy_name: Option<String>,
    /// Also render the HTML in headless Chromium and run axe-core in it (`a11y.*` findings).
    /// Needs Chromium on the server; not available for whole messages.
    #[serde(default)]
    pub a11y: bool,
}

/// The Chromium binary used for previews and accessibility checks.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The policy of a request: inline YAML, a stored `QualityPolicy` by name, or the defaults.
async fn request_policy(state: &AppState, req: &CheckRequest) -> ApiResult<Policy> {
    let yaml = req.policy.as_deref().filter(|p| !p.trim().is_empty());
    let name = req
        .policy_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    match (yaml, name) {
        (Some(_), Some(_)) => Err(ApiError::validation(vec![
            FieldError::new(
                "policy",
                "give either an inline policy or a policy name, not both",
            ),
            FieldError::new(
                "policy_name",
                "give either an inline policy or a policy name, not both",
            ),
        ])),
        (Some(yaml), None) => Policy::from_yaml(yaml).map_err(|problems| {
            ApiError::validation(
                problems
                    .into_iter()
                    .map(|p| FieldError::new(format!("policy.{}", p.path), p.message))
                    .collect(),
            )
        }),
        (None, Some(name)) => {
            let Some(doc) = keel_store::documents::get(&state.store, "QualityPolicy", name).await?
            else {
                return Err(ApiError::validation(vec![FieldError::new(
                    "policy_name",
                    format!("no stored QualityPolicy named `{name}`"),
                )]));
            };
            let invalid = |message: String| {
                ApiError::validation(vec![FieldError::new(
                    "policy_name",
                    format!("the stored QualityPolicy `{name}` is not usable: {message}"),
                )])
            };
            let spec: keel_checks::QualityPolicy =
                serde_json::from_value(doc.spec.0).map_err(|e| invalid(e.to_string()))?;
            Policy::new(spec).map_err(|problems| {
                invalid(
                    problems
                        .iter()
                        .map(|p| format!("{}: {}", p.path, p.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })
        }
        (None, None) => Ok(Policy::default()),
    }
}

/// A stored run with its findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckRunOut {
    /// Id.
    pub id: i64,
    /// `email`, `message` or `page`.
    pub kind: String,
    /// Label.
    pub name: String,
    /// Error-level findings (a launch should require zero).
    pub errors: i64,
    /// Warnings.
    pub warnings: i64,
    /// Infos.
    pub infos: i64,
    /// The report: findings with rule, severity, location, why and how to fix.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// Who ran it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<CheckRun> for CheckRunOut {
    fn from(r: CheckRun) -> Self {
        CheckRunOut {
            id: r.id,
            kind: r.kind,
            name: r.name,
            errors: r.errors,
            warnings: r.warnings,
            infos: r.infos,
            report: r.report.0,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// Largest document the checks accept through the API (the engine itself copes with more).
pub const MAX_CHECK_BYTES: usize = 900 * 1024;

/// Runs a check off the async threads and stores the run.
pub async fn run_and_store(
    state: &AppState,
    caller: &Caller,
    page: bool,
    req: CheckRequest,
) -> ApiResult<CheckRun> {
    if req.content.len() > MAX_CHECK_BYTES {
        return Err(ApiError::validation(vec![FieldError::new(
            "content",
            format!(
                "is {} bytes; the limit is {MAX_CHECK_BYTES}",
                req.content.len()
            ),
        )]));
    }
    let policy = request_policy(state, &req).await?;
    let browser = std::path::PathBuf::from(CHROMIUM);
    if req.a11y && !browser.exists() {
        return Err(ApiError::validation(vec![FieldError::new(
            "a11y",
            format!("accessibility checks need Chromium, which is not installed at {CHROMIUM}"),
        )]));
    }
    let a11y = req.a11y;
    let content = req.content.into_bytes();
    let (kind, report): (&str, Report) = tokio::task::spawn_blocking(move || {
        let (kind, mut report) = if page {
            ("page", keel_checks::check_page(&content, &policy))
        } else if keel_checks::looks_like_message(&content) {
            ("message", keel_checks::check_message(&content, &policy))
        } else {
            ("email", keel_checks::check_email(&content, &policy))
        };
        if a11y && kind != "message" {
            let (target, width) = if page {
                (keel_checks::axe::Target::Page, 1280)
            } else {
                (keel_checks::axe::Target::Email, 600)
            };
            let options = keel_checks::axe::run_options(target);
            let limit = std::time::Duration::from_secs(90);
            match keel_preview::accessibility(&browser, &content, &options, width, limit)
                .map_err(|e| e.to_string())
                .and_then(|json| keel_checks::axe::parse_results(&json).map_err(|e| e.to_string()))
            {
                Ok(violations) => {
                    report.extend(keel_checks::axe::findings(&content, &violations, &policy))
                }
                // The other findings still stand; say that this part is missing.
                Err(e) => report.extend([keel_checks::Finding::new(
                    &keel_checks::rules::A11Y,
                    format!("the accessibility check could not run: {e}"),
                )]),
            }
        }
        (kind, report)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let run = NewCheckRun {
        kind: kind.to_string(),
        name: req
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("pasted {kind}")),
        errors: report.count(Severity::Error) as i64,
        warnings: report.count(Severity::Warning) as i64,
        infos: report.count(Severity::Info) as i64,
        report: serde_json::to_value(&report).map_err(|e| ApiError::Internal(e.to_string()))?,
    };
    Ok(checks::record(&state.store, &caller.actor(), &run).await?)
}

/// Check an email (HTML or a whole .eml message).
#[utoipa::path(post, path = "/api/v1/checks/email", tag = "checks", request_body = CheckRequest,
    responses((status = 201, body = CheckRunOut), (status = 422, body = crate::error::Problem)))]
async fn check_email(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(req): ValidJson<CheckRequest>,
) -> ApiResult<(StatusCode, Json<CheckRunOut>)> {
    caller.require(&state, Action::ChecksRun)?;
    Ok((
        StatusCode::CREATED,
        Json(run_and_store(&state, &caller, false, req).await?.into()),
    ))
}

/// Check a landing page's HTML.
#[utoipa::path(post, path = "/api/v1/checks/page", tag = "checks", request_body = CheckRequest,
    responses((status = 201, body = CheckRunOut), (status = 422, body = crate::error::Problem)))]
async fn check_page(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(req): ValidJson<CheckRequest>,
) -> ApiResult<(StatusCode, Json<CheckRunOut>)> {
    caller.require(&state, Action::ChecksRun)?;
    Ok((
        StatusCode::CREATED,
        Json(run_and_store(&state, &caller, true, req).await?.into()),
    ))
}

/// List check runs, newest first.
#[utoipa::path(get, path = "/api/v1/checks", tag = "checks", params(PageQuery), responses((status = 200, body = Page<CheckRunOut>)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<Json<Page<CheckRunOut>>> {
    caller.require(&state, Action::ChecksRun)?;
    let (limit, offset) = q.resolve()?;
    let (runs, total) = checks::list(&state.store, limit, offset).await?;
    Ok(Json(Page {
        items: runs.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    }))
}

/// Get one check run.
#[utoipa::path(get, path = "/api/v1/checks/{id}", tag = "checks", params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = CheckRunOut), (status = 404, body = crate::error::Problem)))]
async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CheckRunOut>> {
    caller.require(&state, Action::ChecksRun)?;
    Ok(Json(checks::get(&state.store, id).await?.into()))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check_email))
        .routes(routes!(check_page))
        .routes(routes!(list))
        .routes(routes!(get))
}
