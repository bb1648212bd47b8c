//! Bar charts: vertical or horizontal, grouped or stacked, with value labels.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::format::ValueFormat;
use crate::svg::{self, Anchor, Font, MAX_SCALE, num, text, text_width, truncate};
use crate::table::html_table;
use crate::theme;
use crate::ticks::{Ticks, nice_ticks};
use crate::{Chart, ChartError};

/// A named row of values, one per category. NaN marks a missing value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// Name shown in the legend and tooltips.
    pub name: String,
    /// One value per category, in category order.
    pub values: Vec<f64>,
}

impl Series {
    /// A series from a name and its values.
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Self {
        Series {
            name: name.into(),
            values,
        }
    }
}

/// Direction of the bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Columns rising from a horizontal category axis.
    #[default]
    Vertical,
    /// Bars growing right from a vertical category axis; best for long category names.
    Horizontal,
}

/// A bar chart of categories × series.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BarChart {
    /// Title, drawn at the top and used as the accessible name.
    pub title: String,
    /// Accessible description; a summary of the data is generated when absent.
    pub description: Option<String>,
    /// Category labels, in display order.
    pub categories: Vec<String>,
    /// The series; each has one value per category.
    pub series: Vec<Series>,
    /// Vertical columns or horizontal bars.
    pub orientation: Orientation,
    /// Stack series on top of each other (negative values stack downwards) instead of side by
    /// side.
    pub stacked: bool,
    /// How values are printed.
    pub value_format: ValueFormat,
    /// Do not print values on the bars.
    pub hide_values: bool,
}

const WIDTH: f64 = 640.0;
const PLOT_HEIGHT: f64 = 220.0;
const MAX_BAR: f64 = 64.0;

/// One drawn rectangle, in value space.
struct Bar {
    category: usize,
    series: usize,
    from: f64,
    to: f64,
    value: f64,
}

impl BarChart {
    /// Lists inputs that render but are probably mistakes: series of the wrong length and
    /// values that are not finite numbers.
    pub fn check(&self) -> Vec<ChartError> {
        let mut problems = Vec::new();
        for (index, s) in self.series.iter().enumerate() {
            if s.values.len() != self.categories.len() {
                problems.push(ChartError::SeriesLength {
                    index,
                    name: s.name.clone(),
                    got: s.values.len(),
                    expected: self.categories.len(),
                });
            }
            for (i, v) in s.values.iter().enumerate() {
                if !v.is_finite() {
                    problems.push(ChartError::NotFinite {
                        path: format!("series[{index}].values[{i}]"),
                    });
                }
            }
        }
        problems
    }

    fn value(&self, series: usize, category: usize) -> Option<f64> {
        self.series
            .get(series)?
            .values
            .get(category)
            .copied()
            .filter(|v| v.is_finite())
    }

    fn bars(&self) -> Vec<Bar> {
        let mut bars = Vec::new();
        for c in 0..self.categories.len() {
            let (mut up, mut down) = (0.0, 0.0);
            for s in 0..self.series.len() {
                let Some(value) = self.value(s, c) else {
                    continue;
                };
                let (from, to) = if !self.stacked {
                    (0.0, value)
                } else if value >= 0.0 {
                    up += value;
                    (up - value, up)
                } else {
                    down += value;
                    (down - value, down)
                };
                bars.push(Bar {
                    category: c,
                    series: s,
                    from,
                    to,
                    value,
                });
            }
        }
        bars
    }

    fn total(&self, category: usize) -> Option<f64> {
        let values: Vec<f64> = (0..self.series.len())
            .filter_map(|s| self.value(s, category))
            .collect();
        if values.is_empty() {
            None
        } else {
            Some(values.iter().sum())
        }
    }

    fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            "Bar chart"
        } else {
            &self.title
        }
    }

    fn summary(&self) -> String {
        if let Some(d) = &self.description {
            return d.clone();
        }
        let mut best: Option<(f64, usize, usize)> = None;
        for c in 0..self.categories.len() {
            for s in 0..self.series.len() {
                if let Some(v) = self.value(s, c)
                    && best.is_none_or(|(b, _, _)| v > b)
                {
                    best = Some((v, s, c));
                }
            }
        }
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        let mut out = format!(
            "{} chart of {} categories",
            match (self.stacked, self.orientation) {
                (true, _) => "Stacked bar",
                (false, Orientation::Vertical) => "Column",
                (false, Orientation::Horizontal) => "Bar",
            },
            self.categories.len()
        );
        if names.len() > 1 {
            let _ = write!(out, " and {} series ({})", names.len(), names.join(", "));
        }
        if let Some((v, s, c)) = best {
            let series = if names.len() > 1 {
                format!("{} in ", names.get(s).copied().unwrap_or_default())
            } else {
                String::new()
            };
            let _ = write!(
                out,
                ". Highest: {series}{} at {}.",
                self.categories
                    .get(c)
                    .map(String::as_str)
                    .unwrap_or_default(),
                self.value_format.full(v)
            );
        }
        out
    }
}

