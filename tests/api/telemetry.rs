//! Traces: an HTTP request, its GraphQL operation and its SQL statements arrive as one trace
//! of nested spans at an OpenTelemetry exporter (here the SDK's in-memory one, in process).

use std::sync::OnceLock;

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

use crate::common::TestApp;

/// The in-process collector: installed once as the test binary's global subscriber (a
/// thread-scoped one would miss spans whose callsites other tests' threads cached as unused).
fn collector() -> &'static (InMemorySpanExporter, SdkTracerProvider) {
    static COLLECTOR: OnceLock<(InMemorySpanExporter, SdkTracerProvider)> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let subscriber = tracing_subscriber::registry().with(fulian_graph::telemetry::otel_layer(&provider));
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in the tests");
        (exporter, provider)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_operation_and_sql_spans_form_one_trace() {
    let (exporter, provider) = collector();
    let app = TestApp::sqlite().await;
    let operation_name = format!("TelemetryProbe{}", std::process::id());
    let query = format!(r#"query {operation_name} {{ region(code: "110112") {{ name parent {{ name }} }} }}"#);
    app.data(&query, json!({})).await;
    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");

    let operation =
        spans.iter().find(|s| s.name == format!("query {operation_name}")).expect("the GraphQL operation's span");
    let http = spans
        .iter()
        .find(|s| s.span_context.span_id() == operation.parent_span_id)
        .expect("the operation runs inside a request span");
    assert_eq!(http.name, "POST /graphql");
    assert!(
        http.attributes.iter().any(|kv| kv.key.as_str() == "http.response.status_code" && kv.value.as_str() == "200"),
        "the status is recorded: {:?}",
        http.attributes
    );
    let trace = operation.span_context.trace_id();
    // The data version (for the response cache) is read first, outside the operation; the
    // region and its parent inside it.
    let sql: Vec<_> = spans
        .iter()
        .filter(|s| s.span_context.trace_id() == trace && s.name.starts_with("SELECT (sqlite)"))
        .filter(|s| {
            !s.attributes
                .iter()
                .any(|kv| kv.key.as_str() == "db.statement" && kv.value.as_str().contains("FROM data_version"))
        })
        .collect();
    assert!(sql.len() >= 2, "the region and its parent are read in traced statements: {} found", sql.len());
    assert!(
        sql.iter().all(|s| s
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "db.statement" && kv.value.as_str().contains("FROM regions"))),
        "the statements are recorded"
    );
}
