//! YAML text to JSON-shaped data, remembering where every node came from.
//!
//! Schemas and domain rules work on `serde_json::Value`; the [`SourceMap`] kept beside it maps
//! each dotted path back to the line and column of the key and the value in the file.

use std::collections::HashMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::diagnostic::{Problem, push_index, push_key};

/// A line and column in one file, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Where one node is: its value and, for mapping entries, its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    /// The key of the mapping entry holding this node, if any.
    pub key: Option<Position>,
    /// The node itself.
    pub value: Position,
    /// Whether the node is a mapping or a sequence.
    pub collection: bool,
}

/// Dotted paths of one document mapped to their positions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    spans: HashMap<String, NodeSpan>,
}

impl SourceMap {
    /// The span of exactly this path, if the document has a node there.
    pub fn get(&self, path: &str) -> Option<&NodeSpan> {
        self.spans.get(path)
    }

    /// The best position for a problem at `path`: the node itself if present (its key for
    /// collections, which start on the next line), else the closest ancestor that exists (a
    /// missing field is reported on the mapping that lacks it).
    pub fn position(&self, path: &str) -> Position {
        let mut current = path.to_string();
        loop {
            if let Some(span) = self.spans.get(&current) {
                return match (span.collection, span.key) {
                    (true, Some(key)) => key,
                    _ => span.value,
                };
            }
            match parent_path(&current) {
                Some(parent) => current = parent,
                None => return Position { line: 1, column: 1 },
            }
        }
    }

    /// The position of the key of the entry at `path` (for "unknown field" problems).
    pub fn key_position(&self, path: &str) -> Position {
        match self.spans.get(path).and_then(|s| s.key) {
            Some(key) => key,
            None => self.position(path),
        }
    }
}

/// The parent of a dotted path, or `None` for the root.
pub fn parent_path(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    if path.ends_with(']')
        && let Some(open) = path.rfind('[')
    {
        return Some(path[..open].to_string());
    }
    match path.rfind('.') {
        Some(dot) => Some(path[..dot].to_string()),
        None => Some(String::new()),
    }
}

/// One YAML document of a file, as data plus positions.
#[derive(Debug, Clone)]
pub struct ParsedDocument {
    /// The content as JSON-shaped data.
    pub value: serde_json::Value,
    /// Where every path is.
    pub source: SourceMap,
    /// Problems met while converting (aliases, non-finite numbers …), by path.
    pub problems: Vec<Problem>,
}

/// A YAML syntax error: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub position: Position,
    /// The parser's description.
    pub message: String,
}

/// Parses every document of a YAML stream; empty documents are skipped.
pub fn parse_documents(text: &str) -> Result<Vec<ParsedDocument>, SyntaxError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|err| {
        let marker = err.marker();
        SyntaxError {
            position: Position {
                line: marker.line().max(1),
                column: marker.col() + 1,
            },
            message: err.info().to_string(),
        }
    })?;
    let mut out = Vec::new();
    for doc in &docs {
        if matches!(doc.data, YamlData::Value(Scalar::Null)) {
            continue;
        }
        let mut source = SourceMap::default();
        let mut problems = Vec::new();
        let value = convert(doc, "", None, &mut source, &mut problems);
        out.push(ParsedDocument {
            value,
            source,
            problems,
        });
    }
    Ok(out)
}

fn position(node: &MarkedYaml<'_>) -> Position {
    Position {
        line: node.span.start.line().max(1),
        column: node.span.start.col() + 1,
    }
}

