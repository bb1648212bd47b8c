//! Axis ticks: "nice" numeric steps (1, 2 or 5 times a power of ten) and calendar-aware time
//! ticks (hours, days, weeks starting Monday, months, quarters, years).

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, Timelike, Utc};

/// Numeric ticks covering a domain: the axis runs from `min` to `max` in steps of `step`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    /// First tick (at or below the data minimum).
    pub min: f64,
    /// Last tick (at or above the data maximum).
    pub max: f64,
    /// Distance between ticks: 1, 2 or 5 times a power of ten.
    pub step: f64,
    /// The tick values from `min` to `max`.
    pub values: Vec<f64>,
}

/// The smallest 1-2-5 step that is at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    let fraction = raw / base;
    let multiple = if fraction <= 1.0 + 1e-9 {
        1.0
    } else if fraction <= 2.0 + 1e-9 {
        2.0
    } else if fraction <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    multiple * base
}

/// The next larger 1-2-5 step after `step`.
fn next_step(step: f64) -> f64 {
    nice_step(step * 1.5)
}

/// Nice ticks covering `[lo, hi]` with at most `max_ticks` ticks (clamped to 2..=50).
///
/// Degenerate domains are widened: NaN or infinite bounds give `0..1`, a single value `v` gives
/// a small range around it, and reversed bounds are swapped.
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Ticks {
    let max_ticks = max_ticks.clamp(2, 50);
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (0.0, 1.0)
    };
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        if lo == 0.0 {
            hi = 1.0;
        } else {
            let pad = lo.abs() * 0.1;
            lo -= pad;
            hi += pad;
        }
    }
    let mut step = nice_step((hi - lo) / (max_ticks - 1) as f64);
    let (first, last) = loop {
        let first = (lo / step + 1e-9).floor();
        let last = (hi / step - 1e-9).ceil();
        if last - first < max_ticks as f64 || !step.is_finite() {
            break (first, last);
        }
        step = next_step(step);
    };
    let decimals = (-step.log10().floor()).max(0.0) as i32 + 1;
    let round = |v: f64| {
        let p = 10f64.powi(decimals.min(15));
        (v * p).round() / p + 0.0
    };
    let count = (last - first).max(0.0) as usize;
    let values: Vec<f64> = (0..=count)
        .map(|k| round((first + k as f64) * step))
        .collect();
    Ticks {
        min: round(first * step),
        max: round(last * step),
        step,
        values,
    }
}

/// A tick on a time axis with its label.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeTick {
    /// The instant of the tick.
    pub at: DateTime<Utc>,
    /// Its label, e.g. `Mar 4`, `Mar 2026`, `14:00`, `2027`.
    pub label: String,
}

/// Calendar intervals tried from finest to coarsest.
#[derive(Debug, Clone, Copy)]
enum Interval {
    Hours(u32),
    Days(u32),
    Weeks(u32),
    Months(u32),
    Years(i32),
}

const INTERVALS: [Interval; 15] = [
    Interval::Hours(1),
    Interval::Hours(3),
    Interval::Hours(6),
    Interval::Hours(12),
    Interval::Days(1),
    Interval::Days(2),
    Interval::Weeks(1),
    Interval::Weeks(2),
    Interval::Months(1),
    Interval::Months(3),
    Interval::Months(6),
    Interval::Years(1),
    Interval::Years(2),
    Interval::Years(5),
    Interval::Years(10),
];

/// Calendar ticks between `start` and `end` (inclusive), at most `max_ticks` of them (clamped
/// to 2..=50), on the finest interval that fits: hours, days, weeks (Mondays), months,
/// quarters, half-years or years. Labels show the year where it changes.
pub fn time_ticks(start: DateTime<Utc>, end: DateTime<Utc>, max_ticks: usize) -> Vec<TimeTick> {
    let max_ticks = max_ticks.clamp(2, 50);
    let (start, end) = if start <= end {
        (start, end)
    } else {
        (end, start)
    };
    for interval in INTERVALS {
        if let Some(instants) = instants(interval, start, end, max_ticks) {
            if instants.is_empty() {
                continue;
            }
            return label(interval, &instants, start.year() != end.year());
        }
    }
    // Spans beyond a few centuries: just the two ends.
    label(Interval::Years(1), &[start, end], true)
}

