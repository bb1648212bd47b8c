//! Scheduling a request's plan on business days against the capacity of the people who do the
//! work, and the earliest feasible launch date with what constrains it.
//!
//! The scheduler is a list scheduler at day granularity: among tasks whose dependencies are
//! scheduled it places the one with the longest remaining chain first, on the candidate person
//! (by role, team or name) who would finish it earliest, filling each day with whatever capacity
//! the person has left after time off, standing allocations, other bookings and earlier tasks of
//! this plan. A task starts on the day after its last dependency finishes (a hand-off takes a
//! day). The launch is the first working day after the last task that is not a blackout date.
//!
//! The explanation walks back from the last task: each step says whether a task waited for a
//! dependency, for its person's capacity (and why: time off, holiday, which allocations), or
//! only for the plan's start. That chain is the critical path of the constrained schedule.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use keel_calendar::Calendar;
use serde::{Deserialize, Serialize};

use crate::WorkError;
use crate::campaign::Blackout;
use crate::capacity::{Booking, Roster};
use crate::routing::Plan;

/// Days searched for capacity before a task is declared unschedulable (about five years).
const HORIZON_DAYS: u32 = 1830;

/// What the scheduler needs.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleInput<'a> {
    /// The request's tasks.
    pub plan: &'a Plan,
    /// The business calendar.
    pub calendar: &'a Calendar,
    /// People and standing allocations.
    pub roster: &'a Roster,
    /// The first day work may start (usually the day after approval).
    pub earliest_start: NaiveDate,
    /// Dates the request may not launch on.
    pub blackouts: &'a [Blackout],
    /// Work already booked for other requests.
    pub existing: &'a [Booking],
    /// The launch date the requester asked for, if any.
    pub requested_launch: Option<NaiveDate>,
}

/// Why a task starts when it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Constraint {
    /// It starts on the plan's first day.
    PlanStart,
    /// It starts the day after this task finishes.
    Dependency {
        /// The dependency that finished last.
        task: String,
    },
    /// Its person had no free time earlier.
    Capacity {
        /// The person.
        person: String,
        /// Days waited (working or not) from when it could have started.
        from: NaiveDate,
        /// Last day waited.
        to: NaiveDate,
        /// Why those days were not available.
        reasons: Vec<String>,
        /// What made it ready on `from` (a dependency, or the plan start when none).
        after: Option<String>,
    },
}

/// A scheduled task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledTask {
    /// Task identifier.
    pub id: String,
    /// Task name.
    pub name: String,
    /// Who does it.
    pub person: String,
    /// First day of work.
    pub start: NaiveDate,
    /// Last day of work.
    pub finish: NaiveDate,
    /// Minutes of work.
    pub minutes: u32,
    /// Why it starts when it does.
    pub constraint: Constraint,
}

/// A schedule with its launch date and explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Tasks in the order they were placed.
    pub tasks: Vec<ScheduledTask>,
    /// Minutes booked per person and day.
    pub bookings: Vec<Booking>,
    /// The earliest feasible launch date.
    pub launch: NaiveDate,
    /// Task identifiers of the chain that determines the launch, first to last.
    pub critical_path: Vec<String>,
    /// Sentences explaining the launch date.
    pub explanation: Vec<String>,
    /// Whether the requested launch date is feasible (when one was given).
    pub requested_feasible: Option<bool>,
}

/// A candidate's fill of a task: first day, last day, minutes per day, and the person.
type Fill<'a> = (
    NaiveDate,
    NaiveDate,
    Vec<(NaiveDate, u32)>,
    &'a crate::capacity::Person,
);

