//! The contact kinds of ops as code — `DataContract`, `ScoringModel` and `Segment` — registered
//! with `keel-manifests`, so `keel check`, `plan` and `apply` accept them and a changed
//! contract is a recorded change. Each kind's checks are the crate's own `validate`, with
//! paths made relative to `spec`.

use std::borrow::Cow;

use keel_manifests::{Problem as ManifestProblem, Registry, Spec};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::contract::{ContractSpec, DataContract, Metadata};
use crate::problem::Problem;
use crate::scoring::{ScoringModel, ScoringSpec};
use crate::segment::{Filter, Segment, SegmentSpec};

/// Registers the contact kinds.
pub fn register(registry: &mut Registry) {
    registry
        .register::<ContractSpec>()
        .register::<ScoringSpec>()
        .register::<SegmentSpec>();
}

fn metadata() -> Metadata {
    Metadata {
        name: "checked".into(),
        description: None,
        labels: Default::default(),
    }
}

fn relative(problems: Vec<Problem>) -> Vec<ManifestProblem> {
    problems
        .into_iter()
        .filter(|p| p.path.starts_with("spec"))
        .map(|p| {
            let path = p
                .path
                .strip_prefix("spec.")
                .or_else(|| p.path.strip_prefix("spec"))
                .unwrap_or(&p.path)
                .to_string();
            ManifestProblem::error(path, p.message)
        })
        .collect()
}

impl Spec for ContractSpec {
    const KIND: &'static str = crate::contract::KIND;

    fn validate(&self) -> Vec<ManifestProblem> {
        relative(
            DataContract {
                api_version: crate::API_VERSION.into(),
                kind: Self::KIND.into(),
                metadata: metadata(),
                spec: self.clone(),
            }
            .validate(),
        )
    }
}

impl Spec for ScoringSpec {
    const KIND: &'static str = crate::scoring::KIND;

    fn validate(&self) -> Vec<ManifestProblem> {
        relative(
            ScoringModel {
                api_version: crate::API_VERSION.into(),
                kind: Self::KIND.into(),
                metadata: metadata(),
                spec: self.clone(),
            }
            .validate(),
        )
    }
}

impl Spec for SegmentSpec {
    const KIND: &'static str = crate::segment::KIND;

    fn validate(&self) -> Vec<ManifestProblem> {
        relative(
            Segment {
                api_version: crate::API_VERSION.into(),
                kind: Self::KIND.into(),
                metadata: metadata(),
                spec: self.clone(),
            }
            .validate(),
        )
    }
}

impl JsonSchema for Filter {
    fn schema_name() -> Cow<'static, str> {
        "Filter".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // A one-key map (`all`, `any`, `not`, `field`, `stage`, `score`, `event`); its shape is
        // checked by `Filter::check`, which names the exact path of every problem.
        json_schema!({
            "type": "object",
            "description": "A filter: one of all: [...], any: [...], not: {...}, field: {name, op, value}, stage: {in: [...]}, score: {...}, event: {...}",
            "minProperties": 1,
            "maxProperties": 1
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_documents_check_clean_through_the_registry() {
        let mut registry = Registry::new();
        register(&mut registry);
        let contract: DataContract =
            serde_yaml::from_str(crate::contract::DEFAULT_CONTACT_CONTRACT).unwrap();
        assert!(contract.spec.validate().is_empty());
        let model = ScoringModel::from_yaml(crate::scoring::DEFAULT_MODEL).unwrap();
        assert!(model.spec.validate().is_empty());
        let mut bad = contract.spec.clone();
        bad.object = "planet".into();
        let problems = bad.validate();
        assert!(problems.iter().any(|p| p.path == "object"), "{problems:?}");
    }
}
