//! `keel consent`: consent-string tools.

use std::process::ExitCode;

/// Consent subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ConsentCommand {
    /// Decode a TCF v2.2 or GPP string and print it as JSON.
    Decode {
        /// The consent string.
        string: String,
    },
}

/// Runs a consent subcommand.
pub fn run(_command: ConsentCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("consent decoding is not available in this build yet")
}
