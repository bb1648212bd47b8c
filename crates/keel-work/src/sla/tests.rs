use super::*;
use keel_calendar::{BusinessCalendarSpec, WeekHours};

fn cal() -> Calendar {
    let day = vec!["09:00-17:00".to_owned()];
    BusinessCalendarSpec {
        timezone: "UTC".into(),
        hours: WeekHours {
            monday: day.clone(),
            tuesday: day.clone(),
            wednesday: day.clone(),
            thursday: day.clone(),
            friday: day,
            ..WeekHours::default()
        },
        holidays: vec![],
    }
    .compile()
    .unwrap()
}

fn sla() -> SlaSpec {
    serde_saphyr::from_str(
        r#"
applies_to: [campaign_brief]
calendar: emea-office
pause_when: [changes_requested, rework]
warn_at_percent: 75
escalation: standard
clocks:
  - name: triage
    starts_on: [submitted]
    stops_on: [in_review, rejected, cancelled]
    targets: {normal: 4h, urgent: 1h}
  - name: approval
    starts_on: [submitted]
    stops_on: [approved, rejected, cancelled]
    targets: {normal: 16h}
"#,
    )
    .unwrap()
}

fn path() -> EscalationPathSpec {
    serde_saphyr::from_str(
        r#"
levels:
  - {level: 1, notify: ["role:mops-lead"], at_percent: 75}
  - {level: 2, notify: ["role:head-of-marketing"], after_breach: 0h}
  - {level: 3, notify: ["role:cmo"], after_breach: 8h}
"#,
    )
    .unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    format!("2026-03-{s}:00Z").parse().unwrap()
}

fn ev(s: &str, status: &str) -> StatusEvent {
    StatusEvent {
        at: at(s),
        status: status.into(),
    }
}

/// Monday 2 March to Thursday 5 March 2026, with a rework loop.
fn history() -> Vec<StatusEvent> {
    vec![
        ev("02T09:00", "submitted"),
        ev("02T12:00", "in_review"),
        ev("03T10:00", "changes_requested"),
        ev("04T10:00", "rework"),
        ev("04T11:00", "submitted"),
        ev("04T12:00", "in_review"),
        ev("05T15:00", "approved"),
    ]
}

fn h(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

#[test]
fn definitions_validate() {
    assert_eq!(sla().validate(), vec![]);
    assert_eq!(path().validate(), vec![]);
    let mut bad = sla();
    bad.clocks[0].targets.insert("asap".into(), "2 days".into());
    bad.clocks[1].stops_on.push("rework".into());
    bad.warn_at_percent = 100;
    let paths: Vec<_> = bad.validate().into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        vec![
            "spec.warn_at_percent",
            "spec.clocks[0].targets.asap",
            "spec.clocks[0].targets.asap",
            "spec.clocks[1].stops_on[3]"
        ]
    );
    let mut bad = path();
    bad.levels[1].level = 3;
    bad.levels[2].after_breach = Some("0h".into());
    bad.levels[0].after_breach = Some("1h".into());
    let paths: Vec<_> = bad.validate().into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        vec![
            "spec.levels[0]",
            "spec.levels[1].level",
            "spec.levels[2].after_breach"
        ]
    );
}

#[test]
fn clocks_from_a_finished_history() {
    let reports = evaluate(
        &sla(),
        &cal(),
        "normal",
        &history(),
        Some(&path()),
        at("09T09:00"),
    )
    .unwrap();
    let triage = &reports[0];
    assert_eq!(
        (triage.state, triage.status, triage.elapsed),
        (ClockState::Stopped, SlaStatus::Ok, h(3))
    );
    assert_eq!(triage.summary(), "triage: ok, 3h of 4h used, 1h left");
    let approval = &reports[1];
    // Running: Mon 9-12 (3h) + in review to Tue 10 (6h) + Wed 11-12 (1h) + Wed 12 to Thu 15 (11h).
    // Paused while changes were requested and reworked: Tue 10 to Wed 11 (9h).
    assert_eq!(
        (approval.state, approval.status),
        (ClockState::Stopped, SlaStatus::Breached)
    );
    assert_eq!(
        (approval.elapsed, approval.paused, approval.remaining),
        (h(21), h(9), h(-5))
    );
    assert_eq!(approval.breach_at, Some(at("05T10:00")));
    assert_eq!(approval.warn_at, Some(at("04T14:00")));
    let due: Vec<(&str, DateTime<Utc>)> = approval
        .escalations_due
        .iter()
        .map(|e| (e.key.as_str(), e.due_at))
        .collect();
    assert_eq!(
        due,
        vec![
            ("approval:1", at("04T14:00")),
            ("approval:2", at("05T10:00"))
        ]
    );
    assert_eq!(approval.next_check, None);
}

