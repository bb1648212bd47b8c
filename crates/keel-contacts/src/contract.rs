//! Data contracts (ops-as-code kind `DataContract`): per object, the fields, their types,
//! formats, enumerations, required-ness and normalisation rules.
//!
//! A contract is parsed into [`DataContract`] (the document as written), checked with
//! [`DataContract::validate`] (every problem, with a dotted path), and compiled into a
//! [`CompiledContract`] that turns raw rows into clean typed values — or into every reason
//! a row is rejected, so nothing is silently dropped.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::ContactsError;
use crate::normalise;
use crate::problem::{Problem, check_envelope, is_identifier};
use crate::record::ObjectKind;
use crate::value::FieldValue;

/// The `kind` of a data contract document.
pub const KIND: &str = "DataContract";

/// A `DataContract` document as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataContract {
    /// Always `keel/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Always `DataContract`.
    pub kind: String,
    /// Name and description.
    pub metadata: Metadata,
    /// The contract itself.
    pub spec: ContractSpec,
}

/// Document metadata shared by this crate's kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Unique name of the document within its kind.
    pub name: String,
    /// What the document is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// The body of a data contract: one object and its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractSpec {
    /// `contact` or `account`.
    pub object: String,
    /// Region (ISO alpha-2) used to read national phone numbers when a field gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
    /// A `country` field whose value (when valid) is the region for reading national phone
    /// numbers in the same row, before falling back to `default_region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_region_field: Option<String>,
    /// Whether rows may carry fields the contract does not list (kept as custom text).
    #[serde(default)]
    pub allow_unknown_fields: bool,
    /// The fields, in order.
    pub fields: Vec<FieldSpec>,
}

/// One field of a contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Field name, lower snake_case.
    pub name: String,
    /// One of `string, integer, decimal, boolean, date, datetime, email, phone, country, url, enum`.
    #[serde(rename = "type")]
    pub field_type: String,
    /// Whether a row without this field is rejected.
    #[serde(default)]
    pub required: bool,
    /// Whether values should be unique across records (feeds the uniqueness score).
    #[serde(default)]
    pub unique: bool,
    /// Whether this is a custom (non-standard) field.
    #[serde(default)]
    pub custom: bool,
    /// What the field means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Text steps applied before type conversion, in order:
    /// `trim, collapse_whitespace, lower, upper, title`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub normalise: Vec<String>,
    /// Regular expression the (normalised) text must match fully; `string` fields only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Accepted chrono formats for `date` / `datetime` fields (defaults cover common exports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<String>,
    /// Members of an `enum` field, in their canonical spelling; matched case-insensitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Other spellings of enum members (`"web": "Website"`), matched case-insensitively.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aliases: BTreeMap<String, String>,
    /// Smallest allowed number (`integer`, `decimal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed number (`integer`, `decimal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Longest allowed text in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Phone region (ISO alpha-2) for this field, overriding the contract's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
}

/// The type of a contract field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text.
    String,
    /// Whole number.
    Integer,
    /// Decimal number.
    Decimal,
    /// True/false.
    Boolean,
    /// Calendar date.
    Date,
    /// Instant in time.
    Datetime,
    /// Email address, lower-cased.
    Email,
    /// Phone number, E.164.
    Phone,
    /// Country, ISO 3166-1 alpha-2.
    Country,
    /// http(s) URL, canonical.
    Url,
    /// One of a fixed list of values.
    Enum,
}

impl FieldType {
    /// Every type name, for error messages.
    pub const NAMES: &'static str =
        "string, integer, decimal, boolean, date, datetime, email, phone, country, url, enum";

    /// Parses a type name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "integer" => Self::Integer,
            "decimal" => Self::Decimal,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "datetime" => Self::Datetime,
            "email" => Self::Email,
            "phone" => Self::Phone,
            "country" => Self::Country,
            "url" => Self::Url,
            "enum" => Self::Enum,
            _ => return None,
        })
    }

    fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Decimal)
    }
}

