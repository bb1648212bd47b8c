//! `keel check-email` and `keel check-page`.

use std::process::ExitCode;

/// Arguments of `keel check-email`.
#[derive(Debug, clap::Args)]
pub struct CheckEmailArgs {}

/// Arguments of `keel check-page`.
#[derive(Debug, clap::Args)]
pub struct CheckPageArgs {}

/// Runs `keel check-email`.
pub fn run_email(_args: CheckEmailArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("this command is not available in this build yet")
}

/// Runs `keel check-page`.
pub fn run_page(_args: CheckPageArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("this command is not available in this build yet")
}
