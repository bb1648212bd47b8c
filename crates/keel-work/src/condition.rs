//! The condition language of routing rules and approval policies, and the request facts it
//! reads.
//!
//! A condition is written in YAML as a tree of `all`, `any`, `not` and field tests:
//!
//! ```yaml
//! when:
//!   all:
//!     - { field: budget, op: lt, value: 500000 }
//!     - { field: channels, op: contains, value: email }
//! ```
//!
//! Facts are a flat map from names to values (booleans, integers, strings, sets of those). The
//! same condition is evaluated natively here (routing) and compiled to Cedar for approvals
//! ([`crate::approval`]); both follow Cedar's rules so they always agree: a test on a missing
//! fact is false, `all`/`any` short-circuit left to right, and a type error (for example `lt` on a
//! text fact) makes the whole condition not match.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Problem;

/// A value a condition can test.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum FactValue {
    /// Yes or no.
    Bool(bool),
    /// A whole number (money is in minor units).
    Int(i64),
    /// Text.
    Str(String),
    /// A set of values (for example the channels of a campaign).
    Set(Vec<FactValue>),
}

impl<'de> Deserialize<'de> for FactValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FactVisitor)
    }
}

/// Reads a fact value with messages that say what is accepted.
struct FactVisitor;

impl<'de> serde::de::Visitor<'de> for FactVisitor {
    type Value = FactValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("true/false, a whole number, text, or a list of those")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<FactValue, E> {
        Ok(FactValue::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<FactValue, E> {
        Ok(FactValue::Int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<FactValue, E> {
        i64::try_from(v)
            .map(FactValue::Int)
            .map_err(|_| E::custom(format!("{v} is too large")))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<FactValue, E> {
        Err(E::custom(format!(
            "{v} is not a whole number; conditions compare whole numbers (money in minor units, so 50.50 is 5050)"
        )))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FactValue, E> {
        Ok(FactValue::Str(v.to_owned()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<FactValue, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<FactValue>()? {
            items.push(v);
        }
        Ok(FactValue::Set(items))
    }
}

impl FactValue {
    fn type_name(&self) -> &'static str {
        match self {
            FactValue::Bool(_) => "boolean",
            FactValue::Int(_) => "integer",
            FactValue::Str(_) => "text",
            FactValue::Set(_) => "list",
        }
    }

    /// Equality with set semantics for lists (order and repetition do not matter), as in Cedar.
    fn same(&self, other: &FactValue) -> bool {
        match (self, other) {
            (FactValue::Set(a), FactValue::Set(b)) => {
                let a: BTreeSet<_> = a.iter().collect();
                let b: BTreeSet<_> = b.iter().collect();
                a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.same(y)))
            }
            _ => self == other,
        }
    }

    fn set_contains(items: &[FactValue], v: &FactValue) -> bool {
        items.iter().any(|x| x.same(v))
    }
}

impl fmt::Display for FactValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FactValue::Bool(b) => write!(f, "{b}"),
            FactValue::Int(i) => write!(f, "{i}"),
            FactValue::Str(s) => write!(f, "{s:?}"),
            FactValue::Set(items) => {
                write!(f, "[")?;
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{x}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// The facts of one request: flat names (`request_type`, `priority`, `requester_roles`, and
/// one or more per intake field) to values.
pub type Facts = BTreeMap<String, FactValue>;

/// A comparison operator of a field test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal.
    Eq,
    /// Present and not equal.
    Ne,
    /// Less than (integers).
    Lt,
    /// Less than or equal (integers).
    Lte,
    /// Greater than (integers).
    Gt,
    /// Greater than or equal (integers).
    Gte,
    /// The fact is one of the listed values.
    In,
    /// The fact is present and none of the listed values.
    NotIn,
    /// The list fact contains the value.
    Contains,
    /// The list fact contains at least one of the listed values.
    ContainsAny,
    /// The list fact contains all of the listed values.
    ContainsAll,
    /// The fact is present.
    Exists,
    /// The fact is absent.
    Missing,
}

impl Op {
    fn word(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "≠",
            Op::Lt => "<",
            Op::Lte => "≤",
            Op::Gt => ">",
            Op::Gte => "≥",
            Op::In => "is one of",
            Op::NotIn => "is none of",
            Op::Contains => "contains",
            Op::ContainsAny => "contains any of",
            Op::ContainsAll => "contains all of",
            Op::Exists => "is given",
            Op::Missing => "is not given",
        }
    }
}

/// A test of one fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Test {
    /// The fact name.
    pub field: String,
    /// The operator.
    pub op: Op,
    /// The operand (absent for `exists` and `missing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<FactValue>,
}

/// A condition over request facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "RawCondition", into = "RawCondition")]
pub enum Condition {
    /// Every sub-condition holds (true when empty).
    All(Vec<Condition>),
    /// At least one sub-condition holds (false when empty).
    Any(Vec<Condition>),
    /// The sub-condition does not hold.
    Not(Box<Condition>),
    /// A field test.
    Test(Test),
}

/// The YAML shape of a condition, checked into a [`Condition`] so that mistakes get a clear
/// message instead of "did not match any variant".
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not: Option<Box<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    op: Option<Op>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<FactValue>,
}

impl TryFrom<RawCondition> for Condition {
    type Error = String;
    fn try_from(raw: RawCondition) -> Result<Self, String> {
        let shapes = [
            raw.all.is_some(),
            raw.any.is_some(),
            raw.not.is_some(),
            raw.field.is_some() || raw.op.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if shapes != 1 {
            return Err("a condition is exactly one of {all: [...]}, {any: [...]}, {not: ...} or {field: F, op: OP, value: V}".into());
        }
        if let Some(all) = raw.all {
            return Ok(Condition::All(all));
        }
        if let Some(any) = raw.any {
            return Ok(Condition::Any(any));
        }
        if let Some(not) = raw.not {
            return Ok(Condition::Not(not));
        }
        match (raw.field, raw.op) {
            (Some(field), Some(op)) => Ok(Condition::Test(Test {
                field,
                op,
                value: raw.value,
            })),
            (None, _) => Err("a field test needs `field`".into()),
            (_, None) => Err("a field test needs `op` (eq, ne, lt, lte, gt, gte, in, not_in, contains, contains_any, contains_all, exists, missing)".into()),
        }
    }
}

impl From<Condition> for RawCondition {
    fn from(c: Condition) -> Self {
        match c {
            Condition::All(v) => RawCondition {
                all: Some(v),
                ..Default::default()
            },
            Condition::Any(v) => RawCondition {
                any: Some(v),
                ..Default::default()
            },
            Condition::Not(v) => RawCondition {
                not: Some(v),
                ..Default::default()
            },
            Condition::Test(t) => RawCondition {
                field: Some(t.field),
                op: Some(t.op),
                value: t.value,
                ..Default::default()
            },
        }
    }
}

/// Why a condition could not be evaluated (it then does not match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    /// The fact that had the wrong type.
    pub field: String,
    /// What went wrong.
    pub message: String,
}

impl Condition {
    /// Every problem in the condition, with paths below `path` (such as `spec.rules[0].when`).
    pub fn validate(&self, path: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.check(path, &mut problems);
        problems
    }

    fn check(&self, path: &str, problems: &mut Vec<Problem>) {
        match self {
            Condition::All(items) => {
                for (i, c) in items.iter().enumerate() {
                    c.check(&format!("{path}.all[{i}]"), problems);
                }
            }
            Condition::Any(items) => {
                for (i, c) in items.iter().enumerate() {
                    c.check(&format!("{path}.any[{i}]"), problems);
                }
            }
            Condition::Not(c) => c.check(&format!("{path}.not"), problems),
            Condition::Test(t) => {
                if t.field.is_empty()
                    || !t
                        .field
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    problems.push(Problem::new(
                        format!("{path}.field"),
                        format!("{:?} is not a fact name (letters, digits and _)", t.field),
                    ));
                }
                let value_path = format!("{path}.value");
                match (t.op, &t.value) {
                    (Op::Exists | Op::Missing, Some(_)) => problems.push(Problem::new(
                        value_path,
                        format!("`{:?}` takes no value", t.op).to_lowercase(),
                    )),
                    (Op::Exists | Op::Missing, None) => {}
                    (_, None) => problems.push(Problem::new(value_path, "this test needs a value")),
                    (Op::Lt | Op::Lte | Op::Gt | Op::Gte, Some(v))
                        if !matches!(v, FactValue::Int(_)) =>
                    {
                        problems.push(Problem::new(
                            value_path,
                            format!("comparisons need a whole number, found {}", v.type_name()),
                        ));
                    }
                    (Op::In | Op::NotIn | Op::ContainsAny | Op::ContainsAll, Some(v))
                        if !matches!(v, FactValue::Set(_)) =>
                    {
                        problems.push(Problem::new(value_path, "this test needs a list of values"));
                    }
                    (Op::Contains, Some(FactValue::Set(_))) => problems.push(Problem::new(
                        value_path,
                        "`contains` takes one value; use contains_any or contains_all for a list",
                    )),
                    _ => {}
                }
                if let Some(FactValue::Set(items)) = &t.value
                    && items.iter().any(|v| matches!(v, FactValue::Set(_)))
                {
                    problems.push(Problem::new(
                        format!("{path}.value"),
                        "lists of lists are not supported",
                    ));
                }
            }
        }
    }

    /// Evaluates the condition on facts: `Ok(true/false)`, or the type mismatch that stops it.
    pub fn evaluate(&self, facts: &Facts) -> Result<bool, TypeMismatch> {
        match self {
            Condition::All(items) => {
                for c in items {
                    if !c.evaluate(facts)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Condition::Any(items) => {
                for c in items {
                    if c.evaluate(facts)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Condition::Not(c) => Ok(!c.evaluate(facts)?),
            Condition::Test(t) => t.evaluate(facts),
        }
    }

    /// Whether the condition matches; a type mismatch counts as no match.
    pub fn matches(&self, facts: &Facts) -> bool {
        self.evaluate(facts).unwrap_or(false)
    }

    /// The fact names the condition reads, in order of first use.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                items.iter().for_each(|c| c.collect_fields(out));
            }
            Condition::Not(c) => c.collect_fields(out),
            Condition::Test(t) => {
                if !out.contains(&t.field.as_str()) {
                    out.push(&t.field);
                }
            }
        }
    }

    /// Every field test's fact name with the path of its `field` key below `path`.
    pub fn field_paths(&self, path: &str) -> Vec<(String, &str)> {
        match self {
            Condition::All(items) => items
                .iter()
                .enumerate()
                .flat_map(|(i, c)| c.field_paths(&format!("{path}.all[{i}]")))
                .collect(),
            Condition::Any(items) => items
                .iter()
                .enumerate()
                .flat_map(|(i, c)| c.field_paths(&format!("{path}.any[{i}]")))
                .collect(),
            Condition::Not(c) => c.field_paths(&format!("{path}.not")),
            Condition::Test(t) => vec![(format!("{path}.field"), t.field.as_str())],
        }
    }

    /// A sentence describing the condition, such as `budget < 500000 and channels contains "email"`.
    pub fn describe(&self) -> String {
        match self {
            Condition::All(items) if items.is_empty() => "always".into(),
            Condition::Any(items) if items.is_empty() => "never".into(),
            Condition::All(items) => join(items, " and "),
            Condition::Any(items) => join(items, " or "),
            Condition::Not(c) => format!("not ({})", c.describe()),
            Condition::Test(t) => match &t.value {
                Some(v) => format!("{} {} {}", t.field, t.op.word(), v),
                None => format!("{} {}", t.field, t.op.word()),
            },
        }
    }
}

fn join(items: &[Condition], sep: &str) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|c| match c {
            Condition::All(v) | Condition::Any(v) if v.len() > 1 => format!("({})", c.describe()),
            _ => c.describe(),
        })
        .collect();
    parts.join(sep)
}

