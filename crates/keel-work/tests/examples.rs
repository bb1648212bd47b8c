//! The ops-as-code documents shipped in `examples/ops/work/` are valid, consistent with each other,
//! and drive the whole work domain end to end on the demo data.

// Test helpers: a failed unwrap here is a failed test with its message.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use keel_work::approval::{ApprovalPolicies, Outcome, PolicySpec};
use keel_work::campaign::CampaignRulesSpec;
use keel_work::capacity::{Roster, over_allocation_warnings, utilisation};
use keel_work::intake::{IntakeContext, RequestTypeSpec};
use keel_work::routing::WorkflowSpec;
use keel_work::schedule::{ScheduleInput, schedule};
use keel_work::sla::{EscalationPathSpec, SlaSpec, StatusEvent, evaluate};
use keel_work::states::{Actor, StateMachineSpec};
use keel_work::workspace::WorkDocuments;
use keel_work::{BusinessCalendarSpec, Calendar, Document, Party};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ops/work")
}

#[derive(Default)]
struct Workspace {
    calendars: Vec<Document<BusinessCalendarSpec>>,
    request_types: Vec<Document<RequestTypeSpec>>,
    workflows: Vec<Document<WorkflowSpec>>,
    policies: Vec<Document<PolicySpec>>,
    slas: Vec<Document<SlaSpec>>,
    paths: Vec<Document<EscalationPathSpec>>,
    rules: Vec<Document<CampaignRulesSpec>>,
    problems: Vec<String>,
}

/// Loads the example documents exactly as `keel check` does, with the work kinds registered.
fn workspace() -> Workspace {
    let files = keel_manifests::fs::read_tree(&examples()).unwrap();
    let loaded = keel_manifests::load(&files, &keel_work::registry());
    let docs = WorkDocuments::from_loaded(&loaded);
    Workspace {
        calendars: docs.calendars,
        request_types: docs.request_types,
        workflows: docs.workflows,
        policies: docs.policies,
        slas: docs.slas,
        paths: docs.escalation_paths,
        rules: docs.campaign_rules,
        problems: loaded.diagnostics.iter().map(ToString::to_string).collect(),
    }
}

fn roster() -> Roster {
    serde_json::from_str(&std::fs::read_to_string(examples().join("demo/roster.json")).unwrap())
        .unwrap()
}

fn calendar(ws: &Workspace, name: &str) -> Calendar {
    ws.calendars
        .iter()
        .find(|c| c.metadata.name == name)
        .unwrap()
        .spec
        .compile()
        .unwrap()
}

fn request_type<'a>(ws: &'a Workspace, name: &str) -> &'a RequestTypeSpec {
    &ws.request_types
        .iter()
        .find(|t| t.metadata.name == name)
        .unwrap()
        .spec
}

fn submission(name: &str) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(examples().join(format!("demo/submissions/{name}.json"))).unwrap(),
    )
    .unwrap()
}

#[test]
fn every_example_document_is_valid_and_references_resolve() {
    let ws = workspace();
    assert_eq!(ws.problems, Vec::<String>::new());
    let all = WorkDocuments {
        calendars: ws.calendars.clone(),
        request_types: ws.request_types.clone(),
        workflows: ws.workflows.clone(),
        policies: ws.policies.clone(),
        slas: ws.slas.clone(),
        escalation_paths: ws.paths.clone(),
        campaign_rules: ws.rules.clone(),
    };
    let problems: Vec<String> = all.check().iter().map(ToString::to_string).collect();
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(ws.request_types.len(), 6);
    let types: HashSet<&str> = ws
        .request_types
        .iter()
        .map(|t| t.metadata.name.as_str())
        .collect();
    let calendars: HashSet<&str> = ws
        .calendars
        .iter()
        .map(|t| t.metadata.name.as_str())
        .collect();
    let paths: HashSet<&str> = ws.paths.iter().map(|t| t.metadata.name.as_str()).collect();
    for w in &ws.workflows {
        for t in &w.spec.request_types {
            assert!(
                types.contains(t.as_str()),
                "workflow {} routes unknown type {t}",
                w.metadata.name
            );
        }
    }
    for s in &ws.slas {
        assert!(calendars.contains(s.spec.calendar.as_str()));
        assert!(
            s.spec
                .escalation
                .as_deref()
                .is_none_or(|e| paths.contains(e))
        );
        for t in &s.spec.applies_to {
            assert!(
                types.contains(t.as_str()),
                "SLA {} names unknown type {t}",
                s.metadata.name
            );
        }
    }
    for p in &ws.policies {
        for t in &p.spec.applies_to {
            assert!(
                types.contains(t.as_str()),
                "policy {} names unknown type {t}",
                p.metadata.name
            );
        }
    }
    // Every request type is routed by exactly one workflow and held to exactly one SLA.
    for t in &types {
        assert_eq!(
            ws.workflows.iter().filter(|w| w.spec.routes(t)).count(),
            1,
            "{t}"
        );
        assert_eq!(
            ws.slas
                .iter()
                .filter(|s| s.spec.applies_to.iter().any(|x| x == t))
                .count(),
            1,
            "{t}"
        );
    }
    // Every assignee of every workflow exists in the demo roster.
    let roster = roster();
    for w in &ws.workflows {
        for task in &w.spec.tasks {
            assert!(
                !roster.candidates(&task.assignee).is_empty(),
                "{}: nobody is {}",
                task.id,
                task.assignee
            );
        }
    }
    // Policies compile to Cedar.
    ApprovalPolicies::compile(&ws.policies).unwrap();
}

