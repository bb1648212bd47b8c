//! The roles of Keel's users, named as the people in a marketing department know them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role a user holds. Permissions are granted to roles, never to individual users, so the
/// permission table (see `keel-policy`) stays small and reviewable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the Keel installation: users, tokens, jobs, everything.
    Admin,
    /// Marketing operations: platform and service owners of the stack.
    Ops,
    /// Marketers who submit briefs and follow their status.
    Requester,
    /// Brand, legal and managers who decide what policy could not.
    Approver,
    /// The privacy officer: consent, subject requests, retention.
    Privacy,
    /// Finance: budgets, purchase orders, invoices.
    Finance,
    /// Sales: accepts or rejects MQLs.
    Sales,
    /// Read-only access.
    Viewer,
}

/// The role name was not one of Keel's roles.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unknown role `{0}`; expected one of: admin, ops, requester, approver, privacy, finance, sales, viewer"
)]
pub struct RoleError(pub String);

impl Role {
    /// Every role, in the order the UI lists them.
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Ops,
        Role::Requester,
        Role::Approver,
        Role::Privacy,
        Role::Finance,
        Role::Sales,
        Role::Viewer,
    ];

    /// The stable lower-case name used in the API, the CLI and the policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Ops => "ops",
            Role::Requester => "requester",
            Role::Approver => "approver",
            Role::Privacy => "privacy",
            Role::Finance => "finance",
            Role::Sales => "sales",
            Role::Viewer => "viewer",
        }
    }

    /// A human label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Ops => "Marketing ops",
            Role::Requester => "Requester",
            Role::Approver => "Approver",
            Role::Privacy => "Privacy officer",
            Role::Finance => "Finance",
            Role::Sales => "Sales",
            Role::Viewer => "Viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| RoleError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!(" Admin ".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