impl Test {
    fn evaluate(&self, facts: &Facts) -> Result<bool, TypeMismatch> {
        let fact = facts.get(&self.field);
        let mismatch = |what: &str, found: &FactValue| TypeMismatch {
            field: self.field.clone(),
            message: format!(
                "{} needs {what}, the fact is {}",
                self.field,
                found.type_name()
            ),
        };
        let Some(fact) = fact else {
            return Ok(self.op == Op::Missing);
        };
        let Some(value) = &self.value else {
            return Ok(self.op == Op::Exists);
        };
        let int = |f: &FactValue| match f {
            FactValue::Int(i) => Ok(*i),
            other => Err(mismatch("a whole number", other)),
        };
        let set = |f: &'_ FactValue| -> Result<Vec<FactValue>, TypeMismatch> {
            match f {
                FactValue::Set(items) => Ok(items.clone()),
                other => Err(mismatch("a list", other)),
            }
        };
        Ok(match self.op {
            Op::Eq => fact.same(value),
            Op::Ne => !fact.same(value),
            Op::Lt => int(fact)? < int(value)?,
            Op::Lte => int(fact)? <= int(value)?,
            Op::Gt => int(fact)? > int(value)?,
            Op::Gte => int(fact)? >= int(value)?,
            Op::In => FactValue::set_contains(&set(value)?, fact),
            Op::NotIn => !FactValue::set_contains(&set(value)?, fact),
            Op::Contains => FactValue::set_contains(&set(fact)?, value),
            Op::ContainsAny => {
                let have = set(fact)?;
                set(value)?
                    .iter()
                    .any(|v| FactValue::set_contains(&have, v))
            }
            Op::ContainsAll => {
                let have = set(fact)?;
                set(value)?
                    .iter()
                    .all(|v| FactValue::set_contains(&have, v))
            }
            Op::Exists => true,
            Op::Missing => false,
        })
    }
}

