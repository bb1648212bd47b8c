//! `keel check DIR`: validate an ops-as-code directory and report every problem.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Arguments of `keel check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Directory (or single file) of YAML documents to check.
    pub dir: PathBuf,
    /// Print diagnostics as JSON lines instead of `file:line:column: error: message`.
    #[arg(long)]
    pub json: bool,
}

/// The registry of every kind `keel` understands.
pub fn registry() -> keel_manifests::Registry {
    keel_web::ops::registry()
}

/// Runs `keel check`: exit 0 when there are no errors, 1 when there are.
pub fn run_check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    if !args.dir.exists() {
        anyhow::bail!("{}: no such file or directory", args.dir.display());
    }
    let files = keel_manifests::fs::read_tree(&args.dir)
        .with_context(|| format!("reading {}", args.dir.display()))?;
    let loaded = keel_manifests::load(&files, &registry());
    for diagnostic in &loaded.diagnostics {
        if args.json {
            println!("{}", serde_json::to_string(diagnostic)?);
        } else {
            println!("{diagnostic}");
        }
    }
    let documents = loaded.objects.len();
    let (errors, warnings) = (loaded.error_count(), loaded.warning_count());
    eprintln!(
        "checked {} file{}, {documents} valid document{}: {errors} error{}, {warnings} warning{}",
        files.len(),
        plural(files.len()),
        plural(documents),
        plural(errors),
        plural(warnings)
    );
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
