//! Business calendars: working hours per weekday in an IANA time zone, minus holidays, and the
//! arithmetic that SLAs and schedules need on top of them ("add 16 business hours", "how many
//! business hours between these two instants", "the 5th working day after this date").
//!
//! The crate is pure: a [`BusinessCalendarSpec`] (the `spec` of a `kind: BusinessCalendar`
//! document) is validated into a [`Calendar`], and every operation is a function of its inputs.
//!
//! Working time is defined in local wall-clock time and converted to instants per day, so a
//! 09:00–17:00 day stays 09:00–17:00 local on both sides of a daylight-saving change. When a
//! boundary falls into a local-time gap (spring forward) it moves to the first instant after the
//! gap; when it is ambiguous (fall back) the earlier instant is used. Working days whose hours
//! straddle such a transition therefore last as long as real time says they do.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// One problem found while validating a document: a dotted path inside the document
/// (for example `spec.hours.monday[1]`) and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Dotted path inside the document, such as `spec.tasks[2].depends_on[0]`.
    pub path: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl Problem {
    /// A problem at `path` with `message`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl Problem {
    /// The problem as the ops-as-code loader takes it: an error whose path is relative to the
    /// document root (`spec.hours.monday[1]`), as in every check over loaded documents.
    pub fn to_manifests(&self) -> keel_manifests::Problem {
        keel_manifests::Problem::error(self.path.clone(), self.message.clone())
    }

    /// The problem as a kind's own check reports it to the loader: an error whose path is
    /// relative to `spec` (`hours.monday[1]`).
    pub fn to_manifests_in_spec(&self) -> keel_manifests::Problem {
        let path = match self.path.strip_prefix("spec") {
            Some(rest) if rest.is_empty() || rest.starts_with('[') => rest,
            Some(rest) => rest.strip_prefix('.').unwrap_or(self.path.as_str()),
            None => self.path.as_str(),
        };
        keel_manifests::Problem::error(path, self.message.clone())
    }
}

/// `kind: BusinessCalendar` is an ops-as-code kind: `keel check`, `plan`, `apply` and `export`
/// read and write it, checked against this type's schema and [`BusinessCalendarSpec::validate`].
impl keel_manifests::Spec for BusinessCalendarSpec {
    const KIND: &'static str = "BusinessCalendar";

    fn validate(&self) -> Vec<keel_manifests::Problem> {
        BusinessCalendarSpec::validate(self)
            .iter()
            .map(Problem::to_manifests_in_spec)
            .collect()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Errors of business-calendar arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The specification did not validate; every problem is listed.
    #[error("invalid business calendar: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    /// No working time was found within the search horizon (for example, a year of holidays).
    #[error("no working time within {days} days after {from}")]
    NoWorkingTime {
        /// Where the search started.
        from: DateTime<Utc>,
        /// How many days were searched.
        days: u32,
    },
    /// The requested date lies outside the range chrono can represent.
    #[error("date out of range")]
    OutOfRange,
}

/// How far arithmetic searches for working time before giving up (about ten years).
const HORIZON_DAYS: u32 = 3660;

/// A holiday: a local date with no working time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// The local date.
    pub date: NaiveDate,
    /// What the day is (for explanations).
    #[serde(default)]
    pub name: Option<String>,
}

/// Working hours per weekday; each entry is a list of `"HH:MM-HH:MM"` ranges in local time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeekHours {
    /// Monday ranges.
    #[serde(default)]
    pub monday: Vec<String>,
    /// Tuesday ranges.
    #[serde(default)]
    pub tuesday: Vec<String>,
    /// Wednesday ranges.
    #[serde(default)]
    pub wednesday: Vec<String>,
    /// Thursday ranges.
    #[serde(default)]
    pub thursday: Vec<String>,
    /// Friday ranges.
    #[serde(default)]
    pub friday: Vec<String>,
    /// Saturday ranges.
    #[serde(default)]
    pub saturday: Vec<String>,
    /// Sunday ranges.
    #[serde(default)]
    pub sunday: Vec<String>,
}

