//! Line and area charts over time, with several series and a calendar-aware time axis.

use std::fmt::Write as _;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::format::ValueFormat;
use crate::svg::{self, Anchor, Font, MAX_SCALE, num, text, text_width};
use crate::table::html_table;
use crate::theme;
use crate::ticks::{nice_ticks, time_ticks};
use crate::{Chart, ChartError};

/// One observation: a value at an instant. NaN marks a gap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimePoint {
    /// When.
    pub at: DateTime<Utc>,
    /// The value; NaN breaks the line.
    pub value: f64,
}

/// A named line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSeries {
    /// Name shown in the legend and tooltips.
    pub name: String,
    /// Observations, in any order (they are sorted by time).
    pub points: Vec<TimePoint>,
}

impl TimeSeries {
    /// A series from a name and `(instant, value)` pairs.
    pub fn new(
        name: impl Into<String>,
        points: impl IntoIterator<Item = (DateTime<Utc>, f64)>,
    ) -> Self {
        TimeSeries {
            name: name.into(),
            points: points
                .into_iter()
                .map(|(at, value)| TimePoint { at, value })
                .collect(),
        }
    }

    fn sorted(&self) -> Vec<TimePoint> {
        let mut points = self.points.clone();
        points.sort_by_key(|p| p.at);
        points
    }
}

/// A line chart (or area chart) of values over time.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineChart {
    /// Title, drawn at the top and used as the accessible name.
    pub title: String,
    /// Accessible description; a summary of the data is generated when absent.
    pub description: Option<String>,
    /// The lines.
    pub series: Vec<TimeSeries>,
    /// Fill the area under each line.
    pub area: bool,
    /// How values are printed.
    pub value_format: ValueFormat,
}

const WIDTH: f64 = 640.0;
const PLOT_HEIGHT: f64 = 200.0;
/// Above this many points a series is drawn without point markers.
const MAX_MARKERS: usize = 60;

impl LineChart {
    /// Lists values that are not finite numbers (they render as gaps).
    pub fn check(&self) -> Vec<ChartError> {
        let mut problems = Vec::new();
        for (s, series) in self.series.iter().enumerate() {
            for (i, p) in series.points.iter().enumerate() {
                if !p.value.is_finite() {
                    problems.push(ChartError::NotFinite {
                        path: format!("series[{s}].points[{i}].value"),
                    });
                }
            }
        }
        problems
    }

    fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            "Line chart"
        } else {
            &self.title
        }
    }

    fn finite(&self) -> impl Iterator<Item = &TimePoint> {
        self.series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.value.is_finite())
    }

    fn summary(&self) -> String {
        if let Some(d) = &self.description {
            return d.clone();
        }
        let (Some(first), Some(last)) = (
            self.finite().map(|p| p.at).min(),
            self.finite().map(|p| p.at).max(),
        ) else {
            return "No data".into();
        };
        let mut out = format!(
            "{} of {} series from {} to {}.",
            if self.area {
                "Area chart"
            } else {
                "Line chart"
            },
            self.series.len(),
            first.format("%Y-%m-%d"),
            last.format("%Y-%m-%d")
        );
        for s in &self.series {
            let points: Vec<TimePoint> = s
                .sorted()
                .into_iter()
                .filter(|p| p.value.is_finite())
                .collect();
            let Some(latest) = points.last() else {
                continue;
            };
            let lo = points.iter().map(|p| p.value).fold(f64::INFINITY, f64::min);
            let hi = points
                .iter()
                .map(|p| p.value)
                .fold(f64::NEG_INFINITY, f64::max);
            let _ = write!(
                out,
                " {}: latest {}, low {}, high {}.",
                s.name,
                self.value_format.full(latest.value),
                self.value_format.full(lo),
                self.value_format.full(hi)
            );
        }
        out
    }
}

