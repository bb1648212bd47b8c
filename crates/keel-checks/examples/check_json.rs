//! What `keel check-email FILES --format json [--policy P]` does, on one thread and without the
//! rest of the CLI: for measuring the engine alone (`bench/checks/run.sh` measures the CLI).
//! `cargo run --release -p keel-checks --example check_json -- [--policy P.yaml] FILES… > out.json`

use std::io::Write;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let policy = match args.iter().position(|a| a == "--policy") {
        Some(i) if i + 1 < args.len() => {
            let path = args.remove(i + 1);
            args.remove(i);
            let yaml = std::fs::read_to_string(&path).unwrap_or_default();
            keel_checks::Policy::from_yaml(&yaml).unwrap_or_default()
        }
        _ => keel_checks::Policy::default(),
    };
    let reports: Vec<(String, keel_checks::Report)> = args
        .iter()
        .filter_map(|f| {
            let bytes = std::fs::read(f).ok()?;
            Some((f.clone(), keel_checks::check_email(&bytes, &policy)))
        })
        .collect();
    let rows = keel_checks::output::rows(&reports);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let _ = serde_json::to_writer(&mut out, &rows);
    let _ = writeln!(out);
    let _ = out.flush();
}