impl WeekHours {
    fn days(&self) -> [(Weekday, &'static str, &Vec<String>); 7] {
        [
            (Weekday::Mon, "monday", &self.monday),
            (Weekday::Tue, "tuesday", &self.tuesday),
            (Weekday::Wed, "wednesday", &self.wednesday),
            (Weekday::Thu, "thursday", &self.thursday),
            (Weekday::Fri, "friday", &self.friday),
            (Weekday::Sat, "saturday", &self.saturday),
            (Weekday::Sun, "sunday", &self.sunday),
        ]
    }
}

/// The `spec` of a `kind: BusinessCalendar` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessCalendarSpec {
    /// IANA time zone name, such as `Europe/Berlin`.
    pub timezone: String,
    /// Working hours per weekday.
    pub hours: WeekHours,
    /// Days off.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

impl BusinessCalendarSpec {
    /// Every problem in this specification, with paths relative to the document root.
    pub fn validate(&self) -> Vec<Problem> {
        match self.compile() {
            Ok(_) => Vec::new(),
            Err(CalendarError::Invalid(problems)) => problems,
            Err(other) => vec![Problem::new("spec", other.to_string())],
        }
    }

    /// Validates and turns the specification into a [`Calendar`] ready for arithmetic.
    pub fn compile(&self) -> Result<Calendar, CalendarError> {
        let mut problems = Vec::new();
        let tz: Option<Tz> = match self.timezone.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                problems.push(Problem::new(
                    "spec.timezone",
                    format!(
                        "unknown time zone {:?}; use an IANA name such as Europe/Berlin",
                        self.timezone
                    ),
                ));
                None
            }
        };
        let mut week: [Vec<(NaiveTime, NaiveTime)>; 7] = Default::default();
        for (weekday, name, ranges) in self.hours.days() {
            let mut parsed: Vec<(NaiveTime, NaiveTime, usize)> = Vec::new();
            for (i, range) in ranges.iter().enumerate() {
                let path = format!("spec.hours.{name}[{i}]");
                match parse_range(range) {
                    Ok((start, end)) => parsed.push((start, end, i)),
                    Err(message) => problems.push(Problem::new(path, message)),
                }
            }
            parsed.sort();
            for pair in parsed.windows(2) {
                if let [a, b] = pair
                    && b.0 < a.1
                {
                    problems.push(Problem::new(
                        format!("spec.hours.{name}[{}]", b.2),
                        format!(
                            "overlaps {:?}",
                            ranges.get(a.2).cloned().unwrap_or_default()
                        ),
                    ));
                }
            }
            if let Some(slot) = week.get_mut(weekday.num_days_from_monday() as usize) {
                *slot = parsed.into_iter().map(|(s, e, _)| (s, e)).collect();
            }
        }
        if week.iter().all(Vec::is_empty) {
            problems.push(Problem::new(
                "spec.hours",
                "no working hours on any weekday; add at least one range such as \"09:00-17:00\"",
            ));
        }
        let mut holidays = BTreeMap::new();
        for (i, holiday) in self.holidays.iter().enumerate() {
            if holidays
                .insert(holiday.date, holiday.name.clone().unwrap_or_default())
                .is_some()
            {
                problems.push(Problem::new(
                    format!("spec.holidays[{i}].date"),
                    format!("{} is listed twice", holiday.date),
                ));
            }
        }
        match tz {
            Some(tz) if problems.is_empty() => Ok(Calendar { tz, week, holidays }),
            _ => Err(CalendarError::Invalid(problems)),
        }
    }
}

fn parse_range(range: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let Some((a, b)) = range.split_once('-') else {
        return Err(format!(
            "{range:?} is not a time range; write it as \"09:00-17:30\""
        ));
    };
    let start = parse_time(a.trim())?;
    let end = if b.trim() == "24:00" {
        None
    } else {
        Some(parse_time(b.trim())?)
    };
    // A day that ends at midnight is stored as 23:59:59.999…, the last representable time.
    let end = match end {
        Some(end) => end,
        None => NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999)
            .ok_or_else(|| "bad time".to_owned())?,
    };
    if end <= start {
        return Err(format!("range {range:?} ends before it starts"));
    }
    Ok((start, end))
}

fn parse_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| format!("{s:?} is not a time of day; write it as HH:MM (24-hour)"))
}

/// A validated business calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: Tz,
    week: [Vec<(NaiveTime, NaiveTime)>; 7],
    holidays: BTreeMap<NaiveDate, String>,
}

/// A half-open interval of working time `[start, end)`.
pub type Interval = (DateTime<Utc>, DateTime<Utc>);

