//! The response cache: whole GraphQL responses of queries, keyed by the request and the
//! caller, and served only at the data version they were computed at.
//!
//! Dashboards and lists send the same queries again and again, and executing one costs far
//! more than sending its bytes (W1 of BENCHMARKS.md resolves ~2,000 fields from 4 statements).
//! Every write a query could see bumps the data version in its own transaction (triggers,
//! migrations 0006 and 0008). A request reads the version first (one primary-key lookup) and
//! is answered from here only with a response computed at that same version and before the
//! next grant expiry — the one thing that changes what a caller may see without a write. So a
//! reader never gets a response older than the writes committed before it started, on any
//! replica, since the version lives in the database.
//!
//! Only queries that succeeded are kept (status 200, no errors); never mutations,
//! subscriptions, or the audit log (written on every mutation attempt, refusals too, without
//! a version bump). The key covers the query text, the operation name, the variables and the
//! caller (identity, role and region), since what a caller may see depends on all of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::Variables;
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::domain::access::Caller;

/// A request's identity in the cache: SHA-256 over its parts.
pub type Key = [u8; 32];

/// Request data a resolver marks when what it read must never be served from the cache
/// (the audit log: written on every mutation attempt without a version bump). Decided by
/// the resolvers that ran, so no shape of document (fragments, aliases) can get around it.
#[derive(Clone, Debug, Default)]
pub struct Uncacheable(Arc<std::sync::atomic::AtomicBool>);

