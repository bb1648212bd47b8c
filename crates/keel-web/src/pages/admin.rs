//! Admin pages: people, API tokens, jobs and the audit log.

use crate::AppState;
use crate::api::access::{CreateUser, validate_new_user, validate_token_request};
use crate::error::{ApiError, FieldError};
use crate::pages::{PageCaller, PageResult, field, fields, form_values};
use crate::render::Frame;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use keel_accounts::{Role, new_api_token};
use keel_policy::Action;
use keel_store::accounts::{self, UserChanges};
use keel_store::audit::{self, AuditFilter};
use keel_store::jobs;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
struct UsersQuery {
    q: Option<String>,
    done: Option<String>,
}

#[derive(Serialize, Default)]
struct UserForm {
    name: String,
    email: String,
    roles: Vec<String>,
}

#[derive(Serialize)]
struct RoleOption {
    name: &'static str,
    label: &'static str,
}

async fn render_users(
    state: &AppState,
    caller: &crate::auth::Caller,
    q: Option<String>,
    notice: Option<String>,
    errors: Vec<FieldError>,
    form: UserForm,
) -> PageResult {
    let (users, total) = accounts::list_users(&state.store, q.as_deref(), 200, 0).await?;
    let users: Vec<crate::api::access::UserOut> = users.into_iter().map(Into::into).collect();
    let mut frame = Frame::new(state, caller, "People", "/admin/users");
    frame.notice = notice;
    frame.errors = errors;
    let all_roles: Vec<RoleOption> = Role::ALL
        .iter()
        .map(|r| RoleOption {
            name: r.as_str(),
            label: r.label(),
        })
        .collect();
    Ok(state.pages.render(
        "users.html",
        minijinja::context! { users, total, q => q.unwrap_or_default(), all_roles, form, ..minijinja::Value::from_serialize(&frame) }))
}

async fn users_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<UsersQuery>,
) -> PageResult {
    caller.require(&state, Action::UsersManage)?;
    let notice = match q.done.as_deref() {
        Some("created") => Some("Person added.".to_string()),
        Some("updated") => Some("Person updated.".to_string()),
        _ => None,
    };
    render_users(
        &state,
        &caller,
        q.q,
        notice,
        Vec::new(),
        UserForm::default(),
    )
    .await
}

