//! Signed, expiring link tokens (double opt-in confirmation, preference centre, one-click
//! unsubscribe) and the RFC 8058 `List-Unsubscribe` headers that carry them.
//!
//! A token is `base64url(claims JSON) "." base64url(HMAC-SHA256(key, first part))`. The claims
//! name what the token is for, the subject, an expiry and a nonce. This crate draws no random
//! numbers and reads no clock: the caller passes a nonce from a CSPRNG and the current time.
//! Single use is enforced by storage (remembering spent nonces); the nonce is exposed for that.
//! Verification checks, in order: shape, signature (constant-time), payload, expiry, purpose —
//! so a forged token is reported as forged even if it also looks expired.

use crate::error::{Error, TokenError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a token authorises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Confirm a double opt-in.
    DoubleOptIn,
    /// Open the preference centre.
    PreferenceCentre,
    /// Unsubscribe (one click).
    Unsubscribe,
}

impl TokenPurpose {
    fn name(self) -> &'static str {
        match self {
            Self::DoubleOptIn => "double_opt_in",
            Self::PreferenceCentre => "preference_centre",
            Self::Unsubscribe => "unsubscribe",
        }
    }
}

/// The signed content of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenClaims {
    /// What the token authorises.
    #[serde(rename = "p")]
    pub purpose: TokenPurpose,
    /// The contact.
    #[serde(rename = "s")]
    pub subject: String,
    /// The campaign the link was sent in, if any.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// The consent purpose or list concerned (e.g. the purpose a double opt-in confirms).
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// Issue time, Unix seconds.
    #[serde(rename = "i")]
    pub issued_at: i64,
    /// Expiry time, Unix seconds; the token is invalid from this second on.
    #[serde(rename = "e")]
    pub expires_at: i64,
    /// Random nonce (hex), for single-use enforcement by storage.
    #[serde(rename = "n")]
    pub nonce: String,
}

/// A secret HMAC key of at least 32 bytes.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Wraps key bytes; shorter than 32 bytes is refused.
    pub fn new(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < 32 {
            return Err(Error::Invalid {
                what: "signing key".into(),
                reason: format!("{} bytes; at least 32 are needed", bytes.len()),
            });
        }
        Ok(Self(bytes.to_vec()))
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }
}

