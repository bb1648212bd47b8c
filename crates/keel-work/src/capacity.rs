//! Capacity: people, the hours they work per week, their time off and what they are already
//! allocated to; utilisation per person and team per week, and over-allocation warnings.
//!
//! Everyone works on the business calendar passed in. A person's day is their weekly hours
//! spread over the calendar's week in proportion to its working hours (a half-day Friday gets half
//! a day's share); holidays and time off have no capacity. Minutes are integers so sums are exact.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use keel_calendar::Calendar;
use serde::{Deserialize, Serialize};

use crate::Party;

/// An inclusive range of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
}

impl DateRange {
    /// Whether `d` is inside.
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }

    /// Whether the two ranges share a day.
    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// A person who can be assigned work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Identifier.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Roles the person can fill (copywriter, designer …).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Their team.
    #[serde(default)]
    pub team: Option<String>,
    /// Contracted hours per week.
    pub weekly_hours: f64,
    /// Holidays, leave, sickness.
    #[serde(default)]
    pub time_off: Vec<DateRange>,
}

/// Existing work that takes part of a person's week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// The person.
    pub person: String,
    /// When.
    pub start: NaiveDate,
    /// Until (inclusive).
    pub end: NaiveDate,
    /// Hours per week taken.
    pub hours_per_week: f64,
    /// What it is for (shown in explanations).
    pub label: String,
}

/// Minutes of a person's day booked for one piece of work (the output of scheduling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// The person.
    pub person: String,
    /// The day.
    pub date: NaiveDate,
    /// Minutes booked.
    pub minutes: u32,
    /// What it is for.
    pub label: String,
}

/// People and their standing allocations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roster {
    /// People.
    pub people: Vec<Person>,
    /// Standing allocations.
    #[serde(default)]
    pub allocations: Vec<Allocation>,
}

impl Roster {
    /// The person with this identifier.
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// People who can take work assigned to `party`.
    pub fn candidates(&self, party: &Party) -> Vec<&Person> {
        self.people
            .iter()
            .filter(|p| match party {
                Party::Person(id) => &p.id == id,
                Party::Role(r) => p.roles.iter().any(|x| x == r),
                Party::Team(t) => p.team.as_deref() == Some(t.as_str()),
            })
            .collect()
    }

    /// Working minutes a person has on a day before any allocation.
    pub fn capacity_minutes(&self, person: &Person, date: NaiveDate, cal: &Calendar) -> u32 {
        if person.time_off.iter().any(|r| r.contains(date)) {
            return 0;
        }
        share(person.weekly_hours, date, cal)
    }

    /// Minutes of a person's day taken by standing allocations (none while they are off).
    pub fn allocated_minutes(&self, person: &Person, date: NaiveDate, cal: &Calendar) -> u32 {
        if person.time_off.iter().any(|r| r.contains(date)) {
            return 0;
        }
        self.allocations
            .iter()
            .filter(|a| a.person == person.id && a.start <= date && date <= a.end)
            .map(|a| share(a.hours_per_week, date, cal))
            .sum()
    }

    /// Labels of the standing allocations of a person on a day.
    pub fn allocation_labels(&self, person: &str, date: NaiveDate) -> Vec<&str> {
        self.allocations
            .iter()
            .filter(|a| a.person == person && a.start <= date && date <= a.end)
            .map(|a| a.label.as_str())
            .collect()
    }
}

/// `weekly_hours` spread over the calendar's week in proportion to the day's nominal hours.
fn share(weekly_hours: f64, date: NaiveDate, cal: &Calendar) -> u32 {
    let week = cal.nominal_week().num_minutes();
    let day = cal.nominal_day(date).num_minutes();
    if week <= 0 || day <= 0 || !weekly_hours.is_finite() || weekly_hours <= 0.0 {
        return 0;
    }
    let weekly_minutes = (weekly_hours * 60.0).round() as i64;
    u32::try_from(weekly_minutes * day / week).unwrap_or(u32::MAX)
}

/// The Monday of `date`'s ISO week.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

/// One person's (or team's) week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekLoad {
    /// Person or `team:NAME`.
    pub who: String,
    /// Monday of the week.
    pub week: NaiveDate,
    /// Hours available.
    pub available_hours: f64,
    /// Hours allocated (standing allocations plus bookings).
    pub allocated_hours: f64,
    /// Allocated over available, in percent (0 when nothing is available and nothing allocated).
    pub utilisation_percent: f64,
    /// More allocated than available.
    pub over_allocated: bool,
}

/// Utilisation per person and per team for `weeks` weeks from the week containing `from`, counting
/// standing allocations and `bookings`. People come first (by id), then teams.
pub fn utilisation(
    roster: &Roster,
    cal: &Calendar,
    bookings: &[Booking],
    from: NaiveDate,
    weeks: u32,
) -> Vec<WeekLoad> {
    let first = week_start(from);
    let mut people: Vec<&Person> = roster.people.iter().collect();
    people.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = Vec::new();
    let mut teams: BTreeMap<(String, NaiveDate), (u64, u64)> = BTreeMap::new();
    for w in 0..weeks {
        let Some(monday) = first.checked_add_days(Days::new(u64::from(w) * 7)) else {
            break;
        };
        for p in &people {
            let (mut avail, mut alloc) = (0u64, 0u64);
            for d in monday.iter_days().take(7) {
                avail += u64::from(roster.capacity_minutes(p, d, cal));
                alloc += u64::from(roster.allocated_minutes(p, d, cal));
                alloc += bookings
                    .iter()
                    .filter(|b| b.person == p.id && b.date == d)
                    .map(|b| u64::from(b.minutes))
                    .sum::<u64>();
            }
            out.push(load(p.id.clone(), monday, avail, alloc));
            if let Some(t) = &p.team {
                let e = teams.entry((t.clone(), monday)).or_default();
                e.0 += avail;
                e.1 += alloc;
            }
        }
    }
    out.extend(
        teams
            .into_iter()
            .map(|((t, week), (avail, alloc))| load(format!("team:{t}"), week, avail, alloc)),
    );
    out
}

