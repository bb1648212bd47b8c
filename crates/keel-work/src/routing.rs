//! Routing: a `kind: Workflow` document lists the tasks a request may need (copy, design, build,
//! legal review, analytics set-up, QA …), each with a condition over the request's facts, an
//! effort size, who does it, and what it depends on. Expanding a workflow for one request keeps
//! the tasks whose condition holds and re-links dependencies through the tasks that were left
//! out, so the plan is always a DAG of the tasks that apply.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::condition::{Condition, Facts};
use crate::{Party, Problem, Spec, check_name, duplicates};

/// Standard effort sizes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum Effort {
    /// Small.
    S,
    /// Medium.
    M,
    /// Large.
    L,
    /// Extra large.
    XL,
}

/// Hours of work per effort size; the defaults are 4, 12, 24 and 40 hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EffortHours {
    /// Hours of a small task.
    #[serde(rename = "S", default = "h4")]
    pub s: f64,
    /// Hours of a medium task.
    #[serde(rename = "M", default = "h12")]
    pub m: f64,
    /// Hours of a large task.
    #[serde(rename = "L", default = "h24")]
    pub l: f64,
    /// Hours of an extra-large task.
    #[serde(rename = "XL", default = "h40")]
    pub xl: f64,
}

fn h4() -> f64 {
    4.0
}
fn h12() -> f64 {
    12.0
}
fn h24() -> f64 {
    24.0
}
fn h40() -> f64 {
    40.0
}

impl Default for EffortHours {
    fn default() -> Self {
        Self {
            s: h4(),
            m: h12(),
            l: h24(),
            xl: h40(),
        }
    }
}

impl EffortHours {
    /// Hours of work of an effort size.
    pub fn hours(&self, e: Effort) -> f64 {
        match e {
            Effort::S => self.s,
            Effort::M => self.m,
            Effort::L => self.l,
            Effort::XL => self.xl,
        }
    }
}

/// One task template of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Identifier, unique in the workflow.
    pub id: String,
    /// Name shown on the task.
    pub name: String,
    /// Effort size.
    pub effort: Effort,
    /// Hours of work, overriding the effort size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<f64>,
    /// Who does it: `role:…`, `team:…` or `person:…`.
    pub assignee: Party,
    /// Tasks that must finish first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// When the task applies; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

/// The `spec` of a `kind: Workflow` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    /// Request types routed through this workflow.
    pub request_types: Vec<String>,
    /// Hours per effort size.
    #[serde(default)]
    pub effort_hours: EffortHours,
    /// Task templates.
    pub tasks: Vec<TaskSpec>,
}

impl Spec for WorkflowSpec {
    const KIND: &'static str = "Workflow";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.request_types.is_empty() {
            problems.push(Problem::new(
                "spec.request_types",
                "name at least one request type",
            ));
        }
        for (name, h) in [
            ("S", self.effort_hours.s),
            ("M", self.effort_hours.m),
            ("L", self.effort_hours.l),
            ("XL", self.effort_hours.xl),
        ] {
            if !(h > 0.0 && h <= 2000.0) {
                problems.push(Problem::new(
                    format!("spec.effort_hours.{name}"),
                    "must be between 0 and 2000 hours",
                ));
            }
        }
        if self.tasks.is_empty() {
            problems.push(Problem::new(
                "spec.tasks",
                "a workflow needs at least one task",
            ));
        }
        problems.extend(duplicates(
            self.tasks.iter().map(|t| t.id.as_str()),
            |i| format!("spec.tasks[{i}].id"),
            "task",
        ));
        let ids: HashSet<&str> = self.tasks.iter().map(|t| t.id.as_str()).collect();
        for (i, t) in self.tasks.iter().enumerate() {
            let p = format!("spec.tasks[{i}]");
            if let Err(m) = check_name(&t.id) {
                problems.push(Problem::new(format!("{p}.id"), m));
            }
            if let Some(h) = t.hours
                && !(h > 0.0 && h <= 2000.0)
            {
                problems.push(Problem::new(
                    format!("{p}.hours"),
                    "must be between 0 and 2000 hours",
                ));
            }
            for (j, d) in t.depends_on.iter().enumerate() {
                if d == &t.id {
                    problems.push(Problem::new(
                        format!("{p}.depends_on[{j}]"),
                        "a task cannot depend on itself",
                    ));
                } else if !ids.contains(d.as_str()) {
                    problems.push(Problem::new(
                        format!("{p}.depends_on[{j}]"),
                        format!("no task {d:?} in this workflow"),
                    ));
                }
            }
            problems.extend(duplicates(
                t.depends_on.iter().map(String::as_str),
                |j| format!("{p}.depends_on[{j}]"),
                "dependency",
            ));
            if let Some(c) = &t.when {
                problems.extend(c.validate(&format!("{p}.when")));
            }
        }
        problems.extend(self.cycles());
        problems
    }
}

