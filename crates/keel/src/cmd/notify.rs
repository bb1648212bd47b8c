//! Background jobs that raise notifications (renewal reminders, audit findings) and deliver them to
//! outgoing webhooks as Keel's generic JSON or as Slack incoming-webhook payloads.

use keel_store::Store;
use keel_store::notifications::{self, Notification, Webhook};

/// Raises today's renewal reminders and new audit findings; each is sent once.
pub async fn raise_catalog_notifications(store: &Store) -> Result<usize, String> {
    let catalog = keel_web::ops::catalog(store)
        .await
        .map_err(|e| e.to_string())?;
    let today = chrono::Utc::now().date_naive();
    let mut raised = 0;
    for r in keel_catalog::renewal::reminders(&catalog, today) {
        let title = format!(
            "Renewal: give notice on {} by {} ({} days left){}",
            r.contract,
            r.notice_deadline,
            r.days_left,
            if r.auto_renew {
                "; it renews automatically"
            } else {
                ""
            }
        );
        let payload = serde_json::to_value(&r).map_err(|e| e.to_string())?;
        if notifications::raise(store, &r.key, "renewal_reminder", &title, payload)
            .await
            .map_err(|e| e.to_string())?
        {
            raised += 1;
        }
    }
    // New audit findings, each keyed by what it is about so it is raised once, not daily.
    let mut findings: Vec<(String, String, serde_json::Value)> = Vec::new();
    for gap in keel_catalog::audit::tools_without_active_owners(&catalog) {
        findings.push((
            format!("owner-gap:{}:{}", gap.tool, gap.missing.join("|")),
            format!(
                "{} has no active owner: {}",
                gap.tool,
                gap.missing.join("; ")
            ),
            serde_json::to_value(&gap).unwrap_or_default(),
        ));
    }
    for gap in keel_catalog::audit::pii_without_dpa(&catalog, today) {
        findings.push((
            format!("pii-without-dpa:{}", gap.tool),
            format!("{} holds personal data without a signed DPA", gap.tool),
            serde_json::to_value(&gap).unwrap_or_default(),
        ));
    }
    for flow in keel_catalog::audit::flows_without_owner_or_docs(&catalog) {
        let what = match (flow.no_owner, flow.no_docs) {
            (true, true) => "has no owner and no documentation",
            (true, false) => "has no owner",
            _ => "has no documentation",
        };
        findings.push((
            format!(
                "undocumented:{}:{}:{}",
                flow.object, flow.no_owner, flow.no_docs
            ),
            format!("{} {what}", flow.object),
            serde_json::to_value(&flow).unwrap_or_default(),
        ));
    }
    for overlap in keel_catalog::audit::capability_overlaps(&catalog, today) {
        findings.push((
            format!("overlap:{}", overlap.tools.join("+")),
            format!(
                "Overlapping tools: {} (keep {})",
                overlap.tools.join(", "),
                overlap.keep
            ),
            serde_json::to_value(&overlap).unwrap_or_default(),
        ));
    }
    for (key, title, payload) in findings {
        if notifications::raise(store, &key, "audit_finding", &title, payload)
            .await
            .map_err(|e| e.to_string())?
        {
            raised += 1;
        }
    }
    Ok(raised)
}

/// The body posted to a webhook.
pub fn webhook_body(hook: &Webhook, n: &Notification) -> serde_json::Value {
    match hook.format.as_str() {
        "slack" => serde_json::json!({
            "text": n.title,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("*Keel* · {}", n.title)}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("{} · `{}`", n.kind, n.key)}]}
            ]
        }),
        _ => {
            serde_json::json!({"event": n.kind, "key": n.key, "title": n.title, "data": n.payload.0, "raised_at": n.created_at})
        }
    }
}

/// Delivers one notification to one webhook; an error (including a non-2xx answer) is retried by
/// the job runner with backoff.
pub async fn deliver(store: &Store, payload: &serde_json::Value) -> Result<(), String> {
    let id = payload["webhook_id"]
        .as_i64()
        .ok_or("job payload lacks webhook_id")?;
    let key = payload["key"].as_str().ok_or("job payload lacks key")?;
    let hook = match notifications::webhook(store, id).await {
        Ok(h) => h,
        // The webhook was deleted since: nothing to deliver.
        Err(keel_store::StoreError::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let n = notifications::notification(store, key)
        .await
        .map_err(|e| e.to_string())?;
    let body = webhook_body(&hook, &n);
    let url = hook.url.clone();
    keel_web::outbound::post_json(url, body.to_string(), std::time::Duration::from_secs(10)).await
}
