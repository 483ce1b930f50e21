//! A statement with its arguments, and the few executors every store module uses.
//!
//! Statements are text with `$N` placeholders plus a list of [`Arg`]s; the executors bind them
//! on whichever backend the store runs. Row types derive `sqlx::FromRow` and decode on both.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

use std::sync::Arc;

use tracing::Instrument as _;

use super::health::WriteHealth;
use super::{PoolRef, Store, StoreResult, on_pool};

/// A span for one SQL statement (exported as an OpenTelemetry client span when tracing).
fn sql_span(backend: super::Backend, sql: &Sql) -> tracing::Span {
    if !crate::telemetry::exporting() {
        return tracing::Span::none();
    }
    let text = sql.text.trim_start();
    let verb = text.split_whitespace().next().unwrap_or("SQL").to_ascii_uppercase();
    let statement: String = text.chars().take(500).collect();
    tracing::info_span!(
        "sql",
        otel.name = %format!("{verb} ({})", backend.name()),
        otel.kind = "client",
        db.system = if backend == super::Backend::Sqlite { "sqlite" } else { "postgresql" },
        db.statement = %statement,
    )
}

/// One bound value.
#[derive(Clone, Debug)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Date(Option<NaiveDate>),
    Time(Option<DateTime<Utc>>),
    Float(Option<f64>),
    Bool(bool),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<Option<NaiveDate>> for Arg {
    fn from(v: Option<NaiveDate>) -> Self {
        Self::Date(v)
    }
}

impl From<Option<f64>> for Arg {
    fn from(v: Option<f64>) -> Self {
        Self::Float(v)
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Self::Float(Some(v))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Self::Time(Some(v))
    }
}

/// SQL text and its arguments, built up piece by piece.
///
/// The text is assembled only from literals of the store and dialect fragments; every value
/// goes through [`Sql::arg`]. That is why the executors may assert it safe for sqlx.
#[derive(Clone, Debug, Default)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// Starts a statement.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), args: Vec::new() }
    }

    /// Adds an argument and returns its placeholder (`$1`, `$2`, …) to splice into the text.
    pub fn arg(&mut self, arg: impl Into<Arg>) -> String {
        self.args.push(arg.into());
        format!("${}", self.args.len())
    }

    /// Index the next argument will get, for dialect fragments that name their placeholder.
    pub fn next_index(&self) -> u8 {
        u8::try_from(self.args.len() + 1).expect("fewer than 255 arguments per statement")
    }

    /// Appends SQL text (never a value: values go through [`Sql::arg`]).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }
}

/// Binds every argument of `$sql` to the query `$query`, in order.
macro_rules! bind_args {
    ($query:expr, $sql:expr) => {{
        let mut query = $query;
        for arg in &$sql.args {
            query = match arg {
                Arg::Text(v) => query.bind(v.clone()),
                Arg::Int(v) => query.bind(*v),
                Arg::Date(v) => query.bind(*v),
                Arg::Time(v) => query.bind(*v),
                Arg::Float(v) => query.bind(*v),
                Arg::Bool(v) => query.bind(*v),
            };
        }
        query
    }};
}

/// A row type that decodes on both backends.
pub trait AnyRow: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> AnyRow for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

impl Store {
    /// Runs a query and decodes every row.
    pub(crate) async fn fetch_all<T: AnyRow>(&self, sql: &Sql) -> StoreResult<Vec<T>> {
        let run = async {
            Ok(
                on_pool!(self, pool => bind_args!(sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql.text.as_str())), sql).fetch_all(pool).await?),
            )
        };
        run.instrument(sql_span(self.backend(), sql)).await
    }

    /// Runs a query expected to return at most one row.
    pub(crate) async fn fetch_optional<T: AnyRow>(&self, sql: &Sql) -> StoreResult<Option<T>> {
        let run = async {
            Ok(
                on_pool!(self, pool => bind_args!(sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql.text.as_str())), sql).fetch_optional(pool).await?),
            )
        };
        run.instrument(sql_span(self.backend(), sql)).await
    }

    /// Runs a query returning one integer (a count).
    pub(crate) async fn fetch_count(&self, sql: &Sql) -> StoreResult<i64> {
        let run = async {
            Ok(
                on_pool!(self, pool => bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.text.as_str())), sql).fetch_one(pool).await?),
            )
        };
        run.instrument(sql_span(self.backend(), sql)).await
    }

    /// Starts a (write) transaction; dropped without [`Tx::commit`], it rolls back.
    ///
    /// On SQLite the write lock is taken at the start (`BEGIN IMMEDIATE`): a transaction that
    /// read first and then wrote could not wait for another writer, and failed at once with
    /// "database is locked" when one committed in between (found by W5 with two editors).
    ///
    /// How it ends (begun, each statement, commit) tells whether writes work (see
    /// [`super::health`]). A transaction that fails never leaves its connection in the pool
    /// inside a transaction: see `left_in_transaction` in the parent module.
    pub(crate) async fn begin(&self) -> StoreResult<Tx> {
        self.count_statement();
        let health = self.health().clone();
        let begun = match self.pool() {
            PoolRef::Sqlite(pool) => {
                pool.begin_with("BEGIN IMMEDIATE").await.map(|tx| Tx::Sqlite(Noted { tx, health: health.clone() }))
            }
            PoolRef::Postgres(pool) => pool.begin().await.map(|tx| Tx::Postgres(Noted { tx, health: health.clone() })),
        };
        begun.map_err(|error| health.noted(error.into()))
    }
}