/// Builds claims for a token valid from `issued_at` for `ttl`.
pub fn claims(
    purpose: TokenPurpose,
    subject: &str,
    issued_at: DateTime<Utc>,
    ttl: chrono::Duration,
    nonce: [u8; 16],
) -> TokenClaims {
    TokenClaims {
        purpose,
        subject: subject.to_string(),
        campaign: None,
        list: None,
        issued_at: issued_at.timestamp(),
        expires_at: (issued_at + ttl).timestamp(),
        nonce: nonce.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Signs claims into a URL-safe token.
pub fn sign(key: &SigningKey, claims: &TokenClaims) -> String {
    // Serialising a struct of strings and integers cannot fail.
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json);
    let mut mac = key.mac();
    mac.update(payload.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// Verifies a token against the current key and any previous keys still accepted (rotation),
/// and checks its expiry at `now` and its purpose.
pub fn verify(
    keys: &[SigningKey],
    token: &str,
    expected: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<TokenClaims, TokenError> {
    let malformed = |reason: &str| TokenError::Malformed {
        reason: reason.to_string(),
    };
    let (payload, signature) = token
        .trim()
        .split_once('.')
        .ok_or(malformed("expected payload.signature"))?;
    if payload.is_empty() || signature.contains('.') {
        return Err(malformed("expected payload.signature"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| malformed("signature is not base64url"))?;
    let genuine = keys.iter().any(|key| {
        let mut mac = key.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).is_ok()
    });
    if !genuine {
        return Err(TokenError::Forged);
    }
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| malformed("payload is not base64url"))?;
    let claims: TokenClaims =
        serde_json::from_slice(&json).map_err(|e| malformed(&format!("payload: {e}")))?;
    if now.timestamp() >= claims.expires_at {
        return Err(TokenError::Expired {
            expired_at: DateTime::from_timestamp(claims.expires_at, 0)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        });
    }
    if claims.purpose != expected {
        return Err(TokenError::WrongPurpose {
            expected: expected.name().into(),
            found: claims.purpose.name().into(),
        });
    }
    Ok(claims)
}

/// The two header values RFC 8058 one-click unsubscribe needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnsubscribeHeaders {
    /// `List-Unsubscribe`: the https URI with the signed token, then the optional mailto URI.
    pub list_unsubscribe: String,
    /// `List-Unsubscribe-Post`: always `List-Unsubscribe=One-Click`.
    pub list_unsubscribe_post: String,
}

/// Builds `List-Unsubscribe` and `List-Unsubscribe-Post` for a signed unsubscribe token.
/// `endpoint` must be an https URL (RFC 8058 §3.1); the token is appended as the `token` query
/// parameter. `mailto` is an optional address for clients that only do mail-based unsubscribe.
pub fn list_unsubscribe_headers(
    endpoint: &str,
    token: &str,
    mailto: Option<&str>,
) -> Result<UnsubscribeHeaders, Error> {
    let invalid = |what: &str, reason: &str| Error::Invalid {
        what: what.into(),
        reason: reason.into(),
    };
    let forbidden = |s: &str| {
        s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | '"'))
    };
    let rest = endpoint
        .strip_prefix("https://")
        .ok_or_else(|| invalid("unsubscribe endpoint", "must be an https:// URL (RFC 8058)"))?;
    if rest.is_empty() || rest.starts_with('/') || forbidden(endpoint) || endpoint.contains('#') {
        return Err(invalid(
            "unsubscribe endpoint",
            "must be an absolute https URL without spaces, <, >, commas or fragment",
        ));
    }
    if token.is_empty()
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(invalid(
            "unsubscribe token",
            "must be a signed URL-safe token",
        ));
    }
    let separator = if endpoint.contains('?') { '&' } else { '?' };
    let mut value = format!("<{endpoint}{separator}token={token}>");
    if let Some(mailto) = mailto {
        let address = mailto.strip_prefix("mailto:").unwrap_or(mailto);
        if forbidden(address) || !address.contains('@') {
            return Err(invalid("unsubscribe mailto", "must be an e-mail address"));
        }
        value.push_str(&format!(", <mailto:{address}>"));
    }
    Ok(UnsubscribeHeaders {
        list_unsubscribe: value,
        list_unsubscribe_post: "List-Unsubscribe=One-Click".into(),
    })
}

