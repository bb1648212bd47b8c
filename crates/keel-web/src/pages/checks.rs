//! The checks page: paste an email or a page, see findings next to rendered previews.

use crate::AppState;
use crate::api::checks::{CheckRequest, run_and_store};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::{PageCaller, PageResult};
use crate::render::Frame;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use base64::Engine;
use keel_policy::Action;
use keel_store::checks;
use serde::Serialize;

#[derive(Serialize)]
struct PreviewImage {
    name: String,
    src: String,
    display_width: u32,
}

/// Renders previews with headless Chromium when it is installed; none otherwise.
async fn previews(html: String) -> Vec<PreviewImage> {
    let browser = std::path::PathBuf::from(crate::api::checks::CHROMIUM);
    if !browser.exists() {
        return Vec::new();
    }
    tokio::task::spawn_blocking(move || {
        let dir = std::env::temp_dir().join(format!(
            "keel-preview-{}-{}",
            std::process::id(),
            keel_accounts::new_csrf_token()
        ));
        if std::fs::create_dir_all(&dir).is_err() {
            return Vec::new();
        }
        let page = dir.join("page.html");
        if std::fs::write(&page, html).is_err() {
            return Vec::new();
        }
        let url = format!("file://{}", page.display());
        let wanted = ["mobile", "mobile-dark", "desktop", "desktop-images-off"];
        let set: Vec<keel_preview::Preview> = keel_preview::Preview::standard_set()
            .into_iter()
            .filter(|p| wanted.contains(&p.name.as_str()))
            .collect();
        let shots: Vec<Option<PreviewImage>> = std::thread::scope(|scope| {
            let handles: Vec<_> = set
                .iter()
                .map(|p| {
                    let (browser, url, dir) = (&browser, &url, &dir);
                    scope.spawn(move || {
                        let shot = dir.join(format!("{}.png", p.name));
                        keel_preview::render(
                            browser,
                            url,
                            &shot,
                            p,
                            std::time::Duration::from_secs(20),
                        )
                        .ok()?;
                        let png = std::fs::read(&shot).ok()?;
                        Some(PreviewImage {
                            name: p.name.clone(),
                            src: format!(
                                "data:image/png;base64,{}",
                                base64::engine::general_purpose::STANDARD.encode(png)
                            ),
                            display_width: if p.width < 500 { 190 } else { 420 },
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect()
        });
        let _ = std::fs::remove_dir_all(&dir);
        shots.into_iter().flatten().collect()
    })
    .await
    .unwrap_or_default()
}

async fn render(
    state: &AppState,
    caller: &Caller,
    run: Option<checks::CheckRun>,
    previews: Vec<PreviewImage>,
    form: serde_json::Value,
    errors: Vec<crate::error::FieldError>,
) -> PageResult {
    let (runs, _) = checks::list(&state.store, 15, 0).await?;
    let runs: Vec<crate::api::checks::CheckRunOut> = runs.into_iter().map(Into::into).collect();
    let run: Option<crate::api::checks::CheckRunOut> = run.map(Into::into);
    // Accessibility findings are shown again next to the previews they were found in.
    let a11y: Vec<serde_json::Value> = run
        .as_ref()
        .and_then(|r| r.report.get("findings"))
        .and_then(serde_json::Value::as_array)
        .map(|all| {
            all.iter()
                .filter(|f| {
                    f.get("rule")
                        .and_then(serde_json::Value::as_str)
                        .is_some_and(|r| r.starts_with("a11y"))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let policies: Vec<String> = keel_store::documents::list(&state.store, Some("QualityPolicy"))
        .await?
        .into_iter()
        .map(|d| d.name)
        .collect();
    let mut frame = Frame::new(state, caller, "Email & page checks", "/checks");
    frame.errors = errors;
    Ok(state.pages.render("checks.html", minijinja::context! { runs, run, previews, a11y, policies, form, ..minijinja::Value::from_serialize(&frame) }))
}

async fn page(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    caller.require(&state, Action::ChecksRun)?;
    render(
        &state,
        &caller,
        None,
        Vec::new(),
        serde_json::json!({}),
        Vec::new(),
    )
    .await
}

async fn show(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
) -> PageResult {
    caller.require(&state, Action::ChecksRun)?;
    let run = checks::get(&state.store, id).await?;
    render(
        &state,
        &caller,
        Some(run),
        Vec::new(),
        serde_json::json!({}),
        Vec::new(),
    )
    .await
}

async fn submit(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::ChecksRun)?;
    let values: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |k: &str| {
        values
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let is_page = field("kind") == "page";
    let content = field("content");
    let a11y = field("a11y") == "on";
    let form = serde_json::json!({"kind": field("kind"), "name": field("name"), "content": content,
        "policy": field("policy"), "policy_name": field("policy_name"), "a11y": a11y, "submitted": true});
    let req = CheckRequest {
        name: Some(field("name")),
        content: content.clone(),
        policy: Some(field("policy")),
        policy_name: Some(field("policy_name")),
        a11y: a11y && std::path::Path::new(crate::api::checks::CHROMIUM).exists(),
    };
    match run_and_store(&state, &caller, is_page, req).await {
        Ok(run) => {
            let shots = if run.kind == "message" {
                Vec::new()
            } else {
                previews(content).await
            };
            render(&state, &caller, Some(run), shots, form, Vec::new()).await
        }
        Err(ApiError::Validation { errors, .. }) => {
            render(&state, &caller, None, Vec::new(), form, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/checks", get(page).post(submit))
        .route("/checks/{id}", get(show))
}