/// A text normalisation step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStep {
    /// Remove leading and trailing whitespace.
    Trim,
    /// Trim and turn inner runs of whitespace into one space.
    CollapseWhitespace,
    /// Lower-case.
    Lower,
    /// Upper-case.
    Upper,
    /// Title Case.
    Title,
}

impl TextStep {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "trim" => Self::Trim,
            "collapse_whitespace" => Self::CollapseWhitespace,
            "lower" => Self::Lower,
            "upper" => Self::Upper,
            "title" => Self::Title,
            _ => return None,
        })
    }

    fn apply(self, s: &str) -> String {
        match self {
            Self::Trim => s.trim().to_string(),
            Self::CollapseWhitespace => normalise::collapse_whitespace(s),
            Self::Lower => s.to_lowercase(),
            Self::Upper => s.to_uppercase(),
            Self::Title => normalise::title_case(s),
        }
    }
}

/// Why one field of one row was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The contract field (or `row` for problems with the row as a whole).
    pub field: String,
    /// The raw value as it arrived.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}`: {}", self.field, self.value, self.reason)
    }
}

impl DataContract {
    /// Parses a contract from YAML (shape only; call [`DataContract::validate`] next).
    pub fn from_yaml(text: &str) -> Result<Self, ContactsError> {
        serde_yaml::from_str(text).map_err(|e| ContactsError::Parse {
            what: KIND,
            message: e.to_string(),
        })
    }

