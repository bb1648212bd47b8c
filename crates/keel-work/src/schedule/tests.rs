use super::*;
use crate::Party;
use crate::capacity::{Allocation, DateRange, Person};
use crate::routing::{Effort, PlannedTask};
use keel_calendar::{BusinessCalendarSpec, WeekHours};

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

fn calendar() -> Calendar {
    let day = vec!["09:00-17:00".to_owned()];
    BusinessCalendarSpec {
        timezone: "Europe/London".into(),
        hours: WeekHours {
            monday: day.clone(),
            tuesday: day.clone(),
            wednesday: day.clone(),
            thursday: day.clone(),
            friday: day,
            ..WeekHours::default()
        },
        holidays: vec![keel_calendar::Holiday {
            date: d(4, 3),
            name: Some("Good Friday".into()),
        }],
    }
    .compile()
    .unwrap()
}

fn task(id: &str, hours: u32, who: &str, deps: &[&str]) -> PlannedTask {
    PlannedTask {
        id: id.into(),
        name: id[..1].to_uppercase() + &id[1..],
        effort: Effort::M,
        minutes: hours * 60,
        assignee: Party::try_from(who.to_owned()).unwrap(),
        depends_on: deps.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn person(id: &str, role: &str) -> Person {
    Person {
        id: id.into(),
        name: None,
        roles: vec![role.into()],
        team: None,
        weekly_hours: 40.0,
        time_off: vec![],
    }
}

fn roster() -> Roster {
    let mut lee = person("lee", "email-developer");
    lee.time_off.push(DateRange {
        start: d(3, 9),
        end: d(3, 10),
    });
    Roster {
        people: vec![
            person("ana", "copywriter"),
            person("sam", "designer"),
            lee,
            person("mo", "qa"),
        ],
        allocations: vec![Allocation {
            person: "sam".into(),
            start: d(3, 1),
            end: d(3, 31),
            hours_per_week: 20.0,
            label: "Brand refresh".into(),
        }],
    }
}

fn plan() -> Plan {
    Plan {
        tasks: vec![
            task("copy", 12, "role:copywriter", &[]),
            task("design", 12, "role:designer", &["copy"]),
            task("build", 24, "role:email-developer", &["design"]),
            task("qa", 4, "role:qa", &["build"]),
        ],
    }
}

#[test]
fn earliest_launch_with_capacity_time_off_and_blackout() {
    let cal = calendar();
    let roster = roster();
    let plan = plan();
    let blackouts = vec![Blackout {
        start: d(3, 17),
        end: d(3, 17),
        reason: "Board meeting".into(),
        channels: vec![],
    }];
    let s = schedule(&ScheduleInput {
        plan: &plan,
        calendar: &cal,
        roster: &roster,
        earliest_start: d(3, 2),
        blackouts: &blackouts,
        existing: &[],
        requested_launch: Some(d(3, 13)),
    })
    .unwrap();
    let spans: Vec<(&str, &str, NaiveDate, NaiveDate)> = s
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), t.person.as_str(), t.start, t.finish))
        .collect();
    assert_eq!(
        spans,
        vec![
            ("copy", "ana", d(3, 2), d(3, 3)),
            ("design", "sam", d(3, 4), d(3, 6)),
            ("build", "lee", d(3, 11), d(3, 13)),
            ("qa", "mo", d(3, 16), d(3, 16)),
        ]
    );
    assert_eq!(s.launch, d(3, 18));
    assert_eq!(s.critical_path, vec!["copy", "design", "build", "qa"]);
    assert_eq!(s.requested_feasible, Some(false));
    assert_eq!(
        s.explanation,
        vec![
            "Earliest feasible launch: 2026-03-18 (Wednesday).",
            "It is the first working day after the last task, Qa (mo), finishes on 2026-03-16; 2026-03-17 is a blackout date (Board meeting).",
            "Qa (mo, 4h) runs 2026-03-16 to 2026-03-16, starting the day after Build finishes.",
            "Build (lee, 24h) runs 2026-03-11 to 2026-03-13; it could start on 2026-03-09 after Design but lee has no free time until 2026-03-11: lee is off.",
            "Design (sam, 12h) runs 2026-03-04 to 2026-03-06, starting the day after Copy finishes.",
            "Copy (ana, 12h) runs 2026-03-02 to 2026-03-03, starting on the first possible day, 2026-03-02.",
            "The requested launch 2026-03-13 is not feasible: it is 3 working days too early.",
        ]
    );
    // Bookings add up to the plan's work.
    assert_eq!(s.bookings.iter().map(|b| b.minutes).sum::<u32>(), 52 * 60);
}

#[test]
fn picks_the_candidate_who_finishes_first_and_respects_existing_bookings() {
    let cal = calendar();
    let mut roster = roster();
    roster.people.push(person("kai", "designer"));
    let existing: Vec<Booking> = [d(3, 4), d(3, 5)]
        .iter()
        .map(|day| Booking {
            person: "kai".into(),
            date: *day,
            minutes: 480,
            label: "Summer webinar".into(),
        })
        .collect();
    let plan = Plan {
        tasks: vec![task("design", 12, "role:designer", &[])],
    };
    let input = ScheduleInput {
        plan: &plan,
        calendar: &cal,
        roster: &roster,
        earliest_start: d(3, 4),
        blackouts: &[],
        existing: &existing,
        requested_launch: Some(d(3, 9)),
    };
    let s = schedule(&input).unwrap();
    // sam has 4h a day free (finishes Friday 6th); kai is booked Wed-Thu then free (finishes Monday 9th).
    assert_eq!(
        (s.tasks[0].person.as_str(), s.tasks[0].finish),
        ("sam", d(3, 6))
    );
    assert_eq!(s.launch, d(3, 9));
    assert_eq!(s.requested_feasible, Some(true));

    // With sam gone, kai waits for the webinar and the explanation says so.
    let mut without_sam = roster.clone();
    without_sam.people.retain(|p| p.id != "sam");
    let s = schedule(&ScheduleInput {
        roster: &without_sam,
        ..input
    })
    .unwrap();
    assert_eq!((s.tasks[0].start, s.tasks[0].finish), (d(3, 6), d(3, 9)));
    assert!(
        s.explanation[2].ends_with("kai is fully allocated (Summer webinar)."),
        "{:#?}",
        s.explanation
    );
}

