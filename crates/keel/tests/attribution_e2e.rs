//! End-to-end: the demo workspace's attribution dashboard shows every model, with cost and ROAS
//! from the demo's ad exports, and the journey explorer shows a demo customer's touches.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::serve;

#[tokio::test(flavor = "multi_thread")]
async fn demo_dashboard_renders_every_model() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keel.db");
    let server = serve(&db, &["--demo"]);
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = c
        .post(format!("{}/login", server.base))
        .form(&[
            ("email", "maya@halyard.example"),
            ("password", "keel-demo-2026"),
            ("next", "/attribution"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let page = r.text().await.unwrap();
    for model in [
        "first_touch",
        "last_touch",
        "last_non_direct",
        "linear",
        "time_decay",
        "position_based",
        "w_shaped",
        "full_path",
        "j_shaped",
        "inverse_j",
        "markov_order_1",
        "shapley",
    ] {
        assert!(
            page.contains(&format!(
                "<a href=\"/attribution?model={model}\">{model}</a>"
            )),
            "{model} has no chart on the dashboard"
        );
    }
    for channel in [
        "Paid Search",
        "Paid Social",
        "Email",
        "Organic Search",
        "Direct",
    ] {
        assert!(page.contains(channel), "{channel} missing");
    }
    assert!(page.contains("winter-sale") && page.contains("gift-guide"));
    assert!(page.contains('×'), "ROAS is shown for paid channels");
    let page = c
        .get(format!("{}/attribution/journeys?person=dv-3", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<h2>user:customer-3</h2>") || page.contains("<h2>anonymous:dv-3</h2>"),
        "{page}"
    );
    assert!(page.contains("<th>Channel</th>"), "{page}");
}
