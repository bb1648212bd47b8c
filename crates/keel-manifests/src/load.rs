//! Loading a set of YAML files into checked documents, with every problem placed in its file.
//!
//! Loading never stops at the first problem: a syntax error ends only its own file, a schema
//! error only its own document, and everything else is checked. The result holds the documents
//! that passed and the diagnostics for everything that did not.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Location, Problem, Severity};
use crate::document::{API_VERSION, Document, Metadata, ObjectRef};
use crate::registry::{Reference, Registry, Spec};
use crate::schema::{self, UNKNOWN_FIELD, closest};
use crate::yaml::{self, Position, SourceMap};

/// One file's name and text, as given to [`load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The name used in diagnostics (usually the path as the user typed it).
    pub path: String,
    /// The file's content.
    pub text: String,
}

impl SourceFile {
    /// A file named `path` holding `text`.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// A document that passed its schema, with where it came from.
#[derive(Clone)]
pub struct LoadedObject {
    /// The document, with its spec in canonical form (as its type writes it).
    pub document: Document,
    /// The file it came from.
    pub file: String,
    /// Positions of its paths in that file.
    pub source: SourceMap,
    /// Other objects it names.
    pub references: Vec<Reference>,
    typed: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for LoadedObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedObject")
            .field("document", &self.document)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl LoadedObject {
    /// The typed spec, if this object is of kind `T`.
    pub fn spec<T: Spec>(&self) -> Option<&T> {
        self.typed.downcast_ref::<T>()
    }

    /// Where `path` (dotted from the document root) is in the file.
    pub fn locate(&self, path: &str) -> Location {
        let Position { line, column } = self.source.position(path);
        Location {
            file: self.file.clone(),
            line,
            column,
        }
    }
}

/// The outcome of loading: the good documents and every problem found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Documents that passed their schema, in file order.
    pub objects: Vec<LoadedObject>,
    /// Every problem, sorted by file, line and column.
    pub diagnostics: Vec<Diagnostic>,
    /// Every object defined, including ones whose spec has problems (so that a typo in one
    /// document does not also make every reference to it fail).
    pub names: BTreeSet<ObjectRef>,
    /// Position in `objects` by kind and name.
    index: BTreeMap<ObjectRef, usize>,
}

impl Loaded {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    /// Every loaded object of kind `T` with its typed spec.
    pub fn typed<T: Spec>(&self) -> impl Iterator<Item = (&Metadata, &T)> {
        self.objects
            .iter()
            .filter(|o| o.document.kind == T::KIND)
            .filter_map(|o| o.spec::<T>().map(|spec| (&o.document.metadata, spec)))
    }

    /// The loaded object with this kind and name.
    pub fn get(&self, object: &ObjectRef) -> Option<&LoadedObject> {
        self.index.get(object).and_then(|i| self.objects.get(*i))
    }

    /// The documents, for plans and export.
    pub fn documents(&self) -> Vec<Document> {
        self.objects.iter().map(|o| o.document.clone()).collect()
    }

    fn push(&mut self, location: Location, problem: Problem) {
        self.diagnostics.push(Diagnostic {
            location,
            severity: problem.severity,
            message: problem.message,
        });
    }

    /// Places a problem about `object` at its file and line; problems about objects that are
    /// not loaded are placed at the start of an unnamed file.
    pub fn diagnostic(&self, object: &ObjectRef, problem: Problem) -> Diagnostic {
        let location = match self.get(object) {
            Some(loaded) => loaded.locate(&problem.path),
            None => Location {
                file: object.to_string(),
                line: 1,
                column: 1,
            },
        };
        Diagnostic {
            location,
            severity: problem.severity,
            message: format!("{object}: {}", problem.message),
        }
    }
}

static METADATA_SCHEMA: LazyLock<Value> =
    LazyLock::new(|| schemars::schema_for!(Metadata).to_value());

const ENVELOPE_FIELDS: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];

