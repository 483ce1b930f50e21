//! The aggregate cache: dashboard summaries keyed by their arguments and the data version.
//!
//! Every write that can change an aggregate bumps the database's data version in the same
//! transaction (triggers, migration 0006), and every summary reads that version first (one
//! primary-key lookup). A cached summary is served only for a version at least as new as the
//! one the request read, so a reader never sees sums older than the writes committed before it
//! started — on every replica, since the version lives in the database. Concurrent requests
//! for the same summary and version wait for one computation instead of each running it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::summary::SummaryRow;

type Cell = Arc<OnceCell<Arc<Vec<SummaryRow>>>>;

/// Summaries by key, each with the data version it was computed at.
pub struct AggregateCache {
    entries: Mutex<HashMap<String, (i64, Cell)>>,
    capacity: usize,
}

impl std::fmt::Debug for AggregateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map_or(0, |e| e.len());
        f.debug_struct("AggregateCache").field("entries", &n).field("capacity", &self.capacity).finish()
    }
}

impl AggregateCache {
    /// A cache holding at most `capacity` summaries.
    pub fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// The cell for `key` at `version` or newer: filled already, being filled by another
    /// request, or new (the caller fills it).
    pub fn cell(&self, key: &str, version: i64) -> Cell {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((v, cell)) = entries.get(key)
            && *v >= version
        {
            return cell.clone();
        }
        if entries.len() >= self.capacity {
            // Drop what older versions left behind first; if that frees nothing, start over.
            entries.retain(|_, (v, _)| *v >= version);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        let cell = Cell::default();
        entries.insert(key.to_owned(), (version, cell.clone()));
        cell
    }
}
