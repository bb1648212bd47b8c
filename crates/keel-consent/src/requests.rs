//! Subject-request deadlines (access, erasure, …): when a request is due, when it is due if the
//! extension is used, and whether it is on track.
//!
//! GDPR art. 12(3): one calendar month from receipt, extendable by two further months. A month
//! ends on the same day number of the next month, or on that month's last day when the number
//! does not exist (31 January → 28/29 February), as Regulation 1182/71 counts periods.
//! CCPA §1798.130(a)(2): 45 calendar days, extendable once by another 45. Dates are counted in
//! the organisation's time zone, since "the day of receipt" is a local notion.

use crate::spec::RequestDeadlineRule;
use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// The deadlines of one subject request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestDeadline {
    /// The rule applied.
    pub rule: RequestDeadlineRule,
    /// The local date the request was received.
    pub received_on: NaiveDate,
    /// Last day on which an answer is on time.
    pub due_on: NaiveDate,
    /// Last day on which an answer is on time if the extension is used.
    pub extended_due_on: NaiveDate,
}

/// Where a request stands against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Days left including today.
    OnTrack {
        /// Days until the due date (0 = due today).
        days_left: i64,
    },
    /// Past the (possibly extended) due date.
    Overdue {
        /// Days past the due date.
        days_over: i64,
    },
}

/// Computes the deadlines of a request received at `received_at`, counted in `tz`.
pub fn request_deadline(
    rule: RequestDeadlineRule,
    received_at: DateTime<Utc>,
    tz: Tz,
) -> RequestDeadline {
    let received_on = received_at.with_timezone(&tz).date_naive();
    // chrono clamps month arithmetic to the month's last day, which is the legal rule; the
    // fallbacks only apply at the very end of chrono's date range.
    let (due_on, extended_due_on) = match rule {
        RequestDeadlineRule::OneMonthPlusTwo => (
            received_on
                .checked_add_months(Months::new(1))
                .unwrap_or(NaiveDate::MAX),
            received_on
                .checked_add_months(Months::new(3))
                .unwrap_or(NaiveDate::MAX),
        ),
        RequestDeadlineRule::FortyFiveDaysPlusFortyFive => (
            received_on
                .checked_add_days(Days::new(45))
                .unwrap_or(NaiveDate::MAX),
            received_on
                .checked_add_days(Days::new(90))
                .unwrap_or(NaiveDate::MAX),
        ),
    };
    RequestDeadline {
        rule,
        received_on,
        due_on,
        extended_due_on,
    }
}

impl RequestDeadline {
    /// Status at `now` (counted in `tz`), against the extended date when `extended`.
    pub fn status(&self, extended: bool, now: DateTime<Utc>, tz: Tz) -> DeadlineStatus {
        let today = now.with_timezone(&tz).date_naive();
        let due = if extended {
            self.extended_due_on
        } else {
            self.due_on
        };
        let days = (due - today).num_days();
        if days >= 0 {
            DeadlineStatus::OnTrack { days_left: days }
        } else {
            DeadlineStatus::Overdue { days_over: -days }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestDeadlineRule::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn deadline_table() {
        let cases = [
            (
                OneMonthPlusTwo,
                "2026-03-10T09:00:00Z",
                Tz::UTC,
                "2026-04-10",
                "2026-06-10",
            ),
            (
                OneMonthPlusTwo,
                "2026-01-31T09:00:00Z",
                Tz::UTC,
                "2026-02-28",
                "2026-04-30",
            ),
            (
                OneMonthPlusTwo,
                "2028-01-31T09:00:00Z",
                Tz::UTC,
                "2028-02-29",
                "2028-04-30",
            ),
            (
                OneMonthPlusTwo,
                "2026-12-15T09:00:00Z",
                Tz::UTC,
                "2027-01-15",
                "2027-03-15",
            ),
            // 23:30 UTC on 31 March is already 1 April in Berlin.
            (
                OneMonthPlusTwo,
                "2026-03-31T23:30:00Z",
                chrono_tz::Europe::Berlin,
                "2026-05-01",
                "2026-07-01",
            ),
            (
                FortyFiveDaysPlusFortyFive,
                "2026-01-01T12:00:00Z",
                Tz::UTC,
                "2026-02-15",
                "2026-04-01",
            ),
            (
                FortyFiveDaysPlusFortyFive,
                "2026-11-20T12:00:00Z",
                chrono_tz::America::Los_Angeles,
                "2027-01-04",
                "2027-02-18",
            ),
        ];
        for (rule, received, tz, due, extended) in cases {
            let d = request_deadline(rule, utc(received), tz);
            assert_eq!(
                (d.due_on, d.extended_due_on),
                (date(due), date(extended)),
                "{rule:?} {received}"
            );
        }
    }

    #[test]
    fn status_counts_local_days() {
        let d = request_deadline(
            FortyFiveDaysPlusFortyFive,
            utc("2026-01-01T12:00:00Z"),
            Tz::UTC,
        );
        assert_eq!(
            d.status(false, utc("2026-02-15T23:00:00Z"), Tz::UTC),
            DeadlineStatus::OnTrack { days_left: 0 }
        );
        assert_eq!(
            d.status(false, utc("2026-02-17T01:00:00Z"), Tz::UTC),
            DeadlineStatus::Overdue { days_over: 2 }
        );
        assert_eq!(
            d.status(true, utc("2026-02-17T01:00:00Z"), Tz::UTC),
            DeadlineStatus::OnTrack { days_left: 43 }
        );
    }
}
