//! The crate's error type. Decoding errors carry a stable kind code and the place in the string
//! (section, segment, bit offset, field) where decoding stopped, so a stored string that fails can
//! be explained to whoever produced it.

use serde::Serialize;
use std::fmt;

/// Every error this crate returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A TCF or GPP string could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A value could not be encoded into a consent string.
    #[error("cannot encode {field}: {reason}")]
    Encode {
        /// The field that could not be encoded.
        field: &'static str,
        /// Why not.
        reason: String,
    },
    /// An input that breaks a rule of the API (mismatched audience columns, a non-https link …).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid.
        what: String,
        /// Why.
        reason: String,
    },
    /// A signed link token failed verification.
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// Why a signed token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TokenError {
    /// The token is not in the `payload.signature` shape, or its payload cannot be read.
    #[error("malformed token: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The signature does not match the payload: the token was altered or signed with another key.
    #[error("token signature does not match: the token was forged or altered")]
    Forged,
    /// The token was genuine but its lifetime has passed.
    #[error("token expired at {expired_at}")]
    Expired {
        /// When it stopped being valid.
        expired_at: chrono::DateTime<chrono::Utc>,
    },
    /// The token is genuine but was issued for another purpose (e.g. an unsubscribe token used to confirm an opt-in).
    #[error("token was issued for {found}, not {expected}")]
    WrongPurpose {
        /// The purpose the caller expected.
        expected: String,
        /// The purpose inside the token.
        found: String,
    },
}

/// What went wrong while decoding a consent string. The serialised `code` is stable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum DecodeErrorKind {
    /// The string (or one of its segments) is empty.
    Empty,
    /// A character outside the base64url alphabet `A-Z a-z 0-9 - _`.
    InvalidBase64url {
        /// The offending character.
        character: char,
        /// Its character position inside the segment.
        position: usize,
    },
    /// The bits ran out before a field was complete.
    Truncated {
        /// Bits the field still needed.
        needed: usize,
        /// Bits that were left.
        available: usize,
    },
    /// A version (or GPP header type) this decoder does not know.
    UnsupportedVersion {
        /// The version found.
        found: u64,
        /// The version(s) supported.
        supported: &'static str,
    },
    /// A vendor range or id that breaks the encoding rules (zero id, end before start, id above the maximum).
    InvalidRange {
        /// First id of the range.
        start: u64,
        /// Last id of the range.
        end: u64,
        /// The rule broken.
        reason: &'static str,
    },
    /// A segment type that appears twice.
    DuplicateSegment {
        /// The segment type.
        segment_type: u64,
    },
    /// A segment type that is not defined for this string.
    UnknownSegment {
        /// The segment type.
        segment_type: u64,
    },
    /// A GPP section id that is not defined by the GPP specification.
    UnknownSection {
        /// The section id.
        id: u64,
    },
    /// A GPP section that is defined but not decoded by Keel.
    UnsupportedSection {
        /// The section id.
        id: u64,
        /// Its name in the GPP specification.
        name: &'static str,
    },
    /// The GPP header lists a different number of sections than the string carries.
    SectionCountMismatch {
        /// Sections listed in the header.
        listed: usize,
        /// Sections present after the header.
        present: usize,
    },
    /// A field holds a value outside its allowed set.
    InvalidValue {
        /// The value found.
        value: u64,
        /// What is allowed.
        allowed: &'static str,
    },
    /// A Fibonacci-coded integer without its terminating `11`, or one too large.
    InvalidFibonacci,
    /// Non-zero bits after the last field (padding must be zero).
    TrailingData {
        /// How many bits were left over.
        bits: usize,
    },
    /// Neither a TCF v2 string nor a GPP string.
    NotAConsentString,
}

impl DecodeErrorKind {
    /// The stable snake_case code of this kind, as used in JSON output and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::InvalidBase64url { .. } => "invalid_base64url",
            Self::Truncated { .. } => "truncated",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::InvalidRange { .. } => "invalid_range",
            Self::DuplicateSegment { .. } => "duplicate_segment",
            Self::UnknownSegment { .. } => "unknown_segment",
            Self::UnknownSection { .. } => "unknown_section",
            Self::UnsupportedSection { .. } => "unsupported_section",
            Self::SectionCountMismatch { .. } => "section_count_mismatch",
            Self::InvalidValue { .. } => "invalid_value",
            Self::InvalidFibonacci => "invalid_fibonacci",
            Self::TrailingData { .. } => "trailing_data",
            Self::NotAConsentString => "not_a_consent_string",
        }
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "empty"),
            Self::InvalidBase64url {
                character,
                position,
            } => {
                write!(
                    f,
                    "invalid base64url character {character:?} at position {position}"
                )
            }
            Self::Truncated { needed, available } => {
                write!(f, "truncated: needed {needed} bits, {available} left")
            }
            Self::UnsupportedVersion { found, supported } => {
                write!(f, "unsupported version {found} (supported: {supported})")
            }
            Self::InvalidRange { start, end, reason } => {
                write!(f, "invalid range {start}..={end}: {reason}")
            }
            Self::DuplicateSegment { segment_type } => {
                write!(f, "duplicate segment of type {segment_type}")
            }
            Self::UnknownSegment { segment_type } => {
                write!(f, "unknown segment type {segment_type}")
            }
            Self::UnknownSection { id } => write!(f, "unknown GPP section id {id}"),
            Self::UnsupportedSection { id, name } => {
                write!(f, "GPP section {name} (id {id}) is not supported")
            }
            Self::SectionCountMismatch { listed, present } => {
                write!(f, "header lists {listed} section(s) but {present} follow")
            }
            Self::InvalidValue { value, allowed } => {
                write!(f, "invalid value {value} (allowed: {allowed})")
            }
            Self::InvalidFibonacci => write!(f, "invalid Fibonacci-coded integer"),
            Self::TrailingData { bits } => write!(f, "{bits} non-zero trailing bit(s)"),
            Self::NotAConsentString => write!(f, "not a TCF v2 or GPP string"),
        }
    }
}

/// A decoding failure: what went wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// The GPP section name (`tcfeuv2`, `usnat`, `header` …), when inside a GPP string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<&'static str>,
    /// Index of the `.`-separated segment (0 = core segment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<usize>,
    /// Bit offset inside the segment where the failing field starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_offset: Option<usize>,
    /// The field being read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl DecodeError {
    /// A bare error of `kind` with no location yet.
    pub fn new(kind: DecodeErrorKind) -> Self {
        Self {
            kind,
            section: None,
            segment: None,
            bit_offset: None,
            field: None,
        }
    }

    /// Sets the field and bit offset.
    pub(crate) fn at(mut self, field: &'static str, bit_offset: usize) -> Self {
        self.field.get_or_insert(field);
        self.bit_offset.get_or_insert(bit_offset);
        self
    }

    /// Sets the segment index unless already set.
    pub(crate) fn in_segment(mut self, segment: usize) -> Self {
        self.segment.get_or_insert(segment);
        self
    }

    /// Sets the GPP section unless already set.
    pub(crate) fn in_section(mut self, section: &'static str) -> Self {
        self.section.get_or_insert(section);
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        let mut place = Vec::new();
        if let Some(field) = self.field {
            place.push(format!("field {field}"));
        }
        if let Some(bit) = self.bit_offset {
            place.push(format!("bit {bit}"));
        }
        if let Some(segment) = self.segment {
            place.push(format!("segment {segment}"));
        }
        if let Some(section) = self.section {
            place.push(format!("section {section}"));
        }
        if !place.is_empty() {
            write!(f, " ({})", place.join(", "))?;
        }
        Ok(())
    }
}
