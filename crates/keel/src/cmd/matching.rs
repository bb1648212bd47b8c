//! `keel matching` command.

use std::process::ExitCode;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct MatchArgs {}

/// Runs the command.
pub fn run(_args: MatchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("this command is not available in this build yet")
}
