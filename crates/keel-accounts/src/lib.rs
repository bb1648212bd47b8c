//! Accounts: the roles people hold in Keel, and the secrets that prove who they are.
//!
//! Everything here is pure computation (hashing, random generation, parsing); storing users,
//! sessions and tokens is the storage layer's job. Keeping it here means the hashing parameters
//! and token formats are defined exactly once.

mod email;
mod role;
mod secret;

pub use email::{EmailAddress, EmailError};
pub use role::{Role, RoleError};
pub use secret::{
    API_TOKEN_PREFIX, ApiTokenSecret, MIN_PASSWORD_LEN, PasswordError, hash_password,
    new_api_token, new_csrf_token, new_session_token, secret_digest, verify_password,
};