impl Calendar {
    /// The calendar's time zone.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The local date of an instant in this calendar's time zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The holiday name if `date` is a holiday.
    pub fn holiday(&self, date: NaiveDate) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    /// Whether `date` has any working time (a working weekday that is not a holiday).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.holidays.contains_key(&date) && !self.ranges(date.weekday()).is_empty()
    }

    fn ranges(&self, weekday: Weekday) -> &[(NaiveTime, NaiveTime)] {
        self.week
            .get(weekday.num_days_from_monday() as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Working intervals of a local date, as instants, in order. Empty on holidays and days off.
    pub fn intervals_on(&self, date: NaiveDate) -> Vec<Interval> {
        if self.holidays.contains_key(&date) {
            return Vec::new();
        }
        self.ranges(date.weekday())
            .iter()
            .filter_map(|(s, e)| {
                let start = self.instant(date.and_time(*s))?;
                let end = self.instant(date.and_time(*e))?;
                (end > start).then_some((start, end))
            })
            .collect()
    }

    /// Total working time of a local date.
    pub fn working_time_on(&self, date: NaiveDate) -> TimeDelta {
        self.intervals_on(date)
            .iter()
            .fold(TimeDelta::zero(), |acc, (s, e)| acc + (*e - *s))
    }

    /// Nominal working time of a week (the weekday hours, ignoring holidays and DST).
    pub fn nominal_week(&self) -> TimeDelta {
        self.week
            .iter()
            .flatten()
            .fold(TimeDelta::zero(), |acc, (s, e)| acc + (*e - *s))
    }

    /// Nominal working time of `date`'s weekday, or zero on a holiday; DST is ignored, which is
    /// what capacity planning wants (a person's day is a day).
    pub fn nominal_day(&self, date: NaiveDate) -> TimeDelta {
        if self.holidays.contains_key(&date) {
            return TimeDelta::zero();
        }
        self.ranges(date.weekday())
            .iter()
            .fold(TimeDelta::zero(), |acc, (s, e)| acc + (*e - *s))
    }

    /// Maps a local wall-clock time to an instant: ambiguous times take the earlier instant,
    /// times in a gap move to the first instant after the gap.
    fn instant(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
            LocalResult::None => {
                // Gaps are whole minutes long and at most a few hours: the first local minute
                // that exists again is where the gap ends. Working hours are given in minutes.
                let mut probe = local;
                for _ in 0..(26 * 60) {
                    probe = probe.checked_add_signed(TimeDelta::minutes(1))?;
                    if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                        return Some(t.with_timezone(&Utc));
                    }
                }
                None
            }
        }
    }

    /// Iterates working intervals starting with the local day that contains `from`
    /// (and the day before, which can matter for ranges near midnight), bounded by the horizon.
    fn intervals_from(&self, from: DateTime<Utc>) -> impl Iterator<Item = Interval> + '_ {
        let first = self.local_date(from).pred_opt().unwrap_or(NaiveDate::MIN);
        (0..HORIZON_DAYS)
            .filter_map(move |i| first.checked_add_days(Days::new(u64::from(i))))
            .flat_map(move |d| self.intervals_on(d))
            .filter(move |(_, e)| *e > from)
    }

    /// Iterates working intervals backwards, ending with the local day that contains `to`.
    fn intervals_before(&self, to: DateTime<Utc>) -> impl Iterator<Item = Interval> + '_ {
        let last = self.local_date(to).succ_opt().unwrap_or(NaiveDate::MAX);
        (0..HORIZON_DAYS)
            .filter_map(move |i| last.checked_sub_days(Days::new(u64::from(i))))
            .flat_map(move |d| self.intervals_on(d).into_iter().rev())
            .filter(move |(s, _)| *s < to)
    }

    /// Whether `at` falls in working time.
    pub fn is_working_time(&self, at: DateTime<Utc>) -> bool {
        let date = self.local_date(at);
        [date.pred_opt(), Some(date)]
            .into_iter()
            .flatten()
            .flat_map(|d| self.intervals_on(d))
            .any(|(s, e)| s <= at && at < e)
    }

    /// The first instant at or after `at` that is working time.
    pub fn next_working_instant(&self, at: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        self.intervals_from(at)
            .next()
            .map(|(s, _)| s.max(at))
            .ok_or(CalendarError::NoWorkingTime {
                from: at,
                days: HORIZON_DAYS,
            })
    }

    /// The earliest instant `t` such that the business time between `start` and `t` equals
    /// `duration`. A zero duration returns `start` itself; a negative one counts backwards.
    pub fn add_business_time(
        &self,
        start: DateTime<Utc>,
        duration: TimeDelta,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if duration.is_zero() {
            return Ok(start);
        }
        if duration < TimeDelta::zero() {
            return self.sub_business_time(start, -duration);
        }
        let mut left = duration;
        for (s, e) in self.intervals_from(start) {
            let s = s.max(start);
            let span = e - s;
            if span >= left {
                return Ok(s + left);
            }
            left -= span;
        }
        Err(CalendarError::NoWorkingTime {
            from: start,
            days: HORIZON_DAYS,
        })
    }

    fn sub_business_time(
        &self,
        end: DateTime<Utc>,
        duration: TimeDelta,
    ) -> Result<DateTime<Utc>, CalendarError> {
        let mut left = duration;
        for (s, e) in self.intervals_before(end) {
            let e = e.min(end);
            let span = e - s;
            if span >= left {
                return Ok(e - left);
            }
            left -= span;
        }
        Err(CalendarError::NoWorkingTime {
            from: end,
            days: HORIZON_DAYS,
        })
    }

    /// Business time between two instants; negative when `to` is before `from`.
    pub fn business_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        if to < from {
            return -self.business_time_between(to, from);
        }
        let mut total = TimeDelta::zero();
        for (s, e) in self.intervals_from(from) {
            if s >= to {
                break;
            }
            total += e.min(to) - s.max(from);
        }
        total
    }

    /// The `n`-th working day after `date` (`n = 0` returns `date` if it is a working day,
    /// otherwise the next working day).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut day = date;
        let mut count = 0u32;
        if self.is_working_day(day) && n == 0 {
            return Ok(day);
        }
        for _ in 0..(HORIZON_DAYS + n.saturating_mul(7)) {
            day = day.succ_opt().ok_or(CalendarError::OutOfRange)?;
            if self.is_working_day(day) {
                count += 1;
                if count >= n.max(1) {
                    return Ok(day);
                }
            }
        }
        Err(CalendarError::NoWorkingTime {
            from: Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)),
            days: HORIZON_DAYS,
        })
    }

    /// The first working day on or after `date`.
    pub fn working_day_on_or_after(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        self.add_working_days(date, 0)
    }

    /// Number of working days in `[from, to)`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .take_while(|d| *d < to)
            .filter(|d| self.is_working_day(*d))
            .fold(0u32, |n, _| n.saturating_add(1))
    }

    /// The holidays of the calendar, in date order.
    pub fn holidays(&self) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.holidays.iter().map(|(d, n)| (*d, n.as_str()))
    }

    /// Weekdays without working hours (for explanations).
    pub fn days_off(&self) -> Vec<Weekday> {
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .filter(|w| self.ranges(*w).is_empty())
        .collect()
    }
}

