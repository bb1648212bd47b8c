//! Privacy commands and jobs: `keel eligibility` (counts by reason for a segment) and the
//! background jobs `privacy.eligibility` (audience checks queued through the API) and
//! `privacy.retention` (executing a retention dry run exactly as planned).

use anyhow::{Context, bail};
use keel_consent::eligibility::Channel;
use keel_jobs::Runner;
use std::process::ExitCode;

/// Arguments of `keel eligibility`.
#[derive(Debug, clap::Args)]
pub struct EligibilityArgs {
    /// Purpose of the campaign (a `Purpose` document name).
    #[arg(long)]
    pub purpose: String,
    /// Channel: email, sms, push, phone, post or messaging.
    #[arg(long, default_value = "email")]
    pub channel: String,
    /// Brand, for brand suppression lists.
    #[arg(long)]
    pub brand: Option<String>,
    /// Who to check: a file with one e-mail address per line, or `all` (everyone in the consent
    /// ledger, the default).
    #[arg(long, default_value = "all")]
    pub segment: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: super::server::DbArgs,
}

/// Runs `keel eligibility`.
pub fn eligibility(args: EligibilityArgs) -> anyhow::Result<ExitCode> {
    let channel: Channel =
        serde_json::from_value(serde_json::json!(args.channel)).map_err(|_| {
            anyhow::anyhow!(
                "--channel {:?}: use email, sms, push, phone, post or messaging",
                args.channel
            )
        })?;
    super::runtime()?.block_on(async move {
        let store = super::open_store(&args.db.db).await?;
        let subjects = if args.segment == "all" {
            keel_store::privacy::all_subjects(&store).await?
        } else {
            let text = std::fs::read_to_string(&args.segment).with_context(|| {
                format!(
                    "--segment {}: not `all` and not a readable file",
                    args.segment
                )
            })?;
            let mut subjects = Vec::new();
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                match keel_store::privacy::subject_key(line) {
                    Some(s) => subjects.push(s),
                    None => bail!(
                        "{}:{}: {line:?} is not an e-mail address",
                        args.segment,
                        n + 1
                    ),
                }
            }
            subjects
        };
        let started = std::time::Instant::now();
        let (total, eligible, by_reason) = keel_web::api::privacy::check_segment(
            &store,
            &args.purpose,
            channel,
            args.brand.clone(),
            None,
            &subjects,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "purpose": args.purpose, "channel": args.channel, "segment": args.segment,
                    "total": total, "eligible": eligible, "by_reason": by_reason,
                }))?
            );
        } else {
            println!(
                "{eligible} of {total} eligible for {} on {} ({:.0} ms)",
                args.purpose,
                args.channel,
                started.elapsed().as_secs_f64() * 1000.0
            );
            for (reason, n) in &by_reason {
                println!("  {reason:<26} {n:>8}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Registers the privacy jobs.
pub fn register_jobs(runner: &mut Runner) {
    runner.register("privacy.eligibility", |ctx| async move {
        let run = ctx
            .job
            .payload
            .0
            .get("run")
            .and_then(|r| r.as_i64())
            .ok_or("payload has no run id")?;
        keel_web::api::privacy::run_eligibility_job(&ctx.store, run).await
    });
    runner.register("privacy.retention", |ctx| async move {
        let dry_run = ctx
            .job
            .payload
            .0
            .get("dry_run")
            .and_then(|r| r.as_i64())
            .ok_or("payload has no dry_run id")?;
        let run = keel_store::privacy::execute_retention(
            &ctx.store,
            &keel_store::Actor::System("privacy.retention"),
            dry_run,
        )
        .await
        .map_err(|e| e.to_string())?;
        tracing::info!("retention dry run {dry_run} executed as run {}", run.id);
        Ok(())
    });
}
