//! Attribution storage on both databases: imports with quarantine, idempotent re-import, results.
//!
//! PostgreSQL is taken from `KEEL_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it cannot be reached the PostgreSQL half is skipped with a message — unless `CI=true`, where
//! skipping would hide a broken backend, so the test fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use keel_attribution::imports::{self, AdLayout};
use keel_store::attribution::{self as attr, StoredCredit};
use keel_store::{Actor, Store};

const GOOGLE: &str = "Campaign report\n\"December 1, 2026 - December 3, 2026\"\n\
Day,Campaign,Impr.,Clicks,Cost,Currency code\n\
2026-12-01,spring-sale,\"1,200\",40,\"1,034.50\",USD\n\
2026-12-02,spring-sale,900,30,80.1,USD\n\
2026-12-02,brand,300,12,20,USD\n\
2026-13-02,,x,30,-5,USD\n\
2026-12-03,brand,10,20,1.234,USD\n\
Total: Account,,2400,102,1134.60,USD\n";

const CRM: &str = "Opportunity ID,Account,Contact Email,Amount,Stage,Close Date\n\
o1,Acme,ann@acme.test,1200.00,Closed Won,2026-11-30\n\
o2,Acme,bob@acme,50,Prospecting,\n\
o1,Beta,c@beta.test,10,Closed Lost,2026-11-01\n\
o3,Gamma,,abc,Closed Won,\n\
o4,Delta,d@delta.test,99.5,Negotiation,\n";

async fn imports_with_quarantine_are_idempotent(store: Store) {
    let actor = Actor::System("test");
    let parsed = imports::parse_ad_costs(GOOGLE, AdLayout::GoogleAds, "USD").unwrap();
    let first = attr::import_ad_costs(&store, &actor, AdLayout::GoogleAds, "g.csv", &parsed)
        .await
        .unwrap();
    assert_eq!(
        (
            first.accepted,
            first.inserted,
            first.updated,
            first.unchanged,
            first.quarantined,
            first.skipped
        ),
        (3, 3, 0, 0, 2, 3)
    );
    let again = attr::import_ad_costs(&store, &actor, AdLayout::GoogleAds, "g.csv", &parsed)
        .await
        .unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 3));
    let costs = attr::ad_costs(&store).await.unwrap();
    assert_eq!(costs.len(), 3);
    assert_eq!(costs[0].cost_minor, 103_450);
    // A corrected export updates the one changed row.
    let fixed = GOOGLE.replace(
        "2026-12-02,brand,300,12,20,USD",
        "2026-12-02,brand,300,12,25,USD",
    );
    let parsed = imports::parse_ad_costs(&fixed, AdLayout::GoogleAds, "USD").unwrap();
    let third = attr::import_ad_costs(&store, &actor, AdLayout::GoogleAds, "g.csv", &parsed)
        .await
        .unwrap();
    assert_eq!((third.inserted, third.updated, third.unchanged), (0, 1, 2));
    let q = attr::quarantine(&store, Some("google-ads")).await.unwrap();
    assert_eq!(
        q.len(),
        2,
        "re-import keeps one quarantine entry per bad row"
    );
    assert_eq!(q[0].row_number, 7);
    assert_eq!(q[0].raw, "2026-13-02,,x,30,-5,USD");
    assert_eq!(q[0].reasons.0.len(), 4);

    let parsed = imports::parse_opportunities(CRM, "USD").unwrap();
    let s = attr::import_opportunities(&store, &actor, "crm.csv", &parsed)
        .await
        .unwrap();
    assert_eq!((s.accepted, s.inserted, s.quarantined), (2, 2, 3));
    let s = attr::import_opportunities(&store, &actor, "crm.csv", &parsed)
        .await
        .unwrap();
    assert_eq!((s.inserted, s.unchanged, s.quarantined), (0, 2, 3));
    let opps = attr::opportunities(&store).await.unwrap();
    assert_eq!(opps.len(), 2);
    assert_eq!(opps[0].won, 1);
    assert_eq!(opps[0].contact_email.as_deref(), Some("ann@acme.test"));
    assert_eq!(attr::quarantine(&store, None).await.unwrap().len(), 5);
}
on_both!(attribution_imports, imports_with_quarantine_are_idempotent);

