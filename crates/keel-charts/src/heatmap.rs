//! Heatmaps: a grid of rows × columns coloured by value, including a calendar layout (weeks ×
//! days) for campaign calendars and utilisation.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::format::ValueFormat;
use crate::svg::{self, Anchor, Font, num, text, text_width, truncate};
use crate::table::html_table;
use crate::theme;
use crate::{Chart, ChartError};

/// A grid of values: `values[row][column]`. NaN or a missing cell means "no data", which is
/// drawn differently from zero.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Heatmap {
    /// Title, drawn at the top and used as the accessible name.
    pub title: String,
    /// Accessible description; a summary is generated when absent.
    pub description: Option<String>,
    /// Row labels, top to bottom (e.g. Mon … Sun).
    pub rows: Vec<String>,
    /// Column labels, left to right (e.g. week starts); labels that would collide are skipped.
    pub columns: Vec<String>,
    /// One row of values per row label.
    pub values: Vec<Vec<f64>>,
    /// How values are printed.
    pub value_format: ValueFormat,
    /// For calendars: the date of the top-left cell. Cell (row, column) is then the date
    /// `start + 7 × column + row` days, which tooltips show.
    pub start: Option<NaiveDate>,
}

const WIDTH: f64 = 640.0;
const MIN_CELL: f64 = 11.0;
const MAX_CELL: f64 = 20.0;
/// Calendars longer than this many weeks keep only the most recent weeks.
pub const MAX_WEEKS: usize = 106;

impl Heatmap {
    /// A calendar of weeks (columns, starting Monday) × days (rows, Mon … Sun) from dated
    /// values. Values on the same date are added; dates without a value are "no data". Only the
    /// last [`MAX_WEEKS`] weeks are kept.
    pub fn calendar(title: impl Into<String>, days: &[(NaiveDate, f64)]) -> Heatmap {
        let mut chart = Heatmap {
            title: title.into(),
            rows: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                .iter()
                .map(|d| d.to_string())
                .collect(),
            ..Heatmap::default()
        };
        let (Some(first), Some(last)) = (
            days.iter().map(|d| d.0).min(),
            days.iter().map(|d| d.0).max(),
        ) else {
            return chart;
        };
        let monday =
            |d: NaiveDate| d - TimeDelta::days(i64::from(d.weekday().num_days_from_monday()));
        let end = monday(last);
        let start = monday(first).max(end - TimeDelta::weeks(MAX_WEEKS as i64 - 1));
        let weeks = ((end - start).num_weeks() + 1).max(1) as usize;
        chart.columns = (0..weeks)
            .map(|w| {
                (start + TimeDelta::weeks(w as i64))
                    .format("%b %-d")
                    .to_string()
            })
            .collect();
        chart.values = vec![vec![f64::NAN; weeks]; 7];
        for (date, value) in days {
            if *date < start || !value.is_finite() {
                continue;
            }
            let offset = (*date - start).num_days() as usize;
            if let Some(cell) = chart
                .values
                .get_mut(offset % 7)
                .and_then(|row| row.get_mut(offset / 7))
            {
                *cell = if cell.is_nan() { *value } else { *cell + value };
            }
        }
        chart.start = Some(start);
        chart
    }

    /// Lists rows of the wrong length.
    pub fn check(&self) -> Vec<ChartError> {
        self.values
            .iter()
            .enumerate()
            .filter(|(_, row)| row.len() != self.columns.len())
            .map(|(index, row)| ChartError::RowLength {
                index,
                got: row.len(),
                expected: self.columns.len(),
            })
            .collect()
    }

    fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            "Heatmap"
        } else {
            &self.title
        }
    }

    fn value(&self, row: usize, column: usize) -> Option<f64> {
        self.values
            .get(row)?
            .get(column)
            .copied()
            .filter(|v| v.is_finite())
    }

    fn finite(&self) -> impl Iterator<Item = f64> + '_ {
        self.values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
    }

    fn cell_name(&self, row: usize, column: usize) -> String {
        let row_label = self.rows.get(row).map(String::as_str).unwrap_or_default();
        match self.start {
            Some(start) => (start + TimeDelta::days((column * 7 + row) as i64))
                .format("%a %b %-d, %Y")
                .to_string(),
            None => format!(
                "{row_label}, {}",
                self.columns
                    .get(column)
                    .map(String::as_str)
                    .unwrap_or_default()
            ),
        }
    }

    fn summary(&self) -> String {
        if let Some(d) = &self.description {
            return d.clone();
        }
        let mut best: Option<(f64, usize, usize)> = None;
        for r in 0..self.rows.len() {
            for c in 0..self.columns.len() {
                if let Some(v) = self.value(r, c)
                    && best.is_none_or(|b| v > b.0)
                {
                    best = Some((v, r, c));
                }
            }
        }
        match best {
            Some((v, r, c)) => format!(
                "Heatmap of {} rows by {} columns. Highest: {} at {}.",
                self.rows.len(),
                self.columns.len(),
                self.cell_name(r, c),
                self.value_format.full(v)
            ),
            None => "No data".into(),
        }
    }
}

