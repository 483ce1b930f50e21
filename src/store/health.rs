//! Whether writes work: the state readiness reports.
//!
//! A database can answer `SELECT 1` while refusing every write (a full disk, a read-only file
//! system, a standby after failover). Write transactions report here how they end: one failing
//! for such a reason marks writes as failing; one committing clears the mark. While marked,
//! readiness probes with a write transaction of its own that changes no row, at most once per
//! [`PROBE_INTERVAL`], so that the mark clears once the cause is gone even when no traffic
//! arrives (a replica that is not ready gets none).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::StoreError;

/// Readiness probes writes at most this often while they fail.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct WriteHealth {
    /// Why the last write transaction failed, while no later one has committed.
    failure: Mutex<Option<String>>,
    /// When readiness last probed writes; held during a probe, so probes never pile up.
    last_probe: tokio::sync::Mutex<Option<Instant>>,
}

impl WriteHealth {
    /// Notes how a write transaction's step failed; only failures of the database itself count.
    pub(crate) fn failed(&self, error: &StoreError) {
        if !error.is_unavailable() {
            return;
        }
        let mut failure = self.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if failure.is_none() {
            tracing::error!(%error, "database writes are failing; readiness is off until one succeeds");
        }
        *failure = Some(error.to_string());
    }

    /// Notes that a write transaction committed.
    pub(crate) fn succeeded(&self) {
        let mut failure = self.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if failure.take().is_some() {
            tracing::info!("database writes work again");
        }
    }

    /// Why writes are failing, if they are.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Runs `probe` unless one ran within [`PROBE_INTERVAL`] or is running; then `Ok` if writes
    /// work (as far as the last probe knows).
    pub(crate) async fn check<F>(&self, probe: F) -> Result<(), String>
    where
        F: std::future::Future<Output = Result<(), StoreError>>,
    {
        let Some(failure) = self.failure() else { return Ok(()) };
        let Ok(mut last_probe) = self.last_probe.try_lock() else { return Err(failure) };
        if last_probe.is_some_and(|at| at.elapsed() < PROBE_INTERVAL) {
            return Err(failure);
        }
        *last_probe = Some(Instant::now());
        // The probe's own transaction reports to `failed`/`succeeded` like any other.
        match probe.await {
            Ok(()) => Ok(()),
            Err(error) => Err(self.failure().unwrap_or_else(|| error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk_full() -> StoreError {
        StoreError::Unavailable("database or disk is full".into())
    }

    #[tokio::test]
    async fn a_failure_is_cleared_by_a_commit_or_a_successful_probe_at_most_once_a_second() {
        let health = WriteHealth::default();
        assert_eq!(health.check(async { panic!("no probe while writes work") }).await, Ok(()));
        // Input errors say nothing about the database.
        health.failed(&StoreError::Corrupt("a bad row".into()));
        assert_eq!(health.failure(), None);
        health.failed(&disk_full());
        assert!(health.check(async { Err(disk_full()) }).await.is_err());
        // Within the interval: no second probe, the failure stands.
        assert!(health.check(async { panic!("probed twice within the interval") }).await.is_err());
        health.succeeded();
        assert_eq!(health.check(async { panic!("no probe once a write committed") }).await, Ok(()));
    }
}
