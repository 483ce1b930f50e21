//! PostgreSQL stopped and restarted under load. A cluster of the test's own (initdb'd in a
//! temporary directory, on a free port; the machine's cluster is never touched) serves the real
//! binary while readers and writers keep it busy; it is stopped for a few seconds, then started
//! again on the same port and data directory.
//!
//! During the outage every request is answered promptly (within the request timeout and a
//! little) with a clear error (`UNAVAILABLE` or `TIMEOUT`, never `INTERNAL`), `/healthz` stays
//! 200 and `/readyz` says 503. Afterwards readiness returns without a restart of the binary,
//! reads and writes work, every acknowledged report is there, and every report there is whole.
//!
//! Needs PostgreSQL's server programs (`/usr/lib/postgresql/*/bin`) and, when run as root, a
//! `postgres` user to run them as: fails without them (it is half of the PostgreSQL suite),
//! skipped only with `FULIAN_TEST_POSTGRES_URL=skip`, like the rest of that half.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{SECRET, TempDir, raw_exchange, token};
use fulian_graph::domain::access::Role;
use serde_json::{Value, json};

/// The binary's request timeout, in seconds.
const REQUEST_TIMEOUT: u64 = 3;
/// How much longer than the request timeout an answer may take (a loaded two-core machine).
const SLACK: Duration = Duration::from_millis(1_500);
/// How long the cluster stays down.
const OUTAGE: Duration = Duration::from_secs(5);
/// Concurrent writers and readers.
const WRITERS: usize = 3;
const READERS: usize = 2;
/// Figures per submitted report.
const FIGURES: usize = 3;

// ---- the cluster ----------------------------------------------------------------------------

/// A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 on a free port with
/// its socket in that directory; stopped (immediately) and removed when dropped.
struct Cluster {
    bin: PathBuf,
    /// Run the server programs as `postgres` (we are root, which initdb refuses).
    as_postgres: bool,
    port: u16,
    dir: TempDir,
}

impl Cluster {
    /// Creates and starts a cluster; `Err` says why it cannot (then the test is skipped).
    fn create() -> Result<Self, String> {
        let bin = server_programs().ok_or("no /usr/lib/postgresql/*/bin with initdb and pg_ctl")?;
        let as_postgres = std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
        let dir = TempDir::new("pg-restart");
        if as_postgres {
            let chown = Command::new("chown")
                .arg("postgres:")
                .arg(&dir.0)
                .output()
                .map_err(|e| format!("cannot run chown: {e}"))?;
            if !chown.status.success() {
                return Err(format!("cannot give the directory to postgres: {}", text(&chown.stderr)));
            }
        }
        let port = loop {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free port: {e}"))?
                .port();
            if port != 5432 {
                break port;
            }
        };
        // From here on, dropping the value stops whatever was started.
        let cluster = Self { bin, as_postgres, port, dir };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        cluster.start()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.0.join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs one of the server programs (as `postgres` when we are root) to its end.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command
            .args(args)
            .current_dir(&self.dir.0)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!("{program} failed: {}{}", text(&output.stdout), text(&output.stderr)))
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        let data = self.data();
        let mut all: Vec<&std::ffi::OsStr> = vec!["-D".as_ref(), data.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        self.run("pg_ctl", &all)
    }

    /// Starts the cluster (on its port, data directory and socket directory) and waits for it.
    fn start(&self) -> Result<(), String> {
        let log = self.dir.0.join("postgres.log");
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -k {}", self.port, self.dir.0.display());
        self.pg_ctl(&["-l", &log.display().to_string(), "-o", &options, "-w", "-t", "30", "start"])
    }

    fn stop(&self, mode: &str) -> Result<(), String> {
        self.pg_ctl(&["-m", mode, "-w", "-t", "30", "stop"])
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Whatever state it is in (a failed test included); the directory goes with `dir`.
        if self.data().join("postmaster.pid").exists() {
            let _ = self.stop("immediate");
        }
    }
}

/// The newest installed PostgreSQL's directory of server programs.
fn server_programs() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

// ---- the binary -----------------------------------------------------------------------------

