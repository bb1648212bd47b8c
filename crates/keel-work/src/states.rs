//! Governed states: the lifecycle of a request as a state machine per request type.
//!
//! The standard lifecycle is draft → submitted → in_review → approved → scheduled → live → done,
//! with changes_requested (waiting on the requester) → rework → submitted as the rework loop, and
//! rejected and cancelled as other ends. A request type may declare its own machine. Illegal
//! transitions are refused with the list of allowed ones; every transition carries its actor and
//! reason so the history is an audit trail.

use std::collections::{BTreeSet, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Problem, check_name, duplicates};

/// One allowed move between states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionSpec {
    /// States the move may start from.
    pub from: Vec<String>,
    /// The state it leads to.
    pub to: String,
    /// Roles allowed to make the move; anyone when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Whether the actor must give a reason (for example when rejecting).
    #[serde(default)]
    pub reason_required: bool,
}

/// A state machine, as declared in a request type's `spec.states`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateMachineSpec {
    /// Where every request starts.
    pub initial: String,
    /// All states.
    pub states: Vec<String>,
    /// States with no way out.
    pub terminal: Vec<String>,
    /// Allowed moves.
    pub transitions: Vec<TransitionSpec>,
}

impl Default for StateMachineSpec {
    fn default() -> Self {
        let t = |from: &[&str], to: &str, roles: &[&str], reason: bool| TransitionSpec {
            from: from.iter().map(|s| (*s).to_owned()).collect(),
            to: to.into(),
            roles: roles.iter().map(|s| (*s).to_owned()).collect(),
            reason_required: reason,
        };
        let states = [
            "draft",
            "submitted",
            "in_review",
            "changes_requested",
            "rework",
            "approved",
            "scheduled",
            "live",
            "done",
            "rejected",
            "cancelled",
        ];
        StateMachineSpec {
            initial: "draft".into(),
            states: states.iter().map(|s| (*s).to_owned()).collect(),
            terminal: vec!["done".into(), "rejected".into(), "cancelled".into()],
            transitions: vec![
                t(&["draft", "rework"], "submitted", &[], false),
                t(&["submitted"], "in_review", &["triage", "approver"], false),
                t(&["in_review"], "changes_requested", &["approver"], true),
                t(&["changes_requested"], "rework", &[], false),
                t(&["in_review"], "approved", &["approver"], false),
                t(&["in_review", "submitted"], "rejected", &["approver"], true),
                t(&["approved"], "scheduled", &[], false),
                t(&["scheduled"], "live", &[], false),
                t(&["live"], "done", &[], false),
                t(
                    &[
                        "draft",
                        "submitted",
                        "in_review",
                        "changes_requested",
                        "rework",
                        "approved",
                        "scheduled",
                    ],
                    "cancelled",
                    &[],
                    true,
                ),
            ],
        }
    }
}

impl StateMachineSpec {
    /// Every problem, with paths below `path` (such as `spec.states`).
    pub fn validate(&self, path: &str) -> Vec<Problem> {
        let mut problems = duplicates(
            self.states.iter().map(String::as_str),
            |i| format!("{path}.states[{i}]"),
            "state",
        );
        for (i, s) in self.states.iter().enumerate() {
            if let Err(m) = check_name(s) {
                problems.push(Problem::new(format!("{path}.states[{i}]"), m));
            }
        }
        let known: HashSet<&str> = self.states.iter().map(String::as_str).collect();
        let unknown = |s: &str| format!("{s:?} is not one of the states");
        if !known.contains(self.initial.as_str()) {
            problems.push(Problem::new(
                format!("{path}.initial"),
                unknown(&self.initial),
            ));
        }
        for (i, s) in self.terminal.iter().enumerate() {
            if !known.contains(s.as_str()) {
                problems.push(Problem::new(format!("{path}.terminal[{i}]"), unknown(s)));
            }
        }
        let mut seen = HashSet::new();
        for (i, t) in self.transitions.iter().enumerate() {
            let tp = format!("{path}.transitions[{i}]");
            if !known.contains(t.to.as_str()) {
                problems.push(Problem::new(format!("{tp}.to"), unknown(&t.to)));
            }
            if t.from.is_empty() {
                problems.push(Problem::new(
                    format!("{tp}.from"),
                    "needs at least one state",
                ));
            }
            for (j, f) in t.from.iter().enumerate() {
                if !known.contains(f.as_str()) {
                    problems.push(Problem::new(format!("{tp}.from[{j}]"), unknown(f)));
                } else if self.terminal.contains(f) {
                    problems.push(Problem::new(
                        format!("{tp}.from[{j}]"),
                        format!("{f:?} is terminal: nothing may leave it"),
                    ));
                }
                if !seen.insert((f.as_str(), t.to.as_str())) {
                    problems.push(Problem::new(
                        format!("{tp}.from[{j}]"),
                        format!("the move {f} → {} is declared twice", t.to),
                    ));
                }
            }
        }
        if problems.is_empty() {
            let reachable = self.reachable_from(&self.initial);
            for (i, s) in self.states.iter().enumerate() {
                if !reachable.contains(s.as_str()) {
                    problems.push(Problem::new(
                        format!("{path}.states[{i}]"),
                        format!("{s:?} cannot be reached from {:?}", self.initial),
                    ));
                } else if !self.terminal.contains(s)
                    && !self
                        .reachable_from(s)
                        .iter()
                        .any(|r| self.terminal.iter().any(|t| t == r))
                {
                    problems.push(Problem::new(
                        format!("{path}.states[{i}]"),
                        format!("a request in {s:?} can never finish: no path to a terminal state"),
                    ));
                }
            }
        }
        problems
    }