/// Schedules a plan and finds its earliest feasible launch date.
pub fn schedule(input: &ScheduleInput<'_>) -> Result<Schedule, WorkError> {
    let plan = input.plan;
    let cal = input.calendar;
    let order = plan
        .topological_order()
        .ok_or_else(|| WorkError::Unschedulable("the plan's dependencies form a cycle".into()))?;
    let index: HashMap<&str, usize> = plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();

    // Longest remaining chain of work from each task, to place the most critical first.
    let mut tail = vec![0u64; plan.tasks.len()];
    for &i in order.iter().rev() {
        let own = plan.tasks.get(i).map_or(0, |t| u64::from(t.minutes));
        let id = plan.tasks.get(i).map(|t| t.id.as_str()).unwrap_or_default();
        let longest_successor = plan
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.depends_on.iter().any(|d| d == id))
            .map(|(j, _)| tail.get(j).copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        if let Some(t) = tail.get_mut(i) {
            *t = own + longest_successor;
        }
    }

    let mut used: HashMap<(String, NaiveDate), u32> = HashMap::new();
    for b in input.existing {
        *used.entry((b.person.clone(), b.date)).or_default() += b.minutes;
    }
    let mut placed: Vec<Option<ScheduledTask>> = vec![None; plan.tasks.len()];
    let mut sequence = Vec::new();
    let mut bookings = Vec::new();

    while sequence.len() < plan.tasks.len() {
        let next = (0..plan.tasks.len())
            .filter(|i| placed.get(*i).is_some_and(Option::is_none))
            .filter(|i| {
                plan.tasks.get(*i).is_some_and(|t| {
                    t.depends_on.iter().all(|d| {
                        index
                            .get(d.as_str())
                            .is_some_and(|j| placed.get(*j).is_some_and(Option::is_some))
                    })
                })
            })
            .max_by_key(|i| (tail.get(*i).copied().unwrap_or(0), std::cmp::Reverse(*i)))
            .ok_or_else(|| {
                WorkError::Unschedulable("a dependency is not part of the plan".into())
            })?;
        let task = plan
            .tasks
            .get(next)
            .ok_or_else(|| WorkError::Unschedulable("task index out of range".into()))?;

        // Ready the day after the last dependency finishes.
        let mut ready = input.earliest_start;
        let mut ready_after: Option<String> = None;
        for d in &task.depends_on {
            if let Some(Some(dep)) = index.get(d.as_str()).and_then(|j| placed.get(*j))
                && let Some(after) = dep.finish.succ_opt()
                && after > ready
            {
                ready = after;
                ready_after = Some(dep.id.clone());
            }
        }

        // Days without working hours are no one's constraint: start looking on a working day.
        let ready = cal.working_day_on_or_after(ready)?;
        let candidates = input.roster.candidates(&task.assignee);
        if candidates.is_empty() {
            return Err(WorkError::Unschedulable(format!(
                "task {:?} is assigned to {} but nobody in the roster matches",
                task.id, task.assignee
            )));
        }
        let mut best: Option<Fill<'_>> = None;
        for person in candidates {
            let mut left = task.minutes;
            let mut day = ready;
            let mut days = Vec::new();
            let mut start = None;
            let mut finish = None;
            for _ in 0..HORIZON_DAYS {
                let cap = input.roster.capacity_minutes(person, day, cal);
                let taken = input.roster.allocated_minutes(person, day, cal)
                    + used.get(&(person.id.clone(), day)).copied().unwrap_or(0);
                let free = cap.saturating_sub(taken);
                if left == 0 {
                    // Zero-effort task (a milestone): done on its first working day.
                    if cal.is_working_day(day) {
                        start = Some(day);
                        finish = Some(day);
                        break;
                    }
                } else if free > 0 {
                    let take = free.min(left);
                    start.get_or_insert(day);
                    days.push((day, take));
                    left -= take;
                    if left == 0 {
                        finish = Some(day);
                        break;
                    }
                }
                day = match day.succ_opt() {
                    Some(d) => d,
                    None => break,
                };
            }
            if let (Some(s), Some(f)) = (start, finish)
                && best.as_ref().is_none_or(|(_, bf, _, _)| f < *bf)
            {
                best = Some((s, f, days, person));
            }
        }
        let Some((start, finish, days, person)) = best else {
            return Err(WorkError::Unschedulable(format!(
                "nobody assigned to {} has {} hours free for task {:?} within {HORIZON_DAYS} days of {ready}",
                task.assignee,
                f64::from(task.minutes) / 60.0,
                task.id
            )));
        };
        for (day, minutes) in &days {
            *used.entry((person.id.clone(), *day)).or_default() += minutes;
            bookings.push(Booking {
                person: person.id.clone(),
                date: *day,
                minutes: *minutes,
                label: task.name.clone(),
            });
        }
        let constraint = if start > ready {
            let to = start.pred_opt().unwrap_or(start);
            let mut reasons = BTreeSet::new();
            for d in ready.iter_days().take_while(|d| *d < start) {
                reasons.insert(why_unavailable(input, person, d, &used));
            }
            reasons.remove("");
            Constraint::Capacity {
                person: person.id.clone(),
                from: ready,
                to,
                reasons: reasons.into_iter().collect(),
                after: ready_after,
            }
        } else if let Some(dep) = ready_after {
            Constraint::Dependency { task: dep }
        } else {
            Constraint::PlanStart
        };
        let scheduled = ScheduledTask {
            id: task.id.clone(),
            name: task.name.clone(),
            person: person.id.clone(),
            start,
            finish,
            minutes: task.minutes,
            constraint,
        };
        if let Some(slot) = placed.get_mut(next) {
            *slot = Some(scheduled.clone());
        }
        sequence.push(scheduled);
    }

    // Launch: first working day after the last task, avoiding blackouts.
    let last = sequence.iter().max_by_key(|t| t.finish).map(|t| t.finish);
    let mut launch = match last {
        Some(f) => cal.add_working_days(f, 1)?,
        None => cal.working_day_on_or_after(input.earliest_start)?,
    };
    let mut skipped = Vec::new();
    for _ in 0..HORIZON_DAYS {
        match input.blackouts.iter().find(|b| b.contains(launch)) {
            Some(b) => {
                skipped.push(format!("{launch} is a blackout date ({})", b.reason));
                launch = cal.add_working_days(launch, 1)?;
            }
            None => break,
        }
    }

    // Walk back the chain that determines the launch.
    let mut critical = Vec::new();
    let mut explanation = vec![format!(
        "Earliest feasible launch: {launch} ({}).",
        weekday(launch)
    )];
    let mut cursor = sequence.iter().max_by_key(|t| (t.finish, t.start)).cloned();
    if let Some(t) = &cursor {
        explanation.push(format!(
            "It is the first working day after the last task, {} ({}), finishes on {}{}.",
            t.name,
            t.person,
            t.finish,
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; {}", skipped.join("; "))
            }
        ));
    } else if !skipped.is_empty() {
        explanation.push(format!("The plan has no tasks; {}.", skipped.join("; ")));
    }
    let mut guard = 0;
    while let Some(t) = cursor.take() {
        guard += 1;
        if guard > plan.tasks.len() + 1 {
            break;
        }
        critical.push(t.id.clone());
        let hours = f64::from(t.minutes) / 60.0;
        let span = format!(
            "{} ({}, {hours}h) runs {} to {}",
            t.name, t.person, t.start, t.finish
        );
        let (line, prev) = match &t.constraint {
            Constraint::PlanStart => (
                format!(
                    "{span}, starting on the first possible day, {}.",
                    input.earliest_start
                ),
                None,
            ),
            Constraint::Dependency { task } => (
                format!(
                    "{span}, starting the day after {} finishes.",
                    name_of(&sequence, task)
                ),
                Some(task.clone()),
            ),
            Constraint::Capacity {
                person,
                from,
                to,
                reasons,
                after,
            } => (
                format!(
                    "{span}; it could start on {from}{} but {person} has no free time until {}: {}.",
                    after
                        .as_ref()
                        .map(|a| format!(" after {}", name_of(&sequence, a)))
                        .unwrap_or_default(),
                    to.succ_opt().unwrap_or(*to),
                    reasons.join("; ")
                ),
                after.clone(),
            ),
        };
        explanation.push(line);
        cursor = prev.and_then(|id| sequence.iter().find(|s| s.id == id).cloned());
    }
    critical.reverse();
    let requested_feasible = input.requested_launch.map(|r| {
        let ok =
            r >= launch && !input.blackouts.iter().any(|b| b.contains(r)) && cal.is_working_day(r);
        if ok {
            explanation.push(format!(
                "The requested launch {r} is feasible, with {} working days to spare.",
                cal.working_days_between(launch, r)
            ));
        } else if r < launch {
            explanation.push(format!(
                "The requested launch {r} is not feasible: it is {} working days too early.",
                cal.working_days_between(r, launch)
            ));
        } else {
            explanation.push(format!(
                "The requested launch {r} is not a working day or falls in a blackout."
            ));
        }
        ok
    });
    Ok(Schedule {
        tasks: sequence,
        bookings,
        launch,
        critical_path: critical,
        explanation,
        requested_feasible,
    })
}

