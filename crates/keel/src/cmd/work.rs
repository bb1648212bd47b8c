//! Work on the command line and in the background: `keel policy simulate` replays a changed
//! policy set against past requests; the `work.sla` job recomputes every open request's SLA
//! clocks from its stored history and raises warnings and escalations once each, to the
//! configured webhooks (and by e-mail when SMTP is configured).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use keel_store::Store;
use keel_store::notifications;
use keel_store::work::{self as stored, EscalationRow};
use keel_web::work::{Workspace, clocks, work_documents};
use keel_work::Party;
use keel_work::approval::{ApprovalPolicies, PastRequest, simulate};
use sqlx::types::Json;

use super::server::DbArgs;

/// `keel policy …`
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Replay past requests under the policies in DIR and report which decisions would change.
    Simulate {
        /// A directory of ops-as-code documents holding the proposed `Policy` documents.
        dir: PathBuf,
        #[command(flatten)]
        db: DbArgs,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a policy subcommand.
pub fn policy(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Simulate { dir, db, json } => super::runtime()?.block_on(async move {
            let loaded = super::ops::load_checked(&dir)?;
            let proposed_docs = work_documents(&loaded.documents())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if proposed_docs.policies.is_empty() {
                anyhow::bail!("{} holds no Policy documents to simulate", dir.display());
            }
            let proposed = ApprovalPolicies::compile(&proposed_docs.policies)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let store = super::open_store(&db.db).await?;
            let ws = Workspace::load(&store)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let decisions = stored::all_decisions(&store).await?;
            let facts = keel_web::work::recorded_facts(&decisions);
            let mut history: Vec<PastRequest> = facts
                .into_iter()
                .map(|(id, facts)| PastRequest {
                    id: id.to_string(),
                    facts,
                })
                .collect();
            history.sort_by_key(|p| p.id.parse::<i64>().unwrap_or(0));
            let sim = simulate(&ws.policies, &proposed, &history)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&sim)?);
            } else {
                println!(
                    "replayed {} past requests; {} decisions would change, {} would be decided by another rule with the same outcome",
                    sim.replayed,
                    sim.changed.len(),
                    sim.same_outcome_other_rule.len()
                );
                for (m, n) in &sim.moves {
                    println!("  {n:>4}  {m}");
                }
                for c in &sim.changed {
                    let rule = |d: &keel_work::approval::Decision| match (&d.policy, &d.rule) {
                        (Some(p), Some(r)) => format!("{p}/{r}"),
                        _ => "no rule".to_owned(),
                    };
                    println!(
                        "  request #{}: {} ({}) → {} ({})",
                        c.request,
                        c.before.outcome.word(),
                        rule(&c.before),
                        c.after.outcome.word(),
                        rule(&c.after)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }),
    }
}

