//! `keel plan`, `keel apply` and `keel export`: ops as code against a running Keel's database.

use super::server::DbArgs;
use anyhow::{Context, bail};
use keel_manifests::{Layout, Loaded};
use keel_store::Actor;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `keel plan` and `keel apply`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Directory of YAML documents: the desired state.
    pub dir: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    remote: RemoteArgs,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
}

/// Talking to a running Keel instead of its database.
#[derive(Debug, Clone, clap::Args)]
pub struct RemoteArgs {
    /// A running Keel's address, e.g. https://keel.example.com (instead of --db).
    #[arg(long, env = "KEEL_SERVER")]
    server: Option<String>,
    /// An API token for --server (see `keel token create`).
    #[arg(long, env = "KEEL_TOKEN", requires = "server")]
    token: Option<String>,
}

impl RemoteArgs {
    /// Calls the server's API with the token; a problem document becomes a readable error.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let (Some(server), Some(token)) = (&self.server, &self.token) else {
            bail!("--server needs --token (or KEEL_TOKEN)");
        };
        let url = format!("{}{path}", server.trim_end_matches('/'));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let auth = format!("Bearer {token}");
        let mut response = match body {
            Some(b) => agent
                .post(&url)
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .send(b.to_string())
                .with_context(|| format!("POST {url}"))?,
            None => agent
                .get(&url)
                .header("authorization", &auth)
                .call()
                .with_context(|| format!("{method} {url}"))?,
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .with_context(|| format!("reading the answer of {url}"))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        if status >= 400 {
            let mut message = format!(
                "{url} answered {status}: {}",
                value["detail"].as_str().unwrap_or("(no detail)")
            );
            for e in value["errors"].as_array().into_iter().flatten() {
                message.push_str(&format!(
                    "\n  {}: {}",
                    e["field"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or("")
                ));
            }
            bail!(message);
        }
        Ok(value)
    }
}

/// Arguments of `keel export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Directory to write (created if missing; existing files of the same names are replaced).
    pub dir: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    /// One file per object instead of one file per kind.
    #[arg(long)]
    file_per_object: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

pub(crate) fn load_checked(dir: &Path) -> anyhow::Result<Loaded> {
    if !dir.exists() {
        bail!("{}: no such file or directory", dir.display());
    }
    let files =
        keel_manifests::fs::read_tree(dir).with_context(|| format!("reading {}", dir.display()))?;
    let loaded = keel_manifests::load(&files, &keel_web::ops::registry());
    if loaded.has_errors() {
        for d in &loaded.diagnostics {
            eprintln!("{d}");
        }
        bail!(
            "{} has {} error(s); nothing was planned or applied (run `keel check` for details)",
            dir.display(),
            loaded.error_count()
        );
    }
    Ok(loaded)
}

async fn plan_for(args: &PlanArgs) -> anyhow::Result<(keel_store::Store, keel_manifests::Plan)> {
    let loaded = load_checked(&args.dir)?;
    let store = super::open_store(&args.db.db).await?;
    let current = keel_web::ops::current_documents(&store).await?;
    Ok((store, keel_manifests::plan(&current, &loaded.documents())))
}

fn print_plan(plan: &keel_manifests::Plan, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(plan)?);
    } else if plan.is_empty() {
        println!("No changes: the running state matches the files.");
    } else {
        // The plan's own rendering ends with its summary line.
        println!("{plan}");
    }
    Ok(())
}

