//! Approval policies: declarative rules that decide the routine so that people see only the
//! rest.
//!
//! A `kind: Policy` document holds ordered rules; each has a condition over request facts and an
//! outcome (auto-approve, require approval from named parties, escalate, or reject). Policies are
//! compiled to Cedar, one `permit` policy per rule, and evaluated by
//! [`keel_policy::PolicyEngine`], the same machinery that decides permissions. Cedar has no
//! order, so every rule that holds is reported and the first one in order (policy `order`, then
//! policy name, then rule position) decides.
//! The decision records which policy and rule decided, on which facts, and why.
//!
//! [`simulate`] replays a proposed policy set against past requests' facts and reports which
//! decisions would change, before anyone applies it.

use std::collections::{BTreeMap, HashMap};

use keel_policy::{PolicyEngine, Principal};
use serde::{Deserialize, Serialize};

use crate::condition::{Condition, FactValue, Facts, cedar_string, to_cedar};
use crate::{Document, Party, Problem, Spec, WorkError, check_name, duplicates};

/// What a rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decide {
    /// Approve without a person.
    AutoApprove,
    /// Ask the listed approvers.
    RequireApproval,
    /// Send to the listed parties above the usual approvers.
    Escalate,
    /// Refuse.
    Reject,
}

/// How several approvers combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// Every approver must approve.
    All,
    /// One approver is enough.
    Any,
    /// `quorum` approvers must approve.
    Quorum,
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Rule name, unique in the policy.
    pub name: String,
    /// When the rule applies; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// What it decides.
    pub decide: Decide,
    /// Approvers of `require_approval`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<Party>,
    /// How approvers combine (default `all`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ApprovalMode>,
    /// Approvals needed in `quorum` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<u32>,
    /// Who an `escalate` rule sends the request to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalate_to: Vec<Party>,
    /// Why, in words the requester will read.
    pub reason: String,
}

/// The `spec` of a `kind: Policy` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Request types the policy governs; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applies_to: Vec<String>,
    /// Policies with a lower order are consulted first (then by name).
    #[serde(default)]
    pub order: i32,
    /// Rules, first match wins.
    pub rules: Vec<RuleSpec>,
}

impl Spec for PolicySpec {
    const KIND: &'static str = "Policy";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.rules.is_empty() {
            problems.push(Problem::new(
                "spec.rules",
                "a policy needs at least one rule",
            ));
        }
        for (i, t) in self.applies_to.iter().enumerate() {
            if let Err(m) = check_name(t) {
                problems.push(Problem::new(format!("spec.applies_to[{i}]"), m));
            }
        }
        problems.extend(duplicates(
            self.rules.iter().map(|r| r.name.as_str()),
            |i| format!("spec.rules[{i}].name"),
            "rule",
        ));
        for (i, rule) in self.rules.iter().enumerate() {
            let p = format!("spec.rules[{i}]");
            if let Err(m) = check_name(&rule.name) {
                problems.push(Problem::new(format!("{p}.name"), m));
            }
            if rule.reason.trim().is_empty() {
                problems.push(Problem::new(
                    format!("{p}.reason"),
                    "every rule says why it decides",
                ));
            }
            if let Some(c) = &rule.when {
                problems.extend(c.validate(&format!("{p}.when")));
            }
            let approving = rule.decide == Decide::RequireApproval;
            if approving && rule.approvers.is_empty() {
                problems.push(Problem::new(
                    format!("{p}.approvers"),
                    "require_approval needs approvers",
                ));
            }
            if !approving {
                for (set, name) in [
                    (!rule.approvers.is_empty(), "approvers"),
                    (rule.mode.is_some(), "mode"),
                    (rule.quorum.is_some(), "quorum"),
                ] {
                    if set {
                        problems.push(Problem::new(
                            format!("{p}.{name}"),
                            format!("`{name}` only applies to require_approval"),
                        ));
                    }
                }
            }
            match (rule.mode, rule.quorum) {
                (Some(ApprovalMode::Quorum), None) => {
                    problems.push(Problem::new(
                        format!("{p}.quorum"),
                        "quorum mode needs `quorum`",
                    ));
                }
                (Some(ApprovalMode::Quorum), Some(q))
                    if q == 0 || q as usize > rule.approvers.len() =>
                {
                    problems.push(Problem::new(
                        format!("{p}.quorum"),
                        format!(
                            "quorum must be between 1 and the number of approvers ({})",
                            rule.approvers.len()
                        ),
                    ));
                }
                (Some(ApprovalMode::All | ApprovalMode::Any) | None, Some(_)) if approving => {
                    problems.push(Problem::new(
                        format!("{p}.quorum"),
                        "`quorum` needs mode: quorum",
                    ));
                }
                _ => {}
            }
            if rule.decide == Decide::Escalate && rule.escalate_to.is_empty() {
                problems.push(Problem::new(
                    format!("{p}.escalate_to"),
                    "escalate needs escalate_to",
                ));
            }
            if rule.decide != Decide::Escalate && !rule.escalate_to.is_empty() {
                problems.push(Problem::new(
                    format!("{p}.escalate_to"),
                    "`escalate_to` only applies to escalate",
                ));
            }
        }
        problems
    }
}