fn machine(t: &RequestTypeSpec) -> StateMachineSpec {
    t.states.clone().unwrap_or_default()
}

/// Shortest path of states from the initial state to `goal`.
fn path_to(m: &StateMachineSpec, goal: &str) -> Option<Vec<String>> {
    let mut prev: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = VecDeque::from([m.initial.clone()]);
    let mut seen = BTreeSet::from([m.initial.clone()]);
    while let Some(s) = queue.pop_front() {
        if s == goal {
            let mut path = vec![s.clone()];
            let mut cur = s;
            while let Some(p) = prev.get(&cur) {
                path.push(p.clone());
                cur = p.clone();
            }
            path.reverse();
            return Some(path);
        }
        for next in m.allowed_from(&s) {
            if seen.insert(next.to_owned()) {
                prev.insert(next.to_owned(), s.clone());
                queue.push_back(next.to_owned());
            }
        }
    }
    None
}

#[test]
fn state_machines_of_every_shipped_type() {
    let ws = workspace();
    let now: DateTime<Utc> = "2026-03-20T10:00:00Z".parse().unwrap();
    let everyone = Actor {
        id: "ops".into(),
        roles: vec!["approver".into(), "triage".into(), "analyst".into()],
    };
    let nobody = Actor {
        id: "guest".into(),
        roles: vec![],
    };
    for t in &ws.request_types {
        let m = machine(&t.spec);
        let name = &t.metadata.name;
        assert_eq!(m.validate("spec.states"), vec![], "{name}");
        // Every pair of states: allowed exactly when declared.
        for from in &m.states {
            for to in &m.states {
                let declared = m
                    .transitions
                    .iter()
                    .any(|x| &x.to == to && x.from.contains(from));
                let result = m.transition(from, to, &everyone, Some("because"), now);
                assert_eq!(result.is_ok(), declared, "{name}: {from} → {to}");
                if let Err(e) = result {
                    let allowed = m.allowed_from(from);
                    assert!(
                        matches!(e, keel_work::states::TransitionRefused::Illegal { allowed: ref a, .. } if a == &allowed),
                        "{name}: {e}"
                    );
                }
            }
        }
        // The happy path reaches done and replays with actor and reason recorded.
        let path = path_to(&m, "done").unwrap_or_else(|| panic!("{name}: done unreachable"));
        let history = m
            .replay(
                path.iter()
                    .skip(1)
                    .map(|s| (s.as_str(), &everyone, Some("demo"), now)),
            )
            .unwrap();
        assert_eq!(
            history.last().map(|t| t.to.as_str()),
            Some("done"),
            "{name}"
        );
        assert!(
            history
                .iter()
                .all(|t| t.actor == "ops" && t.reason.as_deref() == Some("demo"))
        );
        // Approving needs the approver role; terminal states have no way out.
        let review = if m.states.iter().any(|s| s == "in_review") {
            "in_review"
        } else {
            continue;
        };
        assert!(
            m.transition(review, "approved", &nobody, None, now)
                .is_err(),
            "{name}"
        );
        for term in &m.terminal {
            assert!(m.allowed_from(term).is_empty(), "{name}: {term}");
        }
        // A rework loop exists: from changes_requested the request can be submitted again.
        assert!(
            path_to(
                &StateMachineSpec {
                    initial: "changes_requested".into(),
                    ..m.clone()
                },
                "submitted"
            )
            .is_some(),
            "{name}"
        );
    }
}

