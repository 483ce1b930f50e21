//! The database failing under the service: a write that fails for want of space leaves no
//! connection stuck in a transaction; work of a request that ran out of time stops.
//!
//! The full file system is a tmpfs the test mounts (it needs root; skipped with a note otherwise).

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use fulian_graph::error::AppError;
use fulian_graph::store::{self, Store, StoreOptions};
use serde_json::{Value, json};

use crate::common::{Db, TempDir, TestApp, admin, error_code, test_settings};

const CREATE: &str = r#"mutation($key: String!, $name: String!) {
    createOrganization(input: { key: $key, name: $name, kind: OTHER }) { key } }"#;

/// An SQLite database in a file of its own, with a pool of one connection (so that the test
/// knows which connection it sets a limit on).
async fn sqlite_file(dir: &TempDir) -> Store {
    let mut options = StoreOptions::new(format!("sqlite://{}/fulian.db", dir.0.display()));
    options.max_connections = 1;
    Store::connect(&options).await.expect("open the SQLite file")
}

async fn create(app: &TestApp, key: &str) -> Value {
    // A long name (189 characters, the most is 200), so that a few writes need new pages.
    let name = format!("妇女之家{}", "很长的名字".repeat(37));
    let (status, _, body) =
        app.post(Some(&admin()), &[], &json!({ "query": CREATE, "variables": { "key": key, "name": name } })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A tmpfs of `size` mounted on a fresh directory (root only), unmounted when dropped.
struct Tmpfs(TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Result<Self, String> {
        let dir = TempDir::new("tmpfs");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir.0)
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !status.status.success() {
            return Err(format!("mount -t tmpfs failed: {}", String::from_utf8_lossy(&status.stderr).trim()));
        }
        Ok(Self(dir))
    }

    /// Fills the file system with a file of zeros; returns its path (remove it to free the space).
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write as _;
        let path = self.0.0.join("filler");
        let mut file = std::fs::File::create(&path).expect("create the filler");
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_file_system_recovers_without_restart() {
    let tmpfs = match Tmpfs::mount("24m") {
        Ok(tmpfs) => tmpfs,
        Err(why) => {
            eprintln!("skipping the full-file-system test: {why} (needs root and tmpfs)");
            return;
        }
    };
    let options = StoreOptions::new(format!("sqlite://{}/fulian.db", tmpfs.0.0.display()));
    let app = TestApp::over(Store::connect(&options).await.unwrap(), test_settings()).await;
    assert_eq!(app.get("/readyz").await.0, StatusCode::OK);
    let filler = tmpfs.fill();
    // Writes until one needs space that is not there: a clear error, not INTERNAL.
    let mut failures = 0;
    for n in 0..2_000 {
        let body = create(&app, &format!("full-disk-{n}")).await;
        if body.get("errors").is_some() {
            assert_eq!(error_code(&body), "UNAVAILABLE", "{body}");
            failures += 1;
            if failures == 3 {
                break;
            }
        }
    }
    assert_eq!(failures, 3, "writes never failed on a full file system");
    let (status, _, body) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "ready while writes fail: {body}");
    assert_eq!(body["reason"], "database writes fail");
    // Reads still work.
    assert!(app.graphql(r#"{ region(code: "110112") { name } }"#, json!({})).await.get("errors").is_none());
    // Space freed: writes work again at once, without a restart (they failed with INTERNAL
    // "attempted to call begin_with at non-zero transaction depth" on every connection that
    // had seen a failed transaction), and readiness returns.
    std::fs::remove_file(filler).unwrap();
    for m in 0..20 {
        let body = create(&app, &format!("after-full-disk-{m}")).await;
        assert!(body.get("errors").is_none(), "write {m} after space was freed: {body}");
    }
    let (status, _, body) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.store.close().await;
}

/// About ten to thirty seconds of work on either backend, marked for `pg_stat_activity`.
fn slow_sql(marker: &str) -> String {
    format!(
        "/* {marker} */ WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) \
         SELECT count(*) FROM c"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_work_past_its_deadline_is_interrupted() {
    let dir = TempDir::new("deadline");
    let store = sqlite_file(&dir).await;
    store.migrate().await.unwrap();
    // Run to its deadline, the statement fails as interrupted, which clients see as TIMEOUT.
    let started = Instant::now();
    let error = store::within(Duration::from_millis(300), store.execute_script(&slow_sql("own"))).await.unwrap_err();
    assert!(error.is_interrupted(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3), "interrupted after {:?}", started.elapsed());
    assert_eq!(AppError::from(error).code(), "TIMEOUT");
    // Abandoned at the deadline (as the HTTP layer abandons a request): the statement stops
    // too, so the pool's one connection serves the next query at once (it ran on for ~20 s).
    let abandoned = tokio::time::timeout(
        Duration::from_millis(300),
        store::within(Duration::from_millis(300), store.execute_script(&slow_sql("abandoned"))),
    )
    .await;
    assert!(abandoned.is_err(), "the slow statement finished in time: {abandoned:?}");
    let started = Instant::now();
    store.execute_script("SELECT 1").await.expect("the connection is free again");
    assert!(started.elapsed() < Duration::from_secs(2), "the next query waited {:?}", started.elapsed());
    // Work without a deadline (the CLI import) is not bounded.
    let count = store
        .fetch_number(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) FROM c",
        )
        .await
        .unwrap();
    assert_eq!(count, 300_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_work_past_its_deadline_is_cancelled() {
    let Some(Db::Postgres(url)) = Db::postgres() else { return };
    let app = TestApp::start(Db::Postgres(url.clone()), test_settings()).await;
    let marker = format!("fulian-deadline-{}", std::process::id());
    let error =
        store::within(Duration::from_millis(300), app.store.execute_script(&slow_sql(&marker))).await.unwrap_err();
    assert!(error.is_interrupted(), "{error}");
    assert_eq!(AppError::from(error).code(), "TIMEOUT");
    let abandoned = tokio::time::timeout(
        Duration::from_millis(300),
        store::within(Duration::from_millis(300), app.store.execute_script(&slow_sql(&marker))),
    )
    .await;
    assert!(abandoned.is_err(), "the slow statement finished in time");
    // The server stops it at the deadline (it ran to the end, tens of seconds, before).
    let observer = Store::connect(&StoreOptions::new(&url)).await.unwrap();
    let still_running = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%{marker}%' \
         AND pid <> pg_backend_pid()"
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let running = observer.fetch_number(&still_running).await.unwrap();
        if running == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the abandoned statement still runs");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    observer.close().await;
    // The pool's connections are fine afterwards, and unbounded again outside a deadline.
    assert_eq!(app.store.fetch_number("SELECT count(*) FROM pg_sleep(0.5)").await.unwrap(), 1);
}
