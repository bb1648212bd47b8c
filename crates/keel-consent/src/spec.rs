//! Typed `spec` sections of the ops-as-code kinds `Purpose` and `Jurisdiction`, their defaults and
//! their validation.
//!
//! A jurisdiction names a privacy regime; the regime supplies the defaults (opt-in under GDPR,
//! opt-out of sale and sharing under CCPA/CPRA, Global Privacy Control honoured where the law
//! makes it an opt-out signal) so a document only states what differs.

use serde::{Deserialize, Serialize};

/// One problem found while validating a document: a dotted path inside it and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Path inside the document, e.g. `spec.regions[2]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The legal ground for processing, as recorded with consent events and purposes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    Default,
)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    /// The person agreed (GDPR art. 6(1)(a)).
    #[default]
    Consent,
    /// Legitimate interest (art. 6(1)(f)); the person may object.
    LegitimateInterest,
    /// Needed for a contract with the person (art. 6(1)(b)), e.g. transactional messages.
    Contract,
    /// Required by law (art. 6(1)(c)).
    LegalObligation,
}

/// What a purpose is about; jurisdictions attach rules (GPC, opt-out of sale) to categories.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PurposeCategory {
    /// Newsletters, promotions, product announcements.
    MarketingCommunications,
    /// Building profiles or segments from behaviour.
    Profiling,
    /// Cross-context behavioural (targeted) advertising.
    TargetedAdvertising,
    /// Selling or sharing personal data with third parties.
    SaleOrSharing,
    /// Measuring use of sites and messages.
    Analytics,
    /// Messages needed to provide the service (receipts, security notices).
    Transactional,
}

impl PurposeCategory {
    /// Whether this category is "sale or sharing" in the CCPA/CPRA sense (incl. targeted advertising).
    pub fn is_sale_or_sharing(self) -> bool {
        matches!(self, Self::SaleOrSharing | Self::TargetedAdvertising)
    }
}

/// `spec` of kind `Purpose`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurposeSpec {
    /// Human title shown in the preference centre.
    pub title: String,
    /// Longer explanation.
    #[serde(default)]
    pub description: Option<String>,
    /// What the purpose is about.
    pub category: PurposeCategory,
    /// The legal ground relied on; consent unless stated.
    #[serde(default)]
    pub lawful_basis: LawfulBasis,
    /// Version label of the consent text currently shown for this purpose.
    #[serde(default)]
    pub consent_text_version: Option<String>,
}

impl PurposeSpec {
    /// Every problem in the spec, with paths under `spec.`.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.title.trim().is_empty() {
            problems.push(Problem::new("spec.title", "title must not be empty"));
        }
        if self.category == PurposeCategory::Transactional
            && self.lawful_basis == LawfulBasis::Consent
        {
            problems.push(Problem::new(
                "spec.lawful_basis",
                "transactional purposes rest on contract or legal obligation, not consent",
            ));
        }
        if self
            .consent_text_version
            .as_deref()
            .is_some_and(|v| v.trim().is_empty())
        {
            problems.push(Problem::new(
                "spec.consent_text_version",
                "must not be empty when given",
            ));
        }
        problems
    }
}

/// The privacy regime a jurisdiction follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// EU GDPR (with ePrivacy for electronic marketing).
    Gdpr,
    /// UK GDPR and PECR.
    UkGdpr,
    /// California CCPA as amended by the CPRA.
    Ccpa,
    /// Other US state privacy laws (Virginia, Colorado, Connecticut, Utah …).
    UsState,
    /// No specific regime: opt-out model.
    None,
}

/// Whether a purpose needs a recorded grant (opt-in) or applies until the person objects (opt-out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentModel {
    /// Processing needs a recorded grant.
    OptIn,
    /// Processing is allowed until the person opts out.
    OptOut,
}

/// Subject-request kinds whose deadlines differ by regime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestDeadlineRule {
    /// One calendar month, extendable by two further months (GDPR art. 12(3)).
    OneMonthPlusTwo,
    /// 45 days, extendable once by 45 days (CCPA §1798.130).
    FortyFiveDaysPlusFortyFive,
}