async fn create_user(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::UsersManage)?;
    let values = form_values(&body);
    // Passwords are taken exactly as typed, spaces included.
    let password = fields(&values, "password")
        .into_iter()
        .next()
        .unwrap_or_default();
    let input = CreateUser {
        email: field(&values, "email").to_string(),
        name: field(&values, "name").to_string(),
        roles: fields(&values, "roles"),
        password: (!password.is_empty()).then(|| password.to_string()),
    };
    let form = UserForm {
        name: input.name.clone(),
        email: input.email.clone(),
        roles: input.roles.clone(),
    };
    let result = match validate_new_user(&input) {
        Ok(new) => accounts::create_user(&state.store, &caller.actor(), &new)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/users?done=created").into_response()),
        Err(ApiError::Validation { errors, .. }) => {
            render_users(&state, &caller, None, None, errors, form).await
        }
        Err(ApiError::Conflict { detail, .. }) => {
            render_users(
                &state,
                &caller,
                None,
                None,
                vec![FieldError::new("email", detail)],
                form,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_active(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::UsersManage)?;
    let values = form_values(&body);
    let active = field(&values, "active") == "true";
    if id == caller.user.user.id && !active {
        return Err(ApiError::validation(vec![FieldError::new(
            "active",
            "you cannot deactivate yourself",
        )])
        .into());
    }
    accounts::update_user(
        &state.store,
        &caller.actor(),
        id,
        &UserChanges {
            active: Some(active),
            ..Default::default()
        },
    )
    .await?;
    Ok(Redirect::to("/admin/users?done=updated").into_response())
}

#[derive(Serialize)]
struct CreatedSecret {
    label: String,
    secret: String,
}

#[derive(Debug, Default, Deserialize)]
struct TokensQuery {
    all: Option<bool>,
    done: Option<String>,
}

async fn render_tokens(
    state: &AppState,
    caller: &crate::auth::Caller,
    all: bool,
    created: Option<CreatedSecret>,
    notice: Option<String>,
    errors: Vec<FieldError>,
) -> PageResult {
    let all = all && caller.can(state, Action::UsersManage);
    let tokens = accounts::list_tokens(&state.store, (!all).then_some(caller.user.user.id)).await?;
    let tokens: Vec<crate::api::access::TokenOut> = tokens.into_iter().map(Into::into).collect();
    let mut frame = Frame::new(state, caller, "API tokens", "/admin/tokens");
    frame.notice = notice;
    frame.errors = errors;
    let my_roles: Vec<&str> = caller.roles.iter().map(|r| r.as_str()).collect();
    Ok(state.pages.render(
        "tokens.html",
        minijinja::context! { tokens, created, all, my_roles, ..minijinja::Value::from_serialize(&frame) }))
}

async fn tokens_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<TokensQuery>,
) -> PageResult {
    caller.require(&state, Action::TokensManageOwn)?;
    let notice = (q.done.as_deref() == Some("revoked")).then(|| "Token revoked.".to_string());
    render_tokens(
        &state,
        &caller,
        q.all.unwrap_or(false),
        None,
        notice,
        Vec::new(),
    )
    .await
}

async fn create_token(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    body: axum::body::Bytes,
) -> PageResult {
    caller.require(&state, Action::TokensManageOwn)?;
    let values = form_values(&body);
    let label = field(&values, "label").to_string();
    let scopes = fields(&values, "scopes");
    match validate_token_request(&caller.roles, &label, Some(&scopes)) {
        Ok(scopes) => {
            let secret = new_api_token();
            accounts::create_token(
                &state.store,
                &caller.actor(),
                caller.user.user.id,
                &label,
                &scopes,
                &secret,
            )
            .await?;
            let created = CreatedSecret {
                label,
                secret: secret.secret,
            };
            render_tokens(&state, &caller, false, Some(created), None, Vec::new()).await
        }
        Err(ApiError::Validation { errors, .. }) => {
            render_tokens(&state, &caller, false, None, None, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
) -> PageResult {
    caller.require(&state, Action::TokensManageOwn)?;
    let token = accounts::token(&state.store, id).await?;
    if token.user_id != caller.user.user.id {
        caller.require(&state, Action::UsersManage)?;
    }
    accounts::revoke_token(&state.store, &caller.actor(), id).await?;
    Ok(Redirect::to("/admin/tokens?done=revoked").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct JobsQuery {
    status: Option<String>,
    done: Option<String>,
}

#[derive(Serialize)]
struct ScheduleOut {
    name: String,
    kind: String,
    every: String,
    next_run_at: String,
}

fn human_interval(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

async fn jobs_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<JobsQuery>,
) -> PageResult {
    caller.require(&state, Action::JobsRead)?;
    let status = q.status.filter(|s| !s.is_empty());
    let (list, _) = jobs::list(&state.store, status.as_deref(), 100, 0).await?;
    let list: Vec<crate::api::jobs::JobOut> = list.into_iter().map(Into::into).collect();
    let counts = jobs::counts(&state.store).await?;
    let schedules: Vec<ScheduleOut> = jobs::schedules(&state.store)
        .await?
        .into_iter()
        .map(|s| ScheduleOut {
            name: s.name,
            kind: s.kind,
            every: human_interval(s.every_seconds),
            next_run_at: s.next_run_at.to_rfc3339(),
        })
        .collect();
    let mut frame = Frame::new(&state, &caller, "Jobs", "/admin/jobs");
    frame.notice =
        (q.done.as_deref() == Some("retried")).then(|| "Job queued to run again.".to_string());
    let statuses = ["queued", "running", "succeeded", "failed", "cancelled"];
    Ok(state.pages.render(
        "jobs.html",
        minijinja::context! { jobs => list, counts, schedules, statuses, status => status.unwrap_or_default(),
            can_manage => caller.can(&state, Action::JobsManage), ..minijinja::Value::from_serialize(&frame) }))
}

async fn retry_job(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
) -> PageResult {
    caller.require(&state, Action::JobsManage)?;
    let job = jobs::retry(&state.store, id).await?;
    let mut tx = state.store.begin().await?;
    audit::record(
        &mut tx,
        &caller.actor(),
        "retry",
        "job",
        job.id,
        None,
        Some(audit::state(&job)?),
    )
    .await?;
    tx.commit().await?;
    state.job_waker.notify_one();
    Ok(Redirect::to("/admin/jobs?done=retried").into_response())
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct AuditQuery {
    entity_type: Option<String>,
    actor: Option<String>,
    offset: Option<i64>,
}

async fn audit_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    caller.require(&state, Action::AuditRead)?;
    let limit = 50;
    let offset = q.offset.unwrap_or(0).max(0);
    let filter = AuditFilter {
        entity_type: q.entity_type.clone().filter(|s| !s.is_empty()),
        entity_id: None,
        actor: q.actor.clone().filter(|s| !s.is_empty()),
    };
    let (entries, total) = audit::list(&state.store, &filter, limit, offset).await?;
    let entries: Vec<crate::api::audit::AuditEntryOut> =
        entries.into_iter().map(Into::into).collect();
    let verification: crate::api::audit::VerificationOut =
        audit::verify(&state.store).await?.into();
    let frame = Frame::new(&state, &caller, "Audit log", "/audit");
    let next_offset = (offset + limit < total).then_some(offset + limit);
    let prev_offset = (offset > 0).then(|| (offset - limit).max(0));
    Ok(state.pages.render(
        "audit.html",
        minijinja::context! { entries, total, verification, filter => q, next_offset, prev_offset, ..minijinja::Value::from_serialize(&frame) }))
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_user))
        .route("/admin/users/{id}/active", post(set_active))
        .route("/admin/tokens", get(tokens_page).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/jobs", get(jobs_page))
        .route("/admin/jobs/{id}/retry", post(retry_job))
        .route("/audit", get(audit_page))
}
