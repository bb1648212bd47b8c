//! Lead scoring with decay and explanations, MQL crossing, and segments over scores and events.

use chrono::{DateTime, Duration, TimeZone, Utc};
use keel_contacts::lifecycle::Stage;
use keel_contacts::scoring::{
    Crossing, Event, ScoringModel, should_become_mql, threshold_crossing,
};
use keel_contacts::segment::{Segment, Subject};
use keel_contacts::{FieldValue, Lineage, ObjectKind, Record};

const MODEL: &str = include_str!("../contracts/lead-scoring.yaml");

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn lead(id: &str, fields: &[(&str, FieldValue)]) -> Record {
    let mut r = Record::new(id, ObjectKind::Contact, "hubspot", now());
    for (k, v) in fields {
        r.set(
            *k,
            v.clone(),
            Lineage {
                system: "hubspot".into(),
                source: "t".into(),
                at: now(),
            },
        );
    }
    r
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

fn ev(kind: &str, days_ago: i64) -> Event {
    Event {
        kind: kind.into(),
        at: now() - Duration::days(days_ago),
    }
}

#[test]
fn shipped_model_is_valid() {
    let m = ScoringModel::from_yaml(MODEL).unwrap();
    assert_eq!(m.validate(), vec![]);
}

#[test]
fn fit_engagement_decay_and_explanation() {
    let m = ScoringModel::from_yaml(MODEL).unwrap();
    let r = lead(
        "c1",
        &[
            ("title", text("Director of Demand Gen")),
            ("employees", FieldValue::Integer(500)),
            ("country", text("DE")),
            ("email", text("ann@acme.de")),
        ],
    );
    let events = vec![
        ev("demo_requested", 0),    // 40
        ev("webinar_attended", 30), // 15 × 0.5 = 7.5
        ev("webinar_attended", 60), // 15 × 0.25 = 3.75
        ev("email_click", 0),
        ev("email_click", 0),
        ev("email_click", 0),
        ev("email_click", 0),
        ev("email_click", 0),
        ev("email_click", 0), // 18, capped at 15
        Event {
            kind: "demo_requested".into(),
            at: now() + Duration::days(1),
        }, // future: ignored
    ];
    let s = m.score(&r, &events, now());
    assert_eq!(s.fit, 45.0);
    assert!(
        (s.engagement - (40.0 + 11.25 + 15.0)).abs() < 1e-9,
        "{}",
        s.engagement
    );
    assert!((s.total - 111.25).abs() < 1e-9);
    let lines: Vec<(String, String)> = s
        .lines
        .iter()
        .map(|l| (l.rule.clone(), l.detail.clone()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("senior title".to_string(), "attribute matches".to_string()),
            ("mid-size or larger".into(), "attribute matches".into()),
            ("target country".into(), "attribute matches".into()),
            ("demo request".into(), "1 event(s), 40 before decay".into()),
            ("webinar".into(), "2 event(s), 30 before decay".into()),
            (
                "email click".into(),
                "6 event(s), 18 before decay, capped at 15".into()
            ),
        ]
    );
    assert!(should_become_mql(&m, Stage::Lead, &s));
    assert!(!should_become_mql(&m, Stage::Customer, &s));
}

#[test]
fn penalties_and_decay_below_threshold() {
    let m = ScoringModel::from_yaml(MODEL).unwrap();
    let student = lead(
        "c2",
        &[("email", text("kid@school.edu")), ("country", text("US"))],
    );
    let fresh = m.score(
        &student,
        &[ev("demo_requested", 0), ev("webinar_attended", 0)],
        now(),
    );
    assert_eq!(fresh.total, -15.0 + 10.0 + 40.0 + 15.0);
    let later = now() + Duration::days(60);
    let old = m.score(
        &student,
        &[ev("demo_requested", 0), ev("webinar_attended", 0)],
        later,
    );
    assert!((old.total - (-5.0 + 55.0 / 4.0)).abs() < 1e-9);
    assert_eq!(
        threshold_crossing(fresh.total, old.total, 40.0),
        Some(Crossing::Down)
    );
    assert_eq!(
        threshold_crossing(old.total, fresh.total, 40.0),
        Some(Crossing::Up)
    );
    assert_eq!(threshold_crossing(10.0, 20.0, 40.0), None);
    assert_eq!(threshold_crossing(40.0, 41.0, 40.0), None);
}

#[test]
fn model_problems_have_paths() {
    let bad = ScoringModel::from_yaml(
        "apiVersion: keel/v1\nkind: ScoringModel\nmetadata: {name: x}\nspec:\n  half_life_days: 0\n  mql_threshold: 50\n  fit:\n    - name: a\n      when: {score: {kind: total, op: gt, value: 1}}\n      points: 1\n    - name: a\n      when: {all: []}\n      points: 1\n  engagement:\n    - {name: b, event: '', points: 1, cap: -1}\n",
    )
    .unwrap();
    let paths: Vec<String> = bad.validate().into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        vec![
            "spec.half_life_days",
            "spec.fit[0].when",
            "spec.fit[1].name",
            "spec.fit[1].when.all",
            "spec.engagement[0].event",
            "spec.engagement[0].cap",
        ]
    );
}