    fn reachable_from<'a>(&'a self, start: &'a str) -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::from([start]);
        let mut queue = VecDeque::from([start]);
        while let Some(s) = queue.pop_front() {
            for t in &self.transitions {
                if t.from.iter().any(|f| f == s) && seen.insert(t.to.as_str()) {
                    queue.push_back(&t.to);
                }
            }
        }
        seen
    }

    /// The moves allowed out of `state` (target states, in declaration order).
    pub fn allowed_from(&self, state: &str) -> Vec<&str> {
        self.transitions
            .iter()
            .filter(|t| t.from.iter().any(|f| f == state))
            .map(|t| t.to.as_str())
            .collect()
    }

    /// Applies a move: the recorded transition, or why it is refused.
    pub fn transition(
        &self,
        from: &str,
        to: &str,
        actor: &Actor,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Transition, TransitionRefused> {
        let allowed: Vec<String> = self
            .allowed_from(from)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let Some(rule) = self
            .transitions
            .iter()
            .find(|t| t.to == to && t.from.iter().any(|f| f == from))
        else {
            return Err(TransitionRefused::Illegal {
                from: from.into(),
                to: to.into(),
                allowed,
            });
        };
        if !rule.roles.is_empty() && !rule.roles.iter().any(|r| actor.roles.contains(r)) {
            return Err(TransitionRefused::NotPermitted {
                from: from.into(),
                to: to.into(),
                actor: actor.id.clone(),
                roles: rule.roles.clone(),
            });
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if rule.reason_required && reason.is_none() {
            return Err(TransitionRefused::ReasonRequired {
                from: from.into(),
                to: to.into(),
            });
        }
        Ok(Transition {
            from: from.into(),
            to: to.into(),
            actor: actor.id.clone(),
            reason: reason.map(str::to_owned),
            at,
        })
    }

    /// Replays a history from the initial state, refusing at the first illegal move.
    pub fn replay<'a>(
        &self,
        moves: impl IntoIterator<Item = (&'a str, &'a Actor, Option<&'a str>, DateTime<Utc>)>,
    ) -> Result<Vec<Transition>, TransitionRefused> {
        let mut state = self.initial.clone();
        let mut out = Vec::new();
        for (to, actor, reason, at) in moves {
            let t = self.transition(&state, to, actor, reason, at)?;
            state = t.to.clone();
            out.push(t);
        }
        Ok(out)
    }
}

/// Who makes a move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Person (or automation) identifier; `policy:NAME` when a policy decided.
    pub id: String,
    /// Roles the actor holds for this request.
    pub roles: Vec<String>,
}

