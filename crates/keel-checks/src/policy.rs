//! The `QualityPolicy` ops-as-code document: which rules are errors, required UTM parameters,
//! target clients, brand rules, the tag registry and page limits.
//!
//! ```yaml
//! apiVersion: keel/v1
//! kind: QualityPolicy
//! metadata: {name: newsletters}
//! spec:
//!   severity: {img-alt: error, "client-support/css-display-flex": error}
//!   disabled: [html-dir]
//!   email:
//!     clients: [gmail, outlook.windows, apple-mail.ios]
//!     utm: {required: [utm_source, utm_medium, utm_campaign], domains: [example.com]}
//!   brand:
//!     required_footer_text: ["Example Ltd"]
//!     approved_link_domains: [example.com]
//!   page:
//!     required_tags: [Google Tag Manager]
//!     regions: [eu]
//! ```

use crate::caniemail::ClientSet;
use crate::finding::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A problem in a policy document, at a dotted path such as `spec.email.clients[2]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Dotted path inside the document.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Document metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Policy name.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The whole YAML document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityPolicyDocument {
    /// Always `keel/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Always `QualityPolicy`.
    pub kind: String,
    /// Name and description.
    pub metadata: Metadata,
    /// The policy.
    pub spec: QualityPolicy,
}

/// The policy itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityPolicy {
    /// Severity overrides by rule id, or `client-support/<caniemail slug>` for one feature.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Rule ids (or `client-support/<slug>`) not to run.
    #[serde(default)]
    pub disabled: Vec<String>,
    /// Email rules.
    #[serde(default)]
    pub email: EmailPolicy,
    /// Brand rules, for emails and pages.
    #[serde(default)]
    pub brand: BrandPolicy,
    /// Landing-page rules.
    #[serde(default)]
    pub page: PagePolicy,
}

/// Email settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EmailPolicy {
    /// Target clients (`family` or `family.platform` ids from caniemail); empty means the default set.
    pub clients: Vec<String>,
    /// Required UTM parameters.
    pub utm: UtmPolicy,
    /// Preheader length bounds in characters.
    pub preheader_min_chars: usize,
    /// Upper preheader length bound.
    pub preheader_max_chars: usize,
    /// Gmail clipping warning threshold in bytes (the hard limit is 102 KB).
    pub gmail_clip_warn_bytes: usize,
    /// Message size warning threshold in bytes (whole .eml).
    pub max_message_bytes: usize,
    /// Words that count as an unsubscribe link text, beyond the built-in list.
    pub unsubscribe_words: Vec<String>,
}

impl Default for EmailPolicy {
    fn default() -> Self {
        EmailPolicy {
            clients: Vec::new(),
            utm: UtmPolicy::default(),
            preheader_min_chars: 30,
            preheader_max_chars: 140,
            gmail_clip_warn_bytes: 92 * 1024,
            max_message_bytes: 1024 * 1024,
            unsubscribe_words: Vec::new(),
        }
    }
}

/// Which links must carry which UTM parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UtmPolicy {
    /// Parameter names every matching link must carry, e.g. `utm_source`.
    pub required: Vec<String>,
    /// Only links to these domains (and subdomains) are checked; empty means every http(s) link.
    pub domains: Vec<String>,
}

/// Brand rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BrandPolicy {
    /// Texts that must appear in every email (case-insensitive).
    pub required_footer_text: Vec<String>,
    /// Domains links may point to (subdomains included); empty means any.
    pub approved_link_domains: Vec<String>,
}

/// One entry of the tag registry: which vendor a script host belongs to and its consent category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagEntry {
    /// Vendor name, e.g. `Google Analytics`.
    pub vendor: String,
    /// Host pattern: `example.com` matches it and its subdomains; `*.example.com` only subdomains.
    pub host: String,
    /// Consent category: `necessary`, `preferences`, `statistics` or `marketing`.
    pub category: String,
}

/// Landing-page settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PagePolicy {
    /// Vendors (from the registry) whose tag must be on the page.
    pub required_tags: Vec<String>,
    /// Extra registry entries, checked before the built-in registry.
    pub tag_registry: Vec<TagEntry>,
    /// Regions the page serves: `eu` (opt-in checkbox and consent text), `us`, `ca`, ….
    pub regions: Vec<String>,
    /// Consent-text phrases per region; a form must contain one of its region's phrases.
    pub consent_text: BTreeMap<String, Vec<String>>,
    /// Page-weight warning threshold in bytes (HTML plus inline resources).
    pub max_weight_bytes: usize,
    /// Warning threshold for the number of resources the page requests.
    pub max_requests: usize,
}

