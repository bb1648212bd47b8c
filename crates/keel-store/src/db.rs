//! Connections, transactions and the portable query type.

use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{FromRow, PgPool, Postgres, Sqlite, SqlitePool};
use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (one file, WAL).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database. Cheap to clone; all clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    url_for_display: String,
}

/// A row type readable from both databases.
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A single-column value readable from both databases.
pub trait Scalar:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
        + Send
        + Unpin
{
}

/// A query argument. Nulls are typed so PostgreSQL can check them against the column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Boolean.
    Bool(Option<bool>),
    /// 64-bit integer.
    Int(Option<i64>),
    /// Double.
    Float(Option<f64>),
    /// Text.
    Text(Option<String>),
    /// Bytes.
    Bytes(Option<Vec<u8>>),
    /// Timestamp (UTC).
    Time(Option<DateTime<Utc>>),
    /// JSON document (JSONB on PostgreSQL, TEXT on SQLite).
    Json(Option<serde_json::Value>),
}

macro_rules! value_from {
    ($t:ty, $variant:ident, $conv:expr) => {
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(Some($conv(v)))
            }
        }
        impl From<Option<$t>> for Value {
            fn from(v: Option<$t>) -> Self {
                Value::$variant(v.map($conv))
            }
        }
    };
}
value_from!(bool, Bool, |v| v);
value_from!(i64, Int, |v| v);
value_from!(i32, Int, i64::from);
value_from!(u32, Int, i64::from);
value_from!(f64, Float, |v| v);
value_from!(String, Text, |v| v);
value_from!(&str, Text, |v: &str| v.to_string());
value_from!(&String, Text, |v: &String| v.clone());
value_from!(Vec<u8>, Bytes, |v| v);
value_from!(DateTime<Utc>, Time, |v| v);
value_from!(serde_json::Value, Json, |v| v);

/// A query in portable SQL with its arguments. Build one with [`sql`].
#[derive(Debug, Clone)]
pub struct Sql {
    text: Cow<'static, str>,
    args: Vec<Value>,
}

/// Starts a query. Use `$1`, `$2`, … for parameters, in the order they are bound.
pub fn sql(text: impl Into<Cow<'static, str>>) -> Sql {
    Sql {
        text: text.into(),
        args: Vec::new(),
    }
}

/// Where a query runs: on the pool, or inside a transaction.
pub enum DbRef<'a> {
    /// Any pooled connection.
    Store(&'a Store),
    /// The given transaction.
    Tx(&'a mut Tx),
}

impl DbRef<'_> {
    /// Borrows again, so one `DbRef` can run several queries in turn.
    pub fn reborrow(&mut self) -> DbRef<'_> {
        match self {
            DbRef::Store(s) => DbRef::Store(s),
            DbRef::Tx(t) => DbRef::Tx(t),
        }
    }
}

impl<'a> From<&'a Store> for DbRef<'a> {
    fn from(s: &'a Store) -> Self {
        DbRef::Store(s)
    }
}
impl<'a> From<&'a mut Tx> for DbRef<'a> {
    fn from(t: &'a mut Tx) -> Self {
        DbRef::Tx(t)
    }
}

/// An open transaction. Dropping it without [`Tx::commit`] rolls back.
pub struct Tx {
    inner: TxInner,
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.inner {
            TxInner::Sqlite(_) => "Tx(sqlite)",
            TxInner::Postgres(_) => "Tx(postgres)",
        })
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                Value::Bool(v) => q.bind(v),
                Value::Int(v) => q.bind(v),
                Value::Float(v) => q.bind(v),
                Value::Text(v) => q.bind(v),
                Value::Bytes(v) => q.bind(v),
                Value::Time(v) => q.bind(v),
                Value::Json(v) => q.bind(v.map(sqlx::types::Json)),
            };
        }
        q
    }};
}

