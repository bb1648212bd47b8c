//! Privacy across systems, over HTTP against a real server on a random port and a real SQLite
//! database: eligibility for a saved contact segment (API and job), the access export as a
//! printable HTML document complete against the JSON, erasure delivered to connected systems
//! (a loopback webhook receiver, a manual task, retries, acknowledgement), and rotation of the
//! link-signing key with the previous key accepted for its grace period.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use keel_accounts::{EmailAddress, Role, hash_password, new_api_token};
use keel_consent::token::{self, SigningKey, TokenPurpose};
use keel_contacts::record::Lineage;
use keel_contacts::{FieldValue, ObjectKind, Record};
use keel_store::accounts::{self, NewUser};
use keel_store::privacy;
use keel_store::{Actor, Store, migrations};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server {
    base: String,
    store: Store,
    tokens: HashMap<Role, String>,
    _dir: tempfile::TempDir,
}

async fn apply_yaml(store: &Store, files: Vec<(String, String)>) {
    let files: Vec<keel_manifests::SourceFile> = files
        .into_iter()
        .map(|(name, text)| keel_manifests::SourceFile::new(name, text))
        .collect();
    let loaded = keel_manifests::load(&files, &keel_web::ops::registry());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let mut current = keel_web::ops::current_documents(store).await.unwrap();
    // Apply adds: keep what is stored, add the new documents.
    let mut desired = current.clone();
    desired.extend(loaded.documents());
    current.sort_by(|a, b| (&a.kind, &a.metadata.name).cmp(&(&b.kind, &b.metadata.name)));
    let plan = keel_manifests::plan(&current, &desired);
    keel_web::ops::apply_plan(store, &Actor::System("test"), &plan, "test documents")
        .await
        .unwrap();
}

async fn privacy_documents() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ops/privacy");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        files.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    files
}

async fn start(secret: Option<&str>, extra: Vec<(String, String)>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    let mut docs = privacy_documents().await;
    docs.extend(extra);
    apply_yaml(&store, docs).await;
    let mut tokens = HashMap::new();
    let hash = hash_password("correct horse battery").unwrap();
    for role in [Role::Privacy, Role::Admin, Role::Viewer] {
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut state = keel_web::AppState::new(store.clone(), Default::default()).unwrap();
    state.privacy = Arc::new(keel_web::api::privacy::PrivacyConfig::new(
        base.clone(),
        secret.map(str::to_string),
        None,
    ));
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

    async fn get_text(
        &self,
        role: Role,
        path: &str,
    ) -> (StatusCode, HashMap<String, String>, String) {
        let res = client()
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.tokens[&role])
            .send()
            .await
            .unwrap();
        let status = res.status();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        (status, headers, res.text().await.unwrap())
    }
}

fn contact(id: &str, first: &str, email: &str, country: &str, title: &str) -> Record {
    let at = Utc::now() - chrono::Duration::days(10);
    let lin = || Lineage {
        system: "salesforce".into(),
        source: "leads-2026.csv".into(),
        at,
    };
    let mut r = Record::new(id, ObjectKind::Contact, "salesforce", at);
    r.set("first_name", FieldValue::Text(first.into()), lin());
    r.set("email", FieldValue::Text(email.into()), lin());
    r.set("country", FieldValue::Text(country.into()), lin());
    r.set("title", FieldValue::Text(title.into()), lin());
    r.set("lifecycle_stage", FieldValue::Text("lead".into()), lin());
    r
}

const SEGMENT: &str = r#"apiVersion: keel/v1
kind: Segment
metadata:
  name: buyers
  description: Buyers anywhere.
spec:
  object: contact
  filter:
    field: {name: title, op: eq, value: Buyer}
"#;

