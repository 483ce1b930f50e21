//! `bench`: the workloads of BENCHMARKS.md, driven against a running server.
//!
//! A small HTTP/1.1 keep-alive client (one connection per worker, like wrk) posts GraphQL
//! requests for a fixed time after a warm-up, and records every latency. Before and after each
//! workload it reads the server's `/metrics` for SQL statements issued and peak memory.
//! Any response that is not 200 or carries `"errors"` counts as an error and is reported.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::gendata::CASE_CATEGORIES;

/// Settings of a benchmark run.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchOptions {
    /// The server's base URL (http only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Concurrent connections per read workload.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Measured seconds per workload (after the warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Warm-up seconds per workload (not measured).
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Workloads to run, comma-separated: w1,w2,w3,w4,w5.
    #[arg(long, value_delimiter = ',', default_value = "w1,w2,w3,w4,w5")]
    pub workloads: Vec<String>,
    /// Province for W2 (a region code).
    #[arg(long, default_value = "901000")]
    pub province: String,
    /// Year for W2 and W5.
    #[arg(long, default_value_t = 2023)]
    pub year: i32,
    /// Alliance for W3 (a slug).
    #[arg(long, default_value = "syn-alliance-01")]
    pub alliance: String,
    /// The editor's region for W5 (inside the W2 province, so its writes touch W2's sums).
    #[arg(long, default_value = "901011")]
    pub editor_region: String,
    /// Connections submitting reports during W5 (W2 keeps `--connections`).
    #[arg(long, default_value_t = 2)]
    pub writers: usize,
    /// HS256 secret the server verifies tokens with (W5 signs an EDITOR token with it).
    #[arg(long, env = "FULIAN_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
}

/// One workload's measurements.
#[derive(Debug, Default)]
pub struct Outcome {
    pub name: String,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub statements_per_request: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    pub first_error: Option<String>,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// The server's `host:port`, connected to and sent as `Host`.
struct Target {
    host: String,
}

impl Target {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("http://").ok_or_else(|| anyhow!("--url must start with http://"))?;
        Ok(Self { host: rest.split('/').next().unwrap_or(rest).to_owned() })
    }
}

/// An HTTP/1.1 connection that stays open between requests.
struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Connection {
    async fn open(target: &Target) -> anyhow::Result<Self> {
        let stream =
            TcpStream::connect(&target.host).await.with_context(|| format!("cannot connect to {}", target.host))?;
        stream.set_nodelay(true)?;
        Ok(Self { stream: BufReader::new(stream), host: target.host.clone() })
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
        token: Option<&str>,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/graphql-response+json, application/json\r\n",
            self.host
        );
        if !body.is_empty() {
            let _ = write!(head, "Content-Type: application/json\r\nContent-Length: {}\r\n", body.len());
        }
        if let Some(token) = token {
            let _ = write!(head, "Authorization: Bearer {token}\r\n");
        }
        head.push_str("\r\n");
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 =
            line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| anyhow!("bad status line {line:?}"))?;
        let (mut length, mut chunked) = (None, false);
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                bail!("connection closed in the headers");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim(), 16)?;
                let mut chunk = vec![0; size + 2];
                self.stream.read_exact(&mut chunk).await?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            self.stream.read_exact(&mut body).await?;
        }
        Ok((status, body))
    }
}

/// Reads one sample's value from the Prometheus text of `/metrics`.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

async fn scrape(target: &Target) -> anyhow::Result<(f64, Option<f64>)> {
    let mut c = Connection::open(target).await?;
    let (status, body) = c.send("GET", "/metrics", b"", None).await?;
    if status != 200 {
        bail!("GET /metrics answered {status}");
    }
    let text = String::from_utf8_lossy(&body);
    let statements = metric(&text, "fulian_db_statements_total").ok_or_else(|| anyhow!("no statement counter"))?;
    Ok((statements, metric(&text, "fulian_process_peak_resident_memory_bytes")))
}

/// Makes the body of the n-th request of a workload.
type BodyFn = Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>;

struct Load {
    body: BodyFn,
    connections: usize,
    token: Option<String>,
}

