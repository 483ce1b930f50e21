//! Subscriptions: `reportSubmitted` delivers submissions to subscribers of the same process
//! and, on PostgreSQL (LISTEN/NOTIFY), of another replica over the same database.

use std::time::Duration;

use async_graphql::Request;
use fulian_graph::domain::Services;
use fulian_graph::domain::access::Caller;
use fulian_graph::graphql::build_schema;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use crate::common::{TestApp, admin, test_settings};
use crate::on_both_backends;

on_both_backends!(submissions_reach_subscribers_on_every_replica, notifying_other_replicas_succeeds);

const SUBMIT: &str = r#"mutation($input: ReportSubmissionInput!) { submitReport(input: $input) { status } }"#;

/// The next event about `key` (other tests may submit reports meanwhile, and on PostgreSQL
/// they share the notification channel).
async fn next_about(stream: &mut (impl Stream<Item = Value> + Unpin), key: &str) -> Value {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .expect("the subscription stays open");
        if event["reportSubmitted"]["key"] == key {
            return event["reportSubmitted"].clone();
        }
    }
}

async fn submissions_reach_subscribers_on_every_replica(app: TestApp) {
    // On PostgreSQL, replica B: its own services (event bus, listener) and schema over the
    // same database, so events must cross through NOTIFY. SQLite has one process: the app's own.
    let b = match app.store.backend() {
        fulian_graph::store::Backend::Postgres => Services::new(app.store.clone()),
        fulian_graph::store::Backend::Sqlite => app.services.clone(),
    };
    b.listen_for_events().await;
    let schema_b = build_schema(b, &test_settings());
    let subscribe = |query: &str| {
        Box::pin(
            schema_b
                .execute_stream(Request::new(query).data(Caller::anonymous()))
                .map(|response| response.data.into_json().expect("JSON")),
        )
    };
    let mut everything = subscribe("subscription { reportSubmitted { key status revision region } }");
    let mut tianjin = subscribe(r#"subscription { reportSubmitted(region: "120000") { key revision } }"#);
    // Polling once registers each subscription before anything is submitted.
    assert!(tokio::time::timeout(Duration::from_millis(100), everything.next()).await.is_err());
    assert!(tokio::time::timeout(Duration::from_millis(100), tianjin.next()).await.is_err());

    // Submitted through replica A (the test app's router).
    let key = format!("fixture-live-{}", std::process::id());
    let report = |title: &str, region: &str| json!({ "input": { "key": key, "title": title, "region": region } });
    let created = app.data_as(Some(&admin()), SUBMIT, report("Live", "110112")).await;
    assert_eq!(created["submitReport"]["status"], "CREATED");
    assert_eq!(
        next_about(&mut everything, &key).await,
        json!({ "key": key, "status": "CREATED", "revision": 1, "region": "110112" })
    );

    // The Tianjin subscriber hears nothing of it (110112 is in Beijing).
    assert!(tokio::time::timeout(Duration::from_millis(300), next_about(&mut tianjin, &key)).await.is_err());

    // A report in Tianjin and its revision reach both subscribers; an unchanged re-submission
    // is no event. (A revision keeps its report's region.)
    let tianjin_key = format!("{key}-tianjin");
    let report = |title: &str| json!({ "input": { "key": tianjin_key, "title": title, "region": "120114" } });
    let created = app.data_as(Some(&admin()), SUBMIT, report("Live")).await;
    assert_eq!(created["submitReport"]["status"], "CREATED");
    let revised = app.data_as(Some(&admin()), SUBMIT, report("Live, revised")).await;
    assert_eq!(revised["submitReport"]["status"], "REVISED");
    let unchanged = app.data_as(Some(&admin()), SUBMIT, report("Live, revised")).await;
    assert_eq!(unchanged["submitReport"]["status"], "UNCHANGED");
    for revision in [1, 2] {
        let event = next_about(&mut everything, &tianjin_key).await;
        assert_eq!((event["revision"].clone(), event["region"].clone()), (json!(revision), json!("120114")));
        assert_eq!(next_about(&mut tianjin, &tianjin_key).await, json!({ "key": tianjin_key, "revision": revision }));
    }
    // And nothing more: the unchanged re-submission sent nothing.
    assert!(tokio::time::timeout(Duration::from_millis(300), next_about(&mut everything, &tianjin_key)).await.is_err());
}

/// Sending an event reports success (PostgreSQL's `pg_notify` returns void, which once failed
/// to decode after the notification had gone out, and logged a warning on every submission).
async fn notifying_other_replicas_succeeds(app: TestApp) {
    let event = fulian_graph::domain::events::ReportEvent {
        origin: 1,
        report_id: 1,
        key: "notify-probe".into(),
        title: "Notify probe".into(),
        revision: 1,
        status: "CREATED".into(),
        region: None,
        within: Vec::new(),
    };
    fulian_graph::store::events::notify(&app.store, &event).await.expect("the notification is sent");
}
