//! The HTTP surface: GET and POST, mutation refusal over GET, probes, GraphiQL, shutdown.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fulian_graph::domain::Services;
use fulian_graph::{AppState, server};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::common::{TestApp, error_code};
use crate::on_both_backends;

on_both_backends!(
    fields_come_in_the_order_asked,
    get_runs_queries,
    get_never_runs_mutations,
    post_needs_json,
    probes_report_liveness_and_readiness,
    graphiql_is_served,
);

async fn fields_come_in_the_order_asked(app: TestApp) {
    let query = r#"query { zz: alliances { slug name } region(code: "110112") { level ...F code parent { code name } }
                   aa: alliances { name } } fragment F on Region { name children { name code } }"#;
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "query": query }).to_string()))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle} not in {text}"));
    assert!(at("\"zz\"") < at("\"region\"") && at("\"region\"") < at("\"aa\""), "{text}");
    assert!(at("\"level\"") < at("\"name\":\"通州区\"") && at("\"name\":\"通州区\"") < at("\"children\""), "{text}");
    assert!(at("\"children\"") < at("\"code\":\"110112\"") && at("\"code\":\"110112\"") < at("\"parent\""), "{text}");
    assert!(at("\"slug\"") < at("\"name\":\"粤港澳大湾区\""), "{text}");
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn get_runs_queries(app: TestApp) {
    let uri = format!("/graphql?query={}", encode(r#"{ region(code: "131000") { name } }"#));
    let (status, _, body) = app.get(&uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "data": { "region": { "name": "廊坊市" } } }));
    let uri = format!(
        "/graphql?query={}&variables={}",
        encode("query($c: String!) { region(code: $c) { name } }"),
        encode(r#"{"c":"120114"}"#)
    );
    assert_eq!(app.get(&uri).await.2, json!({ "data": { "region": { "name": "武清区" } } }));
}

const CREATE: &str =
    r#"mutation { createOrganization(input: { key: "get-test", name: "经由GET创建", kind: OTHER }) { id } }"#;

async fn get_never_runs_mutations(app: TestApp) {
    let (status, headers, body) = app.get(&format!("/graphql?query={}", encode(CREATE))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[header::ALLOW], "POST");
    assert_eq!(error_code(&body), "METHOD_NOT_ALLOWED");
    // Also when the mutation is one of several operations, picked by name.
    let doc = format!("query Q {{ alliances {{ slug }} }} {}", CREATE.replacen("mutation", "mutation M", 1));
    let (status, _, _) = app.get(&format!("/graphql?query={}&operationName=M", encode(&doc))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _, _) = app.get(&format!("/graphql?query={}&operationName=Q", encode(&doc))).await;
    assert_eq!(status, StatusCode::OK);
    let check = app.data(r#"{ organizations(filter: { nameContains: "经由GET" }) { totalCount } }"#, json!({})).await;
    assert_eq!(check["organizations"]["totalCount"], 0, "nothing was written");
}

async fn post_needs_json(app: TestApp) {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(r#"{"query":"{ alliances { slug } }"}"#))
        .unwrap();
    let (status, _, body) = app.send(request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(&body), "UNSUPPORTED_MEDIA_TYPE");
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let (status, _, body) = app.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "BAD_REQUEST");
}

async fn probes_report_liveness_and_readiness(app: TestApp) {
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    let (status, _, body) = app.get("/readyz").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ready" })));
    // The database goes away: still alive, no longer ready.
    app.store.close().await;
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    let (status, _, body) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
}

async fn graphiql_is_served(app: TestApp) {
    let (status, headers, body) = app.get("/graphiql").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(body.as_str().unwrap().contains("/graphql"));
}

/// A request in flight when shutdown begins still gets its answer; the server then stops.
#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let app = TestApp::sqlite().await;
    let router = fulian_graph::app(AppState::new(Services::new(app.store.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server::run(
        listener,
        router,
        fulian_graph::http::HttpSettings::default().connection_limits(),
        async {
            stopped.await.ok();
        },
        Duration::from_secs(10),
    ));

    let body = r#"{"query":"{ region(code: \"110112\") { name } }"}"#;
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!server.is_finished(), "the server waits for the request in flight");
    socket.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("通州区"), "{response}");
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("server stops").unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(address).await.is_err(), "no longer listening");
}
