//! The Segment-compatible tracking API against a real server and database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_store::{Actor, Store, migrations};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Write;

struct Server {
    base: String,
    store: Store,
    key: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    let (_, key) = keel_store::events::create_source(&store, &Actor::System("test"), "website")
        .await
        .unwrap();
    let state = keel_web::AppState::new(store.clone(), Default::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(keel_web::serve(state, listener, std::future::pending()));
    Server {
        base,
        store,
        key,
        _dir: dir,
    }
}

async fn stored(s: &Server) -> i64 {
    keel_store::sql("SELECT COUNT(*) FROM events")
        .fetch_scalar(&s.store)
        .await
        .unwrap()
}

#[tokio::test]
async fn track_identify_and_batch_with_dedupe() {
    let s = start().await;
    let c = reqwest::Client::new();
    let r = c.post(format!("{}/v1/track", s.base)).basic_auth(&s.key, Some(""))
        .json(&json!({"userId": "u1", "event": "Demo Requested", "messageId": "m1", "properties": {"plan": "pro"},
                      "context": {"campaign": {"source": "google", "medium": "cpc", "name": "q4"}}}))
        .send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["success"], true);
    // The same message again, inside a batch with a new one: stored once.
    let r = c.post(format!("{}/v1/batch", s.base)).basic_auth(&s.key, Some(""))
        .json(&json!({"batch": [
            {"type": "track", "userId": "u1", "event": "Demo Requested", "messageId": "m1"},
            {"type": "identify", "userId": "u1", "anonymousId": "a1", "messageId": "m2", "traits": {"email": "u1@example.com"}},
            {"type": "track", "anonymousId": "a1"}
        ]}))
        .send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"success": true, "stored": 1, "rejected": 1}));
    assert_eq!(stored(&s).await, 2);
    let reasons: Vec<(String, i64)> =
        keel_store::sql("SELECT reason, COUNT(*) FROM event_rejects GROUP BY reason")
            .fetch_all(&s.store)
            .await
            .unwrap();
    assert_eq!(reasons, vec![("missing_event_name".to_string(), 1)]);
}

#[tokio::test]
async fn browser_short_paths_text_plain_gzip_and_cors() {
    let s = start().await;
    let c = reqwest::Client::new();
    // analytics.js: writeKey in the body, text/plain, short path.
    let r = c
        .post(format!("{}/v1/p", s.base))
        .header("content-type", "text/plain")
        .body(
            json!({"writeKey": s.key, "anonymousId": "a9", "name": "Pricing", "messageId": "p1"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    // gzip.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        json!({"batch": [{"type": "page", "anonymousId": "a9", "messageId": "p2"}]})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let r = c
        .post(format!("{}/v1/b", s.base))
        .basic_auth(&s.key, Some(""))
        .header("content-encoding", "gzip")
        .header("content-type", "application/json")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(stored(&s).await, 2);
    // CORS preflight.
    let r = c
        .request(reqwest::Method::OPTIONS, format!("{}/v1/t", s.base))
        .header("origin", "https://www.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn bad_input_has_defined_answers() {
    let s = start().await;
    let c = reqwest::Client::new();
    let post = |path: &str, body: String| {
        c.post(format!("{}{path}", s.base))
            .basic_auth(&s.key, Some(""))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(
        c.post(format!("{}/v1/track", s.base))
            .basic_auth("wk_nope", Some(""))
            .json(&json!({"userId": "u", "event": "E"}))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        c.post(format!("{}/v1/track", s.base))
            .json(&json!({"userId": "u", "event": "E"}))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post("/v1/track", "{oops".into()).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let r = post("/v1/track", json!({"event": "E"}).to_string())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["field"],
        "missing_identity"
    );
    let big = json!({"userId": "u", "event": "E", "properties": {"blob": "x".repeat(33 * 1024)}})
        .to_string();
    assert_eq!(
        post("/v1/track", big).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let huge = json!({"batch": (0..600).map(|i| json!({"type": "track", "userId": "u", "event": "E", "messageId": format!("m{i}"), "properties": {"pad": "x".repeat(1000)}})).collect::<Vec<_>>()}).to_string();
    assert_eq!(
        post("/v1/batch", huge).await.unwrap().status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let future =
        json!({"userId": "u", "event": "E", "timestamp": "2099-01-01T00:00:00Z"}).to_string();
    assert_eq!(
        post("/v1/track", future).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post("/v1/shout", "{}".into()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(stored(&s).await, 0);
    let rejects: i64 = keel_store::sql("SELECT COUNT(*) FROM event_rejects")
        .fetch_scalar(&s.store)
        .await
        .unwrap();
    assert_eq!(
        rejects, 3,
        "refused single messages are kept with their reason"
    );
}
