//! Request types and intake: the typed form a requester fills in, and the check that turns a
//! brief away at the door with every missing or wrong item listed.
//!
//! A submission is a JSON object keyed by field key. Values by field type:
//! text, rich text, person, tool, select → string; number → number; money →
//! `{"amount_minor": 250000, "currency": "EUR"}`; date → `"YYYY-MM-DD"`; multi-select → list of
//! strings; boolean → true/false; audience → `{"segment": "emea-customers", "size": 120000}` or
//! just the segment name; file link → an `http(s)` URL.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::condition::{Condition, FactKind, FactKinds, FactValue, Facts, mismatched_facts};
use crate::states::StateMachineSpec;
use crate::{Problem, Spec, check_name, duplicates};

/// The type of an intake field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text.
    Text,
    /// Formatted text (Markdown).
    RichText,
    /// A number.
    Number,
    /// An amount of money in minor units with an ISO currency.
    Money,
    /// A calendar date.
    Date,
    /// One of the listed options.
    Select,
    /// Several of the listed options.
    MultiSelect,
    /// Yes or no.
    Boolean,
    /// A person (their Keel identifier).
    Person,
    /// A tool of the service catalog (its identifier).
    Tool,
    /// An audience segment, optionally with its estimated size.
    Audience,
    /// A link to a file (brief, deck, asset folder).
    FileLink,
}

/// An allowed option of a select or multi-select field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum SelectOption {
    /// Just the value, which is also its label.
    Value(String),
    /// A value with a label for people.
    Labelled {
        /// Stored value.
        value: String,
        /// Shown label.
        label: String,
    },
}

impl SelectOption {
    /// The stored value.
    pub fn value(&self) -> &str {
        match self {
            SelectOption::Value(v) | SelectOption::Labelled { value: v, .. } => v,
        }
    }
}

/// One intake field of a request type, with its validation rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Key in the submission and name of the fact (snake_case).
    pub key: String,
    /// Label shown on the form.
    pub label: String,
    /// Field type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Whether the field must be filled in.
    #[serde(default)]
    pub required: bool,
    /// Help text shown under the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Minimum for numbers and money (minor units) and audience size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Maximum for numbers and money (minor units) and audience size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Numbers must be whole.
    #[serde(default)]
    pub integer: bool,
    /// Minimum length of text, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    /// Maximum length of text, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Regular expression the whole text must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// What the pattern means, for the error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_hint: Option<String>,
    /// Allowed options of select and multi-select fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
    /// Minimum number of choices of a multi-select.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<usize>,
    /// Maximum number of choices of a multi-select.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    /// Dates must not be before the submission date.
    #[serde(default)]
    pub not_in_past: bool,
    /// Dates must be at least this many calendar days after the submission date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_lead_days: Option<u32>,
    /// Dates must be on or after the date in this other field (for example an end date after
    /// the launch date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// Allowed currencies of money fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub currencies: Vec<String>,
    /// The field becomes required when this condition holds on the submission's facts (for
    /// example a purpose of use when the output contains personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_when: Option<Condition>,
}

/// Priorities a request can carry, lowest first.
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// The `spec` of a `kind: RequestType` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestTypeSpec {
    /// Name shown to requesters.
    pub title: String,
    /// What this request type is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Priority given when the requester does not choose one.
    #[serde(default = "default_priority")]
    pub default_priority: String,
    /// The intake form.
    pub fields: Vec<FieldSpec>,
    /// The governed states of requests of this type; the standard lifecycle when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<StateMachineSpec>,
    /// Whether going live requires the latest attached email or page check run to have no
    /// error-level findings.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub launch_requires_clean_check: bool,
}

fn default_priority() -> String {
    "normal".into()
}

