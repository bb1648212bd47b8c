//! Audits of the catalog: the questions a MOps lead asks about stack health.
//!
//! Each audit is a pure function of the catalog (and `today` where time matters) returning
//! typed findings; [`all`] flattens them into one list with a message and an action each.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use keel_manifests::ObjectRef;
use serde::Serialize;

use crate::catalog::Catalog;
use crate::contract::Money;
use crate::tool::{Category, Lifecycle};

/// Money per currency, for sums across contracts that may differ in currency.
pub type Amounts = BTreeMap<String, i64>;

fn add(amounts: &mut Amounts, money: &Money) {
    *amounts.entry(money.currency.clone()).or_default() += money.amount_minor;
}

/// Renders amounts as `USD 1,000.00 + EUR 20.00` (or `0` when empty).
pub fn render_amounts(amounts: &Amounts) -> String {
    if amounts.is_empty() {
        return "0".to_string();
    }
    amounts
        .iter()
        .map(|(c, a)| Money::new(*a, c).to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// What a tool costs per year from the contracts running on `today`; a contract covering
/// several tools is split evenly between them.
pub fn annual_cost(catalog: &Catalog, tool: &str, today: NaiveDate) -> Amounts {
    let mut amounts = Amounts::new();
    for contract in catalog
        .contracts_for(tool)
        .filter(|c| c.spec.is_current(today))
    {
        let annual = contract.spec.annual_cost();
        let share =
            annual.amount_minor / i64::try_from(contract.spec.tools.len().max(1)).unwrap_or(1);
        add(&mut amounts, &Money::new(share, &annual.currency));
    }
    amounts
}

/// A tool nobody active owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerGap {
    /// The tool.
    pub tool: String,
    /// What is missing, e.g. "platform owner dana-reyes has left".
    pub missing: Vec<String>,
}

/// Tools in service (implementing, live, deprecated) without an active platform owner or
/// service owner.
pub fn tools_without_active_owners(catalog: &Catalog) -> Vec<OwnerGap> {
    let mut out = Vec::new();
    for (name, tool) in &catalog.tools {
        if !tool.spec.lifecycle.in_service() {
            continue;
        }
        let mut missing = Vec::new();
        for (role, people) in [
            ("platform owner", &tool.spec.owners.platform),
            ("service owner", &tool.spec.owners.service),
        ] {
            if people.iter().any(|p| catalog.is_active_person(p)) {
                continue;
            }
            if people.is_empty() {
                missing.push(format!("no {role}"));
            } else {
                missing.push(format!("{role} {} has left", people.join(", ")));
            }
        }
        if !missing.is_empty() {
            out.push(OwnerGap {
                tool: name.clone(),
                missing,
            });
        }
    }
    out
}

/// Tools that share capabilities: a consolidation candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    /// The shared categories.
    pub categories: Vec<Category>,
    /// The tools sharing them, by name.
    pub tools: Vec<String>,
    /// The tool to keep: the one with the most active seats (then the most expensive).
    pub keep: String,
    /// The tools whose every capability the kept tool also has, so they could go.
    pub retire: Vec<String>,
    /// What retiring them would save per year: their share of current contracts.
    pub annual_saving: Amounts,
}

fn overlap_categories(tool: &crate::tool::Tool) -> BTreeSet<Category> {
    tool.categories
        .iter()
        .copied()
        .filter(|c| c.overlap_matters())
        .collect()
}