// Runs `$method` on the right driver and executor; one place for the 2×2 dispatch.
macro_rules! dispatch {
    ($self:ident, $db:ident, $build:ident, $method:ident) => {{
        let text = $self.text;
        let args = $self.args;
        match $db.into() {
            DbRef::Store(store) => match &store.pool {
                Pool::Sqlite(p) => {
                    let text = sqlite_text(&text);
                    bind_all!(sqlx::$build::<Sqlite, _>(&text), args)
                        .$method(p)
                        .await
                }
                Pool::Postgres(p) => {
                    bind_all!(sqlx::$build::<Postgres, _>(&text), args)
                        .$method(p)
                        .await
                }
            },
            DbRef::Tx(tx) => match &mut tx.inner {
                TxInner::Sqlite(t) => {
                    let text = sqlite_text(&text);
                    bind_all!(sqlx::$build::<Sqlite, _>(&text), args)
                        .$method(&mut **t)
                        .await
                }
                TxInner::Postgres(t) => {
                    bind_all!(sqlx::$build::<Postgres, _>(&text), args)
                        .$method(&mut **t)
                        .await
                }
            },
        }
    }};
}

macro_rules! dispatch_exec {
    ($self:ident, $db:ident) => {{
        let text = $self.text;
        let args = $self.args;
        match $db.into() {
            DbRef::Store(store) => match &store.pool {
                Pool::Sqlite(p) => {
                    let text = sqlite_text(&text);
                    bind_all!(sqlx::query::<Sqlite>(&text), args)
                        .execute(p)
                        .await
                        .map(|r| r.rows_affected())
                }
                Pool::Postgres(p) => bind_all!(sqlx::query::<Postgres>(&text), args)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected()),
            },
            DbRef::Tx(tx) => match &mut tx.inner {
                TxInner::Sqlite(t) => {
                    let text = sqlite_text(&text);
                    bind_all!(sqlx::query::<Sqlite>(&text), args)
                        .execute(&mut **t)
                        .await
                        .map(|r| r.rows_affected())
                }
                TxInner::Postgres(t) => bind_all!(sqlx::query::<Postgres>(&text), args)
                    .execute(&mut **t)
                    .await
                    .map(|r| r.rows_affected()),
            },
        }
    }};
}

/// The statement text SQLite is given. Statements are written once with PostgreSQL's `$1, $2, …`
/// parameters; when they appear exactly in order, each once, SQLite gets anonymous `?`
/// instead. Binding looks up every numbered parameter's name with a linear scan inside SQLite
/// (quadratic in the parameter count: a quarter of a bulk import's CPU time), while anonymous
/// parameters bind by position. Anything else (a parameter used twice, out of order) is left
/// as written.
fn sqlite_text(text: &str) -> Cow<'_, str> {
    if !text.contains('$') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut expected = 1usize;
    let mut copied = 0;
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'$' => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                let number: Option<usize> = text[i + 1..i + 1 + digits].parse().ok();
                if number != Some(expected) {
                    return Cow::Borrowed(text);
                }
                expected += 1;
                out.push_str(&text[copied..i]);
                out.push('?');
                i += 1 + digits;
                copied = i;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    if quote.is_some() {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

impl Sql {
    /// Binds the next parameter.
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Runs a statement, returning the number of rows affected.
    pub async fn execute<'a>(self, db: impl Into<DbRef<'a>>) -> Result<u64> {
        Ok(dispatch_exec!(self, db)?)
    }

    /// Runs a query returning rows.
    pub async fn fetch_all<'a, T: Record>(self, db: impl Into<DbRef<'a>>) -> Result<Vec<T>> {
        Ok(dispatch!(self, db, query_as, fetch_all)?)
    }

    /// Runs a query returning at most one row.
    pub async fn fetch_optional<'a, T: Record>(
        self,
        db: impl Into<DbRef<'a>>,
    ) -> Result<Option<T>> {
        Ok(dispatch!(self, db, query_as, fetch_optional)?)
    }

    /// Runs a query returning exactly one row.
    pub async fn fetch_one<'a, T: Record>(self, db: impl Into<DbRef<'a>>) -> Result<T> {
        Ok(dispatch!(self, db, query_as, fetch_one)?)
    }

    /// Runs a query returning one value (e.g. `SELECT COUNT(*)`).
    pub async fn fetch_scalar<'a, T: Scalar>(self, db: impl Into<DbRef<'a>>) -> Result<T> {
        Ok(dispatch!(self, db, query_scalar, fetch_one)?)
    }

    /// Runs a query returning zero or one value.
    pub async fn fetch_optional_scalar<'a, T: Scalar>(
        self,
        db: impl Into<DbRef<'a>>,
    ) -> Result<Option<T>> {
        Ok(dispatch!(self, db, query_scalar, fetch_optional)?)
    }
}

