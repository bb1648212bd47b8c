//! Checks JSON-shaped data against a kind's JSON Schema and reports every problem at once.
//!
//! Serde stops at the first error; people fixing a file want all of them. The schema is
//! generated from the domain types with `schemars`, so it cannot drift from what serde accepts;
//! this checker understands the subset `schemars` produces (`$ref`, `type`, `properties`,
//! `required`, `additionalProperties`, `items`, `enum`, `const`, `oneOf`/`anyOf`/`allOf`,
//! `format` and integer ranges) and names the path of each problem.

use serde_json::{Map, Value};

use crate::diagnostic::{Problem, push_index, push_key};

/// How the checker reports an unknown key, so the loader can point at the key itself.
pub const UNKNOWN_FIELD: &str = "unknown field";

/// Checks `value` against `schema` (whose `$ref`s resolve inside `root`), appending problems
/// with paths below `path`.
pub fn check(value: &Value, schema: &Value, root: &Value, path: &str, out: &mut Vec<Problem>) {
    let Some(obj) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            out.push(Problem::error(path, "no value is allowed here"));
        }
        return;
    };
    if let Some(Value::String(reference)) = obj.get("$ref") {
        match resolve(root, reference) {
            Some(target) => check(value, target, root, path, out),
            None => out.push(Problem::error(
                path,
                format!("schema reference {reference} is missing"),
            )),
        }
    }
    if let Some(Value::Array(all)) = obj.get("allOf") {
        for sub in all {
            check(value, sub, root, path, out);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alternatives)) = obj.get(key) {
            check_alternatives(value, alternatives, root, path, out);
        }
    }
    if let Some(expected) = obj.get("type")
        && !type_matches(value, expected)
    {
        out.push(Problem::error(
            path,
            format!(
                "expected {}, found {}{}",
                describe_type(expected),
                describe_value(value),
                quote_hint(value, expected)
            ),
        ));
        return;
    }
    if let Some(Value::Array(allowed)) = obj.get("enum")
        && !allowed.contains(value)
    {
        out.push(Problem::error(path, unknown_value_message(value, allowed)));
    }
    if let Some(constant) = obj.get("const")
        && constant != value
    {
        out.push(Problem::error(
            path,
            unknown_value_message(value, std::slice::from_ref(constant)),
        ));
    }
    if let Some(Value::String(format)) = obj.get("format") {
        check_format(value, format, path, out);
    }
    check_range(value, obj, path, out);
    match value {
        Value::Object(map) => check_object(map, obj, root, path, out),
        Value::Array(items) => {
            if let Some(item_schema) = obj.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item, item_schema, root, &push_index(path, i), out);
                }
            }
        }
        _ => {}
    }
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

fn check_object(
    map: &Map<String, Value>,
    schema: &Map<String, Value>,
    root: &Value,
    path: &str,
    out: &mut Vec<Problem>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(Value::Array(required)) = schema.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                out.push(Problem::error(
                    path,
                    format!("missing required field `{name}`"),
                ));
            }
        }
    }
    let additional = schema.get("additionalProperties");
    for (key, child) in map {
        let child_path = push_key(path, key);
        if let Some(prop) = properties.and_then(|p| p.get(key)) {
            check(child, prop, root, &child_path, out);
            continue;
        }
        match additional {
            Some(Value::Bool(false)) => {
                let known: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                out.push(Problem::error(
                    child_path,
                    unknown_field_message(key, &known),
                ));
            }
            Some(extra) if extra.is_object() => check(child, extra, root, &child_path, out),
            _ => {}
        }
    }
}

fn unknown_field_message(key: &str, known: &[&str]) -> String {
    let mut message = format!("{UNKNOWN_FIELD} `{key}`");
    if let Some(best) = closest(key, known.iter().copied()) {
        message.push_str(&format!(" (did you mean `{best}`?)"));
    } else if !known.is_empty() {
        // Sorted, so the message is the same whatever order the schema's map keeps.
        let mut known = known.to_vec();
        known.sort_unstable();
        message.push_str(&format!("; expected one of: {}", known.join(", ")));
    }
    message
}