/// The instants of `interval` inside `[start, end]`, or `None` when there would be more than
/// `max` of them.
fn instants(
    interval: Interval,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max: usize,
) -> Option<Vec<DateTime<Utc>>> {
    let rough = match interval {
        Interval::Hours(n) => (end - start).num_hours() / i64::from(n),
        Interval::Days(n) => (end - start).num_days() / i64::from(n),
        Interval::Weeks(n) => (end - start).num_weeks() / i64::from(n),
        Interval::Months(n) => (end - start).num_days() / (31 * i64::from(n)),
        Interval::Years(n) => (end - start).num_days() / (366 * i64::from(n)),
    };
    if rough > max as i64 + 1 {
        return None;
    }
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let mut at = match interval {
        Interval::Hours(n) => {
            let hour = start
                .with_minute(0)
                .and_then(|t| t.with_second(0))
                .and_then(|t| t.with_nanosecond(0))?;
            let hour = if hour < start {
                hour + TimeDelta::hours(1)
            } else {
                hour
            };
            let offset = (n - hour.hour() % n) % n;
            hour + TimeDelta::hours(i64::from(offset))
        }
        Interval::Days(_) => {
            let day = midnight(start.date_naive())?;
            if day < start {
                day + TimeDelta::days(1)
            } else {
                day
            }
        }
        Interval::Weeks(_) => {
            let day = start.date_naive();
            let monday = day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()));
            let monday = midnight(monday)?;
            if monday < start {
                monday + TimeDelta::weeks(1)
            } else {
                monday
            }
        }
        Interval::Months(n) => {
            let first = NaiveDate::from_ymd_opt(start.year(), start.month(), 1)?;
            let mut first = midnight(first)?;
            if first < start {
                first = first.checked_add_months(Months::new(1))?;
            }
            let offset = (n - first.month0() % n) % n;
            first.checked_add_months(Months::new(offset))?
        }
        Interval::Years(n) => {
            let mut year = start.year();
            if midnight(NaiveDate::from_ymd_opt(year, 1, 1)?)? < start {
                year += 1;
            }
            let year = year + (n - year.rem_euclid(n)) % n;
            midnight(NaiveDate::from_ymd_opt(year, 1, 1)?)?
        }
    };
    let mut out = Vec::new();
    while at <= end {
        if out.len() >= max {
            return None;
        }
        out.push(at);
        at = match interval {
            Interval::Hours(n) => at + TimeDelta::hours(i64::from(n)),
            Interval::Days(n) => at + TimeDelta::days(i64::from(n)),
            Interval::Weeks(n) => at + TimeDelta::weeks(i64::from(n)),
            Interval::Months(n) => at.checked_add_months(Months::new(n))?,
            Interval::Years(n) => at.checked_add_months(Months::new(12 * n.unsigned_abs()))?,
        };
    }
    Some(out)
}