impl Chart for LineChart {
    fn render(&self) -> String {
        let (Some(mut t0), Some(mut t1)) = (
            self.finite().map(|p| p.at).min(),
            self.finite().map(|p| p.at).max(),
        ) else {
            return svg::empty_state(
                "line",
                &self.title,
                "Line chart",
                (WIDTH, 200.0),
                "No data to show",
            );
        };
        if t0 == t1 {
            t0 -= TimeDelta::days(1);
            t1 += TimeDelta::days(1);
        }
        let lo = self.finite().map(|p| p.value).fold(f64::INFINITY, f64::min);
        let hi = self
            .finite()
            .map(|p| p.value)
            .fold(f64::NEG_INFINITY, f64::max);
        let ticks = nice_ticks(lo.min(0.0), hi.max(0.0), 6);

        let mut body = String::new();
        let mut top = svg::title(&mut body, &self.title, WIDTH);
        if self.series.len() > 1 {
            let items: Vec<(String, String)> = self
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), theme::series_colour(i)))
                .collect();
            top += svg::legend(&mut body, &items, svg::PAD, top, WIDTH - 2.0 * svg::PAD) + 4.0;
        }
        top += 8.0;
        let tick_labels: Vec<String> = ticks
            .values
            .iter()
            .map(|v| self.value_format.tick(*v, ticks.step))
            .collect();
        let left = svg::PAD
            + tick_labels
                .iter()
                .map(|t| text_width(t, 11.0))
                .fold(0.0, f64::max)
            + 10.0;
        let right = WIDTH - svg::PAD - 20.0;
        let plot_w = right - left;
        let height = top + PLOT_HEIGHT + 24.0 + svg::PAD;
        let seconds = (t1 - t0).num_seconds().max(1) as f64;
        let x = |at: DateTime<Utc>| left + (at - t0).num_seconds() as f64 / seconds * plot_w;
        let span = ticks.max - ticks.min;
        let y = |v: f64| top + (ticks.max - v) / span * PLOT_HEIGHT;

        body.push_str("<g class=\"keel-chart-grid\">");
        for (v, label) in ticks.values.iter().zip(&tick_labels) {
            let _ = write!(
                body,
                "<line x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{}\" shape-rendering=\"crispEdges\"/>",
                num(left),
                num(right),
                if *v == 0.0 { theme::AXIS } else { theme::GRID },
                y = num(y(*v)),
            );
            text(
                &mut body,
                left - 8.0,
                y(*v) + 4.0,
                &Font::new(11.0, theme::MUTED).anchor(Anchor::End),
                label,
                label,
            );
        }
        let max_time_ticks = (plot_w / 80.0).floor() as usize;
        for tick in time_ticks(t0, t1, max_time_ticks) {
            let tx = x(tick.at);
            let _ = write!(
                body,
                "<line x1=\"{tx}\" x2=\"{tx}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\"/>",
                num(top + PLOT_HEIGHT),
                num(top + PLOT_HEIGHT + 4.0),
                theme::AXIS,
                tx = num(tx),
            );
            text(
                &mut body,
                tx,
                top + PLOT_HEIGHT + 18.0,
                &Font::new(11.0, theme::MUTED).anchor(Anchor::Middle),
                &tick.label,
                &tick.label,
            );
        }
        body.push_str("</g>");

        let baseline = y(0.0f64.clamp(ticks.min, ticks.max));
        for (i, series) in self.series.iter().enumerate() {
            let colour = theme::series_colour(i);
            let points = series.sorted();
            let segments: Vec<Vec<(f64, f64)>> = points
                .split(|p| !p.value.is_finite())
                .filter(|seg| !seg.is_empty())
                .map(|seg| seg.iter().map(|p| (x(p.at), y(p.value))).collect())
                .collect();
            let _ = write!(
                body,
                "<g class=\"keel-chart-series\"><title>{}</title>",
                svg::escape(&series.name)
            );
            for seg in &segments {
                if self.area && seg.len() > 1 {
                    let (Some(first), Some(last)) = (seg.first(), seg.last()) else {
                        continue;
                    };
                    let mut d = svg::polyline_path(seg);
                    let _ = write!(
                        d,
                        " L{} {} L{} {} Z",
                        num(last.0),
                        num(baseline),
                        num(first.0),
                        num(baseline)
                    );
                    let _ = write!(
                        body,
                        "<path d=\"{d}\" fill=\"{colour}\" fill-opacity=\"0.14\" stroke=\"none\"/>"
                    );
                }
                if seg.len() > 1 {
                    let _ = write!(
                        body,
                        "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>",
                        svg::polyline_path(seg)
                    );
                }
            }
            let finite = points.iter().filter(|p| p.value.is_finite()).count();
            for p in points.iter().filter(|p| p.value.is_finite()) {
                let lonely = segments
                    .iter()
                    .any(|s| s.len() == 1 && (s[0].0 - x(p.at)).abs() < 1e-9);
                if finite <= MAX_MARKERS || lonely {
                    let _ = write!(
                        body,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{colour}\" stroke=\"{}\" stroke-width=\"1.5\"><title>{}</title></circle>",
                        num(x(p.at)),
                        num(y(p.value)),
                        theme::SURFACE,
                        svg::escape(&format!(
                            "{} · {}: {}",
                            series.name,
                            p.at.format("%b %-d, %Y"),
                            self.value_format.full(p.value)
                        ))
                    );
                }
            }
            body.push_str("</g>");
        }

        let mut out = String::new();
        svg::open(
            &mut out,
            "line",
            (WIDTH, height),
            self.name(),
            &self.summary(),
            Some(WIDTH * MAX_SCALE),
        );
        out.push_str(&body);
        svg::close(&mut out);
        out
    }

    fn to_html_table(&self) -> String {
        let mut instants: Vec<DateTime<Utc>> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.at))
            .collect();
        instants.sort();
        instants.dedup();
        let mut headers = vec!["Date".to_string()];
        headers.extend(self.series.iter().map(|s| s.name.clone()));
        let rows: Vec<Vec<String>> = instants
            .iter()
            .map(|at| {
                let mut row = vec![at.format("%Y-%m-%d %H:%M").to_string()];
                row.extend(self.series.iter().map(|s| {
                    s.points
                        .iter()
                        .find(|p| p.at == *at)
                        .map(|p| self.value_format.full(p.value))
                        .unwrap_or_default()
                }));
                row
            })
            .collect();
        html_table(self.name(), &headers, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn gaps_split_the_line() {
        let chart = LineChart {
            series: vec![TimeSeries::new(
                "s",
                [
                    (at(1), 1.0),
                    (at(2), 2.0),
                    (at(3), f64::NAN),
                    (at(4), 3.0),
                    (at(5), 4.0),
                ],
            )],
            ..LineChart::default()
        };
        let svg = chart.render();
        assert_eq!(svg.matches("stroke-width=\"2\"").count(), 2);
        assert_eq!(chart.check().len(), 1);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(LineChart::default().render().contains("No data to show"));
        let one = LineChart {
            series: vec![TimeSeries::new("s", [(at(1), 5.0)])],
            ..LineChart::default()
        };
        let svg = one.render();
        assert!(svg.contains("<circle"));
        assert!(!svg.contains("NaN"));
        let zeros = LineChart {
            series: vec![TimeSeries::new("s", [(at(1), 0.0), (at(9), 0.0)])],
            area: true,
            ..LineChart::default()
        };
        assert!(zeros.render().contains("<path"));
        let neg = LineChart {
            series: vec![TimeSeries::new("s", [(at(1), -3.0), (at(9), -8.0)])],
            area: true,
            ..LineChart::default()
        };
        assert!(!neg.render().contains("NaN"));
    }

    #[test]
    fn table_aligns_series_by_instant() {
        let chart = LineChart {
            title: "Sessions".into(),
            series: vec![
                TimeSeries::new("a", [(at(1), 1.0)]),
                TimeSeries::new("b", [(at(2), 2.0)]),
            ],
            ..LineChart::default()
        };
        let t = chart.to_html_table();
        assert!(t.contains("<th scope=\"row\">2026-03-01 00:00</th><td>1</td><td></td>"));
    }
}