impl Regime {
    /// Default consent model for a purpose category under this regime.
    pub fn default_model(self, category: PurposeCategory) -> ConsentModel {
        match (self, category) {
            (_, PurposeCategory::Transactional) => ConsentModel::OptOut,
            (Self::Gdpr | Self::UkGdpr, _) => ConsentModel::OptIn,
            (Self::Ccpa | Self::UsState | Self::None, _) => ConsentModel::OptOut,
        }
    }

    /// Whether a Global Privacy Control signal is, by law, an opt-out of sale and sharing here.
    pub fn gpc_is_opt_out(self) -> bool {
        // CPRA regulations (§7025) require it; Colorado and Connecticut require universal opt-out
        // mechanisms too. Under GDPR there is no sale opt-out: the model is opt-in already.
        matches!(self, Self::Ccpa | Self::UsState)
    }

    /// The subject-request deadline rule.
    pub fn deadline_rule(self) -> RequestDeadlineRule {
        match self {
            Self::Gdpr | Self::UkGdpr => RequestDeadlineRule::OneMonthPlusTwo,
            Self::Ccpa | Self::UsState | Self::None => {
                RequestDeadlineRule::FortyFiveDaysPlusFortyFive
            }
        }
    }
}

/// `spec` of kind `Jurisdiction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JurisdictionSpec {
    /// Human title.
    pub title: String,
    /// The regime whose defaults apply.
    pub regime: Regime,
    /// Regions covered: ISO 3166-1 alpha-2 countries (`DE`) or ISO 3166-2 subdivisions (`US-CA`).
    pub regions: Vec<String>,
    /// Overrides the regime's consent model for every non-transactional purpose.
    #[serde(default)]
    pub consent_model: Option<ConsentModel>,
    /// Overrides whether Global Privacy Control is honoured as an opt-out of sale/sharing.
    #[serde(default)]
    pub honour_gpc: Option<bool>,
}

impl JurisdictionSpec {
    /// The consent model for a purpose category, after overrides.
    pub fn model_for(&self, category: PurposeCategory) -> ConsentModel {
        match (category, self.consent_model) {
            (PurposeCategory::Transactional, _) => ConsentModel::OptOut,
            (_, Some(model)) => model,
            (_, None) => self.regime.default_model(category),
        }
    }

    /// Whether GPC opts the person out of purposes of this category here.
    pub fn gpc_opts_out(&self, category: PurposeCategory) -> bool {
        category.is_sale_or_sharing() && self.honour_gpc.unwrap_or(self.regime.gpc_is_opt_out())
    }

    /// Every problem in the spec, with paths under `spec.`.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.title.trim().is_empty() {
            problems.push(Problem::new("spec.title", "title must not be empty"));
        }
        if self.regions.is_empty() {
            problems.push(Problem::new(
                "spec.regions",
                "list at least one region (e.g. DE or US-CA)",
            ));
        }
        for (i, region) in self.regions.iter().enumerate() {
            if !is_region_code(region) {
                problems.push(Problem::new(
                    format!("spec.regions[{i}]"),
                    format!("{region:?} is not an ISO 3166 code such as DE or US-CA"),
                ));
            }
            if self.regions[..i].contains(region) {
                problems.push(Problem::new(
                    format!("spec.regions[{i}]"),
                    format!("{region} is listed twice"),
                ));
            }
        }
        if matches!(self.regime, Regime::Gdpr | Regime::UkGdpr)
            && self.consent_model == Some(ConsentModel::OptOut)
        {
            problems.push(Problem::new(
                "spec.consent_model",
                "GDPR requires opt-in consent for electronic marketing; opt_out is not allowed here",
            ));
        }
        if self.regime == Regime::Ccpa && self.honour_gpc == Some(false) {
            problems.push(Problem::new(
                "spec.honour_gpc",
                "CCPA/CPRA requires honouring Global Privacy Control as an opt-out of sale and sharing",
            ));
        }
        problems
    }
}

