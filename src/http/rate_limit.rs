//! Per-principal rate limiting: a token bucket per caller, in this process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// Buckets untouched this long are forgotten when the table grows large.
const IDLE: Duration = Duration::from_secs(600);
/// Table size above which idle buckets are swept.
const SWEEP_ABOVE: usize = 10_000;
/// Most buckets kept whatever the traffic (many client addresses, e.g. from an IPv6 range):
/// past half of it, buckets that have refilled are forgotten (a full bucket is what a new key
/// gets), and if most buckets are in use the table starts over. ~100 bytes a bucket.
const MAX_BUCKETS: usize = 100_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Allows each key `per_minute` requests a minute on average, in bursts of up to `burst`.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
    /// The table size at which the next sweep happens: twice what the last one left, so
    /// sweeping costs a constant amount per request however many clients there are.
    sweep_at: AtomicUsize,
}

impl RateLimiter {
    /// A limiter; `per_minute == 0` disables it.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
            sweep_at: AtomicUsize::new(SWEEP_ABOVE),
        }
    }

    /// Forgets idle buckets; past half the bound, also those that have refilled; past it
    /// still, everything.
    fn sweep(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        buckets.retain(|_, b| now.duration_since(b.updated) < IDLE);
        if buckets.len() > MAX_BUCKETS / 2 {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < burst);
        }
        if buckets.len() > MAX_BUCKETS / 2 {
            tracing::warn!(buckets = buckets.len(), "rate-limit table full of active clients; starting over");
            buckets.clear();
        }
        self.sweep_at.store((2 * buckets.len()).clamp(SWEEP_ABOVE, MAX_BUCKETS), Relaxed);
    }

    /// Whether `key`'s bucket holds a request, without taking it; else how long until it will.
    pub fn peek(&self, key: &str) -> Result<(), Duration> {
        self.take(key, false)
    }

    /// Takes one request from `key`'s bucket, or says how long until one is available.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.take(key, true)
    }

    fn take(&self, key: &str, take: bool) -> Result<(), Duration> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate-limit table poisoned");
        if buckets.len() > self.sweep_at.load(Relaxed) {
            self.sweep(&mut buckets, now);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: self.burst, updated: now });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            if take {
                bucket.tokens -= 1.0;
            }
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_stays_bounded_whatever_the_number_of_clients() {
        let limiter = RateLimiter::new(600, 2);
        for i in 0..(MAX_BUCKETS + 5_000) {
            let _ = limiter.check(&format!("ip:2001:db8::{i:x}"));
        }
        assert!(limiter.buckets.lock().unwrap().len() <= MAX_BUCKETS + 1);
        // Throttled keys survive a sweep while refilled ones are forgotten.
        let limiter = RateLimiter::new(60, 1);
        assert!(limiter.check("busy").is_ok());
        for i in 0..(MAX_BUCKETS + 1) {
            limiter.buckets.lock().unwrap().insert(format!("k{i}"), Bucket { tokens: 1.0, updated: Instant::now() });
        }
        let _ = limiter.check("new");
        assert!(limiter.check("busy").is_err(), "the busy key kept its empty bucket");
    }

    #[test]
    fn bursts_then_refuses_per_key() {
        let limiter = RateLimiter::new(60, 3);
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limiter.check("b").is_ok(), "keys are independent");
        assert!(RateLimiter::new(0, 1).check("a").is_ok());
        let limiter = RateLimiter::new(60, 1);
        assert!(limiter.peek("c").is_ok() && limiter.peek("c").is_ok(), "peeking takes nothing");
        assert!(limiter.check("c").is_ok());
        assert!(limiter.peek("c").is_err());
    }
}
