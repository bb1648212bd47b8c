//! SVG writing shared by every chart: escaping, coordinates, text measurement, the root element
//! with its accessible name, legends and the empty state.

use std::fmt::Write as _;

use crate::theme;

/// Escapes text for XML content and attribute values.
///
/// Besides the five markup characters, characters XML 1.0 forbids (most C0 controls,
/// U+FFFE, U+FFFF) are replaced by U+FFFD so a hostile label cannot make the page invalid.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Prints a coordinate with at most two decimals and no trailing zeros, so output is compact
/// and stable across platforms.
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let s = format!("{:.2}", (v * 100.0).round() / 100.0);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

/// Approximate advance width of `text` at `size` px in a UI sans-serif; good enough to size
/// margins and decide when to truncate (browsers are not asked to measure).
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(char_em).sum::<f64>() * size
}

fn char_em(c: char) -> f64 {
    match c {
        'i' | 'l' | 'j' | '.' | ',' | '\'' | '!' | '|' | ':' | ';' | 'I' | 'f' | 't' | 'r' => 0.3,
        ' ' => 0.28,
        'm' | 'w' | 'M' | 'W' | '@' | '%' => 0.85,
        '0'..='9' => 0.56,
        'A'..='Z' => 0.66,
        c if c.is_ascii() => 0.52,
        c if (c as u32) >= 0x2E80 => 1.0,
        _ => 0.6,
    }
}

/// Shortens `text` with an ellipsis so it fits `max_width` px at `size` px.
pub(crate) fn truncate(text: &str, max_width: f64, size: f64) -> String {
    if text_width(text, size) <= max_width {
        return text.to_string();
    }
    let budget = max_width - text_width("…", size);
    let mut out = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = char_em(c) * size;
        if used + w > budget {
            break;
        }
        used += w;
        out.push(c);
    }
    let trimmed = out.trim_end();
    format!("{trimmed}…")
}

/// A short stable id for `aria-labelledby`, derived from the chart's kind and text so snapshots
/// are reproducible and two different charts on a page get different ids.
fn chart_id(kind: &str, title: &str, desc: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for b in kind.bytes().chain(title.bytes()).chain(desc.bytes()) {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("kc-{kind}-{hash:08x}")
}

/// Opens the root `<svg>` with its accessible name (`<title>`) and description (`<desc>`).
///
/// `max_width` keeps small charts (sparklines, gauges) from being blown up to the full width of
/// their container.
pub(crate) fn open(
    out: &mut String,
    kind: &str,
    (width, height): (f64, f64),
    title: &str,
    desc: &str,
    max_width: Option<f64>,
) {
    let id = chart_id(kind, title, desc);
    let max = max_width
        .map(|w| format!("max-width:{}px;", num(w)))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"keel-chart keel-chart-{kind}\" \
         viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" \
         style=\"{max}height:auto;display:block;font-family:{font}\">\
         <title id=\"{id}-t\">{title}</title><desc id=\"{id}-d\">{desc}</desc>",
        w = num(width),
        h = num(height),
        font = theme::FONT,
        title = escape(title),
        desc = escape(desc),
    );
}

/// Closes the root element.
pub(crate) fn close(out: &mut String) {
    out.push_str("</svg>");
}

/// Horizontal alignment of a text element.
#[derive(Clone, Copy)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Text style: size in px, colour, weight and alignment.
pub(crate) struct Font<'a> {
    pub size: f64,
    pub fill: &'a str,
    pub weight: u16,
    pub anchor: Anchor,
}

impl<'a> Font<'a> {
    pub(crate) fn new(size: f64, fill: &'a str) -> Self {
        Font {
            size,
            fill,
            weight: 400,
            anchor: Anchor::Start,
        }
    }
    pub(crate) fn bold(mut self) -> Self {
        self.weight = 600;
        self
    }
    pub(crate) fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = anchor;
        self
    }
}

/// Writes a `<text>` element. When the shown text was shortened, the full text goes in a
/// `<title>` child so it shows on hover.
pub(crate) fn text(out: &mut String, x: f64, y: f64, font: &Font<'_>, shown: &str, full: &str) {
    let weight = if font.weight == 400 {
        String::new()
    } else {
        format!(" font-weight=\"{}\"", font.weight)
    };
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\" text-anchor=\"{}\"{weight}>",
        num(x),
        num(y),
        num(font.size),
        font.fill,
        font.anchor.as_str(),
    );
    if shown != full {
        let _ = write!(out, "<title>{}</title>", escape(full));
    }
    out.push_str(&escape(shown));
    out.push_str("</text>");
}