/// A recorded move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// State before.
    pub from: String,
    /// State after.
    pub to: String,
    /// Who moved it.
    pub actor: String,
    /// Why, when given.
    pub reason: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Why a move was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionRefused {
    /// The machine has no such move.
    #[error("cannot go from {from} to {to}; allowed from {from}: {}", if .allowed.is_empty() { "nothing (final state)".to_owned() } else { .allowed.join(", ") })]
    Illegal {
        /// Current state.
        from: String,
        /// Requested state.
        to: String,
        /// Moves allowed from the current state.
        allowed: Vec<String>,
    },
    /// The actor lacks a role the move needs.
    #[error("{actor} may not move {from} → {to}; it needs one of the roles {}", .roles.join(", "))]
    NotPermitted {
        /// Current state.
        from: String,
        /// Requested state.
        to: String,
        /// The actor.
        actor: String,
        /// Roles that may make the move.
        roles: Vec<String>,
    },
    /// The move needs a reason and none was given.
    #[error("moving {from} → {to} needs a reason")]
    ReasonRequired {
        /// Current state.
        from: String,
        /// Requested state.
        to: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::UNIX_EPOCH
    }

    #[test]
    fn standard_lifecycle_is_valid() {
        assert_eq!(StateMachineSpec::default().validate("spec.states"), vec![]);
    }

    #[test]
    fn refuses_illegal_moves_with_the_allowed_ones() {
        let m = StateMachineSpec::default();
        let ana = Actor {
            id: "ana".into(),
            roles: vec!["requester".into()],
        };
        let err = m
            .transition("draft", "approved", &ana, None, now())
            .unwrap_err();
        assert_eq!(
            err,
            TransitionRefused::Illegal {
                from: "draft".into(),
                to: "approved".into(),
                allowed: vec!["submitted".into(), "cancelled".into()]
            }
        );
        assert_eq!(
            err.to_string(),
            "cannot go from draft to approved; allowed from draft: submitted, cancelled"
        );
        let done = m.transition("done", "live", &ana, None, now()).unwrap_err();
        assert!(done.to_string().contains("nothing (final state)"));
    }

    #[test]
    fn roles_and_reasons_are_enforced() {
        let m = StateMachineSpec::default();
        let ana = Actor {
            id: "ana".into(),
            roles: vec!["requester".into()],
        };
        let bo = Actor {
            id: "bo".into(),
            roles: vec!["approver".into()],
        };
        assert!(matches!(
            m.transition("in_review", "approved", &ana, None, now()),
            Err(TransitionRefused::NotPermitted { .. })
        ));
        assert!(matches!(
            m.transition("in_review", "rejected", &bo, Some("  "), now()),
            Err(TransitionRefused::ReasonRequired { .. })
        ));
        let t = m
            .transition("in_review", "rejected", &bo, Some("off brand"), now())
            .unwrap();
        assert_eq!(
            (t.actor.as_str(), t.reason.as_deref()),
            ("bo", Some("off brand"))
        );
    }

    #[test]
    fn the_rework_loop_replays() {
        let m = StateMachineSpec::default();
        let ana = Actor {
            id: "ana".into(),
            roles: vec![],
        };
        let bo = Actor {
            id: "bo".into(),
            roles: vec!["approver".into()],
        };
        let path = [
            ("submitted", &ana, None),
            ("in_review", &bo, None),
            ("changes_requested", &bo, Some("add success metrics")),
            ("rework", &ana, None),
            ("submitted", &ana, None),
            ("in_review", &bo, None),
            ("approved", &bo, None),
            ("scheduled", &ana, None),
            ("live", &ana, None),
            ("done", &ana, None),
        ];
        let history = m
            .replay(path.iter().map(|(s, a, r)| (*s, *a, *r, now())))
            .unwrap();
        assert_eq!(history.len(), 10);
        assert_eq!(history[2].reason.as_deref(), Some("add success metrics"));
    }

    #[test]
    fn broken_machines_are_explained() {
        let mut m = StateMachineSpec::default();
        m.states.push("limbo".into());
        m.transitions.push(TransitionSpec {
            from: vec!["done".into()],
            to: "live".into(),
            roles: vec![],
            reason_required: false,
        });
        m.transitions.push(TransitionSpec {
            from: vec!["draft".into()],
            to: "nowhere".into(),
            roles: vec![],
            reason_required: false,
        });
        let problems = m.validate("spec.states");
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "spec.states.transitions[10].from[0]",
                "spec.states.transitions[11].to"
            ]
        );

        let mut m = StateMachineSpec::default();
        m.states.push("limbo".into());
        m.transitions.push(TransitionSpec {
            from: vec!["approved".into()],
            to: "parked".into(),
            roles: vec![],
            reason_required: false,
        });
        m.states.push("parked".into());
        let problems = m.validate("spec.states");
        let messages: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "\"limbo\" cannot be reached from \"draft\"",
                "a request in \"parked\" can never finish: no path to a terminal state"
            ]
        );
    }
}