impl Chart for BarChart {
    fn render(&self) -> String {
        let bars = self.bars();
        if self.categories.is_empty() || bars.is_empty() {
            return svg::empty_state(
                "bar",
                &self.title,
                "Bar chart",
                (WIDTH, 200.0),
                "No data to show",
            );
        }
        let (lo, hi) = bars.iter().fold((0.0f64, 0.0f64), |(lo, hi), b| {
            (lo.min(b.from).min(b.to), hi.max(b.from).max(b.to))
        });
        let ticks = nice_ticks(lo, hi, 6);
        match self.orientation {
            Orientation::Vertical => self.render_vertical(&bars, &ticks),
            Orientation::Horizontal => self.render_horizontal(&bars, &ticks),
        }
    }

    fn to_html_table(&self) -> String {
        let mut headers = vec![String::new()];
        headers.extend(self.series.iter().map(|s| s.name.clone()));
        if self.stacked && self.series.len() > 1 {
            headers.push("Total".into());
        }
        let rows: Vec<Vec<String>> = self
            .categories
            .iter()
            .enumerate()
            .map(|(c, label)| {
                let mut row = vec![label.clone()];
                row.extend(
                    (0..self.series.len())
                        .map(|s| self.value_format.full(self.value(s, c).unwrap_or(f64::NAN))),
                );
                if self.stacked && self.series.len() > 1 {
                    row.push(self.value_format.full(self.total(c).unwrap_or(f64::NAN)));
                }
                row
            })
            .collect();
        html_table(self.name(), &headers, &rows)
    }
}