fn label(interval: Interval, instants: &[DateTime<Utc>], spans_years: bool) -> Vec<TimeTick> {
    let mut previous: Option<DateTime<Utc>> = None;
    instants
        .iter()
        .map(|&at| {
            let year_changed = previous.is_none_or(|p| p.year() != at.year());
            let day_changed = previous.is_none_or(|p| p.date_naive() != at.date_naive());
            let label = match interval {
                Interval::Hours(_) if day_changed => at.format("%b %-d %H:%M").to_string(),
                Interval::Hours(_) => at.format("%H:%M").to_string(),
                Interval::Days(_) | Interval::Weeks(_) if spans_years && year_changed => {
                    at.format("%b %-d, %Y").to_string()
                }
                Interval::Days(_) | Interval::Weeks(_) => at.format("%b %-d").to_string(),
                Interval::Months(_) if year_changed => at.format("%b %Y").to_string(),
                Interval::Months(_) => at.format("%b").to_string(),
                Interval::Years(_) => at.format("%Y").to_string(),
            };
            previous = Some(at);
            TimeTick { at, label }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_default()
    }

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(230.0), 500.0);
        assert_eq!(nice_step(0.013), 0.02);
        assert_eq!(nice_step(-1.0), 1.0);
        assert_eq!(nice_step(f64::NAN), 1.0);
    }

    #[test]
    fn ticks_cover_domain() {
        let t = nice_ticks(0.0, 97.0, 6);
        assert_eq!(t.values, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let t = nice_ticks(-13.0, 42.0, 6);
        assert!(t.min <= -13.0 && t.max >= 42.0);
        assert!(t.values.len() <= 6);
        assert!(t.values.contains(&0.0));
        let t = nice_ticks(0.0, 0.3, 5);
        assert_eq!(t.values, vec![0.0, 0.1, 0.2, 0.3]);
    }

    #[test]
    fn ticks_of_degenerate_domains() {
        assert_eq!(nice_ticks(0.0, 0.0, 5).values, vec![0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(f64::NAN, 3.0, 5).values, vec![0.0, 0.5, 1.0]);
        let t = nice_ticks(50.0, 50.0, 5);
        assert!(t.min < 50.0 && t.max > 50.0);
        let t = nice_ticks(10.0, 0.0, 5);
        assert_eq!(t.min, 0.0);
        assert_eq!(t.max, 10.0);
        let t = nice_ticks(0.0, 1e300, 5);
        assert!(t.values.len() <= 5);
        let t = nice_ticks(0.0, 10.0, usize::MAX);
        assert!(t.values.len() <= 50);
    }

    #[test]
    fn ticks_are_always_ordered_and_bounded() {
        let mut seed: u64 = 7;
        for _ in 0..500 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
                * 10f64.powi((seed % 12) as i32 - 4);
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let b = ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
                * 10f64.powi((seed % 12) as i32 - 4);
            let n = (seed % 10) as usize + 2;
            let t = nice_ticks(a, b, n);
            assert!(
                t.values.len() >= 2 && t.values.len() <= n,
                "{a} {b} {n}: {:?}",
                t.values
            );
            assert!(t.values.windows(2).all(|w| w[0] < w[1]));
            assert!(t.min <= a.min(b) + 1e-6 * t.step, "{a} {b}: {t:?}");
            assert!(t.max >= a.max(b) - 1e-6 * t.step, "{a} {b}: {t:?}");
        }
    }

    #[test]
    fn daily_ticks_for_a_week() {
        let ticks = time_ticks(day(2026, 3, 2), day(2026, 3, 8), 8);
        let labels: Vec<_> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            vec![
                "Mar 2", "Mar 3", "Mar 4", "Mar 5", "Mar 6", "Mar 7", "Mar 8"
            ]
        );
    }

    #[test]
    fn weekly_ticks_start_on_monday() {
        let ticks = time_ticks(day(2026, 3, 4), day(2026, 4, 30), 10);
        assert!(ticks.iter().all(|t| t.at.weekday() == chrono::Weekday::Mon));
        assert_eq!(ticks[0].label, "Mar 9");
    }

    #[test]
    fn monthly_ticks_show_year_on_change() {
        let ticks = time_ticks(day(2025, 11, 15), day(2026, 4, 1), 8);
        let labels: Vec<_> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, vec!["Dec 2025", "Jan 2026", "Feb", "Mar", "Apr"]);
    }

    #[test]
    fn quarterly_and_yearly_ticks() {
        let ticks = time_ticks(day(2024, 1, 1), day(2026, 12, 31), 6);
        assert!(ticks.len() <= 6);
        assert!(
            ticks
                .iter()
                .all(|t| t.at.day() == 1 && t.at.month0() % 6 == 0 || t.at.month() == 1)
        );
        let ticks = time_ticks(day(1990, 1, 1), day(2026, 1, 1), 6);
        assert!(ticks.iter().all(|t| t.label.len() == 4));
    }

    #[test]
    fn hourly_ticks_within_a_day() {
        let start = day(2026, 3, 2) + TimeDelta::minutes(90);
        let ticks = time_ticks(start, start + TimeDelta::hours(10), 6);
        assert_eq!(ticks[0].label, "Mar 2 03:00");
        assert_eq!(ticks[1].label, "06:00");
    }

    #[test]
    fn equal_bounds_yield_a_tick() {
        let ticks = time_ticks(day(2026, 3, 2), day(2026, 3, 2), 6);
        assert_eq!(ticks.len(), 1);
    }
}
