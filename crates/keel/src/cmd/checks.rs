//! `keel check-email` and `keel check-page`: read files (or fetch URLs), run the checks from
//! `keel-checks`, print text, JSON or SARIF. Exit 1 when any error-level finding exists.

use anyhow::{Context, bail};
use keel_checks::{ClientSet, Policy, Report, Severity};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Human-readable, grouped by severity (coloured on a terminal).
    Text,
    /// `[{file, rule, severity, line, column, message, help, clients, …}]`.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// Arguments of `keel check-email`.
#[derive(Debug, clap::Args)]
pub struct CheckEmailArgs {
    /// HTML files or whole messages (.eml).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Target clients, comma-separated caniemail ids (`gmail`, `outlook.windows`, …).
    #[arg(long, value_delimiter = ',')]
    clients: Vec<String>,
    /// A `QualityPolicy` YAML document.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    a11y: A11yArgs,
}

/// The accessibility options shared by both commands.
#[derive(Debug, clap::Args)]
pub struct A11yArgs {
    /// Also render each input in headless Chromium and run axe-core in it (findings `a11y.*`).
    #[arg(long)]
    a11y: bool,
    /// The Chromium binary for `--a11y`.
    #[arg(long, default_value = "/usr/bin/chromium")]
    browser: PathBuf,
}

impl A11yArgs {
    /// Adds axe-core findings for `html` to a report when `--a11y` is on.
    fn add(
        &self,
        report: &mut Report,
        html: &[u8],
        target: keel_checks::axe::Target,
        policy: &Policy,
        input: &str,
    ) -> anyhow::Result<()> {
        if !self.a11y {
            return Ok(());
        }
        let width = match target {
            keel_checks::axe::Target::Email => 600,
            keel_checks::axe::Target::Page => 1280,
        };
        let json = keel_preview::accessibility(
            &self.browser,
            html,
            &keel_checks::axe::run_options(target),
            width,
            std::time::Duration::from_secs(120),
        )
        .with_context(|| format!("accessibility check of {input}"))?;
        let violations = keel_checks::axe::parse_results(&json)
            .with_context(|| format!("accessibility check of {input}"))?;
        report.extend(keel_checks::axe::findings(html, &violations, policy));
        Ok(())
    }
}

/// Arguments of `keel check-page`.
#[derive(Debug, clap::Args)]
pub struct CheckPageArgs {
    /// HTML files or http(s) URLs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// A `QualityPolicy` YAML document.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    a11y: A11yArgs,
}

fn load_policy(path: Option<&PathBuf>, clients: &[String]) -> anyhow::Result<Policy> {
    let mut policy = match path {
        None => Policy::default(),
        Some(p) => {
            let yaml = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read policy {}", p.display()))?;
            Policy::from_yaml(&yaml).map_err(|problems| {
                let list: Vec<String> = problems
                    .iter()
                    .map(|pr| format!("  {}: {}: {}", p.display(), pr.path, pr.message))
                    .collect();
                anyhow::anyhow!("invalid policy:\n{}", list.join("\n"))
            })?
        }
    };
    if !clients.is_empty() {
        let set = ClientSet::parse(clients.iter().map(String::as_str))
            .map_err(|unknown| anyhow::anyhow!("unknown email client(s): {} (use caniemail ids such as gmail, outlook.windows, apple-mail.ios)", unknown.join(", ")))?;
        policy = policy.with_clients(set);
    }
    Ok(policy)
}

/// Runs `keel check-email`.
pub fn run_email(args: CheckEmailArgs) -> anyhow::Result<ExitCode> {
    let policy = load_policy(args.policy.as_ref(), &args.clients)?;
    let reports = in_parallel(&args.files, |file| {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let is_eml = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("eml"))
            || keel_checks::looks_like_message(&bytes);
        let name = file.display().to_string();
        let report = if is_eml {
            // The rendered HTML part of a message is checked through its own .html export.
            if args.a11y.a11y {
                eprintln!("note: --a11y skips {name}: export the HTML part to check it");
            }
            keel_checks::check_message(&bytes, &policy)
        } else {
            let mut report = keel_checks::check_email(&bytes, &policy);
            let target = keel_checks::axe::Target::Email;
            args.a11y.add(&mut report, &bytes, target, &policy, &name)?;
            report
        };
        Ok((name, report))
    })?;
    print(&reports, args.format)
}