/// The candidate most like `word`, if one is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn unknown_value_message(value: &Value, allowed: &[Value]) -> String {
    let names: Vec<String> = allowed.iter().map(render_scalar).collect();
    if value.is_array() || value.is_object() {
        return format!(
            "expected one of: {}, found {}",
            names.join(", "),
            describe_value(value)
        );
    }
    let mut message = format!("unknown value {}", describe_value(value));
    if let Some(text) = value.as_str()
        && let Some(best) = closest(text, names.iter().map(String::as_str))
    {
        message.push_str(&format!(" (did you mean `{best}`?)"));
        return message;
    }
    message.push_str(&format!("; expected one of: {}", names.join(", ")));
    message
}

fn render_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// All scalar constants an alternative list allows, if it is a plain list of constants.
fn constants(alternatives: &[Value], root: &Value) -> Option<Vec<Value>> {
    let mut values = Vec::new();
    for alternative in alternatives {
        let alternative = match alternative.get("$ref").and_then(Value::as_str) {
            Some(r) => resolve(root, r)?,
            None => alternative,
        };
        if let Some(c) = alternative.get("const") {
            values.push(c.clone());
        } else if let Some(Value::Array(list)) = alternative.get("enum") {
            values.extend(list.iter().cloned());
        } else {
            return None;
        }
    }
    Some(values)
}

fn check_alternatives(
    value: &Value,
    alternatives: &[Value],
    root: &Value,
    path: &str,
    out: &mut Vec<Problem>,
) {
    // Enums of plain values (the common case) are answered without trying each alternative.
    if let Some(values) = constants(alternatives, root) {
        if !values.contains(value) {
            out.push(Problem::error(path, unknown_value_message(value, &values)));
        }
        return;
    }
    let mut attempts: Vec<Vec<Problem>> = Vec::new();
    for alternative in alternatives {
        let mut problems = Vec::new();
        check(value, alternative, root, path, &mut problems);
        if problems.is_empty() {
            return;
        }
        attempts.push(problems);
    }
    // Report the alternative that came closest: problems deepest inside the value mean the
    // shape matched and only details are wrong.
    let best = attempts.into_iter().min_by_key(|problems| {
        let depth = problems.iter().map(|p| p.path.len()).max().unwrap_or(0);
        (
            problems.iter().all(|p| p.path == path),
            usize::MAX - depth,
            problems.len(),
        )
    });
    if let Some(problems) = best {
        out.extend(problems);
    }
}

fn type_matches(value: &Value, expected: &Value) -> bool {
    match expected {
        Value::String(t) => type_name_matches(value, t),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .any(|t| type_name_matches(value, t)),
        _ => true,
    }
}

fn type_name_matches(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// A hint for numbers and booleans where text is expected: YAML reads `1` and `yes`-like words
/// as other types unless quoted.
fn quote_hint(value: &Value, expected: &Value) -> &'static str {
    let wants_text = match expected {
        Value::String(t) => t == "string",
        Value::Array(types) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    if wants_text && (value.is_number() || value.is_boolean()) {
        " (put it in quotes to make it text)"
    } else {
        ""
    }
}

fn describe_type(expected: &Value) -> String {
    let article = |t: &str| match t {
        "null" => "nothing (null)".to_string(),
        "boolean" => "true or false".to_string(),
        "string" => "text".to_string(),
        "number" => "a number".to_string(),
        "integer" => "a whole number".to_string(),
        "array" => "a list".to_string(),
        "object" => "a mapping".to_string(),
        other => other.to_string(),
    };
    match expected {
        Value::String(t) => article(t),
        Value::Array(types) => {
            let names: Vec<String> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .map(article)
                .collect();
            names.join(" or ")
        }
        other => other.to_string(),
    }
}

/// A short description of a value for messages: its kind, and its text for scalars.
pub fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".to_string(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) => format!("`{s}`"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

fn check_format(value: &Value, format: &str, path: &str, out: &mut Vec<Problem>) {
    let Some(text) = value.as_str() else { return };
    match format {
        "date" if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() => {
            out.push(Problem::error(
                path,
                format!("`{text}` is not a valid date (expected YYYY-MM-DD, e.g. 2026-11-30)"),
            ));
        }
        "date-time" if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
            out.push(Problem::error(
                    path,
                    format!(
                        "`{text}` is not a valid date and time (expected RFC 3339, e.g. 2026-11-30T09:00:00Z)"
                    ),
                ));
        }
        _ => {}
    }
}