/// `keel plan`: shows what `apply` would do (exit 0 either way; `--json` for scripts).
pub fn plan(args: PlanArgs) -> anyhow::Result<ExitCode> {
    if args.remote.server.is_some() {
        let documents = serde_json::to_value(load_checked(&args.dir)?.documents())?;
        let plan: keel_manifests::Plan = serde_json::from_value(args.remote.call(
            "POST",
            "/api/v1/ops/plan",
            Some(serde_json::json!({"documents": documents})),
        )?)?;
        print_plan(&plan, args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    super::runtime()?.block_on(async move {
        let (store, plan) = plan_for(&args).await?;
        print_plan(&plan, args.json)?;
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// `keel apply`: applies the plan as one recorded change.
pub fn apply(args: PlanArgs) -> anyhow::Result<ExitCode> {
    if args.remote.server.is_some() {
        let documents = serde_json::to_value(load_checked(&args.dir)?.documents())?;
        let reason = format!("keel apply {}", args.dir.display());
        let applied = args.remote.call(
            "POST",
            "/api/v1/ops/apply",
            Some(serde_json::json!({"documents": documents, "reason": reason})),
        )?;
        let plan: keel_manifests::Plan = serde_json::from_value(applied["plan"].clone())?;
        print_plan(&plan, args.json)?;
        let n = applied["changes"].as_u64().unwrap_or(0);
        if n > 0 {
            println!("Applied {n} change(s) as one recorded change.");
        }
        return Ok(ExitCode::SUCCESS);
    }
    super::runtime()?.block_on(async move {
        let (store, plan) = plan_for(&args).await?;
        print_plan(&plan, args.json)?;
        let reason = format!("keel apply {}", args.dir.display());
        let n = keel_web::ops::apply_plan(&store, &Actor::System("cli"), &plan, &reason).await?;
        if n > 0 {
            println!("Applied {n} change(s) as one recorded change.");
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// `keel export`: writes the running state as files that `keel check` accepts.
pub fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let layout = if args.file_per_object {
        Layout::FilePerObject
    } else {
        Layout::FilePerKind
    };
    if args.remote.server.is_some() {
        let docs: Vec<keel_manifests::Document> =
            serde_json::from_value(args.remote.call("GET", "/api/v1/ops/export", None)?)?;
        let files = keel_manifests::export(&keel_web::ops::registry(), &docs, layout)?;
        keel_manifests::fs::write_tree(&args.dir, &files)
            .with_context(|| format!("writing {}", args.dir.display()))?;
        println!(
            "Exported {} document(s) in {} file(s) to {}",
            docs.len(),
            files.len(),
            args.dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    super::runtime()?.block_on(async move {
        let store = super::open_store(&args.db.db).await?;
        let docs = keel_web::ops::current_documents(&store).await?;
        let layout = if args.file_per_object {
            Layout::FilePerObject
        } else {
            Layout::FilePerKind
        };
        let files = keel_manifests::export(&keel_web::ops::registry(), &docs, layout)?;
        keel_manifests::fs::write_tree(&args.dir, &files)
            .with_context(|| format!("writing {}", args.dir.display()))?;
        println!(
            "Exported {} document(s) in {} file(s) to {}",
            docs.len(),
            files.len(),
            args.dir.display()
        );
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Arguments of `keel impact`.
#[derive(Debug, clap::Args)]
pub struct ImpactArgs {
    /// A tool name.
    #[arg(long, conflicts_with = "field", required_unless_present = "field")]
    tool: Option<String>,
    /// A field as `tool.Object.Field`.
    #[arg(long)]
    field: Option<String>,
    /// Read the stack from this directory of ops-as-code files instead of the database.
    #[arg(long)]
    dir: Option<PathBuf>,
    #[command(flatten)]
    db: DbArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `keel impact`: everything downstream of a tool or field, with the path to each.
pub fn impact(args: ImpactArgs) -> anyhow::Result<ExitCode> {
    use keel_catalog::impact::{Graph, Node};
    let catalog = match &args.dir {
        Some(dir) => keel_catalog::Catalog::from_loaded(&load_checked(dir)?),
        None => super::runtime()?.block_on(async {
            let store = super::open_store(&args.db.db).await?;
            let catalog = keel_web::ops::catalog(&store).await;
            store.close().await;
            anyhow::Ok(catalog?)
        })?,
    };
    let start = match (&args.tool, &args.field) {
        (Some(t), _) => Node::Tool(t.clone()),
        (None, Some(f)) => Node::Field(f.clone()),
        (None, None) => bail!("give --tool or --field"),
    };
    let graph = Graph::build(&catalog);
    if !graph.contains(&start) {
        bail!("{start} is not in the stack graph");
    }
    let impacted = graph.downstream(&start);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"start": start, "impacted": impacted})
            )?
        );
    } else if impacted.is_empty() {
        println!("Nothing depends on {start}.");
    } else {
        println!("{} item(s) depend on {start}:", impacted.len());
        for i in &impacted {
            let path: Vec<String> = i.path.iter().map(ToString::to_string).collect();
            println!("  {:<40} via {}", i.node.to_string(), path.join(" → "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `keel import-inventory`.
#[derive(Debug, clap::Args)]
pub struct ImportInventoryArgs {
    /// A SaaS-management export as CSV (name, vendor, owner email, cost, seats, renewal date).
    pub file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    /// Show what would change without changing anything.
    #[arg(long)]
    dry_run: bool,
}

/// `keel import-inventory`: adds the tools (and contracts) of an inventory CSV to the catalog as
/// one recorded change. Bad rows are reported with line and column and skipped; the exit code is
/// 1 when any row was rejected.
pub fn import_inventory(args: ImportInventoryArgs) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async move {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let store = super::open_store(&args.db.db).await?;
        let mut catalog = keel_web::ops::catalog(&store).await?;
        let people = keel_catalog::import::people_by_email(&catalog);
        let inventory = keel_catalog::import::read_inventory(file, &people)
            .with_context(|| format!("reading {}", args.file.display()))?;
        for e in &inventory.errors {
            eprintln!(
                "{}:{}:{}: error: {}",
                args.file.display(),
                e.line,
                e.column,
                e.message
            );
        }
        inventory.merge_into(&mut catalog);
        let current = keel_web::ops::current_documents(&store).await?;
        let mut desired: Vec<keel_manifests::Document> = current
            .iter()
            .filter(|d| !keel_web::ops::is_catalog_kind(&d.kind))
            .cloned()
            .collect();
        desired.extend(catalog.to_documents()?);
        let plan = keel_manifests::plan(&current, &desired);
        print_plan(&plan, false)?;
        if !args.dry_run {
            let reason = format!("keel import-inventory {}", args.file.display());
            let n =
                keel_web::ops::apply_plan(&store, &Actor::System("cli"), &plan, &reason).await?;
            let rejected: std::collections::BTreeSet<u64> =
                inventory.errors.iter().map(|e| e.line).collect();
            println!(
                "Imported {} row(s) ({n} change(s)); {} row(s) rejected.",
                inventory.rows.len(),
                rejected.len()
            );
        }
        store.close().await;
        Ok(if inventory.errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}