/// Whether `name` is a valid object name: 1–128 of `a-z 0-9 - _ .`, starting and ending with a
/// letter or digit.
pub fn valid_name(name: &str) -> bool {
    let edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !name.is_empty()
        && name.len() <= 128
        && name.starts_with(edge)
        && name.ends_with(edge)
        && name
            .chars()
            .all(|c| edge(c) || matches!(c, '-' | '_' | '.'))
}

/// Loads and checks `files` with the kinds in `registry`.
pub fn load(files: &[SourceFile], registry: &Registry) -> Loaded {
    let mut loaded = Loaded::default();
    let mut first_seen: BTreeMap<ObjectRef, Location> = BTreeMap::new();
    for file in files {
        let docs = match yaml::parse_documents(&file.text) {
            Ok(docs) => docs,
            Err(err) => {
                let location = Location {
                    file: file.path.clone(),
                    line: err.position.line,
                    column: err.position.column,
                };
                loaded.push(
                    location,
                    Problem::error("", format!("YAML syntax: {}", err.message)),
                );
                continue;
            }
        };
        for doc in docs {
            load_document(&file.path, doc, registry, &mut loaded, &mut first_seen);
        }
    }
    loaded.index = loaded
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.document.object_ref(), i))
        .collect();
    check_references(&mut loaded);
    let findings: Vec<(ObjectRef, Problem)> = registry
        .checks()
        .iter()
        .flat_map(|check| check(&loaded))
        .collect();
    for (object, problem) in findings {
        let diagnostic = loaded.diagnostic(&object, problem);
        loaded.diagnostics.push(diagnostic);
    }
    loaded.diagnostics.sort_by(|a, b| {
        a.location
            .cmp(&b.location)
            .then_with(|| a.message.cmp(&b.message))
    });
    loaded.diagnostics.dedup();
    loaded
}

