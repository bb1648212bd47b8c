//! Trains on generated leads and prints the model and pairwise accuracy (a development aid).
//!
//! `cargo run --release -p keel-match --example evaluate -- 20000 [sum]`

use keel_match::config::SharedEvidence;
use keel_match::synthetic::{COLUMNS, generate};
use keel_match::{
    MatchSpec, RawRecord, TrainOptions, block, build_records, score, train, weight_of,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let columns: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    let mut spec = MatchSpec::infer(&columns, "id");
    if args.get(2).map(String::as_str) == Some("sum") {
        spec.shared_evidence = SharedEvidence::Sum;
    }
    let leads = generate(n, 1);
    let rows = leads
        .iter()
        .map(|l| RawRecord {
            id: l.id.clone(),
            source: 0,
            values: l.values.to_vec(),
        })
        .collect();
    let t = std::time::Instant::now();
    let recs = build_records(&spec, rows)?;
    println!("standardised in {:?}", t.elapsed());
    let blocks = block(&recs, &spec)?;
    println!("blocked in {:?}", t.elapsed());
    let model = train(&recs, &spec, &blocks, &[], &TrainOptions::default())?;
    println!("lambda {:.4} trained in {:?}", model.lambda, t.elapsed());
    for c in &model.comparisons {
        println!("{}", c.column);
        for l in &c.levels {
            println!(
                "  {:<45} m {:.4} u {:.6} w {:+.2}",
                l.label,
                l.m,
                l.u,
                (l.m / l.u).log2()
            );
        }
    }
    let (links, compared) = score(&recs, &model, &blocks, f64::NEG_INFINITY, &|_| {})?;
    let min = weight_of(spec.threshold);
    let truth = |a: u32, b: u32| leads[a as usize].entity == leads[b as usize].entity;
    let predicted: Vec<_> = links
        .iter()
        .filter(|l| f64::from(l.weight) >= min)
        .collect();
    let tp = predicted.iter().filter(|l| truth(l.a, l.b)).count();
    let mut by_entity = std::collections::HashMap::new();
    for l in &leads {
        *by_entity.entry(l.entity).or_insert(0usize) += 1;
    }
    let true_pairs: usize = by_entity.values().map(|n| n * (n - 1) / 2).sum();
    let found = links.iter().filter(|l| truth(l.a, l.b)).count();
    println!(
        "compared {compared}, true pairs {true_pairs}, among candidates {found}, predicted {}, tp {tp}, precision {:.4}, recall {:.4}",
        predicted.len(),
        tp as f64 / predicted.len().max(1) as f64,
        tp as f64 / true_pairs.max(1) as f64
    );
    let mut shown = 0;
    for l in predicted.iter().filter(|l| !truth(l.a, l.b)) {
        if shown < 5 {
            let e = keel_match::explain(&recs, &model, l.a as usize, l.b as usize)?;
            println!(
                "FP {:?}\n   {:?}",
                leads[l.a as usize].values, leads[l.b as usize].values
            );
            for t in &e.terms {
                println!(
                    "   {:<12} {:<40} {:+.2} tf {:+.2} counted {:+.2}",
                    t.column, t.level, t.bayes_weight, t.tf_adjustment, t.counted
                );
            }
            println!("   prior {:+.2} total {:+.2}", e.prior, e.match_weight);
            shown += 1;
        }
    }
    shown = 0;
    for l in links
        .iter()
        .filter(|l| truth(l.a, l.b) && f64::from(l.weight) < min)
    {
        if shown < 5 {
            let e = keel_match::explain(&recs, &model, l.a as usize, l.b as usize)?;
            println!(
                "FN {:?}\n   {:?}",
                leads[l.a as usize].values, leads[l.b as usize].values
            );
            for t in &e.terms {
                println!(
                    "   {:<12} {:<40} {:+.2} tf {:+.2} counted {:+.2}",
                    t.column, t.level, t.bayes_weight, t.tf_adjustment, t.counted
                );
            }
            println!("   prior {:+.2} total {:+.2}", e.prior, e.match_weight);
            shown += 1;
        }
    }
    Ok(())
}