/// How many approvals a require-approval outcome needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "n")]
pub enum Needed {
    /// All approvers.
    All,
    /// Any one approver.
    Any,
    /// This many approvers.
    Quorum(u32),
}

/// The outcome of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Approved by policy.
    AutoApprove,
    /// Approvals needed from people.
    RequireApproval {
        /// Who must approve.
        approvers: Vec<Party>,
        /// How many of them.
        needed: Needed,
    },
    /// Sent above the usual approvers.
    Escalate {
        /// To whom.
        to: Vec<Party>,
    },
    /// Refused by policy.
    Reject,
    /// No rule applied: the request goes to the approval inbox for a person to decide.
    Undecided,
}

impl Outcome {
    /// A short word for summaries (`auto_approve`, `require_approval`, …).
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::AutoApprove => "auto_approve",
            Outcome::RequireApproval { .. } => "require_approval",
            Outcome::Escalate { .. } => "escalate",
            Outcome::Reject => "reject",
            Outcome::Undecided => "undecided",
        }
    }
}

/// The record of one decision: what was decided, by which policy and rule, on which facts, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The outcome.
    pub outcome: Outcome,
    /// The deciding policy (none when undecided).
    pub policy: Option<String>,
    /// The deciding rule.
    pub rule: Option<String>,
    /// The rule's condition in words.
    pub condition: Option<String>,
    /// The facts the deciding rule read, with their values (`null` when absent).
    pub facts: BTreeMap<String, Option<FactValue>>,
    /// Why, for people.
    pub reason: String,
    /// Rules that also held but came later in order (`policy/rule`).
    pub also_matched: Vec<String>,
    /// Rules the engine could not evaluate on these facts (for example a number compared with
    /// text), which therefore did not apply.
    pub not_evaluable: Vec<String>,
}

struct CompiledRule {
    policy: String,
    /// Whether the policy is limited to some request types (the type is then a deciding fact).
    scoped: bool,
    rule: RuleSpec,
}

/// A validated, ordered set of approval policies compiled to Cedar.
pub struct ApprovalPolicies {
    rules: Vec<CompiledRule>,
    /// Position in `rules` by the Cedar `@id` (`policy/rule`).
    ids: HashMap<String, usize>,
    engine: PolicyEngine,
    text: String,
}

