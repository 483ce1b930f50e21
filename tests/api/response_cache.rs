//! The response cache: a repeated query is answered from memory for one statement (the data
//! version), and never after a write it does not show — on this replica or another — nor
//! across callers; the audit log and failed queries are always executed.

use fulian_graph::domain::access::Role;
use serde_json::{Value, json};

use crate::common::{Db, TestApp, admin, test_settings, token};
use crate::on_both_backends;

on_both_backends!(
    a_repeated_query_costs_one_statement_and_follows_writes_on_every_replica,
    the_audit_log_and_failed_queries_are_always_executed,
);

mod off {
    use super::*;
    crate::on_both_dbs!(without_the_cache_every_request_executes);
}

/// W1's shape: organizations with their region, its parent and its first job fairs.
const NESTED: &str = "query Nested { organizations(first: 20) { edges { node { id key name kind region { code name parent { name } \
                      jobFairs(first: 5) { edges { node { heldOn positionsOffered { value } } } } } } } } }";
const UPDATE: &str =
    "mutation($id: ID!, $input: OrganizationInput!) { updateOrganization(id: $id, input: $input) { name } }";

/// Runs `query` and returns the response and the SQL statements it cost.
async fn measured(app: &TestApp, query: &str) -> (Value, u64) {
    let before = app.store.statements();
    let data = app.data(query, json!({})).await;
    (data, app.store.statements() - before)
}

async fn a_repeated_query_costs_one_statement_and_follows_writes_on_every_replica(app: TestApp) {
    let (first, executed) = measured(&app, NESTED).await;
    assert!(executed >= 4, "the first request executes ({executed} statements)");
    let (again, cached) = measured(&app, NESTED).await;
    assert_eq!(again, first, "the cached response is the executed one");
    assert_eq!(cached, 1, "a repeated query reads the data version only");

    // Another replica over the same database fills its own cache.
    let replica = app.replica();
    assert_eq!(replica.data(NESTED, json!({})).await, first);

    // An ADMIN renames the first organization through this replica.
    let node = first["organizations"]["edges"][0]["node"].clone();
    let input = json!({ "key": node["key"], "name": "改名后的妇联", "kind": node["kind"], "regionCode": node["region"]["code"] });
    let renamed = app.data_as(Some(&admin()), UPDATE, json!({ "id": node["id"], "input": input })).await;
    assert_eq!(renamed["updateOrganization"]["name"], "改名后的妇联");

    // Both replicas answer with the new name at once, then cache that answer.
    for (who, app) in [("this replica", &app), ("the other replica", &replica)] {
        let (after, executed) = measured(app, NESTED).await;
        assert_eq!(after["organizations"]["edges"][0]["node"]["name"], "改名后的妇联", "{who} served a stale response");
        assert!(executed > 1, "{who} executed the query again");
        let (again, cached) = measured(app, NESTED).await;
        assert_eq!((again, cached), (after, 1), "{who} caches the new response");
    }
}

async fn the_audit_log_and_failed_queries_are_always_executed(app: TestApp) {
    const LOG: &str = "{ auditLog(first: 1) { totalCount } }";
    let count = |body: Value| body["auditLog"]["totalCount"].as_i64().unwrap();
    let before = count(app.data_as(Some(&admin()), LOG, json!({})).await);
    // A refused mutation writes an audit entry (and no data, so the data version stays).
    let create = "mutation { createOrganization(input: { key: \"x\", name: \"x\", kind: FEDERATION, regionCode: \"110112\" }) { id } }";
    let viewer = token("wang", Role::Viewer, Some("110112"));
    let refused = app.graphql_as(Some(&viewer), create, json!({})).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
    assert_eq!(count(app.data_as(Some(&admin()), LOG, json!({})).await), before + 1);
    // However the document reaches the field: behind nested fragments too.
    let hidden = format!("{{ {}auditLog(first: 1) {{ totalCount }}{} }}", "... { ".repeat(9), " }".repeat(9));
    let before = count(app.data_as(Some(&admin()), &hidden, json!({})).await);
    assert_eq!(before, count(app.data_as(Some(&admin()), LOG, json!({})).await));
    app.graphql_as(Some(&viewer), create, json!({})).await;
    assert_eq!(count(app.data_as(Some(&admin()), &hidden, json!({})).await), before + 1);

    // A query that fails is executed every time.
    let missing = r#"{ region(code: "999999") { name } }"#;
    for _ in 0..2 {
        let before = app.store.statements();
        let body = app.graphql(missing, json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body}");
        assert!(app.store.statements() > before, "the failing query was executed");
    }
}

pub(super) async fn without_the_cache_every_request_executes(db: Db) {
    let settings = fulian_graph::http::HttpSettings { response_cache_bytes: 0, ..test_settings() };
    let app = TestApp::start(db, settings).await;
    let (first, executed) = measured(&app, NESTED).await;
    let (again, repeated) = measured(&app, NESTED).await;
    assert_eq!(again, first);
    assert_eq!(repeated, executed, "FULIAN_RESPONSE_CACHE_MB=0 executes every request");
}
