//! End-to-end work: an overdue request escalates by job, through a webhook, to the person the
//! escalation path names; `keel policy simulate` reports the decisions a changed policy would
//! change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{run, serve_with_env};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const WORKSPACE: &str = r#"apiVersion: keel/v1
kind: BusinessCalendar
metadata: {name: always}
spec:
  timezone: UTC
  hours:
    monday: ["00:00-24:00"]
    tuesday: ["00:00-24:00"]
    wednesday: ["00:00-24:00"]
    thursday: ["00:00-24:00"]
    friday: ["00:00-24:00"]
    saturday: ["00:00-24:00"]
    sunday: ["00:00-24:00"]
---
apiVersion: keel/v1
kind: RequestType
metadata: {name: quick_ask}
spec:
  title: Quick ask
  fields:
    - {key: summary, label: Summary, type: text, required: true}
    - {key: budget, label: Budget, type: number}
---
apiVersion: keel/v1
kind: Policy
metadata: {name: asks}
spec:
  applies_to: [quick_ask]
  rules:
    - name: small
      when: {field: budget, op: lt, value: 100}
      decide: auto_approve
      reason: Small asks need nobody.
---
apiVersion: keel/v1
kind: EscalationPath
metadata: {name: fast}
spec:
  levels:
    - level: 1
      notify: ["person:dana"]
      at_percent: 5
---
apiVersion: keel/v1
kind: SLA
metadata: {name: asks-sla}
spec:
  applies_to: [quick_ask]
  calendar: always
  warn_at_percent: 90
  escalation: fast
  clocks:
    - name: approval
      starts_on: [submitted]
      stops_on: [approved, rejected, cancelled]
      targets: {normal: 1m}
"#;

fn user(db: &str, email: &str, role: &str) -> String {
    let (code, _, err) = run(
        &[
            "user", "add", "--db", db, "--email", email, "--name", email, "--role", role,
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let (code, token, err) = run(&["token", "create", "--db", db, "--email", email], None);
    assert_eq!(code, 0, "{err}");
    token.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn overdue_request_escalates_through_a_webhook_and_simulation_reports_changes() {
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

    let dir = tempfile::tempdir().unwrap();
    let ops = dir.path().join("ops");
    std::fs::create_dir_all(&ops).unwrap();
    std::fs::write(ops.join("work.yaml"), WORKSPACE).unwrap();
    let db = dir.path().join("keel.db");
    let db_s = db.to_str().unwrap();
    let (code, _, err) = run(&["apply", ops.to_str().unwrap(), "--db", db_s], None);
    assert_eq!(code, 0, "{err}");
    let admin = user(db_s, "admin@example.com", "admin");
    let rita = user(db_s, "rita@example.com", "requester");
    user(db_s, "dana@example.com", "approver");

    let smtp = keel_mail::receiver::Receiver::start().await.unwrap();
    let server = serve_with_env(
        &db,
        &[],
        &[
            ("KEEL_SMTP_URL", &smtp.url()),
            ("KEEL_MAIL_FROM", "Keel <keel@halyard.example>"),
        ],
    );
    let c = reqwest::Client::new();
    let base = server.base.clone();
    let r = c
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(&admin)
        .json(&json!({"name": "mops", "url": hook_url, "format": "json"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = c
        .put(format!("{base}/api/v1/roster"))
        .bearer_auth(&admin)
        .json(&json!({"people": [{"id": "dana", "name": "Dana", "roles": ["approver"], "weekly_hours": 40}], "allocations": [], "accounts": {"dana": "dana@example.com"}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    // A small ask is approved by policy; a large one waits for a person and its clock runs.
    let small: Value = c
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(&rita)
        .json(&json!({"request_type": "quick_ask", "fields": {"summary": "Two stock photos", "budget": 40}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(small["request"]["status"], "approved", "{small}");
    let big: Value = c
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(&rita)
        .json(&json!({"request_type": "quick_ask", "fields": {"summary": "A video shoot", "budget": 9000}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(big["request"]["status"], "in_review", "{big}");
    let big_id = big["request"]["id"].as_i64().unwrap();

    // Level 1 is due after 5% of a one-minute target; the timer job raises it once.
    let mut waited = 0;
    let escalation = loop {
        let found = received
            .lock()
            .unwrap()
            .iter()
            .find(|b| b["event"] == "sla_escalation")
            .cloned();
        if let Some(e) = found {
            break e;
        }
        assert!(
            waited < 300,
            "no escalation arrived: {:?}",
            received.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    };
    assert_eq!(escalation["data"]["request_id"], big_id);
    assert_eq!(escalation["data"]["level"], 1);
    assert_eq!(escalation["data"]["notify"], json!(["person:dana"]));
    assert_eq!(
        escalation["data"]["recipients"],
        json!(["dana@example.com"])
    );
    let detail: Value = c
        .get(format!("{base}/api/v1/requests/{big_id}"))
        .bearer_auth(&rita)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["escalations"][0]["level"], 1);
    // The same escalation reaches Dana by e-mail through a real SMTP conversation.
    let mails = smtp.wait_for(1, std::time::Duration::from_secs(30)).await;
    assert_eq!(mails.len(), 1, "one escalation e-mail");
    assert_eq!(mails[0].rcpt_to, vec!["dana@example.com".to_owned()]);
    assert!(
        mails[0]
            .header("Subject")
            .unwrap_or_default()
            .contains("Escalation level 1"),
        "{:?}",
        mails[0].header("Subject")
    );
    drop(server);

    // Raising the auto-approval limit would have approved the large ask too.
    let proposed = dir.path().join("proposed");
    std::fs::create_dir_all(&proposed).unwrap();
    std::fs::write(
        proposed.join("policy.yaml"),
        WORKSPACE.replace("value: 100}", "value: 10000}"),
    )
    .unwrap();
    let (code, out, err) = run(
        &[
            "policy",
            "simulate",
            proposed.to_str().unwrap(),
            "--db",
            db_s,
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("replayed 2 past requests; 1 decisions would change"),
        "{out}"
    );
    assert!(out.contains("undecided → auto_approve"), "{out}");
    assert!(
        out.contains(&format!("request #{big_id}: undecided")),
        "{out}"
    );
}