/// Full-size charts grow with their container up to this multiple of their natural size, so
/// a chart in a wide page does not end up with oversized text.
pub(crate) const MAX_SCALE: f64 = 1.5;

/// Height of the visible title band when the chart has a title.
pub(crate) const TITLE_BAND: f64 = 30.0;
/// Outer padding of every chart.
pub(crate) const PAD: f64 = 16.0;

/// Writes the visible title (if any) and returns the y where content may start.
pub(crate) fn title(out: &mut String, title: &str, width: f64) -> f64 {
    if title.trim().is_empty() {
        return PAD;
    }
    let shown = truncate(title, width - 2.0 * PAD, 15.0);
    text(
        out,
        PAD,
        PAD + 13.0,
        &Font::new(15.0, theme::TEXT).bold(),
        &shown,
        title,
    );
    PAD + TITLE_BAND
}

/// Lays out a legend as swatches with labels that wrap across rows; returns its height.
pub(crate) fn legend(
    out: &mut String,
    items: &[(String, String)],
    x0: f64,
    y0: f64,
    max_width: f64,
) -> f64 {
    if items.is_empty() {
        return 0.0;
    }
    let row_h = 18.0;
    let (mut x, mut y) = (x0, y0);
    out.push_str("<g class=\"keel-chart-legend\">");
    for (label, colour) in items {
        let shown = truncate(label, 180.0, 12.0);
        let w = 14.0 + text_width(&shown, 12.0) + 16.0;
        if x > x0 && x + w > x0 + max_width {
            x = x0;
            y += row_h;
        }
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" rx=\"2\" fill=\"{colour}\"/>",
            num(x),
            num(y + 1.0)
        );
        text(
            out,
            x + 14.0,
            y + 10.0,
            &Font::new(12.0, theme::MUTED),
            &shown,
            label,
        );
        x += w;
    }
    out.push_str("</g>");
    y - y0 + row_h
}

/// A complete chart that says there is nothing to show, keeping the title and accessible name.
pub(crate) fn empty_state(
    kind: &str,
    chart_title: &str,
    fallback_name: &str,
    (width, height): (f64, f64),
    message: &str,
) -> String {
    let name = if chart_title.trim().is_empty() {
        fallback_name
    } else {
        chart_title
    };
    let mut out = String::new();
    open(&mut out, kind, (width, height), name, message, None);
    let top = title(&mut out, chart_title, width);
    let cy = top + (height - top - PAD) / 2.0;
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"none\" stroke=\"{}\" stroke-dasharray=\"4 4\"/>",
        num(PAD),
        num(top),
        num(width - 2.0 * PAD),
        num((height - top - PAD).max(0.0)),
        theme::GRID
    );
    text(
        &mut out,
        width / 2.0,
        cy + 4.0,
        &Font::new(13.0, theme::MUTED).anchor(Anchor::Middle),
        message,
        message,
    );
    close(&mut out);
    out
}

/// Formats a CSS/SVG path command list from points as a polyline (`M x y L x y …`).
pub(crate) fn polyline_path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        let _ = write!(
            d,
            "{}{} {}",
            if i == 0 { "M" } else { " L" },
            num(*x),
            num(*y)
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("Tom & \"Jerry\""), "Tom &amp; &quot;Jerry&quot;");
        assert_eq!(escape("a\u{0}b\u{8}c\td"), "a\u{FFFD}b\u{FFFD}c\td");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.234), "1.23");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(10.5), "10.5");
    }

    #[test]
    fn truncation_adds_ellipsis_only_when_needed() {
        assert_eq!(truncate("Email", 100.0, 12.0), "Email");
        let t = truncate("A very long category label indeed", 60.0, 12.0);
        assert!(t.ends_with('…'));
        assert!(text_width(&t, 12.0) <= 60.0 + 0.01);
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(chart_id("bar", "A", ""), chart_id("bar", "A", ""));
        assert_ne!(chart_id("bar", "A", ""), chart_id("bar", "B", ""));
    }
}
