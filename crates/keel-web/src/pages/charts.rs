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

/// A column chart of labelled values (e.g. a time series), or `None` when there is nothing to show.
pub fn columns(title: &str, data: &[(String, f64)]) -> Option<String> {
    if data.is_empty() {
        return None;
    }
    let max = data
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let (width, height, bottom, left) = (560.0, 220.0, 24.0, 36.0);
    let plot_h = height - bottom - 10.0;
    let slot = (width - left) / data.len() as f64;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {width} {height}" role="img"><title>{}</title>"#,
        escape(title)
    );
    for frac in [0.0, 0.5, 1.0] {
        let y = 10.0 + plot_h * (1.0 - frac);
        svg.push_str(&format!(
            r#"<line x1="{left}" x2="{width}" y1="{y:.1}" y2="{y:.1}" stroke="var(--chart-grid, #e5e7eb)"/><text x="{lx}" y="{ty:.1}" text-anchor="end" font-size="11" fill="var(--chart-text, #4b5563)">{v}</text>"#,
            lx = left - 4.0,
            ty = y + 4.0,
            v = (max * frac).round()
        ));
    }
    for (i, (label, value)) in data.iter().enumerate() {
        let h = value / max * plot_h;
        let x = left + i as f64 * slot + slot * 0.15;
        svg.push_str(&format!(
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="2" fill="var(--chart-1, #2563eb)"><title>{label}: {value}</title></rect>"#,
            y = 10.0 + plot_h - h,
            w = slot * 0.7,
            label = escape(label)
        ));
        if i % 4 == 0 {
            svg.push_str(&format!(
                r#"<text x="{cx:.1}" y="{ty}" text-anchor="middle" font-size="11" fill="var(--chart-text, #4b5563)">{}</text>"#,
                escape(label),
                cx = x + slot * 0.35,
                ty = height - 6.0
            ));
        }
    }
    svg.push_str("</svg>");
    Some(svg)
}