impl WorkflowSpec {
    /// One problem per dependency cycle, naming the cycle and pointing at the edge that closes it.
    fn cycles(&self) -> Vec<Problem> {
        let index: HashMap<&str, usize> = self
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut mark = vec![0u8; self.tasks.len()];
        let mut problems = Vec::new();
        let mut path: Vec<usize> = Vec::new();
        fn visit(
            spec: &WorkflowSpec,
            index: &HashMap<&str, usize>,
            node: usize,
            mark: &mut [u8],
            path: &mut Vec<usize>,
            problems: &mut Vec<Problem>,
        ) {
            if let Some(m) = mark.get_mut(node) {
                *m = 1;
            }
            path.push(node);
            let deps = spec
                .tasks
                .get(node)
                .map(|t| t.depends_on.as_slice())
                .unwrap_or(&[]);
            for (j, d) in deps.iter().enumerate() {
                let Some(&next) = index.get(d.as_str()) else {
                    continue;
                };
                if next == node {
                    continue; // reported as a self-dependency
                }
                match mark.get(next).copied() {
                    Some(1) => {
                        let from = path.iter().position(|n| *n == next).unwrap_or(0);
                        let mut names: Vec<&str> = path
                            .get(from..)
                            .unwrap_or(&[])
                            .iter()
                            .filter_map(|n| spec.tasks.get(*n).map(|t| t.id.as_str()))
                            .collect();
                        names.push(d);
                        problems.push(Problem::new(
                            format!("spec.tasks[{node}].depends_on[{j}]"),
                            format!("dependency cycle: {}", names.join(" → ")),
                        ));
                    }
                    Some(0) => visit(spec, index, next, mark, path, problems),
                    _ => {}
                }
            }
            path.pop();
            if let Some(m) = mark.get_mut(node) {
                *m = 2;
            }
        }
        for start in 0..self.tasks.len() {
            if mark.get(start) == Some(&0) {
                visit(self, &index, start, &mut mark, &mut path, &mut problems);
            }
        }
        problems
    }

    /// Whether this workflow routes the given request type.
    pub fn routes(&self, request_type: &str) -> bool {
        self.request_types.iter().any(|t| t == request_type)
    }

    /// Expands the workflow for one request: the tasks whose condition holds, with dependencies
    /// re-linked through left-out tasks. The spec must be valid (no cycles).
    pub fn expand(&self, facts: &Facts) -> Plan {
        let included: Vec<bool> = self
            .tasks
            .iter()
            .map(|t| t.when.as_ref().is_none_or(|c| c.matches(facts)))
            .collect();
        let index: HashMap<&str, usize> = self
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        let mut memo: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut tasks = Vec::new();
        for (i, t) in self.tasks.iter().enumerate() {
            if !included.get(i).copied().unwrap_or(false) {
                continue;
            }
            let mut deps: Vec<usize> = Vec::new();
            for d in &t.depends_on {
                if let Some(&j) = index.get(d.as_str()) {
                    for k in self.effective(j, &included, &index, &mut memo, 0) {
                        if !deps.contains(&k) {
                            deps.push(k);
                        }
                    }
                }
            }
            deps.sort_unstable();
            let hours = t.hours.unwrap_or_else(|| self.effort_hours.hours(t.effort));
            tasks.push(PlannedTask {
                id: t.id.clone(),
                name: t.name.clone(),
                effort: t.effort,
                minutes: (hours * 60.0).round().max(0.0) as u32,
                assignee: t.assignee.clone(),
                depends_on: deps
                    .iter()
                    .filter_map(|k| self.tasks.get(*k).map(|t| t.id.clone()))
                    .collect(),
            });
        }
        Plan { tasks }
    }

    /// The included tasks reached from `node`: itself if included, else its own effective deps.
    fn effective(
        &self,
        node: usize,
        included: &[bool],
        index: &HashMap<&str, usize>,
        memo: &mut HashMap<usize, Vec<usize>>,
        depth: usize,
    ) -> Vec<usize> {
        if included.get(node).copied().unwrap_or(false) {
            return vec![node];
        }
        if let Some(v) = memo.get(&node) {
            return v.clone();
        }
        // Depth bound guards against cycles in an unvalidated spec.
        if depth > self.tasks.len() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let deps = self
            .tasks
            .get(node)
            .map(|t| t.depends_on.clone())
            .unwrap_or_default();
        for d in &deps {
            if let Some(&j) = index.get(d.as_str()) {
                for k in self.effective(j, included, index, memo, depth + 1) {
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
            }
        }
        memo.insert(node, out.clone());
        out
    }
}

/// A task of one request's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedTask {
    /// Task identifier (from the workflow).
    pub id: String,
    /// Task name.
    pub name: String,
    /// Effort size.
    pub effort: Effort,
    /// Minutes of work.
    pub minutes: u32,
    /// Who does it.
    pub assignee: Party,
    /// Tasks of the plan that must finish first.
    pub depends_on: Vec<String>,
}

