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

/// Pairwise F1 of a PAIRS.csv against the truth.
fn pair_f1(pairs: &Path, truth: &HashMap<String, u32>) -> f64 {
    let mut r = csv::Reader::from_path(pairs).unwrap();
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
    let precision = tp as f64 / predicted.len().max(1) as f64;
    let recall = tp as f64 / true_pairs as f64;
    2.0 * precision * recall / (precision + recall).max(1e-12)
}

/// A reviewer's labels from the truth: `n` duplicates and `n` colleagues or housemates who are
/// different people.
fn write_labels(path: &Path, n: usize, seed: u64, records: usize) {
    let leads = generate(records, seed);
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(["id_l", "id_r", "is_match"]).unwrap();
    let mut first_of: HashMap<u32, &str> = HashMap::new();
    let mut matches = 0;
    for l in &leads {
        match first_of.get(&l.entity) {
            Some(other) if matches < n => {
                w.write_record([*other, l.id.as_str(), "1"]).unwrap();
                matches += 1;
            }
            Some(_) => {}
            None => {
                first_of.insert(l.entity, &l.id);
            }
        }
    }
    let mut at_place: HashMap<&str, (u32, &str)> = HashMap::new();
    let mut non_matches = 0;
    for l in &leads {
        for place in [&l.values[4], &l.values[5]] {
            if place.is_empty() || non_matches >= n {
                continue;
            }
            match at_place.get(place.as_str()) {
                Some((entity, other)) if *entity != l.entity => {
                    w.write_record([*other, l.id.as_str(), "false"]).unwrap();
                    non_matches += 1;
                }
                Some(_) => {}
                None => {
                    at_place.insert(place, (l.entity, &l.id));
                }
            }
        }
    }
    w.flush().unwrap();
}

#[test]
fn labelled_pairs_improve_matching_and_bad_label_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("leads.csv");
    let truth = write_leads(&input, 4000, 11);
    let labels = dir.path().join("labels.csv");
    write_labels(&labels, 150, 11, 4000);
    let (plain, labelled) = (
        dir.path().join("plain.csv"),
        dir.path().join("labelled.csv"),
    );
    let run = |pairs: &Path, extra: &[&str]| {
        let mut args = vec![
            "--input",
            input.to_str().unwrap(),
            "--id-column",
            "id",
            "--pairs",
            pairs.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        keel(&args)
    };
    let out = run(&plain, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&labelled, &["--labels", labels.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("150 matches blended") && stderr.contains("non-matches checked"),
        "{stderr}"
    );
    let (without, with) = (pair_f1(&plain, &truth), pair_f1(&labelled, &truth));
    eprintln!("pairwise F1 without labels {without:.4}, with 300 labels {with:.4}");
    assert!(with >= without, "F1 with labels {with} < without {without}");

    // `keel match train` takes labels too; --model with --labels is refused (no training).
    let model = dir.path().join("model.json");
    let out = keel(&[
        "train",
        "--input",
        input.to_str().unwrap(),
        "--id-column",
        "id",
        "--labels",
        labels.to_str().unwrap(),
        "--save-model",
        model.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved = std::fs::read_to_string(&model).unwrap();
    assert!(saved.contains("\"matches\": 150"), "{saved}");
    let out = run(
        &dir.path().join("x.csv"),
        &[
            "--model",
            model.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--labels"));

    // Bad label files: the file, row and column are named; unknown ids name where they were
    // looked up; nothing is written.
    let bad_pairs = dir.path().join("bad_pairs.csv");
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "cols.csv",
            "id_l,id_r,label\nr0000000,r0000001,1\n",
            &["cols.csv: row 1", "missing column `is_match`"],
        ),
        (
            "value.csv",
            "id_l,id_r,is_match\nr0000000,r0000001,1\nr0000000,r0000002,maybe\n",
            &["value.csv: row 3, column `is_match`", "`maybe`"],
        ),
        (
            "unknown.csv",
            "id_l,id_r,is_match\nr0000000,nope,0\n",
            &[
                "unknown.csv: row 2, column `id_r`",
                "unknown id `nope`",
                "leads.csv",
            ],
        ),
        (
            "conflict.csv",
            "id_l,id_r,is_match\nr0000000,r0000001,1\nr0000001,r0000000,0\n",
            &["conflict.csv: row 3", "row 2"],
        ),
        (
            "empty.csv",
            "id_l,id_r,is_match\n",
            &["empty.csv: no labelled pairs"],
        ),
    ];
    for (name, body, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let out = run(&bad_pairs, &["--labels", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        for e in expected {
            assert!(err.contains(e), "{name}: expected `{e}` in {err}");
        }
    }
    assert!(!bad_pairs.exists(), "no output file is left behind");
}
