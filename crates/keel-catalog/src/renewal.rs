//! Renewal reminders: 120, 60 and 30 days before a contract's notice deadline.
//!
//! A pure function of the contracts and today. A job runs it daily and sends each reminder
//! whose [`Reminder::key`] it has not sent yet, so a missed day still sends the reminder late
//! rather than never, and no reminder goes out twice.

use chrono::NaiveDate;
use serde::Serialize;

use crate::catalog::Catalog;

/// Days before the notice deadline at which reminders go out.
pub const REMINDER_STAGES: [i64; 3] = [120, 60, 30];

/// A reminder that is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    /// The contract.
    pub contract: String,
    /// The stage reached: 120, 60 or 30 days before the deadline.
    pub stage: i64,
    /// Last day to give notice.
    pub notice_deadline: NaiveDate,
    /// Days from today to the deadline.
    pub days_left: i64,
    /// Whether the contract renews by itself.
    pub auto_renew: bool,
    /// Who manages the contract, if named.
    pub owner: Option<String>,
    /// Identifies this reminder for this term, so it is sent once.
    pub key: String,
}

/// The reminders due on `today`: for each contract whose notice deadline is 0–120 days away,
/// the closest stage reached.
pub fn reminders(catalog: &Catalog, today: NaiveDate) -> Vec<Reminder> {
    let mut out: Vec<Reminder> = catalog
        .contracts
        .iter()
        .filter_map(|(name, c)| {
            let deadline = c.spec.notice_deadline();
            let days_left = (deadline - today).num_days();
            if days_left < 0 {
                return None;
            }
            let stage = REMINDER_STAGES
                .iter()
                .rev()
                .copied()
                .find(|s| days_left <= *s)?;
            Some(Reminder {
                contract: name.clone(),
                stage,
                notice_deadline: deadline,
                days_left,
                auto_renew: c.spec.auto_renew,
                owner: c.spec.owner.clone(),
                key: format!("{name}:{}:{stage}", c.spec.end),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.days_left
            .cmp(&b.days_left)
            .then_with(|| a.contract.cmp(&b.contract))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{contract, day};

    fn at(end: NaiveDate, today: NaiveDate) -> Option<Reminder> {
        let mut c = Catalog::default();
        let k = contract(&mut c, "k", &["a"], 1, None);
        k.end = end;
        k.notice_days = 30;
        reminders(&c, today).into_iter().next()
    }

    #[test]
    fn stages_follow_the_notice_deadline() {
        let end = day(2027, 3, 31); // deadline 2027-03-01
        assert_eq!(at(end, day(2026, 10, 31)), None, "121 days before");
        assert_eq!(at(end, day(2026, 11, 1)).map(|r| r.stage), Some(120));
        assert_eq!(at(end, day(2026, 12, 31)).map(|r| r.stage), Some(60));
        assert_eq!(at(end, day(2027, 1, 30)).map(|r| r.stage), Some(30));
        let last = at(end, day(2027, 3, 1)).unwrap();
        assert_eq!((last.stage, last.days_left), (30, 0));
        assert_eq!(last.key, "k:2027-03-31:30");
        assert_eq!(at(end, day(2027, 3, 2)), None, "deadline passed");
    }

    #[test]
    fn a_missed_day_still_reminds() {
        // Day 61 → stage 120; day 59 (the job did not run on day 60) → stage 60.
        let end = day(2027, 3, 31);
        assert_eq!(at(end, day(2026, 12, 30)).map(|r| r.stage), Some(120));
        assert_eq!(at(end, day(2027, 1, 1)).map(|r| r.stage), Some(60));
    }
}
