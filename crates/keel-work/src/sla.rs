//! Service levels: targets per request type and priority (time to triage, to approve, to
//! launch) measured in business hours on a calendar, with pause conditions, warnings before
//! breach and escalation paths.
//!
//! SLA clocks are never stored: [`evaluate`] computes them from the definition, the calendar,
//! the request's status history and the current time. Changing a definition (a target, a pause
//! condition, a calendar's holidays) therefore recomputes every past and running clock, and the
//! timers of the job system only need to wake up at the instants this module predicts.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use keel_calendar::{Calendar, format_duration, parse_duration};
use serde::{Deserialize, Serialize};

use crate::intake::PRIORITIES;
use crate::{Party, Problem, Spec, WorkError, check_name, duplicates};

/// One clock of an SLA, such as time to triage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    /// Clock name (`triage`, `approval`, `launch` …).
    pub name: String,
    /// Statuses that start the clock (the first one reached starts it).
    pub starts_on: Vec<String>,
    /// Statuses that stop it.
    pub stops_on: Vec<String>,
    /// Target per priority, in business time such as `4h` or `1h30m`.
    pub targets: BTreeMap<String, String>,
}

/// The `spec` of a `kind: SLA` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaSpec {
    /// Request types held to this SLA.
    pub applies_to: Vec<String>,
    /// Name of the `BusinessCalendar` the clocks run on.
    pub calendar: String,
    /// Statuses during which every clock is paused (for example waiting on the requester).
    #[serde(default)]
    pub pause_when: Vec<String>,
    /// Warn when this percentage of a target has elapsed.
    #[serde(default = "default_warn")]
    pub warn_at_percent: u32,
    /// The clocks.
    pub clocks: Vec<ClockSpec>,
    /// Name of the `EscalationPath` followed when clocks run late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
}

fn default_warn() -> u32 {
    75
}

impl Spec for SlaSpec {
    const KIND: &'static str = "SLA";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.applies_to.is_empty() {
            problems.push(Problem::new(
                "spec.applies_to",
                "name at least one request type",
            ));
        }
        if let Err(m) = check_name(&self.calendar) {
            problems.push(Problem::new("spec.calendar", m));
        }
        if !(1..=99).contains(&self.warn_at_percent) {
            problems.push(Problem::new(
                "spec.warn_at_percent",
                "must be between 1 and 99",
            ));
        }
        if self.clocks.is_empty() {
            problems.push(Problem::new(
                "spec.clocks",
                "an SLA needs at least one clock",
            ));
        }
        problems.extend(duplicates(
            self.clocks.iter().map(|c| c.name.as_str()),
            |i| format!("spec.clocks[{i}].name"),
            "clock",
        ));
        for (i, c) in self.clocks.iter().enumerate() {
            let p = format!("spec.clocks[{i}]");
            if let Err(m) = check_name(&c.name) {
                problems.push(Problem::new(format!("{p}.name"), m));
            }
            if c.starts_on.is_empty() {
                problems.push(Problem::new(
                    format!("{p}.starts_on"),
                    "name the statuses that start the clock",
                ));
            }
            if c.stops_on.is_empty() {
                problems.push(Problem::new(
                    format!("{p}.stops_on"),
                    "name the statuses that stop the clock",
                ));
            }
            for (j, s) in c.stops_on.iter().enumerate() {
                if c.starts_on.contains(s) {
                    problems.push(Problem::new(
                        format!("{p}.stops_on[{j}]"),
                        format!("{s:?} both starts and stops the clock"),
                    ));
                }
                if self.pause_when.contains(s) {
                    problems.push(Problem::new(
                        format!("{p}.stops_on[{j}]"),
                        format!("{s:?} both pauses and stops the clock"),
                    ));
                }
            }
            if c.targets.is_empty() {
                problems.push(Problem::new(
                    format!("{p}.targets"),
                    "give a target for at least one priority",
                ));
            }
            for (priority, target) in &c.targets {
                let tp = format!("{p}.targets.{priority}");
                if !PRIORITIES.contains(&priority.as_str()) {
                    problems.push(Problem::new(
                        tp.clone(),
                        format!("unknown priority; use {}", PRIORITIES.join(", ")),
                    ));
                }
                match parse_duration(target) {
                    Ok(d) if d <= TimeDelta::zero() => {
                        problems.push(Problem::new(tp, "must be more than zero"))
                    }
                    Ok(_) => {}
                    Err(m) => problems.push(Problem::new(tp, m)),
                }
            }
        }
        problems
    }
}

