//! The kinds Keel knows, registered by the domain crates that own them.
//!
//! A domain crate implements [`Spec`] for each of its spec types and calls
//! [`Registry::register`]; the loader then checks documents of that kind against the schema
//! generated from the type, decodes them, runs the type's own checks and resolves its
//! references, without knowing anything about the domain.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diagnostic::Problem;
use crate::document::{Document, Metadata, ObjectRef};
use crate::error::Error;
use crate::load::Loaded;

/// A reference from inside one document to another object, to be checked for existence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Where the name appears, dotted and relative to `spec` (e.g. `owners.platform[0]`).
    pub path: String,
    /// The object named.
    pub target: ObjectRef,
}

impl Reference {
    /// A reference at `path` to `kind`/`name`.
    pub fn new(path: impl Into<String>, kind: &str, name: &str) -> Self {
        Reference {
            path: path.into(),
            target: ObjectRef::new(kind, name),
        }
    }
}

/// The typed `spec` of one kind of document.
pub trait Spec: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static {
    /// The `kind:` value, such as `Tool`.
    const KIND: &'static str;

    /// Checks that need only this document; paths are relative to `spec`.
    fn validate(&self) -> Vec<Problem> {
        Vec::new()
    }

    /// Every other object this spec names; the loader reports the ones that do not exist.
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }
}

/// A problem about one object found by a check across all documents.
pub type Finding = (ObjectRef, Problem);

/// A check over the whole set of loaded documents (for rules that span objects).
pub type SetCheck = Box<dyn Fn(&Loaded) -> Vec<Finding> + Send + Sync>;

/// A decoded spec: the typed value, its canonical JSON form and what it says about itself.
pub(crate) struct Decoded {
    pub typed: Arc<dyn Any + Send + Sync>,
    pub canonical: Value,
    pub problems: Vec<Problem>,
    pub references: Vec<Reference>,
}

/// One registered kind with its type erased.
pub(crate) trait Kind: Send + Sync {
    fn schema(&self) -> &Value;
    /// Decodes a spec that passed the schema; a failure names the path (relative to `spec`)
    /// of the value serde refused, such as a text whose form the type checks itself.
    fn decode(&self, spec: &Value) -> Result<Decoded, (String, serde_json::Error)>;
    fn to_yaml(&self, document: &Document) -> Result<String, Error>;
}

struct Registered<T> {
    schema: Value,
    _spec: std::marker::PhantomData<fn() -> T>,
}

/// How a document is written out: the envelope with the spec in its type's field order.
#[derive(Serialize)]
struct Envelope<'a, S> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    metadata: &'a Metadata,
    spec: &'a S,
}

impl<T: Spec> Kind for Registered<T> {
    fn schema(&self) -> &Value {
        &self.schema
    }

    fn decode(&self, spec: &Value) -> Result<Decoded, (String, serde_json::Error)> {
        let typed: T = serde_path_to_error::deserialize(spec.clone()).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            (path, e.into_inner())
        })?;
        let canonical = serde_json::to_value(&typed).map_err(|e| (String::new(), e))?;
        let problems = typed.validate();
        let references = typed.references();
        Ok(Decoded {
            typed: Arc::new(typed),
            canonical,
            problems,
            references,
        })
    }

    fn to_yaml(&self, document: &Document) -> Result<String, Error> {
        let spec: T = document.spec_as().map_err(|source| Error::Spec {
            object: document.object_ref().to_string(),
            source,
        })?;
        let envelope = Envelope {
            api_version: &document.api_version,
            kind: &document.kind,
            metadata: &document.metadata,
            spec: &spec,
        };
        serde_saphyr::to_string_with_options(&envelope, yaml_options()).map_err(|err| {
            Error::Write {
                object: document.object_ref().to_string(),
                message: err.to_string(),
            }
        })
    }
}

/// How documents are written: YAML 1.2 (what the loader reads, so dates and words like `yes`
/// stay unquoted), two-space indentation, list items indented under their key.
fn yaml_options() -> serde_saphyr::SerializerOptions {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.indent_step = 2;
    options.compact_list_indent = false;
    options.yaml_12 = true;
    options.no_lang_directive = true;
    options
}

/// The kinds the loader understands, and the checks that span documents.
#[derive(Default)]
pub struct Registry {
    kinds: BTreeMap<&'static str, Box<dyn Kind>>,
    checks: Vec<SetCheck>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.kinds.keys().collect::<Vec<_>>())
            .field("checks", &self.checks.len())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Registers the kind of `T`; registering a kind twice keeps the last one.
    pub fn register<T: Spec>(&mut self) -> &mut Self {
        let schema = schemars::schema_for!(T).to_value();
        self.kinds.insert(
            T::KIND,
            Box::new(Registered::<T> {
                schema,
                _spec: std::marker::PhantomData,
            }),
        );
        self
    }

    /// Adds a check that runs over every loaded document after the per-document checks.
    pub fn add_check(
        &mut self,
        check: impl Fn(&Loaded) -> Vec<Finding> + Send + Sync + 'static,
    ) -> &mut Self {
        self.checks.push(Box::new(check));
        self
    }

    /// The registered kind names, sorted.
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.keys().copied()
    }

    /// The JSON Schema of a kind's `spec`, for editors and API documentation.
    pub fn schema(&self, kind: &str) -> Option<&Value> {
        self.kinds.get(kind).map(|k| k.schema())
    }

    pub(crate) fn kind(&self, kind: &str) -> Option<&dyn Kind> {
        self.kinds.get(kind).map(|k| k.as_ref())
    }

    pub(crate) fn checks(&self) -> &[SetCheck] {
        &self.checks
    }
}