/// Parses a duration written as `4h`, `30m`, `1h30m` or `90m` (hours and minutes only, because
/// "a day" means different things on different calendars).
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; write it as 4h, 30m or 1h30m".into());
    }
    let mut total = TimeDelta::zero();
    let mut number = String::new();
    let mut seen_unit = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration; write it as 4h, 30m or 1h30m"))?;
        number.clear();
        total += match c {
            'h' => TimeDelta::try_hours(n),
            'm' => TimeDelta::try_minutes(n),
            'd' | 'w' => {
                return Err(format!(
                    "{text:?}: days and weeks are ambiguous on a business calendar; give hours (for example 16h)"
                ));
            }
            _ => None,
        }
        .ok_or_else(|| format!("{text:?} is not a duration; write it as 4h, 30m or 1h30m"))?;
        seen_unit = true;
    }
    if !number.is_empty() || !seen_unit {
        return Err(format!(
            "{text:?} is not a duration; write it as 4h, 30m or 1h30m"
        ));
    }
    Ok(total)
}

/// Formats a duration as `1h30m` (the inverse of [`parse_duration`] for whole minutes).
pub fn format_duration(d: TimeDelta) -> String {
    let sign = if d < TimeDelta::zero() { "-" } else { "" };
    let minutes = d.num_minutes().unsigned_abs();
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{sign}{m}m"),
        (h, 0) => format!("{sign}{h}h"),
        (h, m) => format!("{sign}{h}h{m}m"),
    }
}

#[cfg(test)]
mod tests;
