//! Persisted queries: automatic (hash learnt from a request carrying the text) and the
//! allow-list mode that runs only the manifest's operations (and audits the mutations it refuses).

use axum::http::StatusCode;
use fulian_graph::http::persisted::{PersistedMode, sha256_hex};
use serde_json::{Value, json};

use fulian_graph::domain::access::Role;

use crate::common::{Db, TestApp, admin, test_settings, token};
use crate::on_both_dbs;

on_both_dbs!(automatic_persisted_queries, allowlist_runs_only_registered_operations);

const QUERY: &str = r#"query Alliance { alliance(slug: "tongwulang") { name } }"#;

const AUDIT: &str = r#"query Audit { auditLog(filter: { actor: "pq-editor" }, first: 10) {
    edges { node { operation outcome errorCode } } } }"#;

fn by_hash(hash: &str) -> Value {
    json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } })
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

async fn automatic_persisted_queries(db: Db) {
    let app = TestApp::start(db, test_settings()).await;
    let hash = sha256_hex(QUERY);
    // Unknown hash: the client is told to send the text (HTTP 200, as Apollo clients expect).
    let (status, _, body) = app.post(None, &[], &by_hash(&hash)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");
    // Text and hash together: runs, and the server learns the hash.
    let mut with_text = by_hash(&hash);
    with_text["query"] = json!(QUERY);
    let (_, _, body) = app.post(None, &[], &with_text).await;
    assert_eq!(body["data"]["alliance"]["name"], "通武廊", "{body}");
    // From now on the hash alone is enough, over POST and over GET.
    let (_, _, body) = app.post(None, &[], &by_hash(&hash)).await;
    assert_eq!(body["data"]["alliance"]["name"], "通武廊", "{body}");
    let extensions = format!(r#"{{"persistedQuery":{{"version":1,"sha256Hash":"{hash}"}}}}"#);
    let uri = format!("/graphql?extensions={}", urlencode(&extensions));
    let (status, _, body) = app.get(&uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["alliance"]["name"], "通武廊");
    // A hash that is not the text's: refused, nothing learnt.
    let mut wrong = by_hash(&sha256_hex("{ regions { totalCount } }"));
    wrong["query"] = json!(QUERY);
    let (status, _, body) = app.post(None, &[], &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "BAD_REQUEST");
    // Plain queries still run.
    assert_eq!(
        app.data("{ alliance(slug: \"tongwulang\") { slug } }", json!({})).await["alliance"]["slug"],
        "tongwulang"
    );
}

async fn allowlist_runs_only_registered_operations(db: Db) {
    let dir = std::env::temp_dir().join(format!("fulian-pq-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("operations.json");
    let registered = json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        { "id": sha256_hex(QUERY), "name": "Alliance", "type": "query", "body": QUERY },
        { "id": sha256_hex(AUDIT), "name": "Audit", "type": "query", "body": AUDIT } ] });
    std::fs::write(&manifest, registered.to_string()).unwrap();
    let mut settings = test_settings();
    settings.persisted_queries = PersistedMode::Allowlist;
    settings.persisted_queries_file = Some(manifest.clone());
    let app = TestApp::start(db, settings).await;

    let (_, _, body) = app.post(None, &[], &by_hash(&sha256_hex(QUERY))).await;
    assert_eq!(body["data"]["alliance"]["name"], "通武廊", "registered, by hash: {body}");
    assert_eq!(app.data(QUERY, json!({})).await["alliance"]["name"], "通武廊", "registered, by text");
    let (status, _, body) = app.post(None, &[], &json!({ "query": "{ regions(first: 1) { totalCount } }" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_ALLOWED", "{body}");
    let (status, _, body) = app.post(None, &[], &by_hash(&sha256_hex("{ x }"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_ALLOWED");

    // A mutation the allow-list refuses is an attempt like any other: audited, once per root field.
    let editor = token("pq-editor", Role::Editor, Some("110112"));
    let mutation = json!({ "query": "mutation Remove { removeResource(id: \"x\") }" });
    let (status, _, body) = app.post(Some(&editor), &[], &mutation).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "PERSISTED_QUERY_NOT_ALLOWED"), "{body}");
    let audit = app.data_as(Some(&admin()), AUDIT, json!({})).await;
    let entries = audit["auditLog"]["edges"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    let entry = &entries[0]["node"];
    assert_eq!(
        (&entry["operation"], &entry["outcome"], &entry["errorCode"]),
        (&json!("removeResource"), &json!("FAILED"), &json!("PERSISTED_QUERY_NOT_ALLOWED")),
        "{entry}"
    );

    // A manifest whose id is not its body's hash is refused at start.
    std::fs::write(&manifest, json!({ "0000": QUERY }).to_string()).unwrap();
    let mut bad = test_settings();
    bad.persisted_queries = PersistedMode::Allowlist;
    bad.persisted_queries_file = Some(manifest);
    let services = fulian_graph::domain::Services::new(app.store.clone());
    let error = fulian_graph::AppState::with_settings(services, bad).err().expect("refused").to_string();
    assert!(error.contains("not the SHA-256"), "{error}");
    let _ = std::fs::remove_dir_all(dir);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
