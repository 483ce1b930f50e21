//! The audit log.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::sql::{Sql, Tx};
use super::{Store, StoreError, StoreResult};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::query::{Page, PageRequest};

#[derive(FromRow)]
struct AuditRow {
    id: i64,
    occurred_at: DateTime<Utc>,
    actor: String,
    actor_role: Option<String>,
    actor_region: Option<String>,
    operation: String,
    target: Option<String>,
    outcome: String,
    error_code: Option<String>,
    detail: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> StoreResult<Self> {
        Ok(Self {
            id: r.id,
            occurred_at: r.occurred_at,
            actor: r.actor,
            actor_role: r.actor_role.map(|s| s.parse()).transpose().map_err(StoreError::Corrupt)?,
            actor_region: r.actor_region,
            operation: r.operation,
            target: r.target,
            outcome: r.outcome.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?,
            error_code: r.error_code,
            detail: r.detail,
        })
    }
}

fn insert_sql(entry: &AuditEntry) -> Sql {
    let mut sql = Sql::new("");
    let values = [
        sql.arg(entry.occurred_at),
        sql.arg(entry.actor.as_str()),
        sql.arg(entry.actor_role.map(|r| r.as_str())),
        sql.arg(entry.actor_region.clone()),
        sql.arg(entry.operation.as_str()),
        sql.arg(entry.target.clone()),
        sql.arg(entry.outcome.as_str()),
        sql.arg(entry.error_code.clone()),
        sql.arg(entry.detail.clone()),
    ]
    .join(", ");
    sql.push(&format!(
        "INSERT INTO audit_log (occurred_at, actor, actor_role, actor_region, operation, target, outcome, \
         error_code, detail) VALUES ({values})"
    ));
    sql
}

/// Records an entry inside the transaction of the write it describes.
pub(crate) async fn insert_in(tx: &mut Tx, entry: &AuditEntry) -> StoreResult<()> {
    tx.execute(&insert_sql(entry)).await.map(drop)
}

/// Records an entry on its own (for writes that were refused or failed, and wrote nothing).
pub async fn insert(store: &Store, entry: &AuditEntry) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    tx.execute(&insert_sql(entry)).await?;
    tx.commit().await
}

fn filtered(select: &str, filter: &AuditFilter) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" FROM audit_log a WHERE 1 = 1");
    if let Some(actor) = &filter.actor {
        let p = sql.arg(actor.as_str());
        sql.push(&format!(" AND a.actor = {p}"));
    }
    if let Some(operation) = &filter.operation {
        let p = sql.arg(operation.as_str());
        sql.push(&format!(" AND a.operation = {p}"));
    }
    if let Some(outcome) = filter.outcome {
        let p = sql.arg(outcome.as_str());
        sql.push(&format!(" AND a.outcome = {p}"));
    }
    sql
}

/// One page of entries, newest first.
pub async fn list(store: &Store, filter: &AuditFilter, page: &PageRequest<i64>) -> StoreResult<Page<AuditEntry>> {
    let mut sql = filtered(
        "SELECT a.id, a.occurred_at, a.actor, a.actor_role, a.actor_region, a.operation, a.target, a.outcome, \
         a.error_code, a.detail",
        filter,
    );
    if let Some(after) = page.after {
        let p = sql.arg(after);
        sql.push(&format!(" AND a.id < {p}"));
    }
    let limit = sql.arg(i64::try_from(page.first + 1).unwrap_or(i64::MAX));
    sql.push(&format!(" ORDER BY a.id DESC LIMIT {limit}"));
    let rows: Vec<AuditRow> = store.fetch_all(&sql).await?;
    let entries = rows.into_iter().map(AuditEntry::try_from).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_overfetch(entries, page.first))
}

/// How many entries match.
pub async fn count(store: &Store, filter: &AuditFilter) -> StoreResult<i64> {
    store.fetch_count(&filtered("SELECT COUNT(*)", filter)).await
}
