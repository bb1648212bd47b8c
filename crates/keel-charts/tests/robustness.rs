//! Every chart type, fed hostile labels and degenerate numbers, must produce well-formed,
//! accessible SVG and tables, with no markup injected and no NaN coordinates.

mod common;

use common::{all_charts, assert_well_formed};

const HOSTILE: [&str; 6] = [
    "<script>alert(1)</script>",
    "Tom & Jerry",
    "\"quoted\" 'single'",
    "a\u{0}b\u{1b}c",
    "]]><!--",
    "</svg><svg onload=x>",
];

fn check(labels: &[&str], values: &[f64]) {
    for (name, chart) in all_charts(labels, values) {
        let svg = chart.render();
        let context = format!("{name} with {values:?}");
        assert_well_formed(&context, &svg);
        assert!(
            svg.starts_with("<svg") && svg.ends_with("</svg>"),
            "{context}"
        );
        assert!(
            svg.contains("role=\"img\"") && svg.contains("<title id=") && svg.contains("<desc id="),
            "{context}"
        );
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "{context}: {svg}"
        );
        assert!(!svg.contains("<script"), "{context}");
        let doc = roxmltree::Document::parse(&svg).ok();
        let elements: Vec<String> = doc
            .iter()
            .flat_map(|d| {
                d.descendants()
                    .filter(|n| n.is_element())
                    .map(|n| n.tag_name().name().to_string())
            })
            .collect();
        assert_eq!(
            elements.iter().filter(|n| *n == "svg").count(),
            1,
            "{context}: exactly one svg element"
        );
        assert!(
            !elements
                .iter()
                .any(|n| n == "script" || n == "b" || n == "i"),
            "{context}: injected element"
        );
        let handlers = doc
            .iter()
            .flat_map(|d| {
                d.descendants()
                    .flat_map(|n| n.attributes().map(|a| a.name().to_string()))
            })
            .any(|a| a.starts_with("on"));
        assert!(!handlers, "{context}: event handler attribute");
        let table = chart.to_html_table();
        assert_well_formed(&format!("{context} table"), &table);
        assert!(!table.contains("<script"), "{context}");
    }
}

#[test]
fn hostile_labels_are_escaped() {
    check(&HOSTILE, &[3.0, 1.0, 4.0, 1.0, 5.0, 9.0]);
}

#[test]
fn hostile_labels_reach_the_output_escaped() {
    for (name, chart) in all_charts(&HOSTILE, &[3.0, 1.0, 4.0]) {
        let svg = chart.render();
        assert!(
            svg.contains("&lt;script&gt;")
                || svg.contains("&amp;")
                || name == "sparkline"
                || name == "heatmap",
            "{name}"
        );
    }
}

#[test]
fn degenerate_values_never_break_a_chart() {
    let cases: [&[f64]; 10] = [
        &[],
        &[0.0],
        &[0.0, 0.0, 0.0],
        &[7.0],
        &[-3.0, -1.0, -8.0],
        &[f64::NAN, f64::NAN],
        &[f64::INFINITY, 2.0, f64::NEG_INFINITY],
        &[1e-12, 2e-12],
        &[1e15, 3e15, 2e15],
        &[-5.0, 0.0, 5.0, f64::NAN, 2.5],
    ];
    for values in cases {
        check(&["A", "B", "C", "D"], values);
    }
}

#[test]
fn empty_labels_are_fine() {
    check(&[], &[1.0, 2.0, 3.0]);
    check(&["", " "], &[1.0, 2.0, 3.0]);
}

#[test]
fn very_long_labels_are_truncated_with_full_text_on_hover() {
    let long = "An extraordinarily long category label that would never fit anywhere sensible";
    for (name, chart) in all_charts(&[long], &[1.0, 2.0]) {
        let svg = chart.render();
        if name.starts_with("bar") || name == "donut" || name == "graph" {
            assert!(svg.contains('…'), "{name}");
        }
        assert_well_formed(&name, &svg);
    }
}
