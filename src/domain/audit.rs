//! The audit log: every mutation attempt is recorded — who, when, which operation, on what,
//! and how it ended, refusals included.

use chrono::{DateTime, Utc};

use super::access::{Caller, Role};
use crate::error::{AppError, AppResult};
use crate::store::sql::Tx;
use crate::store::{self, Store};

crate::domain::model::vocabulary! {
    /// How a mutation attempt ended.
    Outcome {
        /// It was carried out.
        Succeeded = "SUCCEEDED",
        /// The caller was not allowed (unauthenticated or forbidden); nothing was written.
        Denied = "DENIED",
        /// It was allowed but failed (invalid input, conflict, internal error); nothing was written.
        Failed = "FAILED",
    }
}

/// One recorded mutation attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub actor_role: Option<Role>,
    pub actor_region: Option<String>,
    pub operation: String,
    pub target: Option<String>,
    pub outcome: Outcome,
    pub error_code: Option<String>,
    pub detail: Option<String>,
}

/// Which entries to list.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub operation: Option<String>,
    pub outcome: Option<Outcome>,
}

/// The audit record of one mutation in progress. The write commits its success entry in its
/// own transaction ([`Audit::commit`]); [`Audit::finish`] records any other ending.
pub struct Audit {
    entry: AuditEntry,
    recorded: bool,
}

impl Audit {
    /// Starts the record of `operation` by `caller` on `target`.
    pub fn start(caller: &Caller, operation: &str, target: impl Into<String>) -> Self {
        let principal = caller.principal();
        Self {
            entry: AuditEntry {
                id: 0,
                occurred_at: Utc::now(),
                actor: caller.describe(),
                actor_role: principal.map(|p| p.role),
                actor_region: principal.and_then(|p| p.region.clone()),
                operation: operation.to_owned(),
                target: Some(target.into()),
                outcome: Outcome::Succeeded,
                error_code: None,
                detail: None,
            },
            recorded: false,
        }
    }

    /// Names the target more precisely once it is known (e.g. the id a create assigned).
    pub fn target(&mut self, target: impl Into<String>) {
        self.entry.target = Some(target.into());
    }

    /// Records success inside the write's transaction, then commits both.
    pub(crate) async fn commit(&mut self, mut tx: Tx) -> AppResult<()> {
        store::audit::insert_in(&mut tx, &self.entry).await?;
        tx.commit().await?;
        self.recorded = true;
        Ok(())
    }

    /// Records how the attempt ended unless its success is already recorded; passes the result on.
    pub async fn finish<T>(mut self, store: &Store, result: AppResult<T>) -> AppResult<T> {
        if self.recorded && result.is_ok() {
            return result;
        }
        if let Err(error) = &result {
            self.entry.outcome = match error {
                AppError::Unauthenticated(_) | AppError::Forbidden(_) => Outcome::Denied,
                _ => Outcome::Failed,
            };
            self.entry.error_code = Some(error.code().to_owned());
            self.entry.detail = Some(error.message());
        }
        if let Err(error) = store::audit::insert(store, &self.entry).await {
            tracing::error!(%error, operation = %self.entry.operation, "cannot record an audit entry");
            if result.is_ok() {
                return Err(AppError::Internal(error.into()));
            }
        }
        result
    }
}
