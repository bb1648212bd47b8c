//! The demo company's stack (`examples/ops`) loads cleanly and shows the problems it was built
//! to show: an orphaned tool, overlaps, a renewal due soon, an undocumented integration and a
//! PII tool without a DPA.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use chrono::NaiveDate;
use keel_catalog::impact::{Graph, Node};
use keel_catalog::{Catalog, audit, registry, renewal, scorecard};
use keel_manifests::{Layout, export, load, plan};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn example() -> (keel_manifests::Loaded, Catalog) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ops");
    let mut files = keel_manifests::fs::read_tree(&dir).unwrap();
    // `work/`, `privacy/`, `quality/` and `channel-rules.yaml` hold kinds registered by keel-work,
    // keel-consent, keel-checks and keel-attribution, which this crate's registry does not know; the full registry checks them.
    files.retain(|f| {
        let path = f.path.replace('\\', "/");
        !path.contains("ops/work/")
            && !path.contains("ops/privacy/")
            && !path.contains("ops/quality/")
            && !path.ends_with("channel-rules.yaml")
    });
    let loaded = load(&files, &registry());
    let catalog = Catalog::from_loaded(&loaded);
    (loaded, catalog)
}

#[test]
fn the_example_stack_checks_clean() {
    let (loaded, catalog) = example();
    let problems: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(catalog.tools.len() >= 40, "{} tools", catalog.tools.len());
    assert!(catalog.integrations.len() >= 10);
}

#[test]
fn the_deliberate_problems_are_found() {
    let (_, catalog) = example();
    let orphans: Vec<String> = audit::tools_without_active_owners(&catalog)
        .into_iter()
        .map(|g| g.tool)
        .collect();
    assert!(
        orphans.contains(&"email-on-acid".to_string()),
        "{orphans:?}"
    );
    assert!(orphans.contains(&"instapage".to_string()), "{orphans:?}");

    let overlaps = audit::capability_overlaps(&catalog, today());
    let map = overlaps
        .iter()
        .find(|o| o.tools.contains(&"marketo".to_string()))
        .expect("marketing automation overlap");
    assert!(map.tools.contains(&"hubspot".to_string()));
    assert!(map.annual_saving.values().sum::<i64>() > 0);

    let due = audit::renewals_due(&catalog, today(), 30);
    assert_eq!(
        due.iter().map(|d| d.contract.as_str()).collect::<Vec<_>>(),
        vec!["workato-2026"]
    );

    let flows = audit::flows_without_owner_or_docs(&catalog);
    assert!(
        flows
            .iter()
            .any(|f| f.object.name == "unbounce-marketo" && f.no_owner && f.no_docs)
    );

    let dpa: Vec<String> = audit::pii_without_dpa(&catalog, today())
        .into_iter()
        .map(|g| g.tool)
        .collect();
    assert_eq!(dpa, vec!["zoominfo"]);

    let seats = audit::seat_usage(&catalog, today());
    let monday = seats.iter().find(|s| s.tool == "monday").unwrap();
    assert_eq!((monday.bought, monday.active, monday.unused), (50, 9, 41));

    let reminders = renewal::reminders(&catalog, today());
    assert_eq!(
        reminders.first().map(|r| (r.contract.as_str(), r.stage)),
        Some(("workato-2026", 30))
    );
}

#[test]
fn scorecards_separate_ready_tools_from_the_rest() {
    let (_, catalog) = example();
    let cards = scorecard::scorecards(&catalog, today());
    let card = |name: &str| cards.iter().find(|c| c.tool == name).unwrap();
    for ready in ["salesforce", "marketo", "snowflake", "segment", "onetrust"] {
        let c = card(ready);
        assert!(
            c.ready(),
            "{ready}: {:#?}",
            c.results.iter().filter(|r| !r.passed).collect::<Vec<_>>()
        );
    }
    let orphan = card("email-on-acid");
    assert!(orphan.score() <= 1, "{orphan:#?}");
    assert!(!orphan.results[0].passed);
}

#[test]
fn impact_of_a_salesforce_field_reaches_the_cmo_dashboard() {
    let (_, catalog) = example();
    let graph = Graph::build(&catalog);
    let found = graph.downstream(&Node::parse("salesforce.Opportunity.Amount"));
    let hit = found
        .iter()
        .find(|i| i.node == Node::Dashboard("pipeline-by-channel".into()))
        .expect("dashboard reached");
    assert_eq!(hit.path.len(), 4, "{:?}", hit.path);
    let from_workato: Vec<String> = graph
        .downstream(&Node::Tool("workato".into()))
        .iter()
        .map(|i| i.node.to_string())
        .collect();
    assert!(from_workato.contains(&"automation:consent-propagation".to_string()));
    assert!(from_workato.contains(&"field:sfmc.Subscriber.Status".to_string()));
}

#[test]
fn export_then_load_plans_nothing() {
    let (loaded, _) = example();
    let registry = registry();
    let current = loaded.documents();
    for layout in [Layout::FilePerKind, Layout::FilePerObject] {
        let files = export(&registry, &current, layout).unwrap();
        let reloaded = load(&files, &registry);
        let problems: Vec<String> = reloaded
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(problems.is_empty(), "{problems:#?}");
        let p = plan(&current, &reloaded.documents());
        assert!(p.is_empty(), "{p}");
        // Export is stable: the same state gives the same bytes.
        assert_eq!(
            files,
            export(&registry, &reloaded.documents(), layout).unwrap()
        );
    }
}
