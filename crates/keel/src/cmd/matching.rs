//! `keel match`: find duplicate records in a CSV file, or link two files, with the
//! `keel-match` engine; `keel match train` trains and saves a model for later runs.

use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use keel_match::cluster::{cluster, stable_ids};
use keel_match::{Label, MatchSpec, Model, RawRecord, Records, RecordsBuilder, TrainOptions};
use rustc_hash::FxHashMap;

/// Arguments of `keel match`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MatchArgs {
    #[command(subcommand)]
    command: Option<MatchCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, clap::Subcommand)]
enum MatchCommand {
    /// Train a model on the input(s) and save it, without scoring every pair.
    Train(TrainArgs),
}

/// Inputs shared by matching and training.
#[derive(Debug, clap::Args)]
struct InputArgs {
    /// CSV file of records (with a header row).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Second CSV file to link against the first (pairs are only made across the two files).
    #[arg(long)]
    link: Option<PathBuf>,
    /// Column holding each record's unique id.
    #[arg(long)]
    id_column: Option<String>,
    /// Match configuration (YAML): fields as {column, kind}, blocking rules, overrides, clustering.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Seed for sampling during training.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Labelled pairs (CSV with columns id_l,id_r,is_match; is_match is 1/0 or true/false) that
    /// improve training: labelled matches refine the m-probabilities. With --link, id_l is a
    /// record of --input and id_r one of --link.
    #[arg(long)]
    labels: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Report pairs with at least this match probability (overrides the configuration).
    #[arg(long)]
    threshold: Option<f64>,
    /// Output CSV of matched pairs: id_l,id_r,match_probability,match_weight.
    #[arg(long)]
    pairs: Option<PathBuf>,
    /// Output CSV assigning every record to a cluster: id,cluster_id.
    #[arg(long)]
    clusters: Option<PathBuf>,
    /// Add an `explanation` JSON column with every comparison's contribution.
    #[arg(long)]
    explain: bool,
    /// Reuse a model saved with --save-model or `keel match train` instead of training.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Save the trained model (JSON) for later runs.
    #[arg(long)]
    save_model: Option<PathBuf>,
    /// Earlier CLUSTERS.csv: clusters keep the ids they had there where possible.
    #[arg(long)]
    previous_clusters: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct TrainArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Where to save the trained model (JSON).
    #[arg(long)]
    save_model: PathBuf,
}

/// Runs `keel match`.
pub fn run(args: MatchArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(MatchCommand::Train(t)) => train_only(t),
        None => match_files(args.run),
    }
}

/// A configuration problem: printed, exit code 1.
struct Invalid(Vec<String>);

fn thread_pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        if t == 0 {
            bail!("--threads must be at least 1");
        }
        b = b.num_threads(t);
    }
    b.build().context("cannot start worker threads")
}

struct Loaded {
    spec: MatchSpec,
    model: Option<Model>,
    records: Records,
    labels: Vec<Label>,
}

fn read_header(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let header = r
        .headers()
        .with_context(|| format!("{}: row 1 (header) is not valid CSV/UTF-8", path.display()))?;
    let columns: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    if columns.is_empty() || columns.iter().all(String::is_empty) {
        bail!("{}: the file is empty (no header row)", path.display());
    }
    Ok(columns)
}

fn load_spec(config: &Path) -> anyhow::Result<MatchSpec> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", config.display()))?;
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text)
        .with_context(|| format!("{}: not valid YAML", config.display()))?;
    let spec_value = match value.get("apiVersion") {
        Some(_) => {
            let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
            if kind != "MatchConfig" {
                bail!(
                    "{}: kind is `{kind}`, expected `MatchConfig`",
                    config.display()
                );
            }
            value
                .get("spec")
                .cloned()
                .with_context(|| format!("{}: the document has no `spec`", config.display()))?
        }
        None => value,
    };
    serde_yaml_ng::from_value(spec_value)
        .with_context(|| format!("{}: invalid match configuration", config.display()))
}

