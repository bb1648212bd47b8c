//! End-to-end: the real binary, its CLI, crash durability and the tamper check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{run, serve};
use serde_json::{Value, json};

#[test]
fn cli_user_token_and_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keel.db");
    let db = db.to_str().unwrap();
    let (code, out, err) = run(
        &[
            "user",
            "add",
            "--db",
            db,
            "--email",
            "Ops@Example.com",
            "--name",
            "Olive Ops",
            "--role",
            "ops",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ops@example.com"));
    let (code, _, err) = run(
        &[
            "user",
            "add",
            "--db",
            db,
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "root",
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("unknown role `root`"), "{err}");
    let (code, token, err) = run(
        &[
            "token",
            "create",
            "--db",
            db,
            "--email",
            "ops@example.com",
            "--label",
            "ci",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let token = token.trim().to_string();
    assert!(
        token.starts_with("keel_") && !token.contains(' '),
        "token alone on stdout: {token}"
    );

    let (code, out, _) = run(&["audit", "verify", "--db", db], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 2 entries"), "{out}");

    // Tamper with one row directly in the database file.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = keel_store::Store::connect(db).await.unwrap();
        keel_store::sql("UPDATE audit_log SET after_state = replace(after_state, 'Olive Ops', 'Mallory') WHERE seq = 1")
            .execute(&store)
            .await
            .unwrap();
        store.close().await;
    });
    let (code, out, _) = run(&["audit", "verify", "--db", db], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("audit entry #1 was altered"), "{out}");
}

#[test]
fn help_is_useful_for_every_subcommand() {
    for sub in ["serve", "migrate", "user", "token", "audit"] {
        let (code, out, _) = run(&[sub, "--help"], None);
        assert_eq!(code, 0);
        assert!(out.contains("Usage: keel"), "{sub}: {out}");
    }
    let (_, out, _) = run(&["serve", "--help"], None);
    assert!(out.contains("KEEL_DB") && out.contains("KEEL_ADDR") && out.contains("--demo"));
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keel.db");
    let db_s = db.to_str().unwrap().to_string();
    let (code, _, err) = run(
        &[
            "user",
            "add",
            "--db",
            &db_s,
            "--email",
            "admin@example.com",
            "--name",
            "Admin",
            "--role",
            "admin",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let (_, token, _) = run(
        &[
            "token",
            "create",
            "--db",
            &db_s,
            "--email",
            "admin@example.com",
        ],
        None,
    );
    let token = token.trim().to_string();

    let mut server = serve(&db, &[]);
    let base = server.base.clone();
    let client = reqwest::Client::new();
    // Eight writers post continuously; the server is killed while they are mid-flight.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (client, base, token, acked) = (
            client.clone(),
            base.clone(),
            token.clone(),
            acknowledged.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let name = format!("Team {w}-{i:04}");
                match client
                    .post(format!("{base}/api/v1/teams"))
                    .bearer_auth(&token)
                    .json(&json!({"name": name}))
                    .send()
                    .await
                {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                        acked.lock().unwrap().push(name)
                    }
                    Ok(r) => panic!("unexpected {}", r.status()),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.child.kill().unwrap(); // SIGKILL, with requests in flight
    for t in tasks {
        t.await.unwrap();
    }
    let _ = server.child.wait();
    let acked = acknowledged.lock().unwrap().clone();
    assert!(
        !acked.is_empty(),
        "some writes were acknowledged before the kill"
    );

    let server = serve(&db, &[]);
    let teams: Vec<Value> = client
        .get(format!("{}/api/v1/teams", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = teams.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for name in &acked {
        assert!(
            names.contains(&name.as_str()),
            "acknowledged {name} lost after SIGKILL"
        );
    }
    let v: Value = client
        .get(format!("{}/api/v1/audit/verify", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["intact"], true, "{v}");
    eprintln!(
        "{} writes acknowledged before SIGKILL; all present after restart",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_serves_and_a_person_can_sign_in() {
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
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let home = r.text().await.unwrap();
    assert!(
        home.contains("Marketing Operations"),
        "the demo teams show on the overview"
    );
    let me: Value = c
        .get(format!("{}/api/v1/me", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "maya@halyard.example");
    drop(server);
    // A second start on the same database does not seed twice.
    let server = serve(&db, &["--demo"]);
    let _ = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
}

#[test]
fn impact_from_files_and_from_the_database() {
    let ops = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ops");
    let (code, out, err) = run(
        &[
            "impact",
            "--dir",
            ops,
            "--field",
            "salesforce.Lead.Email",
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["impacted"].as_array().unwrap().len() > 5);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keel.db");
    let db = db.to_str().unwrap();
    let (code, _, err) = run(&["apply", ops, "--db", db], None);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&["plan", ops, "--db", db], None);
    assert_eq!(code, 0);
    assert!(out.contains("No changes"), "{out}");
    let (code, from_db, _) = run(
        &[
            "impact",
            "--db",
            db,
            "--field",
            "salesforce.Lead.Email",
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&from_db).unwrap(),
        v,
        "files and database agree"
    );
    let (code, _, err) = run(&["impact", "--db", db, "--tool", "nope"], None);
    assert_eq!(code, 2);
    assert!(err.contains("not in the stack graph"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn renewal_reminders_reach_a_slack_webhook_once() {
    use std::sync::{Arc, Mutex};
    // A loopback receiver standing in for Slack.
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // A stack with one contract whose notice deadline is 25 days away (the 30-day reminder).
    let dir = tempfile::tempdir().unwrap();
    let ops = dir.path().join("ops");
    std::fs::create_dir_all(&ops).unwrap();
    let today = chrono::Utc::now().date_naive();
    let end = today + chrono::Duration::days(35);
    std::fs::write(
        ops.join("stack.yaml"),
        format!(
            "apiVersion: keel/v1\nkind: Person\nmetadata: {{name: ana}}\nspec: {{full_name: Ana Ops, email: ana@example.com, status: active}}\n---\n\
             apiVersion: keel/v1\nkind: Tool\nmetadata: {{name: mailer}}\nspec: {{display_name: Mailer, vendor: Acme, lifecycle: live, owners: {{platform: [ana], service: [ana]}}}}\n---\n\
             apiVersion: keel/v1\nkind: Contract\nmetadata: {{name: mailer-term}}\nspec: {{vendor: Acme, tools: [mailer], cost: {{amount_minor: 120000, currency: EUR}}, billing_period: annual, start: {start}, end: {end}, auto_renew: true, notice_days: 10, dpa_signed: true}}\n",
            start = end - chrono::Duration::days(365)
        ),
    )
    .unwrap();
    let db = dir.path().join("keel.db");
    let db_s = db.to_str().unwrap();
    let (code, _, err) = run(&["apply", ops.to_str().unwrap(), "--db", db_s], None);
    assert_eq!(code, 0, "{err}");
    run(
        &[
            "user",
            "add",
            "--db",
            db_s,
            "--email",
            "admin@example.com",
            "--name",
            "Admin",
            "--role",
            "admin",
        ],
        None,
    );
    let (_, token, _) = run(
        &[
            "token",
            "create",
            "--db",
            db_s,
            "--email",
            "admin@example.com",
        ],
        None,
    );
    let token = token.trim().to_string();

    // Configure the webhook before the first start, as an operator would.
    {
        let store = keel_store::Store::connect(db_s).await.unwrap();
        keel_store::notifications::create_webhook(
            &store,
            &keel_store::Actor::System("test"),
            "mops-slack",
            &hook_url,
            "slack",
        )
        .await
        .unwrap();
        store.close().await;
    }
    // The daily schedule fires on start; a second start a "day" later must not resend.
    let server = serve(&db, &[]);
    let c = reqwest::Client::new();
    let bad = c
        .post(format!("{}/api/v1/webhooks", server.base))
        .bearer_auth(&token)
        .json(&json!({"name": "x", "url": "ftp://nope", "format": "teams"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let listed: Value = c
        .get(format!("{}/api/v1/webhooks", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["format"], "slack");
    let mut waited = 0;
    while received.lock().unwrap().is_empty() && waited < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    drop(server);
    keel_store_reset_schedule(db_s).await;
    let server = serve(&db, &[]);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    drop(server);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "one reminder, delivered once: {got:?}");
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        text.contains("mailer-term") && text.contains("renews automatically"),
        "{text}"
    );
    assert!(got[0]["blocks"].is_array(), "Slack incoming-webhook layout");
}

/// Makes the daily notification schedule due now, as if a day had passed.
async fn keel_store_reset_schedule(db: &str) {
    let store = keel_store::Store::connect(db).await.unwrap();
    keel_store::sql(
        "UPDATE job_schedules SET next_run_at = $1 WHERE name = 'daily-catalog-notifications'",
    )
    .bind(keel_store::now() - chrono::Duration::seconds(1))
    .execute(&store)
    .await
    .unwrap();
    store.close().await;
}

#[test]
fn inventory_import_adds_good_rows_and_names_bad_cells() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keel.db");
    let db = db.to_str().unwrap();
    let ops = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ops");
    assert_eq!(run(&["apply", ops, "--db", db], None).0, 0);
    let csv = dir.path().join("inventory.csv");
    std::fs::write(
        &csv,
        "Application,Vendor,Owner Email,Annual Cost,Seats,Renewal Date\nMailchimp,Intuit,dana.reyes@halyard.example,\"$12,000\",25,2027-03-31\nBroken Row,Acme,nobody@x,lots,-3,someday\n",
    )
    .unwrap();
    let (code, out, err) = run(
        &["import-inventory", csv.to_str().unwrap(), "--db", db],
        None,
    );
    assert_eq!(code, 1, "a rejected row makes the exit code 1: {out}{err}");
    assert!(
        err.contains("inventory.csv:3:cost: error: `lots` is not an amount"),
        "{err}"
    );
    assert!(
        out.contains("Imported 1 row(s)") && out.contains("1 row(s) rejected"),
        "{out}"
    );
    let (_, plan, _) = run(&["plan", ops, "--db", db], None);
    assert!(
        plan.contains("- Tool/mailchimp"),
        "the imported tool is in the running state: {plan}"
    );
}

#[test]
fn plan_apply_export_against_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keel.db");
    let db_s = db.to_str().unwrap();
    run(
        &[
            "user",
            "add",
            "--db",
            db_s,
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "ops",
        ],
        None,
    );
    run(
        &[
            "user",
            "add",
            "--db",
            db_s,
            "--email",
            "viewer@example.com",
            "--name",
            "Viewer",
            "--role",
            "viewer",
        ],
        None,
    );
    let (_, ops_token, _) = run(
        &[
            "token",
            "create",
            "--db",
            db_s,
            "--email",
            "ops@example.com",
        ],
        None,
    );
    let (_, viewer_token, _) = run(
        &[
            "token",
            "create",
            "--db",
            db_s,
            "--email",
            "viewer@example.com",
        ],
        None,
    );
    let server = serve(&db, &[]);
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ops");
    let (code, _, err) = run(
        &[
            "apply",
            examples,
            "--server",
            &server.base,
            "--token",
            viewer_token.trim(),
        ],
        None,
    );
    assert_eq!(code, 2, "a viewer may not apply");
    assert!(err.contains("403"), "{err}");
    let (code, out, err) = run(
        &[
            "apply",
            examples,
            "--server",
            &server.base,
            "--token",
            ops_token.trim(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    // 165 catalog documents, 23 work documents, 11 privacy ones, 1 quality policy and the channel rules.
    assert!(out.contains("Applied 201 change(s)"), "{out}");
    let (code, out, _) = run(
        &[
            "plan",
            examples,
            "--server",
            &server.base,
            "--token",
            ops_token.trim(),
        ],
        None,
    );
    assert_eq!(code, 0);
    assert!(out.contains("No changes"), "{out}");
    let exported = dir.path().join("exported");
    let (code, _, err) = run(
        &[
            "export",
            exported.to_str().unwrap(),
            "--server",
            &server.base,
            "--token",
            ops_token.trim(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["check", exported.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(
        &[
            "plan",
            exported.to_str().unwrap(),
            "--server",
            &server.base,
            "--token",
            ops_token.trim(),
        ],
        None,
    );
    assert!(
        out.contains("No changes"),
        "export → check → plan is empty: {out}"
    );
}
