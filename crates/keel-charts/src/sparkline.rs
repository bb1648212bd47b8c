//! Sparklines: word-sized line charts for tables and cards, without axes.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::Chart;
use crate::format::ValueFormat;
use crate::svg::{self, num};
use crate::table::html_table;
use crate::theme;

/// A small trend line of evenly spaced values; the last value is marked with a dot.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sparkline {
    /// Accessible name (not drawn), e.g. "Weekly sign-ups".
    pub title: String,
    /// Values in order; NaN breaks the line.
    pub values: Vec<f64>,
    /// Fill the area under the line.
    pub area: bool,
    /// How values are printed in the description and table.
    pub value_format: ValueFormat,
}

const WIDTH: f64 = 120.0;
const HEIGHT: f64 = 32.0;
const INSET: f64 = 3.0;

impl Sparkline {
    fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            "Trend"
        } else {
            &self.title
        }
    }

    fn summary(&self, finite: &[f64]) -> String {
        let (Some(last), Some(first)) = (finite.last(), finite.first()) else {
            return "No data".into();
        };
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let f = &self.value_format;
        format!(
            "{} values from {} to {}; low {}, high {}.",
            finite.len(),
            f.full(*first),
            f.full(*last),
            f.full(lo),
            f.full(hi)
        )
    }
}

impl Chart for Sparkline {
    fn render(&self) -> String {
        let finite: Vec<f64> = self
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let mut out = String::new();
        svg::open(
            &mut out,
            "sparkline",
            (WIDTH, HEIGHT),
            self.name(),
            &self.summary(&finite),
            Some(WIDTH),
        );
        if finite.is_empty() {
            let _ = write!(
                out,
                "<line x1=\"{INSET}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{}\" stroke-dasharray=\"3 3\"/>",
                num(WIDTH - INSET),
                theme::GRID,
                y = num(HEIGHT / 2.0)
            );
            svg::close(&mut out);
            return out;
        }
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let span = hi - lo;
        let n = self.values.len();
        let x = |i: usize| {
            if n <= 1 {
                WIDTH / 2.0
            } else {
                INSET + i as f64 / (n - 1) as f64 * (WIDTH - 2.0 * INSET - 3.0)
            }
        };
        let y = |v: f64| {
            if span <= 0.0 {
                HEIGHT / 2.0
            } else {
                INSET + (hi - v) / span * (HEIGHT - 2.0 * INSET)
            }
        };
        let colour = theme::series_colour(0);
        let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, v) in self.values.iter().enumerate() {
            match segments.last_mut() {
                Some(seg) if v.is_finite() => seg.push((x(i), y(*v))),
                Some(seg) if !seg.is_empty() => segments.push(Vec::new()),
                _ => {}
            }
        }
        for seg in segments.iter().filter(|s| s.len() > 1) {
            if self.area
                && let (Some(first), Some(last)) = (seg.first(), seg.last())
            {
                let _ = write!(
                    out,
                    "<path d=\"{} L{} {b} L{} {b} Z\" fill=\"{colour}\" fill-opacity=\"0.15\"/>",
                    svg::polyline_path(seg),
                    num(last.0),
                    num(first.0),
                    b = num(HEIGHT - INSET + 1.0)
                );
            }
            let _ = write!(
                out,
                "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>",
                svg::polyline_path(seg)
            );
        }
        if let Some((i, v)) = self
            .values
            .iter()
            .enumerate()
            .rev()
            .find(|(_, v)| v.is_finite())
        {
            let _ = write!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{colour}\"/>",
                num(x(i)),
                num(y(*v))
            );
        }
        svg::close(&mut out);
        out
    }

    fn to_html_table(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| vec![(i + 1).to_string(), self.value_format.full(*v)])
            .collect();
        html_table(self.name(), &["#".to_string(), "Value".to_string()], &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_sparklines() {
        for values in [
            vec![],
            vec![f64::NAN],
            vec![3.0],
            vec![0.0, 0.0, 0.0],
            vec![-1.0, f64::NAN, -3.0, 2.0],
        ] {
            let svg = Sparkline {
                values,
                area: true,
                ..Sparkline::default()
            }
            .render();
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(!svg.contains("NaN"));
        }
    }
}
