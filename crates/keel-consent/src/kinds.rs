//! The privacy kinds of ops-as-code: `Purpose`, `Jurisdiction` and `RetentionPolicy`, registered
//! with `keel-manifests` so `keel check/plan/apply` and the document API accept them. The JSON
//! Schema of each is generated from its Rust type.

use crate::retention::RetentionPolicySpec;
use crate::spec::{JurisdictionSpec, Problem, PurposeSpec};
use keel_manifests::{Registry, Spec};

fn problems(found: Vec<Problem>) -> Vec<keel_manifests::Problem> {
    found
        .into_iter()
        .map(|p| {
            // This crate's paths start at the document (`spec.title`); the loader's at `spec`.
            let path = p
                .path
                .strip_prefix("spec.")
                .or_else(|| p.path.strip_prefix("spec"))
                .unwrap_or(&p.path)
                .to_string();
            keel_manifests::Problem::error(path, p.message)
        })
        .collect()
}

impl Spec for PurposeSpec {
    const KIND: &'static str = "Purpose";

    fn validate(&self) -> Vec<keel_manifests::Problem> {
        problems(PurposeSpec::validate(self))
    }
}

impl Spec for JurisdictionSpec {
    const KIND: &'static str = "Jurisdiction";

    fn validate(&self) -> Vec<keel_manifests::Problem> {
        problems(JurisdictionSpec::validate(self))
    }
}

impl Spec for RetentionPolicySpec {
    const KIND: &'static str = "RetentionPolicy";

    fn validate(&self) -> Vec<keel_manifests::Problem> {
        problems(RetentionPolicySpec::validate(self))
    }
}

/// Registers the privacy kinds.
pub fn register(registry: &mut Registry) {
    registry
        .register::<PurposeSpec>()
        .register::<JurisdictionSpec>()
        .register::<RetentionPolicySpec>();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kinds_load_and_report_problems_with_locations() {
        let mut registry = Registry::new();
        register(&mut registry);
        let yaml = "apiVersion: keel/v1\nkind: Jurisdiction\nmetadata:\n  name: california\nspec:\n  title: California\n  regime: ccpa\n  regions: [US-CA]\n  honour_gpc: false\n";
        let loaded = keel_manifests::load(
            &[keel_manifests::SourceFile::new("j.yaml", yaml)],
            &registry,
        );
        assert_eq!(loaded.diagnostics.len(), 1, "{:?}", loaded.diagnostics);
        let d = &loaded.diagnostics[0];
        assert_eq!(d.location.line, 9, "{d}");
        assert!(d.message.contains("Global Privacy Control"), "{d}");
        let ok = yaml.replace("  honour_gpc: false\n", "");
        let loaded =
            keel_manifests::load(&[keel_manifests::SourceFile::new("j.yaml", ok)], &registry);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        assert_eq!(loaded.objects.len(), 1);
    }
}