/// The type of a fact, as the request types' fields produce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// Yes or no.
    Boolean,
    /// A whole number.
    Integer,
    /// Text.
    Text,
    /// A list of text values.
    List,
}

impl FactKind {
    /// The word used in messages.
    pub fn word(self) -> &'static str {
        match self {
            FactKind::Boolean => "true/false",
            FactKind::Integer => "a whole number",
            FactKind::Text => "text",
            FactKind::List => "a list",
        }
    }

    fn of(v: &FactValue) -> FactKind {
        match v {
            FactValue::Bool(_) => FactKind::Boolean,
            FactValue::Int(_) => FactKind::Integer,
            FactValue::Str(_) => FactKind::Text,
            FactValue::Set(_) => FactKind::List,
        }
    }
}

/// The kinds each fact can have across the request types a condition covers.
pub type FactKinds = BTreeMap<String, BTreeSet<FactKind>>;

/// Problems for field tests that cannot work on the fact's type: an ordering on text, `contains`
/// on a single value, or a comparison with a value of another type (which would silently never
/// match). Facts missing from `kinds` are left to the unknown-fact check.
pub fn mismatched_facts(c: &Condition, kinds: &FactKinds, path: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    mismatches(c, kinds, path, &mut out);
    out
}

fn mismatches(c: &Condition, kinds: &FactKinds, path: &str, out: &mut Vec<Problem>) {
    match c {
        Condition::All(items) => {
            for (i, c) in items.iter().enumerate() {
                mismatches(c, kinds, &format!("{path}.all[{i}]"), out);
            }
        }
        Condition::Any(items) => {
            for (i, c) in items.iter().enumerate() {
                mismatches(c, kinds, &format!("{path}.any[{i}]"), out);
            }
        }
        Condition::Not(c) => mismatches(c, kinds, &format!("{path}.not"), out),
        Condition::Test(t) => {
            let Some(have) = kinds.get(&t.field).filter(|k| !k.is_empty()) else {
                return;
            };
            let Some(value) = &t.value else { return };
            // Whether the test works on a fact of kind `k`.
            let works = |k: FactKind| -> bool {
                let items_are = |want: FactKind| match value {
                    FactValue::Set(items) => items.iter().all(|v| FactKind::of(v) == want),
                    _ => false,
                };
                match t.op {
                    Op::Eq | Op::Ne => match (k, value) {
                        (FactKind::List, FactValue::Set(items)) => {
                            items.iter().all(|v| FactKind::of(v) == FactKind::Text)
                        }
                        (k, v) => FactKind::of(v) == k,
                    },
                    Op::Lt | Op::Lte | Op::Gt | Op::Gte => k == FactKind::Integer,
                    Op::In | Op::NotIn => k != FactKind::List && items_are(k),
                    Op::Contains => k == FactKind::List && FactKind::of(value) == FactKind::Text,
                    Op::ContainsAny | Op::ContainsAll => {
                        k == FactKind::List && items_are(FactKind::Text)
                    }
                    Op::Exists | Op::Missing => true,
                }
            };
            if have.iter().any(|k| works(*k)) {
                return;
            }
            let kinds: Vec<&str> = have.iter().map(|k| k.word()).collect();
            let at = match t.op {
                Op::Lt
                | Op::Lte
                | Op::Gt
                | Op::Gte
                | Op::Contains
                | Op::ContainsAny
                | Op::ContainsAll
                    if !have.contains(&FactKind::List) && !have.contains(&FactKind::Integer) =>
                {
                    format!("{path}.op")
                }
                _ => format!("{path}.value"),
            };
            out.push(Problem::new(
                at,
                format!(
                    "type mismatch: {} is {}, so `{} {} {}` can never hold",
                    t.field,
                    kinds.join(" or "),
                    t.field,
                    t.op.word(),
                    value
                ),
            ));
        }
    }
}