fn load(who: String, week: NaiveDate, avail: u64, alloc: u64) -> WeekLoad {
    let percent = if avail == 0 {
        if alloc == 0 { 0.0 } else { f64::INFINITY }
    } else {
        (alloc as f64 * 1000.0 / avail as f64).round() / 10.0
    };
    WeekLoad {
        who,
        week,
        available_hours: avail as f64 / 60.0,
        allocated_hours: alloc as f64 / 60.0,
        utilisation_percent: percent,
        over_allocated: alloc > avail,
    }
}

/// Warnings for over-allocated weeks, such as `sam is allocated 46h of 40h in the week of 2026-03-02 (115%)`.
pub fn over_allocation_warnings(loads: &[WeekLoad]) -> Vec<String> {
    loads
        .iter()
        .filter(|l| l.over_allocated)
        .map(|l| {
            format!(
                "{} is allocated {}h of {}h in the week of {} ({}%)",
                l.who, l.allocated_hours, l.available_hours, l.week, l.utilisation_percent
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_calendar::{BusinessCalendarSpec, WeekHours};

    pub(crate) fn calendar() -> Calendar {
        let day = vec!["09:00-17:00".to_owned()];
        BusinessCalendarSpec {
            timezone: "Europe/London".into(),
            hours: WeekHours {
                monday: day.clone(),
                tuesday: day.clone(),
                wednesday: day.clone(),
                thursday: day.clone(),
                friday: vec!["09:00-13:00".into()],
                ..WeekHours::default()
            },
            holidays: vec![keel_calendar::Holiday {
                date: NaiveDate::from_ymd_opt(2026, 3, 4).unwrap(),
                name: Some("Company day".into()),
            }],
        }
        .compile()
        .unwrap()
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn utilisation_and_warnings() {
        let roster = Roster {
            people: vec![
                Person {
                    id: "sam".into(),
                    name: None,
                    roles: vec!["designer".into()],
                    team: Some("creative".into()),
                    weekly_hours: 36.0,
                    time_off: vec![],
                },
                Person {
                    id: "kai".into(),
                    name: None,
                    roles: vec!["designer".into()],
                    team: Some("creative".into()),
                    weekly_hours: 36.0,
                    time_off: vec![DateRange {
                        start: d(3, 9),
                        end: d(3, 13),
                    }],
                },
            ],
            allocations: vec![Allocation {
                person: "sam".into(),
                start: d(3, 1),
                end: d(3, 31),
                hours_per_week: 18.0,
                label: "Brand refresh".into(),
            }],
        };
        let cal = calendar();
        // The calendar week is 36h; Monday is 8/36 of it. Sam: 8h capacity, 4h allocated.
        assert_eq!(
            roster.capacity_minutes(&roster.people[0], d(3, 2), &cal),
            480
        );
        assert_eq!(
            roster.allocated_minutes(&roster.people[0], d(3, 2), &cal),
            240
        );
        assert_eq!(roster.capacity_minutes(&roster.people[0], d(3, 4), &cal), 0);
        let bookings = vec![Booking {
            person: "sam".into(),
            date: d(3, 2),
            minutes: 8 * 60,
            label: "Spring email: design".into(),
        }];
        let loads = utilisation(&roster, &cal, &bookings, d(3, 4), 2);
        let sam_w1 = loads
            .iter()
            .find(|l| l.who == "sam" && l.week == d(3, 2))
            .unwrap();
        // Week of 2 March: holiday on Wednesday, so 28h available; 14h allocated + 8h booked.
        assert_eq!(
            (sam_w1.available_hours, sam_w1.allocated_hours),
            (28.0, 22.0)
        );
        let kai_w2 = loads
            .iter()
            .find(|l| l.who == "kai" && l.week == d(3, 9))
            .unwrap();
        assert_eq!(kai_w2.available_hours, 0.0);
        let team = loads
            .iter()
            .find(|l| l.who == "team:creative" && l.week == d(3, 2))
            .unwrap();
        assert_eq!(team.available_hours, 56.0);
        assert!(over_allocation_warnings(&loads).is_empty());

        let heavy = vec![Booking {
            person: "sam".into(),
            date: d(3, 3),
            minutes: 10 * 60,
            label: "x".into(),
        }];
        let warnings = over_allocation_warnings(&utilisation(
            &roster,
            &cal,
            &[bookings, heavy].concat(),
            d(3, 2),
            1,
        ));
        assert_eq!(
            warnings,
            vec!["sam is allocated 32h of 28h in the week of 2026-03-02 (114.3%)"]
        );
    }
}
