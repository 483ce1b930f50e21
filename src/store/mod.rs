//! Storage on SQLite or PostgreSQL through sqlx. All SQL of the service lives under this module.
//!
//! [`Store`] wraps the native pool of either backend. Query functions are written once and
//! expanded for both pools by [`on_pool!`]; the few fragments that differ come from
//! [`dialect::Backend`].

pub mod aggregates;
pub mod alliances;
pub mod audit;
pub(crate) mod bulk;
pub mod contested;
pub mod dataset;
pub mod deadline;
pub mod dialect;
pub mod events;
pub mod figure_lists;
pub mod figures;
pub(crate) mod health;
pub mod libraries;
pub mod organizations;
pub mod regions;
pub mod reports;
pub mod sources;
pub(crate) mod sql;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use deadline::within;
pub use dialect::Backend;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Errors of the storage layer. Callers map them to client-facing errors; their text is for logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no supported backend.
    #[error("unsupported database URL (expected sqlite:… or postgres://…): {0}")]
    UnsupportedUrl(String),
    /// A unique or foreign-key constraint refused a write; carries the constraint's name.
    #[error("constraint {constraint} violated: {message}")]
    Constraint { constraint: String, message: String },
    /// Anything else the driver reported.
    #[error(transparent)]
    Database(sqlx::Error),
    /// Applying migrations failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not fit the domain (e.g. an enum text no variant matches).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Writes have been failing (see [`StoreError::is_unavailable`]) and still do.
    #[error("the database cannot take writes: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// The database itself cannot serve right now: it is unreachable, out of disk space or
    /// memory, read-only, or failing I/O. Retrying later may succeed; the request was not wrong.
    /// (A pool closed by our own shutdown is not: that is internal.)
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Database(sqlx::Error::Database(db)) => match db.code() {
                Some(code) if code.len() == 5 => {
                    // PostgreSQL SQLSTATE: connection exception, insufficient resources (disk
                    // full), operator intervention (shutdown; not 57014, a cancelled statement),
                    // system error (I/O), internal error (corruption), read-only transaction.
                    ["08", "53", "57P", "58", "XX"].iter().any(|class| code.starts_with(class)) || code == "25006"
                }
                // SQLite's extended result code; the primary code is its low byte: NOMEM,
                // READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
                Some(code) => code.parse::<i32>().is_ok_and(|c| [7, 8, 10, 11, 13, 14, 15, 26].contains(&(c & 0xff))),
                None => false,
            },
            Self::Database(error) => matches!(
                error,
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::WorkerCrashed
            ),
            _ => false,
        }
    }

    /// The statement was stopped because the work it belonged to ran out of time (see
    /// [`deadline`]): SQLite's `SQLITE_INTERRUPT`, PostgreSQL's `query_canceled`.
    pub fn is_interrupted(&self) -> bool {
        let Self::Database(sqlx::Error::Database(db)) = self else { return false };
        match db.code().as_deref() {
            Some("57014") => true,
            Some(code) if code.len() < 5 => code.parse::<i32>().is_ok_and(|c| c & 0xff == 9),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error
            && (db.is_unique_violation() || db.is_foreign_key_violation())
        {
            return Self::Constraint {
                // SQLite reports no constraint name; its message names the columns instead.
                constraint: db.constraint().unwrap_or_default().to_owned(),
                message: db.message().to_owned(),
            };
        }
        Self::Database(error)
    }
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection pool to one database, on either backend. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    statements: Arc<AtomicU64>,
    health: Arc<health::WriteHealth>,
}

/// How to open a [`Store`].
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// `sqlite://file.db`, `sqlite::memory:` or `postgres://user@host/db`.
    pub url: String,
    /// Upper bound of pooled connections.
    pub max_connections: u32,
    /// How long to wait for a free connection before failing a query.
    pub acquire_timeout: Duration,
    /// PostgreSQL only: the schema to work in (sets `search_path`); used by tests for isolation.
    pub pg_schema: Option<String>,
}

impl StoreOptions {
    /// Options with defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), max_connections: 10, acquire_timeout: Duration::from_secs(5), pg_schema: None }
    }
}

/// Runs `$body` with `$pool` bound to the native pool of the store's backend.
///
/// The body is written once and compiled twice, so query code stays generic without the `Any`
/// driver (which cannot carry dates or timestamps). Each expansion counts one statement.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {{
        let store: &$crate::store::Store = $store;
        store.count_statement();
        match store.pool() {
            $crate::store::PoolRef::Sqlite($pool) => $body,
            $crate::store::PoolRef::Postgres($pool) => $body,
        }
    }};
}
pub(crate) use on_pool;

/// Borrowed native pool, for [`on_pool!`].
pub(crate) enum PoolRef<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

