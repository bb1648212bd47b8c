//! End-to-end tests of `keel match` on generated leads with known duplicates.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;

use keel_match::synthetic::{COLUMNS, generate};

fn write_leads(path: &Path, n: usize, seed: u64) -> HashMap<String, u32> {
    let mut w = csv::Writer::from_path(path).unwrap();
    let mut header = vec!["id"];
    header.extend(COLUMNS);
    w.write_record(&header).unwrap();
    let mut truth = HashMap::new();
    for l in generate(n, seed) {
        let mut row = vec![l.id.clone()];
        row.extend(l.values.iter().cloned());
        w.write_record(&row).unwrap();
        truth.insert(l.id, l.entity);
    }
    w.flush().unwrap();
    truth
}

fn keel(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_keel"))
        .arg("match")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn deduplicates_generated_leads_with_high_precision_and_recall() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("leads.csv");
    let truth = write_leads(&input, 3000, 7);
    let pairs = dir.path().join("pairs.csv");
    let clusters = dir.path().join("clusters.csv");
    let model = dir.path().join("model.json");
    let out = keel(&[
        "--input",
        input.to_str().unwrap(),
        "--id-column",
        "id",
        "--pairs",
        pairs.to_str().unwrap(),
        "--clusters",
        clusters.to_str().unwrap(),
        "--save-model",
        model.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("first_name"),
        "inferred kinds are shown: {stderr}"
    );
    assert!(stderr.contains("peak memory"), "{stderr}");

    let mut r = csv::Reader::from_path(&pairs).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        vec!["id_l", "id_r", "match_probability", "match_weight"]
    );
    let predicted: Vec<(String, String)> = r
        .records()
        .map(|x| x.unwrap())
        .map(|x| (x[0].to_string(), x[1].to_string()))
        .collect();
    let tp = predicted
        .iter()
        .filter(|(a, b)| truth[a] == truth[b])
        .count();
    let mut sizes: HashMap<u32, usize> = HashMap::new();
    for e in truth.values() {
        *sizes.entry(*e).or_default() += 1;
    }
    let true_pairs: usize = sizes.values().map(|n| n * (n - 1) / 2).sum();
    let precision = tp as f64 / predicted.len() as f64;
    let recall = tp as f64 / true_pairs as f64;
    eprintln!("precision {precision:.3} recall {recall:.3}");
    // Measured: precision 0.974, recall 0.830.
    assert!(precision > 0.9, "precision {precision}");
    assert!(recall > 0.75, "recall {recall}");

    let mut c = csv::Reader::from_path(&clusters).unwrap();
    assert_eq!(c.headers().unwrap(), vec!["id", "cluster_id"]);
    let ids: HashSet<String> = c.records().map(|x| x.unwrap()[0].to_string()).collect();
    assert_eq!(ids.len(), truth.len(), "every input id has a cluster");

    // Reusing the saved model gives the same pairs.
    let again = dir.path().join("again.csv");
    let out = keel(&[
        "--input",
        input.to_str().unwrap(),
        "--id-column",
        "id",
        "--model",
        model.to_str().unwrap(),
        "--pairs",
        again.to_str().unwrap(),
        "--explain",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = csv::Reader::from_path(&again).unwrap();
    assert_eq!(r.headers().unwrap().get(4), Some("explanation"));
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), predicted.len());
    assert!(rows[0][4].contains("\"terms\""));
}

#[test]
fn bad_input_gets_clear_errors_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.csv");
    let p = pairs.to_str().unwrap();
    let write = |name: &str, body: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path.to_str().unwrap().to_string()
    };

    let dup = write("dup.csv", b"id,email\n1,a@x.com\n2,b@x.com\n1,c@x.com\n");
    let out = keel(&["--input", &dup, "--id-column", "id", "--pairs", p]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("dup.csv: row 4") && err.contains("duplicate id `1`") && err.contains("row 2"),
        "{err}"
    );

    let out = keel(&["--input", &dup, "--id-column", "key", "--pairs", p]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("id column `key` not found"));

    let empty = write("empty.csv", b"");
    let out = keel(&["--input", &empty, "--id-column", "id", "--pairs", p]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty.csv"));

    let latin1 = write("latin1.csv", b"id,first_name\n1,Jos\xe9\n");
    let out = keel(&["--input", &latin1, "--id-column", "id", "--pairs", p]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("latin1.csv: row 2") && err.contains("UTF-8"),
        "{err}"
    );

    let ragged = write("notcsv.csv", b"id,email\n1,a@x.com,extra,fields\n");
    let out = keel(&["--input", &ragged, "--id-column", "id", "--pairs", p]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("notcsv.csv: row 2"));

    let config = write("match.yaml", b"apiVersion: keel/v1\nkind: MatchConfig\nmetadata: {name: leads}\nspec:\n  fields:\n    - {column: mail, kind: email}\n");
    let out = keel(&[
        "--input",
        &dup,
        "--id-column",
        "id",
        "--config",
        &config,
        "--pairs",
        p,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("spec.fields[0].column") && err.contains("unknown column `mail`"),
        "{err}"
    );

    assert!(!pairs.exists(), "no output file is left behind");
}

#[test]
fn links_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.csv");
    let truth = write_leads(&all, 2000, 3);
    let text = std::fs::read_to_string(&all).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut a, mut b) = (format!("{header}\n"), format!("{header}\n"));
    for (i, line) in lines.enumerate() {
        if i % 2 == 0 {
            a.push_str(line);
            a.push('\n')
        } else {
            b.push_str(line);
            b.push('\n')
        }
    }
    let (pa, pb) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    std::fs::write(&pa, &a).unwrap();
    std::fs::write(&pb, &b).unwrap();
    let pairs = dir.path().join("pairs.csv");
    let out = keel(&[
        "--input",
        pa.to_str().unwrap(),
        "--link",
        pb.to_str().unwrap(),
        "--id-column",
        "id",
        "--pairs",
        pairs.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let in_a: HashSet<&str> = a
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let mut r = csv::Reader::from_path(&pairs).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|x| in_a.contains(&x[0]) && !in_a.contains(&x[1])),
        "id_l from A, id_r from B"
    );
    let tp = rows.iter().filter(|x| truth[&x[0]] == truth[&x[1]]).count();
    assert!(tp as f64 / rows.len() as f64 > 0.6);
}