/// Live and implementing tools that share a category where overlap matters, grouped by the
/// same set of tools. The tool kept is the most used (most active seats, then the most
/// expensive); the saving counts only tools whose capabilities the kept tool covers entirely,
/// since a tool that also does something else cannot simply be switched off, and counts each
/// tool once (in the first overlap that retires it), so savings can be added up.
pub fn capability_overlaps(catalog: &Catalog, today: NaiveDate) -> Vec<Overlap> {
    let in_use =
        |t: &crate::tool::Tool| matches!(t.lifecycle, Lifecycle::Live | Lifecycle::Implementing);
    let mut by_category: BTreeMap<Category, BTreeSet<String>> = BTreeMap::new();
    for (name, tool) in catalog.tools.iter().filter(|(_, t)| in_use(&t.spec)) {
        for category in overlap_categories(&tool.spec) {
            by_category
                .entry(category)
                .or_default()
                .insert(name.clone());
        }
    }
    let mut groups: BTreeMap<BTreeSet<String>, Vec<Category>> = BTreeMap::new();
    for (category, tools) in by_category {
        if tools.len() > 1 {
            groups.entry(tools).or_default().push(category);
        }
    }
    let active_seats = |tool: &str| {
        catalog
            .latest_usage(tool)
            .map_or(0, |u| u.spec.seats_active)
    };
    let total = |amounts: &Amounts| amounts.values().sum::<i64>();
    let categories_of = |tool: &str| {
        catalog
            .tools
            .get(tool)
            .map(|t| overlap_categories(&t.spec))
            .unwrap_or_default()
    };
    let mut counted: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for (tools, categories) in groups {
        let keep = tools
            .iter()
            .max_by_key(|t| {
                (
                    active_seats(t),
                    total(&annual_cost(catalog, t, today)),
                    std::cmp::Reverse((*t).clone()),
                )
            })
            .cloned()
            .unwrap_or_default();
        let kept = categories_of(&keep);
        let retire: Vec<String> = tools
            .iter()
            .filter(|t| **t != keep && categories_of(t).is_subset(&kept))
            .cloned()
            .collect();
        let mut annual_saving = Amounts::new();
        for tool in retire.iter().filter(|t| counted.insert((*t).clone())) {
            for (currency, amount) in annual_cost(catalog, tool, today) {
                *annual_saving.entry(currency).or_default() += amount;
            }
        }
        out.push(Overlap {
            categories,
            tools: tools.into_iter().collect(),
            keep,
            retire,
            annual_saving,
        });
    }
    out
}

/// Seats bought against seats used for one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatUsage {
    /// The tool.
    pub tool: String,
    /// Seats bought on current contracts.
    pub bought: u32,
    /// Seats assigned (latest snapshot).
    pub assigned: u32,
    /// Seats active (latest snapshot).
    pub active: u32,
    /// Seats bought but not active.
    pub unused: u32,
    /// Annual cost of the tool.
    pub annual_cost: Amounts,
    /// Annual cost divided by active seats (empty when nobody is active).
    pub cost_per_active_seat: Amounts,
    /// The part of the annual cost paying for unused seats.
    pub unused_cost: Amounts,
}

/// Seat usage for every tool with per-seat contracts and a usage snapshot, most unused first.
/// Only contracts for this tool alone count: seats of a bundle cannot be told apart per tool.
pub fn seat_usage(catalog: &Catalog, today: NaiveDate) -> Vec<SeatUsage> {
    let mut out = Vec::new();
    for name in catalog.tools.keys() {
        let bought: u32 = catalog
            .contracts_for(name)
            .filter(|c| c.spec.is_current(today) && c.spec.tools.len() == 1)
            .filter_map(|c| c.spec.seats)
            .sum();
        let Some(usage) = catalog.latest_usage(name) else {
            continue;
        };
        if bought == 0 {
            continue;
        }
        let annual = annual_cost(catalog, name, today);
        let active = usage.spec.seats_active;
        let unused = bought.saturating_sub(active);
        let per_seat = |amounts: &Amounts, divisor: u32| -> Amounts {
            if divisor == 0 {
                return Amounts::new();
            }
            amounts
                .iter()
                .map(|(c, a)| (c.clone(), a / i64::from(divisor)))
                .collect()
        };
        let unused_cost = annual
            .iter()
            .map(|(c, a)| (c.clone(), a * i64::from(unused) / i64::from(bought)))
            .collect();
        out.push(SeatUsage {
            tool: name.clone(),
            bought,
            assigned: usage.spec.seats_assigned,
            active,
            unused,
            cost_per_active_seat: per_seat(&annual, active),
            annual_cost: annual,
            unused_cost,
        });
    }
    out.sort_by(|a, b| b.unused.cmp(&a.unused).then_with(|| a.tool.cmp(&b.tool)));
    out
}

/// A contract whose notice deadline is near.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenewalDue {
    /// The contract.
    pub contract: String,
    /// The tools it pays for.
    pub tools: Vec<String>,
    /// Last day of the term.
    pub end: NaiveDate,
    /// Last day to give notice.
    pub notice_deadline: NaiveDate,
    /// Days from today to the notice deadline.
    pub days_left: i64,
    /// Whether it renews by itself.
    pub auto_renew: bool,
    /// Its annual cost.
    pub annual_cost: Money,
}

