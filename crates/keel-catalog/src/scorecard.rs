//! The service readiness scorecard: is a live tool run as a service, on the eight conditions?
//!
//! A platform is ready for productive use only when ownership, governance, intake, support,
//! documentation, release management, role clarity and success metrics are established. Each
//! condition is one explicit rule over catalog data, and every result says what passed, what
//! failed and what to do about it, so the score explains itself.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::catalog::{Catalog, Entry};
use crate::tool::{Lifecycle, Tool};

/// How recent a change record must be to show that releases are managed.
pub const RELEASE_WINDOW_DAYS: i64 = 180;
/// How recent a usage snapshot must be to show that adoption is measured.
pub const USAGE_WINDOW_DAYS: i64 = 90;

/// The eight conditions of service readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// A platform owner and a service owner who work here.
    Ownership,
    /// A usage policy, active change approvers, and a DPA where personal data is held.
    Governance,
    /// A defined way to ask for work on the tool.
    Intake,
    /// A support lead who works here and a place to get help.
    Support,
    /// User documentation and an operator runbook.
    Documentation,
    /// A recent change record or a documented release process.
    ReleaseManagement,
    /// Roles defined, each held by people who work here or by a team.
    RoleClarity,
    /// Success metrics with targets, and recent usage data to measure them.
    SuccessMetrics,
}

impl Condition {
    /// All eight, in the order people name them.
    pub const ALL: [Condition; 8] = [
        Condition::Ownership,
        Condition::Governance,
        Condition::Intake,
        Condition::Support,
        Condition::Documentation,
        Condition::ReleaseManagement,
        Condition::RoleClarity,
        Condition::SuccessMetrics,
    ];

    /// The condition's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Condition::Ownership => "ownership",
            Condition::Governance => "governance",
            Condition::Intake => "intake",
            Condition::Support => "support",
            Condition::Documentation => "documentation",
            Condition::ReleaseManagement => "release management",
            Condition::RoleClarity => "role clarity",
            Condition::SuccessMetrics => "success metrics",
        }
    }
}

/// The outcome of one condition for one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionResult {
    /// Which condition.
    pub condition: Condition,
    /// Whether every part of the rule holds.
    pub passed: bool,
    /// The parts that hold, as evidence.
    pub passes: Vec<String>,
    /// The parts that do not.
    pub failures: Vec<String>,
    /// What to do, one action per failure.
    pub actions: Vec<String>,
}

/// The scorecard of one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scorecard {
    /// The tool's name.
    pub tool: String,
    /// One result per condition, in [`Condition::ALL`] order.
    pub results: Vec<ConditionResult>,
}

impl Scorecard {
    /// How many of the eight conditions hold.
    pub fn score(&self) -> usize {
        self.results.iter().filter(|r| r.passed).count()
    }

    /// Whether all eight hold.
    pub fn ready(&self) -> bool {
        self.score() == self.results.len()
    }
}

/// Collects the parts of one rule.
struct Rule {
    condition: Condition,
    passes: Vec<String>,
    failures: Vec<String>,
    actions: Vec<String>,
}

impl Rule {
    fn new(condition: Condition) -> Self {
        Rule {
            condition,
            passes: Vec::new(),
            failures: Vec::new(),
            actions: Vec::new(),
        }
    }

    fn pass(&mut self, what: String) {
        self.passes.push(what);
    }

    fn fail(&mut self, what: String, action: String) {
        self.failures.push(what);
        self.actions.push(action);
    }

    fn finish(self) -> ConditionResult {
        ConditionResult {
            condition: self.condition,
            passed: self.failures.is_empty(),
            passes: self.passes,
            failures: self.failures,
            actions: self.actions,
        }
    }
}