impl Store {
    /// Opens a pool (creating the SQLite file if missing) without touching the schema.
    pub async fn connect(options: &StoreOptions) -> StoreResult<Self> {
        let backend =
            Backend::from_url(&options.url).ok_or_else(|| StoreError::UnsupportedUrl(redact(&options.url)))?;
        let pool = match backend {
            Backend::Sqlite => {
                let connect = SqliteConnectOptions::from_str(&options.url)?
                    .create_if_missing(true)
                    .foreign_keys(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    // SQLite has one writer: the others queue for the lock. A write waits as
                    // long as a request may run (the default request timeout) rather than fail
                    // with "database is locked" behind a slow one (seen under W5's load at 5 s).
                    .busy_timeout(Duration::from_secs(30));
                let in_memory = options.url.contains(":memory:") || options.url.contains("mode=memory");
                let mut pool = SqlitePoolOptions::new()
                    // An in-memory database lives and dies with its one connection.
                    .max_connections(if in_memory { 1 } else { options.max_connections })
                    .min_connections(if in_memory { 1 } else { 0 })
                    .idle_timeout(if in_memory { None } else { Some(Duration::from_secs(600)) })
                    .max_lifetime(if in_memory { None } else { Some(Duration::from_secs(1800)) })
                    .acquire_timeout(options.acquire_timeout);
                // An in-memory database (tests) keeps neither hook: closing its one connection
                // would lose it, and an interrupted write can leave a connection fit only for closing.
                if !in_memory {
                    pool = pool
                        // `before_acquire` talks to the connection's worker, which is the liveness test.
                        .test_before_acquire(false)
                        .after_connect(|conn, _| Box::pin(bound_sqlite(conn)))
                        .before_acquire(|conn, _| {
                            Box::pin(async move {
                                if left_in_transaction(conn) {
                                    return Ok(false);
                                }
                                bound_sqlite(conn).await.map(|()| true)
                            })
                        });
                }
                Pool::Sqlite(pool.connect_with(connect).await?)
            }
            Backend::Postgres => {
                // No JIT: it compiles each execution of a large plan anew (a second and more
                // here), which an interactive service never wins back. Custom plans: a generic
                // plan cannot see a search pattern's or a scope's selectivity (a text search
                // then scans every resource).
                let mut connect = PgConnectOptions::from_str(&options.url)?
                    .options([("jit", "off"), ("plan_cache_mode", "force_custom_plan")]);
                if let Some(schema) = &options.pg_schema {
                    connect = connect.options([("search_path", schema.as_str())]);
                }
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    // `before_acquire` makes a round trip, which is the liveness test.
                    .test_before_acquire(false)
                    .after_connect(|conn, _| Box::pin(bound_postgres(conn)))
                    .before_acquire(|conn, _| {
                        Box::pin(async move {
                            if left_in_transaction(conn) {
                                return Ok(false);
                            }
                            bound_postgres(conn).await.map(|()| true)
                        })
                    })
                    .connect_with(connect)
                    .await?;
                Pool::Postgres(pool)
            }
        };
        Ok(Self { pool, statements: Arc::default(), health: Arc::default() })
    }

    /// The backend this store talks to.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) fn pool(&self) -> PoolRef<'_> {
        match &self.pool {
            Pool::Sqlite(pool) => PoolRef::Sqlite(pool),
            Pool::Postgres(pool) => PoolRef::Postgres(pool),
        }
    }

    /// Applies pending migrations of this backend's set. Safe to run concurrently from several
    /// replicas: sqlx takes an advisory lock on PostgreSQL.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Checks the database answers a trivial query and, if writes have been failing, that they
    /// work again (see [`health`]); for readiness.
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop)?);
        self.health.check(self.probe_writes()).await.map_err(StoreError::Unavailable)
    }

    /// A write transaction that changes no row but must reach the disk: SQLite rewrites its
    /// header's `user_version` with the value it has; PostgreSQL assigns a transaction id,
    /// which makes its commit write and flush the log.
    async fn probe_writes(&self) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        match self.backend() {
            Backend::Sqlite => {
                let version = tx.fetch_count(&sql::Sql::new("PRAGMA user_version")).await?;
                // PRAGMA takes no bound arguments; the value is the integer just read.
                tx.execute(&sql::Sql::new(format!("PRAGMA user_version = {version}"))).await?;
            }
            Backend::Postgres => {
                tx.fetch_count(&sql::Sql::new("SELECT txid_current()")).await?;
            }
        }
        tx.commit().await
    }

    /// Closes every connection; later queries fail. Used on shutdown (and by tests).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// Number of SQL statements issued through this store (and its clones) so far.
    ///
    /// A transactional write counts as one. Used to prove the absence of N+1 query patterns.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Connections the pool holds, and how many of them are idle.
    pub fn pool_usage(&self) -> (u32, usize) {
        match &self.pool {
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
        }
    }

    pub(crate) fn health(&self) -> &Arc<health::WriteHealth> {
        &self.health
    }

    pub(crate) fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }
}