/// One level of an escalation path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    /// Level number, 1 upwards.
    pub level: u32,
    /// Who is told.
    pub notify: Vec<Party>,
    /// Fires when this percentage of the target has elapsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_percent: Option<u32>,
    /// Fires this long (business time) after the breach; `0h` fires at the breach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_breach: Option<String>,
}

/// The `spec` of a `kind: EscalationPath` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationPathSpec {
    /// Levels in order.
    pub levels: Vec<LevelSpec>,
}

impl Spec for EscalationPathSpec {
    const KIND: &'static str = "EscalationPath";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.levels.is_empty() {
            problems.push(Problem::new(
                "spec.levels",
                "an escalation path needs at least one level",
            ));
        }
        let mut last: Option<TimeDelta> = None;
        let mut last_percent: Option<u32> = None;
        for (i, l) in self.levels.iter().enumerate() {
            let p = format!("spec.levels[{i}]");
            if usize::try_from(l.level).ok() != Some(i + 1) {
                problems.push(Problem::new(
                    format!("{p}.level"),
                    format!("levels are numbered 1, 2, 3 … in order; expected {}", i + 1),
                ));
            }
            if l.notify.is_empty() {
                problems.push(Problem::new(format!("{p}.notify"), "name who is told"));
            }
            match (l.at_percent, &l.after_breach) {
                (Some(_), Some(_)) | (None, None) => problems.push(Problem::new(
                    p.clone(),
                    "give exactly one of at_percent or after_breach",
                )),
                (Some(pct), None) => {
                    if pct == 0 {
                        problems.push(Problem::new(
                            format!("{p}.at_percent"),
                            "must be more than 0",
                        ));
                    }
                    if last.is_some() || last_percent.is_some_and(|x| x >= pct) {
                        problems.push(Problem::new(
                            format!("{p}.at_percent"),
                            "levels must fire later than the level before",
                        ));
                    }
                    last_percent = Some(pct);
                }
                (None, Some(text)) => match parse_duration(text) {
                    Ok(d) if d < TimeDelta::zero() => problems.push(Problem::new(
                        format!("{p}.after_breach"),
                        "must not be negative",
                    )),
                    Ok(d) => {
                        if last.is_some_and(|x| x >= d) || last_percent.is_some_and(|x| x > 100) {
                            problems.push(Problem::new(
                                format!("{p}.after_breach"),
                                "levels must fire later than the level before",
                            ));
                        }
                        last = Some(d);
                    }
                    Err(m) => problems.push(Problem::new(format!("{p}.after_breach"), m)),
                },
            }
        }
        problems
    }
}

/// Subjects an SLA can hold besides request types, with the statuses their history has:
/// MQL hand-offs (`waiting` until sales `accepted` or `rejected` the lead).
pub const BUILT_IN_SUBJECTS: &[(&str, &[&str])] =
    &[("mql_handoff", &["waiting", "accepted", "rejected"])];

/// The statuses of a built-in subject, `None` for any other name (a request type).
pub fn built_in_subject(name: &str) -> Option<&'static [&'static str]> {
    BUILT_IN_SUBJECTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, states)| *states)
}

/// A status change of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// The new status.
    pub status: String,
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// No starting status reached yet.
    NotStarted,
    /// Counting.
    Running,
    /// Paused by a pause condition.
    Paused,
    /// Stopped by a stopping status.
    Stopped,
}