fn load(
    input: &InputArgs,
    model_path: Option<&Path>,
    threshold: Option<f64>,
) -> anyhow::Result<Result<Loaded, Invalid>> {
    let Some(path) = input.input.as_deref() else {
        bail!("--input is required");
    };
    let Some(id_column) = input.id_column.as_deref() else {
        bail!("--id-column is required");
    };
    let columns = read_header(path)?;
    let model: Option<Model> = match model_path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("{}: not a saved match model", p.display()))?,
            )
        }
        None => None,
    };
    let mut spec = match (&model, &input.config) {
        (Some(m), _) => m.spec.clone(),
        (None, Some(c)) => load_spec(c)?,
        (None, None) => {
            let spec = MatchSpec::infer(&columns, id_column);
            eprintln!("No --config: inferred field kinds from column names:");
            for f in &spec.fields {
                eprintln!("  {:<24} {}", f.column, f.kind.as_str());
            }
            spec
        }
    };
    if let Some(t) = threshold {
        spec.threshold = t;
    }
    let config_name = input.config.as_ref().map_or_else(
        || "inferred configuration".to_string(),
        |c| c.display().to_string(),
    );
    if !columns.iter().any(|c| c == id_column) {
        return Ok(Err(Invalid(vec![format!(
            "{}: id column `{id_column}` not found; columns are: {}",
            path.display(),
            columns.join(", ")
        )])));
    }
    let mut problems: Vec<String> = spec
        .validate(&columns, "spec")
        .into_iter()
        .map(|p| {
            format!(
                "{config_name}: {}: {} (in {})",
                p.path,
                p.message,
                path.display()
            )
        })
        .collect();
    if let Some(link) = input.link.as_deref() {
        let link_columns = read_header(link)?;
        if !link_columns.iter().any(|c| c == id_column) {
            problems.push(format!(
                "{}: id column `{id_column}` not found",
                link.display()
            ));
        }
        for p in spec.validate(&link_columns, "spec") {
            if p.path.ends_with(".column") {
                problems.push(format!(
                    "{config_name}: {}: {} (in {})",
                    p.path,
                    p.message,
                    link.display()
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Ok(Err(Invalid(problems)));
    }
    let mut builder = RecordsBuilder::new(&spec)?;
    let mut seen: FxHashMap<String, u64> = FxHashMap::default();
    let mut sources = vec![(path, 0u8)];
    if let Some(l) = input.link.as_deref() {
        sources.push((l, 1));
    }
    for (file, source) in sources {
        seen.clear();
        if let Err(problem) = read_rows(file, source, id_column, &spec, &mut builder, &mut seen)? {
            return Ok(Err(Invalid(vec![problem])));
        }
    }
    let records = builder.finish();
    if records.is_empty() {
        return Ok(Err(Invalid(vec![format!(
            "{}: no data rows",
            path.display()
        )])));
    }
    let labels = match input.labels.as_deref() {
        Some(l) => match read_labels(l, &records, path, input.link.as_deref())? {
            Ok(labels) => labels,
            Err(invalid) => return Ok(Err(invalid)),
        },
        None => Vec::new(),
    };
    Ok(Ok(Loaded {
        spec,
        model,
        records,
        labels,
    }))
}

/// Columns of a labels file.
const LABEL_COLUMNS: [&str; 3] = ["id_l", "id_r", "is_match"];
/// At most this many label problems are listed.
const MAX_LABEL_PROBLEMS: usize = 20;

/// Reads labelled pairs and resolves their ids to record indices. Every problem names the file,
/// the row and the column; unknown ids name the file they were looked up in.
fn read_labels(
    path: &Path,
    records: &Records,
    input: &Path,
    link: Option<&Path>,
) -> anyhow::Result<Result<Vec<Label>, Invalid>> {
    let header = read_header(path)?;
    let missing: Vec<&str> = LABEL_COLUMNS
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Ok(Err(Invalid(vec![format!(
            "{}: row 1 (header): missing column{} {}; a labels file has the columns id_l,id_r,is_match (found: {})",
            path.display(),
            if missing.len() > 1 { "s" } else { "" },
            missing
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            header.join(", ")
        )])));
    }
    let at = |name: &str| header.iter().position(|h| h == name).unwrap_or(0);
    let (l_at, r_at, m_at) = (at("id_l"), at("id_r"), at("is_match"));
    // Ids per source: in link mode id_l is looked up in --input and id_r in --link.
    let mut index: [FxHashMap<&str, usize>; 2] = [FxHashMap::default(), FxHashMap::default()];
    for (i, (id, &source)) in records.ids.iter().zip(&records.sources).enumerate() {
        if let Some(map) = index.get_mut(usize::from(source)) {
            map.insert(id.as_str(), i);
        }
    }
    let right_source = usize::from(link.is_some());
    let right_file = link.unwrap_or(input);
    let mut reader = csv::ReaderBuilder::new()
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut problems = Vec::new();
    let mut labels = Vec::new();
    let mut seen: FxHashMap<(usize, usize), (bool, u64)> = FxHashMap::default();
    for record in reader.records() {
        if problems.len() >= MAX_LABEL_PROBLEMS {
            problems.push(format!("{}: more problems not listed", path.display()));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map_or(0, |p| p.line());
                let what = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("has {len} fields but the header has {expected_len}"),
                    _ => e.to_string(),
                };
                problems.push(format!("{}: row {row} {what}", path.display()));
                continue;
            }
        };
        let row = record.position().map_or(0, |p| p.line());
        let value = |i: usize| record.get(i).unwrap_or("").trim();
        let mut resolve = |column: &str, i: usize, source: usize, file: &Path| {
            let id = value(i);
            let found = index.get(source).and_then(|m| m.get(id)).copied();
            if id.is_empty() {
                problems.push(format!(
                    "{}: row {row}, column `{column}`: empty id",
                    path.display()
                ));
            } else if found.is_none() {
                problems.push(format!(
                    "{}: row {row}, column `{column}`: unknown id `{id}` (not in {})",
                    path.display(),
                    file.display()
                ));
            }
            found
        };
        let a = resolve("id_l", l_at, 0, input);
        let b = resolve("id_r", r_at, right_source, right_file);
        let is_match = match value(m_at).to_ascii_lowercase().as_str() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            other => {
                problems.push(format!(
                    "{}: row {row}, column `is_match`: `{other}` is not 1, 0, true or false",
                    path.display()
                ));
                None
            }
        };
        let (Some(a), Some(b), Some(is_match)) = (a, b, is_match) else {
            continue;
        };
        if a == b {
            problems.push(format!(
                "{}: row {row}: id_l and id_r are the same record `{}`",
                path.display(),
                value(l_at)
            ));
            continue;
        }
        match seen.entry((a.min(b), a.max(b))) {
            Entry::Occupied(e) if e.get().0 != is_match => {
                problems.push(format!(
                    "{}: row {row}: the pair ({}, {}) is labelled {} here but {} on row {}",
                    path.display(),
                    value(l_at),
                    value(r_at),
                    if is_match { "a match" } else { "a non-match" },
                    if is_match { "a non-match" } else { "a match" },
                    e.get().1
                ));
            }
            Entry::Occupied(_) => {}
            Entry::Vacant(v) => {
                v.insert((is_match, row));
                labels.push(Label { a, b, is_match });
            }
        }
    }
    if problems.is_empty() && labels.is_empty() {
        problems.push(format!("{}: no labelled pairs", path.display()));
    }
    if problems.is_empty() {
        Ok(Ok(labels))
    } else {
        Ok(Err(Invalid(problems)))
    }
}