fn load_document(
    file: &str,
    doc: yaml::ParsedDocument,
    registry: &Registry,
    loaded: &mut Loaded,
    first_seen: &mut BTreeMap<ObjectRef, Location>,
) {
    let yaml::ParsedDocument {
        value,
        source,
        problems,
    } = doc;
    let at = |path: &str| {
        let Position { line, column } = source.position(path);
        Location {
            file: file.to_string(),
            line,
            column,
        }
    };
    let at_key = |path: &str| {
        let Position { line, column } = source.key_position(path);
        Location {
            file: file.to_string(),
            line,
            column,
        }
    };
    let mut report: Vec<Problem> = problems;
    let Some(envelope) = value.as_object() else {
        loaded.push(at(""), Problem::error("", format!(
            "a document must be a mapping with apiVersion, kind, metadata and spec, found {}",
            schema::describe_value(&value)
        )));
        return;
    };
    for key in envelope.keys() {
        if !ENVELOPE_FIELDS.contains(&key.as_str()) {
            let hint = closest(key, ENVELOPE_FIELDS.into_iter())
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            report.push(Problem::error(
                key.clone(),
                format!("{UNKNOWN_FIELD} `{key}`{hint}"),
            ));
        }
    }
    match envelope.get("apiVersion") {
        Some(Value::String(v)) if v == API_VERSION => {}
        Some(other) => report.push(Problem::error(
            "apiVersion",
            format!(
                "unsupported apiVersion {}; expected `{API_VERSION}`",
                schema::describe_value(other)
            ),
        )),
        None => report.push(Problem::error(
            "",
            format!("missing required field `apiVersion` (`{API_VERSION}`)"),
        )),
    }
    let kind_name = match envelope.get("kind") {
        Some(Value::String(k)) => Some(k.clone()),
        Some(other) => {
            report.push(Problem::error(
                "kind",
                format!("expected text, found {}", schema::describe_value(other)),
            ));
            None
        }
        None => {
            report.push(Problem::error("", "missing required field `kind`"));
            None
        }
    };
    let kind = kind_name.as_deref().and_then(|k| {
        let found = registry.kind(k);
        if found.is_none() {
            let hint = closest(k, registry.kinds())
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_else(|| {
                    format!(
                        "; known kinds: {}",
                        registry.kinds().collect::<Vec<_>>().join(", ")
                    )
                });
            report.push(Problem::error("kind", format!("unknown kind `{k}`{hint}")));
        }
        found
    });
    let metadata = match envelope.get("metadata") {
        Some(raw) => {
            let before = report.len();
            schema::check(
                raw,
                &METADATA_SCHEMA,
                &METADATA_SCHEMA,
                "metadata",
                &mut report,
            );
            if report.len() == before {
                match serde_json::from_value::<Metadata>(raw.clone()) {
                    Ok(metadata) => {
                        if !valid_name(&metadata.name) {
                            report.push(Problem::error(
                                "metadata.name",
                                format!("`{}` is not a valid name: use 1–128 lower-case letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit", metadata.name),
                            ));
                        }
                        Some(metadata)
                    }
                    Err(err) => {
                        report.push(Problem::error("metadata", err.to_string()));
                        None
                    }
                }
            } else {
                None
            }
        }
        None => {
            report.push(Problem::error("", "missing required field `metadata`"));
            None
        }
    };
    // Record the name even if the spec is broken, and catch duplicates.
    if let (Some(kind), Some(metadata)) = (&kind_name, &metadata) {
        let object = ObjectRef::new(kind.clone(), metadata.name.clone());
        if let Some(first) = first_seen.get(&object) {
            report.push(Problem::error(
                "metadata.name",
                format!(
                    "duplicate {kind} `{}`: first defined at {first}",
                    metadata.name
                ),
            ));
        } else {
            first_seen.insert(object.clone(), at("metadata.name"));
            loaded.names.insert(object);
        }
    }
    let mut decoded = None;
    if let Some(kind) = kind {
        match envelope.get("spec") {
            Some(spec) => {
                let before = report.len();
                schema::check(spec, kind.schema(), kind.schema(), "spec", &mut report);
                if report.len() == before {
                    match kind.decode(spec) {
                        Ok(d) => decoded = Some(d),
                        Err((path, err)) => report.push(Problem::error(
                            crate::diagnostic::join_path("spec", &path),
                            err.to_string(),
                        )),
                    }
                }
            }
            None => report.push(Problem::error("", "missing required field `spec`")),
        }
    }
    for problem in report.iter().cloned() {
        let location = if problem.message.starts_with(UNKNOWN_FIELD) {
            at_key(&problem.path)
        } else {
            at(&problem.path)
        };
        loaded.push(location, problem);
    }
    let (Some(decoded), Some(metadata), Some(kind_name)) = (decoded, metadata, kind_name) else {
        return;
    };
    for problem in decoded.problems {
        let problem = problem.under("spec");
        loaded.push(at(&problem.path), problem);
    }
    if report.iter().any(|p| p.path.starts_with("metadata")) {
        return;
    }
    let references = decoded
        .references
        .into_iter()
        .map(|r| Reference {
            path: crate::diagnostic::join_path("spec", &r.path),
            target: r.target,
        })
        .collect();
    loaded.objects.push(LoadedObject {
        document: Document {
            api_version: API_VERSION.to_string(),
            kind: kind_name,
            metadata,
            spec: decoded.canonical,
        },
        file: file.to_string(),
        source,
        references,
        typed: decoded.typed,
    });
}

fn check_references(loaded: &mut Loaded) {
    let mut found = Vec::new();
    for object in &loaded.objects {
        for reference in &object.references {
            if loaded.names.contains(&reference.target) {
                continue;
            }
            let same_kind = loaded
                .names
                .iter()
                .filter(|n| n.kind == reference.target.kind)
                .map(|n| n.name.as_str());
            let hint = closest(&reference.target.name, same_kind)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            found.push((
                object.locate(&reference.path),
                Problem::error(
                    reference.path.clone(),
                    format!(
                        "unknown {} `{}`{hint}",
                        reference.target.kind, reference.target.name
                    ),
                ),
            ));
        }
    }
    for (location, problem) in found {
        loaded.push(location, problem);
    }
}
