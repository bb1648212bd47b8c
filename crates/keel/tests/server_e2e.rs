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
