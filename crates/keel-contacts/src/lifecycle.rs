//! Lifecycle stages as a governed state machine with history.
//!
//! Stages move forward (subscriber → lead → MQL → SQL → opportunity → customer); skipping
//! ahead is allowed (a demo request can make a subscriber an SQL), going back is not —
//! except recycling a disqualified lead to `lead`, and SQL back to `lead` when sales rejects
//! it. Disqualifying needs a reason. Every change is kept in the history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Receives content; not yet a sales prospect.
    Subscriber,
    /// A known prospect.
    Lead,
    /// Marketing-qualified lead.
    Mql,
    /// Sales-qualified (accepted by sales).
    Sql,
    /// Has an open opportunity.
    Opportunity,
    /// Has bought.
    Customer,
    /// Ruled out; can be recycled to `lead`.
    Disqualified,
}

impl Stage {
    /// The forward order of the funnel (disqualified is outside it).
    fn rank(self) -> Option<u8> {
        match self {
            Self::Subscriber => Some(0),
            Self::Lead => Some(1),
            Self::Mql => Some(2),
            Self::Sql => Some(3),
            Self::Opportunity => Some(4),
            Self::Customer => Some(5),
            Self::Disqualified => None,
        }
    }

    /// Parses the snake_case name (`mql`, `sql`, …).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_lowercase().as_str() {
            "subscriber" => Self::Subscriber,
            "lead" => Self::Lead,
            "mql" => Self::Mql,
            "sql" => Self::Sql,
            "opportunity" => Self::Opportunity,
            "customer" => Self::Customer,
            "disqualified" => Self::Disqualified,
            _ => return None,
        })
    }

    /// Whether moving from `self` to `to` is allowed (ignoring the reason requirement).
    pub fn can_move_to(self, to: Stage) -> bool {
        if self == to {
            return false;
        }
        match (self, to) {
            (Self::Customer, _) => false,
            (_, Self::Disqualified) => true,
            (Self::Disqualified, Self::Lead) => true,
            (Self::Sql, Self::Lead) => true,
            (from, to) => matches!((from.rank(), to.rank()), (Some(a), Some(b)) if b > a),
        }
    }
}

/// One recorded stage change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Stage before.
    pub from: Stage,
    /// Stage after.
    pub to: Stage,
    /// When.
    pub at: DateTime<Utc>,
    /// Who or what made the change (a person, a scoring model, a sync).
    pub actor: String,
    /// Why; required when disqualifying or sending back.
    pub reason: Option<String>,
}

/// A refused transition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The state machine does not allow this move.
    #[error("cannot move from {from:?} to {to:?}")]
    NotAllowed {
        /// Current stage.
        from: Stage,
        /// Requested stage.
        to: Stage,
    },
    /// Disqualifying or sending back needs a reason.
    #[error("moving from {from:?} to {to:?} needs a reason")]
    ReasonRequired {
        /// Current stage.
        from: Stage,
        /// Requested stage.
        to: Stage,
    },
    /// The change is dated before the last recorded one.
    #[error("the change at {at} is earlier than the last change at {last}")]
    OutOfOrder {
        /// Requested time.
        at: DateTime<Utc>,
        /// Time of the last change.
        last: DateTime<Utc>,
    },
}

/// A record's current stage and how it got there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Current stage.
    pub stage: Stage,
    /// When the record entered its first stage.
    pub since: DateTime<Utc>,
    /// Every change, oldest first.
    pub history: Vec<Transition>,
}

impl Lifecycle {
    /// A lifecycle starting at `stage`.
    pub fn new(stage: Stage, at: DateTime<Utc>) -> Self {
        Self {
            stage,
            since: at,
            history: Vec::new(),
        }
    }

    /// Moves to `to`, recording the change, or says why it is refused (state unchanged).
    pub fn transition(
        &mut self,
        to: Stage,
        at: DateTime<Utc>,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<&Transition, TransitionError> {
        let from = self.stage;
        if !from.can_move_to(to) {
            return Err(TransitionError::NotAllowed { from, to });
        }
        let backwards = to == Stage::Disqualified || (from == Stage::Sql && to == Stage::Lead);
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if backwards && reason.is_none() {
            return Err(TransitionError::ReasonRequired { from, to });
        }
        let last = self.history.last().map_or(self.since, |t| t.at);
        if at < last {
            return Err(TransitionError::OutOfOrder { at, last });
        }
        self.stage = to;
        self.history.push(Transition {
            from,
            to,
            at,
            actor: actor.to_string(),
            reason: reason.map(str::to_string),
        });
        Ok(&self.history[self.history.len() - 1])
    }

    /// When the record entered `stage` most recently, if it ever did.
    pub fn entered(&self, stage: Stage) -> Option<DateTime<Utc>> {
        if let Some(t) = self.history.iter().rev().find(|t| t.to == stage) {
            return Some(t.at);
        }
        self.history
            .first()
            .map_or(self.stage == stage, |t| t.from == stage)
            .then_some(self.since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, 9, 0, 0).unwrap()
    }

    #[test]
    fn forward_moves_and_history() {
        let mut l = Lifecycle::new(Stage::Subscriber, t(1));
        l.transition(Stage::Lead, t(2), "form", None).unwrap();
        l.transition(Stage::Mql, t(3), "scoring", None).unwrap();
        l.transition(Stage::Opportunity, t(4), "crm", None).unwrap();
        assert_eq!(l.stage, Stage::Opportunity);
        assert_eq!(l.history.len(), 3);
        assert_eq!(l.entered(Stage::Mql), Some(t(3)));
        assert_eq!(l.entered(Stage::Subscriber), Some(t(1)));
    }

    #[test]
    fn governed_moves() {
        let mut l = Lifecycle::new(Stage::Mql, t(1));
        assert_eq!(
            l.transition(Stage::Lead, t(2), "x", None).unwrap_err(),
            TransitionError::NotAllowed {
                from: Stage::Mql,
                to: Stage::Lead
            }
        );
        assert_eq!(
            l.transition(Stage::Disqualified, t(2), "x", Some(" "))
                .unwrap_err(),
            TransitionError::ReasonRequired {
                from: Stage::Mql,
                to: Stage::Disqualified
            }
        );
        l.transition(Stage::Disqualified, t(2), "rep", Some("student"))
            .unwrap();
        assert!(l.transition(Stage::Mql, t(3), "x", None).is_err());
        l.transition(Stage::Lead, t(3), "recycle", None).unwrap();
        assert!(matches!(
            l.transition(Stage::Mql, t(1), "x", None),
            Err(TransitionError::OutOfOrder { .. })
        ));
        let mut c = Lifecycle::new(Stage::Customer, t(1));
        assert!(
            c.transition(Stage::Disqualified, t(2), "x", Some("r"))
                .is_err()
        );
        assert_eq!(l.history.len(), 2);
    }
}
