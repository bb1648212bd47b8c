//! Writes seeded synthetic leads as CSV (for benchmarks): `gen_leads N SEED OUT.csv`.
//! Columns: id, the seven lead fields, and `true_entity` (the ground truth).

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .ok_or("usage: gen_leads N SEED OUT.csv")?;
    let seed: u64 = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .ok_or("usage: gen_leads N SEED OUT.csv")?;
    let out = args.get(3).ok_or("usage: gen_leads N SEED OUT.csv")?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    let quote = |s: &str| {
        if s.contains([',', '"']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    writeln!(
        w,
        "id,{},true_entity",
        keel_match::synthetic::COLUMNS.join(",")
    )?;
    for l in keel_match::synthetic::generate(n, seed) {
        let values: Vec<String> = l.values.iter().map(|v| quote(v)).collect();
        writeln!(w, "{},{},{}", l.id, values.join(","), l.entity)?;
    }
    w.flush()?;
    Ok(())
}