#[test]
fn demo_submissions_pass_intake_and_policies_decide_the_routine() {
    let ws = workspace();
    let today = NaiveDate::from_ymd_opt(2026, 3, 20);
    let ctx = IntakeContext {
        today,
        ..Default::default()
    };
    let policies = ApprovalPolicies::compile(&ws.policies).unwrap();
    let expected = [
        (
            "campaign_brief",
            "campaign-approvals/paid-media-finance",
            "require_approval",
        ),
        (
            "email_send",
            "campaign-approvals/routine-email",
            "auto_approve",
        ),
        (
            "data_pull",
            "data-pulls/personal-data-list",
            "require_approval",
        ),
        (
            "new_tool_request",
            "tool-purchases/personal-data",
            "require_approval",
        ),
    ];
    for (ty, rule, outcome) in expected {
        let spec = request_type(&ws, ty);
        let s = submission(ty);
        assert_eq!(spec.check_submission(&s, &ctx), vec![], "{ty}");
        let facts = spec.facts(ty, &s, None, "clara", &["marketer".into()]);
        let d = policies.decide(&format!("demo-{ty}"), &facts).unwrap();
        let got = format!(
            "{}/{}",
            d.policy.unwrap_or_default(),
            d.rule.unwrap_or_default()
        );
        assert_eq!((got.as_str(), d.outcome.word()), (rule, outcome), "{ty}");
    }
    // An incomplete brief is turned away with every missing item named.
    let problems = request_type(&ws, "campaign_brief")
        .check_submission(&serde_json::json!({"name": "Spring"}), &ctx);
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "campaign_code",
            "audience",
            "goals",
            "success_metrics",
            "brand_constraints",
            "technical_requirements",
            "channels",
            "launch_date",
            "budget",
            "region",
            "owner"
        ]
    );
}