    /// Every problem in the document, with dotted paths such as `spec.fields[3].type`.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        check_envelope(
            &self.api_version,
            &self.kind,
            KIND,
            &self.metadata.name,
            &mut problems,
        );
        let spec = &self.spec;
        if ObjectKind::parse(&spec.object).is_none() {
            problems.push(Problem::new(
                "spec.object",
                format!("object `{}` is not `contact` or `account`", spec.object),
            ));
        }
        if let Some(r) = &spec.default_region
            && !normalise::is_phone_region(r)
        {
            problems.push(Problem::new(
                "spec.default_region",
                format!("`{r}` is not an ISO 3166 alpha-2 phone region (e.g. `US`)"),
            ));
        }
        if let Some(name) = &spec.phone_region_field
            && !spec
                .fields
                .iter()
                .any(|f| &f.name == name && f.field_type == "country")
        {
            problems.push(Problem::new(
                "spec.phone_region_field",
                format!("`{name}` is not a `country` field of this contract"),
            ));
        }
        if spec.fields.is_empty() {
            problems.push(Problem::new(
                "spec.fields",
                "a contract needs at least one field",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, f) in spec.fields.iter().enumerate() {
            let at = |k: &str| format!("spec.fields[{i}].{k}");
            if !is_identifier(&f.name) {
                problems.push(Problem::new(
                    at("name"),
                    format!("field name `{}` must be lower snake_case", f.name),
                ));
            } else if !seen.insert(f.name.as_str()) {
                problems.push(Problem::new(
                    at("name"),
                    format!("field `{}` is declared more than once", f.name),
                ));
            }
            let ty = FieldType::parse(&f.field_type);
            if ty.is_none() {
                problems.push(Problem::new(
                    at("type"),
                    format!(
                        "type `{}` is not one of: {}",
                        f.field_type,
                        FieldType::NAMES
                    ),
                ));
            }
            for (j, step) in f.normalise.iter().enumerate() {
                if TextStep::parse(step).is_none() {
                    problems.push(Problem::new(
                        format!("spec.fields[{i}].normalise[{j}]"),
                        format!(
                            "`{step}` is not a normalisation step (trim, collapse_whitespace, lower, upper, title); \
                             phones, countries, URLs and emails are normalised by their type"
                        ),
                    ));
                }
            }
            if let Some(p) = &f.pattern {
                if ty.is_some_and(|t| t != FieldType::String) {
                    problems.push(Problem::new(
                        at("pattern"),
                        "pattern applies to `string` fields only",
                    ));
                }
                if let Err(e) = Regex::new(p) {
                    problems.push(Problem::new(
                        at("pattern"),
                        format!("not a valid regular expression: {e}"),
                    ));
                }
            }
            match ty {
                Some(FieldType::Enum) => {
                    if f.values.is_empty() {
                        problems.push(Problem::new(
                            at("values"),
                            "an `enum` field needs a list of values",
                        ));
                    }
                    let mut members = BTreeSet::new();
                    for (j, v) in f.values.iter().enumerate() {
                        if !members.insert(v.to_lowercase()) {
                            problems.push(Problem::new(
                                format!("spec.fields[{i}].values[{j}]"),
                                format!("value `{v}` is listed more than once"),
                            ));
                        }
                    }
                    for (alias, target) in &f.aliases {
                        if !f.values.contains(target) {
                            problems.push(Problem::new(
                                format!("spec.fields[{i}].aliases.{alias}"),
                                format!(
                                    "alias points to `{target}`, which is not one of the values"
                                ),
                            ));
                        }
                    }
                }
                Some(_) => {
                    if !f.values.is_empty() {
                        problems.push(Problem::new(
                            at("values"),
                            "values apply to `enum` fields only",
                        ));
                    }
                    if !f.aliases.is_empty() {
                        problems.push(Problem::new(
                            at("aliases"),
                            "aliases apply to `enum` fields only",
                        ));
                    }
                }
                None => {}
            }
            if !f.formats.is_empty()
                && ty.is_some_and(|t| !matches!(t, FieldType::Date | FieldType::Datetime))
            {
                problems.push(Problem::new(
                    at("formats"),
                    "formats apply to `date` and `datetime` fields only",
                ));
            }
            if (f.min.is_some() || f.max.is_some()) && ty.is_some_and(|t| !t.is_numeric()) {
                problems.push(Problem::new(
                    at(if f.min.is_some() { "min" } else { "max" }),
                    "min and max apply to `integer` and `decimal` fields only",
                ));
            }
            if let (Some(lo), Some(hi)) = (f.min, f.max)
                && lo > hi
            {
                problems.push(Problem::new(
                    at("min"),
                    format!("min {lo} is greater than max {hi}"),
                ));
            }
            if f.max_length == Some(0) {
                problems.push(Problem::new(
                    at("max_length"),
                    "max_length must be at least 1",
                ));
            }
            if let Some(r) = &f.default_region {
                if ty != Some(FieldType::Phone) {
                    problems.push(Problem::new(
                        at("default_region"),
                        "default_region applies to `phone` fields only",
                    ));
                } else if !normalise::is_phone_region(r) {
                    problems.push(Problem::new(
                        at("default_region"),
                        format!("`{r}` is not an ISO 3166 alpha-2 phone region (e.g. `US`)"),
                    ));
                }
            }
        }
        problems
    }

    /// Validates and compiles the contract for checking rows.
    pub fn compile(&self) -> Result<CompiledContract, ContactsError> {
        let problems = self.validate();
        if !problems.is_empty() {
            return Err(ContactsError::Invalid {
                what: KIND,
                problems,
            });
        }
        let object = ObjectKind::parse(&self.spec.object).unwrap_or(ObjectKind::Contact);
        let mut fields = Vec::with_capacity(self.spec.fields.len());
        for f in &self.spec.fields {
            fields.push(CompiledField {
                field_type: FieldType::parse(&f.field_type).unwrap_or(FieldType::String),
                steps: f
                    .normalise
                    .iter()
                    .filter_map(|s| TextStep::parse(s))
                    .collect(),
                pattern: f
                    .pattern
                    .as_deref()
                    .and_then(|p| Regex::new(&format!("^(?:{p})$")).ok()),
                region: f
                    .default_region
                    .clone()
                    .or_else(|| self.spec.default_region.clone()),
                enum_lookup: f
                    .values
                    .iter()
                    .map(|v| (v.to_lowercase(), v.clone()))
                    .chain(f.aliases.iter().map(|(a, v)| (a.to_lowercase(), v.clone())))
                    .collect(),
                spec: f.clone(),
            });
        }
        let index = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.spec.name.clone(), i))
            .collect();
        Ok(CompiledContract {
            phone_region_field: self.spec.phone_region_field.clone(),
            name: self.metadata.name.clone(),
            object,
            allow_unknown_fields: self.spec.allow_unknown_fields,
            fields,
            index,
        })
    }
}

