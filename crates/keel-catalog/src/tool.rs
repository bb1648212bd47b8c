//! Tools (platforms) of the martech stack, with the category taxonomy Keel ships.

use chrono::NaiveDate;
use keel_manifests::{Problem, Reference, Spec, push_index};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a tool is for. The taxonomy Keel ships; overlaps inside one category are consolidation
/// candidates unless the category is one where several tools are normal (ads, social).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Sending email campaigns.
    Email,
    /// Marketing automation platforms (nurtures, scoring, journeys).
    MarketingAutomation,
    /// Customer relationship management.
    Crm,
    /// Customer data platforms.
    Cdp,
    /// Web and product analytics.
    WebAnalytics,
    /// Tag management.
    TagManagement,
    /// Consent and cookie management.
    ConsentManagement,
    /// Digital asset management.
    Dam,
    /// Content management systems.
    Cms,
    /// Landing page builders.
    LandingPages,
    /// Paid advertising platforms.
    Ads,
    /// Social media publishing and listening.
    Social,
    /// Work and project management.
    WorkManagement,
    /// Business intelligence and dashboards.
    Bi,
    /// Data warehouses.
    DataWarehouse,
    /// Middleware and integration platforms (iPaaS).
    Middleware,
    /// Data pipelines that load tools' data into a warehouse (ELT).
    DataPipeline,
    /// Email rendering and QA.
    EmailQa,
    /// Experimentation and personalisation.
    Experimentation,
    /// Team chat and collaboration.
    Collaboration,
    /// Webinars and events.
    Events,
    /// Anything else.
    Other,
}

impl Category {
    /// Whether two live tools in this category suggest paying twice for one capability.
    /// Ad and social platforms are channels, not substitutes; collaboration is too broad.
    pub fn overlap_matters(self) -> bool {
        !matches!(
            self,
            Category::Ads | Category::Social | Category::Collaboration | Category::Other
        )
    }

    /// The name used in files, e.g. `marketing_automation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Email => "email",
            Category::MarketingAutomation => "marketing_automation",
            Category::Crm => "crm",
            Category::Cdp => "cdp",
            Category::WebAnalytics => "web_analytics",
            Category::TagManagement => "tag_management",
            Category::ConsentManagement => "consent_management",
            Category::Dam => "dam",
            Category::Cms => "cms",
            Category::LandingPages => "landing_pages",
            Category::Ads => "ads",
            Category::Social => "social",
            Category::WorkManagement => "work_management",
            Category::Bi => "bi",
            Category::DataWarehouse => "data_warehouse",
            Category::Middleware => "middleware",
            Category::DataPipeline => "data_pipeline",
            Category::EmailQa => "email_qa",
            Category::Experimentation => "experimentation",
            Category::Collaboration => "collaboration",
            Category::Events => "events",
            Category::Other => "other",
        }
    }
}

/// Where a tool is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Being evaluated; not bought yet.
    Evaluating,
    /// Bought and being implemented.
    Implementing,
    /// In production use.
    Live,
    /// Still running, but being replaced.
    Deprecated,
    /// Switched off.
    Retired,
}

impl Lifecycle {
    /// Whether the tool is in use or about to be (everything but evaluating and retired).
    pub fn in_service(self) -> bool {
        matches!(
            self,
            Lifecycle::Implementing | Lifecycle::Live | Lifecycle::Deprecated
        )
    }
}

/// The people accountable for a tool, by role.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Owners {
    /// Platform owners: accountable for the platform, its configuration and roadmap.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platform: Vec<String>,
    /// Service owners: accountable for the service its users get.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<String>,
    /// Support leads: first point of contact when it does not work.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub support: Vec<String>,
}

/// Where to find things about a tool.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Links {
    /// User documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// Runbook for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    /// Where requests for this tool come in (form or request type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake: Option<String>,
    /// Where users get help (queue, channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<String>,
    /// The documented release process for changes to this tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_process: Option<String>,
}

