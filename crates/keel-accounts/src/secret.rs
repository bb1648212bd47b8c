//! Passwords, session ids, CSRF tokens and API tokens.
//!
//! Passwords are hashed with argon2id (PHC string format, parameters stored with the hash so they
//! can be raised later). Session ids and API tokens are 256-bit random values; only their SHA-256
//! digest is stored, so a database leak does not hand out working credentials.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// The shortest password Keel accepts.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Every API token starts with this, so leaked tokens are easy to recognise in logs and scanners.
pub const API_TOKEN_PREFIX: &str = "keel_";

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password is shorter than [`MIN_PASSWORD_LEN`].
    #[error("password must be at least {MIN_PASSWORD_LEN} characters")]
    TooShort,
    /// The stored hash is not a valid PHC string.
    #[error("stored password hash is malformed")]
    MalformedHash,
    /// The hashing library failed.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn argon2() -> Argon2<'static> {
    // OWASP's recommended argon2id setting (19 MiB, 2 passes, 1 lane).
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id and a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Checks a password against a stored hash. A malformed hash is an error, a wrong password is `false`.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::MalformedHash)?;
    Ok(argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// SHA-256 of a secret, hex encoded: what is stored for session ids and API tokens.
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new login-session id (goes in the cookie; only its digest is stored).
pub fn new_session_token() -> String {
    random_hex(32)
}

/// A new CSRF token bound to one session.
pub fn new_csrf_token() -> String {
    random_hex(32)
}

/// A freshly created API token: the secret is shown to its owner exactly once.
#[derive(Debug, Clone)]
pub struct ApiTokenSecret {
    /// The full token, e.g. `keel_3f9a…`. Never stored.
    pub secret: String,
    /// The first characters, stored and shown in lists so people can tell tokens apart.
    pub display_prefix: String,
    /// What is stored and looked up.
    pub digest: String,
}

/// Creates a new API token.
pub fn new_api_token() -> ApiTokenSecret {
    let secret = format!("{API_TOKEN_PREFIX}{}", random_hex(32));
    let display_prefix: String = secret.chars().take(API_TOKEN_PREFIX.len() + 6).collect();
    let digest = secret_digest(&secret);
    ApiTokenSecret {
        secret,
        display_prefix,
        digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h).unwrap());
        assert!(!verify_password("wrong horse battery", &h).unwrap());
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort)
        ));
        assert!(matches!(
            verify_password("x", "nonsense"),
            Err(PasswordError::MalformedHash)
        ));
    }

    #[test]
    fn tokens_are_random_and_digested() {
        let a = new_api_token();
        let b = new_api_token();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(API_TOKEN_PREFIX));
        assert_eq!(a.digest, secret_digest(&a.secret));
        assert_eq!(a.digest.len(), 64);
        assert_ne!(new_session_token(), new_session_token());
    }
}