impl Spec for RequestTypeSpec {
    const KIND: &'static str = "RequestType";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.title.trim().is_empty() {
            problems.push(Problem::new("spec.title", "must not be empty"));
        }
        if !PRIORITIES.contains(&self.default_priority.as_str()) {
            problems.push(Problem::new(
                "spec.default_priority",
                format!("must be one of {}", PRIORITIES.join(", ")),
            ));
        }
        if self.fields.is_empty() {
            problems.push(Problem::new(
                "spec.fields",
                "a request type needs at least one field",
            ));
        }
        problems.extend(duplicates(
            self.fields.iter().map(|f| f.key.as_str()),
            |i| format!("spec.fields[{i}].key"),
            "field",
        ));
        let facts = self.fact_names();
        for (i, field) in self.fields.iter().enumerate() {
            let path = format!("spec.fields[{i}]");
            field.check(&path, &mut problems);
            if let Some(other) = &field.not_before
                && !self.fields.iter().any(|f| {
                    &f.key == other && f.field_type == FieldType::Date && f.key != field.key
                })
            {
                problems.push(Problem::new(
                    format!("{path}.not_before"),
                    format!("{other:?} is not another date field of this request type"),
                ));
            }
            if let Some(c) = &field.required_when {
                let cp = format!("{path}.required_when");
                problems.extend(c.validate(&cp));
                problems.extend(unknown_facts(c, &facts, &cp));
                let mut kinds = FactKinds::new();
                for (name, kind) in self.fact_kinds() {
                    kinds.entry(name).or_default().insert(kind);
                }
                problems.extend(mismatched_facts(c, &kinds, &cp));
            }
        }
        if let Some(states) = &self.states {
            problems.extend(states.validate("spec.states"));
        }
        problems
    }
}

impl FieldSpec {
    fn check(&self, path: &str, problems: &mut Vec<Problem>) {
        use FieldType::*;
        let t = self.field_type;
        if let Err(m) = check_name(&self.key) {
            problems.push(Problem::new(format!("{path}.key"), m));
        }
        if RESERVED_FACTS.contains(&self.key.as_str()) {
            problems.push(Problem::new(
                format!("{path}.key"),
                format!("{:?} is reserved for the request's own facts", self.key),
            ));
        }
        let mut not_for = |present: bool, name: &str, types: &[FieldType]| {
            if present && !types.contains(&t) {
                problems.push(Problem::new(
                    format!("{path}.{name}"),
                    format!("`{name}` does not apply to a {t:?} field")
                        .replace("RichText", "rich text"),
                ));
            }
        };
        not_for(self.min.is_some(), "min", &[Number, Money, Audience]);
        not_for(self.max.is_some(), "max", &[Number, Money, Audience]);
        not_for(self.integer, "integer", &[Number]);
        let texty = [Text, RichText, Person, Tool, FileLink];
        not_for(self.min_length.is_some(), "min_length", &texty);
        not_for(self.max_length.is_some(), "max_length", &texty);
        not_for(
            self.pattern.is_some(),
            "pattern",
            &[Text, Person, Tool, FileLink],
        );
        not_for(!self.options.is_empty(), "options", &[Select, MultiSelect]);
        not_for(self.min_items.is_some(), "min_items", &[MultiSelect]);
        not_for(self.max_items.is_some(), "max_items", &[MultiSelect]);
        not_for(self.not_in_past, "not_in_past", &[Date]);
        not_for(self.min_lead_days.is_some(), "min_lead_days", &[Date]);
        not_for(self.not_before.is_some(), "not_before", &[Date]);
        not_for(!self.currencies.is_empty(), "currencies", &[Money]);
        if matches!(t, Select | MultiSelect) && self.options.is_empty() {
            problems.push(Problem::new(
                format!("{path}.options"),
                "a select field needs options",
            ));
        }
        problems.extend(duplicates(
            self.options.iter().map(SelectOption::value),
            |i| format!("{path}.options[{i}]"),
            "option",
        ));
        if let (Some(a), Some(b)) = (self.min, self.max)
            && a > b
        {
            problems.push(Problem::new(format!("{path}.max"), "max is below min"));
        }
        if let (Some(a), Some(b)) = (self.min_length, self.max_length)
            && a > b
        {
            problems.push(Problem::new(
                format!("{path}.max_length"),
                "max_length is below min_length",
            ));
        }
        if let (Some(a), Some(b)) = (self.min_items, self.max_items)
            && a > b
        {
            problems.push(Problem::new(
                format!("{path}.max_items"),
                "max_items is below min_items",
            ));
        }
        if let Some(p) = &self.pattern
            && let Err(e) = Regex::new(p)
        {
            problems.push(Problem::new(
                format!("{path}.pattern"),
                format!("not a valid regular expression: {e}"),
            ));
        }
        for (i, c) in self.currencies.iter().enumerate() {
            if c.len() != 3 || !c.chars().all(|c| c.is_ascii_uppercase()) {
                problems.push(Problem::new(
                    format!("{path}.currencies[{i}]"),
                    format!("{c:?} is not an ISO 4217 code such as EUR"),
                ));
            }
        }
    }
}

