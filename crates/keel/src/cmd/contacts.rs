//! `keel contacts`: import exports into the contact database, and the contact jobs (batch
//! re-deduplication, inactivity sunset, score decay) both as commands and as job handlers.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use keel_contacts::dedupe::{Decision, Matcher, Thresholds};
use keel_contacts::hygiene::{SunsetPolicy, SunsetStatus};
use keel_contacts::import::{FieldMap, ImportOptions, Layout};
use keel_contacts::merge::SurvivorshipConfig;
use keel_contacts::scoring::ScoringModel;
use keel_contacts::{CompiledContract, ObjectKind};
use keel_jobs::Runner;
use keel_store::contacts::{self as store_contacts, ImportJob, NewImport};
use keel_store::{Actor, Store};

use super::server::DbArgs;

/// `keel contacts …`
#[derive(Debug, clap::Subcommand)]
pub enum ContactsCommand {
    /// Import a CSV or JSON Lines export through a field map, with duplicate checks.
    Import(ImportArgs),
    /// Re-check every contact for duplicates: merge sure ones, queue the rest for review.
    Dedupe {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Apply the inactivity sunset policy (re-engagement, then suppression).
    Sunset {
        #[command(flatten)]
        db: DbArgs,
        /// Only report what would change.
        #[arg(long)]
        dry_run: bool,
        /// Months without engagement before re-engagement starts.
        #[arg(long, default_value_t = 18)]
        inactive_months: u32,
        /// Days of re-engagement before a contact is sunset.
        #[arg(long, default_value_t = 30)]
        re_engagement_days: u32,
    },
    /// Recompute lead scores (engagement decays with age).
    Rescore {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `keel contacts import`
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The export file (`.csv`, or `.jsonl`/`.ndjson` for JSON Lines).
    file: PathBuf,
    /// `salesforce-lead`, `salesforce-contact`, `hubspot-contact`, `marketo-lead`, or a
    /// field map file (`MAP.yaml`).
    #[arg(long)]
    layout: String,
    /// Text encoding when the file is not UTF-8 (`latin1`, `windows-1252`, …).
    #[arg(long)]
    encoding: Option<String>,
    /// Skip the real-time duplicate check.
    #[arg(long)]
    no_duplicate_check: bool,
    /// Rows written per transaction.
    #[arg(long, default_value_t = store_contacts::IMPORT_BATCH_ROWS)]
    batch: usize,
    /// Print no progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs a contacts subcommand.
pub fn run(command: ContactsCommand) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async move {
        match command {
            ContactsCommand::Import(args) => import(args).await,
            ContactsCommand::Dedupe { db } => {
                let store = super::open_store(&db.db).await?;
                let r = dedupe_all(&store, &Actor::System("cli"))
                    .await
                    .map_err(anyhow::Error::msg)?;
                println!(
                    "checked {} contacts: {} merged, {} queued for review",
                    r.checked, r.merged, r.queued
                );
                store.close().await;
                Ok(ExitCode::SUCCESS)
            }
            ContactsCommand::Sunset {
                db,
                dry_run,
                inactive_months,
                re_engagement_days,
            } => {
                let store = super::open_store(&db.db).await?;
                let policy = SunsetPolicy {
                    inactive_months,
                    re_engagement_days,
                };
                let r = sunset(&store, &Actor::System("cli"), policy, dry_run)
                    .await
                    .map_err(anyhow::Error::msg)?;
                println!(
                    "{}{} active, {} start re-engagement, {} re-engaging, {} sunset",
                    if dry_run { "dry run: " } else { "" },
                    r.active,
                    r.start_re_engagement,
                    r.re_engaging,
                    r.sunset
                );
                store.close().await;
                Ok(ExitCode::SUCCESS)
            }
            ContactsCommand::Rescore { db } => {
                let store = super::open_store(&db.db).await?;
                let actor = Actor::System("cli");
                let n = rescore(&store, &actor).await.map_err(anyhow::Error::msg)?;
                let handed = hand_off_mqls(&store, &actor)
                    .await
                    .map_err(anyhow::Error::msg)?;
                println!("rescored {n} contacts; {handed} new MQLs handed to sales");
                store.close().await;
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// A field map from a built-in layout name or a `MAP.yaml` file, and the map's name.
pub fn field_map(layout: &str) -> anyhow::Result<(FieldMap, String)> {
    if let Some(l) = Layout::parse(layout) {
        return Ok((l.field_map()?, l.name().to_string()));
    }
    if layout.ends_with(".yaml") || layout.ends_with(".yml") {
        let text = std::fs::read_to_string(layout)
            .with_context(|| format!("cannot read the field map {layout}"))?;
        let map = FieldMap::from_yaml(&text).with_context(|| format!("in {layout}"))?;
        let problems = map.validate();
        if !problems.is_empty() {
            bail!(
                "{layout}: {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        let name = map.metadata.name.clone();
        return Ok((map, name));
    }
    bail!(
        "unknown layout `{layout}`: use salesforce-lead, salesforce-contact, hubspot-contact, marketo-lead or a MAP.yaml file"
    )
}

async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (map, layout_name) = field_map(&args.layout)?;
    let contract: CompiledContract = map.default_contract()?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.file.display().to_string());
    let json_lines = is_json_lines(&file_name);
    // One clear error up front for a file in the wrong encoding or with the wrong header.
    store_contacts::precheck(
        &bytes,
        args.encoding.as_deref(),
        json_lines,
        &map,
        &contract,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let store = super::open_store(&args.db.db).await?;
    let actor = Actor::System("cli");
    let stored = store_contacts::create_import(
        &store,
        &actor,
        &NewImport {
            file_name: file_name.clone(),
            layout: layout_name,
            content: None,
            check_duplicates: !args.no_duplicate_check,
        },
    )
    .await?;
    let rows_estimate = bytecount_lines(&bytes).saturating_sub(1);
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(rows_estimate)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bar:40} {human_pos}/{human_len} rows  {rate}  eta {eta}",
        )
        .map(|s| {
            s.with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} rows/s", state.per_sec());
                },
            )
        })
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let job = ImportJob {
        import_id: stored.id,
        bytes,
        encoding: args.encoding.clone(),
        json_lines,
        map,
        contract,
        options: ImportOptions {
            source: file_name.clone(),
            at: keel_store::now(),
        },
        dedupe: (!args.no_duplicate_check)
            .then(|| (Thresholds::default(), SurvivorshipConfig::default())),
        batch_size: args.batch,
    };
    let result = store_contacts::run_import(&store, &actor, job, |n| bar.set_position(n)).await;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let done = match result {
        Ok(i) => i,
        Err(e) => {
            store.close().await;
            bail!("{}: {e}", args.file.display());
        }
    };
    println!(
        "import {} of {}: {} rows in {:.1}s ({:.0} rows/s)",
        done.id,
        file_name,
        done.rows_read,
        secs,
        done.rows_read as f64 / secs.max(1e-9)
    );
    println!(
        "  {} new, {} updated, {} unchanged, {} merged into duplicates, {} queued for review, {} quarantined",
        done.accepted,
        done.updated,
        done.unchanged,
        done.merged,
        done.queued_for_review,
        done.quarantined
    );
    let reasons = store_contacts::quarantine_reasons(&store, done.id).await?;
    if !reasons.is_empty() {
        println!("  quarantine reasons:");
        for (reason, n) in reasons.iter().take(15) {
            println!("    {n:>7}  {reason}");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Whether a file name says JSON Lines.
pub fn is_json_lines(name: &str) -> bool {
    let n = name.to_lowercase();
    n.ends_with(".jsonl") || n.ends_with(".ndjson")
}

fn bytecount_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// What a batch re-deduplication did.
#[derive(Debug, Default)]
pub struct DedupeReport {
    /// Contacts checked.
    pub checked: usize,
    /// Merged automatically.
    pub merged: usize,
    /// Queued for review.
    pub queued: usize,
}

/// Re-checks every active contact against the ones before it: above the auto-merge threshold
/// the pair is merged, in the review band it is queued (pairs decided before stay decided).
pub async fn dedupe_all(store: &Store, actor: &Actor) -> Result<DedupeReport, String> {
    let records = store_contacts::active_records(store, ObjectKind::Contact)
        .await
        .map_err(|e| e.to_string())?;
    let thresholds = Thresholds::default();
    let mut matcher = Matcher::from_values(Vec::new(), thresholds).map_err(|e| e.to_string())?;
    let mut report = DedupeReport::default();
    let survivorship = SurvivorshipConfig::default();
    for r in &records {
        report.checked += 1;
        match matcher.check(&r.record).map_err(|e| e.to_string())? {
            Decision::Merge { into, .. } => {
                match store_contacts::merge_records(store, actor, &into, &r.row.id, &survivorship)
                    .await
                {
                    Ok(_) => {
                        report.merged += 1;
                        matcher
                            .insert(&into, &r.record)
                            .map_err(|e| e.to_string())?;
                        continue;
                    }
                    // Someone merged one of them meanwhile: leave it to the next run.
                    Err(keel_store::StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
            Decision::Review {
                candidate,
                probability,
            } => {
                let explanation = matcher
                    .explain(&r.record, &candidate)
                    .ok()
                    .and_then(|e| serde_json::to_value(e).ok())
                    .unwrap_or_default();
                if store_contacts::queue_for_review(
                    store,
                    actor,
                    &candidate,
                    &r.row.id,
                    probability,
                    &explanation,
                    "batch",
                )
                .await
                .map_err(|e| e.to_string())?
                .is_some()
                {
                    report.queued += 1;
                }
            }
            Decision::Separate => {}
        }
        matcher
            .insert(&r.row.id, &r.record)
            .map_err(|e| e.to_string())?;
    }
    Ok(report)
}

/// What a sunset run found (and, unless a dry run, did).
#[derive(Debug, Default)]
pub struct SunsetReport {
    /// Engaged recently.
    pub active: usize,
    /// Entering re-engagement now.
    pub start_re_engagement: usize,
    /// In re-engagement.
    pub re_engaging: usize,
    /// Sunset (suppressed) now.
    pub sunset: usize,
}

/// Applies the sunset policy: contacts inactive for the policy's months get a `reengage`
/// hygiene event (the re-engagement segment); those still inactive after the re-engagement
/// window are sunset (suppressed). A dry run only counts.
pub async fn sunset(
    store: &Store,
    actor: &Actor,
    policy: SunsetPolicy,
    dry_run: bool,
) -> Result<SunsetReport, String> {
    let now = Utc::now();
    let records = store_contacts::active_records(store, ObjectKind::Contact)
        .await
        .map_err(|e| e.to_string())?;
    let (events, _) = store_contacts::hygiene_events(store, Some("reengage"), i64::MAX / 2, 0)
        .await
        .map_err(|e| e.to_string())?;
    let mut report = SunsetReport::default();
    for r in records.iter().filter(|r| !r.row.suppressed) {
        let Some(email) = r.row.email.clone() else {
            continue;
        };
        let started = events
            .iter()
            .filter(|e| e.email == email)
            .map(|e| e.at)
            .max();
        match policy.classify(r.row.created_at, r.row.last_engaged_at, started, now) {
            SunsetStatus::Active => report.active += 1,
            SunsetStatus::ReEngaging { .. } => report.re_engaging += 1,
            SunsetStatus::StartReEngagement => {
                report.start_re_engagement += 1;
                if !dry_run {
                    store_contacts::record_hygiene(
                        store,
                        actor,
                        &email,
                        "reengage",
                        &format!("no engagement in {} months", policy.inactive_months),
                        "sunset-job",
                        now,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                }
            }
            SunsetStatus::Sunset => {
                report.sunset += 1;
                if !dry_run {
                    store_contacts::record_hygiene(
                        store,
                        actor,
                        &email,
                        "sunset",
                        &format!(
                            "did not re-engage within {} days",
                            policy.re_engagement_days
                        ),
                        "sunset-job",
                        now,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    Ok(report)
}

/// The scoring model in force: the stored `ScoringModel` document if there is one, else the
/// shipped lead-scoring model.
pub async fn scoring_model(store: &Store) -> Result<ScoringModel, String> {
    let docs = keel_store::documents::list(store, Some(keel_contacts::scoring::KIND))
        .await
        .map_err(|e| e.to_string())?;
    if let Some(d) = docs.first() {
        let doc = serde_json::json!({
            "apiVersion": d.api_version,
            "kind": d.kind,
            "metadata": d.metadata.0,
            "spec": d.spec.0,
        });
        return serde_json::from_value(doc).map_err(|e| e.to_string());
    }
    ScoringModel::from_yaml(keel_contacts::scoring::DEFAULT_MODEL).map_err(|e| e.to_string())
}

/// Recomputes every contact's score as of now (engagement decays with its age).
pub async fn rescore(store: &Store, actor: &Actor) -> Result<usize, String> {
    let model = scoring_model(store).await?;
    let now = Utc::now();
    let records = store_contacts::active_records(store, ObjectKind::Contact)
        .await
        .map_err(|e| e.to_string())?;
    let events = store_contacts::engagement_events(store)
        .await
        .map_err(|e| e.to_string())?;
    let empty = Vec::new();
    let scores: Vec<(String, f64)> = records
        .iter()
        .filter_map(|r| {
            let ev = events.get(&r.row.id).unwrap_or(&empty);
            let s = (model.score(&r.record, ev, now).total * 10.0).round() / 10.0;
            ((r.row.score - s).abs() > f64::EPSILON).then(|| (r.row.id.clone(), s))
        })
        .collect();
    store_contacts::set_scores(store, actor, &scores)
        .await
        .map_err(|e| e.to_string())?;
    Ok(scores.len())
}

/// Registers the contact jobs on the runner.
pub fn register_jobs(runner: &mut Runner) {
    runner.register("contacts.import", |ctx| async move {
        import_job(&ctx.store, &ctx.job.payload.0).await
    });
    runner.register("contacts.dedupe", |ctx| async move {
        dedupe_all(&ctx.store, &Actor::System("contacts.dedupe"))
            .await
            .map(|r| {
                tracing::info!(
                    "re-deduplication: {} checked, {} merged, {} queued",
                    r.checked,
                    r.merged,
                    r.queued
                )
            })
    });
    runner.register("contacts.sunset", |ctx| async move {
        let p = &ctx.job.payload.0;
        let policy = SunsetPolicy {
            inactive_months: p
                .get("inactive_months")
                .and_then(|v| v.as_u64())
                .unwrap_or(18) as u32,
            re_engagement_days: p
                .get("re_engagement_days")
                .and_then(|v| v.as_u64())
                .unwrap_or(30) as u32,
        };
        let dry_run = p.get("dry_run").and_then(|v| v.as_bool()).unwrap_or(false);
        sunset(
            &ctx.store,
            &Actor::System("contacts.sunset"),
            policy,
            dry_run,
        )
        .await
        .map(|r| tracing::info!("sunset (dry run: {dry_run}): {r:?}"))
    });
    runner.register("contacts.rescore", |ctx| async move {
        let actor = Actor::System("contacts.rescore");
        let n = rescore(&ctx.store, &actor).await?;
        let handed = hand_off_mqls(&ctx.store, &actor).await?;
        tracing::info!("rescored {n} contacts; {handed} new MQLs handed to sales");
        Ok(())
    });
}

/// Schedules the recurring contact jobs.
pub async fn ensure_schedules(store: &Store) -> anyhow::Result<()> {
    use chrono::Duration;
    use keel_store::jobs::ensure_schedule;
    ensure_schedule(
        store,
        "nightly-contact-rescore",
        "contacts.rescore",
        serde_json::json!({}),
        Duration::days(1),
    )
    .await?;
    ensure_schedule(
        store,
        "weekly-contact-dedupe",
        "contacts.dedupe",
        serde_json::json!({}),
        Duration::days(7),
    )
    .await?;
    ensure_schedule(
        store,
        "daily-contact-sunset",
        "contacts.sunset",
        serde_json::json!({"dry_run": false}),
        Duration::days(1),
    )
    .await?;
    Ok(())
}

/// Runs an uploaded import (`{import_id, layout, map_yaml?, encoding?}`).
async fn import_job(store: &Store, payload: &serde_json::Value) -> Result<(), String> {
    let import_id = payload
        .get("import_id")
        .and_then(|v| v.as_i64())
        .ok_or("the job has no import_id")?;
    let import = store_contacts::import(store, import_id)
        .await
        .map_err(|e| e.to_string())?;
    if import.status == "done" || import.status == "failed" {
        return Ok(());
    }
    let map = match payload.get("map_yaml").and_then(|v| v.as_str()) {
        Some(yaml) => FieldMap::from_yaml(yaml).map_err(|e| e.to_string())?,
        None => Layout::parse(&import.layout)
            .ok_or_else(|| format!("unknown layout `{}`", import.layout))?
            .field_map()
            .map_err(|e| e.to_string())?,
    };
    let contract = map.default_contract().map_err(|e| e.to_string())?;
    let bytes = store_contacts::import_content(store, import_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the import's file is gone")?;
    let actor = Actor::System("contacts.import");
    let job = ImportJob {
        import_id,
        bytes,
        encoding: payload
            .get("encoding")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        json_lines: is_json_lines(&import.file_name),
        map,
        contract,
        options: ImportOptions {
            source: import.file_name.clone(),
            at: keel_store::now(),
        },
        dedupe: import
            .check_duplicates
            .then(|| (Thresholds::default(), SurvivorshipConfig::default())),
        batch_size: store_contacts::IMPORT_BATCH_ROWS,
    };
    // A file-level failure is recorded on the import; retrying would fail the same way.
    match store_contacts::run_import(store, &actor, job, |_| {}).await {
        Ok(_) | Err(store_contacts::ImportError::File(_)) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Hands every lead whose score crossed the MQL threshold to sales: round robin over the people
/// with the Sales role, with the acceptance clock started now on the work SLA engine (24
/// business hours unless an `SLA` document applies to `mql_handoff`). Returns how many were
/// handed off.
pub async fn hand_off_mqls(store: &Store, actor: &Actor) -> Result<usize, String> {
    use keel_contacts::routing::{Rep, RoutingPolicy, RoutingState, route};
    let model = scoring_model(store).await?;
    let (users, _) = keel_store::accounts::list_users(store, None, 1000, 0)
        .await
        .map_err(|e| e.to_string())?;
    let reps: Vec<Rep> = users
        .iter()
        .filter(|u| u.user.active && u.roles.contains(&keel_accounts::Role::Sales))
        .map(|u| Rep {
            id: u.user.email.to_string(),
            available: true,
        })
        .collect();
    if reps.is_empty() {
        return Ok(0);
    }
    let policy = RoutingPolicy {
        reps,
        territories: Vec::new(),
        account_owner_first: false,
    };
    let sla = keel_web::work::Workspace::load(store)
        .await
        .and_then(|ws| ws.handoff_sla())
        .map_err(|e| e.to_string())?;
    let (waiting, _) = store_contacts::handoffs(store, Some("waiting"), i64::MAX / 2, 0)
        .await
        .map_err(|e| e.to_string())?;
    let waiting: std::collections::HashSet<String> =
        waiting.into_iter().map(|h| h.record_id).collect();
    let mut state = RoutingState::default();
    let mut handed = 0;
    for r in store_contacts::active_records(store, ObjectKind::Contact)
        .await
        .map_err(|e| e.to_string())?
    {
        let stage = r.row.lifecycle_stage.as_str();
        if r.row.suppressed
            || r.row.score < model.spec.mql_threshold
            || !matches!(stage, "subscriber" | "lead")
            || waiting.contains(&r.row.id)
        {
            continue;
        }
        let (assignment, next) =
            route(&r.record, None, &policy, &state).map_err(|e| e.to_string())?;
        state = next;
        keel_web::work::start_handoff(
            store,
            &sla,
            actor,
            &r.row.id,
            stage,
            &assignment.rep,
            r.row.score,
            keel_store::now(),
        )
        .await
        .map_err(|e| e.to_string())?;
        handed += 1;
    }
    Ok(handed)
}