fn is_region_code(code: &str) -> bool {
    let b = code.as_bytes();
    let country = |s: &[u8]| s.len() == 2 && s.iter().all(u8::is_ascii_uppercase);
    match code.split_once('-') {
        None => country(b),
        Some((c, sub)) => {
            country(c.as_bytes())
                && (1..=3).contains(&sub.len())
                && sub
                    .bytes()
                    .all(|x| x.is_ascii_uppercase() || x.is_ascii_digit())
        }
    }
}

/// Whether a `Sec-GPC` request header value signals Global Privacy Control (exactly `1`).
pub fn gpc_header_signals_opt_out(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim() == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jurisdiction(regime: Regime) -> JurisdictionSpec {
        JurisdictionSpec {
            title: "x".into(),
            regime,
            regions: vec!["DE".into()],
            consent_model: None,
            honour_gpc: None,
        }
    }

    #[test]
    fn regime_defaults() {
        use PurposeCategory::*;
        let table = [
            (
                Regime::Gdpr,
                MarketingCommunications,
                ConsentModel::OptIn,
                false,
            ),
            (Regime::Gdpr, SaleOrSharing, ConsentModel::OptIn, false),
            (Regime::Gdpr, Transactional, ConsentModel::OptOut, false),
            (Regime::UkGdpr, Profiling, ConsentModel::OptIn, false),
            (
                Regime::Ccpa,
                MarketingCommunications,
                ConsentModel::OptOut,
                false,
            ),
            (Regime::Ccpa, SaleOrSharing, ConsentModel::OptOut, true),
            (
                Regime::Ccpa,
                TargetedAdvertising,
                ConsentModel::OptOut,
                true,
            ),
            (Regime::Ccpa, Analytics, ConsentModel::OptOut, false),
            (Regime::UsState, SaleOrSharing, ConsentModel::OptOut, true),
            (Regime::None, SaleOrSharing, ConsentModel::OptOut, false),
        ];
        for (regime, category, model, gpc) in table {
            let j = jurisdiction(regime);
            assert_eq!(j.model_for(category), model, "{regime:?} {category:?}");
            assert_eq!(j.gpc_opts_out(category), gpc, "{regime:?} {category:?} gpc");
        }
    }

    #[test]
    fn overrides_apply_but_transactional_stays_opt_out() {
        let mut j = jurisdiction(Regime::Ccpa);
        j.consent_model = Some(ConsentModel::OptIn);
        assert_eq!(
            j.model_for(PurposeCategory::MarketingCommunications),
            ConsentModel::OptIn
        );
        assert_eq!(
            j.model_for(PurposeCategory::Transactional),
            ConsentModel::OptOut
        );
        let mut j = jurisdiction(Regime::Gdpr);
        j.honour_gpc = Some(true);
        assert!(j.gpc_opts_out(PurposeCategory::SaleOrSharing));
    }

    #[test]
    fn validation_reports_every_problem() {
        let j = JurisdictionSpec {
            title: " ".into(),
            regime: Regime::Ccpa,
            regions: vec!["US-CA".into(), "usa".into(), "US-CA".into()],
            consent_model: None,
            honour_gpc: Some(false),
        };
        let paths: Vec<String> = j.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "spec.title",
                "spec.regions[1]",
                "spec.regions[2]",
                "spec.honour_gpc"
            ]
        );
        let mut gdpr = jurisdiction(Regime::Gdpr);
        gdpr.consent_model = Some(ConsentModel::OptOut);
        assert_eq!(gdpr.validate()[0].path, "spec.consent_model");
        let p = PurposeSpec {
            title: "Receipts".into(),
            description: None,
            category: PurposeCategory::Transactional,
            lawful_basis: LawfulBasis::Consent,
            consent_text_version: Some(String::new()),
        };
        let paths: Vec<String> = p.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["spec.lawful_basis", "spec.consent_text_version"]);
    }

    #[test]
    fn gpc_header() {
        assert!(gpc_header_signals_opt_out(Some("1")));
        assert!(!gpc_header_signals_opt_out(Some("0")));
        assert!(!gpc_header_signals_opt_out(None));
    }
}