/// Contracts whose notice deadline falls between today and `window_days` from now, soonest first.
pub fn renewals_due(catalog: &Catalog, today: NaiveDate, window_days: i64) -> Vec<RenewalDue> {
    let mut out: Vec<RenewalDue> = catalog
        .contracts
        .iter()
        .filter_map(|(name, c)| {
            let deadline = c.spec.notice_deadline();
            let days_left = (deadline - today).num_days();
            (0..=window_days).contains(&days_left).then(|| RenewalDue {
                contract: name.clone(),
                tools: c.spec.tools.clone(),
                end: c.spec.end,
                notice_deadline: deadline,
                days_left,
                auto_renew: c.spec.auto_renew,
                annual_cost: c.spec.annual_cost(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.days_left
            .cmp(&b.days_left)
            .then_with(|| a.contract.cmp(&b.contract))
    });
    out
}

/// An integration or automation that lacks an owner or documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnownedFlow {
    /// The integration or automation.
    pub object: ObjectRef,
    /// No owner, or the owner has left.
    pub no_owner: bool,
    /// No documentation link.
    pub no_docs: bool,
}

/// Integrations and automations still running (not retired) without an active owner or docs.
pub fn flows_without_owner_or_docs(catalog: &Catalog) -> Vec<UnownedFlow> {
    use crate::integration::{AutomationStatus, IntegrationStatus};
    let owned = |owner: &Option<String>| {
        owner
            .as_deref()
            .is_some_and(|o| catalog.is_active_person(o))
    };
    let mut out = Vec::new();
    for (name, i) in catalog
        .integrations
        .iter()
        .filter(|(_, i)| i.spec.status != IntegrationStatus::Retired)
    {
        let (no_owner, no_docs) = (!owned(&i.spec.owner), i.spec.docs.is_none());
        if no_owner || no_docs {
            out.push(UnownedFlow {
                object: ObjectRef::new("Integration", name),
                no_owner,
                no_docs,
            });
        }
    }
    for (name, a) in catalog
        .automations
        .iter()
        .filter(|(_, a)| a.spec.status != AutomationStatus::Retired)
    {
        let (no_owner, no_docs) = (!owned(&a.spec.owner), a.spec.docs.is_none());
        if no_owner || no_docs {
            out.push(UnownedFlow {
                object: ObjectRef::new("Automation", name),
                no_owner,
                no_docs,
            });
        }
    }
    out
}

/// A tool holding personal data without a signed DPA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DpaGap {
    /// The tool.
    pub tool: String,
    /// Current contracts covering it, none with a DPA (empty: no contract on file).
    pub contracts: Vec<String>,
}

/// Tools in service that hold personal data but have no current contract with a signed DPA.
pub fn pii_without_dpa(catalog: &Catalog, today: NaiveDate) -> Vec<DpaGap> {
    catalog
        .tools
        .iter()
        .filter(|(_, t)| t.spec.holds_pii && t.spec.lifecycle.in_service())
        .filter_map(|(name, _)| {
            let current: Vec<_> = catalog
                .contracts_for(name)
                .filter(|c| c.spec.is_current(today))
                .collect();
            (!current.iter().any(|c| c.spec.dpa_signed)).then(|| DpaGap {
                tool: name.clone(),
                contracts: current.iter().map(|c| c.metadata.name.clone()).collect(),
            })
        })
        .collect()
}

/// Which audit found something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// [`tools_without_active_owners`].
    NoActiveOwner,
    /// [`capability_overlaps`].
    Overlap,
    /// [`seat_usage`] with unused seats.
    UnusedSeats,
    /// [`renewals_due`].
    RenewalDue,
    /// [`flows_without_owner_or_docs`].
    UnownedFlow,
    /// [`pii_without_dpa`].
    PiiWithoutDpa,
}

/// One audit finding, flattened for lists and notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which audit.
    pub audit: AuditKind,
    /// The objects concerned.
    pub subjects: Vec<ObjectRef>,
    /// What was found.
    pub message: String,
    /// What to do.
    pub action: String,
}