/// Checks that a role list has at least one person who works here; notes people who left.
fn active_holders(catalog: &Catalog, rule: &mut Rule, role: &str, field: &str, people: &[String]) {
    let (active, gone): (Vec<&String>, Vec<&String>) =
        people.iter().partition(|p| catalog.is_active_person(p));
    if active.is_empty() {
        if gone.is_empty() {
            rule.fail(
                format!("no {role}"),
                format!("name an active {role} in `{field}`"),
            );
        } else {
            let names: Vec<&str> = gone.iter().map(|s| s.as_str()).collect();
            rule.fail(
                format!("{role} {} no longer works here", names.join(", ")),
                format!("hand the {role} role to someone active in `{field}`"),
            );
        }
    } else {
        let names: Vec<&str> = active.iter().map(|s| s.as_str()).collect();
        rule.pass(format!("{role}: {}", names.join(", ")));
    }
}

fn link(rule: &mut Rule, what: &str, field: &str, value: Option<&String>) {
    match value {
        Some(url) => rule.pass(format!("{what}: {url}")),
        None => rule.fail(
            format!("no {what}"),
            format!("add the {what} link in `{field}`"),
        ),
    }
}

/// Ownership: at least one platform owner and one service owner who are active people.
pub fn ownership(catalog: &Catalog, tool: &Tool) -> ConditionResult {
    let mut rule = Rule::new(Condition::Ownership);
    active_holders(
        catalog,
        &mut rule,
        "platform owner",
        "spec.owners.platform",
        &tool.owners.platform,
    );
    active_holders(
        catalog,
        &mut rule,
        "service owner",
        "spec.owners.service",
        &tool.owners.service,
    );
    rule.finish()
}

/// Governance: a usage policy, at least one active change approver, and — if the tool holds
/// personal data — a current contract with a signed DPA.
pub fn governance(catalog: &Catalog, name: &str, tool: &Tool, today: NaiveDate) -> ConditionResult {
    let mut rule = Rule::new(Condition::Governance);
    link(
        &mut rule,
        "usage policy",
        "spec.governance.policy",
        tool.governance.policy.as_ref(),
    );
    active_holders(
        catalog,
        &mut rule,
        "change approver",
        "spec.governance.approvers",
        &tool.governance.approvers,
    );
    if tool.holds_pii {
        let dpa = catalog
            .contracts_for(name)
            .find(|c| c.spec.is_current(today) && c.spec.dpa_signed);
        match dpa {
            Some(contract) => {
                rule.pass(format!("DPA signed in contract {}", contract.metadata.name))
            }
            None => rule.fail(
                "holds personal data but no current contract has a signed DPA".to_string(),
                "get a data processing agreement signed and set `dpa_signed: true` on the contract"
                    .to_string(),
            ),
        }
    }
    rule.finish()
}

/// Intake: an intake link (form or request type) is set.
pub fn intake(tool: &Tool) -> ConditionResult {
    let mut rule = Rule::new(Condition::Intake);
    link(
        &mut rule,
        "intake",
        "spec.links.intake",
        tool.links.intake.as_ref(),
    );
    rule.finish()
}

/// Support: an active support lead and a support link.
pub fn support(catalog: &Catalog, tool: &Tool) -> ConditionResult {
    let mut rule = Rule::new(Condition::Support);
    active_holders(
        catalog,
        &mut rule,
        "support lead",
        "spec.owners.support",
        &tool.owners.support,
    );
    link(
        &mut rule,
        "support channel",
        "spec.links.support",
        tool.links.support.as_ref(),
    );
    rule.finish()
}

/// Documentation: user docs and a runbook.
pub fn documentation(tool: &Tool) -> ConditionResult {
    let mut rule = Rule::new(Condition::Documentation);
    link(
        &mut rule,
        "documentation",
        "spec.links.docs",
        tool.links.docs.as_ref(),
    );
    link(
        &mut rule,
        "runbook",
        "spec.links.runbook",
        tool.links.runbook.as_ref(),
    );
    rule.finish()
}