impl Default for PagePolicy {
    fn default() -> Self {
        PagePolicy {
            required_tags: Vec::new(),
            tag_registry: Vec::new(),
            regions: vec!["eu".into()],
            consent_text: BTreeMap::new(),
            max_weight_bytes: 500 * 1024,
            max_requests: 50,
        }
    }
}

const CATEGORIES: &[&str] = &["necessary", "preferences", "statistics", "marketing"];

/// A validated policy, ready to check with.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The policy as written.
    pub spec: QualityPolicy,
    /// The resolved target clients.
    pub clients: ClientSet,
    /// Client impacts of every caniemail feature for `clients`, computed on first use.
    verdicts: std::sync::OnceLock<Vec<crate::support::Verdict>>,
}

impl Policy {
    /// Validates a spec, returning every problem at once.
    pub fn new(spec: QualityPolicy) -> Result<Policy, Vec<Problem>> {
        let mut problems = Vec::new();
        for id in spec.severity.keys().chain(spec.disabled.iter()) {
            if !is_rule_ref(id) {
                let path = if spec.severity.contains_key(id) {
                    format!("spec.severity.{id}")
                } else {
                    format!(
                        "spec.disabled[{}]",
                        spec.disabled.iter().position(|d| d == id).unwrap_or(0)
                    )
                };
                problems.push(Problem {
                    path,
                    message: format!("unknown rule `{id}`"),
                });
            }
        }
        let clients = if spec.email.clients.is_empty() {
            ClientSet::default()
        } else {
            match ClientSet::parse(spec.email.clients.iter().map(String::as_str)) {
                Ok(c) => c,
                Err(unknown) => {
                    for u in unknown {
                        let i = spec
                            .email
                            .clients
                            .iter()
                            .position(|c| c.trim() == u)
                            .unwrap_or(0);
                        problems.push(Problem {
                            path: format!("spec.email.clients[{i}]"),
                            message: format!("unknown email client `{u}` (use caniemail ids such as `gmail` or `outlook.windows`)"),
                        });
                    }
                    ClientSet::default()
                }
            }
        };
        for (i, p) in spec.email.utm.required.iter().enumerate() {
            if p.trim().is_empty() {
                problems.push(Problem {
                    path: format!("spec.email.utm.required[{i}]"),
                    message: "empty parameter name".into(),
                });
            }
        }
        if spec.email.preheader_min_chars > spec.email.preheader_max_chars {
            problems.push(Problem {
                path: "spec.email.preheader_min_chars".into(),
                message: "is larger than preheader_max_chars".into(),
            });
        }
        for (i, t) in spec.page.tag_registry.iter().enumerate() {
            if !CATEGORIES.contains(&t.category.as_str()) {
                problems.push(Problem {
                    path: format!("spec.page.tag_registry[{i}].category"),
                    message: format!(
                        "unknown consent category `{}` (use one of {})",
                        t.category,
                        CATEGORIES.join(", ")
                    ),
                });
            }
            if t.host.trim().is_empty() {
                problems.push(Problem {
                    path: format!("spec.page.tag_registry[{i}].host"),
                    message: "empty host pattern".into(),
                });
            }
        }
        if problems.is_empty() {
            Ok(Policy {
                spec,
                clients,
                verdicts: std::sync::OnceLock::new(),
            })
        } else {
            Err(problems)
        }
    }

    /// Parses and validates a YAML `QualityPolicy` document.
    pub fn from_yaml(yaml: &str) -> Result<Policy, Vec<Problem>> {
        let doc: QualityPolicyDocument = serde_norway::from_str(yaml).map_err(|e| {
            let path = e.location().map_or_else(
                || "document".to_owned(),
                |l| format!("line {}, column {}", l.line(), l.column()),
            );
            vec![Problem {
                path,
                message: e.to_string(),
            }]
        })?;
        let mut problems = Vec::new();
        if doc.api_version != "keel/v1" {
            problems.push(Problem {
                path: "apiVersion".into(),
                message: format!("expected `keel/v1`, found `{}`", doc.api_version),
            });
        }
        if doc.kind != "QualityPolicy" {
            problems.push(Problem {
                path: "kind".into(),
                message: format!("expected `QualityPolicy`, found `{}`", doc.kind),
            });
        }
        match Policy::new(doc.spec) {
            Ok(p) if problems.is_empty() => Ok(p),
            Ok(_) => Err(problems),
            Err(mut more) => {
                problems.append(&mut more);
                Err(problems)
            }
        }
    }

