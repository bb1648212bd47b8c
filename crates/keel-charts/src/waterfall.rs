//! Waterfall charts: a running total built step by step. Each step is a bar that starts where the
//! previous one ended (rises and falls coloured differently), and the last bar is the total from
//! zero. Used for explanations such as a match weight: the prior, then each comparison's
//! evidence for or against, then the final weight and its probability.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::format::ValueFormat;
use crate::svg::{self, Anchor, Font, MAX_SCALE, num, text, text_width, truncate};
use crate::table::html_table;
use crate::ticks::nice_ticks;
use crate::{Chart, ChartError, theme};

/// One step of a waterfall: how much it moved the running total.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WaterfallStep {
    /// Label of the row, e.g. "email (exact)".
    pub label: String,
    /// The change this step makes to the running total; NaN counts as no change and is
    /// printed as missing.
    pub value: f64,
    /// Extra text for the tooltip and the table, e.g. the values compared.
    pub note: Option<String>,
}

impl WaterfallStep {
    /// A step from a label and its change.
    pub fn new(label: impl Into<String>, value: f64) -> Self {
        WaterfallStep {
            label: label.into(),
            value,
            note: None,
        }
    }

    /// The same step with a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// A running-total waterfall drawn as horizontal rows: the steps in order, each from the
/// running total before it to the running total after it, then the total from zero.
///
/// Rises use [`theme::GOOD`], falls [`theme::BAD`] and the total the first series colour; every
/// bar also carries its signed value as text, so colour is never the only cue. Dashed
/// connectors join each bar's end to the next bar's start.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Waterfall {
    /// Title, drawn at the top and used as the accessible name.
    pub title: String,
    /// Accessible description; a summary of the steps is generated when absent.
    pub description: Option<String>,
    /// The steps, in order; the first one starts at zero.
    pub steps: Vec<WaterfallStep>,
    /// Label of the total row; "Total" when empty.
    pub total_label: String,
    /// Text printed after the total's value, e.g. "99.2% likely the same".
    pub total_note: Option<String>,
    /// How values are printed.
    pub value_format: ValueFormat,
}

const WIDTH: f64 = 640.0;
const BAND: f64 = 28.0;
const BAR: f64 = 18.0;

/// One drawn row, in value space.
struct Row<'a> {
    label: &'a str,
    from: f64,
    to: f64,
    /// The change shown for the row (the total for the total row); NaN when missing.
    value: f64,
    kind: Kind,
    note: Option<&'a str>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rise,
    Fall,
    Total,
}

impl Kind {
    fn colour(self) -> String {
        match self {
            Kind::Rise => theme::GOOD.to_string(),
            Kind::Fall => theme::BAD.to_string(),
            Kind::Total => theme::series_colour(0),
        }
    }
}