impl Uncacheable {
    /// Marks the request's response as not to be cached.
    pub fn mark(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a resolver marked it.
    pub fn is_marked(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A response as sent, with what it is valid for.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The data version the request read before it executed.
    pub version: i64,
    /// When access next changes by itself (a grant expires); none if no grant will.
    pub valid_until: Option<DateTime<Utc>>,
    /// The response body (JSON).
    pub body: Bytes,
    /// The operation's name, for the operations metric.
    pub operation: Arc<str>,
}

/// What an entry costs besides its body and operation name: its key, the entry itself and the
/// map's slot, roughly.
const ENTRY_OVERHEAD: usize = 128;

impl Entry {
    /// What the entry costs the cache. Everything it holds counts: an operation name may be
    /// as long as a query (a client sending 100 KB names with tiny responses grew the cache
    /// past 300 MB while its byte bound counted bodies only).
    fn footprint(&self) -> usize {
        self.body.len() + self.operation.len() + ENTRY_OVERHEAD
    }
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    bytes: usize,
}

/// Responses by request, bounded in bytes.
pub struct ResponseCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache").field("max_bytes", &self.max_bytes).finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// A cache holding at most `max_bytes` of response bodies; 0 turns it off.
    pub fn new(max_bytes: usize) -> Self {
        Self { inner: Mutex::default(), max_bytes }
    }

    /// Whether responses are cached at all.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    /// The key of a request by this caller. Parts are length-prefixed, so no two different
    /// requests share their bytes.
    pub fn key(query: &str, operation: Option<&str>, variables: &Variables, caller: &Caller) -> Key {
        let mut hash = Sha256::new();
        let mut part = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        part(query.as_bytes());
        part(operation.unwrap_or_default().as_bytes());
        part(&serde_json::to_vec(variables).unwrap_or_default());
        match caller.principal() {
            None => part(b"anonymous"),
            Some(p) => {
                part(p.sub.as_bytes());
                part(p.role.as_str().as_bytes());
                part(p.region.as_deref().unwrap_or_default().as_bytes());
            }
        }
        hash.finalize().into()
    }

    /// Whether a response is kept for this key at all (at any version).
    pub fn holds(&self, key: &Key) -> bool {
        self.lock().entries.contains_key(key)
    }

    /// The response for `key` if it was computed at `version` and access has not changed by
    /// itself since (`now` is before the next grant expiry).
    pub fn get(&self, key: &Key, version: i64, now: DateTime<Utc>) -> Option<Entry> {
        let inner = self.lock();
        let entry = inner.entries.get(key)?;
        (entry.version == version && entry.valid_until.is_none_or(|t| now < t)).then(|| entry.clone())
    }

    /// Keeps a response. Over the byte bound (everything an entry holds counts), entries of older versions go first; if that is
    /// not enough, everything does.
    pub fn put(&self, key: Key, entry: Entry) {
        let size = entry.footprint();
        if size > self.max_bytes / 4 {
            return;
        }
        let mut inner = self.lock();
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= old.footprint();
        }
        if inner.bytes + size > self.max_bytes {
            let version = entry.version;
            inner.entries.retain(|_, e| e.version >= version);
            inner.bytes = inner.entries.values().map(Entry::footprint).sum();
            if inner.bytes + size > self.max_bytes {
                inner.entries.clear();
                inner.bytes = 0;
            }
        }
        inner.bytes += size;
        inner.entries.insert(key, entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::{Principal, Role};

    fn entry(version: i64, body: &str, valid_until: Option<DateTime<Utc>>) -> Entry {
        Entry { version, valid_until, body: Bytes::from(body.to_owned()), operation: Arc::from("Q") }
    }

    #[test]
    fn keys_separate_callers_variables_and_operations() {
        let vars = Variables::default();
        let anonymous = Caller::anonymous();
        let editor = Caller::authenticated(Principal {
            sub: "e".to_owned(),
            role: Role::Editor,
            region: Some("110112".to_owned()),
        });
        let other_region = Caller::authenticated(Principal {
            sub: "e".to_owned(),
            role: Role::Editor,
            region: Some("120114".to_owned()),
        });
        let base = ResponseCache::key("{ a }", None, &vars, &anonymous);
        assert_eq!(base, ResponseCache::key("{ a }", None, &vars, &anonymous));
        assert_ne!(base, ResponseCache::key("{ a }", None, &vars, &editor));
        assert_ne!(
            ResponseCache::key("{ a }", None, &vars, &editor),
            ResponseCache::key("{ a }", None, &vars, &other_region)
        );
        assert_ne!(base, ResponseCache::key("{ a }", Some("A"), &vars, &anonymous));
        let with_var = Variables::from_json(serde_json::json!({ "x": 1 }));
        assert_ne!(base, ResponseCache::key("{ a }", None, &with_var, &anonymous));
        // Length prefixes: moving text between parts changes the key.
        assert_ne!(
            ResponseCache::key("ab", Some("c"), &vars, &anonymous),
            ResponseCache::key("a", Some("bc"), &vars, &anonymous)
        );
    }

    #[test]
    fn serves_only_the_version_it_was_computed_at_and_before_expiry() {
        let cache = ResponseCache::new(1 << 20);
        let key = [1; 32];
        let now = Utc::now();
        cache.put(key, entry(7, "{}", Some(now + chrono::Duration::seconds(60))));
        assert!(cache.get(&key, 7, now).is_some());
        assert!(cache.get(&key, 8, now).is_none(), "a newer version must not be served an older response");
        assert!(cache.get(&key, 6, now).is_none());
        assert!(cache.get(&key, 7, now + chrono::Duration::seconds(61)).is_none(), "a grant expired since");
    }

    #[test]
    fn stays_within_its_byte_bound() {
        let cache = ResponseCache::new(1_000);
        for i in 0..50u8 {
            cache.put([i; 32], entry(i64::from(i), &"x".repeat(20), None));
            let inner = cache.lock();
            assert!(inner.bytes <= 1_000);
            assert_eq!(inner.bytes, inner.entries.values().map(Entry::footprint).sum::<usize>());
        }
        // Too large for the bound: not kept at all.
        cache.put([99; 32], entry(99, &"x".repeat(600), None));
        assert!(!cache.holds(&[99; 32]));
        assert!(!ResponseCache::new(0).enabled());
    }

    #[test]
    fn long_operation_names_count_against_the_bound() {
        let cache = ResponseCache::new(64 * 1024);
        for i in 0..200u8 {
            let mut e = entry(1, "{}", None);
            e.operation = Arc::from(format!("N{i}{}", "x".repeat(10_000)));
            cache.put([i; 32], e);
            let inner = cache.lock();
            let held: usize = inner.entries.values().map(|e| e.body.len() + e.operation.len()).sum();
            assert!(held <= 64 * 1024, "{held} bytes held by {} entries", inner.entries.len());
        }
    }
}
