//! End-to-end tests of `keel attribute` on small files.

#![allow(clippy::unwrap_used)] // test helpers: a failure here is a test failure

use std::path::PathBuf;
use std::process::Command;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keel-attribute-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn keel(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .arg("attribute")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PATHS: &str = "path,total_conversions,total_conversion_value,total_null\n\
A > A > B,1,10,1\n\
B > C,2,20,1\n\
C,0,0,3\n\
A > B > A,1,5,0\n";

#[test]
fn paths_file_every_model() {
    let d = dir("all");
    let input = d.join("paths.csv");
    std::fs::write(&input, PATHS).unwrap();
    let output = d.join("out.csv");
    let (code, _, err) = keel(&[
        "--paths",
        input.to_str().unwrap(),
        "--model",
        "all",
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Markov order 1"), "{err}");
    let text = std::fs::read_to_string(&output).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("model,channel,conversions,value"));
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 12 * 3);
    // Exact order-1 Markov: removal effects 2/9, 1/4, 2/9 of P(conv) = 4/9 → 1.28, 1.44, 1.28.
    let markov: Vec<f64> = rows
        .iter()
        .filter(|r| r[0] == "markov_order_1")
        .map(|r| r[2].parse().unwrap())
        .collect();
    for (got, want) in markov.iter().zip([1.28, 1.44, 1.28]) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
    for model in [
        "first_touch",
        "linear",
        "w_shaped",
        "shapley",
        "markov_order_1",
    ] {
        let total: f64 = rows
            .iter()
            .filter(|r| r[0] == model)
            .map(|r| r[2].parse::<f64>().unwrap())
            .sum();
        assert!((total - 4.0).abs() < 1e-9, "{model}: {total}");
    }
}

#[test]
fn markov_reports_and_order() {
    let d = dir("reports");
    let input = d.join("paths.csv");
    std::fs::write(&input, PATHS.replace('>', "|")).unwrap();
    let p = input.to_str().unwrap();
    let (code, out, err) = keel(&["--paths", p, "--sep", "|", "--report", "removal-effects"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("model,channel,removal_effect,removal_effect_relative"),
        "{out}"
    );
    assert!(
        out.contains("markov_order_1,A,0.2222222222222222,0.5,"),
        "{out}"
    );
    let (code, out, _) = keel(&[
        "--paths",
        p,
        "--sep",
        "|",
        "--report",
        "transition-matrix",
        "--order",
        "2",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("markov_order_2,(start),A>B,"), "{out}");
    let (code, out, _) = keel(&[
        "--paths", p, "--sep", "|", "--model", "u_shaped", "--report", "explain",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("position_based,1,0,A,,0.4,0.4,4,first touch: position weight = 40.0%"),
        "{out}"
    );
    let (code, _, err) = keel(&["--paths", p, "--sep", "|", "--order", "9"]);
    assert_eq!(code, 1);
    assert!(err.contains("between 1 and 4"), "{err}");
}

#[test]
fn bad_rows_name_file_row_and_column() {
    let d = dir("bad");
    let input = d.join("bad.csv");
    std::fs::write(
        &input,
        "path,total_conversions,total_conversion_value,total_null\nA>B,1,2,0\nA>C,1,lots,0\n",
    )
    .unwrap();
    let (code, _, err) = keel(&["--paths", input.to_str().unwrap(), "--model", "linear"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("bad.csv:3:3: total_conversion_value: `lots` is not a number"),
        "{err}"
    );
    let (code, _, err) = keel(&["--paths", d.join("missing.csv").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn segment_events_with_costs() {
    let d = dir("events");
    let events = [
        r#"{"type":"page","anonymousId":"a1","timestamp":"2026-03-01T10:00:00Z","context":{"page":{"url":"https://ex.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"}}}"#,
        r#"{"type":"page","anonymousId":"a1","timestamp":"2026-03-02T10:00:00Z","context":{"campaign":{"source":"newsletter","medium":"email","name":"march"}}}"#,
        r#"{"type":"identify","anonymousId":"a1","userId":"u1","timestamp":"2026-03-02T10:01:00Z"}"#,
        r#"{"type":"track","userId":"u1","event":"Signed Up","timestamp":"2026-03-02T10:05:00Z","properties":{"revenue":80}}"#,
        r#"{"type":"page","anonymousId":"a2","timestamp":"2026-03-03T10:00:00Z","context":{"page":{"url":"https://ex.com/","referrer":"https://www.bing.com/"}}}"#,
        "",
        r#"{"type":"page","anonymousId":"a3","timestamp":"2026-03-03T11:00:00Z","context":{"page":{"url":"https://ex.com/?gclid=abc"}}}"#,
        r#"{"type":"track","anonymousId":"a3","event":"Signed Up","timestamp":"2026-03-03T11:10:00Z","properties":{"revenue":20}}"#,
    ];
    let input = d.join("events.jsonl");
    std::fs::write(&input, events.join("\n")).unwrap();
    let cost = d.join("cost.csv");
    std::fs::write(
        &cost,
        "channel,campaign,cost\nPaid Search,brand,30\nPaid Search,,20\n",
    )
    .unwrap();
    let e = input.to_str().unwrap();
    let (code, out, err) = keel(&[
        "--events",
        e,
        "--conversion-event",
        "Signed Up",
        "--model",
        "last_touch",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 conversions, 1 non-converting"), "{err}");
    assert!(out.contains("last_touch,Paid Search,1,20\n"), "{out}");
    assert!(out.contains("last_touch,Email,1,80\n"), "{out}");
    let (code, out, err) = keel(&[
        "--events",
        e,
        "--conversion-event",
        "Signed Up",
        "--model",
        "linear",
        "--report",
        "performance",
        "--cost",
        cost.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Paid Search: ½ of u1 (40) + all of a3 (20) = 60 revenue on 50 cost; 1.5 conversions.
    assert!(
        out.contains("linear,Paid Search,,1.5,60,50,USD,1.2,33.333333333333336\n"),
        "{out}"
    );
    assert!(
        out.contains("linear,Paid Search,brand,0.5,40,30,USD,1.3333333333333333,60\n"),
        "{out}"
    );
    std::fs::write(&input, "{\"type\":\"page\"}\n").unwrap();
    let (code, _, err) = keel(&["--events", e]);
    assert_eq!(code, 1);
    assert!(
        err.contains("events.jsonl:1:1: timestamp: missing timestamp"),
        "{err}"
    );
}

#[test]
fn custom_channel_rules() {
    let d = dir("rules");
    let input = d.join("events.jsonl");
    std::fs::write(
        &input,
        [
            r#"{"type":"page","anonymousId":"a1","timestamp":"2026-03-01T10:00:00Z","context":{"campaign":{"source":"google","medium":"cpc"}}}"#,
            r#"{"type":"track","anonymousId":"a1","event":"Order Completed","timestamp":"2026-03-01T10:05:00Z"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let rules = d.join("rules.yaml");
    std::fs::write(
        &rules,
        "apiVersion: keel/v1\nkind: ChannelRules\nmetadata: {name: ours}\nspec:\n  rules:\n    - channel: Search Ads\n      field: medium\n      one_of: [cpc, ppc]\n",
    )
    .unwrap();
    let (code, out, err) = keel(&[
        "--events",
        input.to_str().unwrap(),
        "--channel-rules",
        rules.to_str().unwrap(),
        "--model",
        "first_touch",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("first_touch,Search Ads,1,0"), "{out}");
    std::fs::write(&rules, "apiVersion: keel/v2\nkind: ChannelRules\nmetadata: {name: ours}\nspec:\n  rules:\n    - channel: X\n      field: medium\n      regex: '(('\n").unwrap();
    let (code, _, err) = keel(&[
        "--events",
        input.to_str().unwrap(),
        "--channel-rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("apiVersion: expected `keel/v1`") && err.contains("spec.rules[0].regex"),
        "{err}"
    );
}

#[test]
fn parallel_and_merged_reading_give_the_same_result() {
    let d = dir("threads");
    let input = d.join("paths.csv");
    let mut text = String::from("path,total_conversions,total_conversion_value,total_null\n");
    for i in 0..2000 {
        let path = ["A > B", "\"B > C > A\"", "C", "A > C > C > B"][i % 4];
        text.push_str(&format!("{path},{},{},{}\n", i % 3 % 2, i % 7, (i + 1) % 2));
    }
    std::fs::write(&input, text).unwrap();
    let p = input.to_str().unwrap();
    let (code, one, _) = keel(&["--paths", p, "--model", "all", "--order", "2"]);
    assert_eq!(code, 0);
    let (code, two, _) = keel(&[
        "--paths",
        p,
        "--model",
        "all",
        "--order",
        "2",
        "--threads",
        "3",
    ]);
    assert_eq!(code, 0);
    let (code, merged, _) = keel(&[
        "--paths",
        p,
        "--model",
        "all",
        "--order",
        "2",
        "--merge-paths",
    ]);
    assert_eq!(code, 0);
    let parse = |s: &str| -> Vec<(String, f64)> {
        s.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (format!("{}/{}", f[0], f[1]), f[2].parse().unwrap())
            })
            .collect()
    };
    for other in [&two, &merged] {
        let (a, b) = (parse(&one), parse(other));
        assert_eq!(a.len(), b.len());
        for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
            assert_eq!(ka, kb);
            assert!((va - vb).abs() < 1e-9, "{ka}: {va} vs {vb}");
        }
    }
}