/// How a clock is doing against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaStatus {
    /// Within target, below the warning threshold.
    Ok,
    /// Past the warning threshold, not yet breached.
    Warning,
    /// Over target.
    Breached,
}

/// An escalation level whose trigger has been reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueEscalation {
    /// Stable key (`clock:level`) so each fires once.
    pub key: String,
    /// Level number.
    pub level: u32,
    /// Who is told.
    pub notify: Vec<Party>,
    /// When it became due.
    pub due_at: DateTime<Utc>,
}

/// One clock of one request, computed from its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockReport {
    /// Clock name.
    pub clock: String,
    /// State.
    pub state: ClockState,
    /// Status against target.
    pub status: SlaStatus,
    /// The target for the request's priority.
    pub target: TimeDelta,
    /// Business time counted.
    pub elapsed: TimeDelta,
    /// Business time spent paused.
    pub paused: TimeDelta,
    /// Target minus elapsed (negative once breached).
    pub remaining: TimeDelta,
    /// When the clock started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it stopped.
    pub stopped_at: Option<DateTime<Utc>>,
    /// When the warning threshold is (or was) reached; projected while running, unknown while paused.
    pub warn_at: Option<DateTime<Utc>>,
    /// When the target is (or was) breached; projected while running, unknown while paused.
    pub breach_at: Option<DateTime<Utc>>,
    /// Escalation levels reached.
    pub escalations_due: Vec<DueEscalation>,
    /// The next instant at which something changes (warning, breach or escalation), for timers.
    pub next_check: Option<DateTime<Utc>>,
}

impl ClockReport {
    /// A one-line summary such as `triage: warning, 3h15m of 4h used, 45m left`.
    pub fn summary(&self) -> String {
        let state = match self.status {
            SlaStatus::Ok => "ok",
            SlaStatus::Warning => "warning",
            SlaStatus::Breached => "breached",
        };
        format!(
            "{}: {state}, {} of {} used, {} {}",
            self.clock,
            format_duration(self.elapsed),
            format_duration(self.target),
            format_duration(self.remaining.abs()),
            if self.remaining < TimeDelta::zero() {
                "over"
            } else {
                "left"
            }
        )
    }
}

/// Computes every clock of `sla` that has a target for `priority`, from the request's status
/// history up to `now`. Events after `now` are ignored; events need not be sorted.
pub fn evaluate(
    sla: &SlaSpec,
    calendar: &Calendar,
    priority: &str,
    events: &[StatusEvent],
    escalation: Option<&EscalationPathSpec>,
    now: DateTime<Utc>,
) -> Result<Vec<ClockReport>, WorkError> {
    let mut history: Vec<&StatusEvent> = events.iter().filter(|e| e.at <= now).collect();
    history.sort_by_key(|e| e.at);
    let mut out = Vec::new();
    for clock in &sla.clocks {
        let Some(target_text) = clock.targets.get(priority) else {
            continue;
        };
        let target = parse_duration(target_text).map_err(|m| WorkError::Invalid {
            kind: SlaSpec::KIND.into(),
            name: clock.name.clone(),
            problems: vec![Problem::new(format!("clock {}", clock.name), m)],
        })?;
        out.push(evaluate_clock(
            sla, clock, calendar, target, &history, escalation, now,
        )?);
    }
    Ok(out)
}

