use super::*;
use proptest::prelude::*;

fn spec(tz: &str) -> BusinessCalendarSpec {
    let day = vec!["09:00-12:00".to_owned(), "13:00-17:00".to_owned()];
    BusinessCalendarSpec {
        timezone: tz.into(),
        hours: WeekHours {
            monday: day.clone(),
            tuesday: day.clone(),
            wednesday: day.clone(),
            thursday: day.clone(),
            friday: vec!["09:00-13:00".into()],
            ..WeekHours::default()
        },
        holidays: vec![
            Holiday {
                date: d(2026, 12, 25),
                name: Some("Christmas Day".into()),
            },
            Holiday {
                date: d(2026, 3, 30),
                name: Some("Spring day".into()),
            },
        ],
    }
}

fn berlin() -> Calendar {
    spec("Europe/Berlin").compile().unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn validation_lists_every_problem() {
    let mut s = spec("Europe/Berlinn");
    s.hours.monday = vec!["9-17".into(), "10:00-08:00".into()];
    s.hours.tuesday = vec!["09:00-12:00".into(), "11:00-13:00".into()];
    s.holidays.push(Holiday {
        date: d(2026, 12, 25),
        name: None,
    });
    let problems = s.validate();
    let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "spec.timezone",
            "spec.hours.monday[0]",
            "spec.hours.monday[1]",
            "spec.hours.tuesday[1]",
            "spec.holidays[2].date"
        ],
        "{problems:#?}"
    );
}

#[test]
fn empty_week_is_refused() {
    let s = BusinessCalendarSpec {
        timezone: "UTC".into(),
        hours: WeekHours::default(),
        holidays: vec![],
    };
    assert_eq!(s.validate()[0].path, "spec.hours");
}

#[test]
fn adds_within_and_across_days() {
    let cal = berlin();
    // Monday 2026-01-05 10:00 Berlin = 09:00Z. Two hours later is 12:00 local, then lunch.
    let start = utc("2026-01-05T09:00:00Z");
    assert_eq!(
        cal.add_business_time(start, TimeDelta::hours(2)).unwrap(),
        utc("2026-01-05T11:00:00Z")
    );
    assert_eq!(
        cal.add_business_time(start, TimeDelta::hours(3)).unwrap(),
        utc("2026-01-05T13:00:00Z")
    );
    // 6 hours left on Monday (2 + 4); the 7th hour is Tuesday 09:00-10:00 local.
    assert_eq!(
        cal.add_business_time(start, TimeDelta::hours(7)).unwrap(),
        utc("2026-01-06T09:00:00Z")
    );
    // Friday 12:00 local + 2h: one hour on Friday, weekend, one hour Monday.
    assert_eq!(
        cal.add_business_time(utc("2026-01-09T11:00:00Z"), TimeDelta::hours(2))
            .unwrap(),
        utc("2026-01-12T09:00:00Z")
    );
}

#[test]
fn starting_outside_hours_starts_at_next_opening() {
    let cal = berlin();
    // Saturday -> Monday 09:00 local (08:00Z in winter) + 1h.
    assert_eq!(
        cal.add_business_time(utc("2026-01-10T12:00:00Z"), TimeDelta::hours(1))
            .unwrap(),
        utc("2026-01-12T09:00:00Z")
    );
    assert_eq!(
        cal.next_working_instant(utc("2026-01-10T12:00:00Z"))
            .unwrap(),
        utc("2026-01-12T08:00:00Z")
    );
}

#[test]
fn holidays_are_skipped() {
    let cal = berlin();
    // Thursday 24 Dec 16:00 local + 2h: 1h Thursday, Friday 25th is a holiday, weekend,
    // Monday 28th 09:00-10:00 local.
    assert_eq!(
        cal.add_business_time(utc("2026-12-24T15:00:00Z"), TimeDelta::hours(2))
            .unwrap(),
        utc("2026-12-28T09:00:00Z")
    );
    assert!(!cal.is_working_day(d(2026, 12, 25)));
    assert_eq!(cal.holiday(d(2026, 12, 25)), Some("Christmas Day"));
}

#[test]
fn dst_spring_forward_keeps_local_hours() {
    let cal = berlin();
    // Clocks go forward on Sunday 2026-03-29. Friday 27 March 12:00 local = 11:00Z (CET).
    // One hour on Friday, Monday 30 March is a holiday, so Tuesday 31 March 09:00 CEST = 07:00Z.
    assert_eq!(
        cal.add_business_time(utc("2026-03-27T11:00:00Z"), TimeDelta::hours(2))
            .unwrap(),
        utc("2026-03-31T08:00:00Z")
    );
    // Business time across the change counts working hours, not wall-clock hours.
    assert_eq!(
        cal.business_time_between(utc("2026-03-27T08:00:00Z"), utc("2026-03-31T15:00:00Z")),
        TimeDelta::hours(4 + 7)
    );
}

#[test]
fn dst_fall_back_keeps_local_hours() {
    let cal = spec("America/New_York").compile().unwrap();
    // Clocks go back on Sunday 2026-11-01. Friday 30 Oct 09:00 EDT = 13:00Z; Monday 09:00 EST = 14:00Z.
    assert_eq!(
        cal.add_business_time(utc("2026-10-30T13:00:00Z"), TimeDelta::hours(5))
            .unwrap(),
        utc("2026-11-02T15:00:00Z")
    );
}

