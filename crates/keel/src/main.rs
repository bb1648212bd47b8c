//! The `keel` binary: the server and every command-line tool, as subcommands of one program.
//!
//! Each subcommand is a thin adapter in [`cmd`] that parses arguments, calls a library crate and
//! prints the result. Errors are reported once, here, with `anyhow`.

mod cmd;
mod demo;
mod demo_contacts;
mod demo_privacy;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: imports and matching allocate and free millions of
/// small strings across threads, where glibc's allocator spent a third of the import's CPU
/// time (measured with perf on a 200,000-row import).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keel runs a marketing department's operations the way a good IT organisation runs its services.
#[derive(Debug, Parser)]
#[command(name = "keel", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Keel server (web UI, REST API, background jobs).
    Serve(cmd::server::ServeArgs),
    /// Bring the database schema up to date and exit.
    Migrate(cmd::server::DbArgs),
    /// Manage users.
    #[command(subcommand)]
    User(cmd::access::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(cmd::access::TokenCommand),
    /// Work with the tamper-evident audit log.
    #[command(subcommand)]
    Audit(cmd::access::AuditCommand),
    /// Event sources (write keys for the Segment-compatible tracking API).
    #[command(subcommand)]
    Source(cmd::events::SourceCommand),
    /// Show what applying a directory of ops-as-code files would change in the running state.
    Plan(cmd::ops::PlanArgs),
    /// Apply a directory of ops-as-code files as one recorded change.
    Apply(cmd::ops::PlanArgs),
    /// Write the running state as ops-as-code files.
    Export(cmd::ops::ExportArgs),
    /// Show everything downstream of a tool or field (the blast radius of a change).
    Impact(cmd::ops::ImpactArgs),
    /// Add the tools and contracts of a SaaS-management inventory CSV to the catalog.
    ImportInventory(cmd::ops::ImportInventoryArgs),
    /// Find duplicate records in a CSV file (or link two files) with a probabilistic model.
    Match(Box<cmd::matching::MatchArgs>),
    /// Attribute conversions to channels from journeys (paths file or Segment events).
    Attribute(Box<cmd::attribution::AttributeArgs>),
    /// Attribution data in the database: import ad costs and CRM opportunities, recompute.
    #[command(subcommand)]
    Attribution(cmd::attribution::AttributionCommand),
    /// Check email HTML or .eml files before sending.
    CheckEmail(cmd::checks::CheckEmailArgs),
    /// Check landing pages (files or URLs) before launch.
    CheckPage(cmd::checks::CheckPageArgs),
    /// Validate an ops-as-code directory (YAML) and report every problem with file and line.
    Check(cmd::manifests::CheckArgs),
    /// Contact data: imports with quarantine and duplicate checks, and the contact jobs.
    #[command(subcommand)]
    Contacts(cmd::contacts::ContactsCommand),
    /// Consent strings: decode IAB TCF v2.2 and GPP strings.
    #[command(subcommand)]
    Consent(cmd::consent::ConsentCommand),
    /// Approval policies: `keel policy simulate DIR` replays past requests under changed policies.
    #[command(subcommand)]
    Policy(cmd::work::PolicyCommand),
    /// Count who may receive a campaign (purpose, channel) in a segment, by reason.
    Eligibility(cmd::privacy::EligibilityArgs),
    /// Privacy administration: rotate the link-signing key.
    #[command(subcommand)]
    Privacy(cmd::privacy::PrivacyCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => cmd::server::serve(args),
        Command::Migrate(args) => cmd::server::migrate(args),
        Command::User(command) => cmd::access::user(command),
        Command::Token(command) => cmd::access::token(command),
        Command::Audit(command) => cmd::access::audit(command),
        Command::Source(command) => cmd::events::source(command),
        Command::Plan(args) => cmd::ops::plan(args),
        Command::Apply(args) => cmd::ops::apply(args),
        Command::Export(args) => cmd::ops::export(args),
        Command::Impact(args) => cmd::ops::impact(args),
        Command::ImportInventory(args) => cmd::ops::import_inventory(args),
        Command::Match(args) => cmd::matching::run(*args),
        Command::Attribute(args) => cmd::attribution::run(*args),
        Command::Attribution(command) => cmd::attribution::command(command),
        Command::CheckEmail(args) => cmd::checks::run_email(args),
        Command::CheckPage(args) => cmd::checks::run_page(args),
        Command::Consent(command) => cmd::consent::run(command),
        Command::Policy(command) => cmd::work::policy(command),
        Command::Contacts(command) => cmd::contacts::run(command),
        Command::Check(args) => cmd::manifests::run_check(args),
        Command::Eligibility(args) => cmd::privacy::eligibility(args),
        Command::Privacy(command) => cmd::privacy::command(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
