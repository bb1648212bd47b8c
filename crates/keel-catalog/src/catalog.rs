//! The catalog as one value: every object of every catalog kind, by name.
//!
//! A [`Catalog`] is plain data. It comes from loaded files ([`Catalog::from_loaded`]) or from
//! stored documents ([`Catalog::from_documents`]) and goes back to documents
//! ([`Catalog::to_documents`]) for plans and export; every analysis takes a `&Catalog`.

use std::collections::BTreeMap;

use keel_manifests::{Document, Finding, Loaded, Metadata, ObjectRef, Problem, Registry, Spec};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::contract::{Contract, UsageSnapshot};
use crate::error::Error;
use crate::integration::{
    Automation, AutomationStatus, Integration, IntegrationKind, IntegrationStatus,
};
use crate::people::{Person, Team};
use crate::records::{ChangeRecord, Dashboard, Incident};
use crate::tool::{Category, Lifecycle, Tool};

/// One named object of the catalog: its metadata and typed spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<T> {
    /// Name, labels, description.
    pub metadata: Metadata,
    /// The kind-specific content.
    pub spec: T,
}

/// Objects of one kind by name.
pub type Entries<T> = BTreeMap<String, Entry<T>>;

/// Every object of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    /// People.
    pub people: Entries<Person>,
    /// Teams.
    pub teams: Entries<Team>,
    /// Tools.
    pub tools: Entries<Tool>,
    /// Integrations.
    pub integrations: Entries<Integration>,
    /// Automations.
    pub automations: Entries<Automation>,
    /// Contracts.
    pub contracts: Entries<Contract>,
    /// Usage snapshots.
    pub usage: Entries<UsageSnapshot>,
    /// Dashboards.
    pub dashboards: Entries<Dashboard>,
    /// Change records.
    pub changes: Entries<ChangeRecord>,
    /// Incidents.
    pub incidents: Entries<Incident>,
}

/// Registers every catalog kind and the catalog's cross-object checks.
pub fn register(registry: &mut Registry) {
    registry
        .register::<Person>()
        .register::<Team>()
        .register::<Tool>()
        .register::<Integration>()
        .register::<Automation>()
        .register::<Contract>()
        .register::<UsageSnapshot>()
        .register::<Dashboard>()
        .register::<ChangeRecord>()
        .register::<Incident>()
        .add_check(|loaded| check(&Catalog::from_loaded(loaded)));
}

/// A registry with the catalog kinds only.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    register(&mut registry);
    registry
}

fn collect<T: Spec + Clone>(loaded: &Loaded) -> Entries<T> {
    loaded
        .typed::<T>()
        .map(|(metadata, spec)| {
            (
                metadata.name.clone(),
                Entry {
                    metadata: metadata.clone(),
                    spec: spec.clone(),
                },
            )
        })
        .collect()
}

fn decode<T: DeserializeOwned>(document: &Document, into: &mut Entries<T>) -> Result<(), Error> {
    let spec = document.spec_as::<T>().map_err(|source| Error::Spec {
        object: document.object_ref().to_string(),
        source,
    })?;
    into.insert(
        document.metadata.name.clone(),
        Entry {
            metadata: document.metadata.clone(),
            spec,
        },
    );
    Ok(())
}

fn encode<T: Serialize + Spec>(entries: &Entries<T>, out: &mut Vec<Document>) -> Result<(), Error> {
    for (name, entry) in entries {
        let document =
            Document::new(T::KIND, entry.metadata.clone(), &entry.spec).map_err(|source| {
                Error::Spec {
                    object: format!("{}/{name}", T::KIND),
                    source,
                }
            })?;
        out.push(document);
    }
    Ok(())
}

impl Catalog {
    /// The catalog objects among loaded documents (documents with problems are left out).
    pub fn from_loaded(loaded: &Loaded) -> Self {
        Catalog {
            people: collect(loaded),
            teams: collect(loaded),
            tools: collect(loaded),
            integrations: collect(loaded),
            automations: collect(loaded),
            contracts: collect(loaded),
            usage: collect(loaded),
            dashboards: collect(loaded),
            changes: collect(loaded),
            incidents: collect(loaded),
        }
    }

    /// The catalog held in `documents`; documents of other kinds are ignored.
    pub fn from_documents(documents: &[Document]) -> Result<Self, Error> {
        let mut catalog = Catalog::default();
        for document in documents {
            match document.kind.as_str() {
                Person::KIND => decode(document, &mut catalog.people)?,
                Team::KIND => decode(document, &mut catalog.teams)?,
                Tool::KIND => decode(document, &mut catalog.tools)?,
                Integration::KIND => decode(document, &mut catalog.integrations)?,
                Automation::KIND => decode(document, &mut catalog.automations)?,
                Contract::KIND => decode(document, &mut catalog.contracts)?,
                UsageSnapshot::KIND => decode(document, &mut catalog.usage)?,
                Dashboard::KIND => decode(document, &mut catalog.dashboards)?,
                ChangeRecord::KIND => decode(document, &mut catalog.changes)?,
                Incident::KIND => decode(document, &mut catalog.incidents)?,
                _ => {}
            }
        }
        Ok(catalog)
    }

    /// Every object as a document, sorted by kind then name.
    pub fn to_documents(&self) -> Result<Vec<Document>, Error> {
        let mut out = Vec::new();
        encode(&self.people, &mut out)?;
        encode(&self.teams, &mut out)?;
        encode(&self.tools, &mut out)?;
        encode(&self.integrations, &mut out)?;
        encode(&self.automations, &mut out)?;
        encode(&self.contracts, &mut out)?;
        encode(&self.usage, &mut out)?;
        encode(&self.dashboards, &mut out)?;
        encode(&self.changes, &mut out)?;
        encode(&self.incidents, &mut out)?;
        out.sort_by(|a, b| (&a.kind, &a.metadata.name).cmp(&(&b.kind, &b.metadata.name)));
        Ok(out)
    }

