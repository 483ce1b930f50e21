//! How long a piece of work may keep the database busy: a deadline carried by the task.
//!
//! A request abandoned at its timeout is dropped, but a statement it started keeps running on
//! its connection (SQLite: on the connection's worker thread; PostgreSQL: on the server) unless
//! told to stop. Work run through [`within`] carries a deadline; every connection the pool hands
//! out inside it is set up to stop there: on SQLite a progress handler interrupts the running
//! statement, on PostgreSQL `statement_timeout` is the time left. Work outside (the CLI import,
//! migrations, subscriptions' listener) has no deadline and runs to completion.

use std::future::Future;
use std::time::{Duration, Instant};

tokio::task_local! {
    static DEADLINE: Instant;
}

/// What a statement gets past its request's timeout, so that the request is answered `TIMEOUT`
/// by the HTTP layer (its timer fires first) rather than by an interrupted statement.
pub const GRACE: Duration = Duration::from_millis(100);

/// SQLite virtual-machine steps between two looks at the clock (each look costs nanoseconds;
/// a thousand steps take microseconds).
pub(crate) const SQLITE_STEPS_PER_CHECK: i32 = 1_000;

/// Runs `work` with its database work bounded to `timeout` (plus [`GRACE`]) from now.
///
/// Database statements started inside `work` (on this task) past the deadline fail at once,
/// and those running when it passes are stopped; both fail with
/// [`super::StoreError::is_interrupted`] true.
pub async fn within<F: Future>(timeout: Duration, work: F) -> F::Output {
    let deadline = timeout.checked_add(GRACE).and_then(|bound| Instant::now().checked_add(bound));
    match deadline {
        Some(deadline) => DEADLINE.scope(deadline, work).await,
        // A timeout too large for the clock is no deadline at all.
        None => work.await,
    }
}

/// The deadline of the work running on this task, if any.
///
/// sqlx runs the pool's `before_acquire` and `after_connect` hooks inside the acquiring future,
/// on the task that asked for the connection: there, this is the deadline of that work.
pub(crate) fn current() -> Option<Instant> {
    DEADLINE.try_with(|deadline| *deadline).ok()
}

/// The time left until `deadline`, at least a millisecond (0 would mean "no limit" to
/// PostgreSQL's `statement_timeout`).
pub(crate) fn remaining_millis(deadline: Instant) -> u64 {
    let left = deadline.saturating_duration_since(Instant::now()).as_millis();
    u64::try_from(left).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_deadline_is_seen_inside_only() {
        assert_eq!(current(), None);
        let seen = within(Duration::from_secs(2), async { current() }).await;
        let left = seen.expect("a deadline inside").saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(1) && left <= Duration::from_secs(2) + GRACE, "{left:?}");
        assert_eq!(current(), None);
        assert_eq!(within(Duration::MAX, async { current() }).await, None);
    }

    #[test]
    fn remaining_time_is_never_zero() {
        assert_eq!(remaining_millis(Instant::now()), 1);
        assert!(remaining_millis(Instant::now() + Duration::from_secs(3)) > 2_000);
    }
}