impl Waterfall {
    fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            "Waterfall"
        } else {
            &self.title
        }
    }

    fn total_name(&self) -> &str {
        if self.total_label.trim().is_empty() {
            "Total"
        } else {
            &self.total_label
        }
    }

    /// Values that are not finite (they render as missing, counting as zero).
    pub fn check(&self) -> Vec<ChartError> {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.value.is_finite())
            .map(|(i, _)| ChartError::NotFinite {
                path: format!("steps[{i}].value"),
            })
            .collect()
    }

    /// The running total after every step; missing values count as zero.
    pub fn running_totals(&self) -> Vec<f64> {
        let mut total = 0.0;
        self.steps
            .iter()
            .map(|s| {
                if s.value.is_finite() {
                    total += s.value;
                }
                total
            })
            .collect()
    }

    /// The final total: the sum of the finite steps.
    pub fn total(&self) -> f64 {
        self.running_totals().last().copied().unwrap_or(0.0)
    }

    fn rows(&self) -> Vec<Row<'_>> {
        let mut rows = Vec::with_capacity(self.steps.len() + 1);
        let mut running = 0.0;
        for s in &self.steps {
            let change = if s.value.is_finite() { s.value } else { 0.0 };
            rows.push(Row {
                label: &s.label,
                from: running,
                to: running + change,
                value: s.value,
                kind: if change < 0.0 { Kind::Fall } else { Kind::Rise },
                note: s.note.as_deref(),
            });
            running += change;
        }
        rows.push(Row {
            label: self.total_name(),
            from: 0.0,
            to: running,
            value: running,
            kind: Kind::Total,
            note: self.total_note.as_deref(),
        });
        rows
    }

    fn signed(&self, v: f64) -> String {
        let s = self.value_format.short(v);
        if v.is_finite() && v > 0.0 {
            format!("+{s}")
        } else {
            s
        }
    }

    fn value_label(&self, row: &Row<'_>) -> String {
        match row.kind {
            Kind::Total => {
                let v = self.value_format.short(row.value);
                match row.note {
                    Some(n) if !n.is_empty() => format!("{v} · {n}"),
                    _ => v,
                }
            }
            _ => self.signed(row.value),
        }
    }

    fn tooltip(&self, row: &Row<'_>) -> String {
        let mut t = match row.kind {
            Kind::Total => format!("{}: {}", row.label, self.value_format.full(row.value)),
            _ => format!(
                "{}: {} ({} → {})",
                row.label,
                self.signed(row.value),
                self.value_format.full(row.from),
                self.value_format.full(row.to)
            ),
        };
        if let Some(n) = row.note.filter(|n| !n.is_empty()) {
            let _ = write!(t, " — {n}");
        }
        t
    }

    fn summary(&self) -> String {
        if let Some(d) = &self.description {
            return d.clone();
        }
        if self.steps.is_empty() {
            return "No steps".into();
        }
        let rows = self.rows();
        let mut out = format!(
            "Waterfall of {} steps reaching {} {}",
            self.steps.len(),
            self.total_name(),
            self.value_format.full(self.total())
        );
        if let Some(n) = self.total_note.as_deref().filter(|n| !n.is_empty()) {
            let _ = write!(out, " ({n})");
        }
        let finite = || {
            rows.iter()
                .filter(|r| r.kind != Kind::Total && r.value.is_finite())
        };
        if let Some(up) = finite()
            .filter(|r| r.value > 0.0)
            .max_by(|a, b| a.value.total_cmp(&b.value))
        {
            let _ = write!(out, "; largest rise {} {}", up.label, self.signed(up.value));
        }
        if let Some(down) = finite()
            .filter(|r| r.value < 0.0)
            .min_by(|a, b| a.value.total_cmp(&b.value))
        {
            let _ = write!(
                out,
                "; largest fall {} {}",
                down.label,
                self.signed(down.value)
            );
        }
        out.push('.');
        out
    }
}