#[tokio::test]
async fn eligibility_for_a_saved_segment_counts_its_members_by_reason() {
    let s = start(None, vec![("segment.yaml".into(), SEGMENT.into())]).await;
    let actor = Actor::System("test");
    for r in [
        contact("ct_1", "Ana", "ana@example.com", "DE", "Buyer"),
        contact("ct_2", "Bo", "bo@example.com", "SE", "Buyer"),
        contact("ct_3", "Cy", "cy@example.com", "US", "Buyer"),
        contact("ct_4", "Di", "di@example.com", "DE", "Owner"),
        contact("ct_5", "Ed", "ed@example.com", "FR", "Buyer"),
    ] {
        keel_store::contacts::create(&s.store, &actor, &r)
            .await
            .unwrap();
    }
    // Ana consented; Ed complained (hygiene suppression on the contact record).
    let p = Role::Privacy;
    let (status, body) = s.call(p, "POST", "/api/v1/privacy/consent", Some(json!({"email": "ana@example.com", "purpose": "newsletter", "state": "granted", "jurisdiction": "eu"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    keel_store::contacts::record_hygiene(
        &s.store,
        &actor,
        "ed@example.com",
        "complaint",
        "",
        "api",
        Utc::now(),
    )
    .await
    .unwrap();

    let (status, run) = s
        .call(
            p,
            "POST",
            "/api/v1/eligibility/runs",
            Some(json!({"purpose": "newsletter", "channel": "email", "segment": "buyers"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    assert_eq!(run["segment"], "buyers");
    let id = run["id"].as_i64().unwrap();
    keel_web::api::privacy::run_eligibility_job(&s.store, id)
        .await
        .unwrap();
    let (_, run) = s
        .call(p, "GET", &format!("/api/v1/eligibility/runs/{id}"), None)
        .await;
    assert_eq!(run["status"], "done", "{run}");
    // Four buyers: Ana eligible; Bo (SE, so GDPR by the contact's country) has no consent; Ed is
    // suppressed; Cy (US without a state) falls back to the default rules.
    assert_eq!(run["total"], 4, "{run}");
    let by_reason = &run["by_reason"];
    assert!(by_reason["no_consent"].as_u64().unwrap() >= 1, "{run}");
    assert_eq!(by_reason["suppressed_global"], 1, "{run}");
    assert!(run["eligible"].as_i64().unwrap() >= 1, "{run}");

    // The same check from the function the CLI uses gives the same counts.
    let members = keel_web::api::privacy::segment_members(&s.store, "buyers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(members.subjects.len(), 4);
    assert_eq!(members.regions["bo@example.com"], "SE");
    let (total, eligible, reasons) = keel_web::api::privacy::check_segment(
        &s.store,
        "newsletter",
        keel_consent::eligibility::Channel::Email,
        None,
        None,
        &members.subjects,
        &members.regions,
    )
    .await
    .unwrap();
    assert_eq!(total, 4);
    assert_eq!(json!(eligible), run["eligible"]);
    assert_eq!(json!(reasons), run["by_reason"]);

    // Bad input: an unknown segment, or both a list and a segment.
    let (status, body) = s
        .call(
            p,
            "POST",
            "/api/v1/eligibility/runs",
            Some(json!({"purpose": "newsletter", "channel": "email", "segment": "nope"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = s
        .call(p, "POST", "/api/v1/eligibility/runs", Some(json!({"purpose": "newsletter", "channel": "email", "segment": "buyers", "emails": ["a@example.com"]})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = s
        .call(
            Role::Viewer,
            "POST",
            "/api/v1/eligibility/runs",
            Some(json!({"purpose": "newsletter", "channel": "email", "segment": "buyers"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn access_export_as_html_has_every_section_of_the_json() {
    let s = start(None, Vec::new()).await;
    let actor = Actor::System("test");
    keel_store::contacts::create(
        &s.store,
        &actor,
        &contact("ct_ana", "Ana", "ana@example.com", "DE", "Buyer"),
    )
    .await
    .unwrap();
    keel_store::contacts::record_hygiene(
        &s.store,
        &actor,
        "ana@example.com",
        "soft_bounce",
        "mailbox full",
        "api",
        Utc::now(),
    )
    .await
    .unwrap();
    keel_store::contacts::change_stage(
        &s.store,
        &actor,
        "ct_ana",
        "lead",
        "mql",
        Some("score"),
        Utc::now(),
    )
    .await
    .unwrap();
    let p = Role::Privacy;
    s.call(p, "POST", "/api/v1/privacy/consent", Some(json!({"email": "ana@example.com", "purpose": "newsletter", "state": "granted", "jurisdiction": "eu", "text": "Yes, send me the <Halyard> newsletter.", "text_version": "web-1"}))).await;
    s.call(p, "POST", "/api/v1/privacy/suppressions", Some(json!({"email": "ana@example.com", "scope": "brand", "value": "halyard-kids", "reason": "request"}))).await;
    let (_, r) = s
        .call(
            p,
            "POST",
            "/api/v1/privacy/requests",
            Some(json!({"kind": "access", "email": "ana@example.com", "jurisdiction": "eu"})),
        )
        .await;
    let id = r["id"].as_i64().unwrap();

    let (status, json_export) = s
        .call(
            p,
            "GET",
            &format!("/api/v1/privacy/requests/{id}/export"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json_export["contacts"][0]["record"]["record"]["lineage"]["email"]["system"],
        "salesforce"
    );
    let (status, headers, html) = s
        .get_text(
            p,
            &format!("/api/v1/privacy/requests/{id}/export?format=html"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].starts_with("text/html"));
    assert!(headers["content-disposition"].contains(&format!("access-export-{id}.html")));
    // Completeness: every section of the JSON export has its section in the document, except the
    // header fields.
    for key in json_export.as_object().unwrap().keys() {
        if key == "subject" || key == "exported_at" {
            assert!(html.contains("ana@example.com"));
            continue;
        }
        assert!(
            html.contains(&format!("<section id=\"{key}\">")),
            "section {key} missing"
        );
    }
    // And the content is there: field lineage, the consent text (escaped), the hygiene event,
    // the lifecycle change, the suppression and the request.
    for needle in [
        "leads-2026.csv",
        "Yes, send me the &lt;Halyard&gt; newsletter.",
        "mailbox full",
        "mql",
        "halyard-kids",
        "web-1",
        &format!("<td>{id}</td>"),
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    // Unknown format; another role.
    let (status, _) = s
        .call(
            p,
            "GET",
            &format!("/api/v1/privacy/requests/{id}/export?format=pdf"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = s
        .get_text(
            Role::Viewer,
            &format!("/api/v1/privacy/requests/{id}/export?format=html"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The queue page links both downloads.
    let (_, _, page) = s.get_text(p, "/consent/requests").await;
    assert!(page.contains(&format!("/api/v1/privacy/requests/{id}/export?format=html")));
}

/// A loopback HTTP receiver: answers each request with the next status of `script` (then 200),
/// recording the bodies.
async fn receiver(script: Vec<u16>) -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/erase", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut script = script.into_iter();
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if rest.len() >= len {
                        break Some(rest[..len].to_string());
                    }
                }
            };
            if let Some(body) = body {
                log.lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap_or(Value::Null));
            }
            let status = script.next().unwrap_or(200);
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    (url, seen)
}

fn tools(endpoint: &str) -> String {
    format!(
        r#"apiVersion: keel/v1
kind: Tool
metadata:
  name: crm
spec:
  display_name: Halyard CRM
  vendor: Example
  categories: [crm]
  lifecycle: live
  holds_pii: true
  erasure_endpoint: {endpoint}
---
apiVersion: keel/v1
kind: Tool
metadata:
  name: webinars
spec:
  display_name: Webinar platform
  vendor: Example
  categories: [collaboration]
  lifecycle: live
  holds_pii: true
---
apiVersion: keel/v1
kind: Tool
metadata:
  name: dashboards
spec:
  display_name: Dashboards
  vendor: Example
  categories: [bi]
  lifecycle: live
"#
    )
}

async fn run_erasure_job(store: &Store, delivery: i64, last: bool) -> Result<(), String> {
    keel_web::api::privacy::deliver_erasure(store, delivery, last).await
}

#[tokio::test]
async fn erasure_is_queued_for_connected_systems_and_completes_when_all_are_done() {
    // The CRM's webhook fails once (503), then accepts.
    let (url, seen) = receiver(vec![503]).await;
    let s = start(None, vec![("tools.yaml".into(), tools(&url))]).await;
    let p = Role::Privacy;
    s.call(p, "POST", "/api/v1/privacy/consent", Some(json!({"email": "erin@example.com", "purpose": "newsletter", "state": "granted", "jurisdiction": "eu"}))).await;
    let (_, r) = s
        .call(
            p,
            "POST",
            "/api/v1/privacy/requests",
            Some(json!({"kind": "erasure", "email": "erin@example.com", "jurisdiction": "eu"})),
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
    let (status, r) = s
        .call(
            p,
            "POST",
            &format!("/api/v1/privacy/requests/{id}/complete"),
            Some(json!({"note": "erase"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "awaiting_systems", "{r}");
    assert_eq!(r["sla"], "on_track", "still tracked against its deadline");
    assert!(
        privacy::is_tombstoned(&s.store, "erin@example.com")
            .await
            .unwrap()
    );
    let (_, systems) = s
        .call(
            p,
            "GET",
            &format!("/api/v1/privacy/requests/{id}/systems"),
            None,
        )
        .await;
    let systems = systems.as_array().unwrap().clone();
    assert_eq!(
        systems.len(),
        2,
        "only tools holding personal data: {systems:?}"
    );
    let crm = systems.iter().find(|d| d["system"] == "crm").unwrap();
    let webinars = systems.iter().find(|d| d["system"] == "webinars").unwrap();
    assert_eq!(crm["status"], "queued");
    assert!(
        crm["job_id"].as_i64().is_some(),
        "a durable job per webhook"
    );
    assert_eq!(webinars["status"], "manual");
    // Completing twice is refused.
    let (status, _) = s
        .call(
            p,
            "POST",
            &format!("/api/v1/privacy/requests/{id}/complete"),
            Some(json!({"note": "again"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The job: first attempt fails (retried by the runner), second is delivered.
    let crm_id = crm["id"].as_i64().unwrap();
    assert!(run_erasure_job(&s.store, crm_id, false).await.is_err());
    let d = privacy::delivery(&s.store, crm_id).await.unwrap();
    assert_eq!((d.status.as_str(), d.attempts), ("queued", 1));
    assert!(d.last_error.unwrap().contains("503"));
    run_erasure_job(&s.store, crm_id, false).await.unwrap();
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["type"], "erasure_request");
    assert_eq!(bodies[1]["email"], "erin@example.com");
    assert_eq!(bodies[1]["request_id"], id);
    let d = privacy::delivery(&s.store, crm_id).await.unwrap();
    assert_eq!(d.status, "delivered");
    assert!(
        !d.subject.contains("erin"),
        "the address is forgotten once delivered"
    );
    // Running the job again does nothing.
    run_erasure_job(&s.store, crm_id, false).await.unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);

    // Not complete while the manual task is open; the page lists it with the address to erase.
    let (_, r) = s
        .call(p, "GET", &format!("/api/v1/privacy/requests/{id}"), None)
        .await;
    assert_eq!(r["status"], "awaiting_systems");
    let (_, _, page) = s.get_text(p, "/consent/requests").await;
    assert!(
        page.contains("Webinar platform")
            && page.contains("erase <span class=\"mono\">erin@example.com"),
        "manual task shown"
    );
    assert!(page.contains("delivered"));
    // Acknowledging needs a note and the role.
    let ack = format!("/api/v1/privacy/requests/{id}/systems/webinars/acknowledge");
    let (status, _) = s.call(p, "POST", &ack, Some(json!({"note": " "}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = s
        .call(Role::Viewer, "POST", &ack, Some(json!({"note": "done"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, r) = s
        .call(
            p,
            "POST",
            &ack,
            Some(json!({"note": "deleted in the admin console"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["result"]["systems"]["crm"], "delivered");
    assert_eq!(r["result"]["systems"]["webinars"], "acknowledged");
    let (status, _) = s
        .call(p, "POST", &ack, Some(json!({"note": "again"})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // No delivery keeps the address.
    for d in privacy::deliveries_for(&s.store, id).await.unwrap() {
        assert!(!d.subject.contains("erin"), "{d:?}");
    }
    assert!(
        keel_store::audit::verify(&s.store)
            .await
            .unwrap()
            .error
            .is_none()
    );
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_is_marked_failed_and_can_be_acknowledged() {
    let (url, _) = receiver(vec![500, 500, 500]).await;
    let s = start(None, vec![("tools.yaml".into(), tools(&url))]).await;
    let p = Role::Privacy;
    let (_, r) = s
        .call(
            p,
            "POST",
            "/api/v1/privacy/requests",
            Some(json!({"kind": "erasure", "email": "finn@example.com"})),
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
    s.call(
        p,
        "POST",
        &format!("/api/v1/privacy/requests/{id}/complete"),
        Some(json!({"note": "x"})),
    )
    .await;
    let crm = privacy::deliveries_for(&s.store, id)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.system == "crm")
        .unwrap();
    assert!(run_erasure_job(&s.store, crm.id, true).await.is_err());
    let d = privacy::delivery(&s.store, crm.id).await.unwrap();
    assert_eq!(d.status, "failed");
    for system in ["crm", "webinars"] {
        let (status, _) = s
            .call(
                p,
                "POST",
                &format!("/api/v1/privacy/requests/{id}/systems/{system}/acknowledge"),
                Some(json!({"note": "confirmed by the vendor"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, r) = s
        .call(p, "GET", &format!("/api/v1/privacy/requests/{id}"), None)
        .await;
    assert_eq!(r["status"], "completed");
}

#[tokio::test]
async fn rotating_the_signing_key_keeps_old_links_working_for_the_grace_period() {
    let s = start(None, Vec::new()).await;
    // A preference-centre link signed with the key in force now.
    let old_secret = privacy::signing_secret(&s.store).await.unwrap();
    let old_key = SigningKey::new(old_secret.as_bytes()).unwrap();
    let claims = token::claims(
        TokenPurpose::PreferenceCentre,
        "gus@example.com",
        Utc::now(),
        chrono::Duration::days(30),
        [7u8; 16],
    );
    let old_link = format!(
        "/privacy/preferences?token={}",
        token::sign(&old_key, &claims)
    );
    let (status, _, _) = s.get_text(Role::Viewer, &old_link).await;
    assert_eq!(status, StatusCode::OK);

    // Only administrators rotate.
    let (status, _) = s
        .call(
            Role::Privacy,
            "POST",
            "/api/v1/privacy/signing-key/rotate",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .call(
            Role::Admin,
            "POST",
            "/api/v1/privacy/signing-key/rotate",
            Some(json!({"grace_days": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, r) = s
        .call(
            Role::Admin,
            "POST",
            "/api/v1/privacy/signing-key/rotate",
            Some(json!({"grace_days": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert!(r["previous_valid_until"].is_string());
    let (_, info) = s
        .call(Role::Admin, "GET", "/api/v1/privacy/signing-key", None)
        .await;
    assert_eq!(info["source"], "database");
    assert!(
        !info.to_string().contains(&old_secret),
        "the key is never shown"
    );

    // The old link still works; new links are signed with the new key.
    let new_secret = privacy::signing_secret(&s.store).await.unwrap();
    assert_ne!(new_secret, old_secret);
    let (status, _, _) = s.get_text(Role::Viewer, &old_link).await;
    assert_eq!(status, StatusCode::OK, "old link within the grace period");
    let new_key = SigningKey::new(new_secret.as_bytes()).unwrap();
    let new_link = format!(
        "/privacy/preferences?token={}",
        token::sign(&new_key, &claims)
    );
    let (status, _, _) = s.get_text(Role::Viewer, &new_link).await;
    assert_eq!(status, StatusCode::OK);

    // After the grace period (or a second rotation) the old key is refused.
    let secrets = privacy::signing_secrets(&s.store, Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    assert_eq!(secrets.previous, None);
    let (status, _) = s
        .call(
            Role::Admin,
            "POST",
            "/api/v1/privacy/signing-key/rotate",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = s.get_text(Role::Viewer, &old_link).await;
    assert_ne!(status, StatusCode::OK, "two rotations ago: refused");
    let (status, _, _) = s.get_text(Role::Viewer, &new_link).await;
    assert_eq!(status, StatusCode::OK, "previous key still accepted");

    // Audited without the secrets.
    let (entries, _) = keel_store::audit::list(
        &s.store,
        &keel_store::audit::AuditFilter {
            entity_type: Some("privacy_setting".into()),
            ..Default::default()
        },
        50,
        0,
    )
    .await
    .unwrap();
    let rotations: Vec<_> = entries.iter().filter(|e| e.action == "rotate").collect();
    assert_eq!(rotations.len(), 2);
    for e in rotations {
        let text = serde_json::to_string(&e.after).unwrap();
        assert!(!text.contains(&old_secret) && !text.contains(&new_secret));
    }

    // With the key from the environment, rotation through the API is refused.
    let env = start(
        Some("env-secret-env-secret-env-secret-0123456789"),
        Vec::new(),
    )
    .await;
    let (status, _) = env
        .call(
            Role::Admin,
            "POST",
            "/api/v1/privacy/signing-key/rotate",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}