/// One compiled field: parsed type, steps, regex and enum lookup.
#[derive(Debug, Clone)]
pub struct CompiledField {
    /// The field as written in the contract.
    pub spec: FieldSpec,
    /// Parsed type.
    pub field_type: FieldType,
    steps: Vec<TextStep>,
    pattern: Option<Regex>,
    region: Option<String>,
    enum_lookup: BTreeMap<String, String>,
}

/// A validated contract, ready to check rows.
#[derive(Debug, Clone)]
pub struct CompiledContract {
    /// The contract's name.
    pub name: String,
    /// The object it describes.
    pub object: ObjectKind,
    /// Whether fields not in the contract are kept as custom text.
    pub allow_unknown_fields: bool,
    /// The country field whose value is the row's phone region.
    pub phone_region_field: Option<String>,
    /// Fields in contract order.
    pub fields: Vec<CompiledField>,
    index: BTreeMap<String, usize>,
}

/// The clean values of one accepted row, by field name.
pub type CleanFields = BTreeMap<String, FieldValue>;

impl CompiledContract {
    /// The compiled field named `name`.
    pub fn field(&self, name: &str) -> Option<&CompiledField> {
        self.index.get(name).and_then(|&i| self.fields.get(i))
    }

    /// Validates and normalises one raw row (field name → raw text). Blank values count as
    /// absent. Returns the clean values, or every reason the row is rejected.
    pub fn check_row(&self, row: &BTreeMap<String, String>) -> Result<CleanFields, Vec<Rejection>> {
        let mut clean = CleanFields::new();
        let mut rejections = Vec::new();
        for (name, raw) in row {
            if self.index.contains_key(name) {
                continue;
            }
            if self.allow_unknown_fields {
                if !raw.trim().is_empty() {
                    clean.insert(name.clone(), FieldValue::Text(raw.trim().to_string()));
                }
            } else {
                rejections.push(Rejection {
                    field: name.clone(),
                    value: raw.clone(),
                    reason: format!("field is not in contract `{}`", self.name),
                });
            }
        }
        // The row's own country reads its national phone numbers better than a default.
        let row_region = self.phone_region_field.as_deref().and_then(|name| {
            let raw = row.get(name)?;
            let country = normalise::country_alpha2(raw).ok()?;
            normalise::is_phone_region(&country).then_some(country)
        });
        for f in &self.fields {
            let raw = row.get(&f.spec.name).map(String::as_str).unwrap_or("");
            if raw.trim().is_empty() {
                if f.spec.required {
                    rejections.push(Rejection {
                        field: f.spec.name.clone(),
                        value: raw.to_string(),
                        reason: "required field is missing".into(),
                    });
                }
                continue;
            }
            let converted = match (&row_region, f.field_type) {
                (Some(region), FieldType::Phone) => f.convert_in_region(raw, Some(region)),
                _ => f.convert(raw),
            };
            match converted {
                Ok(v) => {
                    clean.insert(f.spec.name.clone(), v);
                }
                Err(reason) => rejections.push(Rejection {
                    field: f.spec.name.clone(),
                    value: raw.to_string(),
                    reason,
                }),
            }
        }
        if rejections.is_empty() {
            Ok(clean)
        } else {
            Err(rejections)
        }
    }

    /// Whether an already-typed value satisfies the contract (used by validity scores on
    /// records that arrived by sync rather than through an import).
    pub fn check_value(&self, field: &str, value: &FieldValue) -> Result<(), String> {
        let Some(f) = self.field(field) else {
            return if self.allow_unknown_fields {
                Ok(())
            } else {
                Err(format!("field is not in contract `{}`", self.name))
            };
        };
        let same_type = matches!(
            (f.field_type, value),
            (FieldType::Integer, FieldValue::Integer(_))
                | (
                    FieldType::Decimal,
                    FieldValue::Decimal(_) | FieldValue::Integer(_)
                )
                | (FieldType::Boolean, FieldValue::Boolean(_))
                | (FieldType::Date, FieldValue::Date(_))
                | (FieldType::Datetime, FieldValue::DateTime(_))
                | (
                    FieldType::String
                        | FieldType::Email
                        | FieldType::Phone
                        | FieldType::Country
                        | FieldType::Url
                        | FieldType::Enum,
                    FieldValue::Text(_)
                )
        );
        if !same_type {
            return Err(format!("value is not of type {:?}", f.field_type).to_lowercase());
        }
        let converted = f.convert(&value.as_text())?;
        if &converted == value {
            Ok(())
        } else {
            Err(format!("value is not in canonical form (`{converted}`)"))
        }
    }
}

