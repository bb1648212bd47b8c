//! Rule fixtures from `testdata/`: each reports exactly its seeded defects at the right lines.

use keel_checks::{Part, Policy, Report, Severity, check_email, check_message, check_page, output};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/testdata/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_default()
}

/// (rule, line) of every finding except client support, in report order.
fn defects(report: &Report) -> Vec<(String, Option<u32>)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule != "client-support")
        .map(|f| (f.rule.clone(), f.location.map(|l| l.line)))
        .collect()
}

fn owned(list: &[(&str, Option<u32>)]) -> Vec<(String, Option<u32>)> {
    list.iter().map(|(r, l)| ((*r).to_owned(), *l)).collect()
}

#[test]
fn seeded_template_reports_exactly_its_defects() {
    let report = check_email(&fixture("email/seeded.html"), &Policy::default());
    assert_eq!(
        defects(&report),
        owned(&[
            ("dark-mode", None),
            ("preheader", None),
            ("spam-caps", None),
            ("spam-exclamation", None),
            ("unsubscribe-link", None),
            ("html-dir", Some(2)),
            ("html-lang", Some(2)),
            ("img-http", Some(10)),
            ("img-alt", Some(11)),
            ("img-dimensions", Some(11)),
            ("heading-order", Some(13)),
            ("link-empty", Some(15)),
            ("link-javascript", Some(16)),
            ("url-shortener", Some(17)),
            ("link-text-mismatch", Some(18)),
            ("link-http", Some(19)),
        ])
    );
    assert!(report.has_errors());
}

#[test]
fn clean_template_has_no_errors_or_rule_warnings() {
    let report = check_email(&fixture("email/clean.html"), &Policy::default());
    assert_eq!(defects(&report), vec![]);
    assert!(!report.has_errors());
}

#[test]
fn locations_point_at_the_element() {
    let report = check_email(&fixture("email/seeded.html"), &Policy::default());
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "link-javascript")
        .unwrap();
    let loc = f.location.unwrap();
    assert_eq!((loc.line, loc.column), (16, 4));
    assert_eq!(f.snippet, "<a href=\"javascript:alert(1)\">");
}

#[test]
fn client_support_is_grouped_per_feature_with_clients() {
    let html = "<html lang=en><body>\n<div style=\"display:flex\">a</div>\n<div style=\"display:flex\">b</div>\n</body></html>";
    let report = check_email(html.as_bytes(), &Policy::default());
    let flex: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.feature.as_deref() == Some("css-display-flex"))
        .collect();
    assert_eq!(flex.len(), 1);
    let f = flex[0];
    assert_eq!(f.location.map(|l| (l.line, l.column)), Some((2, 13)));
    assert_eq!(f.more_locations.len(), 1);
    assert_eq!(f.severity, Severity::Warning);
    let outlook = f
        .clients
        .iter()
        .find(|c| c.client == "outlook.windows")
        .unwrap();
    assert_eq!(outlook.support, "unsupported");
    assert!(outlook.versions.iter().any(|v| v == "2019"));
}

#[test]
fn target_clients_narrow_the_findings() {
    let html = b"<div style=\"display:flex\">a</div>";
    let apple = keel_checks::ClientSet::parse(["apple-mail"]).unwrap();
    let report = check_email(html, &Policy::default().with_clients(apple));
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.feature.as_deref() == Some("css-display-flex"))
    );
}

#[test]
fn utm_and_brand_policy() {
    let yaml = "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: p}\nspec:\n  severity: {link-utm: error}\n  email:\n    utm: {required: [utm_source, utm_campaign], domains: [example.com]}\n  brand:\n    required_footer_text: [Example Ltd]\n    approved_link_domains: [example.com]\n";
    let policy = Policy::from_yaml(yaml).unwrap();
    let html = "<p><a href=\"https://www.example.com/a?utm_source=x\">A</a>\n<a href=\"https://other.org/\">B</a>\n<a href=\"https://example.com/unsubscribe\">Unsubscribe</a></p>";
    let report = check_email(html.as_bytes(), &policy);
    let utm = report
        .findings
        .iter()
        .find(|f| f.rule == "link-utm")
        .unwrap();
    assert_eq!(utm.severity, Severity::Error);
    assert!(utm.message.contains("utm_campaign") && !utm.message.contains("utm_source"));
    let domain = report
        .findings
        .iter()
        .find(|f| f.rule == "link-domain")
        .unwrap();
    assert_eq!(domain.location.map(|l| l.line), Some(2));
    assert!(report.findings.iter().any(|f| f.rule == "brand-footer"));
    assert_eq!(
        report
            .findings
            .iter()
            .filter(|f| f.rule == "link-utm")
            .count(),
        1
    );
}

