//! A validated, normalised e-mail address for account logins.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An e-mail address that has been trimmed, lower-cased and checked for a plausible shape.
/// Building one is the only way to get one, so code holding an `EmailAddress` never re-checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

/// Why a string is not an acceptable e-mail address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmailError {
    /// Nothing was given.
    #[error("e-mail address is empty")]
    Empty,
    /// There is no `@`, or nothing before or after it.
    #[error("`{0}` is not an e-mail address: expected local-part@domain")]
    Shape(String),
    /// Longer than RFC 5321 allows.
    #[error("e-mail address is longer than 254 characters")]
    TooLong,
}

impl EmailAddress {
    /// Parses and normalises an address.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(EmailError::Shape(raw.to_string()));
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.contains(char::is_whitespace) || !domain_ok {
            return Err(EmailError::Shape(raw.to_string()));
        }
        Ok(EmailAddress(s))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        EmailAddress::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_rejects() {
        assert_eq!(
            EmailAddress::parse("  Ada@Example.COM ").map(|e| e.0),
            Ok("ada@example.com".to_string())
        );
        assert_eq!(EmailAddress::parse(""), Err(EmailError::Empty));
        for bad in [
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a da@example.com",
            "ada@.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