#[test]
fn working_hours_inside_a_gap_move_to_the_end_of_the_gap() {
    // A calendar that (unusually) works 01:00-04:00 local on Sundays in Berlin.
    let s = BusinessCalendarSpec {
        timezone: "Europe/Berlin".into(),
        hours: WeekHours {
            sunday: vec!["02:30-04:00".into()],
            ..WeekHours::default()
        },
        holidays: vec![],
    };
    let cal = s.compile().unwrap();
    // 02:30 does not exist on 2026-03-29; the day starts at 03:00 CEST = 01:00Z.
    assert_eq!(
        cal.intervals_on(d(2026, 3, 29)),
        vec![(utc("2026-03-29T01:00:00Z"), utc("2026-03-29T02:00:00Z"))]
    );
}

#[test]
fn negative_durations_count_backwards() {
    let cal = berlin();
    assert_eq!(
        cal.add_business_time(utc("2026-01-06T09:00:00Z"), TimeDelta::hours(-3))
            .unwrap(),
        utc("2026-01-05T14:00:00Z")
    );
}

#[test]
fn working_days() {
    let cal = berlin();
    assert_eq!(
        cal.add_working_days(d(2026, 12, 23), 1).unwrap(),
        d(2026, 12, 24)
    );
    assert_eq!(
        cal.add_working_days(d(2026, 12, 24), 1).unwrap(),
        d(2026, 12, 28)
    );
    assert_eq!(
        cal.add_working_days(d(2026, 12, 26), 0).unwrap(),
        d(2026, 12, 28)
    );
    assert_eq!(
        cal.add_working_days(d(2026, 12, 28), 0).unwrap(),
        d(2026, 12, 28)
    );
    assert_eq!(
        cal.working_days_between(d(2026, 12, 21), d(2026, 12, 28)),
        4
    );
    assert_eq!(cal.nominal_week(), TimeDelta::hours(32));
    assert_eq!(cal.nominal_day(d(2026, 12, 25)), TimeDelta::zero());
}

#[test]
fn durations_parse_and_format() {
    assert_eq!(parse_duration("4h").unwrap(), TimeDelta::hours(4));
    assert_eq!(parse_duration("1h30m").unwrap(), TimeDelta::minutes(90));
    assert_eq!(parse_duration("45m").unwrap(), TimeDelta::minutes(45));
    assert!(parse_duration("2d").unwrap_err().contains("hours"));
    assert!(parse_duration("h").is_err());
    assert!(parse_duration("4").is_err());
    assert!(parse_duration("").is_err());
    assert_eq!(format_duration(TimeDelta::minutes(90)), "1h30m");
    assert_eq!(format_duration(TimeDelta::minutes(-60)), "-1h");
}

#[test]
fn spec_reads_from_yaml_and_refuses_unknown_keys() {
    let yaml = "timezone: Europe/Berlin\nhours:\n  monday: ['09:00-17:00']\nholidays:\n  - {date: 2026-12-25, name: Christmas}\n";
    let s: BusinessCalendarSpec = serde_saphyr::from_str(yaml).unwrap();
    assert!(s.validate().is_empty());
    let bad = "timezone: UTC\nhours: {}\nholiday: []\n";
    assert!(serde_saphyr::from_str::<BusinessCalendarSpec>(bad).is_err());
}

fn any_calendar() -> impl Strategy<Value = Calendar> {
    prop_oneof![
        Just(berlin()),
        Just(spec("America/New_York").compile().unwrap()),
        Just(spec("Australia/Lord_Howe").compile().unwrap()),
    ]
}

fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    // Two years around several DST changes, to the minute.
    (0i64..(2 * 366 * 24 * 60)).prop_map(|m| utc("2026-01-01T00:00:00Z") + TimeDelta::minutes(m))
}

fn any_duration() -> impl Strategy<Value = TimeDelta> {
    (0i64..(200 * 60)).prop_map(TimeDelta::minutes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn adding_then_measuring_round_trips(cal in any_calendar(), a in any_instant(), dur in any_duration()) {
        let t = cal.add_business_time(a, dur).unwrap();
        prop_assert!(t >= a);
        prop_assert_eq!(cal.business_time_between(a, t), dur);
    }

    #[test]
    fn adding_is_additive(cal in any_calendar(), a in any_instant(), d1 in any_duration(), d2 in any_duration()) {
        let step = cal.add_business_time(cal.add_business_time(a, d1).unwrap(), d2).unwrap();
        let once = cal.add_business_time(a, d1 + d2).unwrap();
        prop_assert_eq!(step, once);
    }

    #[test]
    fn measuring_is_additive_and_bounded(cal in any_calendar(), a in any_instant(), b in any_instant(), c in any_instant()) {
        let mut v = [a, b, c];
        v.sort();
        let [a, b, c] = v;
        prop_assert_eq!(
            cal.business_time_between(a, b) + cal.business_time_between(b, c),
            cal.business_time_between(a, c)
        );
        prop_assert!(cal.business_time_between(a, c) <= c - a);
        prop_assert_eq!(cal.business_time_between(c, a), -cal.business_time_between(a, c));
    }

    #[test]
    fn a_positive_sum_ends_in_working_time_or_at_its_end(cal in any_calendar(), a in any_instant(), dur in (1i64..6000).prop_map(TimeDelta::minutes)) {
        let t = cal.add_business_time(a, dur).unwrap();
        let just_before = t - TimeDelta::seconds(1);
        prop_assert!(cal.is_working_time(just_before));
    }

    #[test]
    fn subtracting_inverts_adding(cal in any_calendar(), a in any_instant(), dur in (1i64..6000).prop_map(TimeDelta::minutes)) {
        let start = cal.next_working_instant(a).unwrap();
        let t = cal.add_business_time(start, dur).unwrap();
        prop_assert_eq!(cal.add_business_time(t, -dur).unwrap(), start);
    }
}