/// Level 0 (lowest) to 4 (highest) of `v` within `[lo, hi]`.
fn level(v: f64, lo: f64, hi: f64) -> usize {
    if hi <= lo || v <= lo {
        return 0;
    }
    (((v - lo) / (hi - lo) * 4.0).ceil() as usize).clamp(1, 4)
}

impl Chart for Heatmap {
    fn render(&self) -> String {
        if self.rows.is_empty() || self.columns.is_empty() || self.finite().next().is_none() {
            return svg::empty_state(
                "heatmap",
                &self.title,
                "Heatmap",
                (WIDTH, 180.0),
                "No data to show",
            );
        }
        let lo = self.finite().fold(0.0f64, f64::min);
        let hi = self.finite().fold(f64::NEG_INFINITY, f64::max);
        let mut body = String::new();
        let label_w = self
            .rows
            .iter()
            .map(|r| text_width(r, 11.0))
            .fold(0.0, f64::max)
            .min(WIDTH * 0.25);
        let left = svg::PAD + label_w + 8.0;
        // Cells keep a readable size: long grids grow wider (and are scaled down to fit by
        // the browser) rather than turning into slivers.
        let cell =
            ((WIDTH - left - svg::PAD) / self.columns.len() as f64).clamp(MIN_CELL, MAX_CELL);
        let gap = 2.0;
        let grid_h = cell * self.rows.len() as f64;
        let width = (left + cell * self.columns.len() as f64 + svg::PAD).max(360.0);
        let top = svg::title(&mut body, &self.title, width) + 20.0;
        let height = top + grid_h + 36.0 + svg::PAD;

        body.push_str("<g class=\"keel-chart-labels\">");
        // Label every k-th column, k chosen so the widest label fits, for an even rhythm.
        let widest = self
            .columns
            .iter()
            .map(|c| text_width(c, 11.0))
            .fold(0.0, f64::max);
        let stride = ((widest + 10.0) / cell).ceil().max(1.0) as usize;
        for (c, label) in self.columns.iter().enumerate().step_by(stride) {
            let x = left + c as f64 * cell;
            if label.is_empty() || x + text_width(label, 11.0) > width - svg::PAD + 4.0 {
                continue;
            }
            text(
                &mut body,
                x,
                top - 7.0,
                &Font::new(11.0, theme::MUTED),
                label,
                label,
            );
        }
        for (r, label) in self.rows.iter().enumerate() {
            let shown = truncate(label, label_w, 11.0);
            let y = top + r as f64 * cell + cell / 2.0 + 4.0;
            text(
                &mut body,
                left - 8.0,
                y,
                &Font::new(11.0, theme::MUTED).anchor(Anchor::End),
                &shown,
                label,
            );
        }
        body.push_str("</g><g class=\"keel-chart-cells\">");
        let mut any_missing = false;
        for r in 0..self.rows.len() {
            for c in 0..self.columns.len() {
                let (x, y, s) = (left + c as f64 * cell, top + r as f64 * cell, cell - gap);
                let rect = format!(
                    "x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\"",
                    num(x),
                    num(y),
                    num(s),
                    num(s)
                );
                match self.value(r, c) {
                    Some(v) => {
                        let tooltip =
                            format!("{}: {}", self.cell_name(r, c), self.value_format.full(v));
                        let _ = write!(
                            body,
                            "<rect {rect} fill=\"{}\"><title>{}</title></rect>",
                            theme::heat_colour(level(v, lo, hi)),
                            svg::escape(&tooltip)
                        );
                    }
                    None => {
                        any_missing = true;
                        let tooltip = format!("{}: no data", self.cell_name(r, c));
                        let _ = write!(
                            body,
                            "<rect {rect} fill=\"none\" stroke=\"{}\" stroke-width=\"1\"><title>{}</title></rect>",
                            theme::GRID,
                            svg::escape(&tooltip)
                        );
                    }
                }
            }
        }
        body.push_str("</g><g class=\"keel-chart-legend\">");
        let ly = top + grid_h + 16.0;
        let lo_label = self.value_format.short(lo);
        let hi_label = self.value_format.short(hi);
        let mut x = left;
        text(
            &mut body,
            x,
            ly + 9.0,
            &Font::new(11.0, theme::MUTED),
            &lo_label,
            &lo_label,
        );
        x += text_width(&lo_label, 11.0) + 6.0;
        for level in 0..=4 {
            let _ = write!(
                body,
                "<rect x=\"{}\" y=\"{}\" width=\"11\" height=\"11\" rx=\"2\" fill=\"{}\"/>",
                num(x),
                num(ly),
                theme::heat_colour(level)
            );
            x += 14.0;
        }
        text(
            &mut body,
            x + 3.0,
            ly + 9.0,
            &Font::new(11.0, theme::MUTED),
            &hi_label,
            &hi_label,
        );
        x += text_width(&hi_label, 11.0) + 20.0;
        if any_missing {
            let _ = write!(
                body,
                "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" rx=\"2\" fill=\"none\" stroke=\"{}\"/>",
                num(x),
                num(ly + 0.5),
                theme::AXIS
            );
            text(
                &mut body,
                x + 16.0,
                ly + 9.0,
                &Font::new(11.0, theme::MUTED),
                "No data",
                "No data",
            );
        }
        body.push_str("</g>");

        let mut out = String::new();
        svg::open(
            &mut out,
            "heatmap",
            (width, height),
            self.name(),
            &self.summary(),
            Some(width * 1.25),
        );
        out.push_str(&body);
        svg::close(&mut out);
        out
    }