#[test]
fn holidays_push_work_and_launch() {
    let cal = calendar();
    let roster = roster();
    let plan = Plan {
        tasks: vec![task("copy", 8, "role:copywriter", &[])],
    };
    let s = schedule(&ScheduleInput {
        plan: &plan,
        calendar: &cal,
        roster: &roster,
        earliest_start: d(4, 2),
        blackouts: &[],
        existing: &[],
        requested_launch: None,
    })
    .unwrap();
    // Thursday 2 April works; Good Friday is a holiday, so launch is Monday 6 April.
    assert_eq!((s.tasks[0].finish, s.launch), (d(4, 2), d(4, 6)));
}

#[test]
fn nobody_to_do_the_work_is_an_error_naming_the_task() {
    let cal = calendar();
    let roster = roster();
    let plan = Plan {
        tasks: vec![task("legal", 4, "team:legal", &[])],
    };
    let err = schedule(&ScheduleInput {
        plan: &plan,
        calendar: &cal,
        roster: &roster,
        earliest_start: d(3, 2),
        blackouts: &[],
        existing: &[],
        requested_launch: None,
    })
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "cannot schedule: task \"legal\" is assigned to team:legal but nobody in the roster matches"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// A random DAG: task i may depend on any earlier task.
    fn any_plan() -> impl Strategy<Value = Plan> {
        prop::collection::vec(
            (
                1u32..30,
                0usize..3,
                prop::collection::vec(any::<prop::sample::Index>(), 0..3),
            ),
            1..9,
        )
        .prop_map(|specs| {
            let roles = ["role:copywriter", "role:designer", "role:email-developer"];
            let tasks = specs
                .iter()
                .enumerate()
                .map(|(i, (hours, role, deps))| {
                    let mut depends_on: Vec<String> = if i == 0 {
                        vec![]
                    } else {
                        deps.iter().map(|d| format!("t{}", d.index(i))).collect()
                    };
                    depends_on.sort();
                    depends_on.dedup();
                    PlannedTask {
                        id: format!("t{i}"),
                        name: format!("Task {i}"),
                        effort: Effort::S,
                        minutes: hours * 60,
                        assignee: Party::try_from(roles[*role].to_owned()).unwrap(),
                        depends_on,
                    }
                })
                .collect();
            Plan { tasks }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(60))]
        #[test]
        fn schedules_respect_dependencies_capacity_and_blackouts(plan in any_plan(), start_offset in 0u64..60, blackout_len in 0u64..5) {
            let cal = calendar();
            let mut roster = roster();
            roster.people.push(person("tom", "copywriter"));
            let start = d(3, 2) + chrono::Days::new(start_offset);
            let blackouts = vec![Blackout { start: start + chrono::Days::new(5), end: start + chrono::Days::new(5 + blackout_len), reason: "freeze".into(), channels: vec![] }];
            let s = schedule(&ScheduleInput {
                plan: &plan, calendar: &cal, roster: &roster, earliest_start: start,
                blackouts: &blackouts, existing: &[], requested_launch: None,
            }).unwrap();
            for t in &s.tasks {
                prop_assert!(t.start >= start && t.start <= t.finish);
                let planned = plan.tasks.iter().find(|p| p.id == t.id).unwrap();
                for dep in &planned.depends_on {
                    let dt = s.tasks.iter().find(|x| &x.id == dep).unwrap();
                    prop_assert!(dt.finish < t.start, "{} before {}", t.id, dep);
                }
                prop_assert!(s.launch > t.finish);
            }
            let booked: u32 = s.bookings.iter().map(|b| b.minutes).sum();
            prop_assert_eq!(booked, plan.tasks.iter().map(|t| t.minutes).sum::<u32>());
            let mut per_day: HashMap<(&str, NaiveDate), u32> = HashMap::new();
            for b in &s.bookings {
                *per_day.entry((b.person.as_str(), b.date)).or_default() += b.minutes;
            }
            for ((who, day), minutes) in per_day {
                let p = roster.person(who).unwrap();
                let free = roster.capacity_minutes(p, day, &cal) - roster.allocated_minutes(p, day, &cal);
                prop_assert!(minutes <= free, "{who} over-booked on {day}");
            }
            prop_assert!(cal.is_working_day(s.launch));
            prop_assert!(!blackouts.iter().any(|b| b.contains(s.launch)));
            // The critical path is a chain of dependencies ending at a last-finishing task.
            let last = s.tasks.iter().map(|t| t.finish).max().unwrap();
            let end = s.critical_path.last().unwrap();
            prop_assert_eq!(s.tasks.iter().find(|t| &t.id == end).unwrap().finish, last);
        }
    }
}
