//! The envelope every ops-as-code document shares: `apiVersion`, `kind`, `metadata`, `spec`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// The only API version Keel reads and writes today.
pub const API_VERSION: &str = "keel/v1";

/// Names, labels and notes about an object; the same for every kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The object's name, unique within its kind: lower-case letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// Free-form short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Labels used for grouping and selection.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Notes for tools and people; not interpreted by Keel.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Metadata {
    /// Metadata with only a name.
    pub fn named(name: impl Into<String>) -> Self {
        Metadata {
            name: name.into(),
            ..Metadata::default()
        }
    }
}

/// A kind and a name: how one object refers to another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The kind, such as `Tool`.
    pub kind: String,
    /// The object's `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// A reference to `kind`/`name`.
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectRef {
            kind: kind.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// One ops-as-code document whose `spec` has passed its kind's schema.
///
/// The spec is kept as JSON data so that generic code (plans, export) can work on every kind;
/// [`Document::spec_as`] gives the typed value back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Always [`API_VERSION`].
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// The kind, such as `Tool` or `Integration`.
    pub kind: String,
    /// Name, labels, annotations, description.
    pub metadata: Metadata,
    /// The kind-specific content.
    pub spec: serde_json::Value,
}

impl Document {
    /// Builds a document from a typed spec.
    pub fn new<T: Serialize>(
        kind: &str,
        metadata: Metadata,
        spec: &T,
    ) -> Result<Self, serde_json::Error> {
        Ok(Document {
            api_version: API_VERSION.to_string(),
            kind: kind.to_string(),
            metadata,
            spec: serde_json::to_value(spec)?,
        })
    }

    /// The kind and name of this document.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new(self.kind.clone(), self.metadata.name.clone())
    }

    /// The spec as its typed value.
    pub fn spec_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.spec.clone())
    }
}
