//! Fixtures shared by the integration tests: one representative chart of each type.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use keel_charts::{
    BarChart, Chart, Donut, Edge, Gauge, Graph, Heatmap, LineChart, Node, NodeKind, Orientation,
    Series, Slice, Sparkline, TimeSeries, ValueFormat,
};

pub fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
        .single()
        .map(|t| t + TimeDelta::days(d))
        .unwrap_or_default()
}

pub fn date(d: i64) -> NaiveDate {
    day(d).date_naive()
}

/// Every chart type built from the given labels and values, so tests can feed hostile or
/// degenerate data through all of them at once.
pub fn all_charts(labels: &[&str], values: &[f64]) -> Vec<(String, Box<dyn Chart>)> {
    let label = |i: usize| {
        labels
            .get(i % labels.len().max(1))
            .copied()
            .unwrap_or("")
            .to_string()
    };
    let categories: Vec<String> = (0..values.len()).map(label).collect();
    let series = vec![
        Series::new(label(0), values.to_vec()),
        Series::new(label(1), values.iter().map(|v| v * 0.5).collect()),
    ];
    let points: Vec<(DateTime<Utc>, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (day(i as i64 * 3), *v))
        .collect();
    let mut out: Vec<(String, Box<dyn Chart>)> = Vec::new();
    for orientation in [Orientation::Vertical, Orientation::Horizontal] {
        for stacked in [false, true] {
            out.push((
                format!("bar {orientation:?} stacked={stacked}"),
                Box::new(BarChart {
                    title: label(0),
                    categories: categories.clone(),
                    series: series.clone(),
                    orientation,
                    stacked,
                    ..BarChart::default()
                }),
            ));
        }
    }
    out.push((
        "line".into(),
        Box::new(LineChart {
            title: label(1),
            series: vec![TimeSeries::new(label(2), points.clone())],
            area: true,
            ..LineChart::default()
        }),
    ));
    out.push((
        "donut".into(),
        Box::new(Donut {
            title: label(2),
            slices: values
                .iter()
                .enumerate()
                .map(|(i, v)| Slice::new(label(i), *v))
                .collect(),
            center_label: Some(label(3)),
            ..Donut::default()
        }),
    ));
    out.push((
        "sparkline".into(),
        Box::new(Sparkline {
            title: label(0),
            values: values.to_vec(),
            area: true,
            ..Sparkline::default()
        }),
    ));
    out.push((
        "gauge".into(),
        Box::new(Gauge {
            title: label(0),
            value: values.first().copied().unwrap_or(f64::NAN),
            max: values.iter().copied().fold(f64::NAN, f64::max),
            ..Gauge::default()
        }),
    ));
    out.push((
        "heatmap".into(),
        Box::new(Heatmap::calendar(
            label(1),
            &values
                .iter()
                .enumerate()
                .map(|(i, v)| (date(i as i64), *v))
                .collect::<Vec<_>>(),
        )),
    ));
    out.push((
        "heatmap grid".into(),
        Box::new(Heatmap {
            title: label(2),
            rows: (0..2).map(label).collect(),
            columns: categories.clone(),
            values: vec![values.to_vec(), values.iter().rev().copied().collect()],
            value_format: ValueFormat::Percent { decimals: 0 },
            ..Heatmap::default()
        }),
    ));
    let nodes: Vec<Node> = (0..values.len())
        .map(|i| {
            Node::new(format!("n{i}"), label(i), NodeKind::Field)
                .with_href(format!("/x?{}", label(i)))
        })
        .collect();
    let edges: Vec<Edge> = (1..values.len())
        .map(|i| Edge {
            from: format!("n{}", i - 1),
            to: format!("n{i}"),
            label: Some(label(i)),
        })
        .collect();
    out.push((
        "graph".into(),
        Box::new(Graph {
            title: label(3),
            nodes,
            edges,
            highlight: vec!["n0".into(), "n1".into()],
            focus: Some("n0".into()),
            ..Graph::default()
        }),
    ));
    out
}

/// Parses `xml` strictly, failing the test with the document when it is not well-formed.
pub fn assert_well_formed(name: &str, xml: &str) {
    if let Err(e) = roxmltree::Document::parse(xml) {
        panic!("{name}: not well-formed XML ({e}):\n{xml}");
    }
}