/// Reads a CSV in batches into the builder. Returns a data problem (duplicate id, empty id) as
/// `Err` inside `Ok`; unreadable files as errors.
fn read_rows(
    path: &Path,
    source: u8,
    id_column: &str,
    spec: &MatchSpec,
    builder: &mut RecordsBuilder,
    seen: &mut FxHashMap<String, u64>,
) -> anyhow::Result<Result<(), String>> {
    let mut reader = csv::ReaderBuilder::new()
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: row 1 (header) is not valid CSV/UTF-8", path.display()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let position = |name: &str| header.iter().position(|h| h == name);
    let id_at = position(id_column).context("id column vanished")?;
    let field_at: Vec<usize> = spec
        .fields
        .iter()
        .map(|f| {
            position(&f.column)
                .with_context(|| format!("{}: column `{}` not found", path.display(), f.column))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut batch = Vec::with_capacity(65_536);
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let row = e.position().map_or(0, |p| p.line());
            let what = match e.kind() {
                csv::ErrorKind::Utf8 { .. } => {
                    "is not valid UTF-8 (convert the file to UTF-8)".to_string()
                }
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => {
                    format!(
                        "has {len} fields but the header has {expected_len} (is this a CSV file?)"
                    )
                }
                _ => e.to_string(),
            };
            anyhow::anyhow!("{}: row {row} {what}", path.display())
        })?;
        if !more {
            break;
        }
        let row = record.position().map_or(0, |p| p.line());
        let id = record.get(id_at).unwrap_or("").trim().to_string();
        if id.is_empty() {
            return Ok(Err(format!(
                "{}: row {row}, column `{id_column}`: empty id",
                path.display()
            )));
        }
        match seen.entry(id) {
            Entry::Occupied(e) => {
                return Ok(Err(format!(
                    "{}: row {row}, column `{id_column}`: duplicate id `{}` (first on row {})",
                    path.display(),
                    e.key(),
                    e.get()
                )));
            }
            Entry::Vacant(v) => {
                let id = v.key().clone();
                v.insert(row);
                let values = field_at
                    .iter()
                    .map(|&i| record.get(i).unwrap_or("").to_string())
                    .collect();
                batch.push(RawRecord { id, source, values });
            }
        }
        if batch.len() == batch.capacity() {
            builder.push_batch(std::mem::replace(&mut batch, Vec::with_capacity(65_536)))?;
        }
    }
    builder.push_batch(batch)?;
    Ok(Ok(()))
}

