//! Colours and type as CSS custom properties with fallbacks, so the page theme controls charts.
//!
//! Each colour is written as `var(--chart-…, #fallback)`. A page sets the properties (for
//! example under `@media (prefers-color-scheme: dark)`) and every chart follows, with no
//! re-rendering. Without any CSS the fallbacks give a light theme.
//!
//! The series palette is colour-blind safe: it follows Okabe & Ito's palette (distinguishable
//! with protanopia, deuteranopia and tritanopia), with the blue deepened for contrast on white.

/// Fallback colours of the series palette, in order (`--chart-1` … `--chart-8`).
pub const PALETTE: [&str; 8] = [
    "#2563eb", // blue
    "#e69f00", // orange
    "#009e73", // bluish green
    "#cc79a7", // reddish purple
    "#56b4e9", // sky blue
    "#d55e00", // vermillion
    "#6b7280", // grey
    "#b59a00", // dark yellow
];

/// The colour of the `index`-th series: `var(--chart-N, fallback)`, cycling after eight.
pub fn series_colour(index: usize) -> String {
    let slot = index % PALETTE.len();
    format!("var(--chart-{}, {})", slot + 1, PALETTE[slot])
}

/// Fallbacks for text drawn on each palette colour (`--chart-on-1` …), chosen for contrast:
/// white on the dark blue and grey, near-black on the lighter colours.
pub const ON_PALETTE: [&str; 8] = [
    "#ffffff", "#111827", "#111827", "#111827", "#111827", "#111827", "#ffffff", "#111827",
];

/// The colour of text drawn on the `index`-th series colour: `var(--chart-on-N, fallback)`.
pub fn on_series_colour(index: usize) -> String {
    let slot = index % ON_PALETTE.len();
    format!("var(--chart-on-{}, {})", slot + 1, ON_PALETTE[slot])
}

/// Main text (titles, labels inside the plot).
pub const TEXT: &str = "var(--chart-text, #1f2937)";
/// Secondary text (axis labels, legends).
pub const MUTED: &str = "var(--chart-muted, #6b7280)";
/// Grid lines.
pub const GRID: &str = "var(--chart-grid, #e5e7eb)";
/// Axis and zero lines.
pub const AXIS: &str = "var(--chart-axis, #9ca3af)";
/// The surface the chart sits on (used for gaps between shapes and node fills).
pub const SURFACE: &str = "var(--chart-surface, #ffffff)";
/// Accent for highlighted graph nodes and edges (the blast radius).
pub const ACCENT: &str = "var(--chart-accent, #d55e00)";
/// Track of gauges and empty cells.
pub const TRACK: &str = "var(--chart-track, #eef0f3)";
/// Gauge colour for a good score (at least 75%).
pub const GOOD: &str = "var(--chart-good, #009e73)";
/// Gauge colour for a middling score (at least 50%).
pub const WARN: &str = "var(--chart-warn, #e69f00)";
/// Gauge colour for a poor score (below 50%).
pub const BAD: &str = "var(--chart-bad, #d55e00)";

/// Fallbacks of the sequential heatmap ramp (`--chart-heat-1` … `--chart-heat-4`), light to
/// dark; a single-hue ramp reads the same for every kind of colour vision.
pub const HEAT: [&str; 4] = ["#c6dbef", "#6baed6", "#2171b5", "#08306b"];

/// The colour of heatmap level `level` (1 to 4; 0 is [`TRACK`]).
pub fn heat_colour(level: usize) -> String {
    match level {
        0 => TRACK.to_string(),
        n => {
            let slot = n.min(HEAT.len()) - 1;
            format!("var(--chart-heat-{}, {})", slot + 1, HEAT[slot])
        }
    }
}

/// Font stack, overridable with `--chart-font`.
pub const FONT: &str = "var(--chart-font, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif)";