/// The tasks of one request, a DAG in workflow order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The tasks.
    pub tasks: Vec<PlannedTask>,
}

impl Plan {
    /// Indices of the tasks in an order where every task comes after its dependencies, or
    /// `None` when the dependencies form a cycle. Dependencies outside the plan are ignored here.
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        let index: BTreeMap<&str, usize> = self
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        let mut indegree: Vec<usize> = self
            .tasks
            .iter()
            .map(|t| {
                t.depends_on
                    .iter()
                    .filter(|d| index.contains_key(d.as_str()))
                    .count()
            })
            .collect();
        let mut ready: Vec<usize> = (0..self.tasks.len())
            .filter(|i| indegree.get(*i) == Some(&0))
            .collect();
        ready.reverse();
        let mut order = Vec::new();
        while let Some(n) = ready.pop() {
            order.push(n);
            let id = self.tasks.get(n).map(|t| t.id.as_str()).unwrap_or_default();
            for (m, t) in self.tasks.iter().enumerate() {
                if t.depends_on.iter().any(|d| d == id)
                    && let Some(deg) = indegree.get_mut(m)
                {
                    *deg = deg.saturating_sub(1);
                    if *deg == 0 {
                        ready.insert(0, m);
                    }
                }
            }
        }
        (order.len() == self.tasks.len()).then_some(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::FactValue;

    fn workflow() -> WorkflowSpec {
        serde_saphyr::from_str(
            r#"
request_types: [campaign_brief]
tasks:
  - {id: copy, name: Copy, effort: M, assignee: "role:copywriter", when: {field: channels, op: contains, value: email}}
  - {id: design, name: Design, effort: M, assignee: "role:designer", depends_on: [copy]}
  - {id: legal, name: Legal review, effort: S, assignee: "team:legal", depends_on: [copy], when: {field: gated, op: eq, value: true}}
  - {id: build, name: Build, effort: L, assignee: "role:email-developer", depends_on: [design, legal]}
  - {id: qa, name: QA, effort: S, hours: 3, assignee: "role:qa", depends_on: [build]}
"#,
        )
        .unwrap()
    }

    #[test]
    fn expands_and_relinks_through_left_out_tasks() {
        let mut facts = Facts::new();
        facts.insert(
            "channels".into(),
            FactValue::Set(vec![FactValue::Str("paid_social".into())]),
        );
        let plan = workflow().expand(&facts);
        let got: Vec<(&str, Vec<&str>)> = plan
            .tasks
            .iter()
            .map(|t| {
                (
                    t.id.as_str(),
                    t.depends_on.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("design", vec![]),
                ("build", vec!["design"]),
                ("qa", vec!["build"])
            ]
        );
        assert_eq!(plan.tasks[2].minutes, 180);

        facts.insert(
            "channels".into(),
            FactValue::Set(vec![FactValue::Str("email".into())]),
        );
        facts.insert("gated".into(), FactValue::Bool(true));
        let plan = workflow().expand(&facts);
        assert_eq!(plan.tasks.len(), 5);
        assert_eq!(plan.tasks[3].depends_on, vec!["design", "legal"]);
        assert_eq!(plan.topological_order().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn cycles_are_rejected_and_named() {
        let mut w = workflow();
        w.tasks[0].depends_on = vec!["qa".into()];
        let problems = w.validate();
        // Read as "copy waits for qa, which waits for build, …"; both paths through build close a cycle.
        let got: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.path.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "spec.tasks[1].depends_on[0]",
                    "dependency cycle: copy → qa → build → design → copy"
                ),
                (
                    "spec.tasks[2].depends_on[0]",
                    "dependency cycle: copy → qa → build → legal → copy"
                ),
            ]
        );
    }

    #[test]
    fn bad_references_are_listed() {
        let mut w = workflow();
        w.tasks[1].depends_on = vec!["design".into(), "cpy".into(), "cpy".into()];
        w.tasks[2].id = "Legal".into();
        let paths: Vec<_> = w.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            vec![
                "spec.tasks[1].depends_on[0]",
                "spec.tasks[1].depends_on[1]",
                "spec.tasks[1].depends_on[2]",
                "spec.tasks[1].depends_on[2]",
                "spec.tasks[2].id",
                "spec.tasks[3].depends_on[1]"
            ]
        );
    }
}
