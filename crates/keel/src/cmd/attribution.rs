//! `keel attribute`: attribute conversions to channels from a paths file (ChannelAttribution's
//! layout) or from Segment-format events, with any model, and write long-format CSV.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use keel_attribution::channels::{ChannelRules, ChannelRulesDocument};
use keel_attribution::events::{ConversionEvent, Event, JourneyOptions};
use keel_attribution::markov::MarkovOptions;
use keel_attribution::model::{Fit, ModelParams};
use keel_attribution::report::{self, Cost};
use keel_attribution::shapley::ShapleyOptions;
use keel_attribution::{Error, Model, PathSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Which table to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Report {
    /// `model,channel,conversions,value` per model and channel.
    Attribution,
    /// Per channel and campaign with cost, ROAS and CAC (use with --cost).
    Performance,
    /// Markov removal effects per channel.
    RemovalEffects,
    /// Markov transition matrix.
    TransitionMatrix,
    /// Per-conversion explanation: every touch of every converting journey with its credit.
    Explain,
}

/// Arguments of `keel attribute`.
#[derive(Debug, clap::Args)]
pub struct AttributeArgs {
    /// Paths file: CSV with `path,total_conversions[,total_conversion_value][,total_null]`.
    #[arg(long, conflicts_with = "events", required_unless_present = "events")]
    paths: Option<PathBuf>,
    /// Segment-format events, one JSON object per line (identify, track, page, screen, alias).
    #[arg(long)]
    events: Option<PathBuf>,
    /// Separator between channels in the paths file.
    #[arg(long, default_value = ">")]
    sep: String,
    /// Model: first_touch, last_touch, last_non_direct, linear, time_decay, position_based
    /// (u_shaped), w_shaped, full_path (z_shaped), j_shaped, inverse_j, markov, shapley, or all.
    #[arg(long, default_value = "markov")]
    model: String,
    /// Markov chain order (1–4).
    #[arg(long, default_value_t = 1)]
    order: usize,
    /// Keep consecutive identical Markov states as self-loops instead of collapsing them.
    #[arg(long)]
    no_collapse: bool,
    /// Time-decay half-life: days for events, touches for paths files [default: 7 days, 1 touch].
    #[arg(long)]
    half_life: Option<f64>,
    /// Position-based weights first,middle,last (sum 1).
    #[arg(long, default_value = "0.4,0.2,0.4")]
    position_weights: String,
    /// Name of the direct channel, skipped by last_non_direct.
    #[arg(long, default_value = "Direct")]
    direct_channel: String,
    /// Channel counts above this use sampled Shapley values (at most 24).
    #[arg(long, default_value_t = 20)]
    shapley_exact_max: usize,
    /// Random orders drawn when Shapley values are sampled.
    #[arg(long, default_value_t = 20_000)]
    shapley_samples: usize,
    /// Seed for sampled Shapley values.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Track event that counts as a conversion, `NAME` or `NAME=PROPERTY` to take its value from
    /// that property (repeatable) [default: the rules document's `conversions`, else Order
    /// Completed].
    #[arg(long = "conversion-event")]
    conversion_events: Vec<String>,
    /// Touches older than this many days before a conversion are ignored.
    #[arg(long, default_value_t = 30.0)]
    lookback_days: f64,
    /// Inactivity that ends a session, in minutes.
    #[arg(long, default_value_t = 30.0)]
    session_timeout_minutes: f64,
    /// The site's own domains: referrals from them are not touches (repeatable).
    #[arg(long = "own-domain")]
    own_domains: Vec<String>,
    /// Channel-grouping rules (YAML, `kind: ChannelRules`) instead of the GA4-style default.
    #[arg(long)]
    channel_rules: Option<PathBuf>,
    /// Cost per channel/campaign: CSV `channel,cost[,campaign][,currency]`.
    #[arg(long)]
    cost: Option<PathBuf>,
    /// Currency of costs without a currency column.
    #[arg(long, default_value = "USD")]
    currency: String,
    /// Which table to write.
    #[arg(long, value_enum, default_value_t = Report::Attribution)]
    report: Report,
    /// Merge rows with identical paths while reading a paths file: much less memory on large
    /// files with repeated paths, somewhat more CPU (ignored by `--report explain`).
    #[arg(long)]
    merge_paths: bool,
    /// Threads for parsing paths files (0: one per core). The file is streamed in blocks either
    /// way; with several threads each block is parsed in pieces while the next is read.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Output CSV file (`-` or absent: standard output).
    #[arg(long)]
    output: Option<PathBuf>,
}

/// Runs `keel attribute`.
pub fn run(args: AttributeArgs) -> anyhow::Result<ExitCode> {
    match execute(&args) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => match err.downcast_ref::<Error>() {
            // Bad input data or options: a validation failure, reported precisely.
            Some(_) => {
                eprintln!("error: {err:#}");
                Ok(ExitCode::from(1))
            }
            None => Err(err),
        },
    }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

fn open(path: &Path) -> anyhow::Result<(std::fs::File, u64)> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((file, len))
}

