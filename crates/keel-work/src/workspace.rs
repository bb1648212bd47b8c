//! Checks across the work documents of a workspace: every document's own validation plus the
//! references between them — workflows, policies and SLAs naming request types that exist,
//! SLAs naming a calendar and an escalation path that exist and statuses the request types'
//! state machines have, and conditions reading facts the request types produce (a misspelt fact
//! would make a rule silently never match).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::approval::PolicySpec;
use crate::campaign::CampaignRulesSpec;
use crate::condition::{Condition, FactKinds, mismatched_facts};
use crate::intake::{RequestTypeSpec, unknown_facts};
use crate::routing::WorkflowSpec;
use crate::sla::{EscalationPathSpec, SlaSpec};
use crate::{BusinessCalendarSpec, Document, Problem, Spec};

/// All work documents of a workspace.
#[derive(Debug, Clone, Default)]
pub struct WorkDocuments {
    /// `kind: BusinessCalendar`.
    pub calendars: Vec<Document<BusinessCalendarSpec>>,
    /// `kind: RequestType`.
    pub request_types: Vec<Document<RequestTypeSpec>>,
    /// `kind: Workflow`.
    pub workflows: Vec<Document<WorkflowSpec>>,
    /// `kind: Policy`.
    pub policies: Vec<Document<PolicySpec>>,
    /// `kind: SLA`.
    pub slas: Vec<Document<SlaSpec>>,
    /// `kind: EscalationPath`.
    pub escalation_paths: Vec<Document<EscalationPathSpec>>,
    /// `kind: CampaignRules`.
    pub campaign_rules: Vec<Document<CampaignRulesSpec>>,
}

/// A problem located in one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentProblem {
    /// The document's kind.
    pub kind: String,
    /// The document's name.
    pub name: String,
    /// The problem, with its path inside the document.
    pub problem: Problem,
}

impl std::fmt::Display for DocumentProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.kind, self.name, self.problem)
    }
}

struct Sink(Vec<DocumentProblem>);

impl Sink {
    fn add<S: Spec>(&mut self, doc: &Document<S>, problem: Problem) {
        self.0.push(DocumentProblem {
            kind: S::KIND.into(),
            name: doc.metadata.name.clone(),
            problem,
        });
    }

    fn own<S: Spec>(&mut self, docs: &[Document<S>]) {
        let mut names = HashSet::new();
        for doc in docs {
            for p in doc.validate() {
                self.add(doc, p);
            }
            if !names.insert(doc.metadata.name.as_str()) {
                self.add(
                    doc,
                    Problem::new(
                        "metadata.name",
                        format!("another {} has this name", S::KIND),
                    ),
                );
            }
        }
    }
}

impl WorkDocuments {
    /// Every problem of every document, then every broken reference between them.
    pub fn check(&self) -> Vec<DocumentProblem> {
        let mut sink = Sink(Vec::new());
        sink.own(&self.calendars);
        sink.own(&self.request_types);
        sink.own(&self.workflows);
        sink.own(&self.policies);
        sink.own(&self.slas);
        sink.own(&self.escalation_paths);
        sink.own(&self.campaign_rules);
        self.across(
            &Across {
                existence: true,
                unloaded: &HashSet::new(),
            },
            &mut sink,
        );
        sink.0
    }

    /// The checks between documents only, for the ops-as-code loader, which checks each
    /// document and the existence of named objects itself. Request types in `across.unloaded`
    /// exist but could not be read; conditions over them are not checked for facts.
    pub(crate) fn check_across(&self, unloaded: &HashSet<String>) -> Vec<DocumentProblem> {
        let mut sink = Sink(Vec::new());
        self.across(
            &Across {
                existence: false,
                unloaded,
            },
            &mut sink,
        );
        sink.0
    }

