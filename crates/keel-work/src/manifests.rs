//! The work documents as ops-as-code kinds: `BusinessCalendar`, `RequestType`, `Workflow`,
//! `Policy`, `SLA`, `EscalationPath` and `CampaignRules` are registered with `keel-manifests`, so
//! `keel check`, `plan`, `apply`, `export` and the document API read them like every other kind.
//!
//! Each spec type is checked against the JSON Schema generated from it, then by its own
//! validation (paths relative to `spec`); the names it gives of other documents (request types,
//! calendars, escalation paths) are resolved by the loader, and [`check`] adds the rules that
//! span documents — facts a condition reads that no request type produces, conditions whose
//! types cannot match, request types routed or held twice, SLA statuses a state machine lacks.
//!
//! `metadata.title` and `metadata.owner` of a work document are kept as the annotations `title`
//! and `owner` of the ops-as-code envelope, which has no such fields.

use std::collections::HashSet;

use keel_manifests::{Finding, Loaded, ObjectRef, Reference, Registry};
use serde::de::DeserializeOwned;

use crate::approval::PolicySpec;
use crate::campaign::CampaignRulesSpec;
use crate::intake::RequestTypeSpec;
use crate::routing::WorkflowSpec;
use crate::sla::{EscalationPathSpec, SlaSpec};
use crate::workspace::WorkDocuments;
use crate::{
    API_VERSION, BusinessCalendarSpec, Document, Metadata, Problem, Spec, WorkError, check_name,
};

/// The annotation holding a work document's title.
pub const TITLE_ANNOTATION: &str = "title";
/// The annotation holding a work document's owner.
pub const OWNER_ANNOTATION: &str = "owner";

/// The kinds of work documents, in the order [`WorkDocuments`] holds them.
pub const KINDS: [&str; 7] = [
    "BusinessCalendar",
    "RequestType",
    "Workflow",
    "Policy",
    "SLA",
    "EscalationPath",
    "CampaignRules",
];

fn in_spec(problems: Vec<Problem>) -> Vec<keel_manifests::Problem> {
    problems.iter().map(Problem::to_manifests_in_spec).collect()
}

fn request_types(field: &str, names: &[String]) -> Vec<Reference> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| Reference::new(format!("{field}[{i}]"), <RequestTypeSpec as Spec>::KIND, n))
        .collect()
}

impl keel_manifests::Spec for RequestTypeSpec {
    const KIND: &'static str = <Self as Spec>::KIND;
    fn validate(&self) -> Vec<keel_manifests::Problem> {
        in_spec(Spec::validate(self))
    }
}

impl keel_manifests::Spec for WorkflowSpec {
    const KIND: &'static str = <Self as Spec>::KIND;
    fn validate(&self) -> Vec<keel_manifests::Problem> {
        in_spec(Spec::validate(self))
    }
    fn references(&self) -> Vec<Reference> {
        request_types("request_types", &self.request_types)
    }
}

impl keel_manifests::Spec for PolicySpec {
    const KIND: &'static str = <Self as Spec>::KIND;
    fn validate(&self) -> Vec<keel_manifests::Problem> {
        in_spec(Spec::validate(self))
    }
    fn references(&self) -> Vec<Reference> {
        request_types("applies_to", &self.applies_to)
    }
}

impl keel_manifests::Spec for SlaSpec {
    const KIND: &'static str = <Self as Spec>::KIND;
    fn validate(&self) -> Vec<keel_manifests::Problem> {
        in_spec(Spec::validate(self))
    }
    fn references(&self) -> Vec<Reference> {
        // Built-in subjects (MQL hand-offs) are not documents to resolve.
        let mut refs: Vec<Reference> = request_types("applies_to", &self.applies_to)
            .into_iter()
            .zip(&self.applies_to)
            .filter(|(_, name)| crate::sla::built_in_subject(name).is_none())
            .map(|(r, _)| r)
            .collect();
        refs.push(Reference::new(
            "calendar",
            <BusinessCalendarSpec as Spec>::KIND,
            &self.calendar,
        ));
        if let Some(e) = &self.escalation {
            refs.push(Reference::new(
                "escalation",
                <EscalationPathSpec as Spec>::KIND,
                e,
            ));
        }
        refs
    }
}

impl keel_manifests::Spec for EscalationPathSpec {
    const KIND: &'static str = <Self as Spec>::KIND;
    fn validate(&self) -> Vec<keel_manifests::Problem> {
        in_spec(Spec::validate(self))
    }
}

impl keel_manifests::Spec for CampaignRulesSpec {
    const KIND: &'static str = <Self as Spec>::KIND;
    fn validate(&self) -> Vec<keel_manifests::Problem> {
        in_spec(Spec::validate(self))
    }
}

/// Registers every work kind and the checks across work documents.
pub fn register(registry: &mut Registry) {
    registry
        .register::<BusinessCalendarSpec>()
        .register::<RequestTypeSpec>()
        .register::<WorkflowSpec>()
        .register::<PolicySpec>()
        .register::<SlaSpec>()
        .register::<EscalationPathSpec>()
        .register::<CampaignRulesSpec>()
        .add_check(check);
}

/// A registry with the work kinds only.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    register(&mut registry);
    registry
}

