//! Accessibility findings from axe-core (Deque, MPL-2.0), which runs inside the rendered page
//! (see `keel-preview`): which axe rules apply to an email or a page, and how its violations
//! become located Keel findings with rule ids `a11y.<axe rule id>`.
//!
//! This module does no rendering: it says how to run axe ([`run_options`]) and reads its results
//! ([`parse_results`], [`findings`]), so it stays pure and testable without a browser.

use crate::context::Ctx;
use crate::finding::{Finding, Location, Severity, shorten};
use crate::policy::Policy;
use crate::source::LineIndex;
use serde::Deserialize;

/// What is being checked: the applicable axe rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An HTML email: no landmarks, no keyboard navigation, no frames; the subject is the title.
    Email,
    /// A landing page: every WCAG A/AA and best-practice rule.
    Page,
}

/// axe rules that do not apply to email. Mail clients wrap the message in their own page (with
/// its own landmarks, title, viewport and skip links), readers do not tab through a message,
/// and frames, media and scripts are stripped by clients anyway.
pub const NOT_FOR_EMAIL: &[&str] = &[
    "accesskeys",
    "audio-caption",
    "bypass",
    "document-title",
    "frame-focusable-content",
    "frame-tested",
    "frame-title",
    "frame-title-unique",
    "landmark-banner-is-top-level",
    "landmark-complementary-is-top-level",
    "landmark-contentinfo-is-top-level",
    "landmark-main-is-top-level",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "landmark-no-duplicate-main",
    "landmark-one-main",
    "landmark-unique",
    "meta-refresh",
    "meta-refresh-no-exceptions",
    "meta-viewport",
    "meta-viewport-large",
    "no-autoplay-audio",
    "page-has-heading-one",
    "region",
    "scrollable-region-focusable",
    "skip-link",
    "tabindex",
    "video-caption",
];

/// axe rules that do not apply to a page checked offline (frames are not loaded into the check).
pub const NOT_FOR_PAGES: &[&str] = &["frame-tested"];

/// The WCAG levels and best practices Keel asks axe for.
const TAGS: &[&str] = &[
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

/// The options object for `axe.run` (JSON), for an email or a page.
pub fn run_options(target: Target) -> String {
    let off = match target {
        Target::Email => NOT_FOR_EMAIL,
        Target::Page => NOT_FOR_PAGES,
    };
    let rules: serde_json::Map<String, serde_json::Value> = off
        .iter()
        .map(|id| ((*id).to_owned(), serde_json::json!({ "enabled": false })))
        .collect();
    serde_json::json!({
        "runOnly": { "type": "tag", "values": TAGS },
        "rules": rules,
        "resultTypes": ["violations"],
    })
    .to_string()
}

/// One axe violation: a rule and the elements that fail it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// axe rule id, e.g. `image-alt`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    #[serde(default)]
    pub impact: Option<String>,
    /// What the rule checks, e.g. "Ensures <img> elements have alternate text".
    #[serde(default)]
    pub description: String,
    /// One-line help, e.g. "Images must have alternative text".
    #[serde(default)]
    pub help: String,
    /// Deque University page for the rule.
    #[serde(default)]
    pub help_url: String,
    /// The failing elements.
    #[serde(default)]
    pub nodes: Vec<Node>,
}

/// One failing element.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// The element's outer HTML as serialised by the browser (possibly truncated by axe).
    #[serde(default)]
    pub html: String,
    /// axe's "Fix any of the following: …" text.
    #[serde(default)]
    pub failure_summary: Option<String>,
}

/// Why axe results could not be read.
#[derive(Debug, thiserror::Error)]
#[error("axe-core results are not readable: {0}")]
pub struct ResultsError(String);

/// Reads the `violations` array of axe results (or the whole results object).
pub fn parse_results(json: &str) -> Result<Vec<Violation>, ResultsError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| ResultsError(e.to_string()))?;
    let list = match value {
        serde_json::Value::Object(mut o) => o
            .remove("violations")
            .ok_or_else(|| ResultsError("no `violations` in the results".into()))?,
        v => v,
    };
    serde_json::from_value(list).map_err(|e| ResultsError(e.to_string()))
}

/// The default severity of an axe impact: critical problems block, serious and moderate ones
/// should be fixed, minor ones are notes. Policies can override per `a11y.<id>` rule.
pub fn severity(impact: Option<&str>) -> Severity {
    match impact {
        Some("critical") => Severity::Error,
        Some("serious" | "moderate") => Severity::Warning,
        _ => Severity::Info,
    }
}

