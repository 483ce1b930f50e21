//! Faults from outside the process: the real binary killed (-9) during an import, and a
//! PostgreSQL cluster of the test's own stopped and restarted under load. (A full file system
//! is in `store_faults`.) Each skips, with a note, only when its facility is missing.

use std::process::{Command, Stdio};
use std::time::Duration;

use fulian_graph::store::{Store, StoreOptions};

use crate::common::{Db, TempDir};

const BINARY: &str = env!("CARGO_BIN_EXE_fulian-graph");

const REPORTS: usize = 600;
const FIGURES_PER_REPORT: usize = 3;

/// A CSV of `REPORTS` reports with `FIGURES_PER_REPORT` case statistics each.
fn large_import(dir: &TempDir) -> std::path::PathBuf {
    let mut csv = String::from(
        "report_key,report_title,report_region,kind,id,scope_region,period_start,period_end,excerpt,category,received",
    );
    for r in 0..REPORTS {
        for f in 0..FIGURES_PER_REPORT {
            csv.push_str(&format!(
                // One month each: different numbers for one thing and period would be refused.
                "\nkill-{r},Report {r},110112,CASE_STATISTIC,f{f},110112-liyuan,2024-{m:02}-01,2024-{m:02}-28,excerpt {r} {f},OTHER,{f}",
                m = f + 1
            ));
        }
    }
    let path = dir.0.join("large.csv");
    std::fs::write(&path, csv).expect("write the import file");
    path
}

/// Reports of the file present, and how many of them lack figures (0 when all are whole).
async fn imported(url: &str) -> (i64, i64) {
    let store = Store::connect(&StoreOptions::new(url)).await.expect("open the database after the kill");
    let reports = store.fetch_number("SELECT count(*) FROM reports WHERE key LIKE 'kill-%'").await.unwrap_or(0);
    let partial = store
        .fetch_number(&format!(
            "SELECT count(*) FROM (SELECT r.id FROM reports r LEFT JOIN case_statistics c ON c.report_id = r.id \
             WHERE r.key LIKE 'kill-%' GROUP BY r.id HAVING count(c.id) <> {FIGURES_PER_REPORT}) partial"
        ))
        .await
        .unwrap_or(0);
    store.close().await;
    (reports, partial)
}

fn import_command(url: &str, file: &std::path::Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .arg("import")
        .arg(file)
        .env("FULIAN_DATABASE_URL", url)
        .env("FULIAN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

async fn kill_during_import(url: &str, dir: &TempDir) {
    // The regions the reports are in: the demo data's.
    let store = Store::connect(&StoreOptions::new(url)).await.expect("open the database");
    store.migrate().await.unwrap();
    fulian_graph::server::load_demo_data_if_empty(&store).await.unwrap();
    store.close().await;
    let file = large_import(dir);
    for delay in [400, 1_200, 2_500] {
        let mut child = import_command(url, &file).spawn().expect("start the import");
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let finished = child.try_wait().expect("poll the import").is_some();
        child.kill().ok(); // SIGKILL
        child.wait().ok();
        let (reports, partial) = imported(url).await;
        assert_eq!(partial, 0, "after kill -9 at {delay} ms: {partial} of {reports} reports are partial");
        assert!(reports == 0 || reports == REPORTS as i64 || finished, "a partial file ({reports}) after {delay} ms");
    }
    let output = import_command(url, &file).output().expect("run the import");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(imported(url).await, (REPORTS as i64, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_import_killed_leaves_only_whole_reports() {
    let dir = TempDir::new("kill");
    kill_during_import(&format!("sqlite://{}/fulian.db", dir.0.display()), &dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_import_killed_leaves_only_whole_reports() {
    let Some(Db::Postgres(url)) = Db::postgres() else { return };
    // A database of its own (the binary cannot be given a schema), dropped afterwards.
    let name = format!("fgt_kill_{}", std::process::id());
    let admin = Store::connect(&StoreOptions::new(&url)).await.unwrap();
    admin.execute_script(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
    admin.execute_script(&format!("CREATE DATABASE {name}")).await.unwrap();
    let (base, _) = url.rsplit_once('/').expect("a database URL ends in /DB");
    let dir = TempDir::new("kill-pg");
    kill_during_import(&format!("{base}/{name}"), &dir).await;
    admin.execute_script(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
    admin.close().await;
}