impl std::fmt::Debug for ApprovalPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalPolicies")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl ApprovalPolicies {
    /// Validates and compiles policy documents. Every problem of every document is reported.
    pub fn compile(docs: &[Document<PolicySpec>]) -> Result<Self, WorkError> {
        for doc in docs {
            doc.checked()?;
        }
        let mut names = std::collections::HashSet::new();
        for doc in docs {
            if !names.insert(doc.metadata.name.as_str()) {
                return Err(WorkError::Invalid {
                    kind: PolicySpec::KIND.into(),
                    name: doc.metadata.name.clone(),
                    problems: vec![Problem::new(
                        "metadata.name",
                        "another policy has this name",
                    )],
                });
            }
        }
        let mut ordered: Vec<&Document<PolicySpec>> = docs.iter().collect();
        ordered.sort_by(|a, b| {
            (a.spec.order, &a.metadata.name).cmp(&(b.spec.order, &b.metadata.name))
        });
        let mut rules = Vec::new();
        let mut ids = HashMap::new();
        let mut text = String::new();
        for doc in ordered {
            for rule in &doc.spec.rules {
                let id = format!("{}/{}", doc.metadata.name, rule.name);
                text.push_str(&rule_to_cedar(
                    &id,
                    &doc.spec.applies_to,
                    rule.when.as_ref(),
                ));
                text.push('\n');
                ids.insert(id, rules.len());
                rules.push(CompiledRule {
                    policy: doc.metadata.name.clone(),
                    scoped: !doc.spec.applies_to.is_empty(),
                    rule: rule.clone(),
                });
            }
        }
        let engine =
            PolicyEngine::parse(&text).map_err(|e| WorkError::PolicyEngine(e.to_string()))?;
        Ok(Self {
            rules,
            ids,
            engine,
            text,
        })
    }

    /// The Cedar text the policies compile to (for review and audit).
    pub fn cedar_text(&self) -> &str {
        &self.text
    }

    /// Decides a request from its facts.
    pub fn decide(&self, request_id: &str, facts: &Facts) -> Result<Decision, WorkError> {
        let engine = |e: String| WorkError::PolicyEngine(e);
        let requester = match facts.get("requester") {
            Some(FactValue::Str(s)) => s.as_str(),
            _ => "unknown",
        };
        // Roles of the requester are a fact (`requester_roles`), not Keel account roles.
        let principal = Principal {
            id: requester.to_owned(),
            roles: Vec::new(),
        };
        let context = serde_json::json!({ "facts": facts_json(facts) });
        let verdict = self
            .engine
            .evaluate(&principal, "decide", ("Request", request_id), context)
            .map_err(|e| engine(e.to_string()))?;
        let mut matched: Vec<usize> = verdict
            .determined_by
            .iter()
            .filter_map(|id| self.ids.get(id).copied())
            .collect();
        matched.sort_unstable();
        let mut not_evaluable = verdict.errored;
        not_evaluable.sort();
        let label = |i: usize| {
            self.rules
                .get(i)
                .map(|r| format!("{}/{}", r.policy, r.rule.name))
                .unwrap_or_default()
        };
        let Some((&first, rest)) = matched.split_first() else {
            return Ok(Decision {
                outcome: Outcome::Undecided,
                policy: None,
                rule: None,
                condition: None,
                facts: BTreeMap::new(),
                reason: "no policy rule applies; a person decides".into(),
                also_matched: Vec::new(),
                not_evaluable,
            });
        };
        let compiled = self
            .rules
            .get(first)
            .ok_or_else(|| engine("the engine reported an unknown rule".into()))?;
        let rule = &compiled.rule;
        let outcome = match rule.decide {
            Decide::AutoApprove => Outcome::AutoApprove,
            Decide::Reject => Outcome::Reject,
            Decide::Escalate => Outcome::Escalate {
                to: rule.escalate_to.clone(),
            },
            Decide::RequireApproval => Outcome::RequireApproval {
                approvers: rule.approvers.clone(),
                needed: match (rule.mode, rule.quorum) {
                    (Some(ApprovalMode::Any), _) => Needed::Any,
                    (Some(ApprovalMode::Quorum), Some(q)) => Needed::Quorum(q),
                    _ => Needed::All,
                },
            },
        };
        let mut used = BTreeMap::new();
        if let Some(c) = &rule.when {
            for f in c.fields() {
                used.insert(f.to_owned(), facts.get(f).cloned());
            }
        }
        if compiled.scoped {
            used.insert("request_type".into(), facts.get("request_type").cloned());
        }
        Ok(Decision {
            outcome,
            policy: Some(compiled.policy.clone()),
            rule: Some(rule.name.clone()),
            condition: Some(
                rule.when
                    .as_ref()
                    .map_or_else(|| "always".to_owned(), Condition::describe),
            ),
            facts: used,
            reason: rule.reason.clone(),
            also_matched: rest.iter().map(|i| label(*i)).collect(),
            not_evaluable,
        })
    }
}

