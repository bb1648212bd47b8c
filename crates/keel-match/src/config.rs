//! The matching configuration: which columns are compared as which kind of field, how candidate
//! pairs are blocked, comparison overrides and the clustering method.
//!
//! The same structure is read from the `spec` of a `kind: MatchConfig` document, and is also
//! inferred from column names when the user gives no configuration.

use serde::{Deserialize, Serialize};

/// What a column holds; decides how it is standardised and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A person's full name ("Dr. Robert J. Smith").
    Name,
    /// A given name; nicknames are recognised (Bob = Robert).
    FirstName,
    /// A family name.
    LastName,
    /// An email address (plus-tags, gmail dots and common domain typos handled).
    Email,
    /// A phone number, parsed with libphonenumber in the default region.
    Phone,
    /// An organisation name (legal suffixes, "&"/"and", leading "The" ignored).
    Company,
    /// A street address (street types, directions and unit numbers abbreviated).
    Address,
    /// A postal code.
    Postcode,
    /// A calendar date such as a birth date.
    Date,
    /// Free text compared fuzzily.
    #[default]
    Text,
    /// A code compared only for exact equality.
    Exact,
    /// A number compared by relative distance.
    Numeric,
}

impl FieldKind {
    /// Every kind with its configuration name, in documentation order.
    pub const ALL: [(FieldKind, &'static str); 12] = [
        (FieldKind::Name, "name"),
        (FieldKind::FirstName, "first_name"),
        (FieldKind::LastName, "last_name"),
        (FieldKind::Email, "email"),
        (FieldKind::Phone, "phone"),
        (FieldKind::Company, "company"),
        (FieldKind::Address, "address"),
        (FieldKind::Postcode, "postcode"),
        (FieldKind::Date, "date"),
        (FieldKind::Text, "text"),
        (FieldKind::Exact, "exact"),
        (FieldKind::Numeric, "numeric"),
    ];

    /// The configuration name of this kind.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("text", |(_, n)| n)
    }

    /// How evidence from this kind is treated when it is not configured: identifiers of one
    /// person, attributes people share with colleagues or relatives, or neither.
    pub fn default_role(self) -> Role {
        match self {
            // Relatives share a family name, colleagues almost never do: a different family
            // name is strong evidence of a different person, whatever else agrees.
            FieldKind::Name
            | FieldKind::FirstName
            | FieldKind::LastName
            | FieldKind::Email
            | FieldKind::Date => Role::Personal,
            FieldKind::Phone | FieldKind::Company | FieldKind::Address | FieldKind::Postcode => {
                Role::Shared
            }
            FieldKind::Text | FieldKind::Exact | FieldKind::Numeric => Role::Other,
        }
    }

    /// Whether term-frequency adjustment is on by default (rare values count more).
    pub fn default_tf(self) -> bool {
        !matches!(self, FieldKind::Date | FieldKind::Numeric)
    }

    /// Guesses the kind of a column from its name; `None` when nothing fits.
    pub fn infer(column: &str) -> Option<FieldKind> {
        let c: String = column
            .to_lowercase()
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
            .collect();
        let has = |words: &[&str]| words.iter().any(|w| c.contains(w));
        let kind = if has(&["first", "given", "fname", "forename"]) {
            FieldKind::FirstName
        } else if has(&["last", "surname", "family", "lname"]) {
            FieldKind::LastName
        } else if has(&["email", "e_mail", "mail"]) {
            FieldKind::Email
        } else if has(&["phone", "mobile", "tel", "cell", "fax"]) {
            FieldKind::Phone
        } else if has(&[
            "company", "organi", "account", "employer", "firm", "business",
        ]) {
            FieldKind::Company
        } else if has(&["zip", "postcode", "postal", "post_code"]) {
            FieldKind::Postcode
        } else if has(&["address", "street", "addr"]) {
            FieldKind::Address
        } else if has(&["date", "dob", "birth", "_at", "_on"]) {
            FieldKind::Date
        } else if has(&["name"]) {
            FieldKind::Name
        } else if has(&["city", "town", "state", "country", "region", "title", "job"]) {
            FieldKind::Text
        } else if has(&["amount", "revenue", "age", "count", "employees", "score"]) {
            FieldKind::Numeric
        } else {
            return None;
        };
        Some(kind)
    }
}