#[test]
fn segment_over_fields_stage_scores_and_events() {
    let seg = Segment::from_yaml(
        r#"apiVersion: keel/v1
kind: Segment
metadata: {name: hot-emea-leads}
spec:
  object: contact
  filter:
    all:
      - field: {name: country, op: in, value: [DE, FR, GB]}
      - stage: {in: [lead, mql]}
      - score: {kind: total, op: gte, value: 50}
      - events: {event: webinar_attended, within_days: 90, op: gte, count: 1}
      - not:
          field: {name: email_opt_out, op: eq, value: true}
"#,
    )
    .unwrap();
    assert_eq!(seg.validate(), vec![]);
    let m = ScoringModel::from_yaml(MODEL).unwrap();
    let de = lead(
        "c1",
        &[("country", text("DE")), ("title", text("VP Marketing"))],
    );
    let opted_out = lead(
        "c2",
        &[
            ("country", text("DE")),
            ("title", text("VP Marketing")),
            ("email_opt_out", FieldValue::Boolean(true)),
        ],
    );
    let us = lead(
        "c3",
        &[("country", text("US")), ("title", text("VP Marketing"))],
    );
    let events = vec![ev("webinar_attended", 10), ev("demo_requested", 1)];
    let old_events = vec![ev("webinar_attended", 120), ev("demo_requested", 1)];
    let (s1, s2, s3, s4) = (
        m.score(&de, &events, now()),
        m.score(&opted_out, &events, now()),
        m.score(&us, &events, now()),
        m.score(&de, &old_events, now()),
    );
    let subjects = vec![
        Subject {
            record: &de,
            stage: Some(Stage::Mql),
            score: Some(&s1),
            events: &events,
        },
        Subject {
            record: &opted_out,
            stage: Some(Stage::Mql),
            score: Some(&s2),
            events: &events,
        },
        Subject {
            record: &us,
            stage: Some(Stage::Mql),
            score: Some(&s3),
            events: &events,
        },
        Subject {
            record: &de,
            stage: Some(Stage::Customer),
            score: Some(&s1),
            events: &events,
        },
        Subject {
            record: &de,
            stage: Some(Stage::Lead),
            score: Some(&s4),
            events: &old_events,
        },
        Subject {
            record: &de,
            stage: Some(Stage::Lead),
            score: None,
            events: &events,
        },
    ];
    let members: Vec<usize> = seg
        .members(&subjects, now())
        .iter()
        .map(|s| {
            subjects
                .iter()
                .position(|x| std::ptr::eq(x, *s))
                .unwrap_or(99)
        })
        .collect();
    assert_eq!(members, vec![0]);

    // The definition survives a round trip through YAML and JSON unchanged.
    let json = serde_json::to_string(&seg).unwrap();
    let back: Segment = serde_json::from_str(&json).unwrap();
    assert_eq!(back, seg);
}

#[test]
fn segment_problems() {
    let seg = Segment::from_yaml(
        "apiVersion: keel/v1\nkind: Segment\nmetadata: {name: s}\nspec:\n  object: contact\n  filter:\n    any:\n      - field: {name: a, op: in, value: x}\n      - field: {name: b, op: is_set, value: 1}\n      - events: {event: e, within_days: 0, op: contains, count: 1}\n",
    )
    .unwrap();
    let paths: Vec<String> = seg.validate().into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        vec![
            "spec.filter.any[0].field.value",
            "spec.filter.any[1].field.value",
            "spec.filter.any[2].events.op",
            "spec.filter.any[2].events.within_days",
        ]
    );
}
