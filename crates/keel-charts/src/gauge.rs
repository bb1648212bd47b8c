//! Gauges: a labelled progress bar for scores such as a readiness score of 6/8.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::Chart;
use crate::format::ValueFormat;
use crate::svg::{self, Anchor, Font, num, text, text_width, truncate};
use crate::table::html_table;
use crate::theme;

/// A score out of a maximum, drawn as a bar; small whole-number maxima (up to 12) are drawn
/// as segments, one per point. The colour says how good the score is: at least 75% good, at
/// least 50% middling, else poor — and the number is always printed, so colour is never the
/// only cue.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gauge {
    /// Label drawn on the left, e.g. "Readiness"; also the accessible name.
    pub title: String,
    /// Accessible description; generated when absent.
    pub description: Option<String>,
    /// The score; clamped to `0..=max` for drawing.
    pub value: f64,
    /// The maximum score; must be positive.
    pub max: f64,
    /// How the score is printed. With [`ValueFormat::Percent`] the gauge shows `value / max`
    /// as a percentage; otherwise it shows `value/max`.
    pub value_format: ValueFormat,
}

const WIDTH: f64 = 280.0;
const HEIGHT: f64 = 46.0;
const MAX_SEGMENTS: f64 = 12.0;

impl Gauge {
    fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            "Score"
        } else {
            &self.title
        }
    }

    fn valid(&self) -> bool {
        self.value.is_finite() && self.max.is_finite() && self.max > 0.0
    }

    fn ratio(&self) -> f64 {
        (self.value / self.max).clamp(0.0, 1.0)
    }

    fn shown(&self) -> String {
        match self.value_format {
            ValueFormat::Percent { .. } => self.value_format.full(self.value / self.max),
            _ => format!(
                "{}/{}",
                self.value_format.short(self.value),
                self.value_format.short(self.max)
            ),
        }
    }

    fn summary(&self) -> String {
        if let Some(d) = &self.description {
            return d.clone();
        }
        if !self.valid() {
            return "No score".into();
        }
        format!(
            "{} of {} ({:.0}%).",
            self.value_format.full(self.value),
            self.value_format.full(self.max),
            self.value / self.max * 100.0
        )
    }
}

impl Chart for Gauge {
    fn render(&self) -> String {
        let mut out = String::new();
        svg::open(
            &mut out,
            "gauge",
            (WIDTH, HEIGHT),
            self.name(),
            &self.summary(),
            Some(WIDTH + 80.0),
        );
        let value_text = if self.valid() {
            self.shown()
        } else {
            crate::format::MISSING.to_string()
        };
        let value_w = text_width(&value_text, 14.0);
        let label = truncate(&self.title, WIDTH - value_w - 12.0, 13.0);
        text(
            &mut out,
            0.0,
            16.0,
            &Font::new(13.0, theme::TEXT),
            &label,
            &self.title,
        );
        text(
            &mut out,
            WIDTH,
            16.0,
            &Font::new(14.0, theme::TEXT).bold().anchor(Anchor::End),
            &value_text,
            &value_text,
        );
        let (bar_y, bar_h) = (26.0, 10.0);
        let fill = match self.ratio() {
            r if r >= 0.75 => theme::GOOD,
            r if r >= 0.5 => theme::WARN,
            _ => theme::BAD,
        };
        let whole = self.max.fract() == 0.0 && self.value.fract() == 0.0;
        if self.valid() && whole && self.max <= MAX_SEGMENTS {
            let n = self.max as usize;
            let gap = 3.0;
            let seg_w = (WIDTH - gap * (n as f64 - 1.0)) / n as f64;
            let filled = self.value.clamp(0.0, self.max) as usize;
            for i in 0..n {
                let _ = write!(
                    out,
                    "<rect x=\"{}\" y=\"{bar_y}\" width=\"{}\" height=\"{bar_h}\" rx=\"2\" fill=\"{}\"/>",
                    num(i as f64 * (seg_w + gap)),
                    num(seg_w),
                    if i < filled { fill } else { theme::TRACK }
                );
            }
        } else {
            let _ = write!(
                out,
                "<rect x=\"0\" y=\"{bar_y}\" width=\"{WIDTH}\" height=\"{bar_h}\" rx=\"5\" fill=\"{}\"/>",
                theme::TRACK
            );
            if self.valid() && self.ratio() > 0.0 {
                let _ = write!(
                    out,
                    "<rect x=\"0\" y=\"{bar_y}\" width=\"{}\" height=\"{bar_h}\" rx=\"5\" fill=\"{fill}\"/>",
                    num((WIDTH * self.ratio()).max(bar_h))
                );
            }
        }
        svg::close(&mut out);
        out
    }

    fn to_html_table(&self) -> String {
        let pct = if self.valid() {
            format!("{:.0}%", self.value / self.max * 100.0)
        } else {
            String::new()
        };
        let row = vec![
            self.name().to_string(),
            self.value_format.full(self.value),
            self.value_format.full(self.max),
            pct,
        ];
        html_table(
            self.name(),
            &[
                String::new(),
                "Score".into(),
                "Out of".into(),
                "Percent".into(),
            ],
            &[row],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_score_is_segmented() {
        let g = Gauge {
            title: "Readiness".into(),
            value: 6.0,
            max: 8.0,
            ..Gauge::default()
        };
        let svg = g.render();
        assert_eq!(svg.matches("<rect").count(), 8);
        assert_eq!(svg.matches(theme::GOOD).count(), 6);
        assert!(svg.contains(">6/8<"));
    }

    #[test]
    fn degenerate_gauges() {
        for (value, max) in [
            (0.0, 0.0),
            (f64::NAN, 8.0),
            (3.0, -1.0),
            (12.0, 8.0),
            (-2.0, 8.0),
            (0.42, 1.0),
        ] {
            let svg = Gauge {
                value,
                max,
                ..Gauge::default()
            }
            .render();
            assert!(
                svg.ends_with("</svg>") && !svg.contains("NaN"),
                "{value}/{max}"
            );
        }
    }
}
