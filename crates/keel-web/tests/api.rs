//! API tests against a real server on a random port, on a real SQLite database.
//!
//! The role table below is the specification: for each endpoint, exactly the listed roles may
//! call it; every other role gets 403 and an anonymous caller gets 401.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_accounts::{EmailAddress, Role, hash_password, new_api_token};
use keel_store::accounts::{self, NewUser};
use keel_store::{Actor, Store, migrations};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

struct Server {
    base: String,
    store: Store,
    tokens: HashMap<Role, String>,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    let mut tokens = HashMap::new();
    let hash = hash_password("correct horse battery").unwrap();
    for role in Role::ALL {
        let user = accounts::create_user(
            &store,
            &Actor::System("test"),
            &NewUser {
                email: EmailAddress::parse(&format!("{role}@example.com")).unwrap(),
                name: format!("The {role}"),
                password_hash: Some(hash.clone()),
                roles: vec![role],
            },
        )
        .await
        .unwrap();
        let secret = new_api_token();
        accounts::create_token(
            &store,
            &Actor::System("test"),
            user.user.id,
            "test",
            &[role],
            &secret,
        )
        .await
        .unwrap();
        tokens.insert(role, secret.secret);
    }
    let state = keel_web::AppState::new(store.clone(), Default::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(keel_web::serve(state, listener, std::future::pending()));
    Server {
        base,
        store,
        tokens,
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

use Role::*;

/// (method, path, body, roles allowed)
fn role_table() -> Vec<(&'static str, &'static str, Option<Value>, Vec<Role>)> {
    let everyone = Role::ALL.to_vec();
    vec![
        ("GET", "/api/v1/me", None, everyone.clone()),
        ("GET", "/api/v1/users", None, vec![Admin]),
        ("GET", "/api/v1/users/1", None, vec![Admin]),
        (
            "POST",
            "/api/v1/users",
            Some(json!({"email": "new@example.com", "name": "New", "roles": ["viewer"]})),
            vec![Admin],
        ),
        (
            "PATCH",
            "/api/v1/users/8",
            Some(json!({"name": "Renamed"})),
            vec![Admin],
        ),
        (
            "GET",
            "/api/v1/teams",
            None,
            vec![Admin, Ops, Requester, Approver, Privacy, Finance, Sales],
        ),
        (
            "POST",
            "/api/v1/teams",
            Some(json!({"name": "A team"})),
            vec![Admin],
        ),
        ("GET", "/api/v1/tokens", None, everyone.clone()),
        ("GET", "/api/v1/tokens?all=true", None, vec![Admin]),
        (
            "POST",
            "/api/v1/tokens",
            Some(json!({"label": "x"})),
            everyone.clone(),
        ),
        ("GET", "/api/v1/audit", None, vec![Admin, Privacy]),
        ("GET", "/api/v1/audit/verify", None, vec![Admin, Privacy]),
        ("GET", "/api/v1/sources", None, vec![Admin, Ops]),
        (
            "POST",
            "/api/v1/sources",
            Some(json!({"name": "web"})),
            vec![Admin],
        ),
        ("GET", "/api/v1/events?source=web", None, vec![Admin, Ops]),
        ("GET", "/api/v1/catalog/documents", None, everyone.clone()),
        ("GET", "/api/v1/catalog/scorecards", None, everyone.clone()),
        ("GET", "/api/v1/catalog/audits", None, everyone.clone()),
        (
            "DELETE",
            "/api/v1/catalog/documents/Tool/none",
            None,
            vec![Admin, Ops],
        ),
        ("GET", "/api/v1/jobs", None, vec![Admin, Ops]),
        ("GET", "/api/v1/jobs/1", None, vec![Admin, Ops]),
        ("POST", "/api/v1/jobs/1/retry", None, vec![Admin]),
        ("POST", "/api/v1/jobs/1/cancel", None, vec![Admin]),
        (
            "GET",
            "/api/v1/contacts",
            None,
            vec![Admin, Ops, Privacy, Sales],
        ),
        (
            "GET",
            "/api/v1/contacts/duplicates",
            None,
            vec![Admin, Ops, Privacy, Sales],
        ),
        (
            "POST",
            "/api/v1/contacts/hygiene",
            Some(json!({"email": "x@example.com", "kind": "hard_bounce"})),
            vec![Admin, Ops],
        ),
        (
            "POST",
            "/api/v1/contacts/duplicates/1/decision",
            Some(json!({"decision": "skip"})),
            vec![Admin, Ops],
        ),
        (
            "POST",
            "/api/v1/contacts/quarantine/1/resubmit",
            Some(json!({"cells": {}})),
            vec![Admin, Ops],
        ),
        ("GET", "/api/v1/contacts/handoffs", None, vec![Admin, Sales]),
        (
            "POST",
            "/api/v1/contacts/handoffs/1/decision",
            Some(json!({"accept": true})),
            vec![Admin, Sales],
        ),
    ]
}

async fn call(
    c: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    body: &Option<Value>,
    token: Option<&str>,
) -> reqwest::Response {
    let url = format!("{base}{path}");
    let mut req = c.request(method.parse().unwrap(), &url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn role_table_is_enforced_for_every_role() {
    let s = start().await;
    let c = client();
    keel_store::jobs::enqueue(
        &s.store,
        &keel_store::jobs::NewJob::now("test.noop", json!({})),
    )
    .await
    .unwrap();
    for (method, path, body, allowed) in role_table() {
        let anon = call(&c, &s.base, method, path, &body, None).await;
        assert_eq!(
            anon.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} anonymous"
        );
        assert_eq!(anon.headers()["content-type"], "application/problem+json");
        for role in Role::ALL {
            let resp = call(&c, &s.base, method, path, &body, Some(&s.tokens[&role])).await;
            let status = resp.status();
            if allowed.contains(&role) {
                assert_ne!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {role} should be allowed"
                );
                assert!(status.as_u16() < 500, "{method} {path} as {role}: {status}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {role} should be refused"
                );
                let problem: Value = resp.json().await.unwrap();
                assert_eq!(problem["type"], "/problems/forbidden");
            }
        }
    }
}

#[tokio::test]
async fn every_endpoint_is_in_the_openapi_document() {
    let s = start().await;
    let doc: Value = client()
        .get(format!("{}/api/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/healthz", "/readyz", "/metrics", "/v1/{kind}"] {
        assert!(
            doc["paths"][path]["get"].is_object() || doc["paths"][path]["post"].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    for (method, path, _, _) in role_table() {
        let path = path.split('?').next().unwrap();
        let templated = path
            .split('/')
            .map(|seg| {
                if seg.chars().all(|c| c.is_ascii_digit()) && !seg.is_empty() {
                    "{id}"
                } else if seg == "Tool" {
                    "{kind}"
                } else if seg == "none" {
                    "{name}"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let op = &doc["paths"][&templated][method.to_lowercase()];
        assert!(op.is_object(), "{method} {templated} missing from OpenAPI");
    }
}

#[tokio::test]
async fn bad_input_gets_problem_documents_naming_the_field() {
    let s = start().await;
    let c = client();
    let admin = s.tokens[&Admin].clone();
    let post = |body: &'static str, ct: &'static str| {
        c.post(format!("{}/api/v1/users", s.base))
            .bearer_auth(&admin)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let r = post("{not json", "application/json").await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["type"],
        "/problems/bad-request"
    );

    let r = post(
        r#"{"email": "a@example.com", "name": 5, "roles": []}"#,
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "name");

    let r = post(
        r#"{"email": "nope", "name": "", "roles": ["root"], "password": "short"}"#,
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = r.json().await.unwrap();
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["email", "name", "roles[0]", "password"]);

    let r = post(
        r#"{"email": "a@example.com", "name": "A", "roles": ["viewer"], "surprise": 1}"#,
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );

    let r = post("email=a", "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let huge = format!(
        r#"{{"email": "a@example.com", "name": "{}", "roles": ["viewer"]}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let r = c
        .post(format!("{}/api/v1/users", s.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let r = c
        .get(format!("{}/api/v1/users?limit=1000", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["field"],
        "limit"
    );

    let r = c
        .get(format!("{}/api/v1/users?limit=abc", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let r = c
        .get(format!("{}/api/v1/nothing-here", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let dup = c
        .post(format!("{}/api/v1/users", s.base))
        .bearer_auth(&admin)
        .json(&json!({"email": "viewer@example.com", "name": "V", "roles": ["viewer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), StatusCode::CONFLICT);
}

async fn login(c: &reqwest::Client, base: &str, email: &str, password: &str) -> reqwest::Response {
    c.post(format!("{base}/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("next", "/admin/users"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sessions_need_csrf_for_writes_and_logins_are_rate_limited() {
    let s = start().await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = login(&c, &s.base, "admin@example.com", "correct horse battery").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/users");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let me: Value = c
        .get(format!("{}/api/v1/me", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["authenticated_by"], "session");
    assert_eq!(me["roles"], json!(["admin"]));

    // A write with the cookie alone is refused...
    let r = c
        .post(format!("{}/api/v1/teams", s.base))
        .json(&json!({"name": "T"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "/problems/csrf");
    // ...and accepted with the session's token, which the page embeds in its forms.
    let page = c
        .get(format!("{}/admin/users", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .post(format!("{}/api/v1/teams", s.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "T"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // A form post carries it as a field.
    let r = c
        .post(format!("{}/admin/users", s.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Form Person"),
            ("email", "form@example.com"),
            ("roles", "viewer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .post(format!("{}/admin/users", s.base))
        .form(&[
            ("name", "No Token"),
            ("email", "nt@example.com"),
            ("roles", "viewer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Wrong passwords: the sixth attempt inside the window is refused outright.
    let other = client();
    for _ in 0..5 {
        assert_eq!(
            login(&other, &s.base, "viewer@example.com", "wrong password!")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(
            &other,
            &s.base,
            "viewer@example.com",
            "correct horse battery"
        )
        .await
        .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn tokens_are_scoped_shown_once_and_revocable() {
    let s = start().await;
    let c = client();
    let admin = s.tokens[&Admin].clone();
    let created: Value = c
        .post(format!("{}/api/v1/tokens", s.base))
        .bearer_auth(&admin)
        .json(&json!({"label": "ci", "scopes": ["admin"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("keel_"));
    let id = created["token"]["id"].as_i64().unwrap();
    let listed: Value = c
        .get(format!("{}/api/v1/tokens", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is never listed"
    );
    let r = c
        .post(format!("{}/api/v1/tokens", s.base))
        .bearer_auth(&s.tokens[&Viewer])
        .json(&json!({"label": "x", "scopes": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "cannot scope beyond own roles"
    );
    assert_eq!(
        c.delete(format!("{}/api/v1/tokens/{id}", s.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        c.get(format!("{}/api/v1/me", s.base))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn changes_are_audited_with_before_and_after() {
    let s = start().await;
    let c = client();
    let admin = s.tokens[&Admin].clone();
    c.patch(format!("{}/api/v1/users/8", s.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "Renamed Viewer"}))
        .send()
        .await
        .unwrap();
    let page: Value = c
        .get(format!(
            "{}/api/v1/audit?entity_type=user&entity_id=8",
            s.base
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let latest = &page["items"][0];
    assert_eq!(latest["action"], "update");
    assert!(
        latest["actor"]
            .as_str()
            .unwrap()
            .starts_with("user:1 via token:")
    );
    assert_eq!(latest["before"]["name"], "The viewer");
    assert_eq!(latest["after"]["name"], "Renamed Viewer");
    let v: Value = c
        .get(format!("{}/api/v1/audit/verify", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["intact"], true);
}

#[tokio::test]
async fn health_metrics_and_pages() {
    let s = start().await;
    let c = client();
    assert_eq!(
        c.get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    assert_eq!(
        c.get(format!("{}/readyz", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let m = c
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("keel_http_requests_total"), "{m}");
    let r = c.get(format!("{}/audit", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Faudit");
    let login = c
        .get(format!("{}/login", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("<label for=\"email\">"));
}
