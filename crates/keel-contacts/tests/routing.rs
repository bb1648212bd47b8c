//! Routing leads to sales and aggregating sales feedback into a lead-quality report.

use chrono::{TimeZone, Utc};
use keel_contacts::routing::{
    LeadFeedback, Rep, RoutingPolicy, RoutingState, Territory, lead_quality_report, route,
};
use keel_contacts::{ContactsError, FieldValue, Lineage, ObjectKind, Record};

fn lead(id: &str, country: &str, state: &str) -> Record {
    let at = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut r = Record::new(id, ObjectKind::Contact, "web_form", at);
    let lin = Lineage {
        system: "web_form".into(),
        source: "demo".into(),
        at,
    };
    r.set("country", FieldValue::Text(country.into()), lin.clone());
    if !state.is_empty() {
        r.set("state", FieldValue::Text(state.into()), lin);
    }
    r
}

fn rep(id: &str, available: bool) -> Rep {
    Rep {
        id: id.into(),
        available,
    }
}

#[test]
fn round_robin_skips_unavailable_reps() {
    let policy = RoutingPolicy {
        reps: vec![rep("amy", true), rep("ben", false), rep("cat", true)],
        territories: vec![],
        account_owner_first: false,
    };
    let mut state = RoutingState::default();
    let mut got = Vec::new();
    for i in 0..5 {
        let (a, next) = route(&lead(&format!("l{i}"), "US", ""), None, &policy, &state).unwrap();
        got.push(a.rep);
        state = next;
    }
    assert_eq!(got, vec!["amy", "cat", "amy", "cat", "amy"]);
}

#[test]
fn territory_then_fallback_and_account_owner() {
    let policy = RoutingPolicy {
        reps: vec![
            rep("amy", true),
            rep("ben", true),
            rep("cat", true),
            rep("dan", true),
        ],
        territories: vec![
            Territory {
                name: "west".into(),
                countries: vec!["US".into()],
                states: vec!["CA".into(), "WA".into()],
                reps: vec!["ben".into()],
            },
            Territory {
                name: "dach".into(),
                countries: vec!["DE".into(), "AT".into(), "CH".into()],
                states: vec![],
                reps: vec!["cat".into(), "dan".into()],
            },
        ],
        account_owner_first: true,
    };
    let s = RoutingState::default();
    let (a, _) = route(&lead("1", "US", "ca"), None, &policy, &s).unwrap();
    assert_eq!(
        (a.rep.as_str(), a.reason.as_str()),
        ("ben", "territory west")
    );
    let (a, s2) = route(&lead("2", "AT", ""), None, &policy, &s).unwrap();
    assert_eq!(a.rep, "cat");
    let (a, _) = route(&lead("3", "CH", ""), None, &policy, &s2).unwrap();
    assert_eq!(a.rep, "dan");
    let (a, _) = route(&lead("4", "US", "NY"), None, &policy, &s).unwrap();
    assert_eq!((a.rep.as_str(), a.reason.as_str()), ("amy", "round robin"));
    let (a, s3) = route(&lead("5", "DE", ""), Some("amy"), &policy, &s).unwrap();
    assert_eq!(
        (a.rep.as_str(), a.reason.as_str()),
        ("amy", "owner of the lead's account")
    );
    assert_eq!(s3, s, "owner routing does not move the round robin");
    // An owner who is not an available rep falls through to the territory.
    let (a, _) = route(&lead("6", "DE", ""), Some("zed"), &policy, &s).unwrap();
    assert_eq!(a.rep, "cat");
}

#[test]
fn nobody_available_is_an_error() {
    let policy = RoutingPolicy {
        reps: vec![rep("amy", false)],
        territories: vec![],
        account_owner_first: false,
    };
    let err = route(
        &lead("l1", "US", ""),
        None,
        &policy,
        &RoutingState::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ContactsError::NoRep(ref id) if id == "l1"));
}

#[test]
fn lead_quality_by_source() {
    let fb = |source: &str, accepted: bool, reason: Option<&str>| LeadFeedback {
        lead_id: "x".into(),
        source: source.into(),
        accepted,
        reason: reason.map(String::from),
    };
    let report = lead_quality_report(&[
        fb("webinar", true, None),
        fb("webinar", true, None),
        fb("webinar", false, Some("No budget")),
        fb("purchased list", false, Some("bad contact data")),
        fb("purchased list", false, Some("Bad contact data ")),
        fb("purchased list", true, None),
        fb("purchased list", false, None),
    ]);
    let summary: Vec<(&str, usize, usize, f64)> = report
        .iter()
        .map(|q| (q.source.as_str(), q.total, q.rejected, q.acceptance_rate))
        .collect();
    assert_eq!(
        summary,
        vec![("purchased list", 4, 3, 0.25), ("webinar", 3, 1, 2.0 / 3.0)]
    );
    assert_eq!(report[0].rejection_reasons["bad contact data"], 2);
    assert_eq!(report[0].rejection_reasons["unspecified"], 1);
}