/// How a field's evidence combines with the others.
///
/// People who are not duplicates often agree on many *shared* attributes at once (colleagues:
/// company, office address, switchboard, postcode; relatives: home address and landline). Those
/// agreements are strongly correlated, so summing them as independent evidence (plain
/// Fellegi–Sunter) counts one fact — "same place" — several times. Keel counts the positive
/// evidence of shared fields once (the strongest of them), and discounts it further when a
/// *personal* identifier clearly disagrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Identifies one person (first name, personal email, birth date): clear disagreement vetoes
    /// shared evidence.
    Personal,
    /// Shared by groups of people (company, address, phone, postcode): agreement counted once.
    Shared,
    /// Plain evidence, summed.
    Other,
}

/// How shared-attribute evidence is combined; `Sum` is plain Fellegi–Sunter, kept for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SharedEvidence {
    /// Positive shared evidence counted once and discounted on personal disagreement.
    #[default]
    Guarded,
    /// Every comparison summed independently (textbook Fellegi–Sunter).
    Sum,
}

/// One compared column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Column name in the input file(s).
    pub column: String,
    /// What the column holds.
    pub kind: FieldKind,
    /// Overrides the kind's default role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Overrides term-frequency adjustment for the exact level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tf: Option<bool>,
    /// Overrides the similarity thresholds of the fuzzy levels (highest first, between 0 and 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Vec<f64>>,
}

impl FieldSpec {
    /// The role in force for this field.
    pub fn role(&self) -> Role {
        self.role.unwrap_or_else(|| self.kind.default_role())
    }

    /// Whether term-frequency adjustment is in force for this field.
    pub fn tf(&self) -> bool {
        self.tf.unwrap_or_else(|| self.kind.default_tf())
    }
}

/// Clustering methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClusterMethod {
    /// Every link above the threshold joins two clusters (can chain through one bad link).
    ConnectedComponents,
    /// Links are taken strongest first; two clusters merge only when enough of the pairs between
    /// them are linked.
    #[default]
    Support,
}

/// Clustering settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// The method.
    #[serde(default)]
    pub method: ClusterMethod,
    /// For `support`: the fraction of cross pairs that must be linked before two clusters merge.
    #[serde(default = "default_min_support")]
    pub min_support: f64,
}

fn default_min_support() -> f64 {
    0.5
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            method: ClusterMethod::default(),
            min_support: default_min_support(),
        }
    }
}

/// Everything that configures a match run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// The compared columns.
    pub fields: Vec<FieldSpec>,
    /// Blocking rules, OR-ed: each is `column` or `column & column:prefix3 & …`. Derived from the
    /// field kinds when empty.
    #[serde(default)]
    pub blocking: Vec<String>,
    /// Blocks larger than this are skipped (and reported); protects against values such as "n/a".
    #[serde(default = "default_max_block")]
    pub max_block_size: usize,
    /// Pairs at or above this probability are reported.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Region used for phone numbers without a country code (ISO 3166 alpha-2).
    #[serde(default = "default_region")]
    pub default_region: String,
    /// How shared attributes combine.
    #[serde(default)]
    pub shared_evidence: SharedEvidence,
    /// Factor applied to positive shared evidence when a personal identifier clearly disagrees.
    #[serde(default = "default_discount")]
    pub personal_veto_discount: f64,
    /// Clustering.
    #[serde(default)]
    pub clustering: ClusterSpec,
}

fn default_max_block() -> usize {
    // Larger groups are almost always a switchboard number, a shared mailbox or a placeholder:
    // thousands of colleagues compared with each other at quadratic cost for no matches.
    300
}
fn default_threshold() -> f64 {
    0.9
}
fn default_region() -> String {
    "US".to_string()
}
fn default_discount() -> f64 {
    0.25
}

