//! Bad input gets a clear error with `extensions.code`; internal failures say nothing more.

use serde_json::{Value, json};

use crate::common::{TestApp, error_code, only_error};
use crate::on_both_backends;

on_both_backends!(
    unknown_region_is_not_found,
    malformed_codes_and_ids_are_bad_input,
    bad_filter_values_are_bad_input,
    page_size_out_of_range_is_bad_input,
    foreign_cursor_is_bad_input,
    syntax_and_schema_errors_have_codes,
    internal_errors_hide_their_details,
    scalars_for_input_objects_are_bad_input,
);

async fn unknown_region_is_not_found(app: TestApp) {
    let body = app.graphql(r#"{ region(code: "119999") { name } }"#, json!({})).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(only_error(&body)["message"], "no region has code 119999");
    assert_eq!(only_error(&body)["path"], json!(["region"]));
    assert_eq!(body["data"]["region"], Value::Null);
    let organization = app.graphql(r#"{ organization(id: "T3JnYW5pemF0aW9uOjk5OTk5") { name } }"#, json!({})).await;
    assert_eq!(error_code(&organization), "NOT_FOUND");
    // `node` follows Relay: an ID that points at nothing (any more) is simply null.
    let node = app.data(r#"{ node(id: "T3JnYW5pemF0aW9uOjk5OTk5") { id } }"#, json!({})).await;
    assert_eq!(node["node"], Value::Null);
}

async fn malformed_codes_and_ids_are_bad_input(app: TestApp) {
    let body = app.graphql(r#"{ region(code: "Beijing") { name } }"#, json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(only_error(&body)["message"].as_str().unwrap().contains("is not a region code"));
    for query in [
        r#"{ node(id: "not-an-id") { id } }"#,
        r#"{ organization(id: "UmVnaW9uOjExMDExMg") { name } }"#, // a Region's ID
        r#"{ report(id: "") { title } }"#,
    ] {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query}: {body}");
        let problems = &only_error(&body)["extensions"]["problems"];
        assert_eq!(problems[0]["path"], "id", "{body}");
    }
}

async fn bad_filter_values_are_bad_input(app: TestApp) {
    // An enum value the schema does not know.
    let body = app.graphql(r#"{ regions(filter: { level: CITY }) { totalCount } }"#, json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // The same through a variable.
    let body = app
        .graphql("query($f: RegionFilter) { regions(filter: $f) { totalCount } }", json!({ "f": { "level": "CITY" } }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // A region that does not exist, an empty search: both reported, with their paths.
    let body = app
        .graphql(r#"{ organizations(filter: { region: "999999", nameContains: "  " }) { totalCount } }"#, json!({}))
        .await;
    let error = only_error(&body);
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let paths: Vec<&str> =
        error["extensions"]["problems"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["filter.region", "filter.nameContains"]);
    assert_eq!(body["data"], Value::Null);
}

async fn page_size_out_of_range_is_bad_input(app: TestApp) {
    for first in [-1, 101, 100_000] {
        let body =
            app.graphql("query($n: Int) { organizations(first: $n) { totalCount } }", json!({ "n": first })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(only_error(&body)["message"], format!("first: must be between 0 and 100, got {first}"));
    }
    let ok = app.data("{ organizations(first: 100) { edges { cursor } } }", json!({})).await;
    assert_eq!(ok["organizations"]["edges"].as_array().unwrap().len(), 100);
}

async fn foreign_cursor_is_bad_input(app: TestApp) {
    let regions = app.data("{ regions(first: 1) { pageInfo { endCursor } } }", json!({})).await;
    let region_cursor = &regions["regions"]["pageInfo"]["endCursor"];
    let body = app
        .graphql("query($a: String) { organizations(after: $a) { totalCount } }", json!({ "a": region_cursor }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app.graphql(r#"{ regions(after: "%%%") { totalCount } }"#, json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

async fn syntax_and_schema_errors_have_codes(app: TestApp) {
    let body = app.graphql("{ regions(first: 1) { totalCount ", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED");
    let body = app.graphql("{ regions { nonsense } }", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(only_error(&body)["message"].as_str().unwrap().contains("nonsense"));
}

async fn internal_errors_hide_their_details(app: TestApp) {
    app.store.close().await;
    let body = app.graphql(r#"{ region(code: "110112") { name } }"#, json!({})).await;
    let error = only_error(&body);
    assert_eq!(error["extensions"]["code"], "INTERNAL");
    assert_eq!(error["message"], "internal error");
    assert_eq!(error["extensions"].as_object().unwrap().len(), 1, "no details leak: {error}");
}

/// A scalar or a list where an input object belongs is bad input, never INTERNAL (the library
/// reports it from the resolver, as a failure of ours would be).
async fn scalars_for_input_objects_are_bad_input(app: TestApp) {
    for query in [
        "{ regions(filter: 5) { totalCount } }",
        r#"{ regions(filter: "x") { totalCount } }"#,
        "{ regions(filter: [1]) { totalCount } }",
        "{ caseSummary(scope: 5) { received } }",
        r#"{ jobFairSummary(scope: { region: "110112" }, period: 3) { fairs } }"#,
        r#"{ resources(filter: "x") { totalCount } }"#,
        "mutation { createOrganization(input: 5) { id } }",
    ] {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query}: {body}");
    }
}