/// Fact names set by Keel itself, which intake fields may not use.
pub const RESERVED_FACTS: [&str; 4] = ["request_type", "priority", "requester", "requester_roles"];

/// One problem with a submission, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    /// The field key (or `""` for the submission as a whole).
    pub field: String,
    /// The field's label, for people.
    pub label: String,
    /// What is wrong.
    pub message: String,
}

/// What intake validation may check beyond the form itself.
#[derive(Debug, Clone, Default)]
pub struct IntakeContext<'a> {
    /// The submission date (for `not_in_past` and `min_lead_days`).
    pub today: Option<NaiveDate>,
    /// Known people; person fields must name one when given.
    pub people: Option<&'a HashSet<String>>,
    /// Known tools; tool fields must name one when given.
    pub tools: Option<&'a HashSet<String>>,
    /// Known audience segments; audience fields must name one when given.
    pub audiences: Option<&'a HashSet<String>>,
}

impl RequestTypeSpec {
    /// Every problem of a submission against this intake form (an empty list means accepted).
    pub fn check_submission(
        &self,
        submission: &Value,
        ctx: &IntakeContext<'_>,
    ) -> Vec<FieldProblem> {
        let Some(object) = submission.as_object() else {
            return vec![FieldProblem {
                field: String::new(),
                label: String::new(),
                message: "a submission is a JSON object keyed by field".into(),
            }];
        };
        let mut problems = Vec::new();
        let facts = self.facts("", submission, None, "", &[]);
        for field in &self.fields {
            let value = object.get(&field.key).filter(|v| !is_blank(v));
            match value {
                None if field.required => problems.push(field.problem("is required")),
                None => {
                    if let Some(c) = &field.required_when
                        && c.matches(&facts)
                    {
                        problems.push(field.problem(&format!("is required when {}", c.describe())));
                    }
                }
                Some(v) if field.field_type == FieldType::Date => {
                    for message in field.check_value(v, ctx) {
                        problems.push(field.problem(&message));
                    }
                    let date = v
                        .as_str()
                        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
                    let other = field.not_before.as_ref().and_then(|k| {
                        let o = self.fields.iter().find(|f| &f.key == k)?;
                        let d = object.get(k)?.as_str()?;
                        Some((o, NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?))
                    });
                    if let (Some(date), Some((o, before))) = (date, other)
                        && date < before
                    {
                        problems.push(
                            field.problem(&format!("{date} is before {} ({before})", o.label)),
                        );
                    }
                }
                Some(v) => {
                    for message in field.check_value(v, ctx) {
                        problems.push(field.problem(&message));
                    }
                }
            }
        }
        for key in object.keys() {
            if !self.fields.iter().any(|f| &f.key == key) {
                problems.push(FieldProblem {
                    field: key.clone(),
                    label: key.clone(),
                    message: "is not a field of this request type".into(),
                });
            }
        }
        problems
    }

