//! Live events: reports as they are submitted, delivered to subscribers on every replica.
//!
//! Each process keeps a broadcast channel for its subscribers. A submission publishes to it
//! directly and, on PostgreSQL, also with `NOTIFY` on [`CHANNEL`] after its transaction
//! commits; every replica `LISTEN`s and forwards what other processes sent to its own
//! subscribers (its own events it has delivered already). On SQLite there is one process.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "fulian_report_events";

/// A report was submitted (created or revised).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReportEvent {
    /// The process that published it (to skip one's own events coming back from `NOTIFY`).
    pub origin: u64,
    pub report_id: i64,
    pub key: String,
    pub title: String,
    pub revision: i64,
    /// `CREATED` or `REVISED`.
    pub status: String,
    /// The report's region, if any, and every region above it (for scope filters).
    pub region: Option<String>,
    pub within: Vec<String>,
}

/// This process's subscribers.
#[derive(Debug)]
pub struct EventBus {
    sender: broadcast::Sender<ReportEvent>,
    origin: u64,
}

static ORIGINS: AtomicU64 = AtomicU64::new(1);

impl Default for EventBus {
    fn default() -> Self {
        // Unique per bus within the process, and across processes through the process id.
        let origin = (u64::from(std::process::id()) << 20) | ORIGINS.fetch_add(1, Ordering::Relaxed);
        Self { sender: broadcast::channel(1024).0, origin }
    }
}

impl EventBus {
    /// The id stamped on this bus's events.
    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// Delivers an event to this process's subscribers (none listening is fine).
    pub fn publish(&self, event: ReportEvent) {
        let _ = self.sender.send(event);
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ReportEvent> {
        self.sender.subscribe()
    }
}