/// How a tool is governed: standards and who approves changes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Governance {
    /// The usage policy and standards (naming, templates, permissions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// People who approve changes to the tool.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// The last review of who has access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_review: Option<NaiveDate>,
}

/// A role people play on a tool (admin, builder, approver …) and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// The role's name.
    pub role: String,
    /// What the role may and must do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsibilities: Option<String>,
    /// People holding the role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<String>,
    /// Teams holding the role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
}

/// How success of a tool is measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessMetric {
    /// What is measured, e.g. "weekly active users".
    pub name: String,
    /// The target, e.g. "80% of seats".
    pub target: String,
}

/// A tool (kind `Tool`): one platform of the stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// The product's name as people say it, e.g. "Salesforce Sales Cloud".
    pub display_name: String,
    /// Who sells it.
    pub vendor: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    /// Where it is in its life.
    pub lifecycle: Lifecycle,
    /// Platform owners, service owners and support leads.
    #[serde(default)]
    pub owners: Owners,
    /// Documentation, runbook, intake and support links.
    #[serde(default)]
    pub links: Links,
    /// Whether it holds personal data.
    #[serde(default)]
    pub holds_pii: bool,
    /// Where Keel posts erasure requests for the personal data this tool holds (an `https://`
    /// webhook). Without it, erasure in this tool is a manual task on the subject request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure_endpoint: Option<String>,
    /// Whether sign-in goes through single sign-on.
    #[serde(default)]
    pub sso: bool,
    /// Usage policy and change approvers.
    #[serde(default)]
    pub governance: Governance,
    /// Who does what on the tool.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    /// How success is measured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub success_metrics: Vec<SuccessMetric>,
}

impl Tool {
    /// A tool with only the required fields.
    pub fn new(display_name: &str, vendor: &str, lifecycle: Lifecycle) -> Self {
        Tool {
            display_name: display_name.to_string(),
            vendor: vendor.to_string(),
            categories: Vec::new(),
            lifecycle,
            owners: Owners::default(),
            links: Links::default(),
            holds_pii: false,
            erasure_endpoint: None,
            sso: false,
            governance: Governance::default(),
            roles: Vec::new(),
            success_metrics: Vec::new(),
        }
    }
}

fn people_refs(field: &str, names: &[String], out: &mut Vec<Reference>) {
    for (i, name) in names.iter().enumerate() {
        out.push(Reference::new(push_index(field, i), "Person", name));
    }
}

impl Spec for Tool {
    const KIND: &'static str = "Tool";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (i, category) in self.categories.iter().enumerate() {
            if !seen.insert(category) {
                problems.push(Problem::error(
                    push_index("categories", i),
                    format!("category `{}` is listed twice", category.as_str()),
                ));
            }
        }
        if let Some(url) = &self.erasure_endpoint {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                problems.push(Problem::error("erasure_endpoint", "must be an http(s) URL"));
            } else if !self.holds_pii {
                problems.push(Problem::warning(
                    "erasure_endpoint",
                    "erasure requests are only sent to tools with holds_pii: true",
                ));
            }
        }
        if self.lifecycle == Lifecycle::Live && self.categories.is_empty() {
            problems.push(Problem::warning(
                "categories",
                "a live tool should name at least one category",
            ));
        }
        problems
    }

    fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        people_refs("owners.platform", &self.owners.platform, &mut out);
        people_refs("owners.service", &self.owners.service, &mut out);
        people_refs("owners.support", &self.owners.support, &mut out);
        people_refs("governance.approvers", &self.governance.approvers, &mut out);
        for (i, role) in self.roles.iter().enumerate() {
            people_refs(&format!("roles[{i}].people"), &role.people, &mut out);
            for (j, team) in role.teams.iter().enumerate() {
                out.push(Reference::new(
                    format!("roles[{i}].teams[{j}]"),
                    "Team",
                    team,
                ));
            }
        }
        out
    }
}
