//! The audit's budget for refused requests.
//!
//! Every mutation attempt is audited, refusals included, so that attempts are visible; but
//! anyone can send attempts without a valid token (none, or a forged one), so the rows of
//! anonymous attempts are rationed: at most `per_minute` a minute in this process. Refusals
//! over the budget are counted, and the next row written says how many were not recorded one
//! by one, so nothing goes unseen. The HTTP layer runs each request inside [`rationed`]; the
//! audit ([`super::audit::Audit`]) asks the budget before writing an anonymous attempt.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Refusals not recorded one by one, since the process started (for metrics).
static SUPPRESSED: AtomicU64 = AtomicU64::new(0);

/// How many refusals the budget left out of the audit log one by one.
pub fn suppressed_total() -> u64 {
    SUPPRESSED.load(Ordering::Relaxed)
}

tokio::task_local! {
    static BUDGET: Arc<RefusalBudget>;
}

/// Runs `work` (a request) with anonymous attempts' audit rows rationed by `budget`.
pub async fn rationed<F: std::future::Future>(budget: Arc<RefusalBudget>, work: F) -> F::Output {
    BUDGET.scope(budget, work).await
}

/// What the running request's budget says of an anonymous refusal: the reason to record
/// (`Some`, perhaps with the count of those left out), or `None` when it is spent. Outside
/// [`rationed`] (services called directly), every refusal is recorded.
pub(super) fn admit(reason: &str) -> Option<String> {
    BUDGET.try_with(|budget| budget.admit(reason)).unwrap_or_else(|_| Some(reason.to_owned()))
}

/// Rows a minute for refused requests, across all clients.
pub const DEFAULT_PER_MINUTE: u32 = 60;

struct State {
    tokens: f64,
    updated: Instant,
    suppressed: u64,
    since: Option<chrono::DateTime<chrono::Utc>>,
}

/// A token bucket for audit rows of refusals, with a count of those it turned away.
pub struct RefusalBudget {
    per_second: f64,
    burst: f64,
    state: Mutex<State>,
}

impl RefusalBudget {
    /// A budget of `per_minute` rows a minute (bursts of as many).
    pub fn new(per_minute: u32) -> Self {
        let burst = f64::from(per_minute.max(1));
        Self {
            per_second: f64::from(per_minute) / 60.0,
            burst,
            state: Mutex::new(State { tokens: burst, updated: Instant::now(), suppressed: 0, since: None }),
        }
    }

    /// The reason to record for a refusal, or `None` when the budget is spent (the refusal is
    /// counted and reported with the next one recorded).
    pub fn admit(&self, reason: &str) -> Option<String> {
        let now = Instant::now();
        let mut state = self.state.lock().expect("refusal budget poisoned");
        let refill = now.duration_since(state.updated).as_secs_f64() * self.per_second;
        state.tokens = (state.tokens + refill).min(self.burst);
        state.updated = now;
        if state.tokens < 1.0 {
            state.suppressed += 1;
            state.since.get_or_insert_with(chrono::Utc::now);
            SUPPRESSED.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        state.tokens -= 1.0;
        let reason = match (state.suppressed, state.since.take()) {
            (0, _) | (_, None) => reason.to_owned(),
            (n, Some(since)) => format!(
                "{reason} (and {n} similar refusals since {} not recorded one by one: audit budget for refusals spent)",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        };
        state.suppressed = 0;
        Some(reason)
    }

    /// How long until the next row may be written (for tests and metrics).
    pub fn refill_time(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second.max(f64::MIN_POSITIVE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spent_budget_counts_and_reports_what_it_left_out() {
        let budget = RefusalBudget::new(2);
        assert_eq!(budget.admit("bad token").as_deref(), Some("bad token"));
        assert_eq!(budget.admit("bad token").as_deref(), Some("bad token"));
        for _ in 0..5 {
            assert_eq!(budget.admit("bad token"), None);
        }
        // Refill one token by moving the clock back.
        budget.state.lock().unwrap().updated -= budget.refill_time();
        let next = budget.admit("bad token").expect("refilled");
        assert!(next.starts_with("bad token (and 5 similar refusals since "), "{next}");
        budget.state.lock().unwrap().updated -= budget.refill_time();
        assert_eq!(budget.admit("bad token").as_deref(), Some("bad token"), "the count starts over");
    }
}