/// Signs an unsubscribe token for a contact and campaign and builds the RFC 8058 headers.
/// Unsubscribe links must keep working long after the send (CAN-SPAM asks 30 days at least), so
/// pick a generous `ttl`.
#[allow(clippy::too_many_arguments)]
pub fn unsubscribe_headers_for(
    key: &SigningKey,
    endpoint: &str,
    mailto: Option<&str>,
    subject: &str,
    campaign: &str,
    issued_at: DateTime<Utc>,
    ttl: chrono::Duration,
    nonce: [u8; 16],
) -> Result<UnsubscribeHeaders, Error> {
    let mut c = claims(TokenPurpose::Unsubscribe, subject, issued_at, ttl, nonce);
    c.campaign = Some(campaign.to_string());
    list_unsubscribe_headers(endpoint, &sign(key, &c), mailto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn key() -> SigningKey {
        SigningKey::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    fn token() -> String {
        let mut c = claims(
            TokenPurpose::DoubleOptIn,
            "contact-42",
            t0(),
            Duration::hours(48),
            [7; 16],
        );
        c.list = Some("newsletter".into());
        sign(&key(), &c)
    }

    #[test]
    fn genuine_token_verifies_and_exposes_the_nonce() {
        let c = verify(
            &[key()],
            &token(),
            TokenPurpose::DoubleOptIn,
            t0() + Duration::hours(1),
        )
        .unwrap();
        assert_eq!(c.subject, "contact-42");
        assert_eq!(c.list.as_deref(), Some("newsletter"));
        assert_eq!(c.nonce, "07".repeat(16));
    }

    #[test]
    fn expiry_is_exact() {
        let at = |h| {
            verify(
                &[key()],
                &token(),
                TokenPurpose::DoubleOptIn,
                t0() + Duration::hours(h),
            )
        };
        assert!(at(47).is_ok());
        assert!(matches!(at(48), Err(TokenError::Expired { .. })));
    }

    #[test]
    fn forgeries_are_detected() {
        let good = token();
        let (payload, signature) = good.split_once('.').unwrap();
        // Another key.
        let other = SigningKey::new(&[9u8; 32]).unwrap();
        assert_eq!(
            verify(
                std::slice::from_ref(&other),
                &good,
                TokenPurpose::DoubleOptIn,
                t0()
            ),
            Err(TokenError::Forged)
        );
        // Altered payload, original signature: subject swapped.
        let mut c = claims(
            TokenPurpose::DoubleOptIn,
            "contact-43",
            t0(),
            Duration::hours(48),
            [7; 16],
        );
        c.list = Some("newsletter".into());
        let forged_payload = sign(&key(), &c).split_once('.').unwrap().0.to_string();
        let forged = format!("{forged_payload}.{signature}");
        assert_eq!(
            verify(&[key()], &forged, TokenPurpose::DoubleOptIn, t0()),
            Err(TokenError::Forged)
        );
        // A forged token that is also expired is reported as forged.
        assert_eq!(
            verify(
                &[other],
                &good,
                TokenPurpose::DoubleOptIn,
                t0() + Duration::days(9)
            ),
            Err(TokenError::Forged)
        );
        // Flipped signature character.
        let flipped = format!(
            "{payload}.{}{}",
            if signature.starts_with('A') { "B" } else { "A" },
            &signature[1..]
        );
        assert_eq!(
            verify(&[key()], &flipped, TokenPurpose::DoubleOptIn, t0()),
            Err(TokenError::Forged)
        );
    }

    #[test]
    fn malformed_and_wrong_purpose() {
        for bad in ["", "abc", "a.b.c", ".sig", "payload.!!!"] {
            assert!(
                matches!(
                    verify(&[key()], bad, TokenPurpose::DoubleOptIn, t0()),
                    Err(TokenError::Malformed { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            verify(&[key()], &token(), TokenPurpose::Unsubscribe, t0()),
            Err(TokenError::WrongPurpose { .. })
        ));
    }

    #[test]
    fn rotated_keys_still_verify() {
        let new = SigningKey::new(&[1u8; 32]).unwrap();
        assert!(verify(&[new, key()], &token(), TokenPurpose::DoubleOptIn, t0()).is_ok());
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(SigningKey::new(b"short").is_err());
    }

    #[test]
    fn rfc8058_headers() {
        let h = unsubscribe_headers_for(
            &key(),
            "https://mail.example.com/u",
            Some("unsubscribe@example.com"),
            "contact-42",
            "spring-sale",
            t0(),
            Duration::days(90),
            [1; 16],
        )
        .unwrap();
        assert_eq!(h.list_unsubscribe_post, "List-Unsubscribe=One-Click");
        let uri = h
            .list_unsubscribe
            .strip_prefix("<https://mail.example.com/u?token=")
            .unwrap();
        let (token, rest) = uri.split_once('>').unwrap();
        assert_eq!(rest, ", <mailto:unsubscribe@example.com>");
        let c = verify(&[key()], token, TokenPurpose::Unsubscribe, t0()).unwrap();
        assert_eq!(c.campaign.as_deref(), Some("spring-sale"));
        let h = list_unsubscribe_headers("https://x.example/u?list=a", "abc.def", None).unwrap();
        assert_eq!(
            h.list_unsubscribe,
            "<https://x.example/u?list=a&token=abc.def>"
        );
        assert!(list_unsubscribe_headers("http://x.example/u", "abc.def", None).is_err());
        assert!(list_unsubscribe_headers("https://x.example/u u", "abc.def", None).is_err());
        assert!(
            list_unsubscribe_headers("https://x.example/u", "abc.def", Some("nobody")).is_err()
        );
    }
}