    /// Replaces the target clients (e.g. from a `--clients` flag).
    pub fn with_clients(mut self, clients: ClientSet) -> Self {
        self.clients = clients;
        self.verdicts = std::sync::OnceLock::new();
        self
    }

    /// The client-support verdict of every caniemail feature (by index) for the target
    /// clients; computed once per policy, so checking many templates costs one lookup per
    /// feature used.
    pub(crate) fn verdicts(&self) -> &[crate::support::Verdict] {
        self.verdicts
            .get_or_init(|| crate::support::verdicts(&self.clients))
    }

    /// True when a rule (or `client-support/<slug>`) is disabled; disabling `a11y` disables
    /// every `a11y.<axe rule>`.
    pub fn is_disabled(&self, rule: &str, feature: Option<&str>) -> bool {
        self.spec.disabled.iter().any(|d| {
            d == rule
                || feature.is_some_and(|f| d.strip_prefix("client-support/") == Some(f))
                || (d == "a11y" && rule.starts_with("a11y."))
        })
    }

    /// The severity of a rule after overrides; a feature-level override wins, and an `a11y`
    /// override applies to every `a11y.<axe rule>` without its own.
    pub fn severity(&self, rule: &str, feature: Option<&str>, default: Severity) -> Severity {
        // Most policies override nothing; this runs for every finding.
        if self.spec.severity.is_empty() {
            return default;
        }
        feature
            .and_then(|f| self.spec.severity.get(&format!("{rule}/{f}")))
            .or_else(|| self.spec.severity.get(rule))
            .or_else(|| {
                rule.starts_with("a11y.")
                    .then(|| self.spec.severity.get("a11y"))
                    .flatten()
            })
            .copied()
            .unwrap_or(default)
    }
}

/// `QualityPolicy` as an ops-as-code kind: `keel check`, `plan` and `apply` accept it, and
/// stored policies can be chosen by name for a check run.
impl keel_manifests::Spec for QualityPolicy {
    const KIND: &'static str = "QualityPolicy";

    fn validate(&self) -> Vec<keel_manifests::Problem> {
        match Policy::new(self.clone()) {
            Ok(_) => Vec::new(),
            Err(problems) => problems
                .into_iter()
                .map(|p| {
                    let path = p.path.strip_prefix("spec.").unwrap_or(&p.path).to_owned();
                    keel_manifests::Problem::error(path, p.message)
                })
                .collect(),
        }
    }
}

/// Registers the `QualityPolicy` kind.
pub fn register(registry: &mut keel_manifests::Registry) {
    registry.register::<QualityPolicy>();
}

fn is_rule_ref(id: &str) -> bool {
    match id.split_once('/') {
        Some(("client-support", slug)) => crate::caniemail::data().has(slug),
        Some(_) => false,
        // axe-core rule ids are lowercase words joined by hyphens (`image-alt`).
        None if id.starts_with("a11y.") => {
            id.len() > 5
                && id[5..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }
        None => crate::rules::by_id(id).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_a_policy_document() {
        let yaml = "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: n}\nspec:\n  severity: {img-alt: error, client-support/css-display-flex: error}\n  email:\n    clients: [gmail, outlook.windows]\n    utm: {required: [utm_source]}\n";
        let p = Policy::from_yaml(yaml).unwrap();
        assert_eq!(
            p.severity("img-alt", None, Severity::Warning),
            Severity::Error
        );
        assert_eq!(
            p.severity(
                "client-support",
                Some("css-display-flex"),
                Severity::Warning
            ),
            Severity::Error
        );
        assert_eq!(p.spec.email.utm.required, vec!["utm_source"]);
    }

    #[test]
    fn reports_every_problem_with_paths() {
        let yaml = "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: n}\nspec:\n  disabled: [nope]\n  email: {clients: [gmail, hotmail]}\n  page:\n    tag_registry: [{vendor: X, host: x.com, category: ads}]\n";
        let problems = Policy::from_yaml(yaml).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "spec.disabled[0]",
                "spec.email.clients[1]",
                "spec.page.tag_registry[0].category"
            ]
        );
    }

    #[test]
    fn rejects_unknown_fields_with_a_location() {
        let problems = Policy::from_yaml(
            "apiVersion: keel/v1\nkind: QualityPolicy\nmetadata: {name: n}\nspec:\n  emial: {}\n",
        )
        .unwrap_err();
        assert!(problems[0].path.starts_with("line 5"), "{problems:?}");
    }
}
