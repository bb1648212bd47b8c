//! Ops as code against the running state: the registry of every kind Keel understands, and the
//! bridge between stored documents and `keel-manifests` documents, so `plan`, `apply` and
//! `export` work the same from the CLI, the API and the UI.

use keel_manifests::{Document, Metadata, Plan, Registry};
use keel_store::documents::{self, DesiredDocument, DocumentChange};
use keel_store::{Actor, Store, StoreError};

/// Every kind of ops-as-code document Keel understands.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    keel_catalog::register(&mut registry);
    keel_work::register(&mut registry);
    keel_consent::kinds::register(&mut registry);
    keel_checks::register(&mut registry);
    keel_contacts::kinds::register(&mut registry);
    registry.register::<keel_attribution::channels::ChannelRulesSpec>();
    registry
}

/// Errors of the bridge.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored document no longer reads as a document.
    #[error("stored document {kind}/{name} is unreadable: {message}")]
    Unreadable {
        /// Kind.
        kind: String,
        /// Name.
        name: String,
        /// Why.
        message: String,
    },
}

/// The running state as documents.
pub async fn current_documents(store: &Store) -> Result<Vec<Document>, OpsError> {
    documents::list(store, None)
        .await?
        .into_iter()
        .map(|d| {
            let metadata: Metadata =
                serde_json::from_value(d.metadata.0.clone()).map_err(|e| OpsError::Unreadable {
                    kind: d.kind.clone(),
                    name: d.name.clone(),
                    message: e.to_string(),
                })?;
            Ok(Document {
                api_version: d.api_version,
                kind: d.kind,
                metadata,
                spec: d.spec.0,
            })
        })
        .collect()
}

/// A document as the store keeps it.
pub fn desired(document: &Document) -> DesiredDocument {
    DesiredDocument {
        kind: document.kind.clone(),
        name: document.metadata.name.clone(),
        api_version: document.api_version.clone(),
        metadata: serde_json::to_value(&document.metadata).unwrap_or_default(),
        spec: document.spec.clone(),
    }
}

/// The store changes that carry out a plan.
pub fn changes(plan: &Plan) -> Vec<DocumentChange> {
    let mut out: Vec<DocumentChange> = plan
        .create
        .iter()
        .map(|d| DocumentChange::Put(desired(d)))
        .collect();
    out.extend(
        plan.change
            .iter()
            .map(|c| DocumentChange::Put(desired(&c.after))),
    );
    out.extend(plan.delete.iter().map(|o| DocumentChange::Delete {
        kind: o.kind.clone(),
        name: o.name.clone(),
    }));
    out
}

/// Applies a plan as one recorded change; returns how many objects changed.
pub async fn apply_plan(
    store: &Store,
    actor: &Actor,
    plan: &Plan,
    reason: &str,
) -> Result<usize, OpsError> {
    if plan.is_empty() {
        return Ok(0);
    }
    Ok(documents::apply(store, actor, &changes(plan), reason).await?)
}

/// The running catalog, read from the stored documents.
pub async fn catalog(store: &Store) -> Result<keel_catalog::Catalog, OpsError> {
    let docs = current_documents(store).await?;
    let catalog_kinds: Vec<Document> = docs
        .into_iter()
        .filter(|d| is_catalog_kind(&d.kind))
        .collect();
    keel_catalog::Catalog::from_documents(&catalog_kinds).map_err(|e| OpsError::Unreadable {
        kind: "catalog".into(),
        name: "*".into(),
        message: e.to_string(),
    })
}

/// Whether a kind belongs to the stack catalog.
pub fn is_catalog_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Person"
            | "Team"
            | "Tool"
            | "Integration"
            | "Automation"
            | "Contract"
            | "UsageSnapshot"
            | "Dashboard"
            | "ChangeRecord"
            | "Incident"
    )
}