    /// Whether `name` is a person who works here now.
    pub fn is_active_person(&self, name: &str) -> bool {
        self.people.get(name).is_some_and(|p| p.spec.is_active())
    }

    /// The contracts that pay for `tool`.
    pub fn contracts_for<'a>(
        &'a self,
        tool: &'a str,
    ) -> impl Iterator<Item = &'a Entry<Contract>> + 'a {
        self.contracts.values().filter(move |c| c.spec.covers(tool))
    }

    /// The most recent usage snapshot of `tool`.
    pub fn latest_usage(&self, tool: &str) -> Option<&Entry<UsageSnapshot>> {
        self.usage
            .values()
            .filter(|u| u.spec.tool == tool)
            .max_by_key(|u| u.spec.taken_on)
    }
}

/// Rules that span objects, reported as problems on the object that must change.
pub fn check(catalog: &Catalog) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, integration) in &catalog.integrations {
        if let Some(via) = &integration.spec.via
            && let Some(tool) = catalog.tools.get(via)
            && integration.spec.kind == IntegrationKind::Middleware
            && !tool.spec.categories.iter().any(|c| {
                matches!(
                    c,
                    Category::Middleware | Category::DataPipeline | Category::Cdp
                )
            })
        {
            findings.push((
                ObjectRef::new(Integration::KIND, name),
                Problem::warning(
                    "spec.via",
                    format!("`{via}` is not in the middleware, data pipeline or CDP category"),
                ),
            ));
        }
    }
    for (name, contract) in &catalog.contracts {
        for (i, tool) in contract.spec.tools.iter().enumerate() {
            if let Some(t) = catalog.tools.get(tool)
                && !t.spec.vendor.eq_ignore_ascii_case(&contract.spec.vendor)
            {
                findings.push((
                    ObjectRef::new(Contract::KIND, name),
                    Problem::warning(
                        format!("spec.tools[{i}]"),
                        format!(
                            "`{tool}` is sold by {}, but the contract is with {}",
                            t.spec.vendor, contract.spec.vendor
                        ),
                    ),
                ));
            }
        }
    }
    let retired = |tool: &str| {
        catalog
            .tools
            .get(tool)
            .is_some_and(|t| t.spec.lifecycle == Lifecycle::Retired)
    };
    for (name, integration) in &catalog.integrations {
        let i = &integration.spec;
        if i.status == IntegrationStatus::Retired {
            continue;
        }
        for (field, tool) in [
            ("spec.from", Some(&i.from)),
            ("spec.to", Some(&i.to)),
            ("spec.via", i.via.as_ref()),
        ] {
            if let Some(tool) = tool.filter(|t| retired(t)) {
                findings.push((
                    ObjectRef::new(Integration::KIND, name),
                    Problem::warning(
                        field,
                        format!("`{tool}` is retired but this integration is not"),
                    ),
                ));
            }
        }
    }
    for (name, automation) in &catalog.automations {
        if automation.spec.status == AutomationStatus::Retired {
            continue;
        }
        if let Some(tool) = automation.spec.tools().into_iter().find(|t| retired(t)) {
            findings.push((
                ObjectRef::new(Automation::KIND, name),
                Problem::warning("spec", format!("touches `{tool}`, which is retired")),
            ));
        }
    }
    for (name, team) in &catalog.teams {
        if let Some(lead) = &team.spec.lead
            && catalog
                .people
                .get(lead)
                .is_some_and(|p| !p.spec.is_active())
        {
            findings.push((
                ObjectRef::new(Team::KIND, name),
                Problem::warning("spec.lead", format!("team lead `{lead}` has left")),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{contract, entry, person, tool};
    use crate::integration::{Direction, Frequency};

    #[test]
    fn cross_object_warnings() {
        let mut c = Catalog::default();
        tool(&mut c, "crm", &[Category::Crm]).vendor = "Salesforce".into();
        tool(&mut c, "old", &[]).lifecycle = Lifecycle::Retired;
        tool(&mut c, "zapier", &[Category::Other]);
        person(&mut c, "gone", false);
        c.teams.insert(
            "ops".into(),
            entry(
                "ops",
                Team {
                    display_name: "Ops".into(),
                    lead: Some("gone".into()),
                    contact: None,
                },
            ),
        );
        contract(&mut c, "k", &["crm"], 1, None).vendor = "HubSpot".into();
        let integration = Integration {
            from: "old".into(),
            to: "crm".into(),
            kind: IntegrationKind::Middleware,
            via: Some("zapier".into()),
            direction: Direction::OneWay,
            objects: vec![],
            frequency: Frequency::Daily,
            owner: None,
            status: IntegrationStatus::Active,
            docs: None,
        };
        c.integrations
            .insert("sync".into(), entry("sync", integration));
        let found: Vec<String> = check(&c)
            .into_iter()
            .map(|(o, p)| format!("{o} {} {}", p.path, p.message))
            .collect();
        assert_eq!(
            found,
            vec![
                "Integration/sync spec.via `zapier` is not in the middleware, data pipeline or CDP category",
                "Contract/k spec.tools[0] `crm` is sold by Salesforce, but the contract is with HubSpot",
                "Integration/sync spec.from `old` is retired but this integration is not",
                "Team/ops spec.lead team lead `gone` has left",
            ]
        );
    }
}