    /// The facts of a submission for routing and policies: one fact per filled-in field, plus
    /// `<key>_currency` for money and `<key>_size` for audiences, plus the request's own facts.
    /// Numbers become whole numbers (rounded towards zero) because policies compare integers.
    pub fn facts(
        &self,
        request_type: &str,
        submission: &Value,
        priority: Option<&str>,
        requester: &str,
        requester_roles: &[String],
    ) -> Facts {
        let mut facts = BTreeMap::new();
        facts.insert("request_type".into(), FactValue::Str(request_type.into()));
        facts.insert(
            "priority".into(),
            FactValue::Str(priority.unwrap_or(&self.default_priority).into()),
        );
        facts.insert("requester".into(), FactValue::Str(requester.into()));
        facts.insert(
            "requester_roles".into(),
            FactValue::Set(
                requester_roles
                    .iter()
                    .cloned()
                    .map(FactValue::Str)
                    .collect(),
            ),
        );
        let Some(object) = submission.as_object() else {
            return facts;
        };
        for field in &self.fields {
            let Some(v) = object.get(&field.key).filter(|v| !is_blank(v)) else {
                continue;
            };
            let key = field.key.clone();
            match (field.field_type, v) {
                (FieldType::Boolean, Value::Bool(b)) => {
                    facts.insert(key, FactValue::Bool(*b));
                }
                (FieldType::Number, Value::Number(n)) => {
                    if let Some(i) = n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)) {
                        facts.insert(key, FactValue::Int(i));
                    }
                }
                (FieldType::Money, Value::Object(m)) => {
                    if let Some(a) = m.get("amount_minor").and_then(Value::as_i64) {
                        facts.insert(key.clone(), FactValue::Int(a));
                    }
                    if let Some(c) = m.get("currency").and_then(Value::as_str) {
                        facts.insert(format!("{key}_currency"), FactValue::Str(c.into()));
                    }
                }
                (FieldType::Audience, Value::Object(m)) => {
                    if let Some(s) = m.get("segment").and_then(Value::as_str) {
                        facts.insert(key.clone(), FactValue::Str(s.into()));
                    }
                    if let Some(n) = m.get("size").and_then(Value::as_i64) {
                        facts.insert(format!("{key}_size"), FactValue::Int(n));
                    }
                }
                (FieldType::MultiSelect, Value::Array(items)) => {
                    let set = items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|s| FactValue::Str(s.into()))
                        .collect();
                    facts.insert(key, FactValue::Set(set));
                }
                (_, Value::String(s)) => {
                    facts.insert(key, FactValue::Str(s.clone()));
                }
                _ => {}
            }
        }
        facts
    }
}

impl RequestTypeSpec {
    /// Every fact name a submission of this type can produce (for checking conditions).
    pub fn fact_names(&self) -> Vec<String> {
        let mut names: Vec<String> = RESERVED_FACTS.iter().map(|s| (*s).to_owned()).collect();
        for f in &self.fields {
            names.push(f.key.clone());
            match f.field_type {
                FieldType::Money => names.push(format!("{}_currency", f.key)),
                FieldType::Audience => names.push(format!("{}_size", f.key)),
                _ => {}
            }
        }
        names
    }

    /// Every fact a submission of this type can produce, with its type.
    pub fn fact_kinds(&self) -> Vec<(String, FactKind)> {
        let mut kinds: Vec<(String, FactKind)> = vec![
            ("request_type".into(), FactKind::Text),
            ("priority".into(), FactKind::Text),
            ("requester".into(), FactKind::Text),
            ("requester_roles".into(), FactKind::List),
        ];
        for f in &self.fields {
            let kind = match f.field_type {
                FieldType::Boolean => FactKind::Boolean,
                FieldType::Number | FieldType::Money => FactKind::Integer,
                FieldType::MultiSelect => FactKind::List,
                FieldType::Text
                | FieldType::RichText
                | FieldType::Date
                | FieldType::Select
                | FieldType::Person
                | FieldType::Tool
                | FieldType::Audience
                | FieldType::FileLink => FactKind::Text,
            };
            kinds.push((f.key.clone(), kind));
            match f.field_type {
                FieldType::Money => kinds.push((format!("{}_currency", f.key), FactKind::Text)),
                FieldType::Audience => kinds.push((format!("{}_size", f.key), FactKind::Integer)),
                _ => {}
            }
        }
        kinds
    }

    /// The governed states of this type: its own machine or the standard lifecycle.
    pub fn state_machine(&self) -> StateMachineSpec {
        self.states.clone().unwrap_or_default()
    }
}

/// Problems for condition fields that are not among `known` fact names; a misspelt fact would
/// otherwise make a rule silently never match.
pub fn unknown_facts(c: &Condition, known: &[String], path: &str) -> Vec<Problem> {
    c.field_paths(path)
        .into_iter()
        .filter(|(_, f)| !known.iter().any(|k| k == f))
        .map(|(at, f)| {
            let close = known
                .iter()
                .filter(|k| strsim::damerau_levenshtein(k, f) <= 2)
                .map(String::as_str)
                .collect::<Vec<_>>();
            let hint = if close.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", close.join(" or "))
            };
            Problem::new(at, format!("{f:?} is not a fact of the request type{hint}"))
        })
        .collect()
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