fn convert(
    node: &MarkedYaml<'_>,
    path: &str,
    key: Option<Position>,
    source: &mut SourceMap,
    problems: &mut Vec<Problem>,
) -> serde_json::Value {
    use serde_json::Value;
    let collection = matches!(node.data, YamlData::Sequence(_) | YamlData::Mapping(_));
    source.spans.insert(
        path.to_string(),
        NodeSpan {
            key,
            value: position(node),
            collection,
        },
    );
    match &node.data {
        YamlData::Value(scalar) => scalar_value(scalar, path, problems),
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    convert(
                        item,
                        &push_index(path, i),
                        Some(position(item)),
                        source,
                        problems,
                    )
                })
                .collect(),
        ),
        YamlData::Mapping(entries) => {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                let name = match &k.data {
                    YamlData::Value(Scalar::String(s)) => s.to_string(),
                    YamlData::Value(Scalar::Integer(i)) => i.to_string(),
                    YamlData::Value(Scalar::Boolean(b)) => b.to_string(),
                    YamlData::Value(Scalar::FloatingPoint(f)) => f.to_string(),
                    YamlData::Value(Scalar::Null) => "null".to_string(),
                    YamlData::Representation(text, _, _) => text.to_string(),
                    _ => {
                        problems.push(Problem::error(
                            path,
                            "mapping keys must be plain text, not lists or mappings",
                        ));
                        continue;
                    }
                };
                let child = push_key(path, &name);
                let value = convert(v, &child, Some(position(k)), source, problems);
                map.insert(name, value);
            }
            Value::Object(map)
        }
        YamlData::Tagged(_, inner) => convert(inner, path, key, source, problems),
        YamlData::Alias(_) => {
            problems.push(Problem::error(path, "YAML aliases are not supported here"));
            Value::Null
        }
        YamlData::BadValue => {
            problems.push(Problem::error(path, "this value cannot be read"));
            Value::Null
        }
    }
}

fn scalar_value(scalar: &Scalar<'_>, path: &str, problems: &mut Vec<Problem>) -> serde_json::Value {
    use serde_json::Value;
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::from(*i),
        Scalar::FloatingPoint(f) => match serde_json::Number::from_f64(f.into_inner()) {
            Some(n) => Value::Number(n),
            None => {
                problems.push(Problem::error(path, "numbers must be finite"));
                Value::Null
            }
        },
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let text = "kind: Tool\nspec:\n  vendor: Acme\n  tags:\n    - a\n    - b\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 1);
        let doc = &docs[0];
        assert_eq!(doc.value["spec"]["vendor"], "Acme");
        let vendor = doc.source.get("spec.vendor").unwrap();
        assert_eq!(vendor.key, Some(Position { line: 3, column: 3 }));
        assert_eq!(
            vendor.value,
            Position {
                line: 3,
                column: 11
            }
        );
        assert_eq!(
            doc.source.position("spec.tags[1]"),
            Position { line: 6, column: 7 }
        );
        // A missing field is placed on its parent, which is a collection: its key.
        assert_eq!(
            doc.source.position("spec.owner"),
            Position { line: 2, column: 1 }
        );
    }

    #[test]
    fn splits_multi_document_streams_and_skips_empty_ones() {
        let text = "---\na: 1\n---\n---\nb: [x]\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[1].source.position("b[0]"),
            Position { line: 5, column: 5 }
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_documents("a: 1\nb: [x\n").unwrap_err();
        assert!(err.position.line >= 2, "{err:?}");
        let dup = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert_eq!(dup.position.line, 2, "{dup:?}");
    }

    #[test]
    fn scalars_keep_their_types() {
        let docs =
            parse_documents("i: 12\nf: 1.5\nb: true\ns: '12'\nd: 2026-11-30\nn: ~\n").unwrap();
        let v = &docs[0].value;
        assert!(v["i"].is_i64());
        assert!(v["f"].is_f64());
        assert!(v["b"].is_boolean());
        assert!(v["s"].is_string());
        assert_eq!(v["d"], "2026-11-30");
        assert!(v["n"].is_null());
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent_path("spec.a[2]").as_deref(), Some("spec.a"));
        assert_eq!(parent_path("spec.a").as_deref(), Some("spec"));
        assert_eq!(parent_path("spec").as_deref(), Some(""));
        assert_eq!(parent_path(""), None);
    }
}