/// Every audit, flattened; renewals use a window of `renewal_window_days`.
pub fn all(catalog: &Catalog, today: NaiveDate, renewal_window_days: i64) -> Vec<Finding> {
    let tool = |name: &str| ObjectRef::new("Tool", name);
    let mut out = Vec::new();
    for gap in tools_without_active_owners(catalog) {
        out.push(Finding {
            audit: AuditKind::NoActiveOwner,
            subjects: vec![tool(&gap.tool)],
            message: format!("{}: {}", gap.tool, gap.missing.join("; ")),
            action: "name active platform and service owners".to_string(),
        });
    }
    for overlap in capability_overlaps(catalog, today) {
        let categories: Vec<&str> = overlap.categories.iter().map(|c| c.as_str()).collect();
        let action = if overlap.retire.is_empty() {
            format!(
                "compare them: each does more than {}, so none can simply be retired",
                overlap.keep
            )
        } else {
            format!(
                "consider retiring {} in favour of {} (saves {} a year)",
                overlap.retire.join(", "),
                overlap.keep,
                render_amounts(&overlap.annual_saving)
            )
        };
        out.push(Finding {
            audit: AuditKind::Overlap,
            subjects: overlap.tools.iter().map(|t| tool(t)).collect(),
            message: format!(
                "{} overlap in {}",
                overlap.tools.join(", "),
                categories.join(", ")
            ),
            action,
        });
    }
    for seats in seat_usage(catalog, today)
        .into_iter()
        .filter(|s| s.unused > 0)
    {
        out.push(Finding {
            audit: AuditKind::UnusedSeats,
            subjects: vec![tool(&seats.tool)],
            message: if seats.active == 0 {
                format!("{}: none of {} seats is active", seats.tool, seats.bought)
            } else {
                format!(
                    "{}: {} of {} seats unused; {} per active seat",
                    seats.tool,
                    seats.unused,
                    seats.bought,
                    render_amounts(&seats.cost_per_active_seat)
                )
            },
            action: format!(
                "reclaim or drop unused seats at renewal (worth {} a year)",
                render_amounts(&seats.unused_cost)
            ),
        });
    }
    for due in renewals_due(catalog, today, renewal_window_days) {
        out.push(Finding {
            audit: AuditKind::RenewalDue,
            subjects: vec![ObjectRef::new("Contract", &due.contract)],
            message: format!(
                "{}: notice deadline {} ({} days), term ends {}",
                due.contract, due.notice_deadline, due.days_left, due.end
            ),
            action: if due.auto_renew {
                format!(
                    "decide before {} or it renews for {}",
                    due.notice_deadline, due.annual_cost
                )
            } else {
                format!("renew or exit before {}", due.end)
            },
        });
    }
    for flow in flows_without_owner_or_docs(catalog) {
        let (message, action) = match (flow.no_owner, flow.no_docs) {
            (true, true) => (
                "no active owner and no documentation",
                "name an active owner and link its documentation",
            ),
            (true, false) => ("no active owner", "name an active owner"),
            _ => ("no documentation", "link its documentation"),
        };
        out.push(Finding {
            audit: AuditKind::UnownedFlow,
            message: format!("{} has {message}", flow.object),
            action: action.to_string(),
            subjects: vec![flow.object],
        });
    }
    for gap in pii_without_dpa(catalog, today) {
        out.push(Finding {
            audit: AuditKind::PiiWithoutDpa,
            subjects: vec![tool(&gap.tool)],
            message: if gap.contracts.is_empty() {
                format!(
                    "{} holds personal data and has no current contract on file",
                    gap.tool
                )
            } else {
                format!(
                    "{} holds personal data; contract {} has no signed DPA",
                    gap.tool,
                    gap.contracts.join(", ")
                )
            },
            action: "get a data processing agreement signed".to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Entry;
    use crate::fixtures::{contract, day, entry, person, today, tool, usage};
    use crate::integration::{
        Automation, AutomationStatus, Direction, Frequency, Integration, IntegrationKind,
        IntegrationStatus, RunHistory, Step,
    };

    fn usd(amount: i64) -> Amounts {
        Amounts::from([("USD".to_string(), amount)])
    }

    #[test]
    fn owner_gaps_name_who_left_and_skip_retired_tools() {
        let mut c = Catalog::default();
        person(&mut c, "ann", true);
        person(&mut c, "gone", false);
        let t = tool(&mut c, "a", &[]);
        t.owners.platform = vec!["gone".into()];
        t.owners.service = vec!["ann".into()];
        tool(&mut c, "b", &[]).owners.platform = vec!["ann".into()];
        tool(&mut c, "ok", &[]).owners = crate::tool::Owners {
            platform: vec!["ann".into()],
            service: vec!["ann".into()],
            support: vec![],
        };
        tool(&mut c, "old", &[]).lifecycle = Lifecycle::Retired;
        tool(&mut c, "maybe", &[]).lifecycle = Lifecycle::Evaluating;
        let gaps = tools_without_active_owners(&c);
        assert_eq!(
            gaps,
            vec![
                OwnerGap {
                    tool: "a".into(),
                    missing: vec!["platform owner gone has left".into()]
                },
                OwnerGap {
                    tool: "b".into(),
                    missing: vec!["no service owner".into()]
                },
            ]
        );
    }

    #[test]
    fn overlaps_keep_the_most_used_tool_and_sum_the_rest() {
        let mut c = Catalog::default();
        tool(
            &mut c,
            "hubspot",
            &[Category::MarketingAutomation, Category::Email],
        );
        tool(
            &mut c,
            "marketo",
            &[Category::MarketingAutomation, Category::Email],
        );
        tool(&mut c, "google-ads", &[Category::Ads]);
        tool(&mut c, "meta-ads", &[Category::Ads]);
        tool(&mut c, "evaluating-map", &[Category::MarketingAutomation]).lifecycle =
            Lifecycle::Evaluating;
        contract(&mut c, "hubspot-2026", &["hubspot"], 3_600_000, Some(40));
        contract(&mut c, "adobe", &["marketo", "other"], 10_000_000, Some(80));
        usage(&mut c, "hubspot", day(2026, 11, 1), 38, 19);
        usage(&mut c, "marketo", day(2026, 11, 1), 70, 58);
        let overlaps = capability_overlaps(&c, today());
        assert_eq!(
            overlaps.len(),
            1,
            "ads do not count as overlap: {overlaps:?}"
        );
        let o = &overlaps[0];
        assert_eq!(
            o.categories,
            vec![Category::Email, Category::MarketingAutomation]
        );
        assert_eq!(o.tools, vec!["hubspot", "marketo"]);
        assert_eq!(o.keep, "marketo");
        assert_eq!(o.retire, vec!["hubspot"]);
        assert_eq!(o.annual_saving, usd(3_600_000));
        // Shared contracts are split between their tools.
        assert_eq!(annual_cost(&c, "marketo", today()), usd(5_000_000));
    }

    #[test]
    fn tools_doing_more_than_the_kept_one_are_not_counted_as_savings() {
        let mut c = Catalog::default();
        tool(&mut c, "bynder", &[Category::Dam]);
        tool(&mut c, "aem", &[Category::Dam, Category::Cms]);
        tool(
            &mut c,
            "sharepoint",
            &[Category::Dam, Category::Collaboration],
        );
        usage(&mut c, "bynder", day(2026, 11, 1), 12, 12);
        contract(&mut c, "aem", &["aem"], 5_000_000, None);
        contract(&mut c, "sharepoint", &["sharepoint"], 1_200_000, None);
        let overlaps = capability_overlaps(&c, today());
        assert_eq!(
            overlaps.len(),
            1,
            "collaboration is not an overlap: {overlaps:?}"
        );
        assert_eq!(overlaps[0].keep, "bynder");
        assert_eq!(overlaps[0].retire, vec!["sharepoint"]);
        assert_eq!(overlaps[0].annual_saving, usd(1_200_000));
    }

    #[test]
    fn bundled_seats_are_not_attributed_to_one_tool() {
        let mut c = Catalog::default();
        tool(&mut c, "marketo", &[]);
        contract(&mut c, "adobe", &["marketo", "aem"], 1_000, Some(85));
        usage(&mut c, "marketo", day(2026, 11, 1), 70, 58);
        assert!(seat_usage(&c, today()).is_empty());
    }

    #[test]
    fn seat_usage_counts_unused_seats_and_cost_per_active_seat() {
        let mut c = Catalog::default();
        tool(&mut c, "monday", &[]);
        tool(&mut c, "no-usage", &[]);
        contract(&mut c, "monday-2026", &["monday"], 1_000_000, Some(50));
        contract(&mut c, "no-usage-2026", &["no-usage"], 1_000_000, Some(5));
        usage(&mut c, "monday", day(2026, 6, 1), 40, 30);
        usage(&mut c, "monday", day(2026, 11, 1), 31, 10);
        let seats = seat_usage(&c, today());
        assert_eq!(seats.len(), 1);
        let s = &seats[0];
        assert_eq!((s.bought, s.assigned, s.active, s.unused), (50, 31, 10, 40));
        assert_eq!(s.cost_per_active_seat, usd(100_000));
        assert_eq!(s.unused_cost, usd(800_000));
    }

    #[test]
    fn renewals_within_the_window_soonest_first() {
        let mut c = Catalog::default();
        contract(&mut c, "soon", &["a"], 100, None).end = day(2026, 12, 31); // deadline 2026-12-01
        contract(&mut c, "later", &["b"], 100, None).end = day(2027, 3, 1); // deadline 2027-01-30
        contract(&mut c, "passed", &["c"], 100, None).end = day(2026, 12, 1); // deadline 2026-11-01
        let due = renewals_due(&c, today(), 30);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].contract, "soon");
        assert_eq!(due[0].notice_deadline, day(2026, 12, 1));
        assert_eq!(due[0].days_left, 9);
        let names: Vec<String> = renewals_due(&c, today(), 90)
            .into_iter()
            .map(|d| d.contract)
            .collect();
        assert_eq!(names, vec!["soon", "later"]);
    }

    fn integration(
        owner: Option<&str>,
        docs: Option<&str>,
        status: IntegrationStatus,
    ) -> Integration {
        Integration {
            from: "a".into(),
            to: "b".into(),
            kind: IntegrationKind::Native,
            via: None,
            direction: Direction::OneWay,
            objects: vec![],
            frequency: Frequency::Daily,
            owner: owner.map(str::to_string),
            status,
            docs: docs.map(str::to_string),
        }
    }

    #[test]
    fn integrations_and_automations_without_owner_or_docs() {
        let mut c = Catalog::default();
        person(&mut c, "ann", true);
        person(&mut c, "gone", false);
        c.integrations.insert(
            "fine".into(),
            entry(
                "fine",
                integration(Some("ann"), Some("d"), IntegrationStatus::Active),
            ),
        );
        c.integrations.insert(
            "orphan".into(),
            entry(
                "orphan",
                integration(Some("gone"), Some("d"), IntegrationStatus::Active),
            ),
        );
        c.integrations.insert(
            "bare".into(),
            entry("bare", integration(None, None, IntegrationStatus::Active)),
        );
        c.integrations.insert(
            "retired".into(),
            entry(
                "retired",
                integration(None, None, IntegrationStatus::Retired),
            ),
        );
        let zap = Automation {
            platform: "zapier".into(),
            trigger: "t".into(),
            steps: vec![Step {
                action: "x".into(),
                tool: "a".into(),
                reads: vec![],
                writes: vec![],
            }],
            owner: Some("ann".into()),
            docs: None,
            status: AutomationStatus::Active,
            runs: RunHistory::default(),
        };
        c.automations.insert(
            "zap".into(),
            Entry {
                metadata: keel_manifests::Metadata::named("zap"),
                spec: zap,
            },
        );
        let found = flows_without_owner_or_docs(&c);
        let summary: Vec<(String, bool, bool)> = found
            .into_iter()
            .map(|f| (f.object.to_string(), f.no_owner, f.no_docs))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Integration/bare".to_string(), true, true),
                ("Integration/orphan".to_string(), true, false),
                ("Automation/zap".to_string(), false, true),
            ]
        );
    }

    #[test]
    fn pii_tools_need_a_current_contract_with_dpa() {
        let mut c = Catalog::default();
        tool(&mut c, "signed", &[]).holds_pii = true;
        tool(&mut c, "unsigned", &[]).holds_pii = true;
        tool(&mut c, "no-contract", &[]).holds_pii = true;
        tool(&mut c, "no-pii", &[]);
        contract(&mut c, "signed-2026", &["signed"], 1, None);
        contract(&mut c, "unsigned-2026", &["unsigned"], 1, None).dpa_signed = false;
        contract(&mut c, "no-pii-2026", &["no-pii"], 1, None).dpa_signed = false;
        let gaps = pii_without_dpa(&c, today());
        assert_eq!(
            gaps,
            vec![
                DpaGap {
                    tool: "no-contract".into(),
                    contracts: vec![]
                },
                DpaGap {
                    tool: "unsigned".into(),
                    contracts: vec!["unsigned-2026".into()]
                },
            ]
        );
    }

    #[test]
    fn all_flattens_with_actions() {
        let mut c = Catalog::default();
        tool(&mut c, "a", &[]).holds_pii = true;
        let found = all(&c, today(), 30);
        let kinds: Vec<AuditKind> = found.iter().map(|f| f.audit).collect();
        assert_eq!(
            kinds,
            vec![AuditKind::NoActiveOwner, AuditKind::PiiWithoutDpa]
        );
        assert!(found.iter().all(|f| !f.action.is_empty()));
        assert_eq!(render_amounts(&usd(123_456)), "USD 1,234.56");
    }
}
