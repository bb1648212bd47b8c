//! Imports a CSV export with a built-in layout and prints counts, the top quarantine
//! reasons and the time taken — used by `bench/contacts` to measure import throughput.
//!
//! `cargo run --release -p keel-contacts --example import_file -- FILE [salesforce-lead|salesforce-contact|hubspot-contacts|marketo-leads]`

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Instant;

use keel_contacts::contract::default_contact_contract;
use keel_contacts::import::{
    ImportOptions, ImportOutcome, Layout, RowOutcome, decode, import_csv_each,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: import_file FILE [LAYOUT]");
        return ExitCode::from(2);
    };
    let layout = match args.get(1).map(String::as_str).unwrap_or("salesforce-lead") {
        "salesforce-lead" => Layout::SalesforceLead,
        "salesforce-contact" => Layout::SalesforceContact,
        "hubspot-contacts" => Layout::HubspotContacts,
        "marketo-leads" => Layout::MarketoLeads,
        other => {
            eprintln!("unknown layout `{other}`");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let (contract, map) = match (default_contact_contract(), layout.field_map()) {
        (Ok(c), Ok(m)) => (c, m),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let options = ImportOptions {
        source: path.clone(),
        at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
    };
    let start = Instant::now();
    let text = match decode(&bytes, None) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(1);
        }
    };
    let reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    // Stream: count accepted rows, keep only the quarantine (what a person must look at).
    let mut out = ImportOutcome::default();
    let mut accepted = 0usize;
    let seen = HashSet::new();
    let on_row = |o: RowOutcome| match o {
        RowOutcome::Accepted(_) => accepted += 1,
        RowOutcome::Quarantined(q) => out.quarantined.push(q),
        RowOutcome::Unchanged { row, key } => out.unchanged.push((row, key)),
    };
    out.rows_read = match import_csv_each(reader, &map, &contract, &options, &seen, on_row) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(1);
        }
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "rows {} accepted {} quarantined {} unchanged {} in {:.2}s ({:.0} rows/s)",
        out.rows_read,
        accepted,
        out.quarantined.len(),
        out.unchanged.len(),
        secs,
        out.rows_read as f64 / secs
    );
    let mut reasons: Vec<(String, usize)> = out.reason_counts().into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (reason, n) in reasons.iter().take(15) {
        // One example value per reason, to see what the data looks like.
        let example = out
            .quarantined
            .iter()
            .flat_map(|q| &q.reasons)
            .find(|r| format!("{}: {}", r.field, r.reason) == *reason)
            .map(|r| r.value.clone())
            .unwrap_or_default();
        let reason: String = reason.chars().take(90).collect();
        println!("{n:>8}  {reason}  e.g. `{example}`");
    }
    ExitCode::SUCCESS
}