/// The facts as the JSON context of a Cedar request: lists become sets, whole numbers longs.
fn facts_json(facts: &Facts) -> serde_json::Value {
    fn value(v: &FactValue) -> serde_json::Value {
        match v {
            FactValue::Bool(b) => serde_json::Value::Bool(*b),
            FactValue::Int(i) => serde_json::Value::from(*i),
            FactValue::Str(s) => serde_json::Value::String(s.clone()),
            FactValue::Set(items) => serde_json::Value::Array(items.iter().map(value).collect()),
        }
    }
    serde_json::Value::Object(facts.iter().map(|(k, v)| (k.clone(), value(v))).collect())
}

/// The Cedar policy of one rule: a `permit` for the `decide` action guarded by the policy's
/// request types and the rule's condition.
fn rule_to_cedar(id: &str, applies_to: &[String], when: Option<&Condition>) -> String {
    let mut guards = Vec::new();
    let annotations = format!("@id({})\n", cedar_string(id));
    if !applies_to.is_empty() {
        let types: Vec<String> = applies_to.iter().map(|t| cedar_string(t)).collect();
        guards.push(format!(
            "(context.facts has \"request_type\" && [{}].contains(context.facts[\"request_type\"]))",
            types.join(", ")
        ));
    }
    if let Some(c) = when {
        guards.push(to_cedar(c));
    }
    let body = if guards.is_empty() {
        "true".to_owned()
    } else {
        guards.join(" && ")
    };
    format!(
        "{annotations}permit(principal, action == Action::\"decide\", resource)\nwhen {{ {body} }};\n"
    )
}

/// A past request to replay in a simulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastRequest {
    /// The request identifier.
    pub id: String,
    /// Its facts at decision time.
    pub facts: Facts,
}

/// One decision that a proposed policy set would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedDecision {
    /// The request.
    pub request: String,
    /// Decision under the current policies.
    pub before: Decision,
    /// Decision under the proposed policies.
    pub after: Decision,
}

/// The result of replaying past requests under a proposed policy set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Simulation {
    /// Requests replayed.
    pub replayed: usize,
    /// Requests whose outcome changes.
    pub changed: Vec<ChangedDecision>,
    /// Requests with the same outcome decided by a different rule.
    pub same_outcome_other_rule: Vec<String>,
    /// Counts of outcome moves such as `require_approval → auto_approve`.
    pub moves: BTreeMap<String, usize>,
}

/// Replays `history` under both policy sets and reports what would change.
pub fn simulate(
    current: &ApprovalPolicies,
    proposed: &ApprovalPolicies,
    history: &[PastRequest],
) -> Result<Simulation, WorkError> {
    let mut sim = Simulation {
        replayed: history.len(),
        changed: Vec::new(),
        same_outcome_other_rule: Vec::new(),
        moves: BTreeMap::new(),
    };
    for past in history {
        let before = current.decide(&past.id, &past.facts)?;
        let after = proposed.decide(&past.id, &past.facts)?;
        if before.outcome != after.outcome {
            *sim.moves
                .entry(format!(
                    "{} → {}",
                    before.outcome.word(),
                    after.outcome.word()
                ))
                .or_default() += 1;
            sim.changed.push(ChangedDecision {
                request: past.id.clone(),
                before,
                after,
            });
        } else if (&before.policy, &before.rule) != (&after.policy, &after.rule) {
            sim.same_outcome_other_rule.push(past.id.clone());
        }
    }
    Ok(sim)
}

#[cfg(test)]
mod tests;