/// Runs `work` on every input on all cores, keeping input order; the first error wins.
fn in_parallel<T: Sync, R: Send>(
    inputs: &[T],
    work: impl Fn(&T) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(inputs.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, anyhow::Result<R>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(input) = inputs.get(i) else { break };
                        done.push((i, work(input)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Runs `keel check-page`.
pub fn run_page(args: CheckPageArgs) -> anyhow::Result<ExitCode> {
    let policy = load_policy(args.policy.as_ref(), &[])?;
    let mut reports = Vec::new();
    for input in &args.inputs {
        let (mut report, bytes) = if input.starts_with("http://") || input.starts_with("https://") {
            let (bytes, charset) = fetch(input)?;
            let report =
                keel_checks::check_page_with(&bytes, Some(input), charset.as_deref(), &policy);
            (report, bytes)
        } else {
            let bytes = std::fs::read(input).with_context(|| format!("cannot read {input}"))?;
            (keel_checks::check_page(&bytes, &policy), bytes)
        };
        let target = keel_checks::axe::Target::Page;
        args.a11y.add(&mut report, &bytes, target, &policy, input)?;
        reports.push((input.clone(), report));
    }
    print(&reports, args.format)
}

/// Fetches a page (at most 20 MB), returning its body and the Content-Type charset.
fn fetch(url: &str) -> anyhow::Result<(Vec<u8>, Option<String>)> {
    let mut response = ureq::get(url)
        .call()
        .with_context(|| format!("cannot fetch {url}"))?;
    let charset = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| {
            ct.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix("charset=")
                    .map(|c| c.trim_matches('"').to_owned())
            })
        });
    let body = response
        .body_mut()
        .with_config()
        .limit(20 * 1024 * 1024)
        .read_to_vec()
        .with_context(|| format!("cannot read the body of {url}"))?;
    if body.is_empty() {
        bail!("{url} returned an empty body");
    }
    Ok((body, charset))
}

fn print(reports: &[(String, Report)], format: Format) -> anyhow::Result<ExitCode> {
    // Stdout is line-buffered and compact JSON has no newlines: without a buffer of our own,
    // every small write searches for one and goes to the OS.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match format {
        Format::Json => {
            // Pretty for people, compact for pipes (reports can be large).
            let rows = keel_checks::output::rows(reports);
            if std::io::stdout().is_terminal() {
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                serde_json::to_writer(&mut out, &rows)?;
                writeln!(out)?;
            }
        }
        Format::Sarif => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&keel_checks::output::sarif(reports))?
        )?,
        Format::Text => text(&mut out, reports, std::io::stdout().is_terminal())?,
    }
    out.flush()?;
    let failed = reports.iter().any(|(_, r)| r.has_errors());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn text(out: &mut impl Write, reports: &[(String, Report)], colour: bool) -> anyhow::Result<()> {
    let paint = |code: &str, s: &str| {
        if colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let (mut errors, mut warnings, mut infos) = (0, 0, 0);
    for (file, report) in reports {
        writeln!(out, "{}", paint("1", file))?;
        if report.findings.is_empty() {
            writeln!(out, "  no findings")?;
        }
        for severity in [Severity::Error, Severity::Warning, Severity::Info] {
            for f in report.findings.iter().filter(|f| f.severity == severity) {
                let (label, code) = match severity {
                    Severity::Error => ("error", "1;31"),
                    Severity::Warning => ("warning", "1;33"),
                    Severity::Info => ("info", "1;36"),
                };
                let at = match f.location {
                    Some(l) if f.part == keel_checks::Part::Headers => {
                        format!("header line {}", l.line)
                    }
                    Some(l) => format!("{}:{}", l.line, l.column),
                    None => "-".to_owned(),
                };
                let more = if f.more_locations.is_empty() {
                    String::new()
                } else {
                    format!(" (+{} more)", f.more_locations.len())
                };
                writeln!(
                    out,
                    "  {} {:>9}  {}  {}{}",
                    paint(code, &format!("{label:<7}")),
                    at,
                    paint("2", &f.rule),
                    f.message,
                    more
                )?;
                if !f.snippet.is_empty() {
                    writeln!(out, "{:>22}{}", "", paint("2", &f.snippet))?;
                }
                writeln!(out, "{:>22}why: {}", "", f.why)?;
                writeln!(out, "{:>22}fix: {}", "", f.help)?;
            }
        }
        errors += report.count(Severity::Error);
        warnings += report.count(Severity::Warning);
        infos += report.count(Severity::Info);
    }
    writeln!(
        out,
        "{errors} errors, {warnings} warnings, {infos} notes in {} input(s)",
        reports.len()
    )?;
    Ok(())
}
