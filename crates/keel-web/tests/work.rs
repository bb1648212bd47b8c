//! Work over HTTP against the shipped request types, workflows and policies in `examples/ops/work`:
//! intake refused with every missing field named, routine requests approved by policy with the
//! deciding rule, non-routine ones in the right approvers' inboxes, governed transitions (409
//! with the allowed moves; of two concurrent moves exactly one wins), role checks, and the
//! iCalendar feed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Days, Utc};
use keel_accounts::{EmailAddress, Role, new_api_token};
use keel_store::accounts::{self, NewUser};
use keel_store::{Actor, Store, migrations};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Server {
    base: String,
    tokens: std::collections::HashMap<&'static str, String>,
    _dir: tempfile::TempDir,
}

const PEOPLE: &[(&str, &str, Role)] = &[
    ("lucas", "lucas@halyard.example", Role::Requester),
    ("daniel", "daniel@halyard.example", Role::Approver),
    ("omar", "omar@halyard.example", Role::Finance),
    ("jonas", "jonas@halyard.example", Role::Ops),
    ("ava", "ava@halyard.example", Role::Viewer),
];

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    let mut tokens = std::collections::HashMap::new();
    for (who, email, role) in PEOPLE {
        let u = accounts::create_user(
            &store,
            &Actor::System("t"),
            &NewUser {
                email: EmailAddress::parse(email).unwrap(),
                name: (*who).into(),
                password_hash: None,
                roles: vec![*role],
            },
        )
        .await
        .unwrap();
        let t = new_api_token();
        accounts::create_token(&store, &Actor::System("t"), u.user.id, "t", &[*role], &t)
            .await
            .unwrap();
        tokens.insert(*who, t.secret);
    }
    // The shipped work documents, applied exactly as `keel apply` does.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ops/work");
    let files = keel_manifests::fs::read_tree(std::path::Path::new(root)).unwrap();
    let loaded = keel_manifests::load(&files, &keel_web::ops::registry());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let current = keel_web::ops::current_documents(&store).await.unwrap();
    let plan = keel_manifests::plan(&current, &loaded.documents());
    keel_web::ops::apply_plan(&store, &Actor::System("t"), &plan, "test")
        .await
        .unwrap();
    let state = keel_web::AppState::new(store.clone(), Default::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(keel_web::serve(state, listener, std::future::pending()));
    Server {
        base,
        tokens,
        _dir: dir,
    }
}

fn roster() -> Value {
    json!({
        "people": [
            {"id": "jonas", "name": "Jonas", "roles": ["campaign-manager", "marketing-ops-specialist", "qa", "deliverability", "mops-lead"], "team": "marketing-ops", "weekly_hours": 40},
            {"id": "amira", "name": "Amira", "roles": ["copywriter"], "team": "content", "weekly_hours": 40},
            {"id": "lukas", "name": "Lukas", "roles": ["designer"], "team": "creative", "weekly_hours": 40},
            {"id": "mei", "name": "Mei", "roles": ["email-developer", "web-developer"], "team": "build", "weekly_hours": 40},
            {"id": "ines", "name": "Ines", "roles": ["marketing-analyst", "paid-media-specialist"], "team": "analytics", "weekly_hours": 40},
            {"id": "daniel", "name": "Daniel", "roles": ["brand", "marketing-manager"], "team": "brand-legal", "weekly_hours": 40},
            {"id": "omar", "name": "Omar", "roles": ["finance"], "team": "finance", "weekly_hours": 40}
        ],
        "allocations": [],
        "accounts": {"jonas": "jonas@halyard.example", "daniel": "daniel@halyard.example", "omar": "omar@halyard.example"}
    })
}

fn in_days(n: u64) -> String {
    (Utc::now().date_naive() + Days::new(n)).to_string()
}

fn routine_email() -> Value {
    json!({"request_type": "email_send", "fields": {
        "name": "December newsletter",
        "send_type": "newsletter",
        "audience": {"segment": "emea-newsletter", "size": 30000},
        "send_date": in_days(12),
        "subject_line": "Trail notes for December",
        "esp": "braze",
        "content_doc": "https://drive.example.com/emails/december"
    }})
}

