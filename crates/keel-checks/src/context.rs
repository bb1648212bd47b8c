//! Shared machinery for the rule sets: applying the policy to findings as they are made,
//! snippets, and helpers used by both email and page rules.

use crate::finding::{Finding, Location, Part, Report, shorten};
use crate::html::Document;
use crate::policy::Policy;
use crate::rules::Rule;

/// Collects findings for one input, applying the policy's disabled rules and severities.
pub(crate) struct Ctx<'a> {
    pub policy: &'a Policy,
    pub findings: Vec<Finding>,
}

impl<'a> Ctx<'a> {
    pub fn new(policy: &'a Policy) -> Self {
        Ctx {
            policy,
            findings: Vec::new(),
        }
    }

    /// True when the rule runs under this policy.
    pub fn on(&self, rule: &Rule) -> bool {
        !self.policy.is_disabled(rule.id, None)
    }

    /// True when any of the rules runs.
    pub fn any(&self, rules: &[Rule]) -> bool {
        rules.iter().any(|r| self.on(r))
    }

    /// Adds a finding unless its rule (or feature) is disabled; applies severity overrides.
    pub fn push(&mut self, mut f: Finding) {
        if self.policy.is_disabled(&f.rule, f.feature.as_deref()) {
            return;
        }
        f.severity = self
            .policy
            .severity(&f.rule, f.feature.as_deref(), f.severity);
        self.findings.push(f);
    }

    /// Adds a finding at an element or offset of the document.
    pub fn at(&mut self, doc: &Document, rule: &Rule, offset: usize, message: impl Into<String>) {
        let f = Finding::new(rule, message).at(Some(doc.locate(offset)), snippet_at(doc, offset));
        self.push(f);
    }

    /// Adds one finding for many occurrences: the first is the location, the rest are listed.
    pub fn grouped(
        &mut self,
        doc: &Document,
        rule: &Rule,
        offsets: &[usize],
        message: impl Into<String>,
    ) {
        let Some(&first) = offsets.first() else {
            return;
        };
        let mut f = Finding::new(rule, message).at(Some(doc.locate(first)), snippet_at(doc, first));
        f.more_locations = offsets.iter().skip(1).map(|&o| doc.locate(o)).collect();
        self.push(f);
    }

    /// Adds a finding about the whole input.
    pub fn whole(&mut self, rule: &Rule, message: impl Into<String>) {
        self.push(Finding::new(rule, message));
    }

    /// Adds a finding about message headers at a line.
    pub fn header(
        &mut self,
        rule: &Rule,
        line: Option<u32>,
        snippet: &str,
        message: impl Into<String>,
    ) {
        let f = Finding::new(rule, message)
            .at(line.map(|line| Location { line, column: 1 }), snippet)
            .in_part(Part::Headers);
        self.push(f);
    }

    pub fn into_report(self, html_bytes: usize, encoding: &str) -> Report {
        let mut r = Report {
            findings: self.findings,
            html_bytes,
            encoding: encoding.to_owned(),
        };
        r.sort();
        r
    }
}

/// The source from `offset` to the end of the tag or line, shortened.
pub(crate) fn snippet_at(doc: &Document, offset: usize) -> String {
    snippet_in(&doc.source, offset)
}

/// The text from `offset` to the end of the tag or line, shortened.
pub(crate) fn snippet_in(source: &str, offset: usize) -> String {
    let rest = source.get(offset..).unwrap_or("");
    // Only the first 160 bytes can be shown: minified sources are one line megabytes long.
    let head = rest.as_bytes().get(..160).unwrap_or(rest.as_bytes());
    let mut end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    let line = &rest[..end];
    let cut = if line.starts_with('<') {
        line.find('>').map_or(line.len(), |i| i + 1)
    } else {
        line.len()
    };
    shorten(&line[..cut])
}

/// The host of an http(s) URL, lowercase, without a leading `www.`.
pub(crate) fn host_of(url: &url::Url) -> Option<String> {
    url.host_str()
        .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
}

/// True when `host` is `domain` or one of its subdomains.
pub(crate) fn host_matches(host: &str, domain: &str) -> bool {
    let domain = domain
        .trim()
        .trim_start_matches("*.")
        .trim_start_matches("www.")
        .to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// True when a URL contains an ESP merge tag such as `{{url}}`, `*|UNSUB|*` or `%%view%%`, which
/// is filled in at send time and cannot be validated now.
pub(crate) fn has_merge_tag(s: &str) -> bool {
    ["{{", "*|", "%%", "[[", "${", "{%", "<%", "#{"]
        .iter()
        .any(|t| s.contains(t))
}

/// True when an inline style hides the element (the usual preheader techniques).
pub(crate) fn style_hides(style: &str) -> bool {
    let s: String = style
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    [
        "display:none",
        "mso-hide:all",
        "max-height:0",
        "visibility:hidden",
        "opacity:0",
        "font-size:0",
        "height:0",
        "max-width:0",
    ]
    .iter()
    .any(|p| s.contains(p))
}