fn params(args: &AttributeArgs) -> anyhow::Result<ModelParams> {
    let w: Vec<f64> = args
        .position_weights
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            Error::Model(format!(
                "--position-weights `{}` must be three numbers",
                args.position_weights
            ))
        })?;
    let [first, middle, last] = w[..] else {
        return Err(Error::Model(format!(
            "--position-weights `{}` must be three numbers",
            args.position_weights
        ))
        .into());
    };
    Ok(ModelParams {
        direct: args.direct_channel.clone(),
        half_life: args
            .half_life
            .unwrap_or(if args.events.is_some() { 7.0 } else { 1.0 }),
        position: (first, middle, last),
        markov: MarkovOptions {
            order: args.order,
            collapse: !args.no_collapse,
        },
        shapley: ShapleyOptions {
            exact_max_channels: args.shapley_exact_max,
            samples: args.shapley_samples,
            seed: args.seed,
        },
    })
}

fn load_paths(args: &AttributeArgs) -> anyhow::Result<PathSet> {
    if let Some(path) = &args.paths {
        let (file, len) = open(path)?;
        let progress = bar(len, "reading paths");
        let origin = path.display().to_string();
        // Explanations number journeys by file row, so they never merge identical paths.
        let options = keel_attribution::ReadOptions {
            sep: &args.sep,
            threads: if args.threads == 0 {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            } else {
                args.threads
            },
            aggregate: args.merge_paths && args.report != Report::Explain,
        };
        let set =
            PathSet::read_csv_with(file, &options, &origin, &mut |b| progress.set_position(b))?;
        progress.finish_and_clear();
        return Ok(set);
    }
    let Some(path) = &args.events else {
        anyhow::bail!("give --paths or --events");
    };
    let (file, len) = open(path)?;
    let progress = bar(len, "reading events");
    let origin = path.display().to_string();
    let mut events = Vec::new();
    let mut consumed = 0u64;
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {origin}"))?;
        consumed += line.len() as u64 + 1;
        if n % 4096 == 0 {
            progress.set_position(consumed);
        }
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line).map_err(|e| Error::Input {
            origin: origin.clone(),
            row: n as u64 + 1,
            column: e.column(),
            field: "event".into(),
            message: format!("not valid JSON: {e}"),
        })?;
        let event = Event::from_segment(&value).map_err(|(field, message)| Error::Input {
            origin: origin.clone(),
            row: n as u64 + 1,
            column: 1,
            field,
            message,
        })?;
        if let Some(event) = event {
            events.push(event);
        }
    }
    progress.finish_and_clear();
    let rules = match &args.channel_rules {
        None => ChannelRules::ga4_default(),
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let doc: ChannelRulesDocument = serde_norway::from_str(&text)
                .map_err(|e| Error::Model(format!("{}: {e}", file.display())))?;
            let problems = doc.validate();
            if !problems.is_empty() {
                return Err(Error::Rules(problems)).with_context(|| file.display().to_string());
            }
            ChannelRules::compile(&doc.spec)
                .map_err(|e| Error::Model(format!("{}: {e}", file.display())))?
        }
    };
    let conversion_events = if !args.conversion_events.is_empty() {
        args.conversion_events
            .iter()
            .map(|a| match a.split_once('=') {
                Some((name, prop)) if !prop.trim().is_empty() => ConversionEvent {
                    event: name.trim().to_owned(),
                    value_property: Some(prop.trim().to_owned()),
                },
                _ => ConversionEvent::named(a.trim()),
            })
            .collect()
    } else if !rules.spec().conversions.is_empty() {
        rules.spec().conversions.clone()
    } else {
        vec![ConversionEvent::named("Order Completed")]
    };
    eprintln!(
        "conversions: {}",
        conversion_events
            .iter()
            .map(ConversionEvent::label)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let options = JourneyOptions {
        conversion_events,
        lookback_days: args.lookback_days,
        session_timeout_minutes: args.session_timeout_minutes,
        own_domains: args.own_domains.clone(),
    };
    let built = keel_attribution::events::build_paths(&events, &rules, &options)?;
    eprintln!(
        "{} events, {} people after stitching, {} conversions, {} non-converting journeys",
        events.len(),
        built.people,
        built.conversions,
        built.null_journeys
    );
    Ok(built.paths)
}

