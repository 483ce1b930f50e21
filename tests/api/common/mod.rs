//! The test harness: an app on SQLite or PostgreSQL, and request helpers through the router.

use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fulian_graph::auth::{AuthSettings, issue};
use fulian_graph::domain::Services;
use fulian_graph::domain::access::{Principal, Role};
use fulian_graph::http::HttpSettings;
use fulian_graph::store::{Store, StoreOptions};
use fulian_graph::{AppState, app, server};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Environment variable with a PostgreSQL URL; when set, every test also runs on PostgreSQL.
pub const POSTGRES_URL_VAR: &str = "FULIAN_TEST_POSTGRES_URL";

/// The HS256 secret test tokens are signed with.
pub const SECRET: &str = "test-secret-test-secret-test-secret";

/// Which database a test app runs on.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite,
    Postgres(String),
}

impl Db {
    /// PostgreSQL at [`POSTGRES_URL_VAR`], by default the local cluster
    /// ([`DEFAULT_POSTGRES_URL`], started if it is not running). Only an explicit
    /// `FULIAN_TEST_POSTGRES_URL=skip` skips the PostgreSQL half (with a note on stderr); an
    /// unreachable database fails the test, so the suite cannot pass on SQLite alone unnoticed.
    pub fn postgres() -> Option<Self> {
        static URL: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        let url = URL.get_or_init(|| {
            let url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
            if url == "skip" {
                return None;
            }
            ensure_postgres(&url);
            Some(url)
        });
        match url {
            Some(url) => Some(Self::Postgres(url.clone())),
            None => {
                eprintln!("{POSTGRES_URL_VAR}=skip: skipping the PostgreSQL run of this test");
                None
            }
        }
    }
}

/// The PostgreSQL the suite uses when [`POSTGRES_URL_VAR`] is not set: the machine's cluster.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Makes sure PostgreSQL answers at `url`: if it does not and it is the local default, starts
/// the machine's cluster (as `.ci/run` does); panics with what to do when it still does not.
fn ensure_postgres(url: &str) {
    let answers = || {
        std::process::Command::new("pg_isready").args(["-q", "-d", url]).status().map(|s| s.success()).unwrap_or(false)
    };
    if answers() {
        return;
    }
    if url == DEFAULT_POSTGRES_URL
        && let Ok(versions) = std::fs::read_dir("/etc/postgresql")
        && let Some(version) = versions.filter_map(Result::ok).map(|e| e.file_name()).next()
    {
        eprintln!("PostgreSQL is not answering; starting the local cluster");
        let _ = std::process::Command::new("pg_ctlcluster")
            .arg("--skip-systemctl-redirect")
            .arg(&version)
            .args(["main", "start"])
            .status();
        for _ in 0..30 {
            if answers() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
    panic!(
        "PostgreSQL does not answer at {url}: start it, point {POSTGRES_URL_VAR} at one, \
         or set {POSTGRES_URL_VAR}=skip to run the SQLite half alone"
    );
}

/// The settings of test apps: defaults, plus the test secret for tokens.
pub fn test_settings() -> HttpSettings {
    HttpSettings {
        auth: AuthSettings { secret: Some(SECRET.into()), ..AuthSettings::default() },
        ..HttpSettings::default()
    }
}

/// A token for `sub` with `role`, acting for `region`, valid for an hour.
pub fn token(sub: &str, role: Role, region: Option<&str>) -> String {
    let principal = Principal { sub: sub.into(), role, region: region.map(str::to_owned) };
    issue(SECRET, &principal, std::time::Duration::from_secs(3600), None, None).expect("sign a token")
}

/// An ADMIN's token.
pub fn admin() -> String {
    token("admin", Role::Admin, None)
}

/// A service under test with its own empty-then-migrated database, demo data loaded.
pub struct TestApp {
    pub router: Router,
    pub store: Store,
    /// The services behind the router (their event bus, caches).
    pub services: Services,
    pg_schema: Option<(String, String)>,
}

static SCHEMAS: AtomicU32 = AtomicU32::new(0);

impl TestApp {
    /// An app on a private in-memory SQLite database.
    pub async fn sqlite() -> Self {
        Self::start(Db::Sqlite, test_settings()).await
    }

    /// An app on a private schema of the PostgreSQL database named by [`POSTGRES_URL_VAR`];
    /// `None` (and a note on stderr) when the variable is not set.
    pub async fn postgres() -> Option<Self> {
        Some(Self::start(Db::postgres()?, test_settings()).await)
    }

    /// An app on `db` with the given HTTP settings.
    pub async fn start(db: Db, settings: HttpSettings) -> Self {
        let (store, pg_schema) = match db {
            Db::Sqlite => (Store::connect(&StoreOptions::new("sqlite::memory:")).await.expect("open sqlite"), None),
            Db::Postgres(url) => {
                let schema = format!("fgt_{}_{}", std::process::id(), SCHEMAS.fetch_add(1, Ordering::Relaxed));
                let admin = Store::connect(&StoreOptions::new(&url)).await.expect("connect to PostgreSQL");
                admin_execute(&admin, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).await;
                admin.close().await;
                let mut options = StoreOptions::new(&url);
                options.pg_schema = Some(schema.clone());
                (Store::connect(&options).await.expect("connect to the test schema"), Some((url, schema)))
            }
        };
        store.migrate().await.expect("migrate");
        server::load_demo_data_if_empty(&store).await.expect("load demo data");
        let services = Services::new(store.clone());
        let state = AppState::with_settings(services.clone(), settings).expect("valid settings");
        Self { router: app(state), store, services, pg_schema }
    }

    /// A second service over the same database, as another replica behind a load balancer
    /// would be: its own caches and loaders, the same data.
    pub fn replica(&self) -> TestApp {
        let services = Services::new(self.store.clone());
        let state = AppState::with_settings(services.clone(), test_settings()).expect("valid settings");
        Self { router: app(state), store: self.store.clone(), services, pg_schema: None }
    }

    /// Sends a request through the router; returns the status, headers and body as JSON
    /// (or as a JSON string when the body is not JSON).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let response = self.router.clone().oneshot(request).await.expect("the router never fails");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("read body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, body)
    }

    /// POSTs a GraphQL query with variables, anonymously; returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(None, query, variables).await
    }

    /// POSTs a GraphQL query with a bearer token (or none); expects HTTP 200; returns the body.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let (status, _, body) = self.post(token, &[], &json!({ "query": query, "variables": variables })).await;
        assert_eq!(status, StatusCode::OK, "unexpected status; body: {body}");
        body
    }

    /// POSTs a JSON body with a token and extra headers; returns status, headers and body.
    pub async fn post(
        &self,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(body.to_string())).expect("request")).await
    }

    /// POSTs a query that must succeed, anonymously; returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        self.data_as(None, query, variables).await
    }

    /// POSTs a query that must succeed, with a token; returns `data`.
    pub async fn data_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.graphql_as(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// GETs a path; returns status, headers and body.
    pub async fn get(&self, uri: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
        self.send(Request::get(uri).body(Body::empty()).expect("request")).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some((url, schema)) = self.pg_schema.take() else { return };
        // Drop the schema on a thread of its own: Drop cannot await, and the test's runtime may be gone.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                if let Ok(admin) = Store::connect(&StoreOptions::new(&url)).await {
                    admin_execute(&admin, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

async fn admin_execute(store: &Store, sql: &str) {
    store.execute_script(sql).await.expect("administrative statement");
}

/// The single error of a response, asserting there is exactly one.
pub fn only_error(body: &Value) -> &Value {
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("expected errors, got {body:#}"));
    assert_eq!(errors.len(), 1, "expected one error, got {body:#}");
    &errors[0]
}

/// The `extensions.code` of a response's single error.
pub fn error_code(body: &Value) -> String {
    only_error(body)["extensions"]["code"].as_str().unwrap_or_default().to_owned()
}

/// Declares each listed `async fn(TestApp)` as a test on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestApp::sqlite().await).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::common::TestApp::postgres().await {
                        super::$name(app).await;
                    }
                }
            )+
        }
    };
}

