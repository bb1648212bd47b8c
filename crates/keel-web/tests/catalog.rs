//! The stack catalog over HTTP: the demo stack applied, scorecards, audits, impact, document
//! writes validated like `keel check`, and the add-a-tool/add-a-contract forms.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_accounts::{EmailAddress, Role, hash_password, new_api_token};
use keel_store::accounts::{self, NewUser};
use keel_store::{Actor, Store, migrations};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Server {
    base: String,
    ops: String,
    viewer: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    let files = keel_manifests::fs::read_tree(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/ops"
    )))
    .unwrap();
    let loaded = keel_manifests::load(&files, &keel_web::ops::registry());
    assert!(!loaded.has_errors());
    let plan = keel_manifests::plan(&[], &loaded.documents());
    keel_web::ops::apply_plan(&store, &Actor::System("test"), &plan, "test")
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for (email, role) in [
        ("ops@example.com", Role::Ops),
        ("viewer@example.com", Role::Viewer),
    ] {
        let u = accounts::create_user(
            &store,
            &Actor::System("test"),
            &NewUser {
                email: EmailAddress::parse(email).unwrap(),
                name: email.into(),
                password_hash: Some(hash_password("correct horse battery").unwrap()),
                roles: vec![role],
            },
        )
        .await
        .unwrap();
        let t = new_api_token();
        accounts::create_token(&store, &Actor::System("test"), u.user.id, "t", &[role], &t)
            .await
            .unwrap();
        tokens.push(t.secret);
    }
    let state = keel_web::AppState::new(store.clone(), Default::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(keel_web::serve(state, listener, std::future::pending()));
    Server {
        base,
        ops: tokens[0].clone(),
        viewer: tokens[1].clone(),
        _dir: dir,
    }
}

#[tokio::test]
async fn analyses_over_the_demo_stack() {
    let s = start().await;
    let c = reqwest::Client::new();
    let get = |path: &str, token: &str| {
        c.get(format!("{}{path}", s.base))
            .bearer_auth(token.to_string())
            .send()
    };
    let cards: Value = get("/api/v1/catalog/scorecards", &s.viewer)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        cards.as_array().unwrap().len() > 20,
        "every live tool has a scorecard"
    );
    let audits: Value = get("/api/v1/catalog/audits?renewal_window_days=365", &s.viewer)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let orphaned: Vec<&str> = audits["tools_without_active_owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["tool"].as_str().unwrap())
        .collect();
    assert!(orphaned.contains(&"email-on-acid"), "{orphaned:?}");
    assert!(!audits["capability_overlaps"].as_array().unwrap().is_empty());
    assert!(audits["pii_without_dpa"].to_string().contains("zoominfo"));
    let impact: Value = get("/api/v1/impact?tool=salesforce", &s.viewer)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(impact["impacted"].as_array().unwrap().len() > 5, "{impact}");
    let r = get("/api/v1/impact?tool=nothing-like-it", &s.viewer)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = get("/api/v1/impact", &s.viewer).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn document_writes_are_checked_like_files() {
    let s = start().await;
    let c = reqwest::Client::new();
    let url = format!("{}/api/v1/catalog/documents/Tool/mailchimp", s.base);
    let doc = |owner: &str| {
        json!({"document": {"apiVersion": "keel/v1", "kind": "Tool", "metadata": {"name": "mailchimp"},
        "spec": {"display_name": "Mailchimp", "vendor": "Intuit", "categories": ["email"], "lifecycle": "evaluating", "owners": {"platform": [owner]}}}})
    };
    let r = c
        .put(&url)
        .bearer_auth(&s.viewer)
        .json(&doc("elena-garcia"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "viewers read but do not write"
    );
    let r = c
        .put(&url)
        .bearer_auth(&s.ops)
        .json(&doc("nobody-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "an owner who does not exist is refused"
    );
    assert!(r.text().await.unwrap().contains("nobody-here"));
    let r = c.put(&url).bearer_auth(&s.ops).json(&json!({"document": {"apiVersion": "keel/v1", "kind": "Tool", "metadata": {"name": "mailchimp"}, "spec": {"vendor": "Intuit", "lifecycle": "sideways"}}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .put(&url)
        .bearer_auth(&s.ops)
        .json(&doc("elena-garcia"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["revision"], 1);
    let stale = json!({"document": doc("elena-garcia")["document"], "expected_revision": 7});
    assert_eq!(
        c.put(&url)
            .bearer_auth(&s.ops)
            .json(&stale)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        c.delete(&url)
            .bearer_auth(&s.ops)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get(&url)
            .bearer_auth(&s.ops)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_person_adds_a_tool_and_a_contract_in_the_ui() {
    let s = start().await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    c.post(format!("{}/login", s.base))
        .form(&[
            ("email", "ops@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    let page = c
        .get(format!("{}/catalog/new/tool", s.base))
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
        .post(format!("{}/catalog/new/tool", s.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "mailchimp"),
            ("display_name", "Mailchimp"),
            ("vendor", "Intuit"),
            ("categories", "email"),
            ("lifecycle", "evaluating"),
            ("platform_owner", "elena-garcia"),
            ("holds_pii", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let tool_page = c
        .get(format!("{}/catalog/tools/mailchimp", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tool_page.contains("Mailchimp"));
    // A contract with a bad amount and an end before its start is refused with the reasons shown.
    let bad = c
        .post(format!("{}/catalog/new/contract", s.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "mailchimp-2027"),
            ("vendor", "Intuit"),
            ("tools", "mailchimp"),
            ("cost", "lots"),
            ("currency", "USD"),
            ("billing_period", "annual"),
            ("start", "2027-01-01"),
            ("end", "2026-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::OK);
    assert!(bad.text().await.unwrap().contains("is not an amount"));
    let r = c
        .post(format!("{}/catalog/new/contract", s.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "mailchimp-2027"),
            ("vendor", "Intuit"),
            ("tools", "mailchimp"),
            ("cost", "1200.50"),
            ("currency", "usd"),
            ("billing_period", "annual"),
            ("start", "2026-12-01"),
            ("end", "2027-11-30"),
            ("notice_days", "60"),
            ("dpa_signed", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let doc: Value = c
        .get(format!(
            "{}/api/v1/catalog/documents/Contract/mailchimp-2027",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["spec"]["cost"],
        json!({"amount_minor": 120050, "currency": "USD"})
    );
    // Release management and incidents from the UI.
    let r = c
        .post(format!("{}/catalog/changes/new", s.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "chg-2026-099"),
            ("what", "Add a lead source value"),
            ("why", "New webinar channel"),
            ("risk", "low"),
            ("approver", "elena-garcia"),
            ("planned_for", "2026-12-01"),
            ("tools", "salesforce"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let r = c
        .post(format!("{}/catalog/incidents/new", s.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "inc-2026-099"),
            ("title", "Form fills not syncing"),
            ("severity", "sev2"),
            ("integrations", "salesforce-marketo-sync"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let bad = c
        .post(format!("{}/catalog/changes/new", s.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "chg-2026-100"),
            ("what", "x"),
            ("why", "y"),
            ("risk", "extreme"),
            ("planned_for", "soon"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        bad.status(),
        StatusCode::OK,
        "refused with the reasons shown"
    );
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("Please fix the following")
    );
    let page = c
        .get(format!("{}/catalog/changes", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("chg-2026-099") && page.contains("Form fills not syncing"));
    for path in [
        "/catalog",
        "/catalog/graph",
        "/catalog/graph?tool=salesforce",
        "/catalog/audits",
    ] {
        assert_eq!(
            c.get(format!("{}{path}", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK,
            "{path}"
        );
    }
}