fn report_invalid(Invalid(problems): Invalid) -> ExitCode {
    for p in problems {
        eprintln!("error: {p}");
    }
    ExitCode::from(1)
}

fn train_model(
    loaded: &Loaded,
    blocks: &keel_match::blocking::Blocks,
    seed: u64,
) -> anyhow::Result<Model> {
    let options = TrainOptions {
        seed,
        ..TrainOptions::default()
    };
    let model = keel_match::train(
        &loaded.records,
        &loaded.spec,
        blocks,
        &loaded.labels,
        &options,
    )?;
    if !loaded.labels.is_empty() {
        eprintln!(
            "Labelled pairs: {} matches blended into the m-probabilities, {} non-matches checked",
            model.labels.matches, model.labels.non_matches
        );
    }
    Ok(model)
}

fn print_blocking(report: &keel_match::BlockingReport) {
    eprintln!("Blocking rules (comparisons before removing pairs found by earlier rules):");
    for r in &report.rules {
        let largest = r
            .largest
            .first()
            .map_or_else(String::new, |(k, n)| format!(", largest block {n} ({k})"));
        let skipped = if r.skipped_blocks > 0 {
            format!(
                ", {} oversized blocks skipped ({} records)",
                r.skipped_blocks, r.skipped_records
            )
        } else {
            String::new()
        };
        eprintln!(
            "  {:<40} {:>12} comparisons in {} blocks{largest}{skipped}",
            r.rule, r.comparisons, r.blocks
        );
    }
}

/// Writes a file through a temporary name, renamed into place only when complete.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn save_model(model: &Model, path: &Path) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        serde_json::to_writer_pretty(&mut *w, model)?;
        Ok(())
    })
}

fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn train_only(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let pool = thread_pool(args.input.threads)?;
    pool.install(|| {
        let loaded = match load(&args.input, None, None)? {
            Ok(l) => l,
            Err(invalid) => return Ok(report_invalid(invalid)),
        };
        let blocks = keel_match::block(&loaded.records, &loaded.spec)?;
        print_blocking(&blocks.report);
        let model = train_model(&loaded, &blocks, args.input.seed)?;
        save_model(&model, &args.save_model)?;
        eprintln!(
            "Trained on {} records ({} EM pairs, prior {:.4}) in {:.1}s; model saved to {}",
            loaded.records.len(),
            model.em_pairs,
            model.lambda,
            start.elapsed().as_secs_f64(),
            args.save_model.display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn match_files(args: RunArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let Some(pairs_path) = args.pairs.clone() else {
        bail!("--pairs is required (where to write matched pairs)");
    };
    if let Some(t) = args.threshold
        && !(0.0..=1.0).contains(&t)
    {
        bail!("--threshold is a probability between 0 and 1");
    }
    if args.model.is_some() && args.input.labels.is_some() {
        bail!(
            "--labels improves training, and --model skips it: train with the labels (`keel match train --labels …` or --save-model) and reuse that model"
        );
    }
    let pool = thread_pool(args.input.threads)?;
    pool.install(|| {
        let loaded = match load(&args.input, args.model.as_deref(), args.threshold)? {
            Ok(l) => l,
            Err(invalid) => return Ok(report_invalid(invalid)),
        };
        let records = &loaded.records;
        let blocks = keel_match::block(records, &loaded.spec)?;
        print_blocking(&blocks.report);
        let model = match &loaded.model {
            Some(m) => {
                let mut m = m.clone();
                m.spec.threshold = loaded.spec.threshold;
                m
            }
            None => train_model(&loaded, &blocks, args.input.seed)?,
        };
        if let Some(p) = &args.save_model {
            save_model(&model, p)?;
        }
        let min_weight = keel_match::weight_of(model.spec.threshold);
        let bar = ProgressBar::new(blocks.report.total_comparisons);
        bar.set_style(
            ProgressStyle::with_template("{spinner} scoring {bar:40} {percent}% {human_pos}/{human_len} pairs, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let (links, compared) = keel_match::score(records, &model, &blocks, min_weight, &|n| bar.inc(n))?;
        bar.finish_and_clear();
        let scorer = model.scorer()?;
        write_atomically(&pairs_path, |w| {
            let mut out = csv::Writer::from_writer(w);
            let mut header = vec!["id_l", "id_r", "match_probability", "match_weight"];
            if args.explain {
                header.push("explanation");
            }
            out.write_record(&header)?;
            for l in &links {
                let (a, b) = (l.a as usize, l.b as usize);
                let w = f64::from(l.weight);
                let mut row = vec![
                    records.ids.get(a).cloned().unwrap_or_default(),
                    records.ids.get(b).cloned().unwrap_or_default(),
                    format!("{:.6}", keel_match::probability(w)),
                    format!("{w:.4}"),
                ];
                if args.explain {
                    row.push(serde_json::to_string(&scorer.explain(records, a, records, b))?);
                }
                out.write_record(&row)?;
            }
            out.flush()?;
            Ok(())
        })?;
        let clustering = cluster(records.len(), &links, min_weight, &model.spec.clustering);
        if let Some(path) = &args.clusters {
            let previous = match &args.previous_clusters {
                Some(p) => Some(read_previous(p)?),
                None => None,
            };
            let names = stable_ids(&records.ids, &clustering.assignment, previous.as_ref());
            write_atomically(path, |w| {
                let mut out = csv::Writer::from_writer(w);
                out.write_record(["id", "cluster_id"])?;
                for (id, c) in records.ids.iter().zip(&names) {
                    out.write_record([id, c])?;
                }
                out.flush()?;
                Ok(())
            })?;
        }
        let m = &clustering.metrics;
        eprintln!(
            "Records {}; comparisons {compared}; pairs at or above {:.3}: {}; clusters {} ({} with two or more records, largest {}, mean link density {:.2}, weak {}, links refused by {:?} clustering {}); prior {:.4}; time {:.1}s; peak memory {}",
            records.len(),
            model.spec.threshold,
            links.len(),
            m.clusters,
            m.clusters - m.singletons,
            m.largest,
            m.mean_density,
            m.weak_clusters,
            model.spec.clustering.method,
            m.rejected_links,
            model.lambda,
            start.elapsed().as_secs_f64(),
            peak_memory_mb().map_or_else(|| "unknown".to_string(), |mb| format!("{mb:.0} MB")),
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn read_previous(path: &Path) -> anyhow::Result<FxHashMap<String, String>> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut map = FxHashMap::default();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        if let (Some(id), Some(c)) = (rec.get(0), rec.get(1)) {
            map.insert(id.to_string(), c.to_string());
        }
    }
    Ok(map)
}
