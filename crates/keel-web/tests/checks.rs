//! Email and page checks over HTTP: findings with locations, stored runs, policy errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_accounts::{EmailAddress, Role, new_api_token};
use keel_store::accounts::{self, NewUser};
use keel_store::{Actor, Store, migrations};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn checks_run_store_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    let mut tokens = Vec::new();
    for (email, role) in [
        ("req@example.com", Role::Requester),
        ("fin@example.com", Role::Finance),
    ] {
        let u = accounts::create_user(
            &store,
            &Actor::System("t"),
            &NewUser {
                email: EmailAddress::parse(email).unwrap(),
                name: email.into(),
                password_hash: None,
                roles: vec![role],
            },
        )
        .await
        .unwrap();
        let t = new_api_token();
        accounts::create_token(&store, &Actor::System("t"), u.user.id, "t", &[role], &t)
            .await
            .unwrap();
        tokens.push(t.secret);
    }
    let state = keel_web::AppState::new(store.clone(), Default::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(keel_web::serve(state, listener, std::future::pending()));
    let c = reqwest::Client::new();
    let seeded = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../keel-checks/testdata/email/seeded.html"
    ))
    .unwrap();
    let r = c
        .post(format!("{base}/api/v1/checks/email"))
        .bearer_auth(&tokens[1])
        .json(&json!({"content": seeded}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "finance does not run checks"
    );
    let r = c
        .post(format!("{base}/api/v1/checks/email"))
        .bearer_auth(&tokens[0])
        .json(&json!({"name": "seeded.html", "content": seeded}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let run: Value = r.json().await.unwrap();
    assert!(run["errors"].as_i64().unwrap() > 0);
    let findings = run["report"]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .all(|f| f["rule"].is_string() && f["why"].is_string() && f["help"].is_string())
    );
    assert!(
        findings
            .iter()
            .any(|f| f["location"]["line"].as_u64().unwrap_or(0) > 1),
        "findings carry source lines"
    );
    let listed: Value = c
        .get(format!("{base}/api/v1/checks"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1);
    let again: Value = c
        .get(format!("{base}/api/v1/checks/{}", run["id"]))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["errors"], run["errors"]);
    let r = c.post(format!("{base}/api/v1/checks/page")).bearer_auth(&tokens[0]).json(&json!({"content": "<html><body><form><input name=email></form></body></html>", "policy": "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: p}\nspec: {surprise: 1}\n"})).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a bad policy is refused with its problems"
    );
    let r = c
        .post(format!("{base}/api/v1/checks/page"))
        .bearer_auth(&tokens[0])
        .json(&json!({"content": "<html><body><form><input name=email></form></body></html>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["kind"], "page");

    // A stored QualityPolicy (ops-as-code) chosen by name.
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/ops/quality/halyard-email.yaml"
    ))
    .unwrap();
    let policy = keel_checks::Policy::from_yaml(&yaml).unwrap();
    keel_store::documents::put(
        &store,
        &Actor::System("t"),
        &keel_store::documents::DesiredDocument {
            kind: "QualityPolicy".into(),
            name: "halyard-email".into(),
            api_version: "keel/v1".into(),
            metadata: json!({"name": "halyard-email"}),
            spec: serde_json::to_value(&policy.spec).unwrap(),
        },
        None,
    )
    .await
    .unwrap();
    let email = "<html><body><img src=\"https://halyard.example/a.png\"></body></html>";
    let r = c
        .post(format!("{base}/api/v1/checks/email"))
        .bearer_auth(&tokens[0])
        .json(&json!({"content": email, "policy_name": "halyard-email"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let run: Value = r.json().await.unwrap();
    let findings = run["report"]["findings"].as_array().unwrap();
    let alt = findings.iter().find(|f| f["rule"] == "img-alt").unwrap();
    assert_eq!(
        alt["severity"], "error",
        "the stored policy makes img-alt an error"
    );
    let r = c
        .post(format!("{base}/api/v1/checks/email"))
        .bearer_auth(&tokens[0])
        .json(&json!({"content": email, "policy_name": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert!(problem.to_string().contains("policy_name"), "{problem}");

    // Accessibility findings from axe-core, when Chromium is installed.
    if std::path::Path::new(keel_web::api::checks::CHROMIUM).exists() {
        let r = c
            .post(format!("{base}/api/v1/checks/email"))
            .bearer_auth(&tokens[0])
            .json(&json!({"content": email, "a11y": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let run: Value = r.json().await.unwrap();
        let rules: Vec<&str> = run["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert!(rules.contains(&"a11y.image-alt"), "{rules:?}");
        let page = c
            .get(format!("{base}/checks/{}", run["id"]))
            .bearer_auth(&tokens[0])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Accessibility (axe-core)"),
            "the page shows them beside the previews"
        );
    } else {
        eprintln!("SKIPPED accessibility API check: Chromium not installed");
    }
}