fn name_of(tasks: &[ScheduledTask], id: &str) -> String {
    tasks
        .iter()
        .find(|t| t.id == id)
        .map_or_else(|| id.to_owned(), |t| t.name.clone())
}

fn weekday(d: NaiveDate) -> &'static str {
    match d.weekday() {
        chrono::Weekday::Mon => "Monday",
        chrono::Weekday::Tue => "Tuesday",
        chrono::Weekday::Wed => "Wednesday",
        chrono::Weekday::Thu => "Thursday",
        chrono::Weekday::Fri => "Friday",
        chrono::Weekday::Sat => "Saturday",
        chrono::Weekday::Sun => "Sunday",
    }
}

/// Why a person had no free time on a day; empty when they did.
fn why_unavailable(
    input: &ScheduleInput<'_>,
    person: &crate::capacity::Person,
    day: NaiveDate,
    used: &HashMap<(String, NaiveDate), u32>,
) -> String {
    let cal = input.calendar;
    if let Some(h) = cal.holiday(day) {
        return format!("{day} is a holiday ({h})");
    }
    if !cal.is_working_day(day) {
        return String::new(); // weekends go without saying
    }
    if person.time_off.iter().any(|r| r.contains(day)) {
        return format!("{} is off", person.id);
    }
    let labels = input.roster.allocation_labels(&person.id, day);
    let booked: BTreeSet<&str> = input
        .existing
        .iter()
        .filter(|b| b.person == person.id && b.date == day)
        .map(|b| b.label.as_str())
        .collect();
    let mut parts: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
    parts.extend(booked.iter().map(|l| (*l).to_owned()));
    if used.get(&(person.id.clone(), day)).copied().unwrap_or(0) > 0 && parts.is_empty() {
        parts.push("earlier tasks of this request".into());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{} is fully allocated ({})", person.id, parts.join(", "))
    }
}

#[cfg(test)]
mod tests;