struct Recorded {
    /// Every request sent, warm-up included (for statements per request).
    sent: u64,
    latencies: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

async fn drive(
    target: Arc<Target>,
    load: Load,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<(Recorded, f64)> {
    let counter = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + measure;
    let mut tasks = Vec::new();
    for _ in 0..load.connections {
        let (target, body, token) = (target.clone(), load.body.clone(), load.token.clone());
        let (counter, measuring) = (counter.clone(), measuring.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection::open(&target).await?;
            let mut rec = Recorded { sent: 0, latencies: Vec::new(), errors: 0, first_error: None };
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let payload = body(n);
                let sent = Instant::now();
                let outcome = conn.send("POST", "/graphql", &payload, token.as_deref()).await;
                let took = sent.elapsed();
                rec.sent += 1;
                if sent < measure_from || Instant::now() > end {
                    continue;
                }
                measuring.store(true, Ordering::Relaxed);
                rec.latencies.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                let failed = match &outcome {
                    Ok((200, b)) if !b.windows(8).any(|w| w == b"\"errors\"") => None,
                    Ok((status, b)) => Some(format!("{status}: {}", String::from_utf8_lossy(&b[..b.len().min(300)]))),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(message) = failed {
                    rec.errors += 1;
                    rec.first_error.get_or_insert(message);
                    if outcome.is_err() {
                        conn = Connection::open(&target).await?;
                    }
                }
            }
            anyhow::Ok(rec)
        }));
    }
    let mut all = Recorded { sent: 0, latencies: Vec::new(), errors: 0, first_error: None };
    for task in tasks {
        let rec = task.await??;
        all.sent += rec.sent;
        all.latencies.extend(rec.latencies);
        all.errors += rec.errors;
        if all.first_error.is_none() {
            all.first_error = rec.first_error;
        }
    }
    Ok((all, measure.as_secs_f64()))
}

fn summarize(name: &str, rec: Recorded, seconds: f64) -> Outcome {
    let mut l = rec.latencies;
    l.sort_unstable();
    let at = |q: f64| {
        l.get(((l.len() as f64 * q).ceil() as usize).saturating_sub(1)).map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    Outcome {
        name: name.to_owned(),
        requests: l.len() as u64,
        errors: rec.errors,
        seconds,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: l.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
        statements_per_request: None,
        peak_rss_mb: None,
        first_error: rec.first_error,
    }
}

fn graphql_body(query: &str, variables: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "query": query, "variables": variables })).expect("JSON")
}

/// The query of W1: 100 organizations, each with its region, the region's parent, and the
/// region's first 5 job fairs.
pub const W1: &str = "query W1 { organizations(first: 100) { edges { node { name region { name code parent { name } \
                      jobFairs(first: 5) { edges { node { heldOn positionsOffered { value } } } } } } } } }";
/// W2: one province's cases of one year by category and month.
pub const W2: &str = "query W2($scope: ScopeInput!, $period: PeriodInput) { caseSummary(scope: $scope, period: $period, \
                      groupBy: [CATEGORY, MONTH]) { category year month received resolved qualifier coverage { reporting total } } }";
/// W3: an alliance's job fairs by year.
pub const W3: &str = "query W3($scope: ScopeInput!) { jobFairSummary(scope: $scope, groupBy: [YEAR]) \
                      { year fairs positionsOffered hires qualifier } }";
/// W4: resource search.
pub const W4: &str = "query W4 { resources(filter: { search: \"家政\" }, first: 20) { edges { node { name kind tags region { name } } } } }";
const W5: &str = "mutation W5($input: ReportSubmissionInput!) { submitReport(input: $input) { status report { id } } }";

/// W5's n-th submission: 50 monthly case figures of the editor's county, restating the
/// generated ones. Submissions cycle through 8 report keys (the same in every run), so they
/// are revisions that supersede the previous revision of the same report (an editor
/// correcting a report), as `run` only varies the figures.
fn w5_input(run: u128, n: u64, region: &str, year: i32) -> serde_json::Value {
    let figures: Vec<_> = (0..50u64)
        .map(|i| {
            let month = (i % 12) as u32 + 1;
            let start = chrono::NaiveDate::from_ymd_opt(year, month, 1).expect("valid month");
            let end = start.checked_add_months(chrono::Months::new(1)).expect("valid month") - chrono::Days::new(1);
            let received = ((run as u64 + n * 7 + i * 13) % 50) as i64 + 1;
            json!({
                "id": format!("c{i}"), "scope": { "region": region },
                "period": { "start": start.to_string(), "end": end.to_string() },
                "excerpt": "基准测试写入（bench W5，合成数据）",
                "category": CASE_CATEGORIES[(i / 12) as usize].as_str(),
                "received": { "value": received }, "resolved": { "value": received / 2 },
            })
        })
        .collect();
    json!({
        "key": format!("bench-w5-{}-{}", region, n % 8), "title": format!("基准测试写入 {n}（合成数据）"), "region": region,
        "period": { "start": format!("{year}-01-01"), "end": format!("{year}-12-31") },
        "figures": { "caseStatistics": figures },
    })
}