/// Account e-mails a party reaches: Keel accounts holding a role of that name, and roster people
/// (by role, id or team) with a linked account.
async fn recipients(
    store: &Store,
    ws: &Workspace,
    parties: &[Party],
    requester: &str,
) -> Vec<String> {
    let mut out = BTreeSet::new();
    let users = keel_store::accounts::list_users(store, None, 500, 0)
        .await
        .map(|(u, _)| u)
        .unwrap_or_default();
    for p in parties {
        match p {
            // The request's owner is whoever asked for it.
            Party::Role(r) if r == "request-owner" => {
                out.insert(requester.to_owned());
            }
            Party::Role(r) => {
                for u in &users {
                    if u.user.active && u.roles.iter().any(|k| k.as_str() == r) {
                        out.insert(u.user.email.clone());
                    }
                }
                for person in ws
                    .roster
                    .roster
                    .people
                    .iter()
                    .filter(|x| x.roles.contains(r))
                {
                    if let Some(e) = ws.roster.accounts.get(&person.id) {
                        out.insert(e.clone());
                    }
                }
            }
            Party::Person(id) => {
                if let Some(e) = ws.roster.accounts.get(id) {
                    out.insert(e.clone());
                }
            }
            Party::Team(t) => {
                for person in ws
                    .roster
                    .roster
                    .people
                    .iter()
                    .filter(|x| x.team.as_deref() == Some(t.as_str()))
                {
                    if let Some(e) = ws.roster.accounts.get(&person.id) {
                        out.insert(e.clone());
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}

/// Enqueues one e-mail as a durable `mail.send` job (retried with backoff), when SMTP is
/// configured; without `KEEL_SMTP_URL` e-mail is simply not a channel.
async fn enqueue_mail(store: &Store, to: &str, subject: &str, text: &str) -> Result<(), String> {
    if keel_mail::MailConfig::from_env().is_none() {
        return Ok(());
    }
    keel_store::jobs::enqueue(
        store,
        &keel_store::jobs::NewJob {
            max_attempts: 8,
            ..keel_store::jobs::NewJob::now(
                "mail.send",
                serde_json::json!({"to": to, "subject": subject, "text": text}),
            )
        },
    )
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Sends one e-mail job's message through the configured SMTP server.
pub async fn send_mail(payload: &serde_json::Value) -> Result<(), String> {
    let Some(config) = keel_mail::MailConfig::from_env() else {
        return Err("KEEL_SMTP_URL is not set; the e-mail stays queued until it is".into());
    };
    let field = |k: &str| {
        payload[k]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("mail job payload lacks {k}"))
    };
    let message = keel_mail::Message::text(field("to")?, field("subject")?, field("text")?);
    let mailer = keel_mail::Mailer::new(&config).map_err(|e| e.to_string())?;
    mailer.send(&message).await.map_err(|e| e.to_string())
}

/// Recomputes the SLA clocks of every open request and raises each warning and escalation once:
/// recorded as a notification (delivered to every webhook by `webhook.deliver` jobs) and, for
/// escalations, in the request's escalation history. Waiting MQL hand-offs get the same for
/// their acceptance clock, with breaches recorded on the hand-off. Returns how many were raised.
pub async fn run_sla(store: &Store) -> Result<usize, String> {
    let ws = Workspace::load(store).await.map_err(|e| e.to_string())?;
    let now = keel_store::now();
    let requests = stored::all_requests(store)
        .await
        .map_err(|e| e.to_string())?;
    let history = stored::all_transitions(store)
        .await
        .map_err(|e| e.to_string())?;
    let mut raised = 0;
    for r in requests
        .iter()
        .filter(|r| !matches!(r.status.as_str(), "done" | "rejected" | "cancelled"))
    {
        let h = history.get(&r.id).map(Vec::as_slice).unwrap_or_default();
        for c in clocks(&ws, r, h, now) {
            if c.status == keel_work::sla::SlaStatus::Warning {
                let key = format!("sla-warning:{}:{}", r.id, c.clock);
                let title = format!("SLA warning on #{} {}: {}", r.id, r.title, c.summary());
                let payload = serde_json::json!({"request_id": r.id, "title": r.title, "clock": c.clock, "summary": c.summary(), "breach_at": c.breach_at, "requester": r.requester});
                if notifications::raise(store, &key, "sla_warning", &title, payload)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    raised += 1;
                }
            }
            for e in &c.escalations_due {
                let key = format!("sla-escalation:{}:{}", r.id, e.key);
                let to = recipients(store, &ws, &e.notify, &r.requester).await;
                let notify: Vec<String> = e.notify.iter().map(ToString::to_string).collect();
                let title = format!(
                    "Escalation level {} on #{} {}: {} — to {}",
                    e.level,
                    r.id,
                    r.title,
                    c.summary(),
                    notify.join(", ")
                );
                let payload = serde_json::json!({"request_id": r.id, "title": r.title, "clock": c.clock, "level": e.level, "notify": notify, "recipients": to, "due_at": e.due_at, "summary": c.summary()});
                let new = stored::record_escalation(
                    store,
                    &EscalationRow {
                        key: key.clone(),
                        request_id: r.id,
                        clock: c.clock.clone(),
                        level: i64::from(e.level),
                        notify: Json(notify.clone()),
                        due_at: e.due_at,
                        raised_at: now,
                    },
                )
                .await
                .map_err(|e| e.to_string())?;
                if notifications::raise(store, &key, "sla_escalation", &title, payload)
                    .await
                    .map_err(|e| e.to_string())?
                    && new
                {
                    raised += 1;
                    let text = format!(
                        "{title}\n\nRequest #{id}: {req}\nClock: {clock} — {summary}\nEscalation level {level}, due {due}.\n\nOpen it in Keel: /requests/{id}\n",
                        id = r.id,
                        req = r.title,
                        clock = c.clock,
                        summary = c.summary(),
                        level = e.level,
                        due = e.due_at.format("%Y-%m-%d %H:%M UTC"),
                    );
                    for address in &to {
                        enqueue_mail(store, address, &title, &text).await?;
                    }
                }
            }
        }
    }
    // MQL hand-offs: the acceptance clock on the same engine.
    let sla = ws.handoff_sla().map_err(|e| e.to_string())?;
    for alert in keel_web::work::handoff_sla_sweep(store, &sla, now)
        .await
        .map_err(|e| e.to_string())?
    {
        raised += 1;
        if alert.kind == "sla_escalation" {
            let text = format!(
                "{}\n\nThe lead waits for {} to accept or reject it.\n\nOpen the hand-offs in Keel: /contacts/handoffs\n",
                alert.title, alert.owner
            );
            for address in &recipients(store, &ws, &alert.notify, &alert.owner).await {
                enqueue_mail(store, address, &alert.title, &text).await?;
            }
        }
    }
    Ok(raised)
}