impl FieldSpec {
    fn problem(&self, message: &str) -> FieldProblem {
        FieldProblem {
            field: self.key.clone(),
            label: self.label.clone(),
            message: message.into(),
        }
    }

    fn check_value(&self, v: &Value, ctx: &IntakeContext<'_>) -> Vec<String> {
        use FieldType::*;
        let mut out = Vec::new();
        match self.field_type {
            Text | RichText | Person | Tool | FileLink => {
                let Some(s) = v.as_str() else {
                    return vec!["must be text".into()];
                };
                self.check_text(s, &mut out);
                let known = match self.field_type {
                    Person => ctx.people.map(|k| (k, "person")),
                    Tool => ctx.tools.map(|k| (k, "tool")),
                    _ => None,
                };
                if let Some((known, what)) = known
                    && !known.contains(s)
                {
                    out.push(format!("{s:?} is not a known {what}"));
                }
                if self.field_type == FileLink {
                    check_link(s, &mut out);
                }
            }
            Number => match v.as_f64() {
                None => out.push("must be a number".into()),
                Some(n) => {
                    if self.integer && n.fract() != 0.0 {
                        out.push("must be a whole number".into());
                    }
                    self.check_range(n, "", &mut out);
                }
            },
            Money => self.check_money(v, &mut out),
            Date => match v.as_str().map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d")) {
                Some(Ok(date)) => {
                    if let Some(today) = ctx.today {
                        if self.not_in_past && date < today {
                            out.push(format!("{date} is in the past"));
                        }
                        if let Some(lead) = self.min_lead_days {
                            let earliest = today + chrono::Days::new(u64::from(lead));
                            if date < earliest {
                                out.push(format!(
                                    "{date} is too soon: it must be at least {lead} days ahead (on or after {earliest})"
                                ));
                            }
                        }
                    }
                }
                _ => out.push("must be a date written as YYYY-MM-DD".into()),
            },
            Select => match v.as_str() {
                Some(s) => self.check_option(s, &mut out),
                None => out.push("must be one of the options".into()),
            },
            MultiSelect => match v.as_array() {
                None => out.push("must be a list of options".into()),
                Some(items) => {
                    let mut seen = HashSet::new();
                    for item in items {
                        match item.as_str() {
                            Some(s) => {
                                self.check_option(s, &mut out);
                                if !seen.insert(s) {
                                    out.push(format!("{s:?} is chosen twice"));
                                }
                            }
                            None => out.push("must be a list of options".into()),
                        }
                    }
                    if let Some(min) = self.min_items
                        && items.len() < min
                    {
                        out.push(format!("choose at least {min}"));
                    }
                    if let Some(max) = self.max_items
                        && items.len() > max
                    {
                        out.push(format!("choose at most {max}"));
                    }
                }
            },
            Boolean => {
                if !v.is_boolean() {
                    out.push("must be true or false".into());
                }
            }
            Audience => {
                let (segment, size) = match v {
                    Value::String(s) => (Some(s.as_str()), None),
                    Value::Object(m) => {
                        if let Some(k) = m.keys().find(|k| *k != "segment" && *k != "size") {
                            out.push(format!("unknown audience key {k:?} (use segment and size)"));
                        }
                        (m.get("segment").and_then(Value::as_str), m.get("size"))
                    }
                    _ => (None, None),
                };
                match segment {
                    None => out.push("must name an audience segment".into()),
                    Some(s) => {
                        if let Some(known) = ctx.audiences
                            && !known.contains(s)
                        {
                            out.push(format!("{s:?} is not a known audience"));
                        }
                    }
                }
                if let Some(size) = size {
                    match size.as_u64() {
                        Some(n) => self.check_range(n as f64, "audience size ", &mut out),
                        None => out.push("audience size must be a whole number".into()),
                    }
                }
            }
        }
        out
    }

    fn check_text(&self, s: &str, out: &mut Vec<String>) {
        let len = s.chars().count();
        if let Some(min) = self.min_length
            && len < min
        {
            out.push(format!(
                "is too short: {len} characters, at least {min} needed"
            ));
        }
        if let Some(max) = self.max_length
            && len > max
        {
            out.push(format!(
                "is too long: {len} characters, at most {max} allowed"
            ));
        }
        if let Some(p) = &self.pattern
            && let Ok(re) = Regex::new(&format!("^(?:{p})$"))
            && !re.is_match(s)
        {
            out.push(match &self.pattern_hint {
                Some(h) => format!("{s:?} is not {h}"),
                None => format!("{s:?} does not match the pattern {p}"),
            });
        }
    }

    fn check_range(&self, n: f64, what: &str, out: &mut Vec<String>) {
        if let Some(min) = self.min
            && n < min
        {
            out.push(format!("{what}{n} is below the minimum {min}"));
        }
        if let Some(max) = self.max
            && n > max
        {
            out.push(format!("{what}{n} is above the maximum {max}"));
        }
    }

    fn check_option(&self, s: &str, out: &mut Vec<String>) {
        if !self.options.iter().any(|o| o.value() == s) {
            let allowed: Vec<&str> = self.options.iter().map(SelectOption::value).collect();
            out.push(format!("{s:?} is not one of {}", allowed.join(", ")));
        }
    }

    fn check_money(&self, v: &Value, out: &mut Vec<String>) {
        let Some(m) = v.as_object() else {
            out.push(
                "must be an amount such as {\"amount_minor\": 250000, \"currency\": \"EUR\"}"
                    .into(),
            );
            return;
        };
        if let Some(k) = m.keys().find(|k| *k != "amount_minor" && *k != "currency") {
            out.push(format!(
                "unknown money key {k:?} (use amount_minor and currency)"
            ));
        }
        match m.get("amount_minor").map(Value::as_i64) {
            Some(Some(a)) => self.check_range(a as f64, "amount ", out),
            Some(None) => {
                out.push("amount_minor must be a whole number of minor units (cents)".into())
            }
            None => out.push("amount_minor is missing".into()),
        }
        match m.get("currency").and_then(Value::as_str) {
            Some(c) if c.len() == 3 && c.chars().all(|c| c.is_ascii_uppercase()) => {
                if !self.currencies.is_empty() && !self.currencies.iter().any(|x| x == c) {
                    out.push(format!(
                        "currency {c} is not accepted (use {})",
                        self.currencies.join(", ")
                    ));
                }
            }
            Some(c) => out.push(format!("{c:?} is not an ISO 4217 currency code")),
            None => out.push("currency is missing".into()),
        }
    }
}