impl Store {
    /// Refreshes the planner's statistics after a bulk load into `tables`; on PostgreSQL also
    /// vacuums them, so their fresh pages are marked all-visible (index scans then skip the
    /// per-row visibility work that made a dashboard's scan twice as slow).
    pub async fn analyze(&self, tables: &[&str]) -> StoreResult<()> {
        match self.backend() {
            Backend::Postgres => self.execute_script(&format!("VACUUM (ANALYZE) {}", tables.join(", "))).await,
            Backend::Sqlite => self.execute_script("ANALYZE").await,
        }
    }

    /// Runs SQL text as it is, possibly several statements (administration and tests only: no
    /// arguments can be bound).
    pub async fn execute_script(&self, sql: &str) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// Runs one statement as it is and returns the integer it yields (administration and
    /// tests only, like [`Store::execute_script`]).
    pub async fn fetch_number(&self, sql: &str) -> StoreResult<i64> {
        self.fetch_count(&sql::Sql::new(sql)).await
    }
}

/// Whether a connection coming out of the pool is still inside a transaction. sqlx rolls back a
/// transaction dropped without commit, but when SQLite has already rolled it back itself (a
/// full disk or an I/O error during a write or COMMIT, an interrupted statement) that ROLLBACK
/// fails and the connection keeps counting one transaction open: every later `BEGIN` on it
/// failed ("attempted to call begin_with at non-zero transaction depth"). Such a connection is
/// closed (which ends any transaction) and the pool opens a fresh one.
fn left_in_transaction<C: sqlx::Connection>(conn: &C) -> bool {
    let stuck = conn.is_in_transaction();
    if stuck {
        tracing::warn!("a pooled connection was left inside a failed transaction; closing it");
    }
    stuck
}

/// Bounds the statements of the connection's next user by the deadline of the acquiring task
/// (see [`deadline`]): SQLite interrupts a statement running past it.
async fn bound_sqlite(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let until = deadline::current();
    let mut handle = conn.lock_handle().await?;
    match until {
        Some(until) => {
            handle.set_progress_handler(deadline::SQLITE_STEPS_PER_CHECK, move || std::time::Instant::now() < until)
        }
        None => handle.remove_progress_handler(),
    }
    Ok(())
}

/// As [`bound_sqlite`], for PostgreSQL: `statement_timeout` is the time left; without a
/// deadline, the session's default (whatever the server, database or role configure).
async fn bound_postgres(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    match deadline::current() {
        Some(until) => sqlx::query("SELECT set_config('statement_timeout', $1, false)")
            .bind(format!("{}ms", deadline::remaining_millis(until)))
            .execute(&mut *conn)
            .await
            .map(drop),
        None => sqlx::raw_sql("RESET statement_timeout").execute(&mut *conn).await.map(drop),
    }
}

/// The data version: bumped by triggers (migrations 0006 and 0008) in the same transaction as
/// every write to data a query can read; caches are keyed by it.
pub async fn data_version(store: &Store) -> StoreResult<i64> {
    store.fetch_count(&sql::Sql::new("SELECT version FROM data_version WHERE id = 1")).await
}

/// What a cached response stays valid for: the data version, and the earliest expiry after
/// `now` of an unrevoked grant (access changes by itself then), read in one statement.
pub async fn freshness(store: &Store, now: chrono::DateTime<chrono::Utc>) -> StoreResult<Freshness> {
    let mut sql = sql::Sql::new("");
    let p = sql.arg(now);
    // The expiry as a column of a subquery (not an aggregate), so SQLite keeps its declared type.
    sql.push(&format!(
        "SELECT d.version, g.expires_at AS next_expiry FROM data_version d LEFT JOIN \
         (SELECT expires_at FROM library_grants WHERE revoked_at IS NULL AND expires_at > {p} \
          ORDER BY expires_at LIMIT 1) g ON 1 = 1 WHERE d.id = 1"
    ));
    let row: Option<Freshness> = store.fetch_optional(&sql).await?;
    row.ok_or_else(|| StoreError::Corrupt("the data_version row is missing".to_owned()))
}

/// See [`freshness`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Freshness {
    /// The data version.
    pub version: i64,
    /// When a grant next expires, if one will.
    pub next_expiry: Option<chrono::DateTime<chrono::Utc>>,
}

/// Version and description of each migration of a set.
pub type MigrationList = Vec<(i64, String)>;

/// The versions of both migration sets (SQLite, PostgreSQL), for the lock-step check.
pub fn migration_versions() -> (MigrationList, MigrationList) {
    let list =
        |m: &sqlx::migrate::Migrator| m.iter().map(|m| (m.version, m.description.to_string())).collect::<Vec<_>>();
    (list(&SQLITE_MIGRATIONS), list(&POSTGRES_MIGRATIONS))
}

/// A database URL with its password replaced, fit for logs and error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &credentials[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/fulian"), "postgres://app:***@db:5432/fulian");
        assert_eq!(redact("postgres://app@db/fulian"), "postgres://app@db/fulian");
        assert_eq!(redact("sqlite://fulian.db"), "sqlite://fulian.db");
    }
}
