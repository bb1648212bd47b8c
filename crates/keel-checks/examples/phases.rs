//! Times the phases of an email check over a directory of templates (for profiling):
//! `cargo run --release -p keel-checks --example phases -- DIR`.

use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench/checks/out/corpus".into());
    let mut files: Vec<Vec<u8>> = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        if let Ok(bytes) = std::fs::read(entry.path()) {
            files.push(bytes);
        }
    }
    let policy = keel_checks::Policy::default();
    let support_only =
        keel_checks::Policy::from_yaml(include_str!("../../../bench/checks/support-only.yaml"))
            .unwrap_or_default();
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    if std::env::var("ONLY_SUPPORT").is_ok() {
        let t = Instant::now();
        let mut findings = 0;
        for _ in 0..rounds {
            for f in &files {
                let report = keel_checks::check_email(f, &support_only);
                findings += report.findings.len();
            }
        }
        println!(
            "check_email (client support only): {:?} ({findings} findings)",
            t.elapsed()
        );
        return;
    }
    let _ = keel_checks::caniemail::data();
    let t = Instant::now();
    for f in &files {
        let mut rw = lol_html::HtmlRewriter::new(lol_html::Settings::new(), |_: &[u8]| {});
        let _ = rw.write(f);
        let _ = rw.end();
    }
    println!("bare lol_html: {:?}", t.elapsed());
    let t = Instant::now();
    for f in &files {
        let mut n = 0usize;
        let mut rw = lol_html::HtmlRewriter::new(
            lol_html::Settings::new().append_element_content_handler(lol_html::element!(
                "*",
                |el| {
                    n += el.attributes().len();
                    Ok(())
                }
            )),
            |_: &[u8]| {},
        );
        let _ = rw.write(f);
        let _ = rw.end();
    }
    println!("lol_html with * handler: {:?}", t.elapsed());
    let t = Instant::now();
    for f in &files {
        let mut rw = lol_html::HtmlRewriter::new(
            lol_html::Settings::new().append_element_content_handler(lol_html::element!(
                "*",
                |el| {
                    if el.can_have_content() {
                        el.on_end_tag(lol_html::end_tag!(|_e| Ok(())))?;
                    }
                    Ok(())
                }
            )),
            |_: &[u8]| {},
        );
        let _ = rw.write(f);
        let _ = rw.end();
    }
    println!("lol_html with * and end-tag handlers: {:?}", t.elapsed());
    let t = Instant::now();
    for f in &files {
        let mut n = 0usize;
        let mut rw = lol_html::HtmlRewriter::new(
            lol_html::Settings::new().append_document_content_handler(lol_html::doc_text!(|t| {
                n += t.as_str().len();
                Ok(())
            })),
            |_: &[u8]| {},
        );
        let _ = rw.write(f);
        let _ = rw.end();
    }
    println!("lol_html with doc text handler: {:?}", t.elapsed());
    let t = Instant::now();
    let mut docs = Vec::new();
    for f in &files {
        let text = String::from_utf8_lossy(f).into_owned();
        docs.push(keel_checks::html::Document::parse(text));
    }
    println!("parse: {:?} for {} files", t.elapsed(), files.len());
    let t = Instant::now();
    let mut n = 0;
    for d in docs.iter().flatten() {
        let mut scan = keel_checks::css::Scan::default();
        for s in &d.styles {
            keel_checks::css::scan_stylesheet(&s.css, s.offset, &mut scan);
        }
        for e in &d.elements {
            if let (Some(style), Some(base)) = (e.attr("style"), e.style_offset) {
                keel_checks::css::scan_declarations(style, base, &mut scan);
            }
        }
        n += scan.uses.len();
    }
    println!("css: {:?} ({n} uses)", t.elapsed());
    let t = Instant::now();
    let mut findings = 0;
    for f in &files {
        findings += keel_checks::check_email(f, &support_only).findings.len();
    }
    println!(
        "check_email (client support only): {:?} ({findings} findings)",
        t.elapsed()
    );
    let t = Instant::now();
    let mut findings = 0;
    for f in &files {
        findings += keel_checks::check_email(f, &policy).findings.len();
    }
    println!(
        "check_email (all rules): {:?} ({findings} findings)",
        t.elapsed()
    );
}