fn paid_brief() -> Value {
    json!({"request_type": "campaign_brief", "priority": "high", "fields": {
        "name": "Alpine winter gear EMEA",
        "campaign_code": "EMEA-2027-01",
        "audience": {"segment": "emea-active-customers", "size": 48000},
        "goals": "Grow repeat purchases of winter gear among active customers in EMEA ahead of the season.",
        "success_metrics": "2,000 orders and 180,000 EUR revenue within 60 days of launch.",
        "brand_constraints": "Use the 2026 outdoor visual system.",
        "technical_requirements": "UTMs per channel; landing page form writes to the CRM campaign.",
        "channels": ["email", "paid_social"],
        "launch_date": in_days(45),
        "budget": {"amount_minor": 2_000_000, "currency": "EUR"},
        "region": "emea",
        "owner": "jonas"
    }})
}

#[tokio::test]
async fn intake_policy_inbox_transitions_and_calendar() {
    let s = server().await;
    let c = reqwest::Client::new();
    let t = |who: &str| s.tokens[who].clone();
    let base = &s.base;

    let r = c
        .put(format!("{base}/api/v1/roster"))
        .bearer_auth(t("jonas"))
        .json(&roster())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // Viewers read but do not submit.
    let r = c
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(t("ava"))
        .json(&routine_email())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // An incomplete brief is refused with every missing field named.
    let r = c
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(t("lucas"))
        .json(&json!({"request_type": "campaign_brief", "fields": {"name": "Winter", "channels": ["email"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for missing in [
        "fields.campaign_code",
        "fields.audience",
        "fields.goals",
        "fields.success_metrics",
        "fields.brand_constraints",
        "fields.technical_requirements",
        "fields.launch_date",
        "fields.budget",
    ] {
        assert!(
            fields.contains(&missing),
            "{missing} not named in {fields:?}"
        );
    }

    // Before submitting: the plan and the earliest feasible launch date.
    let r = c
        .post(format!("{base}/api/v1/requests/estimate"))
        .bearer_auth(t("lucas"))
        .json(&paid_brief())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let est: Value = r.json().await.unwrap();
    assert!(est["earliest_launch"].is_string(), "{est}");
    assert!(
        !est["schedule"]["critical_path"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A routine email is approved by policy, and the deciding rule is named.
    let r = c
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(t("lucas"))
        .json(&routine_email())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let routine: Value = r.json().await.unwrap();
    assert_eq!(routine["request"]["status"], "approved");
    assert_eq!(routine["decision"]["outcome"]["outcome"], "auto_approve");
    assert_eq!(routine["decision"]["policy"], "campaign-approvals");
    assert_eq!(routine["decision"]["rule"], "routine-email");
    let routine_id = routine["request"]["id"].as_i64().unwrap();

    // Paid media over 10,000 needs finance and brand: it lands in their inboxes only.
    let r = c
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(t("lucas"))
        .json(&paid_brief())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let paid: Value = r.json().await.unwrap();
    assert_eq!(paid["request"]["status"], "in_review");
    assert_eq!(paid["decision"]["rule"], "paid-media-finance");
    let paid_id = paid["request"]["id"].as_i64().unwrap();

    for who in ["lucas", "ava", "jonas"] {
        let r = c
            .get(format!("{base}/api/v1/approvals"))
            .bearer_auth(t(who))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who} has no inbox");
    }
    let mut approval = 0;
    for who in ["omar", "daniel"] {
        let inbox: Value = c
            .get(format!("{base}/api/v1/approvals"))
            .bearer_auth(t(who))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = inbox.as_array().unwrap();
        assert_eq!(items.len(), 1, "{who}: only what policy could not decide");
        assert_eq!(items[0]["request"]["id"], paid_id);
        assert_eq!(items[0]["rule"], "campaign-approvals/paid-media-finance");
        approval = items[0]["approval_id"].as_i64().unwrap();
    }
    // Rejecting needs a reason; finance approves, the request waits for brand.
    let r = c
        .post(format!("{base}/api/v1/approvals/{approval}/votes"))
        .bearer_auth(t("omar"))
        .json(&json!({"vote": "reject"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r: Value = c
        .post(format!("{base}/api/v1/approvals/{approval}/votes"))
        .bearer_auth(t("omar"))
        .json(&json!({"vote": "approve"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "in_review", "all approvers are needed");
    let r: Value = c
        .post(format!("{base}/api/v1/approvals/{approval}/votes"))
        .bearer_auth(t("daniel"))
        .json(&json!({"vote": "approve", "comment": "On brand."}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "approved");

    // Illegal moves get 409 with the allowed ones listed.
    let r = c
        .post(format!("{base}/api/v1/requests/{routine_id}/transitions"))
        .bearer_auth(t("jonas"))
        .json(&json!({"to": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["allowed"]
            .as_array()
            .unwrap()
            .contains(&json!("scheduled")),
        "{problem}"
    );
    // Someone who neither manages nor owns the request cannot move it.
    let r = c
        .post(format!("{base}/api/v1/requests/{routine_id}/transitions"))
        .bearer_auth(t("ava"))
        .json(&json!({"to": "scheduled"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let detail: Value = c
        .get(format!("{base}/api/v1/requests/{routine_id}"))
        .bearer_auth(t("jonas"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["decisions"][0]["rule"], "routine-email");
    assert!(detail["history"].as_array().unwrap().len() >= 3);
    let version = detail["request"]["version"].as_i64().unwrap();

    // Two concurrent moves from the same version: exactly one wins.
    let send = |to: &'static str| {
        c.post(format!("{base}/api/v1/requests/{routine_id}/transitions"))
            .bearer_auth(t("jonas"))
            .json(&json!({"to": to, "version": version, "reason": "race"}))
            .send()
    };
    let (a, b) = tokio::join!(send("scheduled"), send("cancelled"));
    let codes = [a.unwrap().status(), b.unwrap().status()];
    assert_eq!(
        codes.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|s| **s == StatusCode::CONFLICT).count(),
        1,
        "{codes:?}"
    );

    // The calendar feed is iCalendar, reachable with the per-user token only.
    let feed: Value = c
        .post(format!("{base}/api/v1/calendar/feed"))
        .bearer_auth(t("ava"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = feed["path"].as_str().unwrap();
    let r = c.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = r.text().await.unwrap();
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
    let cal = parser
        .next()
        .expect("one calendar")
        .expect("valid iCalendar");
    assert!(
        cal.events.iter().any(|e| e
            .properties
            .iter()
            .any(|p| p.name == "SUMMARY" && p.value.as_deref() == Some("Alpine winter gear EMEA"))),
        "{ics}"
    );
    for e in &cal.events {
        for required in ["UID", "DTSTAMP", "DTSTART"] {
            assert!(
                e.properties.iter().any(|p| p.name == required),
                "{required} in {ics}"
            );
        }
    }
    let r = c
        .get(format!("{base}/calendar.ics?token=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // An email goes live only with a clean check run attached.
    let email: Value = c
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(t("lucas"))
        .json(&routine_email())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let email_id = email["request"]["id"].as_i64().unwrap();
    let go = |to: &'static str| {
        c.post(format!("{base}/api/v1/requests/{email_id}/transitions"))
            .bearer_auth(t("jonas"))
            .json(&json!({"to": to}))
            .send()
    };
    assert_eq!(go("scheduled").await.unwrap().status(), StatusCode::OK);
    let r = go("live").await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("check run"));
    let testdata = concat!(env!("CARGO_MANIFEST_DIR"), "/../keel-checks/testdata/email");
    for (file, live) in [
        ("seeded.html", StatusCode::CONFLICT),
        ("clean.html", StatusCode::OK),
    ] {
        let html = std::fs::read_to_string(format!("{testdata}/{file}")).unwrap();
        let run: Value = c
            .post(format!("{base}/api/v1/checks/email"))
            .bearer_auth(t("jonas"))
            .json(&json!({"name": file, "content": html}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let r = c
            .post(format!("{base}/api/v1/requests/{email_id}/checks"))
            .bearer_auth(t("jonas"))
            .json(&json!({"check_run_id": run["id"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(go("live").await.unwrap().status(), live, "{file}");
    }

    // Metrics count policy decisions and people's.
    let m: Value = c
        .get(format!("{base}/api/v1/work/metrics"))
        .bearer_auth(t("ava"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["decided_by_policy"], 2);
    assert_eq!(m["decided_by_people"], 1);
}
