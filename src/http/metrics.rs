//! Prometheus metrics at `/metrics`, in the text exposition format: HTTP requests and their
//! latency by route, GraphQL operations by name, errors by `extensions.code`, SQL statements,
//! the database pool, and the process's memory.
//!
//! The counters are process-wide (like a default registry): every router in the process adds
//! to the same series.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Series {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    operations: BTreeMap<(String, String), u64>,
    errors: BTreeMap<String, u64>,
    /// Cacheable queries answered from the response cache, and executed.
    cache_hits: u64,
    cache_misses: u64,
}

static SERIES: LazyLock<Mutex<Series>> = LazyLock::new(Mutex::default);

fn series() -> std::sync::MutexGuard<'static, Series> {
    SERIES.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Distinct operation names kept as series; later new names are counted under `(other)`, so
/// clients cannot grow the metrics (and this process's memory) by inventing names.
const MAX_OPERATION_SERIES: usize = 200;

/// Counts one GraphQL operation (`kind` is query, mutation or subscription; name may be absent).
pub fn operation(kind: &str, name: Option<&str>) {
    let mut s = series();
    let mut key = (kind.to_owned(), name.unwrap_or("").to_owned());
    if !s.operations.contains_key(&key) && s.operations.len() >= MAX_OPERATION_SERIES {
        key.1 = "(other)".to_owned();
    }
    *s.operations.entry(key).or_default() += 1;
}

/// Gauges and counters of what clients hold open or were refused, updated without the lock.
pub mod held {
    use std::sync::atomic::{AtomicI64, AtomicU64};

    /// Open HTTP connections (WebSocket ones included until they upgrade).
    pub static CONNECTIONS: AtomicI64 = AtomicI64::new(0);
    /// Open WebSocket connections.
    pub static WEBSOCKETS: AtomicI64 = AtomicI64::new(0);
    /// Open subscriptions over all WebSocket connections.
    pub static SUBSCRIPTIONS: AtomicI64 = AtomicI64::new(0);
    /// Connections closed at once because a limit was reached.
    pub static REFUSED_CONNECTIONS: AtomicU64 = AtomicU64::new(0);
}

/// Counts errors of a response by their `extensions.code`.
pub fn errors<'a>(codes: impl IntoIterator<Item = &'a str>) {
    let mut s = series();
    for code in codes {
        *s.errors.entry(code.to_owned()).or_default() += 1;
    }
}

/// Counts a cacheable query: answered from the response cache (`hit`) or executed.
pub fn response_cache(hit: bool) {
    let mut s = series();
    if hit {
        s.cache_hits += 1;
    } else {
        s.cache_misses += 1;
    }
}

fn observe(method: &str, route: &str, status: u16, latency: Duration) {
    let mut s = series();
    *s.requests.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
    let h = s.latency.entry(route.to_owned()).or_default();
    let seconds = latency.as_secs_f64();
    for (i, bound) in BUCKETS.iter().enumerate() {
        if seconds <= *bound {
            h.counts[i] += 1;
        }
    }
    h.count += 1;
    h.sum += seconds;
}

/// Middleware: counts every request by method, matched route and status, with its latency.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Methods a client invents share one label, as unmatched paths do.
    let method = match *request.method() {
        Method::GET | Method::POST | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::PATCH => {
            request.method().as_str()
        }
        _ => "other",
    }
    .to_owned();
    // Unmatched paths share one label, so scanners cannot grow the series without bound.
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let response = next.run(request).await;
    observe(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The current and peak resident set size of this process, in bytes (Linux; absent elsewhere).
pub fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::with_capacity(4096);
    {
        let s = series();
        out.push_str("# HELP fulian_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE fulian_http_requests_total counter\n");
        for ((method, route, status), n) in &s.requests {
            let _ = writeln!(
                out,
                "fulian_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP fulian_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE fulian_http_request_duration_seconds histogram\n");
        for (route, h) in &s.latency {
            let route = escape(route);
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "fulian_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "fulian_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "fulian_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "fulian_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        out.push_str(
            "# HELP fulian_graphql_operations_total GraphQL operations executed, by type and operation name.\n",
        );
        out.push_str("# TYPE fulian_graphql_operations_total counter\n");
        for ((kind, name), n) in &s.operations {
            let _ = writeln!(out, "fulian_graphql_operations_total{{type=\"{kind}\",name=\"{}\"}} {n}", escape(name));
        }
        out.push_str("# HELP fulian_graphql_errors_total GraphQL errors returned, by extensions.code.\n");
        out.push_str("# TYPE fulian_graphql_errors_total counter\n");
        for (code, n) in &s.errors {
            let _ = writeln!(out, "fulian_graphql_errors_total{{code=\"{}\"}} {n}", escape(code));
        }
        out.push_str(
            "# HELP fulian_response_cache_total Cacheable queries answered from the response cache (hit) or executed (miss).\n",
        );
        out.push_str("# TYPE fulian_response_cache_total counter\n");
        let _ = writeln!(out, "fulian_response_cache_total{{result=\"hit\"}} {}", s.cache_hits);
        let _ = writeln!(out, "fulian_response_cache_total{{result=\"miss\"}} {}", s.cache_misses);
    }
    {
        use std::sync::atomic::Ordering::Relaxed;
        let gauges = [
            ("fulian_http_open_connections", "gauge", "Open HTTP connections.", held::CONNECTIONS.load(Relaxed)),
            ("fulian_websocket_connections", "gauge", "Open WebSocket connections.", held::WEBSOCKETS.load(Relaxed)),
            ("fulian_subscriptions", "gauge", "Open GraphQL subscriptions.", held::SUBSCRIPTIONS.load(Relaxed)),
        ];
        let counters = [
            (
                "fulian_connections_refused_total",
                "Connections closed at once because a connection limit was reached.",
                held::REFUSED_CONNECTIONS.load(Relaxed),
            ),
            (
                "fulian_audit_refusals_suppressed_total",
                "Refused requests not audited one by one (the audit budget for refusals was spent).",
                crate::domain::refusals::suppressed_total(),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        }
    }
    let store = state.services.store();
    out.push_str("# HELP fulian_db_statements_total SQL statements issued (a transaction counts once).\n");
    out.push_str("# TYPE fulian_db_statements_total counter\n");
    let _ = writeln!(out, "fulian_db_statements_total {}", store.statements());
    let (size, idle) = store.pool_usage();
    out.push_str("# HELP fulian_db_pool_connections Pooled database connections by state.\n");
    out.push_str("# TYPE fulian_db_pool_connections gauge\n");
    let _ = writeln!(out, "fulian_db_pool_connections{{state=\"idle\"}} {idle}");
    let _ = writeln!(out, "fulian_db_pool_connections{{state=\"in_use\"}} {}", (size as usize).saturating_sub(idle));
    if let Some((rss, peak)) = memory() {
        out.push_str("# HELP process_resident_memory_bytes Resident memory size in bytes.\n");
        out.push_str("# TYPE process_resident_memory_bytes gauge\n");
        let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        out.push_str(
            "# HELP fulian_process_peak_resident_memory_bytes Peak resident memory size since start, in bytes.\n",
        );
        out.push_str("# TYPE fulian_process_peak_resident_memory_bytes gauge\n");
        let _ = writeln!(out, "fulian_process_peak_resident_memory_bytes {peak}");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out)
}
