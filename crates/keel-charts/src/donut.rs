//! Donut charts: shares of a whole, with a legend of values and percentages.

use std::f64::consts::PI;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::Chart;
use crate::format::ValueFormat;
use crate::svg::{self, Anchor, Font, MAX_SCALE, num, text, text_width, truncate};
use crate::table::html_table;
use crate::theme;

/// One part of the whole.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slice {
    /// Name shown in the legend.
    pub label: String,
    /// Size; negative, zero and NaN values are left out of the drawing (but kept in the table).
    pub value: f64,
}

impl Slice {
    /// A slice from a label and a value.
    pub fn new(label: impl Into<String>, value: f64) -> Self {
        Slice {
            label: label.into(),
            value,
        }
    }
}

/// A donut chart with the total in the middle.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Donut {
    /// Title, drawn at the top and used as the accessible name.
    pub title: String,
    /// Accessible description; a summary of the data is generated when absent.
    pub description: Option<String>,
    /// The parts, drawn clockwise from twelve o'clock in the given order.
    pub slices: Vec<Slice>,
    /// How values are printed.
    pub value_format: ValueFormat,
    /// Caption under the total in the middle (default "Total").
    pub center_label: Option<String>,
}

const WIDTH: f64 = 520.0;
const OUTER: f64 = 88.0;
const INNER: f64 = 58.0;
/// More slices than this are drawn with the smallest merged into "Other" (the palette has
/// eight distinguishable colours).
const MAX_SLICES: usize = 8;

impl Donut {
    fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            "Donut chart"
        } else {
            &self.title
        }
    }

    /// The slices drawn: positive finite values, the smallest merged into "Other" when there
    /// are too many.
    fn drawn(&self) -> Vec<(String, f64)> {
        let mut parts: Vec<(String, f64)> = self
            .slices
            .iter()
            .filter(|s| s.value.is_finite() && s.value > 0.0)
            .map(|s| (s.label.clone(), s.value))
            .collect();
        if parts.len() > MAX_SLICES {
            let mut order: Vec<usize> = (0..parts.len()).collect();
            order.sort_by(|&a, &b| parts[b].1.total_cmp(&parts[a].1));
            let keep: Vec<usize> = order[..MAX_SLICES - 1].to_vec();
            let other: f64 = order[MAX_SLICES - 1..].iter().map(|&i| parts[i].1).sum();
            parts = parts
                .into_iter()
                .enumerate()
                .filter(|(i, _)| keep.contains(i))
                .map(|(_, p)| p)
                .collect();
            parts.push(("Other".into(), other));
        }
        parts
    }

    fn summary(&self, parts: &[(String, f64)], total: f64) -> String {
        if let Some(d) = &self.description {
            return d.clone();
        }
        let shares: Vec<String> = parts
            .iter()
            .map(|(label, v)| {
                format!(
                    "{label} {} ({:.0}%)",
                    self.value_format.full(*v),
                    v / total * 100.0
                )
            })
            .collect();
        format!(
            "Total {}: {}.",
            self.value_format.full(total),
            shares.join(", ")
        )
    }
}

/// Point on a circle of radius `r` at `angle` radians clockwise from twelve o'clock.
fn polar(cx: f64, cy: f64, r: f64, angle: f64) -> (f64, f64) {
    (cx + r * angle.sin(), cy - r * angle.cos())
}

fn arc(cx: f64, cy: f64, a0: f64, a1: f64) -> String {
    let large = if a1 - a0 > PI { 1 } else { 0 };
    let (ox0, oy0) = polar(cx, cy, OUTER, a0);
    let (ox1, oy1) = polar(cx, cy, OUTER, a1);
    let (ix1, iy1) = polar(cx, cy, INNER, a1);
    let (ix0, iy0) = polar(cx, cy, INNER, a0);
    format!(
        "M{} {} A{OUTER} {OUTER} 0 {large} 1 {} {} L{} {} A{INNER} {INNER} 0 {large} 0 {} {} Z",
        num(ox0),
        num(oy0),
        num(ox1),
        num(oy1),
        num(ix1),
        num(iy1),
        num(ix0),
        num(iy0)
    )
}