impl CompiledField {
    /// Converts raw text into the field's canonical typed value, or says why it cannot.
    pub fn convert(&self, raw: &str) -> Result<FieldValue, String> {
        self.convert_in_region(raw, None)
    }

    /// Like [`CompiledField::convert`], reading phone numbers in `region` when given.
    pub fn convert_in_region(&self, raw: &str, region: Option<&str>) -> Result<FieldValue, String> {
        let mut text = raw.to_string();
        for step in &self.steps {
            text = step.apply(&text);
        }
        let value = match self.field_type {
            FieldType::String => {
                if let Some(re) = &self.pattern
                    && !re.is_match(&text)
                {
                    return Err(format!(
                        "does not match the pattern `{}`",
                        self.spec.pattern.as_deref().unwrap_or_default()
                    ));
                }
                FieldValue::Text(text)
            }
            FieldType::Integer => {
                let i = normalise::integer(&text)?;
                self.check_range(i as f64)?;
                FieldValue::Integer(i)
            }
            FieldType::Decimal => {
                let d = normalise::decimal(&text)?;
                self.check_range(d.parse::<f64>().unwrap_or(0.0))?;
                FieldValue::Decimal(d)
            }
            FieldType::Boolean => FieldValue::Boolean(normalise::boolean(&text)?),
            FieldType::Date => FieldValue::Date(normalise::date(&text, &self.spec.formats)?),
            FieldType::Datetime => {
                FieldValue::DateTime(normalise::datetime(&text, &self.spec.formats)?)
            }
            FieldType::Email => FieldValue::Text(normalise::email(&text)?),
            FieldType::Phone => {
                let region = region.or(self.region.as_deref());
                FieldValue::Text(normalise::phone_e164(&text, region)?)
            }
            FieldType::Country => FieldValue::Text(normalise::country_alpha2(&text)?),
            FieldType::Url => FieldValue::Text(normalise::url(&text)?),
            FieldType::Enum => {
                let key = normalise::collapse_whitespace(&text).to_lowercase();
                match self.enum_lookup.get(&key) {
                    Some(v) => FieldValue::Text(v.clone()),
                    None => {
                        return Err(format!("is not one of: {}", self.spec.values.join(", ")));
                    }
                }
            }
        };
        if let (Some(max), FieldValue::Text(s)) = (self.spec.max_length, &value)
            && s.chars().count() > max
        {
            return Err(format!("is longer than {max} characters"));
        }
        Ok(value)
    }

    fn check_range(&self, n: f64) -> Result<(), String> {
        if let Some(lo) = self.spec.min
            && n < lo
        {
            return Err(format!("is less than the minimum {lo}"));
        }
        if let Some(hi) = self.spec.max
            && n > hi
        {
            return Err(format!("is greater than the maximum {hi}"));
        }
        Ok(())
    }
}

/// The default contact contract shipped with Keel.
pub const DEFAULT_CONTACT_CONTRACT: &str = include_str!("../contracts/contacts.yaml");
/// The default account contract shipped with Keel.
pub const DEFAULT_ACCOUNT_CONTRACT: &str = include_str!("../contracts/accounts.yaml");

/// The compiled default contact contract.
pub fn default_contact_contract() -> Result<CompiledContract, ContactsError> {
    DataContract::from_yaml(DEFAULT_CONTACT_CONTRACT)?.compile()
}

/// The compiled default account contract.
pub fn default_account_contract() -> Result<CompiledContract, ContactsError> {
    DataContract::from_yaml(DEFAULT_ACCOUNT_CONTRACT)?.compile()
}
