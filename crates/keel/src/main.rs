//! The `keel` binary: the server and every command-line tool, as subcommands of one program.
//!
//! Each subcommand is a thin adapter in [`cmd`] that parses arguments, calls a library crate and
//! prints the result. Errors are reported once, here, with `anyhow`.

mod cmd;

use clap::{Parser, Subcommand};

/// Keel runs a marketing department's operations the way a good IT organisation runs its services.
#[derive(Debug, Parser)]
#[command(name = "keel", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find duplicate records in a CSV file (or link two files) with a probabilistic model.
    Match(Box<cmd::matching::MatchArgs>),
    /// Attribute conversions to channels from journeys (paths file or Segment events).
    Attribute(cmd::attribution::AttributeArgs),
    /// Check email HTML or .eml files before sending.
    CheckEmail(cmd::checks::CheckEmailArgs),
    /// Check landing pages (files or URLs) before launch.
    CheckPage(cmd::checks::CheckPageArgs),
    /// Consent strings: decode IAB TCF v2.2 and GPP strings.
    #[command(subcommand)]
    Consent(cmd::consent::ConsentCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Match(args) => cmd::matching::run(*args),
        Command::Attribute(args) => cmd::attribution::run(args),
        Command::CheckEmail(args) => cmd::checks::run_email(args),
        Command::CheckPage(args) => cmd::checks::run_page(args),
        Command::Consent(command) => cmd::consent::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