/// Renders a condition as a Cedar expression over `context.facts`, with the same meaning as
/// [`Condition::evaluate`].
pub fn to_cedar(condition: &Condition) -> String {
    match condition {
        Condition::All(items) if items.is_empty() => "true".into(),
        Condition::Any(items) if items.is_empty() => "false".into(),
        Condition::All(items) => format!(
            "({})",
            items.iter().map(to_cedar).collect::<Vec<_>>().join(" && ")
        ),
        Condition::Any(items) => format!(
            "({})",
            items.iter().map(to_cedar).collect::<Vec<_>>().join(" || ")
        ),
        Condition::Not(c) => format!("(!{})", to_cedar(c)),
        Condition::Test(t) => {
            let key = cedar_string(&t.field);
            let has = format!("context.facts has {key}");
            let get = format!("context.facts[{key}]");
            let v = t.value.as_ref().map(cedar_value).unwrap_or_default();
            match t.op {
                Op::Exists => format!("({has})"),
                Op::Missing => format!("(!({has}))"),
                Op::Eq => format!("({has} && {get} == {v})"),
                Op::Ne => format!("({has} && {get} != {v})"),
                Op::Lt => format!("({has} && {get} < {v})"),
                Op::Lte => format!("({has} && {get} <= {v})"),
                Op::Gt => format!("({has} && {get} > {v})"),
                Op::Gte => format!("({has} && {get} >= {v})"),
                Op::In => format!("({has} && {v}.contains({get}))"),
                Op::NotIn => format!("({has} && !({v}.contains({get})))"),
                Op::Contains => format!("({has} && {get}.contains({v}))"),
                Op::ContainsAny => format!("({has} && {get}.containsAny({v}))"),
                Op::ContainsAll => format!("({has} && {get}.containsAll({v}))"),
            }
        }
    }
}

