//! Privacy over HTTP against a real server on a random port and a real SQLite database: the
//! privacy API (with its role checks), double opt-in with a real SMTP receiver on loopback,
//! forged/expired/reused links, RFC 8058 one-click unsubscribe, the preference centre, Global
//! Privacy Control on pages and on ingestion, subject requests and retention.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use keel_accounts::{EmailAddress, Role, hash_password, new_api_token};
use keel_consent::token::{self, SigningKey, TokenPurpose};
use keel_mail::receiver::Receiver;
use keel_store::accounts::{self, NewUser};
use keel_store::privacy;
use keel_store::{Actor, Store, migrations};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

struct Server {
    base: String,
    store: Store,
    tokens: HashMap<Role, String>,
    mail: Receiver,
    _dir: tempfile::TempDir,
}

async fn apply_privacy_documents(store: &Store) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ops/privacy");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        files.push(keel_manifests::SourceFile::new(
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    let loaded = keel_manifests::load(&files, &keel_web::ops::registry());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let current = keel_web::ops::current_documents(store).await.unwrap();
    let plan = keel_manifests::plan(&current, &loaded.documents());
    keel_web::ops::apply_plan(store, &Actor::System("test"), &plan, "privacy documents")
        .await
        .unwrap();
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    apply_privacy_documents(&store).await;
    let mut tokens = HashMap::new();
    let hash = hash_password("correct horse battery").unwrap();
    for role in [Role::Privacy, Role::Ops, Role::Viewer] {
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
    let mail = Receiver::start().await.unwrap();
    let mailer = keel_mail::Mailer::new(&keel_mail::MailConfig::new(
        mail.url(),
        "Halyard <news@halyard.example>",
    ))
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut state = keel_web::AppState::new(store.clone(), Default::default()).unwrap();
    state.privacy = Arc::new(keel_web::api::privacy::PrivacyConfig::new(
        base.clone(),
        Some(SECRET.into()),
        Some(mailer),
    ));
    tokio::spawn(keel_web::serve(state, listener, std::future::pending()));
    Server {
        base,
        store,
        tokens,
        mail,
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl Server {
    async fn call(
        &self,
        role: Role,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = client()
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.tokens[&role]);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

fn sign(
    purpose: TokenPurpose,
    subject: &str,
    list: Option<&str>,
    issued: chrono::DateTime<Utc>,
    ttl: chrono::Duration,
    nonce: u8,
) -> String {
    let key = SigningKey::new(SECRET.as_bytes()).unwrap();
    let mut c = token::claims(purpose, subject, issued, ttl, [nonce; 16]);
    c.list = list.map(str::to_string);
    token::sign(&key, &c)
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn post_form(url: &str, body: String, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut req = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

fn link_in(text: &str, path: &str) -> String {
    let start = text.find(path).expect("link in mail");
    let rest = &text[start..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    rest[..end].to_string()
}

fn token_of(url: &str) -> String {
    let q = url.split_once('?').unwrap().1;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "token")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn only_the_privacy_role_may_use_the_privacy_api() {
    let s = start().await;
    let probes: Vec<(&str, &str, Option<Value>)> = vec![
        ("GET", "/api/v1/privacy/suppressions", None),
        ("GET", "/api/v1/privacy/consent/ana@example.com", None),
        (
            "POST",
            "/api/v1/privacy/consent",
            Some(json!({"email": "ana@example.com", "purpose": "newsletter", "state": "granted"})),
        ),
        (
            "POST",
            "/api/v1/eligibility",
            Some(json!({"email": "ana@example.com", "purpose": "newsletter", "channel": "email"})),
        ),
        ("GET", "/api/v1/privacy/requests", None),
        ("GET", "/api/v1/privacy/tags", None),
        ("GET", "/api/v1/privacy/retention/runs", None),
    ];
    for (method, path, body) in probes {
        for role in [Role::Ops, Role::Viewer] {
            let (status, _) = s.call(role, method, path, body.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} {method} {path}");
        }
        let (status, body_out) = s.call(Role::Privacy, method, path, body.clone()).await;
        assert!(
            status.is_success(),
            "privacy {method} {path}: {status} {body_out}"
        );
        let anon = client()
            .request(method.parse().unwrap(), format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(anon.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // The privacy pages are in the OpenAPI document.
    let doc: Value = client()
        .get(format!("{}/api/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/eligibility"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/privacy/requests/{id}/complete"]["post"].is_object());
}

#[tokio::test]
async fn consent_history_eligibility_and_suppressions() {
    let s = start().await;
    let p = Role::Privacy;
    // Unknown purpose and bad address: one 422 naming both fields.
    let (status, body) = s
        .call(
            p,
            "POST",
            "/api/v1/privacy/consent",
            Some(json!({"email": "nope", "purpose": "sailing", "state": "granted"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "purpose"]);
    let (status, e) = s
        .call(
            p,
            "POST",
            "/api/v1/privacy/consent",
            Some(json!({
        "email": "Ana@Example.com", "purpose": "newsletter", "state": "granted", "source": "form",
        "jurisdiction": "eu", "text": "Send me the newsletter.", "text_version": "v1",
        "at": "2026-01-10T10:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    assert_eq!(e["subject"], "ana@example.com");
    s.call(p, "POST", "/api/v1/privacy/consent", Some(json!({"email": "ana@example.com", "purpose": "newsletter", "state": "withdrawn", "at": "2026-02-01T10:00:00Z"}))).await;
    s.call(p, "POST", "/api/v1/privacy/consent", Some(json!({"email": "ana@example.com", "purpose": "newsletter", "state": "granted", "source": "import", "at": "2026-03-01T10:00:00Z"}))).await;
    let (_, h) = s
        .call(p, "GET", "/api/v1/privacy/consent/ana@example.com", None)
        .await;
    assert_eq!(h["ledger"].as_array().unwrap().len(), 3);
    assert_eq!(h["current"]["newsletter"]["state"], "withdrawn");
    assert_eq!(
        h["ignored"][0]["reason"],
        "withdrawal_not_overridden_by_import"
    );
    assert_eq!(h["texts"][0]["body"], "Send me the newsletter.");

    let (_, d) = s
        .call(
            p,
            "POST",
            "/api/v1/eligibility",
            Some(json!({"email": "ana@example.com", "purpose": "newsletter", "channel": "email"})),
        )
        .await;
    assert_eq!(d["eligible"], false);
    assert_eq!(d["reasons"], json!(["consent_withdrawn"]));
    let (status, _) = s.call(p, "POST", "/api/v1/privacy/suppressions", Some(json!({"email": "ana@example.com", "scope": "channel", "value": "email", "reason": "hard_bounce"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, bad) = s
        .call(
            p,
            "POST",
            "/api/v1/privacy/suppressions",
            Some(json!({"email": "ana@example.com", "scope": "planet", "reason": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (_, d) = s.call(p, "POST", "/api/v1/eligibility", Some(json!({"email": "ana@example.com", "purpose": "newsletter", "channel": "email", "reachable": ["sms"]}))).await;
    assert_eq!(
        d["reasons"],
        json!([
            "consent_withdrawn",
            "no_address_for_channel",
            "suppressed_channel"
        ])
    );
    // An EU contact without any statement: opt-in applies.
    let (_, d) = s.call(p, "POST", "/api/v1/eligibility", Some(json!({"email": "bo@example.com", "purpose": "newsletter", "channel": "email", "jurisdiction": "eu"}))).await;
    assert_eq!(d["reasons"], json!(["no_consent"]));
    let (_, d) = s.call(p, "POST", "/api/v1/eligibility", Some(json!({"email": "bo@example.com", "purpose": "newsletter", "channel": "email", "jurisdiction": "california"}))).await;
    assert_eq!(d["eligible"], true);

    // The audience job: counts by reason.
    let (status, run) = s.call(p, "POST", "/api/v1/eligibility/runs", Some(json!({"purpose": "newsletter", "channel": "email", "emails": ["ana@example.com", "bo@example.com", "cy@example.com"]}))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let id = run["id"].as_i64().unwrap();
    keel_web::api::privacy::run_eligibility_job(&s.store, id)
        .await
        .unwrap();
    let (_, run) = s
        .call(p, "GET", &format!("/api/v1/eligibility/runs/{id}"), None)
        .await;
    assert_eq!(run["status"], "done");
    assert_eq!(run["total"], 3);
    assert_eq!(run["by_reason"]["consent_withdrawn"], 1);
    assert_eq!(run["by_reason"]["suppressed_channel"], 1);
    assert_eq!(run["by_reason"]["no_consent"], 2);
}

#[tokio::test]
async fn double_opt_in_end_to_end_and_bad_links() {
    let s = start().await;
    let subscribe = format!("{}/privacy/subscribe?lang=de", s.base);
    let page = client()
        .get(format!("{}/privacy/subscribe?purpose=newsletter", s.base))
        .header("accept-language", "de-DE,de;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<html lang=\"de\">") && page.contains("<legend>Halyard newsletter</legend>"),
        "{page}"
    );
    // Missing agreement: the form comes back with the problem, no mail.
    let (status, _) = post_form(
        &subscribe,
        form(&[("purpose", "newsletter"), ("email", "ana@example.com")]),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = post_form(
        &subscribe,
        form(&[
            ("purpose", "newsletter"),
            ("email", "Ana@Example.com"),
            ("agree", "yes"),
            ("region", "DE"),
        ]),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Bitte prüfen Sie Ihr Postfach"), "{body}");
    let mails = s.mail.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, ["ana@example.com"]);
    let link = link_in(&mails[0].text(), &format!("{}/privacy/confirm", s.base));
    // Pending until confirmed.
    assert!(
        privacy::ledger_for(&s.store, "ana@example.com")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        privacy::list_dois(&s.store, true, 10).await.unwrap().len(),
        1
    );
    let page = client().get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Anmeldung bestätigen"));
    // The GET did not confirm.
    assert!(
        privacy::ledger_for(&s.store, "ana@example.com")
            .await
            .unwrap()
            .is_empty()
    );
    let tok = token_of(&link);
    let confirm = format!("{}/privacy/confirm?lang=en", s.base);
    let (status, body) = post_form(&confirm, form(&[("token", &tok)]), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Subscription confirmed"));
    let ledger = privacy::ledger_for(&s.store, "ana@example.com")
        .await
        .unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (
            ledger[0].state.as_str(),
            ledger[0].source.as_str(),
            ledger[0].jurisdiction.as_deref()
        ),
        ("granted", "form", Some("eu"))
    );
    assert!(ledger[0].text_hash.is_some());
    // Reused.
    let (status, body) = post_form(&confirm, form(&[("token", &tok)]), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("already been used"));
    // Forged: payload of another subject with the original signature.
    let other = sign(
        TokenPurpose::DoubleOptIn,
        "eve@example.com",
        Some("newsletter"),
        Utc::now(),
        chrono::Duration::hours(1),
        9,
    );
    let forged = format!(
        "{}.{}",
        other.split_once('.').unwrap().0,
        tok.split_once('.').unwrap().1
    );
    let (status, body) = post_form(&confirm, form(&[("token", &forged)]), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not valid"));
    let res = client()
        .get(format!("{}/privacy/confirm?token=garbage", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Expired.
    let expired = sign(
        TokenPurpose::DoubleOptIn,
        "ana@example.com",
        Some("newsletter"),
        Utc::now() - chrono::Duration::hours(72),
        chrono::Duration::hours(48),
        3,
    );
    let (status, body) = post_form(&confirm, form(&[("token", &expired)]), &[]).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("expired"));
    // A token for another purpose is not a confirmation.
    let unsub = sign(
        TokenPurpose::Unsubscribe,
        "ana@example.com",
        None,
        Utc::now(),
        chrono::Duration::hours(1),
        4,
    );
    let (status, _) = post_form(&confirm, form(&[("token", &unsub)]), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // An unknown address gets the same answer as a known one (nothing leaks), and the per-address
    // limit stops a mail flood without saying so.
    for _ in 0..4 {
        let (status, body) = post_form(
            &subscribe,
            form(&[
                ("purpose", "newsletter"),
                ("email", "flood@example.com"),
                ("agree", "yes"),
            ]),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("Bitte prüfen Sie Ihr Postfach"));
    }
    let mails = s.mail.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.rcpt_to == ["flood@example.com"])
            .count(),
        3
    );
}

#[tokio::test]
async fn one_click_unsubscribe_preference_centre_and_gpc() {
    let s = start().await;
    let p = Role::Privacy;
    for (purpose, at) in [
        ("newsletter", "2026-01-10T10:00:00Z"),
        ("offers", "2026-01-10T10:00:00Z"),
    ] {
        s.call(p, "POST", "/api/v1/privacy/consent", Some(json!({"email": "cal@example.com", "purpose": purpose, "state": "granted", "jurisdiction": "california", "at": at}))).await;
    }
    // RFC 8058: the header values, then the POST a mail client sends.
    let (status, h) = s.call(p, "GET", "/api/v1/privacy/unsubscribe-headers?email=cal@example.com&campaign=spring&purpose=newsletter", None).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "plain http base URL is refused: {h}"
    );
    let tok = sign(
        TokenPurpose::Unsubscribe,
        "cal@example.com",
        Some("newsletter"),
        Utc::now(),
        chrono::Duration::days(90),
        5,
    );
    let res = client()
        .post(format!("{}/privacy/unsubscribe?token={tok}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let state = privacy::current_state(&s.store, "cal@example.com")
        .await
        .unwrap();
    assert_eq!(
        state.get("cal@example.com", "newsletter").unwrap().state,
        keel_consent::ledger::ConsentState::Withdrawn
    );
    assert_eq!(
        state.get("cal@example.com", "offers").unwrap().state,
        keel_consent::ledger::ConsentState::Granted
    );
    // A second POST is harmless and appends nothing.
    let before = privacy::ledger_for(&s.store, "cal@example.com")
        .await
        .unwrap()
        .len();
    client()
        .post(format!("{}/privacy/unsubscribe?token={tok}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(
        privacy::ledger_for(&s.store, "cal@example.com")
            .await
            .unwrap()
            .len(),
        before
    );
    // A GET shows a page and does not unsubscribe; a forged token gets the clear page.
    let res = client()
        .get(format!("{}/privacy/unsubscribe?token={tok}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client()
        .post(format!("{}/privacy/unsubscribe?token={}x", s.base, tok))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Preference centre with GPC: California makes GPC an opt-out of sharing.
    let pref = sign(
        TokenPurpose::PreferenceCentre,
        "cal@example.com",
        None,
        Utc::now(),
        chrono::Duration::days(30),
        6,
    );
    let page = client()
        .get(format!("{}/privacy/preferences?token={pref}", s.base))
        .header("sec-gpc", "1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<fieldset>") && page.contains("for=\"topic-offers\""),
        "{page}"
    );
    assert!(page.contains("Global Privacy Control"));
    let ledger = privacy::ledger_for(&s.store, "cal@example.com")
        .await
        .unwrap();
    let gpc: Vec<_> = ledger
        .iter()
        .filter(|e| e.detail.0["signal"] == "gpc")
        .collect();
    assert_eq!(gpc.len(), 1);
    assert_eq!(
        (gpc[0].purpose.as_str(), gpc[0].state.as_str()),
        ("partner-ads", "denied")
    );
    // Saving choices appends only the changes.
    let (status, body) = post_form(
        &format!("{}/privacy/preferences", s.base),
        form(&[
            ("token", &pref),
            ("topic", "newsletter"),
            ("topic", "offers"),
            ("channel", "email"),
            ("frequency", "1"),
            ("action", "save"),
        ]),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let state = privacy::current_state(&s.store, "cal@example.com")
        .await
        .unwrap();
    assert_eq!(
        state.get("cal@example.com", "newsletter").unwrap().state,
        keel_consent::ledger::ConsentState::Granted
    );
    assert_eq!(
        state.get("cal@example.com", "channel:sms").unwrap().state,
        keel_consent::ledger::ConsentState::Denied
    );
    assert_eq!(
        privacy::preferences(&s.store, "cal@example.com")
            .await
            .unwrap()
            .unwrap()
            .max_sends_per_week,
        Some(1)
    );
    let (status, _) = post_form(
        &format!("{}/privacy/preferences", s.base),
        form(&[("token", &pref), ("action", "leave")]),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let state = privacy::current_state(&s.store, "cal@example.com")
        .await
        .unwrap();
    assert!(["newsletter", "offers", "personalisation"].iter().all(|p| {
        state
            .get("cal@example.com", p)
            .is_none_or(|c| !c.state.allows())
    }));

    // GPC on the ingestion API: an EU visitor is not opted out of anything by it (GDPR is
    // opt-in already); a Californian is.
    let (source, key) = keel_store::events::create_source(&s.store, &Actor::System("test"), "web")
        .await
        .unwrap();
    let _ = source;
    for (email, region) in [("eu@example.com", "DE"), ("ca@example.com", "US-CA")] {
        let res = client()
            .post(format!("{}/v1/identify", s.base))
            .basic_auth(&key, Some(""))
            .header("sec-gpc", "1")
            .json(&json!({"userId": "u1", "traits": {"email": email, "region": region}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert!(
        privacy::ledger_for(&s.store, "eu@example.com")
            .await
            .unwrap()
            .is_empty()
    );
    let ca = privacy::ledger_for(&s.store, "ca@example.com")
        .await
        .unwrap();
    assert_eq!(ca.len(), 1);
    assert_eq!(
        (
            ca[0].purpose.as_str(),
            ca[0].source.as_str(),
            ca[0].jurisdiction.as_deref()
        ),
        ("partner-ads", "api", Some("california"))
    );
}

#[tokio::test]
async fn subject_requests_access_export_erasure_and_retention() {
    let s = start().await;
    let p = Role::Privacy;
    let (source, key) = keel_store::events::create_source(&s.store, &Actor::System("test"), "web")
        .await
        .unwrap();
    let _ = source;
    for (msg, email, ts) in [
        ("m1", "dana@example.com", "2023-01-01T00:00:00Z"),
        ("m2", "dana@example.com", Utc::now().to_rfc3339().as_str()),
        ("m3", "other@example.com", "2023-01-01T00:00:00Z"),
    ] {
        let res = client()
            .post(format!("{}/v1/track", s.base))
            .basic_auth(&key, Some(""))
            .json(&json!({"messageId": msg, "userId": email, "event": "Viewed", "timestamp": ts}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    s.call(p, "POST", "/api/v1/privacy/consent", Some(json!({"email": "dana@example.com", "purpose": "newsletter", "state": "granted", "jurisdiction": "california"}))).await;
    s.call(p, "POST", "/api/v1/privacy/suppressions", Some(json!({"email": "dana@example.com", "scope": "brand", "value": "halyard-kids", "reason": "request"}))).await;
    let (status, r) = s.call(p, "POST", "/api/v1/privacy/requests", Some(json!({"kind": "access", "email": "dana@example.com", "jurisdiction": "california", "received_at": "2026-01-01T12:00:00Z"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(
        (r["due_on"].as_str(), r["extended_due_on"].as_str()),
        (Some("2026-02-15"), Some("2026-04-01"))
    );
    let id = r["id"].as_i64().unwrap();
    let (status, _) = s
        .call(
            p,
            "POST",
            &format!("/api/v1/privacy/requests/{id}/complete"),
            Some(json!({"note": "done"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "identity must be verified first"
    );
    s.call(
        p,
        "POST",
        &format!("/api/v1/privacy/requests/{id}/verify"),
        Some(json!({"note": "replied from the address"})),
    )
    .await;
    let (_, export) = s
        .call(
            p,
            "GET",
            &format!("/api/v1/privacy/requests/{id}/export"),
            None,
        )
        .await;
    // Completeness: every area Keel holds about the address is present and populated.
    for section in [
        "consent_ledger",
        "consent_texts",
        "suppressions",
        "subject_requests",
        "events",
        "double_opt_ins",
    ] {
        assert!(export[section].is_array(), "{section} missing");
    }
    assert_eq!(export["consent_ledger"].as_array().unwrap().len(), 1);
    assert_eq!(export["suppressions"].as_array().unwrap().len(), 1);
    assert_eq!(export["subject_requests"].as_array().unwrap().len(), 1);
    let events: Vec<&str> = export["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["m1", "m2"]);
    let (status, done) = s
        .call(
            p,
            "POST",
            &format!("/api/v1/privacy/requests/{id}/complete"),
            Some(json!({"note": "sent"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["result"]["export"]["events"], 2, "{done}");

    // Retention: dry run, then execution of exactly that plan.
    let (status, dry) = s
        .call(
            p,
            "POST",
            "/api/v1/privacy/retention/events-two-years/dry-run",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{dry}");
    assert_eq!(dry["counts"]["changes"]["event.delete"], 2, "{dry}");
    let dry_id = dry["id"].as_i64().unwrap();
    let (status, queued) = s
        .call(
            p,
            "POST",
            &format!("/api/v1/privacy/retention/runs/{dry_id}/execute"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let run = privacy::execute_retention(&s.store, &Actor::System("privacy.retention"), dry_id)
        .await
        .unwrap();
    assert_eq!(run.counts.0["applied"], dry["counts"]["changes"]);
    let (_, runs) = s
        .call(p, "GET", "/api/v1/privacy/retention/runs", None)
        .await;
    assert_eq!(runs.as_array().unwrap().len(), 2);

    // Erasure keeps a tombstone and nothing personal.
    let (_, r) = s
        .call(
            p,
            "POST",
            "/api/v1/privacy/requests",
            Some(json!({"kind": "erasure", "email": "dana@example.com"})),
        )
        .await;
    let id = r["id"].as_i64().unwrap();
    s.call(
        p,
        "POST",
        &format!("/api/v1/privacy/requests/{id}/verify"),
        Some(json!({"note": "ok"})),
    )
    .await;
    let (status, done) = s
        .call(
            p,
            "POST",
            &format!("/api/v1/privacy/requests/{id}/extend"),
            Some(json!({"note": "complex"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["extended"], true);
    let (status, done) = s
        .call(
            p,
            "POST",
            &format!("/api/v1/privacy/requests/{id}/complete"),
            Some(json!({"note": "erased"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["result"]["erasure"]["events_deleted"], 1);
    assert!(
        privacy::is_tombstoned(&s.store, "dana@example.com")
            .await
            .unwrap()
    );
    let (_, h) = s
        .call(p, "GET", "/api/v1/privacy/consent/dana@example.com", None)
        .await;
    assert!(h["ledger"].as_array().unwrap().is_empty());

    // Tags.
    let (status, t) = s.call(p, "POST", "/api/v1/privacy/tags", Some(json!({"name": "ga4", "vendor": "Google", "category": "analytics", "properties": ["www.example.com"], "src_pattern": "gtag/js"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let (status, _) = s
        .call(
            p,
            "POST",
            "/api/v1/privacy/tags",
            Some(json!({"name": "GA 4", "vendor": "", "category": "cookies", "src_pattern": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let tid = t["id"].as_i64().unwrap();
    let (status, _) = s.call(p, "PUT", &format!("/api/v1/privacy/tags/{tid}"), Some(json!({"name": "ga4", "vendor": "Google", "category": "targeted_advertising", "src_pattern": "gtag/js"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s
        .call(p, "DELETE", &format!("/api/v1/privacy/tags/{tid}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        keel_store::audit::verify(&s.store)
            .await
            .unwrap()
            .error
            .is_none()
    );
}

#[tokio::test]
async fn privacy_office_pages_render_for_the_privacy_role_only() {
    let s = start().await;
    s.call(Role::Privacy, "POST", "/api/v1/privacy/consent", Some(json!({"email": "ana@example.com", "purpose": "newsletter", "state": "granted", "jurisdiction": "eu"}))).await;
    s.call(
        Role::Privacy,
        "POST",
        "/api/v1/privacy/requests",
        Some(json!({"kind": "access", "email": "ana@example.com", "jurisdiction": "eu"})),
    )
    .await;
    for path in [
        "/consent",
        "/consent?subject=ana@example.com",
        "/consent/suppressions",
        "/consent/requests",
        "/consent/retention",
        "/consent/tags",
    ] {
        let res = client()
            .get(format!("{}{path}", s.base))
            .bearer_auth(&s.tokens[&Role::Privacy])
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(
            body.contains("Subject requests"),
            "{path}: nav entry missing"
        );
        let res = client()
            .get(format!("{}{path}", s.base))
            .bearer_auth(&s.tokens[&Role::Ops])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let body = client()
        .get(format!("{}/consent?subject=ana@example.com", s.base))
        .bearer_auth(&s.tokens[&Role::Privacy])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("History of ana@example.com") && body.contains("preferences?token="),
        "{body}"
    );
    let body = client()
        .get(format!("{}/consent/requests", s.base))
        .bearer_auth(&s.tokens[&Role::Privacy])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("d left"), "deadline shown");
}