/// Release management: a change record touching the tool in the last 180 days, or a
/// documented release process.
pub fn release_management(
    catalog: &Catalog,
    name: &str,
    tool: &Tool,
    today: NaiveDate,
) -> ConditionResult {
    let mut rule = Rule::new(Condition::ReleaseManagement);
    let since = today - Duration::days(RELEASE_WINDOW_DAYS);
    let recent = catalog
        .changes
        .values()
        .filter(|c| c.spec.affects.tools.iter().any(|t| t == name))
        .filter(|c| {
            let day = c.spec.last_activity();
            since <= day && day <= today
        })
        .max_by_key(|c| c.spec.last_activity());
    match (recent, &tool.links.release_process) {
        (Some(change), _) => rule.pass(format!("change record {} on {}", change.metadata.name, change.spec.last_activity())),
        (None, Some(process)) => rule.pass(format!("release process: {process}")),
        (None, None) => rule.fail(
            format!("no change record in the last {RELEASE_WINDOW_DAYS} days and no documented release process"),
            "record changes as ChangeRecords, or link the release process in `spec.links.release_process`".to_string(),
        ),
    }
    rule.finish()
}

/// Role clarity: roles are defined, and each is held by an active person or an existing team;
/// nobody who left still holds a role.
pub fn role_clarity(catalog: &Catalog, tool: &Tool) -> ConditionResult {
    let mut rule = Rule::new(Condition::RoleClarity);
    if tool.roles.is_empty() {
        rule.fail(
            "no roles defined".to_string(),
            "list who does what in `spec.roles` (admin, builder, approver …)".to_string(),
        );
    }
    for (i, role) in tool.roles.iter().enumerate() {
        let active: Vec<&String> = role
            .people
            .iter()
            .filter(|p| catalog.is_active_person(p))
            .collect();
        let teams: Vec<&String> = role
            .teams
            .iter()
            .filter(|t| catalog.teams.contains_key(t.as_str()))
            .collect();
        let gone: Vec<&String> = role
            .people
            .iter()
            .filter(|p| !catalog.is_active_person(p))
            .collect();
        if active.is_empty() && teams.is_empty() {
            rule.fail(
                format!("role `{}` is held by nobody active", role.role),
                format!("assign `spec.roles[{i}]` to an active person or a team"),
            );
        } else {
            rule.pass(format!("role `{}` is held", role.role));
        }
        for person in gone {
            rule.fail(
                format!("role `{}` still lists {person}, who has left", role.role),
                format!("remove {person} from `spec.roles[{i}].people`"),
            );
        }
    }
    rule.finish()
}

/// Success metrics: at least one metric with a target, and a usage snapshot from the last
/// 90 days to measure adoption.
pub fn success_metrics(
    catalog: &Catalog,
    name: &str,
    tool: &Tool,
    today: NaiveDate,
) -> ConditionResult {
    let mut rule = Rule::new(Condition::SuccessMetrics);
    if tool.success_metrics.is_empty() {
        rule.fail(
            "no success metrics".to_string(),
            "define what success means in `spec.success_metrics` (name and target)".to_string(),
        );
    } else {
        let names: Vec<String> = tool
            .success_metrics
            .iter()
            .map(|m| format!("{} ({})", m.name, m.target))
            .collect();
        rule.pass(format!("metrics: {}", names.join("; ")));
    }
    let since = today - Duration::days(USAGE_WINDOW_DAYS);
    match catalog.latest_usage(name) {
        Some(u) if u.spec.taken_on >= since => {
            rule.pass(format!("usage measured on {}", u.spec.taken_on))
        }
        Some(u) => rule.fail(
            format!(
                "latest usage snapshot is from {}, older than {USAGE_WINDOW_DAYS} days",
                u.spec.taken_on
            ),
            "take a new UsageSnapshot of seats assigned and active".to_string(),
        ),
        None => rule.fail(
            "no usage snapshot".to_string(),
            "record a UsageSnapshot of seats assigned and active".to_string(),
        ),
    }
    rule.finish()
}