fn check_link(s: &str, out: &mut Vec<String>) {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        None => out.push(format!("{s:?} is not a link; it must start with https://")),
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if host.is_empty() || s.chars().any(char::is_whitespace) {
                out.push(format!("{s:?} is not a valid link"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn brief() -> RequestTypeSpec {
        serde_saphyr::from_str(
            r#"
title: Campaign brief
fields:
  - {key: name, label: Campaign name, type: text, required: true, min_length: 5, max_length: 80}
  - {key: budget, label: Budget, type: money, required: true, min: 0, currencies: [EUR, USD]}
  - {key: channels, label: Channels, type: multi_select, required: true, options: [email, paid_social, webinar], min_items: 1}
  - {key: launch_date, label: Launch date, type: date, required: true, not_in_past: true, min_lead_days: 10}
  - {key: audience, label: Audience, type: audience, required: true, min: 1}
  - {key: brief_doc, label: Brief, type: file_link}
  - {key: code, label: Campaign code, type: text, pattern: "[A-Z]{3}-[0-9]{4}", pattern_hint: "a code like EMA-2026"}
  - {key: gated, label: Gated asset, type: boolean}
"#,
        )
        .unwrap()
    }

    fn ctx() -> IntakeContext<'static> {
        IntakeContext {
            today: NaiveDate::from_ymd_opt(2026, 3, 1),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_brief_is_accepted() {
        let s = json!({
            "name": "Spring launch", "budget": {"amount_minor": 250000, "currency": "EUR"},
            "channels": ["email"], "launch_date": "2026-04-01",
            "audience": {"segment": "emea-customers", "size": 120000},
            "brief_doc": "https://drive.example.com/brief", "code": "EMA-2026", "gated": true
        });
        assert_eq!(brief().check_submission(&s, &ctx()), vec![]);
        let facts = brief().facts("campaign_brief", &s, None, "ana", &["marketer".into()]);
        assert_eq!(facts["budget"], FactValue::Int(250000));
        assert_eq!(facts["budget_currency"], FactValue::Str("EUR".into()));
        assert_eq!(facts["audience_size"], FactValue::Int(120000));
        assert_eq!(facts["priority"], FactValue::Str("normal".into()));
        assert_eq!(facts["gated"], FactValue::Bool(true));
    }

    #[test]
    fn every_problem_is_listed_with_its_field() {
        let s = json!({
            "name": "Spr", "budget": {"amount_minor": 12.5, "currency": "GBP"},
            "channels": ["email", "fax", "email"], "launch_date": "2026-03-05",
            "audience": {"segment": "x", "size": 0}, "brief_doc": "drive/brief",
            "code": "nope", "colour": "blue"
        });
        let problems = brief().check_submission(&s, &ctx());
        let got: Vec<(String, String)> =
            problems.into_iter().map(|p| (p.field, p.message)).collect();
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "name",
                "budget",
                "budget",
                "channels",
                "channels",
                "launch_date",
                "audience",
                "brief_doc",
                "code",
                "colour"
            ],
            "{got:#?}"
        );
        assert!(got[5].1.contains("at least 10 days"));
        assert!(got[8].1.contains("a code like EMA-2026"));
    }

    #[test]
    fn missing_required_fields_are_all_named() {
        let problems = brief().check_submission(&json!({}), &ctx());
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["name", "budget", "channels", "launch_date", "audience"]
        );
        assert!(problems.iter().all(|p| p.message == "is required"));
        assert_eq!(brief().check_submission(&json!([1]), &ctx()).len(), 1);
    }

    #[test]
    fn conditional_requirements_and_date_order() {
        let spec: RequestTypeSpec = serde_saphyr::from_str(
            r#"
title: Data pull
fields:
  - {key: period_start, label: Period from, type: date, required: true}
  - {key: period_end, label: Period to, type: date, required: true, not_before: period_start}
  - {key: contains_personal_data, label: Personal data, type: boolean, required: true}
  - {key: purpose_of_use, label: Purpose of use, type: text, required_when: {field: contains_personal_data, op: eq, value: true}}
"#,
        )
        .unwrap();
        assert_eq!(spec.validate(), vec![]);
        let s = json!({"period_start": "2026-03-31", "period_end": "2026-01-01", "contains_personal_data": true});
        let got: Vec<(String, String)> = spec
            .check_submission(&s, &ctx())
            .into_iter()
            .map(|p| (p.field, p.message))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "period_end".to_owned(),
                    "2026-01-01 is before Period from (2026-03-31)".to_owned()
                ),
                (
                    "purpose_of_use".to_owned(),
                    "is required when contains_personal_data = true".to_owned()
                ),
            ]
        );
        let ok = json!({"period_start": "2026-01-01", "period_end": "2026-03-31", "contains_personal_data": false});
        assert_eq!(spec.check_submission(&ok, &ctx()), vec![]);

        let mut bad = spec.clone();
        bad.fields[1].not_before = Some("contains_personal_data".into());
        bad.fields[3].required_when =
            serde_saphyr::from_str("{field: contains_personal_dat, op: eq, value: true}").ok();
        let problems = bad.validate();
        let got: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.path.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "spec.fields[1].not_before",
                    "\"contains_personal_data\" is not another date field of this request type"
                ),
                (
                    "spec.fields[3].required_when.field",
                    "\"contains_personal_dat\" is not a fact of the request type; did you mean contains_personal_data?"
                ),
            ]
        );
    }

    #[test]
    fn spec_validation_names_paths() {
        let mut spec = brief();
        spec.fields[0].options = vec![SelectOption::Value("a".into())];
        spec.fields[1].currencies = vec!["euro".into()];
        spec.fields[2]
            .options
            .push(SelectOption::Value("email".into()));
        spec.fields[6].pattern = Some("(".into());
        spec.fields[7].key = "priority".into();
        let paths: Vec<_> = spec.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            vec![
                "spec.fields[0].options",
                "spec.fields[1].currencies[0]",
                "spec.fields[2].options[3]",
                "spec.fields[6].pattern",
                "spec.fields[7].key"
            ]
        );
    }
}
