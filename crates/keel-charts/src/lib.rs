//! Accessible inline SVG charts for Keel's server-rendered web UI.
//!
//! Every chart is a plain struct of data (serde-friendly) whose [`Chart::render`] returns an SVG
//! string ready to be placed inline in an HTML page, and whose [`Chart::to_html_table`] returns the
//! same numbers as an HTML table for screen readers and for people who prefer to read.
//!
//! The crate does no I/O and never panics on data: empty, all-zero, single-point, negative and
//! NaN inputs render a sensible chart or an explicit empty state.
//!
//! Charts are themed by CSS custom properties with fallbacks (see [`theme`]), so the page's light
//! or dark theme controls their colours without re-rendering.
//!
//! ```
//! use keel_charts::{BarChart, Chart, Series};
//!
//! let chart = BarChart {
//!     title: "Requests by type".into(),
//!     categories: vec!["Email".into(), "Landing page".into()],
//!     series: vec![Series::new("Open", vec![12.0, 5.0])],
//!     ..BarChart::default()
//! };
//! let svg = chart.render();
//! assert!(svg.starts_with("<svg"));
//! assert!(svg.contains("role=\"img\""));
//! ```

pub mod bar;
pub mod donut;
pub mod format;
pub mod gantt;
pub mod gauge;
pub mod graph;
pub mod heatmap;
pub mod line;
pub mod sparkline;
mod svg;
mod table;
pub mod theme;
pub mod ticks;
pub mod waterfall;

pub use bar::{BarChart, Orientation, Series};
pub use donut::{Donut, Slice};
pub use format::ValueFormat;
pub use gantt::{Gantt, GanttTask};
pub use gauge::Gauge;
pub use graph::{Direction, Edge, Graph, Node, NodeKind};
pub use heatmap::Heatmap;
pub use line::{LineChart, TimePoint, TimeSeries};
pub use sparkline::Sparkline;
pub use svg::escape;
pub use waterfall::{Waterfall, WaterfallStep};

/// A renderable chart: SVG for the eye, an HTML table for screen readers.
pub trait Chart {
    /// Renders the chart as a self-contained inline `<svg>` element with `role="img"`, a
    /// `<title>` and a `<desc>`.
    fn render(&self) -> String;

    /// Renders the chart's numbers as an HTML `<table>` (with a `<caption>`), the accessible
    /// fallback for the SVG.
    fn to_html_table(&self) -> String;
}

/// Problems found by the optional `check` methods: inputs that render, but probably not as the
/// caller meant (rendering itself never fails).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChartError {
    /// A series has a different number of values than there are categories.
    #[error("series[{index}] `{name}` has {got} values but there are {expected} categories")]
    SeriesLength {
        /// Position of the series.
        index: usize,
        /// Name of the series.
        name: String,
        /// Number of values in the series.
        got: usize,
        /// Number of categories.
        expected: usize,
    },
    /// A value is NaN or infinite.
    #[error("{path} is not a finite number")]
    NotFinite {
        /// Dotted path of the value, e.g. `series[0].values[3]`.
        path: String,
    },
    /// Two nodes of a graph share an id.
    #[error("nodes[{index}] repeats the id `{id}`")]
    DuplicateNode {
        /// Position of the second node with the id.
        index: usize,
        /// The repeated id.
        id: String,
    },
    /// An edge refers to a node id that is not in the graph.
    #[error("edges[{index}].{end} refers to unknown node `{id}`")]
    UnknownNode {
        /// Position of the edge.
        index: usize,
        /// `from` or `to`.
        end: &'static str,
        /// The unknown id.
        id: String,
    },
    /// A heatmap row has a different number of cells than there are columns.
    #[error("values[{index}] has {got} cells but there are {expected} columns")]
    RowLength {
        /// Position of the row.
        index: usize,
        /// Number of cells in the row.
        got: usize,
        /// Number of columns.
        expected: usize,
    },
}
