//! Signing in and out.

use crate::AppState;
use crate::auth::{LoginLimiter, SESSION_COOKIE, client_key};
use crate::error::ApiError;
use crate::pages::{PageCaller, PageResult};
use axum::extract::{Query, State};
use axum::http::Extensions;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use keel_accounts::{EmailAddress, new_csrf_token, new_session_token, verify_password};
use keel_store::accounts;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// Only local paths are followed after sign-in, so the login page cannot be used to redirect
/// people to another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

async fn login_page(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    state.pages.render(
        "login.html",
        minijinja::context! { next => safe_next(q.next.as_deref()), email => "", error => None::<String> },
    )
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

fn login_failed(state: &AppState, form: &LoginForm, message: &str) -> Response {
    let mut r = state.pages.render(
        "login.html",
        minijinja::context! { next => safe_next(form.next.as_deref()), email => form.email.clone(), error => message },
    );
    *r.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    r
}

async fn login(
    State(state): State<AppState>,
    extensions: Extensions,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let limiter: &LoginLimiter = &state.login_limiter;
    let email_key = format!("email:{}", form.email.trim().to_lowercase());
    let keys = [email_key.clone(), client_key(&extensions)];
    if let Err(e) = limiter.check(&keys) {
        let mut r = login_failed(&state, &form, &e.to_string());
        *r.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        return Ok(r);
    }
    let Ok(email) = EmailAddress::parse(&form.email) else {
        limiter.failed(&keys);
        return Ok(login_failed(
            &state,
            &form,
            "That e-mail address or password is not right.",
        ));
    };
    let found = accounts::user_for_login(&state.store, &email).await?;
    let ok = match &found {
        Some((user, Some(hash))) if user.user.active => {
            verify_password(&form.password, hash).unwrap_or(false)
        }
        _ => {
            // Spend the same time as a real check so response times do not reveal which e-mails exist.
            let _ = keel_accounts::hash_password("timing-equaliser-password");
            false
        }
    };
    let Some((user, _)) = found.filter(|_| ok) else {
        limiter.failed(&keys);
        return Ok(login_failed(
            &state,
            &form,
            "That e-mail address or password is not right.",
        ));
    };
    limiter.succeeded(&email_key);
    let secret = new_session_token();
    accounts::create_session(&state.store, user.user.id, &secret, &new_csrf_token()).await?;
    let cookie = Cookie::build((SESSION_COOKIE, secret))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies)
        .path("/")
        .build();
    Ok((
        jar.add(cookie),
        Redirect::to(&safe_next(form.next.as_deref())),
    )
        .into_response())
}

async fn logout(
    State(state): State<AppState>,
    PageCaller(_caller): PageCaller,
    jar: CookieJar,
) -> PageResult {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        accounts::delete_session(&state.store, c.value()).await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
