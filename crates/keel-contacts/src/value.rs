//! Typed field values, shared by standard and custom fields.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A clean, typed value of one field. Emails, phones (E.164), countries (ISO 3166 alpha-2),
/// URLs and enumeration members are text in their canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    /// Text in canonical form.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A decimal number kept as its canonical text (`-1234.5`), so it never loses precision.
    Decimal(String),
    /// True or false.
    Boolean(bool),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant in UTC.
    DateTime(DateTime<Utc>),
}

impl FieldValue {
    /// The value as text, the way segment filters and exports compare it.
    pub fn as_text(&self) -> String {
        match self {
            Self::Text(s) | Self::Decimal(s) => s.clone(),
            Self::Integer(i) => i.to_string(),
            Self::Boolean(b) => b.to_string(),
            Self::Date(d) => d.format("%Y-%m-%d").to_string(),
            Self::DateTime(t) => t.to_rfc3339(),
        }
    }

    /// The value as a number when it is one (integer or decimal).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Self::Integer(i) => Some(*i as f64),
            Self::Decimal(s) => s.parse().ok(),
            Self::Text(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// How much information the value carries, used by the "most complete" survivorship rule:
    /// the length of its text with blanks removed.
    pub fn completeness(&self) -> usize {
        match self {
            Self::Text(s) => s.chars().filter(|c| !c.is_whitespace()).count(),
            other => other.as_text().len(),
        }
    }
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_text())
    }
}
