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

/// Longest texts an entry keeps (longer ones are cut, marked with "…"): who, what, on what,
/// and the error's message.
const MAX_NAME_CHARS: usize = 200;
const MAX_TARGET_CHARS: usize = 500;
const MAX_DETAIL_CHARS: usize = 2000;

impl AuditEntry {
    /// The entry as it can always be stored, whatever the input it describes: NUL characters
    /// replaced and long texts cut (an attempt must never go unrecorded because of its input).
    fn storable(&self) -> Self {
        let name = |t: &str| super::text::storable(t, MAX_NAME_CHARS);
        Self {
            actor: name(&self.actor),
            actor_region: self.actor_region.as_deref().map(name),
            operation: name(&self.operation),
            target: self.target.as_deref().map(|t| super::text::storable(t, MAX_TARGET_CHARS)),
            error_code: self.error_code.as_deref().map(name),
            detail: self.detail.as_deref().map(|t| super::text::storable(t, MAX_DETAIL_CHARS)),
            ..self.clone()
        }
    }
}

tokio::task_local! {
    /// Set when an audit entry was written by the code running inside [`tracked`].
    static RECORDED: std::cell::Cell<bool>;
}

/// Runs `work` and tells whether it wrote an audit entry: lets the GraphQL layer record the
/// attempts that were refused before reaching a service (malformed arguments).
pub async fn tracked<F: std::future::Future>(work: F) -> (F::Output, bool) {
    RECORDED
        .scope(std::cell::Cell::new(false), async move {
            let output = work.await;
            (output, RECORDED.with(std::cell::Cell::get))
        })
        .await
}

fn mark_recorded() {
    let _ = RECORDED.try_with(|recorded| recorded.set(true));
}

/// The audit record of one mutation in progress. The write commits its success entry in its
/// own transaction ([`Audit::commit`]); [`Audit::finish`] records any other ending.
pub struct Audit {
    entry: AuditEntry,
    recorded: bool,
    /// No principal: its refusals are rationed ([`super::refusals`]).
    anonymous: bool,
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
            anonymous: principal.is_none(),
        }
    }

    /// Names the target more precisely once it is known (e.g. the id a create assigned).
    pub fn target(&mut self, target: impl Into<String>) {
        self.entry.target = Some(target.into());
    }

    /// Records success inside the write's transaction, then commits both.
    pub(crate) async fn commit(&mut self, mut tx: Tx) -> AppResult<()> {
        self.record_in(&mut tx).await?;
        tx.commit().await?;
        self.recorded();
        Ok(())
    }

    /// Records success inside a transaction the caller commits (then calls [`Audit::recorded`]).
    pub(crate) async fn record_in(&self, tx: &mut Tx) -> AppResult<()> {
        Ok(store::audit::insert_in(tx, &self.entry.storable()).await?)
    }

    /// Notes that the success entry was committed.
    pub(crate) fn recorded(&mut self) {
        self.recorded = true;
        mark_recorded();
    }

    /// Records that the attempt ended with `error` (nothing was written).
    pub async fn record_failure(self, store: &Store, error: &AppError) {
        self.record_refusal(store, error.code(), &error.message()).await;
    }

    /// Records that the attempt was refused or failed with this error code and message
    /// (nothing was written): `DENIED` for authentication and authorization, else `FAILED`.
    /// An anonymous attempt is written within the budget for refusals; past it, it is counted
    /// there (and reported by the next row written) instead.
    pub async fn record_refusal(mut self, store: &Store, code: &str, message: &str) {
        let message = if self.anonymous {
            match super::refusals::admit(message) {
                Some(message) => message,
                None => {
                    // Handled: the GraphQL layer must not record it again.
                    mark_recorded();
                    return;
                }
            }
        } else {
            message.to_owned()
        };
        self.entry.outcome = match code {
            "UNAUTHENTICATED" | "FORBIDDEN" => Outcome::Denied,
            _ => Outcome::Failed,
        };
        self.entry.error_code = Some(code.to_owned());
        self.entry.detail = Some(message);
        let _ = self.insert(store).await;
    }

    async fn insert(&self, store: &Store) -> Result<(), crate::store::StoreError> {
        match store::audit::insert(store, &self.entry.storable()).await {
            Ok(()) => {
                mark_recorded();
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, operation = %self.entry.operation, "cannot record an audit entry");
                Err(error)
            }
        }
    }

    /// Records how the attempt ended unless its success is already recorded; passes the result on.
    pub async fn finish<T>(self, store: &Store, result: AppResult<T>) -> AppResult<T> {
        if self.recorded && result.is_ok() {
            return result;
        }
        match result {
            Err(error) => {
                self.record_failure(store, &error).await;
                Err(error)
            }
            Ok(value) => match self.insert(store).await {
                Ok(()) => Ok(value),
                Err(error) => Err(AppError::Internal(error.into())),
            },
        }
    }
}