/// Declares each listed `async fn(Db)` as a test on SQLite and, when configured, on PostgreSQL;
/// for tests that start apps with settings of their own.
#[macro_export]
macro_rules! on_both_dbs {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Db::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::common::Db::postgres() {
                        super::$name(db).await;
                    }
                }
            )+
        }
    };
}

/// A workbook (.xlsx) whose first sheet holds `rows`: cells that read as numbers are numeric
/// cells, the others inline strings. Enough of the format for calamine.
pub fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in row.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let at = format!("{}{}", column_letters(c), r + 1);
            if cell.parse::<f64>().is_ok() {
                sheet.push_str(&format!(r#"<c r="{at}"><v>{cell}</v></c>"#));
            } else {
                let text = cell.replace('&', "&amp;").replace('<', "&lt;");
                sheet.push_str(&format!(r#"<c r="{at}" t="inlineStr"><is><t>{text}</t></is></c>"#));
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    workbook(&[("xl/worksheets/sheet1.xml", sheet.as_bytes())])
}

fn column_letters(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII")
}

/// A workbook of the given parts (besides the package's own), deflated.
pub fn workbook(parts: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let content_types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let book = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let book_rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    let package: [(&str, &[u8]); 4] = [
        ("[Content_Types].xml", content_types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("xl/workbook.xml", book.as_bytes()),
        ("xl/_rels/workbook.xml.rels", book_rels.as_bytes()),
    ];
    for (name, bytes) in package.iter().chain(parts) {
        zip.start_file(*name, options).expect("start a part");
        zip.write_all(bytes).expect("write a part");
    }
    zip.finish().expect("finish the workbook").into_inner()
}

impl TestApp {
    /// An app over a store the test opened itself (e.g. an SQLite file on a file system of its
    /// own), migrated and with the demo data loaded.
    pub async fn over(store: Store, settings: HttpSettings) -> Self {
        store.migrate().await.expect("migrate");
        server::load_demo_data_if_empty(&store).await.expect("load demo data");
        let services = Services::new(store.clone());
        let state = AppState::with_settings(services.clone(), settings).expect("valid settings");
        Self { router: app(state), store, services, pg_schema: None }
    }
}

/// A fresh directory under the system's temporary one, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// Creates `<tmp>/fulian-<name>-<pid>-<n>`.
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "fulian-{name}-{}-{}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Connects to `address` from `from` (a loopback address, so that tests can be different
/// clients; 127.0.0.1 when `None`).
pub async fn connect_from(address: std::net::SocketAddr, from: Option<&str>) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(format!("{}:0", from.unwrap_or("127.0.0.1")).parse().expect("a loopback address"))?;
    socket.connect(address).await
}

/// Sends one raw HTTP/1.1 request over TCP from `from` (a loopback address, so that tests can be
/// different clients; 127.0.0.1 when `None`) and reads the whole answer: status (0 when none
/// could be read) and body, de-chunked.
pub async fn raw_exchange(
    address: std::net::SocketAddr,
    from: Option<&str>,
    request: &str,
) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = connect_from(address, from).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
    Ok((status, body))
}

/// The content of a chunked HTTP/1.1 body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
