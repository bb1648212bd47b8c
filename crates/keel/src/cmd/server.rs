//! `keel serve` and `keel migrate`.

use anyhow::Context;
use keel_jobs::Runner;
use std::process::ExitCode;
use std::sync::Arc;

/// Where the database is.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// Database: a SQLite file path (default `keel.db`) or a `postgres://` URL.
    #[arg(long, env = "KEEL_DB", default_value = "keel.db")]
    pub db: String,
}

/// Arguments of `keel serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "KEEL_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// On an empty database, create the demo workspace (a fictional company with people in every
    /// role) and print how to sign in.
    #[arg(long)]
    demo: bool,
    /// Mark cookies `Secure` (set this when Keel is served over HTTPS).
    #[arg(long, env = "KEEL_SECURE_COOKIES")]
    secure_cookies: bool,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    super::runtime()?.block_on(async move {
        let store = super::open_store(&args.db.db).await?;
        if args.demo {
            crate::demo::seed_if_empty(&store).await?;
        }
        let mut runner = Runner::new(store.clone());
        register_jobs(&mut runner);
        ensure_schedules(&store).await?;
        let waker = runner.waker();
        let mut state = keel_web::AppState::new(store.clone(), waker)?;
        state.secure_cookies = args.secure_cookies;
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let local = listener.local_addr()?;
        // Tests and scripts read this line to find the port when started with :0.
        println!(
            "Keel is listening on http://{local} (database: {})",
            store.display_url()
        );
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let jobs = tokio::spawn(runner.run(stop_rx));
        let shutdown = async move {
            wait_for_signal().await;
            let _ = stop_tx.send(true);
        };
        keel_web::serve(state, listener, shutdown).await?;
        let _ = jobs.await;
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Brings the schema up to date.
pub fn migrate(args: DbArgs) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async move {
        let store = keel_store::Store::connect(&args.db).await?;
        let ran = keel_store::migrations::migrate(&store).await?;
        if ran.is_empty() {
            println!("The schema is up to date.");
        } else {
            println!("Applied migrations: {ran:?}");
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Registers every kind of background job the server runs.
pub fn register_jobs(runner: &mut Runner) {
    super::privacy::register_jobs(runner);
    super::contacts::register_jobs(runner);
    runner.register("sessions.purge", |ctx| async move {
        keel_store::accounts::purge_expired_sessions(&ctx.store)
            .await
            .map(|n| tracing::info!("purged {n} expired sessions"))
            .map_err(|e| e.to_string())
    });
    runner.register("catalog.notifications", |ctx| async move {
        super::notify::raise_catalog_notifications(&ctx.store)
            .await
            .map(|n| tracing::info!("raised {n} new catalog notifications"))
    });
    runner.register("webhook.deliver", |ctx| async move {
        super::notify::deliver(&ctx.store, &ctx.job.payload.0).await
    });
    runner.register("mail.send", |ctx| async move {
        super::work::send_mail(&ctx.job.payload.0).await
    });
    runner.register("work.sla", |ctx| async move {
        super::work::run_sla(&ctx.store)
            .await
            .map(|n| tracing::info!("raised {n} SLA warnings and escalations"))
    });
    runner.register(
        keel_web::api::attribution::RECOMPUTE_JOB,
        |ctx| async move {
            keel_web::api::attribution::recompute(&ctx.store)
                .await
                .map(|s| tracing::info!("attribution recomputed: {s}"))
        },
    );
    runner.register("audit.verify", |ctx| async move {
        let v = keel_store::audit::verify(&ctx.store)
            .await
            .map_err(|e| e.to_string())?;
        match v.error {
            None => Ok(()),
            Some(e) => Err(format!("audit chain broken: {e}")),
        }
    });
}

async fn ensure_schedules(store: &keel_store::Store) -> anyhow::Result<()> {
    use chrono::Duration;
    use keel_store::jobs::ensure_schedule;
    super::contacts::ensure_schedules(store).await?;
    ensure_schedule(
        store,
        "hourly-session-cleanup",
        "sessions.purge",
        serde_json::json!({}),
        Duration::hours(1),
    )
    .await?;
    ensure_schedule(
        store,
        "daily-catalog-notifications",
        "catalog.notifications",
        serde_json::json!({}),
        Duration::days(1),
    )
    .await?;
    ensure_schedule(
        store,
        "sla-clocks",
        "work.sla",
        serde_json::json!({}),
        Duration::minutes(5),
    )
    .await?;
    ensure_schedule(
        store,
        "nightly-audit-verification",
        "audit.verify",
        serde_json::json!({}),
        Duration::days(1),
    )
    .await?;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let _ = Arc::new(());
}