fn evaluate_clock(
    sla: &SlaSpec,
    clock: &ClockSpec,
    cal: &Calendar,
    target: TimeDelta,
    history: &[&StatusEvent],
    escalation: Option<&EscalationPathSpec>,
    now: DateTime<Utc>,
) -> Result<ClockReport, WorkError> {
    let Some(start_idx) = history
        .iter()
        .position(|e| clock.starts_on.contains(&e.status))
    else {
        return Ok(ClockReport {
            clock: clock.name.clone(),
            state: ClockState::NotStarted,
            status: SlaStatus::Ok,
            target,
            elapsed: TimeDelta::zero(),
            paused: TimeDelta::zero(),
            remaining: target,
            started_at: None,
            stopped_at: None,
            warn_at: None,
            breach_at: None,
            escalations_due: Vec::new(),
            next_check: None,
        });
    };
    let relevant = history.get(start_idx..).unwrap_or(&[]);
    // Running segments as (from, to), and the clock's end.
    let mut running: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut paused = TimeDelta::zero();
    let mut stopped_at = None;
    let mut last_paused = false;
    for (i, e) in relevant.iter().enumerate() {
        if i > 0 && clock.stops_on.contains(&e.status) {
            stopped_at = Some(e.at);
            break;
        }
        let until = relevant.get(i + 1).map_or(now, |n| n.at);
        let is_paused = sla.pause_when.contains(&e.status);
        last_paused = is_paused;
        if is_paused {
            paused += cal.business_time_between(e.at, until);
        } else if until > e.at {
            running.push((e.at, until));
        }
    }
    let elapsed = running.iter().fold(TimeDelta::zero(), |acc, (a, b)| {
        acc + cal.business_time_between(*a, *b)
    });
    let state = match (stopped_at, last_paused) {
        (Some(_), _) => ClockState::Stopped,
        (None, true) => ClockState::Paused,
        (None, false) => ClockState::Running,
    };
    // The instant the clock reaches `x` of business time: in the past if already reached,
    // projected from now if running, unknown if paused or stopped before reaching it.
    let reach = |x: TimeDelta| -> Result<Option<DateTime<Utc>>, WorkError> {
        let mut acc = TimeDelta::zero();
        for (a, b) in &running {
            let span = cal.business_time_between(*a, *b);
            if acc + span >= x && x > acc {
                return Ok(Some(cal.add_business_time(*a, x - acc)?));
            }
            acc += span;
        }
        if x <= TimeDelta::zero() {
            return Ok(running.first().map(|(a, _)| *a));
        }
        Ok(match state {
            ClockState::Running => Some(cal.add_business_time(now, x - acc)?),
            _ => None,
        })
    };
    let warn_threshold = target * i32::try_from(sla.warn_at_percent).unwrap_or(75) / 100;
    let status = if elapsed > target {
        SlaStatus::Breached
    } else if elapsed >= warn_threshold && state != ClockState::Stopped {
        SlaStatus::Warning
    } else {
        SlaStatus::Ok
    };
    let warn_at = reach(warn_threshold)?;
    let breach_at = reach(target)?;
    let mut escalations_due = Vec::new();
    let mut next_check = [warn_at, breach_at]
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min();
    for level in escalation.map(|e| e.levels.as_slice()).unwrap_or(&[]) {
        let (threshold, after_breach) = match (level.at_percent, &level.after_breach) {
            (Some(p), _) => (target * i32::try_from(p).unwrap_or(100) / 100, false),
            (None, Some(text)) => (
                target + parse_duration(text).unwrap_or_else(|_| TimeDelta::zero()),
                true,
            ),
            (None, None) => continue,
        };
        let reached = if after_breach {
            elapsed > target && elapsed >= threshold
        } else {
            elapsed >= threshold
        };
        let due_at = reach(threshold)?;
        if reached {
            if let Some(due_at) = due_at {
                escalations_due.push(DueEscalation {
                    key: format!("{}:{}", clock.name, level.level),
                    level: level.level,
                    notify: level.notify.clone(),
                    due_at,
                });
            }
        } else if let Some(t) = due_at {
            next_check = Some(next_check.map_or(t, |n| n.min(t)));
        }
    }
    Ok(ClockReport {
        clock: clock.name.clone(),
        state,
        status,
        target,
        elapsed,
        paused,
        remaining: target - elapsed,
        started_at: relevant.first().map(|e| e.at),
        stopped_at,
        warn_at,
        breach_at,
        escalations_due,
        next_check: if state == ClockState::Running {
            next_check
        } else {
            None
        },
    })
}

#[cfg(test)]
mod tests;