/// Runs the chosen workloads and returns their outcomes, in order.
pub async fn run(options: &BenchOptions) -> anyhow::Result<Vec<Outcome>> {
    let target = Arc::new(Target::parse(&options.url)?);
    let warmup = Duration::from_secs(options.warmup);
    let measure = Duration::from_secs(options.seconds);
    let read = |query: &'static str, variables: serde_json::Value| Load {
        body: {
            let body = graphql_body(query, variables);
            Arc::new(move |_| body.clone())
        },
        connections: options.connections,
        token: None,
    };
    let w2_vars = json!({ "scope": { "region": options.province },
        "period": { "from": format!("{}-01-01", options.year), "to": format!("{}-12-31", options.year) } });
    let mut outcomes = Vec::new();
    for w in &options.workloads {
        let (before, _) = scrape(&target).await?;
        let mut results = match w.as_str() {
            "w1" => vec![("W1 nested", drive(target.clone(), read(W1, json!({})), warmup, measure).await?)],
            "w2" => vec![("W2 dashboard", drive(target.clone(), read(W2, w2_vars.clone()), warmup, measure).await?)],
            "w3" => vec![(
                "W3 alliance",
                drive(target.clone(), read(W3, json!({ "scope": { "alliance": options.alliance } })), warmup, measure)
                    .await?,
            )],
            "w4" => vec![("W4 search", drive(target.clone(), read(W4, json!({})), warmup, measure).await?)],
            "w5" => {
                let secret = options
                    .jwt_secret
                    .as_deref()
                    .ok_or_else(|| anyhow!("W5 needs --jwt-secret (FULIAN_JWT_SECRET)"))?;
                let principal = crate::domain::access::Principal {
                    sub: "bench-editor".to_owned(),
                    role: crate::domain::access::Role::Editor,
                    region: Some(options.editor_region.clone()),
                };
                let token = crate::auth::issue(secret, &principal, Duration::from_secs(3600), None, None)?;
                let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
                let (region, year) = (options.editor_region.clone(), options.year);
                let writes = Load {
                    body: Arc::new(move |n| graphql_body(W5, json!({ "input": w5_input(run, n, &region, year) }))),
                    connections: options.writers,
                    token: Some(token),
                };
                let (w, r) = tokio::join!(
                    drive(target.clone(), writes, warmup, measure),
                    drive(target.clone(), read(W2, w2_vars.clone()), warmup, measure)
                );
                vec![("W5 write (during W2)", w?), ("W2 during W5", r?)]
            }
            other => bail!("unknown workload {other:?} (expected w1..w5)"),
        };
        let (after, peak) = scrape(&target).await?;
        // Statements over every request of the workload (warm-up included, reads and writes).
        let sent: u64 = results.iter().map(|(_, (r, _))| r.sent).sum();
        let per_request = (after - before) / sent.max(1) as f64;
        for (name, (rec, seconds)) in results.drain(..) {
            let mut outcome = summarize(name, rec, seconds);
            outcome.peak_rss_mb = peak.map(|b| b / 1_048_576.0);
            outcome.statements_per_request = Some(per_request);
            eprintln!(
                "{:<22} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  {:>5.2} stmts/req  errors {}",
                outcome.name,
                outcome.rate(),
                outcome.p50_ms,
                outcome.p99_ms,
                per_request,
                outcome.errors
            );
            if let Some(e) = &outcome.first_error {
                eprintln!("    first error: {e}");
            }
            outcomes.push(outcome);
        }
    }
    Ok(outcomes)
}

/// The outcomes as a Markdown table.
pub fn table(outcomes: &[Outcome], connections: usize) -> String {
    let mut out = String::from(
        "| workload | req/s | p50 ms | p99 ms | max ms | SQL stmts/req | peak RSS MB | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for o in outcomes {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} | {} |",
            o.name,
            o.rate(),
            o.p50_ms,
            o.p99_ms,
            o.max_ms,
            o.statements_per_request.map_or("–".to_owned(), |s| format!("{s:.2}")),
            o.peak_rss_mb.map_or("–".to_owned(), |m| format!("{m:.0}")),
            o.errors
        );
    }
    let _ = writeln!(out, "\n({connections} connections per read workload)");
    out
}