#[test]
fn a_running_clock_projects_warning_breach_and_next_check() {
    let events: Vec<StatusEvent> = history().into_iter().take(2).collect();
    let reports = evaluate(
        &sla(),
        &cal(),
        "normal",
        &events,
        Some(&path()),
        at("03T09:30"),
    )
    .unwrap();
    let approval = &reports[1];
    assert_eq!(
        (approval.state, approval.status),
        (ClockState::Running, SlaStatus::Ok)
    );
    assert_eq!(approval.elapsed, TimeDelta::minutes(8 * 60 + 30));
    assert_eq!(approval.warn_at, Some(at("03T13:00")));
    assert_eq!(approval.breach_at, Some(at("03T17:00")));
    assert_eq!(approval.next_check, Some(at("03T13:00")));
    assert!(approval.escalations_due.is_empty());

    // Later the same day, past the warning threshold: level 1 is due.
    let reports = evaluate(
        &sla(),
        &cal(),
        "normal",
        &events,
        Some(&path()),
        at("03T14:00"),
    )
    .unwrap();
    assert_eq!(reports[1].status, SlaStatus::Warning);
    assert_eq!(reports[1].escalations_due.len(), 1);
    assert_eq!(reports[1].next_check, Some(at("03T17:00")));
}

#[test]
fn a_paused_clock_has_no_projection() {
    let events: Vec<StatusEvent> = history().into_iter().take(3).collect();
    let reports = evaluate(&sla(), &cal(), "normal", &events, None, at("03T15:00")).unwrap();
    let approval = &reports[1];
    assert_eq!(approval.state, ClockState::Paused);
    assert_eq!((approval.elapsed, approval.paused), (h(9), h(5)));
    assert_eq!((approval.breach_at, approval.next_check), (None, None));
}

#[test]
fn changing_the_definition_recomputes_history() {
    let now = at("09T09:00");
    let before = evaluate(&sla(), &cal(), "normal", &history(), None, now).unwrap();
    assert_eq!(before[1].status, SlaStatus::Breached);

    // A longer target: the same history now meets the SLA.
    let mut longer = sla();
    longer.clocks[1]
        .targets
        .insert("normal".into(), "24h".into());
    let after = evaluate(&longer, &cal(), "normal", &history(), None, now).unwrap();
    assert_eq!((after[1].status, after[1].remaining), (SlaStatus::Ok, h(3)));

    // No pause condition: the rework time counts too.
    let mut no_pause = sla();
    no_pause.pause_when.clear();
    let after = evaluate(&no_pause, &cal(), "normal", &history(), None, now).unwrap();
    assert_eq!((after[1].elapsed, after[1].paused), (h(30), h(0)));

    // A priority without a target has no clock; urgent triage breached at 1h.
    let urgent = evaluate(&sla(), &cal(), "urgent", &history(), None, now).unwrap();
    assert_eq!(urgent.len(), 1);
    assert_eq!(
        (urgent[0].clock.as_str(), urgent[0].status),
        ("triage", SlaStatus::Breached)
    );
}

#[test]
fn unsorted_and_future_events_are_handled() {
    let mut events = history();
    events.reverse();
    events.push(ev("20T09:00", "live"));
    let a = evaluate(&sla(), &cal(), "normal", &events, None, at("09T09:00")).unwrap();
    let b = evaluate(&sla(), &cal(), "normal", &history(), None, at("09T09:00")).unwrap();
    assert_eq!(a, b);
    let none = evaluate(&sla(), &cal(), "normal", &[], None, at("09T09:00")).unwrap();
    assert_eq!(none[0].state, ClockState::NotStarted);
}