#[test]
fn gmail_clipping_is_measured_in_bytes() {
    let filler = "é".repeat(53 * 1024); // 106 KB of UTF-8 from 53 K characters
    let html = format!("<html lang=en><body><p>{filler}</p></body></html>");
    let report = check_email(html.as_bytes(), &Policy::default());
    assert!(report.findings.iter().any(|f| f.rule == "gmail-clipping"));
    let near = format!(
        "<html lang=en><body><p>{}</p></body></html>",
        "a".repeat(95 * 1024)
    );
    let report = check_email(near.as_bytes(), &Policy::default());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "gmail-clipping-near")
    );
}

#[test]
fn layout_tables_and_contrast() {
    let html = "<table><tr><td>x</td></tr></table>\n<table><tr><th>h</th></tr></table>\n<table><tr><td style=\"color:#aaaaaa;background-color:#ffffff\">light text</td></tr></table>";
    let report = check_email(html.as_bytes(), &Policy::default());
    let t = report
        .findings
        .iter()
        .find(|f| f.rule == "table-role")
        .unwrap();
    assert_eq!(t.location.map(|l| l.line), Some(1));
    assert_eq!(t.more_locations.len(), 1);
    let c = report
        .findings
        .iter()
        .find(|f| f.rule == "contrast")
        .unwrap();
    assert_eq!(c.location.map(|l| l.line), Some(3));
}

#[test]
fn good_message_passes_header_rules() {
    let report = check_message(&fixture("message/good.eml"), &Policy::default());
    assert!(
        !report.findings.iter().any(|f| f.part != Part::Html),
        "{:?}",
        defects(&report)
    );
    assert!(!report.has_errors());
}

#[test]
fn bad_message_reports_header_rules() {
    let report = check_message(&fixture("message/bad.eml"), &Policy::default());
    let headers: Vec<(String, Option<u32>)> = report
        .findings
        .iter()
        .filter(|f| f.part != Part::Html)
        .map(|f| (f.rule.clone(), f.location.map(|l| l.line)))
        .collect();
    assert_eq!(
        headers,
        owned(&[
            ("text-part", None),
            ("list-unsubscribe-post", None),
            ("from-header", Some(1)),
            ("reply-to", Some(4)),
            ("list-unsubscribe", Some(5)),
            ("dkim-coverage", Some(6)),
        ])
    );
    // The ISO-8859-1 quoted-printable HTML part was decoded: the French unsubscribe link counts.
    assert!(!report.findings.iter().any(|f| f.rule == "unsubscribe-link"));
    assert!(!report.findings.iter().any(|f| f.rule == "postal-address"));
}

#[test]
fn landing_page_rules() {
    let report = check_page(&fixture("page/landing.html"), &Policy::default());
    assert_eq!(
        defects(&report),
        owned(&[
            ("privacy-link", None),
            ("viewport", None),
            ("script-consent", Some(5)),
            ("script-unknown", Some(7)),
            ("form-consent", Some(10)),
            ("form-consent", Some(10)),
            ("form-validation", Some(10)),
            ("form-label", Some(11)),
            ("form-validation", Some(11)),
            ("img-alt", Some(15)),
        ])
    );
    let good = check_page(&fixture("page/good.html"), &Policy::default());
    assert_eq!(defects(&good), vec![]);
}

#[test]
fn required_tags_per_policy() {
    let yaml = "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: p}\nspec:\n  page:\n    required_tags: [Google Tag Manager, LinkedIn Insight Tag]\n";
    let report = check_page(
        &fixture("page/good.html"),
        &Policy::from_yaml(yaml).unwrap(),
    );
    let missing: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule == "tracking-tag")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(missing.len(), 1);
    assert!(missing[0].starts_with("LinkedIn Insight Tag"));
}

