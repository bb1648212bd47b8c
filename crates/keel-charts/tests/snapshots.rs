//! Snapshots of the rendered SVG and tables of each chart type. Each element is put on its own
//! line so a change shows up as a readable diff.

mod common;

use common::{date, day};
use keel_charts::{
    BarChart, Chart, Donut, Edge, Gauge, Graph, Heatmap, LineChart, Node, NodeKind, Orientation,
    Series, Slice, Sparkline, TimeSeries, ValueFormat, Waterfall, WaterfallStep,
};

fn lines(svg: &str) -> String {
    svg.replace("><", ">\n<")
}

fn quarters() -> Vec<String> {
    ["Q1", "Q2", "Q3", "Q4"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn bar_grouped_vertical() {
    let chart = BarChart {
        title: "Requests closed per quarter".into(),
        categories: quarters(),
        series: vec![
            Series::new("Email", vec![132.0, 158.0, 171.0, 149.0]),
            Series::new("Web", vec![64.0, 81.0, 77.0, 95.0]),
        ],
        ..BarChart::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
    insta::assert_snapshot!(lines(&chart.to_html_table()));
}

#[test]
fn bar_stacked_vertical_currency() {
    let chart = BarChart {
        title: "Spend".into(),
        categories: quarters(),
        series: vec![
            Series::new("Tools", vec![48_000.0, 52_000.0, 61_000.0, 58_000.0]),
            Series::new("Services", vec![12_000.0, 18_000.0, 22_500.0, 19_000.0]),
        ],
        stacked: true,
        value_format: ValueFormat::Currency { code: "EUR".into() },
        ..BarChart::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
}

#[test]
fn bar_horizontal_with_negatives() {
    let chart = BarChart {
        title: "Net contacts".into(),
        categories: vec!["Forms".into(), "Imports".into(), "CRM sync".into()],
        series: vec![Series::new("Net", vec![1_240.0, -960.0, 340.0])],
        orientation: Orientation::Horizontal,
        ..BarChart::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
}

#[test]
fn bar_horizontal_stacked() {
    let chart = BarChart {
        title: "Requests by team".into(),
        categories: vec!["Lifecycle".into(), "Web".into()],
        series: vec![
            Series::new("Open", vec![12.0, 5.0]),
            Series::new("Done", vec![30.0, 22.0]),
        ],
        orientation: Orientation::Horizontal,
        stacked: true,
        ..BarChart::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
}

#[test]
fn line_two_series() {
    let a: Vec<_> = (0..8)
        .map(|w| (day(w * 7), 100.0 + (w * w) as f64 * 3.0))
        .collect();
    let b: Vec<_> = (0..8)
        .map(|w| (day(w * 7), 80.0 - w as f64 * 4.0))
        .collect();
    let chart = LineChart {
        title: "Weekly sign-ups".into(),
        series: vec![TimeSeries::new("Organic", a), TimeSeries::new("Paid", b)],
        ..LineChart::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
    insta::assert_snapshot!(lines(&chart.to_html_table()));
}

#[test]
fn area_percent() {
    let points: Vec<_> = (0..10).map(|d| (day(d), 0.5 + d as f64 * 0.04)).collect();
    let chart = LineChart {
        title: "Pass rate".into(),
        series: vec![TimeSeries::new("Pass rate", points)],
        area: true,
        value_format: ValueFormat::Percent { decimals: 0 },
        ..LineChart::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
}

#[test]
fn donut() {
    let chart = Donut {
        title: "Requests by channel".into(),
        slices: vec![
            Slice::new("Email", 412.0),
            Slice::new("Paid social", 236.0),
            Slice::new("Web", 198.0),
        ],
        ..Donut::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
    insta::assert_snapshot!(lines(&chart.to_html_table()));
}

#[test]
fn sparkline() {
    let chart = Sparkline {
        title: "Weekly active users".into(),
        values: vec![3.0, 5.0, 4.0, 8.0, 7.0, 9.0],
        area: true,
        ..Sparkline::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
}

#[test]
fn waterfall_match_weight() {
    let chart = Waterfall {
        title: "Why they match (bits of evidence)".into(),
        steps: vec![
            WaterfallStep::new("prior", -9.97),
            WaterfallStep::new("email (exact)", 13.2)
                .with_note("ana@example.com = ana@example.com"),
            WaterfallStep::new("first_name (jaro_winkler_0.92)", 3.1),
            WaterfallStep::new("phone (else)", -4.4),
            WaterfallStep::new("postcode (null)", 0.0),
        ],
        total_label: "match weight".into(),
        total_note: Some("81.5% likely the same".into()),
        value_format: ValueFormat::Number { decimals: 1 },
        ..Waterfall::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
    insta::assert_snapshot!(lines(&chart.to_html_table()));
}

#[test]
fn gauge_readiness() {
    let chart = Gauge {
        title: "Readiness".into(),
        value: 6.0,
        max: 8.0,
        ..Gauge::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
    insta::assert_snapshot!(lines(&chart.to_html_table()));
}

#[test]
fn gauge_percent() {
    let chart = Gauge {
        title: "Consent coverage".into(),
        value: 0.42,
        max: 1.0,
        value_format: ValueFormat::Percent { decimals: 0 },
        ..Gauge::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
}

#[test]
fn heatmap_calendar() {
    let days: Vec<_> = (0..28)
        .filter(|d| d % 5 != 3)
        .map(|d| (date(d), ((d * 7) % 9) as f64))
        .collect();
    let chart = Heatmap::calendar("Sends per day", &days);
    insta::assert_snapshot!(lines(&chart.render()));
    insta::assert_snapshot!(lines(&chart.to_html_table()));
}

#[test]
fn graph_blast_radius() {
    let chart = Graph {
        title: "Impact of Lead Status".into(),
        nodes: vec![
            Node::new("crm", "Salesforce", NodeKind::Tool).with_href("/tools/crm"),
            Node::new("sync", "CRM sync", NodeKind::Integration),
            Node::new("status", "Lead Status", NodeKind::Field),
            Node::new("routing", "MQL routing", NodeKind::Automation),
            Node::new("pipe", "Pipeline", NodeKind::Dashboard),
        ],
        edges: vec![
            Edge::new("crm", "sync"),
            Edge::new("sync", "status"),
            Edge::new("status", "routing"),
            Edge::new("status", "pipe"),
            Edge::new("routing", "crm"),
        ],
        highlight: vec!["status".into(), "routing".into(), "pipe".into()],
        focus: Some("status".into()),
        ..Graph::default()
    };
    insta::assert_snapshot!(lines(&chart.render()));
    insta::assert_snapshot!(lines(&chart.to_html_table()));
}

#[test]
fn empty_states() {
    insta::assert_snapshot!(lines(
        &BarChart {
            title: "Nothing yet".into(),
            ..BarChart::default()
        }
        .render()
    ));
}
