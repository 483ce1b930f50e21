//! Accepting connections within bounds: how many are open, how many one client holds, how
//! long a client may take to send a request's headers, and how long shutdown may take.
//!
//! `axum::serve` has no header timeout and no connection limit, so a client that opens many
//! connections and trickles bytes into them can hold every file descriptor of the process.
//! Here each connection needs a permit (at most `max_connections` open; new clients wait in
//! the listen backlog), one client address holds at most `max_connections_per_client` (more
//! are closed at once), and HTTP/1 connections that do not deliver a request head within
//! `header_read_timeout` are closed (idle keep-alive connections included). Request bodies
//! are bounded where they are read (see `graphql::read_body`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::metrics::held;

/// Bounds on connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Most connections open at once (at most `u32::MAX`).
    pub max_connections: usize,
    /// Most connections one client address holds at once.
    pub max_connections_per_client: usize,
    /// Longest a client may take to send a request's headers (or to start one on an idle connection).
    pub header_read_timeout: Duration,
}

/// Counts what each client address holds, refusing past a bound; slots free when dropped.
#[derive(Debug)]
pub struct ClientSlots {
    max_per_client: usize,
    max_total: usize,
    held: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One slot held by a client; released on drop.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<ClientSlots>,
    client: IpAddr,
}

impl ClientSlots {
    /// Slots for at most `max_per_client` per address and `max_total` in all.
    pub fn new(max_per_client: usize, max_total: usize) -> Arc<Self> {
        Arc::new(Self { max_per_client, max_total, held: Mutex::new((0, HashMap::new())) })
    }

    /// A slot for `client`, or `None` when it (or everyone together) holds the most allowed.
    pub fn take(self: &Arc<Self>, client: IpAddr) -> Option<Slot> {
        let client = client_of(client);
        let mut held = self.held.lock().expect("client slots poisoned");
        let (total, per_client) = &mut *held;
        let count = per_client.entry(client).or_default();
        if *count >= self.max_per_client || *total >= self.max_total {
            if *count == 0 {
                per_client.remove(&client);
            }
            return None;
        }
        *count += 1;
        *total += 1;
        Some(Slot { slots: self.clone(), client })
    }
}

/// The client an address stands for, as every per-client bound counts it: an IPv4 address
/// itself (also when written IPv4-mapped), an IPv6 address by its /64 prefix — one
/// subscriber line is routinely given a whole /64, so counting single IPv6 addresses would
/// give one client 2^64 budgets.
pub fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
        },
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (total, per_client) = &mut *held;
        *total = total.saturating_sub(1);
        if let Some(count) = per_client.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                per_client.remove(&self.client);
            }
        }
    }
}

/// The most file descriptors this process may open (soft limit), when the system says.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

impl ConnectionLimits {
    /// These limits, with the connection limit lowered to leave room within the open-file
    /// limit for the database pool, files and the listener itself.
    pub fn within_open_file_limit(mut self) -> Self {
        if let Some(files) = open_file_limit() {
            let room = files.saturating_sub(64).max(16);
            if room < self.max_connections {
                tracing::warn!(
                    open_file_limit = files,
                    max_connections = room,
                    "the open-file limit is low; accepting fewer connections at once"
                );
                self.max_connections = room;
            }
        }
        self
    }
}

/// Serves `router` on `listener` within `limits` until `stop` resolves, then lets open
/// requests finish for at most `grace`. (A request stuck where the runtime cannot interrupt
/// it would still hold the process: the binary also starts [`exit_after`] when it stops.)
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let mut limits = limits.within_open_file_limit();
    limits.max_connections = limits.max_connections.clamp(1, u32::MAX as usize);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let clients = ClientSlots::new(limits.max_connections_per_client, usize::MAX);
    // Open connections are told to finish when this turns true (and each holds a permit).
    let (closing, closing_seen) = tokio::sync::watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.context("the connection semaphore closed")?,
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before accept: wait a little.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(slot) = clients.take(peer.ip()) else {
            held::REFUSED_CONNECTIONS.fetch_add(1, Relaxed);
            tracing::debug!(%peer, "too many connections from this client; closed");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(tower::ServiceExt::map_request(
            router.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                request
            },
        ));
        let connection = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
        let mut closing = closing_seen.clone();
        held::CONNECTIONS.fetch_add(1, Relaxed);
        tokio::spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                true = async { closing.wait_for(|closing| *closing).await.is_ok() } => {
                    // Finish the request in progress, then close (no more keep-alive).
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = ended {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            held::CONNECTIONS.fetch_sub(1, Relaxed);
            drop((permit, slot));
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let open = limits.max_connections - permits.available_permits();
    tracing::info!(open, "no longer accepting connections; finishing open requests");
    // Every connection holds a permit until it ends: all of them back means all ended.
    let all_closed = permits.acquire_many(u32::try_from(limits.max_connections).unwrap_or(u32::MAX));
    tokio::select! {
        _ = all_closed => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_seconds = grace.as_secs_f64(), "open requests did not finish in time; stopping anyway");
        }
    }
    Ok(())
}

/// Makes sure the process ends `grace` (plus a moment to flush logs) from now, even if every
/// runtime thread is busy or blocked: a plain thread, outside the runtime, exits the process.
pub fn exit_after(grace: Duration) {
    let spawned = std::thread::Builder::new().name("shutdown-watchdog".into()).spawn(move || {
        std::thread::sleep(grace);
        tracing::warn!(
            grace_seconds = grace.as_secs_f64(),
            "in-flight work did not finish within the shutdown grace period; exiting anyway"
        );
        std::thread::sleep(Duration::from_millis(200));
        std::process::exit(1);
    });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the shutdown watchdog");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_bound_each_client_and_free_on_drop() {
        let slots = ClientSlots::new(2, 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert!(slots.take(a).is_none(), "a third for one client");
        let _third = slots.take(b).unwrap();
        assert!(slots.take(b).is_none(), "the total is reached");
        drop(first);
        assert!(slots.take(b).is_some(), "a freed slot is available again");
    }

    #[test]
    fn one_ipv6_subscriber_prefix_is_one_client() {
        let slots = ClientSlots::new(1, 10);
        let _held = slots.take("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(slots.take("2001:db8:1:2:ffff::9".parse().unwrap()).is_none(), "same /64");
        assert!(slots.take("2001:db8:1:3::1".parse().unwrap()).is_some(), "another /64");
        let _v4 = slots.take("10.0.0.7".parse().unwrap()).unwrap();
        assert!(slots.take("::ffff:10.0.0.7".parse().unwrap()).is_none(), "IPv4-mapped is the same address");
    }
}
