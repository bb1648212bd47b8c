//! The one storage layer of Keel, for both embedded SQLite and PostgreSQL.
//!
//! Queries are written once, in the portable subset of SQL both databases share, with `$1`-style
//! numbered parameters (which both drivers accept). [`Sql`] carries the text and typed arguments;
//! [`Store`] and [`Tx`] run it on whichever database the URL chose. Row types derive
//! `sqlx::FromRow` and work on both because every column type used maps to the same Rust type on
//! both drivers (see ARCHITECTURE.md, "Storage"). Dialect differences are confined to
//! [`migrations`] (column types) and a handful of clearly marked places.
//!
//! Every change to an entity goes through a transaction that also appends to the audit log
//! ([`audit`]), so a write and its audit record commit or fail together.

pub mod accounts;
pub mod attribution;
pub mod audit;
pub mod checks;
pub mod contacts;
mod db;
pub mod documents;
pub mod events;
pub mod jobs;
pub mod migrations;
pub mod notifications;
pub mod privacy;
pub mod work;

pub use db::{Backend, DbRef, Record, Scalar, Sql, Store, Tx, Value, sql};

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL was not understood.
    #[error("unsupported database URL `{0}`: use a file path, sqlite://PATH or postgres://…")]
    BadUrl(String),
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A row that must exist does not.
    #[error("{entity} `{id}` not found")]
    NotFound {
        /// What was looked for.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// A uniqueness rule was violated (e.g. an e-mail already registered).
    #[error("{0}")]
    Conflict(String),
    /// Stored data could not be interpreted.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database reported a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => db.is_unique_violation(),
            StoreError::Conflict(_) => true,
            _ => false,
        }
    }
}

/// Result type of the storage layer.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who made a change, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user (by id).
    User(i64),
    /// An API token (by token id) acting for its user.
    Token {
        /// The token's id.
        token_id: i64,
        /// The user the token belongs to.
        user_id: i64,
    },
    /// Keel itself: jobs, migrations, the demo seeder, the CLI run by an operator.
    System(&'static str),
}

impl Actor {
    /// The actor as written in the audit log.
    pub fn label(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Token { token_id, user_id } => format!("user:{user_id} via token:{token_id}"),
            Actor::System(what) => format!("system:{what}"),
        }
    }
}

/// The current time at storage precision (microseconds), so what is written equals what is read.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    keel_audit::storage_precision(chrono::Utc::now())
}
