//! `keel attribution` command.

use std::process::ExitCode;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct AttributeArgs {}

/// Runs the command.
pub fn run(_args: AttributeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("this command is not available in this build yet")
}