/// The scorecard of one tool on `today`.
pub fn scorecard(catalog: &Catalog, name: &str, tool: &Entry<Tool>, today: NaiveDate) -> Scorecard {
    let t = &tool.spec;
    Scorecard {
        tool: name.to_string(),
        results: vec![
            ownership(catalog, t),
            governance(catalog, name, t, today),
            intake(t),
            support(catalog, t),
            documentation(t),
            release_management(catalog, name, t, today),
            role_clarity(catalog, t),
            success_metrics(catalog, name, t, today),
        ],
    }
}

/// Scorecards for every live tool, by name.
pub fn scorecards(catalog: &Catalog, today: NaiveDate) -> Vec<Scorecard> {
    catalog
        .tools
        .iter()
        .filter(|(_, t)| t.spec.lifecycle == Lifecycle::Live)
        .map(|(name, tool)| scorecard(catalog, name, tool, today))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{contract, day, entry, person, today, tool, usage};
    use crate::records::{Affected, ChangeRecord, ChangeStatus, Risk};
    use crate::tool::{Role, SuccessMetric};

    fn base() -> Catalog {
        let mut c = Catalog::default();
        person(&mut c, "ann", true);
        person(&mut c, "bob", true);
        person(&mut c, "gone", false);
        tool(&mut c, "crm", &[]);
        c
    }

    fn spec(c: &Catalog) -> &Tool {
        &c.tools["crm"].spec
    }

    #[test]
    fn ownership_needs_active_platform_and_service_owner() {
        let mut c = base();
        let r = ownership(&c, spec(&c));
        assert!(!r.passed);
        assert_eq!(r.failures, vec!["no platform owner", "no service owner"]);
        assert!(r.actions[0].contains("spec.owners.platform"));
        let t = tool(&mut c, "crm", &[]);
        t.owners.platform = vec!["gone".into()];
        t.owners.service = vec!["bob".into()];
        let r = ownership(&c, spec(&c));
        assert_eq!(r.failures, vec!["platform owner gone no longer works here"]);
        assert_eq!(r.passes, vec!["service owner: bob"]);
        c.tools
            .get_mut("crm")
            .unwrap()
            .spec
            .owners
            .platform
            .push("ann".into());
        assert!(ownership(&c, spec(&c)).passed);
    }

    #[test]
    fn governance_needs_policy_approver_and_dpa_for_pii() {
        let mut c = base();
        let t = tool(&mut c, "crm", &[]);
        t.governance.policy = Some("https://wiki/policy".into());
        t.governance.approvers = vec!["ann".into()];
        assert!(governance(&c, "crm", spec(&c), today()).passed);
        c.tools.get_mut("crm").unwrap().spec.holds_pii = true;
        let r = governance(&c, "crm", spec(&c), today());
        assert!(!r.passed);
        assert!(r.failures[0].contains("signed DPA"));
        contract(&mut c, "crm-2026", &["crm"], 100, None).dpa_signed = true;
        assert!(governance(&c, "crm", spec(&c), today()).passed);
        // An expired contract does not count.
        c.contracts.get_mut("crm-2026").unwrap().spec.end = day(2026, 6, 30);
        assert!(!governance(&c, "crm", spec(&c), today()).passed);
    }

    #[test]
    fn intake_needs_an_intake_link() {
        let mut c = base();
        assert!(!intake(spec(&c)).passed);
        tool(&mut c, "crm", &[]).links.intake = Some("https://forms/crm".into());
        let r = intake(spec(&c));
        assert!(r.passed);
        assert_eq!(r.passes, vec!["intake: https://forms/crm"]);
    }

    #[test]
    fn support_needs_active_lead_and_channel() {
        let mut c = base();
        let t = tool(&mut c, "crm", &[]);
        t.owners.support = vec!["gone".into()];
        t.links.support = Some("#help".into());
        let r = support(&c, spec(&c));
        assert_eq!(r.failures.len(), 1);
        c.tools.get_mut("crm").unwrap().spec.owners.support = vec!["ann".into()];
        assert!(support(&c, spec(&c)).passed);
    }

    #[test]
    fn documentation_needs_docs_and_runbook() {
        let mut c = base();
        tool(&mut c, "crm", &[]).links.docs = Some("d".into());
        let r = documentation(spec(&c));
        assert_eq!(r.failures, vec!["no runbook"]);
        c.tools.get_mut("crm").unwrap().spec.links.runbook = Some("r".into());
        assert!(documentation(spec(&c)).passed);
    }

    fn change(name: &str, tool: &str, on: NaiveDate) -> Entry<ChangeRecord> {
        entry(
            name,
            ChangeRecord {
                what: "w".into(),
                why: "y".into(),
                risk: Risk::Low,
                requested_by: None,
                approver: None,
                status: ChangeStatus::RolledOut,
                planned_for: on,
                rolled_out_on: Some(on),
                rolled_back_on: None,
                rollback_plan: None,
                affects: Affected {
                    tools: vec![tool.into()],
                    ..Affected::default()
                },
            },
        )
    }

    #[test]
    fn release_management_needs_recent_change_or_process() {
        let mut c = base();
        c.changes
            .insert("old".into(), change("old", "crm", day(2026, 3, 1)));
        c.changes
            .insert("other".into(), change("other", "cms", day(2026, 11, 1)));
        let r = release_management(&c, "crm", spec(&c), today());
        assert!(!r.passed, "{r:?}");
        c.changes
            .insert("recent".into(), change("recent", "crm", day(2026, 9, 1)));
        let r = release_management(&c, "crm", spec(&c), today());
        assert_eq!(r.passes, vec!["change record recent on 2026-09-01"]);
        c.changes.remove("recent");
        tool(&mut c, "crm", &[]).links.release_process = Some("https://wiki/release".into());
        assert!(release_management(&c, "crm", spec(&c), today()).passed);
    }

    #[test]
    fn role_clarity_needs_held_roles_and_no_leavers() {
        let mut c = base();
        assert_eq!(
            role_clarity(&c, spec(&c)).failures,
            vec!["no roles defined"]
        );
        let role = |people: &[&str], teams: &[&str]| Role {
            role: "admin".into(),
            responsibilities: None,
            people: people.iter().map(|p| p.to_string()).collect(),
            teams: teams.iter().map(|p| p.to_string()).collect(),
        };
        tool(&mut c, "crm", &[]).roles = vec![role(&["gone"], &[])];
        let r = role_clarity(&c, spec(&c));
        assert_eq!(r.failures.len(), 2, "{r:?}");
        c.tools.get_mut("crm").unwrap().spec.roles = vec![role(&["ann"], &[])];
        assert!(role_clarity(&c, spec(&c)).passed);
    }

    #[test]
    fn success_metrics_need_targets_and_recent_usage() {
        let mut c = base();
        tool(&mut c, "crm", &[]).success_metrics = vec![SuccessMetric {
            name: "adoption".into(),
            target: "80%".into(),
        }];
        let r = success_metrics(&c, "crm", spec(&c), today());
        assert_eq!(r.failures, vec!["no usage snapshot"]);
        usage(&mut c, "crm", day(2026, 5, 1), 10, 5);
        assert!(
            success_metrics(&c, "crm", spec(&c), today()).failures[0]
                .contains("older than 90 days")
        );
        usage(&mut c, "crm", day(2026, 11, 1), 10, 8);
        assert!(success_metrics(&c, "crm", spec(&c), today()).passed);
    }

    #[test]
    fn scorecards_cover_live_tools_only() {
        let mut c = base();
        tool(&mut c, "old", &[]).lifecycle = Lifecycle::Retired;
        let cards = scorecards(&c, today());
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0].results.len(), 8);
        assert_eq!(cards[0].score(), 0);
        assert!(!cards[0].ready());
    }
}