fn check_range(value: &Value, schema: &Map<String, Value>, path: &str, out: &mut Vec<Problem>) {
    let Some(number) = value.as_f64() else { return };
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && number < min
    {
        out.push(Problem::error(
            path,
            format!("must be at least {min}, found {value}"),
        ));
        return;
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && number > max
    {
        out.push(Problem::error(
            path,
            format!("must be at most {max}, found {value}"),
        ));
        return;
    }
    let bounds = match schema.get("format").and_then(Value::as_str) {
        Some("uint8") => Some((0.0, f64::from(u8::MAX))),
        Some("uint16") => Some((0.0, f64::from(u16::MAX))),
        Some("uint32") => Some((0.0, f64::from(u32::MAX))),
        Some("int32") => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
        _ => None,
    };
    if let Some((low, high)) = bounds
        && (number < low || number > high)
    {
        out.push(Problem::error(
            path,
            format!("{value} is out of range ({low} to {high})"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemars::JsonSchema;
    use serde::Deserialize;
    use serde_json::json;

    /// Test spec.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Spec {
        vendor: String,
        seats: Option<u32>,
        stage: Stage,
        start: chrono::NaiveDate,
        #[serde(default)]
        links: Vec<Link>,
        contact: Option<Link>,
    }

    /// Test link.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Link {
        url: String,
    }

    /// Test stage.
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Stage {
        /// Being looked at.
        Evaluating,
        /// In use.
        Live,
    }

    fn problems(value: Value) -> Vec<Problem> {
        let schema = schemars::schema_for!(Spec);
        let schema = schema.as_value();
        let mut out = Vec::new();
        check(&value, schema, schema, "spec", &mut out);
        out
    }

    #[test]
    fn valid_values_pass() {
        let ok = json!({"vendor": "Acme", "stage": "live", "start": "2026-01-31",
                        "links": [{"url": "u"}], "contact": null});
        assert_eq!(problems(ok), vec![]);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let bad = json!({"vendr": "Acme", "seats": -3, "stage": "liv", "start": "2026-02-30",
                         "links": [{"url": "u"}, {"uri": "x"}], "contact": {"url": 3}});
        let found: Vec<(String, String)> = problems(bad)
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect();
        let has = |path: &str, needle: &str| {
            assert!(
                found.iter().any(|(p, m)| p == path && m.contains(needle)),
                "no `{needle}` at {path} in {found:#?}"
            );
        };
        has("spec", "missing required field `vendor`");
        has(
            "spec.vendr",
            "unknown field `vendr` (did you mean `vendor`?)",
        );
        has("spec.seats", "at least 0");
        has("spec.stage", "did you mean `live`");
        has("spec.start", "not a valid date");
        has("spec.links[1]", "missing required field `url`");
        has("spec.links[1].uri", "unknown field");
        has("spec.contact.url", "expected text, found `3`");
    }

    #[test]
    fn wrong_types_are_named() {
        let found = problems(json!({"vendor": ["x"], "stage": "live", "start": "2026-01-01"}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "expected text, found a list");
    }
}