/// Finds a failing element's start tag in the source: the first element not yet used with the
/// same name and exactly the same attributes as the browser's serialisation.
fn locate(snippet: &str, elements: &[crate::html::Element], used: &mut [bool]) -> Option<usize> {
    let tags = crate::tags::scan(snippet);
    let wanted = tags.elements.first()?;
    let same = |e: &crate::html::Element| {
        e.name == wanted.name
            && e.attrs.len() == wanted.attrs.len()
            && wanted
                .attrs
                .iter()
                .all(|(n, v)| e.attr(n).is_some_and(|ev| ev == v))
    };
    let (i, e) = elements
        .iter()
        .enumerate()
        .find(|(i, e)| !used.get(*i).copied().unwrap_or(true) && same(e))?;
    if let Some(slot) = used.get_mut(i) {
        *slot = true;
    }
    Some(e.offset)
}

/// Turns axe violations into findings located in `html` (the source that was rendered), one per
/// rule with every failing element, applying the policy's disabled rules and severities.
pub fn findings(html: &[u8], violations: &[Violation], policy: &Policy) -> Vec<Finding> {
    let text = crate::source::decode_html(html, None)
        .map(|d| d.text)
        .unwrap_or_default();
    let elements = crate::tags::scan(&text).elements;
    let lines = LineIndex::new(&text);
    let mut used = vec![false; elements.len()];
    let mut ctx = Ctx::new(policy);
    for v in violations {
        let mut located: Vec<(Option<Location>, &Node)> = v
            .nodes
            .iter()
            .map(|n| {
                let at = locate(&n.html, &elements, &mut used).map(|o| lines.locate(&text, o));
                (at, n)
            })
            .collect();
        located.sort_by_key(|(at, _)| at.map_or((u32::MAX, u32::MAX), |l| (l.line, l.column)));
        let Some(&(first_at, first)) = located.first() else {
            continue;
        };
        let count = match located.len() {
            1 => "1 element".to_owned(),
            n => format!("{n} elements"),
        };
        let mut f = Finding {
            rule: format!("a11y.{}", v.id),
            severity: severity(v.impact.as_deref()),
            message: format!("{} ({count})", v.help),
            why: v.description.clone().into(),
            help: format!(
                "{} See {}",
                first
                    .failure_summary
                    .as_deref()
                    .map(shorten_summary)
                    .unwrap_or_default(),
                v.help_url
            )
            .trim()
            .to_owned()
            .into(),
            ..Finding::new(&crate::rules::A11Y, "")
        }
        .at(first_at, first.html.as_str());
        f.more_locations = located.iter().skip(1).filter_map(|(at, _)| *at).collect();
        ctx.push(f);
    }
    ctx.findings
}

/// axe's failure summary on one line ("Fix any of the following: Element has …").
fn shorten_summary(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 400 {
        shorten(&one)
    } else {
        one
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESULTS: &str = r#"{"violations":[
      {"id":"image-alt","impact":"critical","description":"Ensures <img> elements have alternate text","help":"Images must have alternative text","helpUrl":"https://dequeuniversity.com/rules/axe/4.14/image-alt",
       "nodes":[{"html":"<img src=\"b.png\">","failureSummary":"Fix any of the following:\n  Element does not have an alt attribute"},
                {"html":"<img src=\"a.png\">","failureSummary":"x"}]},
      {"id":"color-contrast","impact":"serious","help":"Elements must meet minimum color contrast ratio thresholds","helpUrl":"u","nodes":[{"html":"<p style=\"color: #aaa\">…</p>"}]}
    ]}"#;

    #[test]
    fn locates_violations_in_the_source_and_groups_per_rule() {
        let html = "<html>\n<body>\n<img src='a.png'>\n  <img src=\"b.png\">\n<p style=\"color: #aaa\">low</p>";
        let v = parse_results(RESULTS).unwrap();
        let f = findings(html.as_bytes(), &v, &Policy::default());
        assert_eq!(f.len(), 2);
        let alt = f.iter().find(|f| f.rule == "a11y.image-alt").unwrap();
        assert_eq!(alt.severity, Severity::Error);
        assert_eq!(alt.location, Some(Location { line: 3, column: 1 }));
        assert_eq!(alt.more_locations, vec![Location { line: 4, column: 3 }]);
        assert!(alt.message.contains("2 elements"));
        assert!(alt.help.contains("dequeuniversity.com"));
        let contrast = f.iter().find(|f| f.rule == "a11y.color-contrast").unwrap();
        assert_eq!(contrast.severity, Severity::Warning);
        assert_eq!(contrast.location, Some(Location { line: 5, column: 1 }));
    }

    #[test]
    fn options_leave_out_page_only_rules_for_email() {
        let email = run_options(Target::Email);
        assert!(email.contains("\"region\":{\"enabled\":false}"));
        assert!(!run_options(Target::Page).contains("region"));
    }

    #[test]
    fn rejects_unreadable_results() {
        assert!(parse_results("not json").is_err());
        assert!(parse_results("{}").is_err());
        assert_eq!(parse_results("[]").unwrap(), vec![]);
    }
}