    fn across(&self, scope: &Across<'_>, sink: &mut Sink) {
        let type_named = |n: &str| self.request_types.iter().find(|t| t.metadata.name == n);
        // Facts a condition may read, for documents that cover `types` (all types when empty).
        let facts_of = |types: &[String]| -> Vec<String> {
            let mut out: Vec<String> = self
                .request_types
                .iter()
                .filter(|t| types.is_empty() || types.contains(&t.metadata.name))
                .flat_map(|t| t.spec.fact_names())
                .collect();
            out.sort();
            out.dedup();
            out
        };

        // Kinds of the facts a condition may read, for documents that cover `types`.
        let kinds_of = |types: &[String]| -> FactKinds {
            let mut out = FactKinds::new();
            for t in self
                .request_types
                .iter()
                .filter(|t| types.is_empty() || types.contains(&t.metadata.name))
            {
                for (name, kind) in t.spec.fact_kinds() {
                    out.entry(name).or_default().insert(kind);
                }
            }
            out
        };
        // Facts cannot be known when a covered request type exists but could not be read.
        let facts_known = |types: &[String]| {
            if types.is_empty() {
                scope.unloaded.is_empty()
            } else {
                !types.iter().any(|t| scope.unloaded.contains(t))
            }
        };
        let check_condition = |c: &Condition, types: &[String], path: String| {
            if !facts_known(types) {
                return Vec::new();
            }
            let mut found = unknown_facts(c, &facts_of(types), &path);
            found.extend(mismatched_facts(c, &kinds_of(types), &path));
            found
        };

        let mut routed = HashSet::new();
        for w in &self.workflows {
            for (i, t) in w.spec.request_types.iter().enumerate() {
                let p = format!("spec.request_types[{i}]");
                if type_named(t).is_none() {
                    if scope.existence {
                        sink.add(w, Problem::new(p, format!("no request type {t:?}")));
                    }
                } else if !routed.insert(t.as_str()) {
                    sink.add(
                        w,
                        Problem::new(p, format!("{t:?} is already routed by another workflow")),
                    );
                }
            }
            for (i, task) in w.spec.tasks.iter().enumerate() {
                if let Some(c) = &task.when {
                    let path = format!("spec.tasks[{i}].when");
                    for p in check_condition(c, &w.spec.request_types, path) {
                        sink.add(w, p);
                    }
                }
            }
        }

        for pol in &self.policies {
            for (i, t) in pol.spec.applies_to.iter().enumerate() {
                if scope.existence && type_named(t).is_none() {
                    sink.add(
                        pol,
                        Problem::new(
                            format!("spec.applies_to[{i}]"),
                            format!("no request type {t:?}"),
                        ),
                    );
                }
            }
            for (i, rule) in pol.spec.rules.iter().enumerate() {
                if let Some(c) = &rule.when {
                    let path = format!("spec.rules[{i}].when");
                    for p in check_condition(c, &pol.spec.applies_to, path) {
                        sink.add(pol, p);
                    }
                }
            }
        }

        let mut held = HashSet::new();
        for sla in &self.slas {
            if scope.existence
                && !self
                    .calendars
                    .iter()
                    .any(|c| c.metadata.name == sla.spec.calendar)
            {
                sink.add(
                    sla,
                    Problem::new(
                        "spec.calendar",
                        format!("no business calendar {:?}", sla.spec.calendar),
                    ),
                );
            }
            if let Some(e) = &sla.spec.escalation
                && scope.existence
                && !self.escalation_paths.iter().any(|p| &p.metadata.name == e)
            {
                sink.add(
                    sla,
                    Problem::new("spec.escalation", format!("no escalation path {e:?}")),
                );
            }
            for (i, t) in sla.spec.applies_to.iter().enumerate() {
                let p = format!("spec.applies_to[{i}]");
                let states: Vec<String> = match crate::sla::built_in_subject(t) {
                    Some(states) => states.iter().map(|s| (*s).to_owned()).collect(),
                    None => {
                        let Some(ty) = type_named(t) else {
                            if scope.existence {
                                sink.add(sla, Problem::new(p, format!("no request type {t:?}")));
                            }
                            continue;
                        };
                        ty.spec.state_machine().states
                    }
                };
                if !held.insert(t.as_str()) {
                    sink.add(
                        sla,
                        Problem::new(p.clone(), format!("{t:?} is already held to another SLA")),
                    );
                }
                let mut check = |path: String, status: &str| {
                    if !states.iter().any(|s| s == status) {
                        sink.add(
                            sla,
                            Problem::new(path, format!("{status:?} is not a state of {t}")),
                        );
                    }
                };
                for (j, s) in sla.spec.pause_when.iter().enumerate() {
                    check(format!("spec.pause_when[{j}]"), s);
                }
                for (c, clock) in sla.spec.clocks.iter().enumerate() {
                    for (j, s) in clock.starts_on.iter().enumerate() {
                        check(format!("spec.clocks[{c}].starts_on[{j}]"), s);
                    }
                    for (j, s) in clock.stops_on.iter().enumerate() {
                        check(format!("spec.clocks[{c}].stops_on[{j}]"), s);
                    }
                }
            }
        }
    }
}

/// Which checks between documents run.
struct Across<'a> {
    /// Whether named request types, calendars and escalation paths must exist.
    existence: bool,
    /// Request types that exist but could not be read.
    unloaded: &'a HashSet<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc<S: serde::de::DeserializeOwned>(yaml: &str) -> Document<S> {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn broken_references_are_named() {
        let docs = WorkDocuments {
            request_types: vec![doc(
                "apiVersion: keel/v1\nkind: RequestType\nmetadata: {name: email_send}\nspec:\n  title: Email\n  fields:\n    - {key: budget, label: Budget, type: money}\n",
            )],
            workflows: vec![doc(
                "apiVersion: keel/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n  request_types: [email_send, webinar]\n  tasks:\n    - {id: a, name: A, effort: S, assignee: 'role:x', when: {field: budjet, op: gt, value: 1}}\n",
            )],
            policies: vec![doc(
                "apiVersion: keel/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n  rules:\n    - {name: r, decide: auto_approve, reason: ok, when: {all: [{field: budget_currency, op: eq, value: EUR}, {field: chanels, op: contains, value: email}]}}\n",
            )],
            slas: vec![doc(
                "apiVersion: keel/v1\nkind: SLA\nmetadata: {name: s}\nspec:\n  applies_to: [email_send]\n  calendar: office\n  escalation: standard\n  pause_when: [waiting]\n  clocks:\n    - {name: triage, starts_on: [submitted], stops_on: [in_review], targets: {normal: 4h}}\n",
            )],
            ..WorkDocuments::default()
        };
        let got: Vec<String> = docs.check().iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "Workflow w: spec.request_types[1]: no request type \"webinar\"",
                "Workflow w: spec.tasks[0].when.field: \"budjet\" is not a fact of the request type; did you mean budget?",
                "Policy p: spec.rules[0].when.all[1].field: \"chanels\" is not a fact of the request type",
                "SLA s: spec.calendar: no business calendar \"office\"",
                "SLA s: spec.escalation: no escalation path \"standard\"",
                "SLA s: spec.pause_when[0]: \"waiting\" is not a state of email_send",
            ]
        );
    }
}