impl Store {
    /// Connects to a database: a file path or `sqlite://PATH` (created if missing; WAL, foreign
    /// keys on, full sync so acknowledged writes survive a crash) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        let lowered = url.to_ascii_lowercase();
        if lowered.starts_with("postgres://") || lowered.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            return Ok(Store {
                pool: Pool::Postgres(pool),
                url_for_display: redact(url),
            });
        }
        if lowered.contains("://") && !lowered.starts_with("sqlite:") {
            return Err(StoreError::BadUrl(redact(url)));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let in_memory = path == ":memory:";
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Full)
            // Statement journals and sorts in memory: multi-row upserts inside a transaction
            // otherwise write a temporary file per statement.
            .pragma("temp_store", "memory")
            // 64 MiB of page cache per connection (the default is 2 MiB): large imports and
            // scans re-read index pages far less.
            .pragma("cache_size", "-65536")
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists per connection, so it must have exactly one.
            .max_connections(if in_memory { 1 } else { 8 })
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
            url_for_display: path.to_string(),
        })
    }

    /// Connects to PostgreSQL with every table inside `schema` (created if missing). Used by tests
    /// to give each test its own namespace in one database.
    pub async fn connect_postgres_schema(url: &str, schema: &str) -> Result<Store> {
        if !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::BadUrl(format!("invalid schema name {schema}")));
        }
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(PgConnectOptions::from_str(url)?)
            .await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let options = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Store {
            pool: Pool::Postgres(pool),
            url_for_display: format!("{} (schema {schema})", redact(url)),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The database location with any password removed, for logs and the UI.
    pub fn display_url(&self) -> &str {
        &self.url_for_display
    }

    /// Begins a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`), so two writers queue instead of failing half-way with "database is locked".
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx { inner })
    }

    /// Runs several statements separated by semicolons (migrations only).
    pub(crate) async fn execute_script(tx: &mut Tx, script: &str) -> Result<()> {
        match &mut tx.inner {
            TxInner::Sqlite(t) => {
                sqlx::raw_sql(script).execute(&mut **t).await?;
            }
            TxInner::Postgres(t) => {
                sqlx::raw_sql(script).execute(&mut **t).await?;
            }
        }
        Ok(())
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sql("SELECT 1").fetch_scalar::<i32>(self).await.map(|_| ())
    }

    /// Closes every connection (so SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    /// Which database this transaction runs on.
    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Commits. Only after this returns is the write acknowledged.
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Rolls back explicitly.
    pub async fn rollback(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}

fn redact(url: &str) -> String {
    // postgres://user:password@host/db → postgres://user:***@host/db
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://keel:s3cret@db:5432/keel"),
            "postgres://keel:***@db:5432/keel"
        );
        assert_eq!(redact("postgres://db/keel"), "postgres://db/keel");
    }
}

#[cfg(test)]
mod sqlite_text_tests {
    use super::sqlite_text;

    #[test]
    fn in_order_parameters_become_anonymous() {
        assert_eq!(
            sqlite_text("INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(
            sqlite_text("SELECT 1 FROM t WHERE a = $1 AND b = '$2' AND c = $2"),
            "SELECT 1 FROM t WHERE a = ? AND b = '$2' AND c = ?"
        );
        assert_eq!(sqlite_text("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn anything_else_is_left_alone() {
        for text in [
            "SELECT 1 WHERE a = $2 AND b = $1",
            "SELECT 1 WHERE a = $1 OR b = $1",
            "SELECT 1 WHERE a = $1 AND b = $3",
            "SELECT $ FROM t",
            "SELECT 'unterminated $1",
        ] {
            assert_eq!(sqlite_text(text), text);
        }
    }
}
