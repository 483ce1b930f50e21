//! PostgreSQL `NOTIFY`/`LISTEN` for live events across replicas (SQLite: one process, nothing
//! to send).

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::sql::Sql;
use super::{Pool, Store, StoreResult};
use crate::domain::events::{CHANNEL, ReportEvent};

/// Sends an event to every listening replica (PostgreSQL); does nothing on SQLite.
pub async fn notify(store: &Store, event: &ReportEvent) -> StoreResult<()> {
    if let Pool::Postgres(_) = &store.pool {
        let payload = serde_json::to_string(event).map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
        let mut sql = Sql::new("");
        let (c, p) = (sql.arg(CHANNEL), sql.arg(payload));
        // pg_notify returns void, which no Rust type decodes: count its one row instead.
        sql.push(&format!("SELECT COUNT(*) FROM (SELECT pg_notify({c}, {p})) AS sent"));
        store.fetch_count(&sql).await?;
    }
    Ok(())
}

/// A `LISTEN` on [`CHANNEL`] over its own connection.
pub struct Listener {
    pool: sqlx::PgPool,
}

impl Listener {
    /// A listener for a PostgreSQL store; `None` on SQLite.
    pub fn new(store: &Store) -> Option<Self> {
        match &store.pool {
            Pool::Postgres(pool) => Some(Self { pool: pool.clone() }),
            Pool::Sqlite(_) => None,
        }
    }

    /// Calls `deliver` with every event other processes notify, until the pool is closed;
    /// `ready` is told once the first `LISTEN` is in place.
    pub async fn run(self, deliver: impl Fn(ReportEvent) + Send + 'static, ready: tokio::sync::oneshot::Sender<()>) {
        let mut ready = Some(ready);
        loop {
            if self.pool.is_closed() {
                return;
            }
            let mut listener = match PgListener::connect_with(&self.pool).await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "cannot connect to listen for events; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
            };
            if let Err(error) = listener.listen(CHANNEL).await {
                tracing::warn!(%error, "cannot LISTEN for events; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            if let Some(ready) = ready.take() {
                let _ = ready.send(());
            }
            loop {
                match listener.recv().await {
                    Ok(notification) => match serde_json::from_str::<ReportEvent>(notification.payload()) {
                        Ok(event) => deliver(event),
                        Err(error) => tracing::warn!(%error, "ignoring a malformed event"),
                    },
                    Err(error) => {
                        if self.pool.is_closed() {
                            return;
                        }
                        tracing::warn!(%error, "event listener lost its connection; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}
