//! Page-side shortcuts over `keel-charts` for the common "labelled values" charts.

use keel_charts::{BarChart, Chart, Orientation, Series};

fn chart(title: &str, data: &[(String, f64)], orientation: Orientation) -> Option<String> {
    if data.is_empty() {
        return None;
    }
    let chart = BarChart {
        title: title.to_string(),
        categories: data.iter().map(|(l, _)| l.clone()).collect(),
        series: vec![Series::new(title, data.iter().map(|(_, v)| *v).collect())],
        orientation,
        ..Default::default()
    };
    Some(chart.render())
}

/// A horizontal bar chart of labelled values, or `None` when there is nothing to show.
pub fn bars(title: &str, data: &[(String, f64)]) -> Option<String> {
    chart(title, data, Orientation::Horizontal)
}

/// A column chart of labelled values (e.g. a time series), or `None` when there is nothing to show.
pub fn columns(title: &str, data: &[(String, f64)]) -> Option<String> {
    chart(title, data, Orientation::Vertical)
}
