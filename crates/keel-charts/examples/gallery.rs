//! Writes an HTML gallery of every chart type (light and dark theme) to the path given as the
//! first argument: `cargo run -p keel-charts --example gallery -- /tmp/gallery.html`.

use std::error::Error;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use keel_charts::{
    BarChart, Chart, Donut, Edge, Gauge, Graph, Heatmap, LineChart, Node, NodeKind, Orientation,
    Series, Slice, Sparkline, TimeSeries, ValueFormat,
};

/// A small deterministic pseudo-random sequence, so the gallery is the same on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn day(y: i32, m: u32, d: u32) -> Result<DateTime<Utc>, Box<dyn Error>> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
        .single()
        .ok_or_else(|| "invalid date".into())
}

/// Named charts shown in the gallery.
type Gallery = Vec<(&'static str, Box<dyn Chart>)>;

fn charts() -> Result<Gallery, Box<dyn Error>> {
    let mut rng = Seeded(42);
    let quarters: Vec<String> = ["Q1", "Q2", "Q3", "Q4"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut out: Gallery = vec![
        (
            "Grouped columns",
            Box::new(BarChart {
                title: "Requests closed per quarter".into(),
                categories: quarters.clone(),
                series: vec![
                    Series::new("Email", vec![132.0, 158.0, 171.0, 149.0]),
                    Series::new("Landing page", vec![64.0, 81.0, 77.0, 95.0]),
                    Series::new("Data request", vec![38.0, 42.0, 57.0, 61.0]),
                ],
                ..BarChart::default()
            }),
        ),
        (
            "Stacked columns (currency)",
            Box::new(BarChart {
                title: "Stack spend by category".into(),
                categories: vec!["2023".into(), "2024".into(), "2025".into(), "2026".into()],
                series: vec![
                    Series::new("Automation", vec![48_000.0, 52_000.0, 61_000.0, 58_000.0]),
                    Series::new("CRM", vec![36_000.0, 38_500.0, 41_000.0, 44_000.0]),
                    Series::new("Analytics", vec![12_000.0, 18_000.0, 22_500.0, 19_000.0]),
                ],
                stacked: true,
                value_format: ValueFormat::Currency { code: "USD".into() },
                ..BarChart::default()
            }),
        ),
        (
            "Horizontal bars",
            Box::new(BarChart {
                title: "Brief-to-launch cycle time (days)".into(),
                categories: [
                    "Webinar",
                    "Product launch email",
                    "Nurture journey",
                    "Paid social campaign",
                    "Event follow-up",
                    "Newsletter",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                series: vec![Series::new(
                    "Median days",
                    vec![21.0, 34.5, 45.0, 12.0, 6.0, 4.0],
                )],
                orientation: Orientation::Horizontal,
                ..BarChart::default()
            }),
        ),
        (
            "Horizontal stacked with negatives",
            Box::new(BarChart {
                title: "Net contact change by source".into(),
                categories: vec![
                    "Web forms".into(),
                    "Events".into(),
                    "List imports".into(),
                    "CRM sync".into(),
                ],
                series: vec![
                    Series::new("Added", vec![1_240.0, 560.0, 2_100.0, 340.0]),
                    Series::new("Removed", vec![-180.0, -75.0, -960.0, -410.0]),
                ],
                orientation: Orientation::Horizontal,
                stacked: true,
                ..BarChart::default()
            }),
        ),
    ];
    let weeks: Vec<DateTime<Utc>> = (0..26)
        .map(|w| day(2026, 1, 5).map(|d| d + TimeDelta::weeks(w)))
        .collect::<Result<_, _>>()?;
    let mut level = 1_800.0;
    let sessions: Vec<(DateTime<Utc>, f64)> = weeks
        .iter()
        .map(|&t| {
            level += (rng.next() - 0.42) * 300.0;
            (t, level.round())
        })
        .collect();
    let signups: Vec<(DateTime<Utc>, f64)> = weeks
        .iter()
        .map(|&t| (t, (420.0 + rng.next() * 380.0).round()))
        .collect();
    out.push((
        "Line chart, weekly",
        Box::new(LineChart {
            title: "Weekly sessions and sign-ups".into(),
            series: vec![
                TimeSeries::new("Sessions", sessions.clone()),
                TimeSeries::new("Sign-ups", signups),
            ],
            ..LineChart::default()
        }),
    ));
    let days: Vec<(DateTime<Utc>, f64)> = (0..30)
        .map(|d| {
            day(2026, 3, 1).map(|t| {
                (
                    t + TimeDelta::days(d),
                    (0.2 + 0.6 * rng.next() * (d as f64 / 30.0)),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    out.push((
        "Area chart, daily percentages",
        Box::new(LineChart {
            title: "Pre-send check pass rate".into(),
            series: vec![TimeSeries::new("Pass rate", days)],
            area: true,
            value_format: ValueFormat::Percent { decimals: 0 },
            ..LineChart::default()
        }),
    ));
    out.push((
        "Donut",
        Box::new(Donut {
            title: "Requests by channel".into(),
            slices: vec![
                Slice::new("Email", 412.0),
                Slice::new("Paid social", 236.0),
                Slice::new("Web", 198.0),
                Slice::new("Events", 87.0),
                Slice::new("Direct mail", 23.0),
            ],
            center_label: Some("requests".into()),
            ..Donut::default()
        }),
    ));
    let mut heat_days = Vec::new();
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).ok_or("invalid date")?;
    for d in 0..(26 * 7) {
        let date = start + TimeDelta::days(d);
        let weekday = d % 7;
        let sends = if weekday >= 5 {
            (rng.next() * 1.5).floor()
        } else {
            (rng.next() * 9.0).floor()
        };
        if rng.next() > 0.04 {
            heat_days.push((date, sends));
        }
    }
    out.push((
        "Calendar heatmap",
        Box::new(Heatmap::calendar("Campaign sends per day", &heat_days)),
    ));
    out.push((
        "Stack graph with blast radius",
        Box::new(Graph {
            title: "Impact of changing the Lead Status field".into(),
            nodes: vec![
                Node::new("sf", "Salesforce", NodeKind::Tool).with_href("/tools/salesforce"),
                Node::new("mkto", "Marketo", NodeKind::Tool).with_href("/tools/marketo"),
                Node::new("seg", "Segment", NodeKind::Tool),
                Node::new("sync", "SFDC ↔ Marketo sync", NodeKind::Integration),
                Node::new("seg-sf", "Segment → Salesforce", NodeKind::Integration),
                Node::new("status", "Lead Status", NodeKind::Field)
                    .with_href("/fields/lead-status"),
                Node::new("score", "Lead Score", NodeKind::Field),
                Node::new("mql", "MQL routing", NodeKind::Automation),
                Node::new("nurture", "Nurture journey", NodeKind::Automation),
                Node::new("pipe", "Pipeline dashboard", NodeKind::Dashboard),
                Node::new("funnel", "Funnel report", NodeKind::Dashboard),
            ],
            edges: vec![
                Edge::new("sf", "sync"),
                Edge::new("mkto", "sync"),
                Edge::new("seg", "seg-sf"),
                Edge::new("seg-sf", "sf"),
                Edge::new("sync", "status"),
                Edge::new("sync", "score"),
                Edge::new("status", "mql"),
                Edge::new("score", "mql"),
                Edge::new("status", "pipe"),
                Edge::new("mql", "funnel"),
                Edge::new("score", "nurture"),
                Edge::new("mql", "sf"),
            ],
            highlight: ["status", "mql", "pipe", "funnel", "sf", "sync"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            focus: Some("status".into()),
            ..Graph::default()
        }),
    ));
    let tools = [
        "Salesforce",
        "HubSpot",
        "Marketo",
        "Segment",
        "Braze",
        "Looker",
        "Tableau",
        "Zapier",
        "Workato",
        "Hightouch",
        "Census",
        "Snowflake",
        "dbt",
        "Amplitude",
        "Mixpanel",
        "Google Ads",
        "LinkedIn Ads",
        "Meta Ads",
        "Outreach",
        "Gong",
    ];
    out.push((
        "Many categories (rotated labels)",
        Box::new(BarChart {
            title: "Open requests per tool".into(),
            categories: tools.iter().map(|s| s.to_string()).collect(),
            series: vec![Series::new(
                "Open",
                tools.iter().map(|_| (rng.next() * 40.0).round()).collect(),
            )],
            ..BarChart::default()
        }),
    ));
    out.push((
        "Donut with many slices",
        Box::new(Donut {
            title: "Licence cost by tool".into(),
            slices: tools
                .iter()
                .take(12)
                .map(|t| Slice::new(*t, (rng.next() * 90_000.0).round()))
                .collect(),
            value_format: ValueFormat::Currency { code: "EUR".into() },
            center_label: Some("per year".into()),
            ..Donut::default()
        }),
    ));
    let mut nodes: Vec<Node> = tools
        .iter()
        .take(8)
        .enumerate()
        .map(|(i, t)| Node::new(format!("t{i}"), *t, NodeKind::Tool))
        .collect();
    let mut edges = Vec::new();
    for i in 0..6 {
        nodes.push(Node::new(
            format!("i{i}"),
            format!("{} → {}", tools[i], tools[i + 2]),
            NodeKind::Integration,
        ));
        edges.push(Edge::new(format!("t{i}"), format!("i{i}")));
        edges.push(Edge::new(format!("i{i}"), format!("t{}", i + 2)));
    }
    for (i, f) in [
        "Email",
        "Lifecycle stage",
        "Lead source",
        "Consent status",
        "Account tier",
    ]
    .iter()
    .enumerate()
    {
        nodes.push(Node::new(format!("f{i}"), *f, NodeKind::Field));
        edges.push(Edge::new(format!("t{}", 2 + i % 4), format!("f{i}")));
    }
    for (i, d) in ["Pipeline", "Attribution", "Consent audit"]
        .iter()
        .enumerate()
    {
        nodes.push(Node::new(format!("d{i}"), *d, NodeKind::Dashboard));
        edges.push(Edge::new(format!("f{i}"), format!("d{i}")));
        edges.push(Edge::new(format!("f{}", i + 2), format!("d{i}")));
    }
    for (i, a) in ["Welcome journey", "Re-permission"].iter().enumerate() {
        nodes.push(Node::new(format!("a{i}"), *a, NodeKind::Automation));
        edges.push(Edge::new(format!("f{}", i * 3), format!("a{i}")));
        edges.push(Edge::new(format!("a{i}"), "t1"));
    }
    out.push((
        "Larger stack graph",
        Box::new(Graph {
            title: "Martech stack".into(),
            nodes,
            edges,
            ..Graph::default()
        }),
    ));
    out.push((
        "Hostile labels",
        Box::new(BarChart {
            title: "<script>alert('x')</script> & \"friends\"".into(),
            categories: vec!["<b>bold</b>".into(), "Tom & Jerry".into(), "a\u{0}b".into()],
            series: vec![Series::new("<i>", vec![1.0, 2.0, 3.0])],
            ..BarChart::default()
        }),
    ));
    out.push((
        "Empty state",
        Box::new(LineChart {
            title: "Renewals due (none yet)".into(),
            ..LineChart::default()
        }),
    ));
    Ok(out)
}

fn small() -> Result<String, Box<dyn Error>> {
    let mut rng = Seeded(7);
    let mut html = String::from(
        "<table class=\"kpis\"><thead><tr><th>Tool</th><th>Trend (12 weeks)</th><th>Readiness</th></tr></thead><tbody>",
    );
    for (tool, score) in [
        ("Salesforce", 8.0),
        ("Marketo", 6.0),
        ("Segment", 4.0),
        ("Looker", 2.0),
    ] {
        let values: Vec<f64> = (0..12).map(|_| 20.0 + rng.next() * 30.0).collect();
        let spark = Sparkline {
            title: format!("{tool} weekly active users"),
            values,
            area: true,
            ..Sparkline::default()
        };
        let gauge = Gauge {
            title: "Readiness".into(),
            value: score,
            max: 8.0,
            ..Gauge::default()
        };
        let _ = write!(
            html,
            "<tr><td>{tool}</td><td>{}</td><td>{}</td></tr>",
            spark.render(),
            gauge.render()
        );
    }
    let pct = Gauge {
        title: "Consent coverage".into(),
        value: 0.62,
        max: 1.0,
        value_format: ValueFormat::Percent { decimals: 0 },
        ..Gauge::default()
    };
    let _ = write!(
        html,
        "<tr><td>All contacts</td><td></td><td>{}</td></tr></tbody></table>",
        pct.render()
    );
    Ok(html)
}

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: gallery OUTPUT.html")?;
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Keel charts</title><style>\
         body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1f2937}\
         main{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:20px;padding:24px;max-width:1400px}\
         section{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:8px 8px 12px}\
         section.wide{grid-column:1/-1}\
         h2{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:#6b7280;margin:6px 10px}\
         details{margin:4px 10px;font-size:12px;color:#6b7280}\
         .keel-chart-table{border-collapse:collapse;font-size:12px;margin-top:6px}\
         .keel-chart-table td,.keel-chart-table th{border:1px solid #e5e7eb;padding:2px 6px;text-align:right}\
         .kpis{border-collapse:collapse;width:100%;font-size:13px}.kpis td,.kpis th{padding:6px 10px;border-bottom:1px solid #eef0f3;text-align:left}\
         .kpis td:nth-child(2){width:140px}.kpis td:nth-child(3){width:300px}\
         .dark{background:#111827;border-color:#374151;--chart-text:#e5e7eb;--chart-muted:#9ca3af;--chart-grid:#374151;\
         --chart-axis:#6b7280;--chart-surface:#111827;--chart-track:#1f2937;--chart-1:#60a5fa;--chart-heat-1:#1e3a5f;\
         --chart-heat-2:#1d4ed8;--chart-heat-3:#3b82f6;--chart-heat-4:#93c5fd}\
         .dark h2{color:#9ca3af}</style></head><body><main>",
    );
    let all = charts()?;
    for (i, (name, chart)) in all.iter().enumerate() {
        let class = if name.starts_with("Stack graph")
            || name.starts_with("Calendar")
            || name.starts_with("Larger")
        {
            "wide"
        } else {
            ""
        };
        let _ = write!(
            html,
            "<section class=\"{class}\"><h2>{name}</h2>{}<details><summary>Data table</summary>{}</details></section>",
            chart.render(),
            chart.to_html_table()
        );
        if i == 1 {
            let _ = write!(
                html,
                "<section class=\"wide\"><h2>Sparklines and gauges</h2>{}</section>",
                small()?
            );
        }
    }
    for (name, chart) in all.iter().filter(|(n, _)| {
        n.starts_with("Grouped")
            || n.starts_with("Stack graph")
            || n.starts_with("Donut")
            || n.starts_with("Line")
    }) {
        let class = if name.starts_with("Stack graph") {
            "dark wide"
        } else {
            "dark"
        };
        let _ = write!(
            html,
            "<section class=\"{class}\"><h2>{name} — dark theme</h2>{}</section>",
            chart.render()
        );
    }
    html.push_str("</main></body></html>");
    std::fs::write(&path, html)?;
    eprintln!("wrote {path}");
    Ok(())
}
