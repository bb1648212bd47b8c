//! Machine-readable outputs shared by the CLI and an HTTP API: flat JSON rows and SARIF 2.1.0.

use crate::finding::{ClientImpact, Finding, Report};
use crate::rules;
use serde::Serialize;
use serde_json::{Value, json};

/// One flat JSON row: `{file, rule, severity, line, column, message, help, clients}`.
#[derive(Debug, Clone, Serialize)]
pub struct Row<'a> {
    /// The checked file or URL.
    pub file: &'a str,
    /// Rule id.
    pub rule: &'a str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// 1-based line, or null.
    pub line: Option<u32>,
    /// 1-based column, or null.
    pub column: Option<u32>,
    /// `html`, `headers` or `message`.
    pub part: crate::finding::Part,
    /// What is wrong.
    pub message: &'a str,
    /// Why it matters.
    pub why: &'a str,
    /// How to fix it.
    pub help: &'a str,
    /// Offending source.
    pub snippet: &'a str,
    /// caniemail feature, for client-support findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<&'a str>,
    /// Affected clients, e.g. `Outlook (Windows) 2007, 2010 (unsupported)`.
    pub clients: Clients<'a>,
    /// How many times the problem occurs.
    pub occurrences: usize,
}

/// A finding's affected clients, serialised as a list of labels such as
/// `Outlook (Windows) 2007, 2010 (unsupported)` (written straight to the output, since every
/// client-support row has them).
#[derive(Debug, Clone, Copy)]
pub struct Clients<'a>(pub &'a [ClientImpact]);

impl Clients<'_> {
    /// The labels as strings.
    pub fn labels(&self) -> Vec<String> {
        self.0.iter().map(|c| Label(c).to_string()).collect()
    }
}

impl Serialize for Clients<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Label))
    }
}

/// One client's label: name, versions and support level.
struct Label<'a>(&'a ClientImpact);

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self.0;
        write!(f, "{} ", c.name)?;
        for (i, v) in c.versions.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(v)?;
        }
        write!(f, " ({})", c.support)
    }
}

impl Serialize for Label<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Flattens reports into JSON rows.
pub fn rows<'a>(reports: &'a [(String, Report)]) -> Vec<Row<'a>> {
    // Sized up front: a run over many templates has tens of thousands of rows.
    let mut out = Vec::with_capacity(reports.iter().map(|(_, r)| r.findings.len()).sum());
    out.extend(
        reports
            .iter()
            .flat_map(|(file, r)| r.findings.iter().map(move |f| row(file, f))),
    );
    out
}

fn row<'a>(file: &'a str, f: &'a Finding) -> Row<'a> {
    Row {
        file,
        rule: &f.rule,
        severity: f.severity.as_str(),
        line: f.location.map(|l| l.line),
        column: f.location.map(|l| l.column),
        part: f.part,
        message: &f.message,
        why: &f.why,
        help: &f.help,
        snippet: &f.snippet,
        feature: f.feature.as_deref(),
        clients: Clients(&f.clients),
        occurrences: 1 + f.more_locations.len(),
    }
}

/// A SARIF 2.1.0 log with one run, the full rule catalogue and one result per finding.
pub fn sarif(reports: &[(String, Report)]) -> Value {
    let rules_json: Vec<Value> = rules::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.why},
                "help": {"text": r.help},
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|(file, r)| {
            r.findings.iter().map(move |f| {
                let mut physical = json!({"artifactLocation": {"uri": file}});
                if let Some(l) = f.location {
                    physical["region"] = json!({
                        "startLine": l.line,
                        "startColumn": l.column,
                        "snippet": {"text": f.snippet},
                    });
                }
                let related: Vec<Value> = f
                    .more_locations
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        json!({"id": i + 1, "physicalLocation": {"artifactLocation": {"uri": file},
                            "region": {"startLine": l.line, "startColumn": l.column}}})
                    })
                    .collect();
                let mut result = json!({
                    "ruleId": f.rule,
                    "ruleIndex": rules::ALL.iter().position(|r| r.id == f.rule
                        || (r.id == "a11y" && f.rule.starts_with("a11y."))).unwrap_or(0),
                    "level": level(f.severity),
                    "message": {"text": format!("{} — {}", f.message, f.help)},
                    "locations": [{"physicalLocation": physical}],
                    "properties": {"part": f.part, "why": f.why},
                });
                if !related.is_empty() {
                    result["relatedLocations"] = Value::Array(related);
                }
                if let Some(feature) = &f.feature {
                    result["properties"]["feature"] = json!(feature);
                    result["properties"]["clients"] = json!(f.clients);
                }
                result
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keel-checks",
                "informationUri": "https://github.com/keel-ops/keel",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules_json,
            }},
            "results": results,
        }],
    })
}

fn level(s: crate::finding::Severity) -> &'static str {
    match s {
        crate::finding::Severity::Error => "error",
        crate::finding::Severity::Warning => "warning",
        crate::finding::Severity::Info => "note",
    }
}