    fn to_html_table(&self) -> String {
        let mut headers = vec![String::new()];
        headers.extend(self.columns.iter().cloned());
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .enumerate()
            .map(|(r, label)| {
                let mut row = vec![label.clone()];
                row.extend((0..self.columns.len()).map(|c| {
                    self.value(r, c)
                        .map(|v| self.value_format.full(v))
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

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default()
    }

    #[test]
    fn calendar_places_days_by_weekday() {
        // 2026-03-04 is a Wednesday.
        let h = Heatmap::calendar(
            "Sends",
            &[(date(3, 4), 2.0), (date(3, 4), 1.0), (date(3, 16), 5.0)],
        );
        assert_eq!(h.start, Some(date(3, 2)));
        assert_eq!(h.columns, vec!["Mar 2", "Mar 9", "Mar 16"]);
        assert_eq!(h.value(2, 0), Some(3.0));
        assert_eq!(h.value(0, 2), Some(5.0));
        assert_eq!(h.value(1, 1), None);
        assert!(h.render().contains("Wed Mar 4, 2026: 3"));
    }

    #[test]
    fn long_calendars_are_capped() {
        let h = Heatmap::calendar(
            "x",
            &[
                (date(1, 1), 1.0),
                (NaiveDate::from_ymd_opt(2040, 1, 1).unwrap_or_default(), 1.0),
            ],
        );
        assert_eq!(h.columns.len(), MAX_WEEKS);
    }

    #[test]
    fn levels() {
        assert_eq!(level(0.0, 0.0, 10.0), 0);
        assert_eq!(level(0.1, 0.0, 10.0), 1);
        assert_eq!(level(10.0, 0.0, 10.0), 4);
        assert_eq!(level(5.0, 5.0, 5.0), 0);
    }

    #[test]
    fn degenerate_heatmaps() {
        assert!(Heatmap::default().render().contains("No data to show"));
        assert!(
            Heatmap::calendar("x", &[])
                .render()
                .contains("No data to show")
        );
        let zeros = Heatmap {
            rows: vec!["a".into()],
            columns: vec!["1".into(), "2".into()],
            values: vec![vec![0.0]],
            ..Heatmap::default()
        };
        assert_eq!(zeros.check().len(), 1);
        let svg = zeros.render();
        assert!(svg.contains("no data") && !svg.contains("NaN"));
    }
}