#[test]
fn campaign_brief_end_to_end() {
    let ws = workspace();
    let cal = calendar(&ws, "emea-office");
    let roster = roster();
    let spec = request_type(&ws, "campaign_brief");
    let s = submission("campaign_brief");
    let facts = spec.facts(
        "campaign_brief",
        &s,
        Some("high"),
        "clara",
        &["campaign-manager".into()],
    );

    // Routing: email + paid social + gated asset + landing page.
    let workflow = &ws
        .workflows
        .iter()
        .find(|w| w.spec.routes("campaign_brief"))
        .unwrap()
        .spec;
    let plan = workflow.expand(&facts);
    let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "kickoff",
            "copy",
            "design",
            "legal_review",
            "landing_page_build",
            "email_build",
            "analytics_setup",
            "paid_media_setup",
            "qa",
            "deliverability_check",
            "launch_readiness"
        ]
    );

    // Scheduling from the Monday after approval, with the campaign calendar's blackouts.
    let rules = &ws.rules[0].spec;
    let start = NaiveDate::from_ymd_opt(2026, 3, 23).unwrap();
    let requested = NaiveDate::from_ymd_opt(2026, 4, 27);
    let sched = schedule(&ScheduleInput {
        plan: &plan,
        calendar: &cal,
        roster: &roster,
        earliest_start: start,
        blackouts: &rules.blackouts,
        existing: &[],
        requested_launch: requested,
    })
    .unwrap();
    // Good Friday and Easter Monday stretch the paid media set-up; launch readiness is done on
    // Thursday 9 April, so the launch is Friday 10 April, 11 working days before the request.
    assert_eq!(
        sched.launch,
        NaiveDate::from_ymd_opt(2026, 4, 10).unwrap(),
        "{:#?}",
        sched.explanation
    );
    assert_eq!(
        sched.critical_path.first().map(String::as_str),
        Some("kickoff")
    );
    assert_eq!(
        sched.critical_path.last().map(String::as_str),
        Some("launch_readiness")
    );
    assert_eq!(
        sched.requested_feasible,
        Some(true),
        "{:#?}",
        sched.explanation
    );
    assert!(sched.explanation[0].starts_with("Earliest feasible launch: "));
    // Every task starts after its dependencies finish and is done by someone with the role.
    for t in &sched.tasks {
        let planned = plan.tasks.iter().find(|p| p.id == t.id).unwrap();
        for d in &planned.depends_on {
            let dep = sched.tasks.iter().find(|x| &x.id == d).unwrap();
            assert!(
                dep.finish < t.start,
                "{} starts before {} finishes",
                t.id,
                d
            );
        }
        let person = roster.person(&t.person).unwrap();
        assert!(
            roster
                .candidates(&planned.assignee)
                .iter()
                .any(|p| p.id == person.id)
        );
    }
    // Capacity with the new bookings: utilisation is computed for every person and team.
    let loads = utilisation(&roster, &cal, &sched.bookings, start, 6);
    assert!(loads.iter().any(|l| l.who == "team:creative"));
    let _ = over_allocation_warnings(&loads);

    // SLA clocks on the EMEA calendar for a brief submitted on Friday afternoon.
    let sla = &ws
        .slas
        .iter()
        .find(|s| s.metadata.name == "campaign-sla")
        .unwrap()
        .spec;
    let path = &ws.paths[0].spec;
    let events = vec![
        StatusEvent {
            at: "2026-03-20T14:00:00Z".parse().unwrap(),
            status: "submitted".into(),
        },
        StatusEvent {
            at: "2026-03-23T09:30:00Z".parse().unwrap(),
            status: "in_review".into(),
        },
    ];
    let reports = evaluate(
        sla,
        &cal,
        "high",
        &events,
        Some(path),
        "2026-03-23T10:00:00Z".parse().unwrap(),
    )
    .unwrap();
    // Friday 15:00-16:00 Berlin, Monday 09:00-10:30 Berlin: 2h30m of a 2h triage target.
    assert_eq!(
        reports[0].summary(),
        "triage: breached, 2h30m of 2h used, 30m over"
    );
    assert_eq!(reports[1].summary(), "approval: ok, 3h of 8h used, 5h left");
    assert_eq!(
        reports[0]
            .escalations_due
            .iter()
            .map(|e| e.level)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        reports[0].escalations_due[1].notify[0],
        Party::Role("mops-lead".into())
    );

    // The decision record of the policy names the deciding facts.
    let d = ApprovalPolicies::compile(&ws.policies)
        .unwrap()
        .decide("demo", &facts)
        .unwrap();
    assert!(matches!(d.outcome, Outcome::RequireApproval { .. }));
    assert_eq!(
        d.facts.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["budget", "channels", "request_type"]
    );
}

#[test]
fn the_work_documents_round_trip_through_export_and_storage() {
    use keel_manifests::{Layout, export, load, plan};
    let registry = keel_work::registry();
    let files = keel_manifests::fs::read_tree(&examples()).unwrap();
    let loaded = load(&files, &registry);
    assert!(!loaded.has_errors());
    let documents = loaded.documents();
    assert_eq!(documents.len(), 23);
    // Exported and read back, nothing changes.
    for layout in [Layout::FilePerKind, Layout::FilePerObject] {
        let exported = export(&registry, &documents, layout).unwrap();
        let reloaded = load(&exported, &registry);
        let problems: Vec<String> = reloaded.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(problems, Vec::<String>::new());
        assert!(plan(&documents, &reloaded.documents()).is_empty());
    }
    // Stored documents give the same work documents as the files, and back.
    let from_files = WorkDocuments::from_loaded(&loaded);
    let stored = WorkDocuments::from_documents(&documents).unwrap();
    assert_eq!(stored.request_types, from_files.request_types);
    assert_eq!(stored.policies, from_files.policies);
    assert_eq!(stored.slas, from_files.slas);
    let title = stored
        .calendars
        .iter()
        .find(|c| c.metadata.name == "emea-office")
        .and_then(|c| c.metadata.title.clone());
    assert_eq!(title.as_deref(), Some("EMEA marketing office (Berlin)"));
    let mut again = stored.to_documents().unwrap();
    let mut expected = documents.clone();
    again.sort_by_key(|d| d.object_ref());
    expected.sort_by_key(|d| d.object_ref());
    assert_eq!(again, expected);
    // The checks across documents run on stored documents too.
    assert_eq!(stored.check(), Vec::new());
}
