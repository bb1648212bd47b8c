//! Attribution API against a real server: imports with exact accepted/quarantined counts and
//! idempotent re-import, stitching across identify/alias through stored events, every model in
//! the results, journeys, and the role table (403 for roles without the permission).

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

const GOOGLE: &str = "Campaign report\n\"Dec 2026\"\nDay,Campaign,Impr.,Clicks,Cost,Currency code\n\
2026-11-01,winter-sale,1000,40,100.00,USD\n\
2026-11-02,winter-sale,900,30,80.10,USD\n\
2026-11-02,,x,30,-5,USD\n\
Total: Account,,1900,70,180.10,USD\n";

const CRM: &str = "Opportunity ID,Account,Contact Email,Amount,Stage,Close Date\n\
o1,Acme,ann@acme.test,1200.00,Closed Won,2026-11-10\n\
o2,Acme,bob@acme,50,Prospecting,\n\
o3,Beta,cy@beta.test,300,Negotiation,\n";

fn segment(v: Value) -> keel_events::Event {
    keel_events::parse_message(&v, None, None, chrono::Utc::now()).unwrap()
}

#[tokio::test]
async fn imports_stitching_results_and_roles() {
    let s = start().await;
    let c = client();
    let admin = Some(s.tokens[&Admin].as_str());
    // Role table: imports need imports.run, results and journeys attribution.read.
    let import = json!({"file_name": "g.csv", "content": GOOGLE, "layout": "google-ads"});
    let table: Vec<(&str, &str, Option<Value>, Vec<Role>)> = vec![
        (
            "POST",
            "/api/v1/attribution/imports/costs",
            Some(import.clone()),
            vec![Admin, Ops],
        ),
        (
            "POST",
            "/api/v1/attribution/imports/opportunities",
            Some(json!({"file_name": "crm.csv", "content": CRM})),
            vec![Admin, Ops],
        ),
        (
            "GET",
            "/api/v1/attribution/quarantine",
            None,
            vec![Admin, Ops],
        ),
        ("GET", "/api/v1/attribution", None, vec![Admin, Ops]),
        (
            "GET",
            "/api/v1/attribution?model=linear",
            None,
            vec![Admin, Ops],
        ),
        ("GET", "/api/v1/journeys/nobody", None, vec![Admin, Ops]),
        (
            "POST",
            "/api/v1/attribution/recompute",
            None,
            vec![Admin, Ops],
        ),
    ];
    for (method, path, body, allowed) in &table {
        let anon = call(&c, &s.base, method, path, body, None).await;
        assert_eq!(anon.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        for role in Role::ALL {
            let r = call(&c, &s.base, method, path, body, Some(&s.tokens[&role])).await;
            if allowed.contains(&role) {
                assert!(
                    r.status() != StatusCode::FORBIDDEN && r.status().as_u16() < 500,
                    "{method} {path} as {role}: {}",
                    r.status()
                );
            } else {
                assert_eq!(
                    r.status(),
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {role}"
                );
            }
        }
    }

    // Imports: exact counts; the same file again changes nothing.
    let r: Value = call(
        &c,
        &s.base,
        "POST",
        "/api/v1/attribution/imports/costs",
        &Some(import.clone()),
        admin,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (
            r["accepted"].as_u64(),
            r["inserted"].as_u64(),
            r["unchanged"].as_u64()
        ),
        (Some(2), Some(0), Some(2)),
        "{r}"
    );
    assert_eq!(r["quarantined"].as_array().unwrap().len(), 1);
    assert_eq!(r["quarantined"][0]["row"], 6);
    assert_eq!(
        r["quarantined"][0]["reasons"].as_array().unwrap().len(),
        3,
        "{r}"
    );
    assert_eq!(r["skipped"], 3);
    let r = call(
        &c,
        &s.base,
        "POST",
        "/api/v1/attribution/imports/costs",
        &Some(json!({"file_name": "g.csv", "content": GOOGLE, "layout": "bing"})),
        admin,
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let q: Value = call(
        &c,
        &s.base,
        "GET",
        "/api/v1/attribution/quarantine",
        &None,
        admin,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(q.as_array().unwrap().len(), 2, "{q}");

    // Events: a paid-search visit as a1, an email visit as a2, a2 identified as u1 with ann's
    // e-mail, a1 aliased to u1 later — both earlier visits belong to u1, and the won opportunity
    // of ann@acme.test is u1's conversion.
    let (source, _) = keel_store::events::create_source(&s.store, &Actor::System("test"), "web")
        .await
        .unwrap();
    let events = vec![
        segment(
            json!({"type": "page", "messageId": "m1", "anonymousId": "a1", "timestamp": "2026-11-01T10:00:00Z",
            "context": {"page": {"url": "https://halyard.test/?utm_source=google&utm_medium=cpc&utm_campaign=winter-sale"}}}),
        ),
        segment(
            json!({"type": "page", "messageId": "m2", "anonymousId": "a2", "timestamp": "2026-11-03T10:00:00Z",
            "context": {"page": {"url": "https://halyard.test/?utm_source=newsletter&utm_medium=email"}}}),
        ),
        segment(
            json!({"type": "identify", "messageId": "m3", "anonymousId": "a2", "userId": "u1", "timestamp": "2026-11-03T10:05:00Z", "traits": {"email": "ann@acme.test"}}),
        ),
        segment(
            json!({"type": "alias", "messageId": "m4", "previousId": "a1", "userId": "u1", "timestamp": "2026-11-04T10:06:00Z"}),
        ),
        segment(
            json!({"type": "page", "messageId": "m5", "anonymousId": "a9", "timestamp": "2026-11-05T10:00:00Z"}),
        ),
    ];
    keel_store::events::ingest(&s.store, source.id, &events, &[])
        .await
        .unwrap();
    let summary = keel_web::api::attribution::recompute(&s.store)
        .await
        .unwrap();
    assert_eq!(summary["conversions"], 1, "{summary}");
    assert_eq!(summary["unmatched_opportunities"], 0, "{summary}");

    let all: Value = call(&c, &s.base, "GET", "/api/v1/attribution", &None, admin)
        .await
        .json()
        .await
        .unwrap();
    let models: Vec<&str> = all["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for m in [
        "first_touch",
        "last_touch",
        "linear",
        "time_decay",
        "position_based",
        "w_shaped",
    ] {
        assert!(
            models.iter().any(|x| x.starts_with(m)),
            "{m} missing from {models:?}"
        );
    }
    assert!(models.iter().any(|x| x.starts_with("markov")), "{models:?}");
    assert!(
        models.iter().any(|x| x.starts_with("shapley")),
        "{models:?}"
    );
    let first: Value = call(
        &c,
        &s.base,
        "GET",
        "/api/v1/attribution?model=first_touch",
        &None,
        admin,
    )
    .await
    .json()
    .await
    .unwrap();
    let paid = first["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["channel"] == "Paid Search")
        .unwrap();
    assert_eq!(paid["conversions"], 1.0);
    assert_eq!(paid["value"], 1200.0);
    assert_eq!(paid["cost"], 180.1);
    assert!((paid["roas"].as_f64().unwrap() - 1200.0 / 180.1).abs() < 1e-9);

    // The journey explorer finds u1 by any of its ids.
    for id in ["u1", "a1", "anonymous:a2"] {
        let j: Value = call(
            &c,
            &s.base,
            "GET",
            &format!("/api/v1/journeys/{id}"),
            &None,
            admin,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(j["person"], "user:u1", "{j}");
        let touches = j["journeys"][0]["touches"].as_array().unwrap();
        let channels: Vec<&str> = touches
            .iter()
            .map(|t| t["channel"].as_str().unwrap())
            .collect();
        assert_eq!(channels, ["Paid Search", "Email"]);
        assert_eq!(touches[1]["credit"]["last_touch"], 1.0);
    }
    let r = call(&c, &s.base, "GET", "/api/v1/journeys/nobody", &None, admin).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// Channel results of every model, as stored by the last run, in a fixed order.
async fn stored_credits(store: &Store) -> Vec<(String, String, Option<String>, f64, f64)> {
    let mut rows: Vec<_> = keel_store::attribution::results(store, None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.model, r.channel, r.campaign, r.conversions, r.value))
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    rows
}

fn assert_same(
    a: &[(String, String, Option<String>, f64, f64)],
    b: &[(String, String, Option<String>, f64, f64)],
) {
    assert_eq!(a.len(), b.len(), "{a:?}\n{b:?}");
    for (x, y) in a.iter().zip(b) {
        assert_eq!((&x.0, &x.1, &x.2), (&y.0, &y.1, &y.2));
        assert!(
            (x.3 - y.3).abs() < 1e-9 && (x.4 - y.4).abs() < 1e-6,
            "{x:?} != {y:?}"
        );
    }
}

fn visit(id: &str, user: bool, at: &str, utm: &str) -> keel_events::Event {
    let who = if user { "userId" } else { "anonymousId" };
    segment(
        json!({"type": "page", "messageId": format!("{id}-{at}"), who: id, "timestamp": at,
        "context": {"page": {"url": format!("https://halyard.test/?{utm}")}}}),
    )
}

fn order(user: &str, at: &str, revenue: f64) -> keel_events::Event {
    segment(
        json!({"type": "track", "event": "Order Completed", "messageId": format!("{user}-order-{at}"),
        "userId": user, "timestamp": at, "properties": {"revenue": revenue}}),
    )
}

#[tokio::test]
async fn late_events_rebuild_only_the_people_they_touch() {
    let s = start().await;
    let actor = Actor::System("test");
    let (source, _) = keel_store::events::create_source(&s.store, &actor, "web")
        .await
        .unwrap();
    let search = "utm_source=google&utm_medium=cpc&utm_campaign=brand";
    let email = "utm_source=newsletter&utm_medium=email";
    let social = "utm_source=facebook&utm_medium=paid_social";
    let mut events = Vec::new();
    for (k, user) in ["u1", "u2", "u3", "u4"].iter().enumerate() {
        let day = 10 + k;
        events.push(visit(
            user,
            true,
            &format!("2026-11-{day:02}T09:00:00Z"),
            search,
        ));
        events.push(visit(
            user,
            true,
            &format!("2026-11-{:02}T09:00:00Z", day + 1),
            email,
        ));
        events.push(order(
            user,
            &format!("2026-11-{:02}T09:10:00Z", day + 1),
            100.0 * (k as f64 + 1.0),
        ));
        // A later visit: a non-converting journey.
        events.push(visit(
            user,
            true,
            &format!("2026-11-{:02}T09:00:00Z", day + 5),
            social,
        ));
    }
    events.push(visit("a9", false, "2026-11-20T09:00:00Z", social));
    keel_store::events::ingest(&s.store, source.id, &events, &[])
        .await
        .unwrap();
    let first = keel_web::api::attribution::recompute(&s.store)
        .await
        .unwrap();
    assert_eq!(first["mode"], "full", "{first}");
    assert_eq!(first["rebuilt_people"], 5, "{first}");
    assert_eq!(first["rebuilt_journeys"], 9, "{first}");
    assert_eq!(first["conversions"], 4, "{first}");
    assert_eq!(
        first["conversion_events"],
        json!(["Form Submitted", "Order Completed"]),
        "{first}"
    );

    // Nothing new: nothing rebuilt, same results.
    let before = stored_credits(&s.store).await;
    let again = keel_web::api::attribution::recompute(&s.store)
        .await
        .unwrap();
    assert_eq!(
        (again["mode"].as_str(), again["rebuilt_journeys"].as_u64()),
        (Some("incremental"), Some(0))
    );
    assert_same(&stored_credits(&s.store).await, &before);

    // One late event for u2: a social visit before its conversion arrives now.
    keel_store::events::ingest(
        &s.store,
        source.id,
        &[visit("u2", true, "2026-11-11T20:00:00Z", social)],
        &[],
    )
    .await
    .unwrap();
    let late = keel_web::api::attribution::recompute(&s.store)
        .await
        .unwrap();
    assert_eq!(late["mode"], "incremental", "{late}");
    assert_eq!(late["rebuilt_people"], 1, "{late}");
    assert_eq!(late["rebuilt_journeys"], 2, "{late}");
    let incremental = stored_credits(&s.store).await;
    assert_ne!(incremental.len(), 0);
    let full = keel_web::api::attribution::recompute_with(&s.store, true)
        .await
        .unwrap();
    assert_eq!(full["mode"], "full");
    assert_eq!(full["rebuilt_journeys"], 9);
    assert_same(&incremental, &stored_credits(&s.store).await);
    for k in [
        "people",
        "conversions",
        "null_journeys",
        "conversions_without_touches",
    ] {
        assert_eq!(late[k], full[k], "{k}");
    }

    // A late alias merges a9 into u4: both people's journeys are rebuilt, as one person.
    keel_store::events::ingest(
        &s.store,
        source.id,
        &[segment(json!({"type": "alias", "messageId": "late-alias", "previousId": "a9", "userId": "u4", "timestamp": "2026-11-21T09:00:00Z"}))],
        &[],
    )
    .await
    .unwrap();
    let merged = keel_web::api::attribution::recompute(&s.store)
        .await
        .unwrap();
    assert_eq!(merged["mode"], "incremental", "{merged}");
    assert_eq!(merged["rebuilt_people"], 1, "{merged}");
    assert_eq!(merged["people"], 4, "{merged}");
    let incremental = stored_credits(&s.store).await;
    let full = keel_web::api::attribution::recompute_with(&s.store, true)
        .await
        .unwrap();
    assert_same(&incremental, &stored_credits(&s.store).await);
    assert_eq!(merged["null_journeys"], full["null_journeys"]);

    // Configured conversion events change what a journey is: every journey is rebuilt.
    let mut spec = serde_json::to_value(keel_attribution::channels::ga4_spec()).unwrap();
    spec["conversions"] = json!([{"event": "Order Completed", "value_property": "revenue"}, {"event": "Demo Booked"}]);
    keel_store::documents::put(
        &s.store,
        &actor,
        &keel_store::documents::DesiredDocument {
            kind: "ChannelRules".into(),
            name: "default".into(),
            api_version: "keel/v1".into(),
            metadata: json!({"name": "default"}),
            spec,
        },
        None,
    )
    .await
    .unwrap();
    let configured = keel_web::api::attribution::recompute(&s.store)
        .await
        .unwrap();
    assert_eq!(configured["mode"], "full", "{configured}");
    assert_eq!(
        configured["conversion_events"],
        json!(["Order Completed (value: revenue)", "Demo Booked"]),
        "{configured}"
    );
    assert_eq!(configured["conversions"], 4, "{configured}");
}
