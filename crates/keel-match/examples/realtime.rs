//! Real-time matching benchmark: trains on N generated leads, builds the index from all but the
//! last 10,000, then matches those one at a time and reports the time per record.
//!
//! `cargo run --release -p keel-match --example realtime -- 1000000`

use std::time::Instant;

use keel_match::synthetic::{COLUMNS, generate};
use keel_match::{MatchIndex, MatchSpec, RawRecord, TrainOptions, block, build_records, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let columns: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    let spec = MatchSpec::infer(&columns, "id");
    let leads = generate(n, 42);
    let held = 10_000.min(leads.len() / 10);
    let (existing, incoming) = leads.split_at(leads.len() - held);
    let rows = |ls: &[keel_match::synthetic::Lead]| -> Vec<RawRecord> {
        ls.iter()
            .map(|l| RawRecord {
                id: l.id.clone(),
                source: 0,
                values: l.values.to_vec(),
            })
            .collect()
    };
    let records = build_records(&spec, rows(existing))?;
    let blocks = block(&records, &spec)?;
    let model = train(&records, &spec, &blocks, &[], &TrainOptions::default())?;
    drop(blocks);
    let t = Instant::now();
    let index = MatchIndex::build(&model, records)?;
    println!(
        "index of {} records built in {:.1}s",
        index.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut candidates = 0;
    let mut correct = 0;
    for l in incoming {
        let found = index.query(l.values.to_vec(), spec.threshold)?;
        candidates += found.len();
        if let Some(best) = found.first() {
            correct += usize::from(
                existing
                    .get(best.index)
                    .is_some_and(|e| e.entity == l.entity),
            );
        }
    }
    let per = t.elapsed().as_secs_f64() / incoming.len() as f64;
    println!(
        "{} single-record queries: {:.1} µs per record (one thread), {} candidates at or above {}, best candidate correct {}",
        incoming.len(),
        per * 1e6,
        candidates,
        spec.threshold,
        correct
    );
    Ok(())
}
