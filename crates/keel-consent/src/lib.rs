//! Keel's privacy core: consent strings, the consent ledger, eligibility, signed links, subject
//! request deadlines and retention selection.
//!
//! Everything here is pure — data in, data out, no I/O and no clock reads (the caller passes
//! "now"). Storage, HTTP endpoints, e-mail and background jobs live elsewhere and call into this
//! crate, so every privacy decision Keel makes can be tested, replayed and explained from its
//! inputs alone.

mod bits;
pub mod eligibility;
pub mod error;
pub mod gpp;
pub mod kinds;
pub mod ledger;
pub mod requests;
pub mod retention;
pub mod signals;
pub mod spec;
pub mod tcf;
pub mod token;

pub use error::{DecodeError, DecodeErrorKind, Error, TokenError};
pub use gpp::{GppString, decode_gpp_string};
pub use tcf::{TcString, decode_tc_string};

use serde::Serialize;

/// A decoded consent string of either standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum ConsentString {
    /// An IAB TCF v2 TC string.
    Tcf(Box<TcString>),
    /// An IAB GPP string.
    Gpp(Box<GppString>),
}

/// Decodes a TCF v2 or GPP string, telling them apart by their first character: a GPP header
/// (type 3) always starts with `D`, a TCF v2 core segment (version 2) with `C`.
pub fn decode_consent_string(input: &str) -> Result<ConsentString, DecodeError> {
    let input = input.trim();
    match input.as_bytes().first() {
        None => Err(DecodeError::new(DecodeErrorKind::Empty)),
        Some(b'D') => decode_gpp_string(input).map(|g| ConsentString::Gpp(Box::new(g))),
        Some(b'C') => decode_tc_string(input).map(|tc| ConsentString::Tcf(Box::new(tc))),
        // Anything else: let the TCF decoder report the precise problem (bad character, version).
        Some(_) if input.contains('~') => {
            decode_gpp_string(input).map(|g| ConsentString::Gpp(Box::new(g)))
        }
        Some(_) => decode_tc_string(input).map(|tc| ConsentString::Tcf(Box::new(tc))),
    }
}