async fn results_replace_the_previous_run(store: Store) {
    let actor = Actor::System("test");
    let credit = |m: &str, ch: &str, camp: Option<&str>, c: f64| StoredCredit {
        model: m.into(),
        channel: ch.into(),
        campaign: camp.map(Into::into),
        conversions: c,
        value: c * 10.0,
    };
    attr::store_results(
        &store,
        &actor,
        serde_json::json!({"conversions": 3}),
        &[credit("linear", "Email", None, 3.0)],
    )
    .await
    .unwrap();
    let run = attr::store_results(
        &store,
        &actor,
        serde_json::json!({"conversions": 2}),
        &[
            credit("linear", "Email", None, 1.5),
            credit("linear", "Email", Some("nl"), 1.5),
            credit("first_touch", "Direct", None, 2.0),
        ],
    )
    .await
    .unwrap();
    assert_eq!(attr::latest_run(&store).await.unwrap().unwrap().id, run.id);
    let linear = attr::results(&store, Some("linear")).await.unwrap();
    assert_eq!(linear.len(), 2);
    assert_eq!(linear[1].campaign.as_deref(), Some("nl"));
    assert_eq!(attr::results(&store, None).await.unwrap().len(), 3);
}
on_both!(attribution_results, results_replace_the_previous_run);

async fn kept_journeys_are_replaced_per_person(store: Store) {
    use keel_attribution::compute::KeptJourney;
    let journey = |person: &str, channel: &str, conversions: f64| KeptJourney {
        person: person.into(),
        channels: vec![channel.into()],
        campaigns: vec![None],
        ages: vec![1.5],
        lead: None,
        conversions,
        value: conversions * 10.0,
        end: "2026-11-01T10:00:00Z".parse().unwrap(),
    };
    let person = |name: &str, emails: &[&str]| attr::KeptPerson {
        person: name.into(),
        untouched_conversions: 1,
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
    };
    let ids = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, p)| ((*k).to_owned(), (*p).to_owned()))
            .collect()
    };
    assert_eq!(attr::last_event_id(&store).await.unwrap(), 0);
    attr::replace_journeys(
        &store,
        attr::Replace::All,
        &ids(&[
            ("u:u1", "user:u1"),
            ("a:a1", "user:u1"),
            ("a:a9", "anonymous:a9"),
        ]),
        &[
            person("user:u1", &["ann@acme.test"]),
            person("anonymous:a9", &[]),
        ],
        &[
            journey("user:u1", "Email", 1.0),
            journey("user:u1", "Direct", 0.0),
            journey("anonymous:a9", "Paid Search", 0.0),
        ],
    )
    .await
    .unwrap();
    // a9 turns out to be u1: both people's rows go, the merged person's come in.
    let removed = attr::replace_journeys(
        &store,
        attr::Replace::PeopleOf(&["a:a9".to_owned(), "u:a9".to_owned()]),
        &ids(&[
            ("u:u1", "user:u1"),
            ("a:a1", "user:u1"),
            ("a:a9", "user:u1"),
        ]),
        &[person("user:u1", &["ann@acme.test"])],
        &[
            journey("user:u1", "Email", 1.0),
            journey("user:u1", "Paid Search", 0.0),
        ],
    )
    .await
    .unwrap();
    assert_eq!(removed, 3);
    let kept = attr::kept_journeys(&store).await.unwrap();
    let channels: Vec<&str> = kept.iter().map(|j| j.channels[0].as_str()).collect();
    assert_eq!(channels, ["Email", "Paid Search"]);
    assert_eq!(kept[0], journey("user:u1", "Email", 1.0));
    let people = attr::kept_people(&store).await.unwrap();
    assert_eq!(people, [person("user:u1", &["ann@acme.test"])]);
}
on_both!(
    attribution_kept_journeys,
    kept_journeys_are_replaced_per_person
);
