//! Charts for pages, as inline SVG rendered on the server.

/// A horizontal bar chart of labelled values, or `None` when there is nothing to show.
pub fn bars(title: &str, data: &[(String, f64)]) -> Option<String> {
    if data.is_empty() {
        return None;
    }
    let max = data
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let row = 30.0;
    let label_w = 150.0;
    let width = 520.0;
    let bar_w = width - label_w - 60.0;
    let height = row * data.len() as f64 + 10.0;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="t"><title>{}</title>"#,
        escape(title)
    );
    for (i, (label, value)) in data.iter().enumerate() {
        let y = 5.0 + i as f64 * row;
        let w = (value / max * bar_w).max(1.0);
        svg.push_str(&format!(
            r#"<text x="{x}" y="{ty}" text-anchor="end" font-size="13" fill="var(--chart-text, #4b5563)">{label}</text><rect x="{bx}" y="{y}" width="{w:.1}" height="20" rx="4" fill="var(--chart-{c}, #2563eb)"/><text x="{vx:.1}" y="{ty}" font-size="13" fill="var(--chart-text, #4b5563)">{value}</text>"#,
            x = label_w - 8.0,
            ty = y + 15.0,
            label = escape(label),
            bx = label_w,
            c = i % 6 + 1,
            vx = label_w + w + 6.0,
            value = value,
        ));
    }
    svg.push_str("</svg>");
    Some(svg)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
