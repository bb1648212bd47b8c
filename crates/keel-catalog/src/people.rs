//! People and teams: who can own, support, approve and run things.

use chrono::NaiveDate;
use keel_manifests::{Problem, Reference, Spec};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whether a person still works here; people who left cannot own anything.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// Works here now.
    Active,
    /// Has left the organisation.
    Left,
}

/// A person (kind `Person`); `metadata.name` is their handle, e.g. `dana-reyes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Full name as people know them.
    pub full_name: String,
    /// Work email address; used to match SaaS-management imports.
    pub email: String,
    /// The team they belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Active or left.
    pub status: PersonStatus,
    /// The day they left, when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_on: Option<NaiveDate>,
}

impl Person {
    /// Whether this person can hold a role today.
    pub fn is_active(&self) -> bool {
        self.status == PersonStatus::Active
    }
}

impl Spec for Person {
    const KIND: &'static str = "Person";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if !looks_like_email(&self.email) {
            problems.push(Problem::error(
                "email",
                format!("`{}` is not an email address", self.email),
            ));
        }
        if self.status == PersonStatus::Active && self.left_on.is_some() {
            problems.push(Problem::error(
                "left_on",
                "an active person has no leaving date; set `status: left` or remove `left_on`",
            ));
        }
        problems
    }

    fn references(&self) -> Vec<Reference> {
        self.team
            .iter()
            .map(|t| Reference::new("team", "Team", t))
            .collect()
    }
}

/// Whether `text` has the shape of an email address (one `@`, a dot in the domain, no spaces).
pub fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// A team (kind `Team`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// The team's name as people say it.
    pub display_name: String,
    /// Who leads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<String>,
    /// Where people ask the team for help (channel or queue link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

impl Spec for Team {
    const KIND: &'static str = "Team";

    fn references(&self) -> Vec<Reference> {
        self.lead
            .iter()
            .map(|p| Reference::new("lead", "Person", p))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        assert!(looks_like_email("a.b@example.com"));
        assert!(!looks_like_email("a.b.example.com"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("a b@example.com"));
    }

    #[test]
    fn active_people_have_no_leaving_date() {
        let p = Person {
            full_name: "A".into(),
            email: "a@example.com".into(),
            team: None,
            title: None,
            status: PersonStatus::Active,
            left_on: NaiveDate::from_ymd_opt(2026, 1, 1),
        };
        assert_eq!(p.validate()[0].path, "left_on");
    }
}
