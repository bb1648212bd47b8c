//! The accessible HTML table fallback shared by every chart.

use std::fmt::Write as _;

use crate::svg::escape;

/// Writes `<table class="keel-chart-table">` with a caption, a header row and rows whose first
/// cell is a row header. Cells are escaped.
pub(crate) fn html_table(caption: &str, headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table class=\"keel-chart-table\">");
    let _ = write!(out, "<caption>{}</caption><thead><tr>", escape(caption));
    for h in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(out, "<th scope=\"row\">{}</th>", escape(cell));
            } else {
                let _ = write!(out, "<td>{}</td>", escape(cell));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}