impl Chart for Donut {
    fn render(&self) -> String {
        let parts = self.drawn();
        let total: f64 = parts.iter().map(|p| p.1).sum();
        if parts.is_empty() || !(total.is_finite() && total > 0.0) {
            return svg::empty_state(
                "donut",
                &self.title,
                "Donut chart",
                (WIDTH, 200.0),
                "No data to show",
            );
        }
        let mut body = String::new();
        let top = svg::title(&mut body, &self.title, WIDTH) + 4.0;
        let row_h = 24.0;
        let legend_h = parts.len() as f64 * row_h;
        let plot_h = (2.0 * OUTER).max(legend_h);
        let height = top + plot_h + svg::PAD;
        let (cx, cy) = (svg::PAD + OUTER + 8.0, top + plot_h / 2.0);

        body.push_str("<g class=\"keel-chart-slices\">");
        let mut angle = 0.0;
        for (i, (label, value)) in parts.iter().enumerate() {
            let sweep = value / total * 2.0 * PI;
            let colour = theme::series_colour(i);
            let tooltip = svg::escape(&format!(
                "{label}: {} ({:.1}%)",
                self.value_format.full(*value),
                value / total * 100.0
            ));
            if sweep >= 2.0 * PI - 1e-9 {
                // A full ring cannot be one arc; draw it as two halves.
                let d = format!("{} {}", arc(cx, cy, 0.0, PI), arc(cx, cy, PI, 2.0 * PI));
                let _ = write!(
                    body,
                    "<path d=\"{d}\" fill=\"{colour}\"><title>{tooltip}</title></path>"
                );
            } else {
                let _ = write!(
                    body,
                    "<path d=\"{}\" fill=\"{colour}\" stroke=\"{}\" stroke-width=\"2\" stroke-linejoin=\"round\"><title>{tooltip}</title></path>",
                    arc(cx, cy, angle, angle + sweep),
                    theme::SURFACE
                );
            }
            angle += sweep;
        }
        body.push_str("</g>");
        let total_label = self.value_format.short(total);
        text(
            &mut body,
            cx,
            cy + 4.0,
            &Font::new(22.0, theme::TEXT).bold().anchor(Anchor::Middle),
            &total_label,
            &total_label,
        );
        let caption = self.center_label.as_deref().unwrap_or("Total");
        let shown = truncate(caption, INNER * 1.6, 11.0);
        text(
            &mut body,
            cx,
            cy + 20.0,
            &Font::new(11.0, theme::MUTED).anchor(Anchor::Middle),
            &shown,
            caption,
        );

        let lx = cx + OUTER + 36.0;
        let right = WIDTH - svg::PAD;
        let mut ly = cy - legend_h / 2.0;
        body.push_str("<g class=\"keel-chart-legend\">");
        for (i, (label, value)) in parts.iter().enumerate() {
            let pct = format!("{:.0}%", value / total * 100.0);
            let val = self.value_format.short(*value);
            let label_w = right - lx - 18.0 - 48.0 - text_width(&val, 12.0) - 12.0;
            let shown = truncate(label, label_w, 12.0);
            let _ = write!(
                body,
                "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" rx=\"2\" fill=\"{}\"/>",
                num(lx),
                num(ly + 6.0),
                theme::series_colour(i)
            );
            text(
                &mut body,
                lx + 18.0,
                ly + 15.0,
                &Font::new(12.0, theme::TEXT),
                &shown,
                label,
            );
            text(
                &mut body,
                right - 48.0,
                ly + 15.0,
                &Font::new(12.0, theme::TEXT).bold().anchor(Anchor::End),
                &val,
                &val,
            );
            text(
                &mut body,
                right,
                ly + 15.0,
                &Font::new(12.0, theme::MUTED).anchor(Anchor::End),
                &pct,
                &pct,
            );
            ly += row_h;
        }
        body.push_str("</g>");

        let mut out = String::new();
        svg::open(
            &mut out,
            "donut",
            (WIDTH, height),
            self.name(),
            &self.summary(&parts, total),
            Some(WIDTH * MAX_SCALE),
        );
        out.push_str(&body);
        svg::close(&mut out);
        out
    }

    fn to_html_table(&self) -> String {
        let total: f64 = self
            .slices
            .iter()
            .map(|s| s.value)
            .filter(|v| v.is_finite() && *v > 0.0)
            .sum();
        let rows: Vec<Vec<String>> = self
            .slices
            .iter()
            .map(|s| {
                let share = if total > 0.0 && s.value.is_finite() && s.value > 0.0 {
                    format!("{:.1}%", s.value / total * 100.0)
                } else {
                    String::new()
                };
                vec![s.label.clone(), self.value_format.full(s.value), share]
            })
            .collect();
        html_table(
            self.name(),
            &[String::new(), "Value".into(), "Share".into()],
            &rows,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_donuts() {
        assert!(Donut::default().render().contains("No data to show"));
        let zeros = Donut {
            slices: vec![
                Slice::new("a", 0.0),
                Slice::new("b", -2.0),
                Slice::new("c", f64::NAN),
            ],
            ..Donut::default()
        };
        assert!(zeros.render().contains("No data to show"));
        let one = Donut {
            slices: vec![Slice::new("a", 5.0)],
            ..Donut::default()
        }
        .render();
        assert!(one.contains("<path") && !one.contains("NaN"));
    }

    #[test]
    fn many_slices_merge_into_other() {
        let d = Donut {
            slices: (1..=12)
                .map(|i| Slice::new(format!("s{i}"), f64::from(i)))
                .collect(),
            ..Donut::default()
        };
        let drawn = d.drawn();
        assert_eq!(drawn.len(), MAX_SLICES);
        assert_eq!(drawn.last().map(|p| p.1), Some(15.0));
        assert!(drawn.iter().any(|p| p.0 == "s12"));
        assert_eq!(d.to_html_table().matches("<tr>").count(), 13);
    }
}
