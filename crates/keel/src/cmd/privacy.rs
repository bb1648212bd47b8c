//! Privacy commands and jobs: `keel eligibility` (counts by reason for a segment), `keel privacy
//! rotate-key` (a new link-signing key, the old one accepted for a grace period) and the
//! background jobs `privacy.eligibility` (audience checks queued through the API) and
//! `privacy.retention` (executing a retention dry run exactly as planned) and `privacy.erasure`
//! (an erasure request delivered to one connected system's webhook, retried with backoff).

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
    /// Who to check: `all` (everyone in the consent ledger, the default), the name of a saved
    /// contact `Segment` (its members are checked), or a file with one e-mail address per line.
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
        let mut contact_regions = std::collections::HashMap::new();
        let mut without_address = None;
        let segment = if args.segment == "all" {
            None
        } else {
            keel_web::api::privacy::segment_members(&store, &args.segment)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
        };
        let subjects = if args.segment == "all" {
            keel_store::privacy::all_subjects(&store).await?
        } else if let Some(members) = segment {
            contact_regions = members.regions;
            without_address = Some(members.without_address);
            members.subjects
        } else {
            let text = std::fs::read_to_string(&args.segment).with_context(|| {
                format!(
                    "--segment {}: not `all`, not a saved Segment and not a readable file",
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
            &contact_regions,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "purpose": args.purpose, "channel": args.channel, "segment": args.segment,
                    "total": total, "eligible": eligible, "by_reason": by_reason,
                    "members_without_address": without_address,
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
            if let Some(n) = without_address.filter(|n| *n > 0) {
                println!("  ({n} segment members have no e-mail address and are not counted)");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `keel privacy …`.
#[derive(Debug, clap::Subcommand)]
pub enum PrivacyCommand {
    /// Rotate the key that signs preference-centre, double opt-in and unsubscribe links; links
    /// signed with the old key keep working for the grace period.
    RotateKey(RotateKeyArgs),
}

/// Arguments of `keel privacy rotate-key`.
#[derive(Debug, clap::Args)]
pub struct RotateKeyArgs {
    /// Days the previous key is still accepted.
    #[arg(long, default_value_t = keel_web::api::privacy::KEY_GRACE_DAYS)]
    pub grace_days: i64,
    #[command(flatten)]
    pub db: super::server::DbArgs,
}

/// Runs `keel privacy …`.
pub fn command(command: PrivacyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PrivacyCommand::RotateKey(args) => {
            if !(1..=3650).contains(&args.grace_days) {
                bail!("--grace-days {}: use 1 to 3650 days", args.grace_days);
            }
            if std::env::var("KEEL_PRIVACY_SECRET").is_ok_and(|s| s.len() >= 32) {
                eprintln!(
                    "note: KEEL_PRIVACY_SECRET is set, so servers sign with it, not with the rotated database key"
                );
            }
            super::runtime()?.block_on(async move {
                let store = super::open_store(&args.db.db).await?;
                let r = keel_store::privacy::rotate_signing_secret(
                    &store,
                    &keel_store::Actor::System("cli"),
                    chrono::Duration::days(args.grace_days),
                )
                .await?;
                println!(
                    "Signing key rotated at {}; previous key accepted until {}.",
                    r.rotated_at.to_rfc3339(),
                    r.previous_valid_until.to_rfc3339()
                );
                Ok(ExitCode::SUCCESS)
            })
        }
    }
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
    runner.register(keel_store::privacy::ERASURE_JOB, |ctx| async move {
        let delivery = ctx
            .job
            .payload
            .0
            .get("delivery")
            .and_then(|r| r.as_i64())
            .ok_or("payload has no delivery id")?;
        let last_attempt = ctx.job.attempts >= ctx.job.max_attempts;
        keel_web::api::privacy::deliver_erasure(&ctx.store, delivery, last_attempt).await
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