/// A Cedar literal for a fact value.
pub fn cedar_value(v: &FactValue) -> String {
    match v {
        FactValue::Bool(b) => b.to_string(),
        FactValue::Int(i) => i.to_string(),
        FactValue::Str(s) => cedar_string(s),
        FactValue::Set(items) => format!(
            "[{}]",
            items.iter().map(cedar_value).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A Cedar string literal, escaped.
pub fn cedar_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        let mut f = Facts::new();
        f.insert("budget".into(), FactValue::Int(300_000));
        f.insert(
            "channels".into(),
            FactValue::Set(vec![
                FactValue::Str("email".into()),
                FactValue::Str("paid_social".into()),
            ]),
        );
        f.insert("gated".into(), FactValue::Bool(true));
        f.insert(
            "request_type".into(),
            FactValue::Str("campaign_brief".into()),
        );
        f
    }

    fn cond(yaml: &str) -> Condition {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn evaluates_like_the_examples() {
        let f = facts();
        let c = cond(
            "all: [{field: budget, op: lt, value: 500000}, {field: channels, op: contains, value: email}]",
        );
        assert!(c.matches(&f));
        assert_eq!(
            c.describe(),
            "budget < 500000 and channels contains \"email\""
        );
        assert!(cond("{field: gated, op: eq, value: true}").matches(&f));
        assert!(cond("{field: audience_size, op: missing}").matches(&f));
        assert!(!cond("{field: audience_size, op: gt, value: 5}").matches(&f));
        assert!(cond("{not: {field: audience_size, op: gt, value: 5}}").matches(&f));
        assert!(
            cond("{field: request_type, op: in, value: [campaign_brief, webinar]}").matches(&f)
        );
        assert!(
            cond("{field: channels, op: contains_any, value: [paid_search, paid_social]}")
                .matches(&f)
        );
        assert!(!cond("{field: channels, op: contains_all, value: [email, sms]}").matches(&f));
        assert!(cond("any: []").evaluate(&f) == Ok(false));
        assert!(cond("all: []").matches(&f));
    }

    #[test]
    fn type_mismatch_fails_the_whole_condition() {
        let f = facts();
        // Cedar semantics: the error is not absorbed by `not`.
        let c = cond("{not: {field: request_type, op: lt, value: 5}}");
        assert!(c.evaluate(&f).is_err());
        assert!(!c.matches(&f));
        // ... but short-circuiting stops before it.
        assert!(cond("any: [{field: gated, op: eq, value: true}, {field: request_type, op: lt, value: 5}]").matches(&f));
    }

    #[test]
    fn shape_mistakes_are_explained() {
        let err = serde_saphyr::from_str::<Condition>("{field: budget, op: lt, value: 5, all: []}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("exactly one of"), "{err}");
        let err = serde_saphyr::from_str::<Condition>("{field: budget, op: about}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("about"), "{err}");
    }

    #[test]
    fn fractional_values_are_explained() {
        let e = serde_saphyr::from_str::<Condition>("{field: budget, op: lt, value: 50.5}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("50.5 is not a whole number"), "{e}");
        let v: FactValue = serde_json::from_str("[1, \"a\", true]").unwrap();
        assert_eq!(
            v,
            FactValue::Set(vec![
                FactValue::Int(1),
                FactValue::Str("a".into()),
                FactValue::Bool(true)
            ])
        );
    }

    #[test]
    fn validation_names_the_path() {
        let c = cond(
            "all: [{field: budget, op: lt, value: lots}, {any: [{field: channels, op: in, value: email}]}, {field: x, op: exists, value: 1}]",
        );
        let paths: Vec<_> = c
            .validate("spec.rules[0].when")
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(
            paths,
            vec![
                "spec.rules[0].when.all[0].value",
                "spec.rules[0].when.all[1].any[0].value",
                "spec.rules[0].when.all[2].value"
            ]
        );
    }

    #[test]
    fn cedar_text_is_guarded() {
        let c = cond(
            "all: [{field: budget, op: lt, value: 500000}, {field: channels, op: contains, value: \"e\\\"mail\"}]",
        );
        assert_eq!(
            to_cedar(&c),
            r#"((context.facts has "budget" && context.facts["budget"] < 500000) && (context.facts has "channels" && context.facts["channels"].contains("e\"mail")))"#
        );
    }
}