/// `fulian-graph serve` on a free port over `url`; killed when dropped.
struct Server {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
}

impl Server {
    async fn start(url: &str, dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = dir.join("server.log");
        let child = Command::new(env!("CARGO_BIN_EXE_fulian-graph"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FULIAN_DATABASE_URL", url)
            .env("FULIAN_LISTEN", address.to_string())
            .env("FULIAN_LOG", "warn")
            .env("FULIAN_JWT_SECRET", SECRET)
            .env("FULIAN_RATE_LIMIT_PER_MINUTE", "0")
            .env("FULIAN_REQUEST_TIMEOUT_SECONDS", REQUEST_TIMEOUT.to_string())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start the binary");
        let server = Self { child, address, log };
        let started = Instant::now();
        while get(address, "/readyz").await.status != 200 {
            assert!(started.elapsed() < Duration::from_secs(60), "the server did not become ready: {}", server.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- raw HTTP -------------------------------------------------------------------------------

/// An answer: status (0 when none came within the client's patience), body, and how long it took.
#[derive(Clone, Debug)]
struct Answer {
    status: u16,
    body: Value,
    took: Duration,
}

impl Answer {
    /// A GraphQL answer without errors.
    fn ok(&self) -> bool {
        self.status == 200 && self.body.get("errors").is_none() && self.body.get("data").is_some()
    }

    /// The `extensions.code` of every error.
    fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("(none)").to_owned()).collect()
            })
            .unwrap_or_default()
    }
}

/// How long the client waits for any answer: far longer than the server may take, so that a
/// stall is measured rather than hung on.
const PATIENCE: Duration = Duration::from_secs(20);

async fn exchange(address: SocketAddr, request: String) -> Answer {
    let started = Instant::now();
    let (status, body) = match tokio::time::timeout(PATIENCE, raw_exchange(address, None, &request)).await {
        Ok(Ok((status, body))) => (status, serde_json::from_str(&body).unwrap_or(Value::String(body))),
        Ok(Err(error)) => (0, Value::String(format!("connection failed: {error}"))),
        Err(_) => (0, Value::String(format!("no answer within {PATIENCE:?}"))),
    };
    Answer { status, body, took: started.elapsed() }
}

async fn get(address: SocketAddr, path: &str) -> Answer {
    exchange(address, format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")).await
}

/// POSTs a GraphQL request (as `application/json`, so errors of execution come with 200).
async fn graphql(address: SocketAddr, token: Option<&str>, query: &str, variables: Value) -> Answer {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    exchange(
        address,
        format!(
            "POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAccept: application/json\r\n\
             {auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await
}

// ---- the load -------------------------------------------------------------------------------

const SUBMIT: &str = r#"mutation($input: ReportSubmissionInput!) { submitReport(input: $input) {
    status report { id key } } }"#;

const READS: [&str; 2] = [
    r#"{ region(code: "110112") { name children { code name } } }"#,
    r#"{ caseSummary(scope: { region: "110112" }) { received resolved } }"#,
];

/// The figures of report `key`, as (label, count): what it was submitted with.
fn figures_of(key: &str) -> Vec<(String, i64)> {
    let n: i64 = key.bytes().map(i64::from).sum();
    (0..FIGURES).map(|i| (format!("{key} figure {i}"), n + i as i64)).collect()
}

fn submission(key: &str) -> Value {
    let counts: Vec<Value> = figures_of(key)
        .into_iter()
        .enumerate()
        .map(|(i, (label, count))| {
            json!({ "id": format!("f{i}"), "scope": { "region": "110112" }, "excerpt": format!("{label} excerpt"),
                    "organizationKind": "WOMENS_HOME", "label": label, "count": { "value": count },
                    // Different homes, told apart (docs/aggregation.md §2.3).
                    "dimensions": [{ "key": "item", "value": label }] })
        })
        .collect();
    json!({ "key": key, "title": format!("PG restart {key}"), "region": "110112",
            "period": { "start": "2024-01-01", "end": "2024-12-31" },
            "figures": { "organizationCounts": counts } })
}

/// One request of the load: when it started, what it was, what came back.
#[derive(Clone, Debug)]
struct Record {
    started: Instant,
    what: String,
    answer: Answer,
}

#[derive(Debug, Default)]
struct Journal {
    records: Vec<Record>,
    /// Keys of reports whose submission was acknowledged, with the report's ID.
    acknowledged: BTreeMap<String, String>,
}

/// Runs `WRITERS` writers and `READERS` readers until `stop` is set.
fn load(address: SocketAddr, stop: Arc<AtomicBool>, journal: Arc<Mutex<Journal>>) -> Vec<tokio::task::JoinHandle<()>> {
    let editor = token("pg-restart-editor", Role::Editor, Some("110112"));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (stop, journal, editor) = (stop.clone(), journal.clone(), editor.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("pg-restart-{w}-{n}");
                n += 1;
                let started = Instant::now();
                let answer = graphql(address, Some(&editor), SUBMIT, json!({ "input": submission(&key) })).await;
                {
                    let mut journal = journal.lock().unwrap();
                    if answer.ok() {
                        let submitted = &answer.body["data"]["submitReport"];
                        assert_eq!(submitted["status"], "CREATED", "{key}: {}", answer.body);
                        let id = submitted["report"]["id"].as_str().expect("the report's ID").to_owned();
                        journal.acknowledged.insert(key.clone(), id);
                    }
                    journal.records.push(Record { started, what: format!("submitReport {key}"), answer });
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    for r in 0..READERS {
        let (stop, journal) = (stop.clone(), journal.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let query = READS[(r + n) % READS.len()];
                n += 1;
                let started = Instant::now();
                let answer = graphql(address, None, query, json!({})).await;
                journal.lock().unwrap().records.push(Record { started, what: query.to_owned(), answer });
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tasks
}

/// Every report of the load the API lists (superseded revisions too), with its figures.
async fn stored_reports(address: SocketAddr) -> BTreeMap<String, (String, Vec<(String, i64)>)> {
    const LIST: &str = r#"query($after: String) {
        reports(first: 50, after: $after, filter: { titleContains: "PG restart", includeSuperseded: true }) {
            pageInfo { hasNextPage endCursor }
            edges { node { id key organizationCounts { label count { value } } } } } }"#;
    let mut out = BTreeMap::new();
    let mut after = Value::Null;
    loop {
        let answer = graphql(address, None, LIST, json!({ "after": after })).await;
        assert!(answer.ok(), "listing the reports: {answer:?}");
        let page = &answer.body["data"]["reports"];
        for edge in page["edges"].as_array().unwrap() {
            let node = &edge["node"];
            let mut figures: Vec<(String, i64)> = node["organizationCounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (f["label"].as_str().unwrap().to_owned(), f["count"]["value"].as_i64().unwrap()))
                .collect();
            figures.sort();
            let key = node["key"].as_str().unwrap().to_owned();
            let previous = out.insert(key.clone(), (node["id"].as_str().unwrap().to_owned(), figures));
            assert!(previous.is_none(), "{key} is stored twice");
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

// ---- the test -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_restarted_under_load() {
    let began = Instant::now();
    if std::env::var("FULIAN_TEST_POSTGRES_URL").as_deref() == Ok("skip") {
        eprintln!("skipping the PostgreSQL restart test: FULIAN_TEST_POSTGRES_URL=skip");
        return;
    }
    let cluster =
        Cluster::create().unwrap_or_else(|why| panic!("cannot start a PostgreSQL cluster of the test's own: {why}"));
    let server = Server::start(&cluster.url(), &cluster.dir.0).await;
    let address = server.address;
    let context =
        |what: &str| format!("{what}\n--- server log ---\n{}\n--- postgres log ---\n{}", server.log(), cluster.log());
    let answer_limit = Duration::from_secs(REQUEST_TIMEOUT) + SLACK;

    let stop = Arc::new(AtomicBool::new(false));
    let journal = Arc::new(Mutex::new(Journal::default()));
    let tasks = load(address, stop.clone(), journal.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The outage: a fast stop (open sessions are terminated, in-flight transactions rolled back).
    let stopping = Instant::now();
    cluster.stop("fast").unwrap_or_else(|e| panic!("{}", context(&e)));
    let down = Instant::now();
    let mut probes = Vec::new();
    while down.elapsed() < OUTAGE {
        let (live, ready) = tokio::join!(get(address, "/healthz"), get(address, "/readyz"));
        assert_eq!(live.status, 200, "{}", context(&format!("/healthz during the outage: {live:?}")));
        assert!(live.took < Duration::from_millis(500), "/healthz took {:?} during the outage", live.took);
        assert_eq!(ready.status, 503, "{}", context(&format!("/readyz during the outage: {ready:?}")));
        assert!(ready.took < answer_limit, "/readyz took {:?} during the outage", ready.took);
        probes.push(ready.body["reason"].as_str().unwrap_or_default().to_owned());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let restarting = Instant::now();
    cluster.start().unwrap_or_else(|e| panic!("{}", context(&e)));
    let up = Instant::now();

    // Readiness returns, the binary untouched.
    loop {
        let ready = get(address, "/readyz").await;
        if ready.status == 200 {
            break;
        }
        assert!(up.elapsed() < Duration::from_secs(15), "{}", context(&format!("not ready again: {ready:?}")));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready_again = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("a load task panicked");
    }
    let journal = std::mem::take(&mut *journal.lock().unwrap());
    let ended = |r: &Record| r.started + r.answer.took;

    // Every request was answered in time, and every failure was a clear one.
    for record in &journal.records {
        assert!(
            record.answer.took <= answer_limit,
            "{}",
            context(&format!("{} took {:?}: {:?}", record.what, record.answer.took, record.answer))
        );
        if !record.answer.ok() {
            let codes = record.answer.codes();
            assert!(
                [200, 503].contains(&record.answer.status)
                    && !codes.is_empty()
                    && codes.iter().all(|c| c == "UNAVAILABLE" || c == "TIMEOUT"),
                "{}",
                context(&format!("{} failed unclearly: {:?}", record.what, record.answer))
            );
        }
    }
    let before: Vec<&Record> = journal.records.iter().filter(|r| ended(r) < stopping).collect();
    let during: Vec<&Record> = journal.records.iter().filter(|r| r.started >= down && ended(r) < restarting).collect();
    let after: Vec<&Record> = journal.records.iter().filter(|r| r.started >= ready_again).collect();
    // Before the outage and once ready again, everything works.
    for record in before.iter().chain(&after) {
        assert!(record.answer.ok(), "{}", context(&format!("{} failed: {:?}", record.what, record.answer)));
    }
    assert!(before.iter().any(|r| r.what.starts_with("submitReport")), "no write before the outage");
    assert!(after.iter().any(|r| r.what.starts_with("submitReport")), "no write after the outage");
    assert!(after.iter().any(|r| !r.what.starts_with("submitReport")), "no read after the outage");
    // While the database is down, requests fail (clearly, as checked above).
    assert!(during.len() >= 4, "too few requests during the outage: {}", during.len());
    assert!(during.iter().all(|r| !r.answer.ok()), "a request succeeded with the database down");

    // Every acknowledged report is stored, and every stored report is whole.
    let stored = stored_reports(address).await;
    for (key, id) in &journal.acknowledged {
        let Some((stored_id, _)) = stored.get(key) else { panic!("acknowledged report {key} is missing") };
        assert_eq!(stored_id, id, "{key}");
    }
    for (key, (_, figures)) in &stored {
        let mut expected = figures_of(key);
        expected.sort();
        assert_eq!(figures, &expected, "report {key} is not whole");
    }
    let failed_writes = journal.records.iter().filter(|r| r.what.starts_with("submitReport") && !r.answer.ok()).count();
    eprintln!(
        "{} requests ({} during the outage); {} reports acknowledged, {} stored, {failed_writes} writes failed; \
         readiness during the outage: {:?}; ready {:?} after the restart; {:?} in all",
        journal.records.len(),
        during.len(),
        journal.acknowledged.len(),
        stored.len(),
        probes,
        ready_again - up,
        began.elapsed(),
    );
    drop(server);
    drop(cluster);
}