/// An open transaction on either backend.
pub(crate) enum Tx {
    Sqlite(Noted<Sqlite>),
    Postgres(Noted<Postgres>),
}

/// A transaction, and where to note whether writes work; derefs to the transaction.
pub(crate) struct Noted<DB: sqlx::Database> {
    tx: Transaction<'static, DB>,
    health: Arc<WriteHealth>,
}

impl<DB: sqlx::Database> std::ops::Deref for Noted<DB> {
    type Target = Transaction<'static, DB>;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for Noted<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl WriteHealth {
    /// Notes a failed step of a write transaction, and passes the error on.
    fn noted(&self, error: super::StoreError) -> super::StoreError {
        self.failed(&error);
        error
    }
}

impl Tx {
    /// Runs a statement; returns the number of rows it affected.
    pub async fn execute(&mut self, sql: &Sql) -> StoreResult<u64> {
        let span = sql_span(self.backend(), sql);
        let result = self.execute_unspanned(sql).instrument(span).await;
        result.map_err(|error| self.health().noted(error))
    }

    fn backend(&self) -> super::Backend {
        match self {
            Self::Sqlite(_) => super::Backend::Sqlite,
            Self::Postgres(_) => super::Backend::Postgres,
        }
    }

    fn health(&self) -> &WriteHealth {
        match self {
            Self::Sqlite(tx) => &tx.health,
            Self::Postgres(tx) => &tx.health,
        }
    }

    async fn execute_unspanned(&mut self, sql: &Sql) -> StoreResult<u64> {
        Ok(match self {
            Self::Sqlite(tx) => bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text.as_str())), sql)
                .execute(&mut ***tx)
                .await?
                .rows_affected(),
            Self::Postgres(tx) => bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text.as_str())), sql)
                .execute(&mut ***tx)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query inside the transaction and decodes at most one row.
    pub async fn fetch_optional<T: AnyRow>(&mut self, sql: &Sql) -> StoreResult<Option<T>> {
        let result = self.fetch_optional_unnoted(sql).await;
        result.map_err(|error| self.health().noted(error))
    }

    async fn fetch_optional_unnoted<T: AnyRow>(&mut self, sql: &Sql) -> StoreResult<Option<T>> {
        Ok(match self {
            Self::Sqlite(tx) => {
                bind_args!(sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql.text.as_str())), sql)
                    .fetch_optional(&mut ***tx)
                    .await?
            }
            Self::Postgres(tx) => {
                bind_args!(sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql.text.as_str())), sql)
                    .fetch_optional(&mut ***tx)
                    .await?
            }
        })
    }

    /// Runs a query inside the transaction returning one integer.
    pub async fn fetch_count(&mut self, sql: &Sql) -> StoreResult<i64> {
        let result = self.fetch_count_unnoted(sql).await;
        result.map_err(|error| self.health().noted(error))
    }

    async fn fetch_count_unnoted(&mut self, sql: &Sql) -> StoreResult<i64> {
        Ok(match self {
            Self::Sqlite(tx) => {
                bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.text.as_str())), sql)
                    .fetch_one(&mut ***tx)
                    .await?
            }
            Self::Postgres(tx) => {
                bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.text.as_str())), sql)
                    .fetch_one(&mut ***tx)
                    .await?
            }
        })
    }

    /// Makes the transaction's writes durable.
    pub async fn commit(self) -> StoreResult<()> {
        let (committed, health) = match self {
            Self::Sqlite(Noted { tx, health }) => (tx.commit().await, health),
            Self::Postgres(Noted { tx, health }) => (tx.commit().await, health),
        };
        match committed {
            Ok(()) => {
                health.succeeded();
                Ok(())
            }
            Err(error) => Err(health.noted(error.into())),
        }
    }
}