/// One problem found in a configuration, with the dotted path of the offending value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Path inside the document, e.g. `spec.fields[2].column`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl MatchSpec {
    /// A specification with the given fields and every other setting at its default.
    pub fn with_fields(fields: Vec<FieldSpec>) -> Self {
        MatchSpec {
            fields,
            blocking: Vec::new(),
            max_block_size: default_max_block(),
            threshold: default_threshold(),
            default_region: default_region(),
            shared_evidence: SharedEvidence::default(),
            personal_veto_discount: default_discount(),
            clustering: ClusterSpec::default(),
        }
    }

    /// Infers fields from column names, skipping the id column and columns nothing fits.
    pub fn infer(columns: &[String], id_column: &str) -> Self {
        let fields = columns
            .iter()
            .filter(|c| c.as_str() != id_column)
            .filter_map(|c| {
                FieldKind::infer(c).map(|kind| FieldSpec {
                    column: c.clone(),
                    kind,
                    role: None,
                    tf: None,
                    thresholds: None,
                })
            })
            .collect();
        Self::with_fields(fields)
    }

    /// Checks the specification against the input's columns; returns every problem at once.
    /// `prefix` is the path of this spec inside its document (e.g. `spec`).
    pub fn validate(&self, columns: &[String], prefix: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut push = |path: String, message: String| problems.push(Problem { path, message });
        if self.fields.is_empty() {
            push(
                format!("{prefix}.fields"),
                "no fields to compare; list at least one {column, kind}".into(),
            );
        }
        for (i, f) in self.fields.iter().enumerate() {
            if !columns.iter().any(|c| c == &f.column) {
                push(
                    format!("{prefix}.fields[{i}].column"),
                    format!(
                        "unknown column `{}`; the input has: {}",
                        f.column,
                        columns.join(", ")
                    ),
                );
            }
            if self.fields[..i].iter().any(|g| g.column == f.column) {
                push(
                    format!("{prefix}.fields[{i}].column"),
                    format!("column `{}` is listed twice", f.column),
                );
            }
            if let Some(t) = &f.thresholds
                && (t.iter().any(|x| !(0.0..=1.0).contains(x)) || t.windows(2).any(|w| w[0] < w[1]))
            {
                push(
                    format!("{prefix}.fields[{i}].thresholds"),
                    "thresholds must be between 0 and 1, highest first".into(),
                );
            }
        }
        for (i, rule) in self.blocking.iter().enumerate() {
            if let Err(message) = crate::blocking::BlockingRule::parse(rule, &self.fields) {
                push(format!("{prefix}.blocking[{i}]"), message);
            }
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            push(
                format!("{prefix}.threshold"),
                "threshold is a probability between 0 and 1".into(),
            );
        }
        if !(0.0..=1.0).contains(&self.personal_veto_discount) {
            push(
                format!("{prefix}.personal_veto_discount"),
                "discount is a factor between 0 and 1".into(),
            );
        }
        if !(0.0..=1.0).contains(&self.clustering.min_support) {
            push(
                format!("{prefix}.clustering.min_support"),
                "min_support is a fraction between 0 and 1".into(),
            );
        }
        if crate::standardise::parse_region(&self.default_region).is_none() {
            push(
                format!("{prefix}.default_region"),
                format!(
                    "`{}` is not an ISO 3166 region code such as US or GB",
                    self.default_region
                ),
            );
        }
        if self.max_block_size < 2 {
            push(
                format!("{prefix}.max_block_size"),
                "max_block_size must be at least 2".into(),
            );
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_kinds_from_column_names() {
        assert_eq!(FieldKind::infer("First Name"), Some(FieldKind::FirstName));
        assert_eq!(FieldKind::infer("surname"), Some(FieldKind::LastName));
        assert_eq!(FieldKind::infer("Email"), Some(FieldKind::Email));
        assert_eq!(FieldKind::infer("mobile_phone"), Some(FieldKind::Phone));
        assert_eq!(FieldKind::infer("company_name"), Some(FieldKind::Company));
        assert_eq!(FieldKind::infer("zip"), Some(FieldKind::Postcode));
        assert_eq!(FieldKind::infer("street_address"), Some(FieldKind::Address));
        assert_eq!(FieldKind::infer("dob"), Some(FieldKind::Date));
        assert_eq!(FieldKind::infer("full_name"), Some(FieldKind::Name));
        assert_eq!(FieldKind::infer("notes_blob"), None);
    }

    #[test]
    fn validation_reports_every_problem_with_paths() {
        let mut spec = MatchSpec::with_fields(vec![FieldSpec {
            column: "nope".into(),
            kind: FieldKind::Email,
            role: None,
            tf: None,
            thresholds: Some(vec![0.5, 0.9]),
        }]);
        spec.blocking = vec!["missing_col".into()];
        spec.threshold = 2.0;
        let problems = spec.validate(&["email".into()], "spec");
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.fields[0].column",
                "spec.fields[0].thresholds",
                "spec.blocking[0]",
                "spec.threshold"
            ]
        );
    }
}
