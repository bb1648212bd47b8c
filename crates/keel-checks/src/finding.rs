//! Findings: what a check reports, where, why it matters and how to fix it.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// How serious a finding is. `Error` findings block a send or launch.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the send or launch.
    Error,
    /// Should be fixed; does not block.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Where a finding is in the checked source: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// Which part of an input a location refers to: the HTML document, or the headers of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// The HTML document (for a message: its decoded HTML body part).
    #[default]
    Html,
    /// The header block of a message.
    Headers,
    /// The message as a whole (size, structure).
    Message,
}

/// One email client whose support of a feature is missing or partial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientImpact {
    /// Client id, `family.platform` as in caniemail, e.g. `outlook.windows`.
    pub client: String,
    /// Display name, e.g. `Outlook (Windows)`.
    pub name: String,
    /// `unsupported` or `partial`.
    pub support: String,
    /// The tested versions with this support, e.g. `["2007", "2010"]` or the latest test date.
    pub versions: Vec<String>,
    /// The caniemail notes that qualify a partial result, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One problem (or notice) found by a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `img-alt` or `client-support`.
    pub rule: String,
    /// Severity after the policy has been applied.
    pub severity: Severity,
    /// Which part of the input the location is in.
    pub part: Part,
    /// First occurrence; `None` when the finding is about the whole input (e.g. a missing element).
    pub location: Option<Location>,
    /// The offending source, shortened to one line.
    pub snippet: String,
    /// What is wrong, specifically.
    pub message: String,
    /// Why it matters (usually the rule's own text, shared rather than copied per finding).
    pub why: Cow<'static, str>,
    /// How to fix it (usually the rule's own text, shared rather than copied per finding).
    pub help: Cow<'static, str>,
    /// For client-support findings: the caniemail feature slug, e.g. `css-display-flex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// For client-support findings: the target clients that lack (or only partly have) support.
    /// Shared between findings of the same feature (computed once per policy).
    #[serde(default, skip_serializing_if = "no_clients")]
    pub clients: std::sync::Arc<[ClientImpact]>,
    /// Further occurrences of the same problem (grouped findings), in source order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_locations: Vec<Location>,
}

impl Finding {
    /// A finding with the rule's default why/help text and no location yet.
    pub fn new(rule: &crate::rules::Rule, message: impl Into<String>) -> Self {
        Finding {
            rule: rule.id.to_owned(),
            severity: rule.severity,
            part: Part::Html,
            location: None,
            snippet: String::new(),
            message: message.into(),
            why: Cow::Borrowed(rule.why),
            help: Cow::Borrowed(rule.help),
            feature: None,
            clients: std::sync::Arc::default(),
            more_locations: Vec::new(),
        }
    }

    /// Sets the location and snippet.
    pub fn at(mut self, location: Option<Location>, snippet: impl Into<String>) -> Self {
        self.location = location;
        self.snippet = shorten(&snippet.into());
        self
    }

    /// Sets the part of the input the location refers to.
    pub fn in_part(mut self, part: Part) -> Self {
        self.part = part;
        self
    }

    /// Replaces the default help text.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Cow::Owned(help.into());
        self
    }
}

/// The outcome of checking one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Findings sorted by part, location, then rule.
    pub findings: Vec<Finding>,
    /// Size of the checked HTML in bytes (UTF-8), as Gmail counts it for clipping.
    pub html_bytes: usize,
    /// The character encoding the input was decoded from.
    pub encoding: String,
}

impl Report {
    /// True when any finding is an error: the send or launch should be blocked.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Number of findings at a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Adds findings made elsewhere (e.g. accessibility findings from a rendered page) and
    /// restores the report's order.
    pub fn extend(&mut self, findings: impl IntoIterator<Item = Finding>) {
        self.findings.extend(findings);
        self.sort();
    }

    pub(crate) fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (part_rank(a.part), a.location, &a.rule, &a.feature).cmp(&(
                part_rank(b.part),
                b.location,
                &b.rule,
                &b.feature,
            ))
        });
    }
}

fn part_rank(part: Part) -> u8 {
    match part {
        Part::Message => 0,
        Part::Headers => 1,
        Part::Html => 2,
    }
}

fn no_clients(clients: &std::sync::Arc<[ClientImpact]>) -> bool {
    clients.is_empty()
}

/// Shortens a snippet to one line of at most 120 characters.
pub(crate) fn shorten(s: &str) -> String {
    // One pass: collapse whitespace and stop after 121 characters (snippets are made for every
    // finding, and the source line they come from can be megabytes long when minified).
    let mut out = String::with_capacity(s.len().min(128));
    let mut chars = 0usize;
    let mut cut = 0usize;
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = chars > 0;
            continue;
        }
        for c in if space {
            [Some(' '), Some(c)]
        } else {
            [Some(c), None]
        }
        .into_iter()
        .flatten()
        {
            if chars == 117 {
                cut = out.len();
            } else if chars == 120 {
                out.truncate(cut);
                out.push('…');
                return out;
            }
            out.push(c);
            chars += 1;
        }
        space = false;
    }
    out
}

#[cfg(test)]
mod shorten_tests {
    use super::shorten;

    /// The one-pass version says exactly what collapsing then cutting says.
    #[test]
    fn collapses_whitespace_and_cuts_at_120_characters() {
        let reference = |s: &str| {
            let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if one.chars().count() > 120 {
                let mut cut: String = one.chars().take(117).collect();
                cut.push('…');
                cut
            } else {
                one
            }
        };
        for s in [
            "",
            "  a  b\n\tc  ",
            &"é ".repeat(59),
            &"x".repeat(120),
            &"x".repeat(121),
            &format!("  {} ", "ab  ".repeat(40)),
            &"word ".repeat(30),
        ] {
            assert_eq!(shorten(s), reference(s), "{s:?}");
        }
    }
}