impl Chart for Waterfall {
    fn render(&self) -> String {
        if self.steps.is_empty() {
            return svg::empty_state(
                "waterfall",
                &self.title,
                "Waterfall",
                (WIDTH, 140.0),
                "No steps to show",
            );
        }
        let rows = self.rows();
        let mut body = String::new();
        let mut top = svg::title(&mut body, &self.title, WIDTH);
        let legend = [
            ("raises".to_string(), Kind::Rise.colour()),
            ("lowers".to_string(), Kind::Fall.colour()),
            (self.total_name().to_string(), Kind::Total.colour()),
        ];
        top += svg::legend(&mut body, &legend, svg::PAD, top, WIDTH - 2.0 * svg::PAD) + 8.0;

        let (lo, hi) = rows.iter().fold((0.0f64, 0.0f64), |(lo, hi), r| {
            (lo.min(r.from).min(r.to), hi.max(r.from).max(r.to))
        });
        let ticks = nice_ticks(lo, hi, 6);
        let labels: Vec<String> = rows.iter().map(|r| self.value_label(r)).collect();
        let widest = rows
            .iter()
            .map(|r| text_width(r.label, 12.0))
            .fold(0.0, f64::max);
        let label_w = widest.min(WIDTH * 0.3);
        let left = svg::PAD + label_w + 10.0;
        // Room on both sides of the plot for labels that sit past a bar's end.
        let room = labels
            .iter()
            .map(|l| text_width(l, 11.0))
            .fold(0.0, f64::max)
            .min(WIDTH * 0.3)
            + 8.0;
        let span = ticks.max - ticks.min;
        let plot_w = WIDTH - left - svg::PAD - room;
        // Falls below the axis minimum need room on the left for their labels, too.
        let lead = if lo < 0.0 {
            room.min(plot_w * 0.25)
        } else {
            0.0
        };
        let plot_w = plot_w - lead;
        let left = left + lead;
        let x = |v: f64| left + (v - ticks.min) / span * plot_w;
        let plot_h = BAND * rows.len() as f64;
        let height = top + plot_h + 22.0 + svg::PAD;

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
        for (i, r) in rows.iter().enumerate() {
            let shown = truncate(r.label, label_w, 12.0);
            let font = if r.kind == Kind::Total {
                Font::new(12.0, theme::TEXT).anchor(Anchor::End).bold()
            } else {
                Font::new(12.0, theme::TEXT).anchor(Anchor::End)
            };
            text(
                &mut body,
                svg::PAD + label_w,
                top + (i as f64 + 0.5) * BAND + 4.0,
                &font,
                &shown,
                r.label,
            );
        }
        body.push_str("</g><g class=\"keel-chart-connectors\">");
        for (i, r) in rows.iter().enumerate().take(rows.len().saturating_sub(1)) {
            let y0 = top + i as f64 * BAND + (BAND + BAR) / 2.0;
            let y1 = y0 + BAND - BAR;
            let _ = write!(
                body,
                "<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-dasharray=\"2 2\"/>",
                num(y0),
                num(y1),
                theme::AXIS,
                x = num(x(r.to)),
            );
        }
        body.push_str("</g><g class=\"keel-chart-bars\">");
        for (i, r) in rows.iter().enumerate() {
            let y = top + i as f64 * BAND + (BAND - BAR) / 2.0;
            let (x0, x1) = (x(r.from), x(r.to));
            // A zero step still shows as a hairline so the row is not blank.
            let w = (x1 - x0).abs().max(1.0);
            let _ = write!(
                body,
                "<rect class=\"keel-waterfall-{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BAR}\" rx=\"2\" fill=\"{}\"><title>{}</title></rect>",
                match r.kind {
                    Kind::Rise => "rise",
                    Kind::Fall => "fall",
                    Kind::Total => "total",
                },
                num(x0.min(x1)),
                num(y),
                num(w),
                r.kind.colour(),
                svg::escape(&self.tooltip(r))
            );
        }
        body.push_str("</g><g class=\"keel-chart-values\">");
        for (i, (r, label)) in rows.iter().zip(&labels).enumerate() {
            let cy = top + (i as f64 + 0.5) * BAND + 4.0;
            let font = if r.kind == Kind::Total {
                Font::new(11.0, theme::TEXT).bold()
            } else {
                Font::new(11.0, theme::TEXT)
            };
            let (lo_x, hi_x) = (x(r.from).min(x(r.to)), x(r.from).max(x(r.to)));
            let falls = r.kind == Kind::Fall || (r.kind == Kind::Total && r.value < 0.0);
            if falls {
                text(
                    &mut body,
                    lo_x - 5.0,
                    cy,
                    &font.anchor(Anchor::End),
                    label,
                    label,
                );
            } else {
                text(&mut body, hi_x + 5.0, cy, &font, label, label);
            }
        }
        body.push_str("</g>");

        let mut out = String::new();
        svg::open(
            &mut out,
            "waterfall",
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
        let rows: Vec<Vec<String>> = self
            .rows()
            .iter()
            .map(|r| {
                vec![
                    r.label.to_string(),
                    match r.kind {
                        Kind::Total => String::new(),
                        _ => self.signed(r.value),
                    },
                    self.value_format.full(r.to),
                    r.note.unwrap_or_default().to_string(),
                ]
            })
            .collect();
        html_table(
            self.name(),
            &[
                String::new(),
                "Change".into(),
                "Running total".into(),
                "Note".into(),
            ],
            &rows,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn match_weight() -> Waterfall {
        Waterfall {
            title: "Why they match".into(),
            steps: vec![
                WaterfallStep::new("prior", -8.0),
                WaterfallStep::new("email (exact)", 12.5),
                WaterfallStep::new("phone (different)", -3.0),
                WaterfallStep::new("name (close)", 4.5),
            ],
            total_label: "match weight".into(),
            total_note: Some("99.6% likely the same".into()),
            value_format: ValueFormat::Number { decimals: 1 },
            ..Waterfall::default()
        }
    }

    /// Reads the `x`, `width` of every bar rect, in order.
    fn bars(svg: &str) -> Vec<(String, f64, f64)> {
        svg.split("<rect class=\"keel-waterfall-")
            .skip(1)
            .map(|s| {
                let kind = s.split('"').next().unwrap_or_default().to_string();
                let attr = |name: &str| -> f64 {
                    s.split(&format!(" {name}=\""))
                        .nth(1)
                        .and_then(|v| v.split('"').next())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(f64::NAN)
                };
                (kind, attr("x"), attr("width"))
            })
            .collect()
    }

    #[test]
    fn each_bar_starts_where_the_previous_one_ended() {
        let w = match_weight();
        assert_eq!(w.running_totals(), vec![-8.0, 4.5, 1.5, 6.0]);
        assert_eq!(w.total(), 6.0);
        let svg = w.render();
        let b = bars(&svg);
        assert_eq!(b.len(), 5);
        let kinds: Vec<&str> = b.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(kinds, ["fall", "rise", "fall", "rise", "total"]);
        // prior: a fall from 0 to -8, its right edge is zero.
        let zero = b[0].1 + b[0].2;
        // email rises from -8 (the prior's left edge) to +4.5.
        assert!((b[1].1 - b[0].1).abs() < 0.02, "{b:?}");
        // phone falls from 4.5 (email's right edge) to 1.5.
        let email_end = b[1].1 + b[1].2;
        assert!((b[2].1 + b[2].2 - email_end).abs() < 0.02, "{b:?}");
        // name rises from 1.5 (phone's left edge).
        assert!((b[3].1 - b[2].1).abs() < 0.02, "{b:?}");
        // The total runs from zero to where the last step ended.
        assert!((b[4].1 - zero).abs() < 0.02, "{b:?}");
        assert!((b[4].1 + b[4].2 - (b[3].1 + b[3].2)).abs() < 0.02, "{b:?}");
        // Rises and falls differ in colour; labels carry the sign and the total its note.
        assert!(svg.contains(theme::GOOD) && svg.contains(theme::BAD));
        assert!(svg.contains(">+12.5<") && svg.contains(">−3.0<"));
        assert!(svg.contains(">6.0 · 99.6% likely the same<"));
        assert!(svg.contains(">match weight<"));
        // Four dashed connectors join consecutive bars.
        assert_eq!(svg.matches("stroke-dasharray=\"2 2\"").count(), 4);
    }

    #[test]
    fn table_lists_changes_and_running_totals() {
        let t = match_weight().to_html_table();
        assert!(t.contains("<th scope=\"row\">email (exact)</th><td>+12.5</td><td>4.5</td>"));
        assert!(t.contains(
            "<th scope=\"row\">match weight</th><td></td><td>6.0</td><td>99.6% likely the same</td>"
        ));
    }

    #[test]
    fn degenerate_waterfalls_render() {
        let empty = Waterfall::default().render();
        assert!(empty.contains("No steps to show") && empty.ends_with("</svg>"));
        let odd = Waterfall {
            steps: vec![
                WaterfallStep::new("a", f64::NAN),
                WaterfallStep::new("b", 0.0),
                WaterfallStep::new("<c>", f64::INFINITY),
            ],
            ..Waterfall::default()
        };
        assert_eq!(odd.check().len(), 2);
        let svg = odd.render();
        assert!(svg.ends_with("</svg>") && !svg.contains("NaN") && !svg.contains("inf"));
        assert!(svg.contains("&lt;c&gt;"));
        assert_eq!(odd.total(), 0.0);
    }
}