impl BarChart {
    /// Title and legend; returns the y where the plot may start.
    fn header(&self, out: &mut String) -> f64 {
        let mut top = svg::title(out, &self.title, WIDTH);
        if self.series.len() > 1 {
            let items: Vec<(String, String)> = self
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), theme::series_colour(i)))
                .collect();
            top += svg::legend(out, &items, svg::PAD, top, WIDTH - 2.0 * svg::PAD) + 8.0;
        }
        top
    }

    fn tooltip(&self, bar: &Bar) -> String {
        let category = self
            .categories
            .get(bar.category)
            .map(String::as_str)
            .unwrap_or_default();
        let value = self.value_format.full(bar.value);
        match self.series.get(bar.series) {
            Some(s) if self.series.len() > 1 => format!("{category} · {}: {value}", s.name),
            _ => format!("{category}: {value}"),
        }
    }

    /// Position and thickness of a bar across the category axis, given the band of its
    /// category.
    fn slot(&self, band_start: f64, band: f64, series: usize, max_bar: f64) -> (f64, f64) {
        let n = self.series.len().max(1) as f64;
        if self.stacked || n <= 1.0 {
            let thick = (band * 0.62).min(max_bar);
            (band_start + (band - thick) / 2.0, thick)
        } else {
            let gap = 2.0;
            let thick = ((band * 0.78 - gap * (n - 1.0)) / n).min(max_bar).max(1.0);
            let group = thick * n + gap * (n - 1.0);
            (
                band_start + (band - group) / 2.0 + series as f64 * (thick + gap),
                thick,
            )
        }
    }

    fn write_bar(
        out: &mut String,
        (x, y, w, h): (f64, f64, f64, f64),
        colour: &str,
        tooltip: &str,
    ) {
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\" fill=\"{colour}\"><title>{}</title></rect>",
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            svg::escape(tooltip)
        );
    }

    fn render_vertical(&self, bars: &[Bar], ticks: &Ticks) -> String {
        let n = self.categories.len();
        let mut body = String::new();
        let top = self.header(&mut body) + 16.0;
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
        let plot_w = WIDTH - left - svg::PAD;
        let band = plot_w / n as f64;
        let widest = self
            .categories
            .iter()
            .map(|c| text_width(c, 12.0))
            .fold(0.0, f64::max);
        let rotate = widest > band - 6.0 && band < 56.0;
        let label_room = if rotate {
            widest.min(110.0) * 0.64 + 22.0
        } else {
            26.0
        };
        let height = top + PLOT_HEIGHT + label_room + svg::PAD;
        let span = ticks.max - ticks.min;
        let y = |v: f64| top + (ticks.max - v) / span * PLOT_HEIGHT;

        body.push_str("<g class=\"keel-chart-grid\">");
        for (v, label) in ticks.values.iter().zip(&tick_labels) {
            let _ = write!(
                body,
                "<line x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{}\" shape-rendering=\"crispEdges\"/>",
                num(left),
                num(WIDTH - svg::PAD),
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
        body.push_str("</g><g class=\"keel-chart-bars\">");
        for bar in bars {
            let (x, w) = self.slot(left + bar.category as f64 * band, band, bar.series, MAX_BAR);
            let (y0, y1) = (y(bar.from), y(bar.to));
            let rect = (x, y0.min(y1), w, (y0 - y1).abs());
            Self::write_bar(
                &mut body,
                rect,
                &theme::series_colour(bar.series),
                &self.tooltip(bar),
            );
        }
        body.push_str("</g>");
        if !self.hide_values {
            body.push_str("<g class=\"keel-chart-values\">");
            for bar in bars {
                let (x, w) =
                    self.slot(left + bar.category as f64 * band, band, bar.series, MAX_BAR);
                let label = self.value_format.short(bar.value);
                let lw = text_width(&label, 11.0);
                if self.stacked && self.series.len() > 1 {
                    let h = (y(bar.from) - y(bar.to)).abs();
                    if h >= 16.0 && lw <= w - 4.0 {
                        let cy = (y(bar.from) + y(bar.to)) / 2.0 + 4.0;
                        text(
                            &mut body,
                            x + w / 2.0,
                            cy,
                            &Font::new(11.0, &theme::on_series_colour(bar.series))
                                .anchor(Anchor::Middle),
                            &label,
                            &label,
                        );
                    }
                } else if lw <= w + 8.0 {
                    let ly = if bar.value >= 0.0 {
                        y(bar.to) - 5.0
                    } else {
                        y(bar.to) + 13.0
                    };
                    text(
                        &mut body,
                        x + w / 2.0,
                        ly,
                        &Font::new(11.0, theme::TEXT).anchor(Anchor::Middle),
                        &label,
                        &label,
                    );
                }
            }
            if self.stacked && self.series.len() > 1 {
                for c in 0..n {
                    let Some(total) = self.total(c) else { continue };
                    let (x, w) = self.slot(left + c as f64 * band, band, 0, MAX_BAR);
                    let label = self.value_format.short(total);
                    if text_width(&label, 11.0) > band {
                        continue;
                    }
                    let end = bars
                        .iter()
                        .filter(|b| b.category == c)
                        .fold(0.0f64, |m, b| {
                            if total >= 0.0 {
                                m.max(b.to)
                            } else {
                                m.min(b.to)
                            }
                        });
                    let ly = if total >= 0.0 {
                        y(end) - 5.0
                    } else {
                        y(end) + 13.0
                    };
                    text(
                        &mut body,
                        x + w / 2.0,
                        ly,
                        &Font::new(11.0, theme::TEXT).bold().anchor(Anchor::Middle),
                        &label,
                        &label,
                    );
                }
            }
            body.push_str("</g>");
        }
        body.push_str("<g class=\"keel-chart-categories\">");
        let label_y = top + PLOT_HEIGHT + 18.0;
        // With very many categories, label every k-th one so rotated labels do not overlap.
        let stride = if rotate {
            (15.0 / band).ceil().max(1.0) as usize
        } else {
            1
        };
        for (c, label) in self.categories.iter().enumerate().step_by(stride) {
            let cx = left + (c as f64 + 0.5) * band;
            if rotate {
                let shown = truncate(label, 110.0, 12.0);
                let _ = write!(
                    body,
                    "<g transform=\"translate({} {}) rotate(-40)\">",
                    num(cx + 4.0),
                    num(label_y - 6.0)
                );
                text(
                    &mut body,
                    0.0,
                    0.0,
                    &Font::new(12.0, theme::MUTED).anchor(Anchor::End),
                    &shown,
                    label,
                );
                body.push_str("</g>");
            } else {
                let shown = truncate(label, band - 4.0, 12.0);
                text(
                    &mut body,
                    cx,
                    label_y,
                    &Font::new(12.0, theme::MUTED).anchor(Anchor::Middle),
                    &shown,
                    label,
                );
            }
        }
        body.push_str("</g>");

        let mut out = String::new();
        svg::open(
            &mut out,
            "bar",
            (WIDTH, height),
            self.name(),
            &self.summary(),
            Some(WIDTH * MAX_SCALE),
        );
        out.push_str(&body);
        svg::close(&mut out);
        out
    }

    fn render_horizontal(&self, bars: &[Bar], ticks: &Ticks) -> String {
        let n = self.categories.len();
        let ns = self.series.len().max(1);
        let mut body = String::new();
        let top = self.header(&mut body) + 4.0;
        let widest = self
            .categories
            .iter()
            .map(|c| text_width(c, 12.0))
            .fold(0.0, f64::max);
        let label_w = widest.min(WIDTH * 0.3);
        let left = svg::PAD + label_w + 10.0;
        let value_room = if self.hide_values {
            8.0
        } else if self.stacked && ns > 1 {
            (0..n)
                .filter_map(|c| self.total(c))
                .map(|t| text_width(&self.value_format.short(t), 11.0))
                .fold(0.0, f64::max)
                + 10.0
        } else {
            bars.iter()
                .map(|b| text_width(&self.value_format.short(b.value), 11.0))
                .fold(0.0, f64::max)
                + 10.0
        };
        let plot_w = WIDTH - left - svg::PAD - value_room;
        let band = if self.stacked || ns == 1 {
            30.0
        } else {
            ns as f64 * 15.0 + 12.0
        };
        let plot_h = band * n as f64;
        let height = top + plot_h + 22.0 + svg::PAD;
        let span = ticks.max - ticks.min;
        let x = |v: f64| left + (v - ticks.min) / span * plot_w;

        body.push_str("<g class=\"keel-chart-grid\">");
        for v in &ticks.values {
            let label = self.value_format.tick(*v, ticks.step);
            let _ = write!(
                body,
                "<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" shape-rendering=\"crispEdges\"/>",
                num(top),
                num(top + plot_h),
                if *v == 0.0 { theme::AXIS } else { theme::GRID },
                x = num(x(*v)),
            );
            text(
                &mut body,
                x(*v),
                top + plot_h + 16.0,
                &Font::new(11.0, theme::MUTED).anchor(Anchor::Middle),
                &label,
                &label,
            );
        }
        body.push_str("</g><g class=\"keel-chart-categories\">");
        for (c, label) in self.categories.iter().enumerate() {
            let shown = truncate(label, label_w, 12.0);
            let cy = top + (c as f64 + 0.5) * band + 4.0;
            text(
                &mut body,
                left - 10.0,
                cy,
                &Font::new(12.0, theme::TEXT).anchor(Anchor::End),
                &shown,
                label,
            );
        }
        body.push_str("</g><g class=\"keel-chart-bars\">");
        for bar in bars {
            let (y, h) = self.slot(top + bar.category as f64 * band, band, bar.series, 22.0);
            let (x0, x1) = (x(bar.from), x(bar.to));
            Self::write_bar(
                &mut body,
                (x0.min(x1), y, (x1 - x0).abs(), h),
                &theme::series_colour(bar.series),
                &self.tooltip(bar),
            );
        }
        body.push_str("</g>");
        if !self.hide_values {
            body.push_str("<g class=\"keel-chart-values\">");
            for bar in bars {
                let (y, h) = self.slot(top + bar.category as f64 * band, band, bar.series, 22.0);
                let label = self.value_format.short(bar.value);
                let lw = text_width(&label, 11.0);
                let cy = y + h / 2.0 + 4.0;
                if self.stacked && ns > 1 {
                    let w = (x(bar.to) - x(bar.from)).abs();
                    if lw <= w - 6.0 && h >= 12.0 {
                        let cx = (x(bar.from) + x(bar.to)) / 2.0;
                        text(
                            &mut body,
                            cx,
                            cy,
                            &Font::new(11.0, &theme::on_series_colour(bar.series))
                                .anchor(Anchor::Middle),
                            &label,
                            &label,
                        );
                    }
                } else if bar.value >= 0.0 {
                    text(
                        &mut body,
                        x(bar.to) + 5.0,
                        cy,
                        &Font::new(11.0, theme::TEXT),
                        &label,
                        &label,
                    );
                } else {
                    text(
                        &mut body,
                        x(bar.to) - 5.0,
                        cy,
                        &Font::new(11.0, theme::TEXT).anchor(Anchor::End),
                        &label,
                        &label,
                    );
                }
            }
            if self.stacked && ns > 1 {
                for c in 0..n {
                    let Some(total) = self.total(c) else { continue };
                    let (y, h) = self.slot(top + c as f64 * band, band, 0, 22.0);
                    let end = bars
                        .iter()
                        .filter(|b| b.category == c)
                        .fold(0.0f64, |m, b| m.max(b.to));
                    let label = self.value_format.short(total);
                    text(
                        &mut body,
                        x(end) + 5.0,
                        y + h / 2.0 + 4.0,
                        &Font::new(11.0, theme::TEXT).bold(),
                        &label,
                        &label,
                    );
                }
            }
            body.push_str("</g>");
        }

        let mut out = String::new();
        svg::open(
            &mut out,
            "bar",
            (WIDTH, height),
            self.name(),
            &self.summary(),
            Some(WIDTH * MAX_SCALE),
        );
        out.push_str(&body);
        svg::close(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> BarChart {
        BarChart {
            title: "Requests".into(),
            categories: vec!["Email".into(), "Web".into(), "Paid".into()],
            series: vec![
                Series::new("Open", vec![3.0, 5.0, 1.0]),
                Series::new("Done", vec![2.0, f64::NAN, 4.0]),
            ],
            ..BarChart::default()
        }
    }

    #[test]
    fn one_rect_per_finite_value() {
        let svg = chart().render();
        assert_eq!(
            svg.matches("<rect").count(),
            5 + 2,
            "5 bars and 2 legend swatches"
        );
    }

    #[test]
    fn stacking_accumulates_and_splits_signs() {
        let c = BarChart {
            categories: vec!["A".into()],
            series: vec![
                Series::new("x", vec![2.0]),
                Series::new("y", vec![-1.0]),
                Series::new("z", vec![3.0]),
            ],
            stacked: true,
            ..BarChart::default()
        };
        let spans: Vec<(f64, f64)> = c.bars().iter().map(|b| (b.from, b.to)).collect();
        assert_eq!(spans, vec![(0.0, 2.0), (0.0, -1.0), (2.0, 5.0)]);
        assert_eq!(c.total(0), Some(4.0));
    }

    #[test]
    fn degenerate_inputs_render_without_panicking() {
        let empty = BarChart::default().render();
        assert!(empty.contains("No data to show"));
        let nan = BarChart {
            categories: vec!["A".into()],
            series: vec![Series::new("x", vec![f64::NAN])],
            ..BarChart::default()
        };
        assert!(nan.render().contains("No data to show"));
        let zeros = BarChart {
            categories: vec!["A".into(), "B".into()],
            series: vec![Series::new("x", vec![0.0, 0.0])],
            ..BarChart::default()
        };
        assert!(zeros.render().contains("<rect"));
        let short = BarChart {
            categories: vec!["A".into(), "B".into()],
            series: vec![Series::new("x", vec![1.0])],
            ..BarChart::default()
        };
        assert_eq!(short.check().len(), 1);
        assert!(short.render().contains("<svg"));
        for orientation in [Orientation::Vertical, Orientation::Horizontal] {
            let neg = BarChart {
                categories: vec!["A".into(), "B".into()],
                series: vec![
                    Series::new("x", vec![-5.0, 3.0]),
                    Series::new("y", vec![-1.0, -2.0]),
                ],
                orientation,
                stacked: true,
                ..BarChart::default()
            };
            assert!(!neg.render().contains("NaN"));
        }
    }

    #[test]
    fn crowded_category_labels_are_thinned() {
        let n = 120;
        let chart = BarChart {
            categories: (0..n).map(|i| format!("Category {i}")).collect(),
            series: vec![Series::new("x", (0..n).map(f64::from).collect())],
            ..BarChart::default()
        };
        let svg = chart.render();
        assert!(svg.contains(">Category 0<") && !svg.contains(">Category 1<"));
        let shown = svg.matches("rotate(-40)").count();
        assert!((20..=40).contains(&shown), "{shown} labels");
    }

    #[test]
    fn table_lists_every_value() {
        let t = chart().to_html_table();
        assert!(t.contains("<caption>Requests</caption>"));
        assert!(t.contains("<th scope=\"row\">Web</th><td>5</td><td>–</td>"));
    }
}