/// The checks across loaded work documents, with paths from the document root so the loader
/// places each at its file, line and column.
pub fn check(loaded: &Loaded) -> Vec<Finding> {
    let docs = WorkDocuments::from_loaded(loaded);
    let mut findings = Vec::new();
    // Work documents are named like intake keys (no dots), stricter than the envelope allows.
    for object in &loaded.objects {
        if KINDS.contains(&object.document.kind.as_str())
            && let Err(message) = check_name(&object.document.metadata.name)
        {
            findings.push((
                object.document.object_ref(),
                keel_manifests::Problem::error("metadata.name", message),
            ));
        }
    }
    let read: HashSet<&str> = docs
        .request_types
        .iter()
        .map(|t| t.metadata.name.as_str())
        .collect();
    let unloaded: HashSet<String> = loaded
        .names
        .iter()
        .filter(|n| n.kind == <RequestTypeSpec as Spec>::KIND && !read.contains(n.name.as_str()))
        .map(|n| n.name.clone())
        .collect();
    findings.extend(
        docs.check_across(&unloaded)
            .into_iter()
            .map(|p| (ObjectRef::new(p.kind, p.name), p.problem.to_manifests())),
    );
    findings
}

impl Metadata {
    /// The work metadata of an ops-as-code envelope (title and owner from its annotations).
    pub fn from_manifests(m: &keel_manifests::Metadata) -> Self {
        Metadata {
            name: m.name.clone(),
            title: m.annotations.get(TITLE_ANNOTATION).cloned(),
            description: m.description.clone(),
            owner: m.annotations.get(OWNER_ANNOTATION).cloned(),
        }
    }

    /// The ops-as-code envelope metadata of this work metadata.
    pub fn to_manifests(&self) -> keel_manifests::Metadata {
        let mut m = keel_manifests::Metadata::named(self.name.clone());
        m.description = self.description.clone();
        if let Some(t) = &self.title {
            m.annotations.insert(TITLE_ANNOTATION.into(), t.clone());
        }
        if let Some(o) = &self.owner {
            m.annotations.insert(OWNER_ANNOTATION.into(), o.clone());
        }
        m
    }
}

impl<S: Spec> Document<S> {
    /// A work document from ops-as-code metadata and its typed spec.
    pub fn from_manifests(metadata: &keel_manifests::Metadata, spec: S) -> Self {
        Document {
            api_version: API_VERSION.into(),
            kind: S::KIND.into(),
            metadata: Metadata::from_manifests(metadata),
            spec,
        }
    }
}

impl<S: Spec + serde::Serialize> Document<S> {
    /// The document in the stored ops-as-code form.
    pub fn to_manifests(&self) -> Result<keel_manifests::Document, WorkError> {
        keel_manifests::Document::new(S::KIND, self.metadata.to_manifests(), &self.spec).map_err(
            |e| WorkError::Invalid {
                kind: S::KIND.into(),
                name: self.metadata.name.clone(),
                problems: vec![Problem::new("spec", e.to_string())],
            },
        )
    }
}

fn typed<S: Spec + keel_manifests::Spec + Clone>(loaded: &Loaded) -> Vec<Document<S>> {
    loaded
        .typed::<S>()
        .map(|(m, spec)| Document::from_manifests(m, spec.clone()))
        .collect()
}

fn decode<S: Spec + DeserializeOwned>(
    doc: &keel_manifests::Document,
    into: &mut Vec<Document<S>>,
) -> Result<(), WorkError> {
    let spec: S = doc.spec_as().map_err(|e| WorkError::Invalid {
        kind: S::KIND.into(),
        name: doc.metadata.name.clone(),
        problems: vec![Problem::new("spec", e.to_string())],
    })?;
    into.push(Document::from_manifests(&doc.metadata, spec));
    Ok(())
}

impl WorkDocuments {
    /// The work documents among loaded ops-as-code files (other kinds are ignored).
    pub fn from_loaded(loaded: &Loaded) -> Self {
        WorkDocuments {
            calendars: typed(loaded),
            request_types: typed(loaded),
            workflows: typed(loaded),
            policies: typed(loaded),
            slas: typed(loaded),
            escalation_paths: typed(loaded),
            campaign_rules: typed(loaded),
        }
    }

    /// The work documents among stored ops-as-code documents (other kinds are ignored). A work
    /// document whose spec no longer reads as its type is an error naming it.
    pub fn from_documents(docs: &[keel_manifests::Document]) -> Result<Self, WorkError> {
        let mut out = WorkDocuments::default();
        for doc in docs {
            match doc.kind.as_str() {
                "BusinessCalendar" => decode(doc, &mut out.calendars)?,
                "RequestType" => decode(doc, &mut out.request_types)?,
                "Workflow" => decode(doc, &mut out.workflows)?,
                "Policy" => decode(doc, &mut out.policies)?,
                "SLA" => decode(doc, &mut out.slas)?,
                "EscalationPath" => decode(doc, &mut out.escalation_paths)?,
                "CampaignRules" => decode(doc, &mut out.campaign_rules)?,
                _ => {}
            }
        }
        Ok(out)
    }

    /// Every document in the stored ops-as-code form, in kind order.
    pub fn to_documents(&self) -> Result<Vec<keel_manifests::Document>, WorkError> {
        let mut out = Vec::new();
        for d in &self.calendars {
            out.push(d.to_manifests()?);
        }
        for d in &self.request_types {
            out.push(d.to_manifests()?);
        }
        for d in &self.workflows {
            out.push(d.to_manifests()?);
        }
        for d in &self.policies {
            out.push(d.to_manifests()?);
        }
        for d in &self.slas {
            out.push(d.to_manifests()?);
        }
        for d in &self.escalation_paths {
            out.push(d.to_manifests()?);
        }
        for d in &self.campaign_rules {
            out.push(d.to_manifests()?);
        }
        Ok(out)
    }
}