fn execute(args: &AttributeArgs) -> anyhow::Result<()> {
    let params = params(args)?;
    let models = if args.model.trim().eq_ignore_ascii_case("all") {
        Model::every(&params)?
    } else {
        args.model
            .split(',')
            .map(|m| Model::parse(m, &params))
            .collect::<Result<Vec<_>, _>>()?
    };
    let paths = load_paths(args)?;
    if paths.is_empty() {
        return Err(Error::Model("no journeys in the input".into()).into());
    }
    let costs: Vec<Cost> = match &args.cost {
        None => Vec::new(),
        Some(path) => {
            let (file, _) = open(path)?;
            report::read_costs_csv(file, &path.display().to_string(), &args.currency)?
        }
    };
    let mut out: Box<dyn Write> = match args.output.as_deref() {
        None => Box::new(std::io::stdout().lock()),
        Some(p) if p == Path::new("-") => Box::new(std::io::stdout().lock()),
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
    };
    let mut w = csv::Writer::from_writer(&mut out);
    match args.report {
        Report::Attribution => w.write_record(["model", "channel", "conversions", "value"])?,
        Report::Performance => w.write_record([
            "model",
            "channel",
            "campaign",
            "conversions",
            "value",
            "cost",
            "currency",
            "roas",
            "cac",
        ])?,
        Report::RemovalEffects => w.write_record([
            "model",
            "channel",
            "removal_effect",
            "removal_effect_relative",
            "removal_effect_value",
            "removal_effect_value_relative",
        ])?,
        Report::TransitionMatrix => {
            w.write_record(["model", "from", "to", "probability", "weight"])?
        }
        Report::Explain => w.write_record([
            "model",
            "journey",
            "position",
            "channel",
            "campaign",
            "share",
            "conversions",
            "value",
            "reason",
        ])?,
    }
    let spinner = if models.len() > 1 {
        ProgressBar::new(models.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    for model in &models {
        spinner.set_message(model.name());
        let fit = model.fit(&paths)?;
        let attribution = fit.attribution(&paths);
        if !matches!(fit, Fit::Heuristic(..)) {
            eprintln!("{}: {}", attribution.model, attribution.conventions);
        }
        match args.report {
            Report::Attribution => {
                for c in &attribution.channels {
                    w.write_record([
                        attribution.model.as_str(),
                        &c.channel,
                        &fmt(c.conversions),
                        &fmt(c.value),
                    ])?;
                }
            }
            Report::Performance => {
                for p in report::performance(&attribution, &costs)? {
                    let (cost, currency) =
                        p.cost.as_ref().map_or((String::new(), String::new()), |m| {
                            (fmt(m.major()), m.currency.clone())
                        });
                    w.write_record([
                        p.model.as_str(),
                        &p.channel,
                        p.campaign.as_deref().unwrap_or(""),
                        &fmt(p.conversions),
                        &fmt(p.value),
                        &cost,
                        &currency,
                        &p.roas.map(fmt).unwrap_or_default(),
                        &p.cac.map(fmt).unwrap_or_default(),
                    ])?;
                }
            }
            Report::RemovalEffects | Report::TransitionMatrix => {
                let Fit::Markov(m) = &fit else {
                    if models.len() == 1 {
                        return Err(Error::Model(
                            format!("--report {:?} needs --model markov", args.report)
                                .to_lowercase(),
                        )
                        .into());
                    }
                    continue;
                };
                if args.report == Report::RemovalEffects {
                    for r in &m.removal_effects {
                        w.write_record([
                            attribution.model.as_str(),
                            &r.channel,
                            &fmt(r.conversion),
                            &fmt(r.conversion_relative),
                            &fmt(r.value),
                            &fmt(r.value_relative),
                        ])?;
                    }
                } else {
                    for t in m.transitions() {
                        w.write_record([
                            attribution.model.as_str(),
                            &t.from,
                            &t.to,
                            &fmt(t.probability),
                            &fmt(t.weight),
                        ])?;
                    }
                }
            }
            Report::Explain => {
                for i in 0..paths.len() {
                    if paths.conversions(i) == 0.0 {
                        continue;
                    }
                    for t in fit.explain(&paths, i) {
                        w.write_record([
                            attribution.model.as_str(),
                            &(i + 1).to_string(),
                            &t.position.to_string(),
                            &t.channel,
                            t.campaign.as_deref().unwrap_or(""),
                            &fmt(t.share),
                            &fmt(t.conversions),
                            &fmt(t.value),
                            &t.reason,
                        ])?;
                    }
                }
            }
        }
        spinner.inc(1);
    }
    spinner.finish_and_clear();
    w.flush()?;
    Ok(())
}

/// Shortest decimal that reads back as the same f64, so outputs compare exactly.
fn fmt(x: f64) -> String {
    format!("{x}")
}

/// `keel attribution …`: attribution data kept in the database.
#[derive(Debug, clap::Subcommand)]
pub enum AttributionCommand {
    /// Import an ad platform's cost and delivery export (rows refused are quarantined).
    ImportCosts {
        /// The export (CSV).
        file: PathBuf,
        /// The export's layout.
        #[arg(long, value_parser = ["google-ads", "meta-ads"])]
        layout: String,
        /// Currency of rows whose file names none.
        #[arg(long, default_value = "USD")]
        currency: String,
        #[command(flatten)]
        db: super::server::DbArgs,
    },
    /// Import CRM opportunities (id, account, contact e-mail, amount, stage, close date).
    ImportOpportunities {
        /// The export (CSV).
        file: PathBuf,
        /// Currency of rows without a currency column.
        #[arg(long, default_value = "USD")]
        currency: String,
        #[command(flatten)]
        db: super::server::DbArgs,
    },
}

fn print_summary(s: &keel_store::attribution::ImportSummary, file: &Path) {
    println!(
        "{}: {} accepted ({} new, {} updated, {} unchanged), {} quarantined, {} skipped (titles and totals)",
        file.display(),
        s.accepted,
        s.inserted,
        s.updated,
        s.unchanged,
        s.quarantined,
        s.skipped
    );
}

/// Runs `keel attribution …`.
pub fn command(command: AttributionCommand) -> anyhow::Result<ExitCode> {
    use keel_attribution::imports::{self, AdLayout};
    let actor = keel_store::Actor::System("cli");
    super::runtime()?.block_on(async move {
        let (file, db) = match &command {
            AttributionCommand::ImportCosts { file, db, .. }
            | AttributionCommand::ImportOpportunities { file, db, .. } => (file.clone(), db),
        };
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let store = super::open_store(&db.db).await?;
        let (summary, quarantined) = match &command {
            AttributionCommand::ImportCosts {
                layout, currency, ..
            } => {
                let layout =
                    AdLayout::parse(layout).with_context(|| format!("unknown layout {layout}"))?;
                let parsed = match imports::parse_ad_costs(&text, layout, currency) {
                    Ok(p) => p,
                    Err(e) => {
                        eprintln!("error: {}: {e}", file.display());
                        return Ok(ExitCode::from(1));
                    }
                };
                let s = keel_store::attribution::import_ad_costs(
                    &store, &actor, layout, &name, &parsed,
                )
                .await?;
                (s, parsed.quarantined)
            }
            AttributionCommand::ImportOpportunities { currency, .. } => {
                let parsed = match imports::parse_opportunities(&text, currency) {
                    Ok(p) => p,
                    Err(e) => {
                        eprintln!("error: {}: {e}", file.display());
                        return Ok(ExitCode::from(1));
                    }
                };
                let s =
                    keel_store::attribution::import_opportunities(&store, &actor, &name, &parsed)
                        .await?;
                (s, parsed.quarantined)
            }
        };
        store.close().await;
        print_summary(&summary, &file);
        for q in &quarantined {
            eprintln!("{}:{}: {}", file.display(), q.row, q.reasons.join("; "));
        }
        Ok(ExitCode::SUCCESS)
    })
}