#[test]
fn bad_input_never_panics() {
    let policy = Policy::default();
    let binary = check_email(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0", &policy);
    assert_eq!(binary.findings[0].rule, "input-unreadable");
    let latin1 = check_email(b"<meta charset=iso-8859-1><p>Caf\xe9</p>", &policy);
    assert_eq!(latin1.encoding, "windows-1252");
    let invalid = check_email(b"<p>bad \xff\xfe utf8</p>", &policy);
    assert!(invalid.findings.iter().any(|f| f.rule == "input-encoding"));
    let deep = "<div>".repeat(50_000) + "<table><tr><td>x";
    let _ = check_email(deep.as_bytes(), &policy);
    let unterminated = check_email(b"<style>p { color: red; @media (x { a { b: c", &policy);
    assert!(!unterminated.findings.is_empty());
    let big =
        "<p>Hello <a href=\"https://example.com/?a=1\">link</a></p>\n".repeat(2 * 1024 * 1024 / 52);
    let report = check_email(big.as_bytes(), &policy);
    assert!(report.findings.iter().any(|f| f.rule == "gmail-clipping"));
    let not_mail = check_message(b"\0\0\0binary", &policy);
    assert_eq!(not_mail.findings[0].rule, "input-unreadable");
    let _ = check_page(
        b"<form><input><input type=checkbox checked></form>",
        &policy,
    );
}

#[test]
fn json_and_sarif_shapes() {
    let reports = vec![(
        "seeded.html".to_owned(),
        check_email(&fixture("email/seeded.html"), &Policy::default()),
    )];
    let rows = serde_json::to_value(output::rows(&reports)).unwrap();
    let first = &rows[0];
    for key in [
        "file", "rule", "severity", "line", "column", "message", "help", "clients",
    ] {
        assert!(first.get(key).is_some(), "row lacks {key}");
    }
    let sarif = output::sarif(&reports);
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "keel-checks");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), reports[0].1.findings.len());
    let js = results
        .iter()
        .find(|r| r["ruleId"] == "link-javascript")
        .unwrap();
    assert_eq!(js["level"], "error");
    assert_eq!(
        js["locations"][0]["physicalLocation"]["region"]["startLine"],
        16
    );
    assert_eq!(
        js["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "seeded.html"
    );
}

/// Seeded mutations of the fixtures (byte flips, truncations, splices): every entry point must
/// return a report. The cargo-fuzz target in `fuzz/` explores the same property without bounds.
#[test]
fn mutated_fixtures_never_panic() {
    let seeds: Vec<Vec<u8>> = [
        "email/seeded.html",
        "email/clean.html",
        "message/bad.eml",
        "page/landing.html",
    ]
    .iter()
    .map(|p| fixture(p))
    .collect();
    let mut state: u64 = 0x5eed_cafe;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap_or(0)
    };
    let policy = Policy::default();
    for round in 0..150 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..(1 + next() % 8) {
            if bytes.is_empty() {
                break;
            }
            let at = next() % bytes.len();
            match next() % 4 {
                0 => bytes[at] = u8::try_from(next() % 256).unwrap_or(0),
                1 => bytes.truncate(at),
                2 => {
                    let piece: Vec<u8> = bytes[at..].iter().take(next() % 64).copied().collect();
                    let to = next() % bytes.len().max(1);
                    bytes.splice(to..to, piece);
                }
                _ => bytes
                    .splice(at..at, b"<style>@media{".iter().copied())
                    .for_each(drop),
            }
        }
        let _ = check_email(&bytes, &policy);
        let _ = check_message(&bytes, &policy);
        let _ = check_page(&bytes, &policy);
    }
}

/// A policy that keeps only client support parses a lighter document; the client-support
/// findings must be identical to a full run's.
#[test]
fn client_support_only_policy_gives_the_same_findings() {
    let others: Vec<&str> = keel_checks::rules::ALL
        .iter()
        .map(|r| r.id)
        .filter(|id| *id != "client-support")
        .collect();
    let yaml = format!(
        "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {{name: p}}\nspec:\n  disabled: [{}]\n",
        others.join(", ")
    );
    let light = Policy::from_yaml(&yaml).unwrap();
    for path in ["email/seeded.html", "email/clean.html"] {
        let full: Vec<_> = check_email(&fixture(path), &Policy::default())
            .findings
            .into_iter()
            .filter(|f| f.rule == "client-support")
            .collect();
        let only = check_email(&fixture(path), &light).findings;
        assert!(!full.is_empty());
        assert_eq!(full, only, "{path}");
    }
}
