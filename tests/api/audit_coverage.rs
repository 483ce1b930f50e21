//! Text the database cannot store is bad input everywhere, and every mutation attempt is
//! audited — also those refused for a malformed ID, for unstorable text or by validation, and
//! whatever the input the entry describes (issue 12, item 11).

use fulian_graph::domain::access::{Caller, Principal, Role};
use fulian_graph::domain::submission::ReportSubmission;
use serde_json::{Value, json};

use crate::common::{TestApp, admin, error_code, only_error, token};
use crate::on_both_backends;

on_both_backends!(
    nul_in_any_argument_is_bad_input,
    mutations_refused_before_their_service_are_audited,
    each_attempt_is_audited_once,
    audit_entries_are_written_whatever_their_input,
);

const AUDIT: &str = r#"query($actor: String) { auditLog(filter: { actor: $actor }, first: 50) { totalCount
    edges { node { actor operation target outcome errorCode detail } } } }"#;

async fn audit(app: &TestApp, actor: &str) -> Vec<Value> {
    let data = app.data_as(Some(&admin()), AUDIT, json!({ "actor": actor })).await;
    data["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

const NUL: &str = "a\u{0}b";

/// Queries and mutations with a NUL in one string argument (as a variable `$t`, or written in
/// the document), and the path the refusal names.
fn attempts() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("query($t: String!) { region(code: $t) { name } }", json!({ "t": NUL }), "t"),
        ("query($t: String) { regions(filter: { nameContains: $t }) { totalCount } }", json!({ "t": NUL }), "t"),
        ("query($t: String) { organizations(filter: { nameContains: $t }) { totalCount } }", json!({ "t": NUL }), "t"),
        ("query($t: String) { reports(filter: { titleContains: $t }) { totalCount } }", json!({ "t": NUL }), "t"),
        ("query($t: String) { resources(filter: { search: $t }) { totalCount } }", json!({ "t": NUL }), "t"),
        ("query($t: ID!) { node(id: $t) { id } }", json!({ "t": NUL }), "t"),
        ("query($t: String!) { alliance(slug: $t) { name } }", json!({ "t": NUL }), "t"),
        ("query($t: String) { auditLog(filter: { actor: $t }) { totalCount } }", json!({ "t": NUL }), "t"),
        ("query($t: String) { regions(first: 1, after: $t) { totalCount } }", json!({ "t": NUL }), "t"),
        (r#"{ resources(filter: { search: "x\u0000y" }) { totalCount } }"#, json!({}), "resources.filter.search"),
        (
            "mutation($t: String!) { createOrganization(input: { key: $t, name: \"n\", kind: WOMENS_HOME, regionCode: \"110112\" }) { id } }",
            json!({ "t": NUL }),
            "t",
        ),
        (
            "mutation($i: OrganizationInput!) { createOrganization(input: $i) { id } }",
            json!({ "i": { "key": "k", "name": NUL, "kind": "WOMENS_HOME" } }),
            "i.name",
        ),
        (
            "mutation($i: ReportSubmissionInput!) { submitReport(input: $i) { status } }",
            json!({ "i": { "key": "nul-report", "title": "t", "region": "110112", "figures": { "caseStatistics": [
                { "id": "a", "scope": { "region": "110112" }, "excerpt": NUL, "category": "OTHER",
                  "period": { "start": "2024-01-01", "end": "2024-01-31" } }] } } }),
            "i.figures.caseStatistics[0].excerpt",
        ),
        (
            "mutation { grantLibraryAccess(library: \"x\", region: \"1\\u0000\", permission: READ) { id } }",
            json!({}),
            "grantLibraryAccess.region",
        ),
        ("mutation($t: String!) { addLibraryCategory(library: \"x\", name: $t) }", json!({ "t": NUL }), "t"),
    ]
}

async fn nul_in_any_argument_is_bad_input(app: TestApp) {
    let admin = admin();
    for (query, variables, path) in attempts() {
        let body = app.graphql_as(Some(&admin), query, variables).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query}: {body:#}");
        let error = only_error(&body);
        assert_eq!(
            error["message"],
            format!("{path}: must not contain the NUL character (U+0000), which cannot be stored"),
            "{query}"
        );
        assert_eq!(error["extensions"]["problems"][0]["path"], path, "{query}");
        assert!(body["data"].is_null() || body.get("data").is_none(), "{query}: {body:#}");
    }
    // Nothing of it was written.
    let count =
        app.data("{ organizations(first: 0, filter: { nameContains: \"n\" }) { totalCount } }", json!({})).await;
    assert_eq!(count["organizations"]["totalCount"], 0);
}

async fn mutations_refused_before_their_service_are_audited(app: TestApp) {
    let editor = token("tz-editor", Role::Editor, Some("110112"));
    let aliased: Vec<String> = (0..21).map(|i| format!("r{i}: removeResource(id: \"x\")")).collect();
    let many_roots = format!("mutation {{ {} }}", aliased.join(" "));
    let refused = [
        // A malformed ID (before the service could look it up).
        ("mutation { removeResource(id: \"x\") }", "removeResource", "BAD_USER_INPUT"),
        (
            "mutation { updateLibrary(id: \"x\", input: { key: \"k\", name: \"n\", ownerRegion: \"110112\", visibility: PUBLIC }) { id } }",
            "updateLibrary",
            "BAD_USER_INPUT",
        ),
        // An ID of another type.
        (
            "mutation { addLibraryCategory(library: \"UmVwb3J0OjE\", name: \"n\") }",
            "addLibraryCategory",
            "BAD_USER_INPUT",
        ),
        // A malformed ID inside the input.
        (
            "mutation { createOrganization(input: { key: \"k\", name: \"n\", kind: WOMENS_HOME, parent: \"x\" }) { id } }",
            "createOrganization",
            "BAD_USER_INPUT",
        ),
        // An unknown alliance, resolved before the service runs.
        (
            "mutation { grantLibraryAccess(library: \"UmVzb3VyY2VMaWJyYXJ5OjE\", alliance: \"nowhere\", permission: READ) { id } }",
            "grantLibraryAccess",
            "BAD_USER_INPUT",
        ),
        // Unstorable text.
        (
            "mutation { createOrganization(input: { key: \"k\\u0000\", name: \"n\", kind: WOMENS_HOME }) { id } }",
            "createOrganization",
            "BAD_USER_INPUT",
        ),
        // A document that fails validation (an argument of the wrong type).
        ("mutation { revokeLibraryGrant(grant: \"x\") { id } }", "revokeLibraryGrant", "GRAPHQL_VALIDATION_FAILED"),
        // A document over the server's limits, refused before the schema sees it.
        (&many_roots, "removeResource", "QUERY_TOO_LARGE"),
    ];
    for (query, operation, code) in refused {
        let before = audit(&app, "tz-editor").await.len();
        let body = app.graphql_as(Some(&editor), query, json!({})).await;
        assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()), "{query}: {body:#}");
        let entries = audit(&app, "tz-editor").await;
        assert_eq!(entries.len(), before + 1, "{query}: one entry more: {entries:#?}");
        let entry = &entries[0];
        assert_eq!(entry["operation"], operation, "{query}");
        assert_eq!(entry["outcome"], "FAILED", "{query}");
        assert_eq!(entry["errorCode"], code, "{query}");
        assert!(entry["detail"].as_str().is_some_and(|d| !d.is_empty()), "{query}: {entry}");
    }
    // A mutation sent over GET is refused (405) and recorded.
    let uri = "/graphql?query=mutation%20%7B%20removeResource(id%3A%20%22x%22)%20%7D";
    let request = axum::http::Request::get(uri)
        .header("authorization", format!("Bearer {editor}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.0, axum::http::StatusCode::METHOD_NOT_ALLOWED);
    let entries = audit(&app, "tz-editor").await;
    assert_eq!(
        (&entries[0]["operation"], &entries[0]["errorCode"]),
        (&json!("removeResource"), &json!("METHOD_NOT_ALLOWED"))
    );
    // Anonymous attempts with a malformed ID are recorded too.
    let body = app.graphql("mutation { removeResource(id: \"x\") }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let anonymous = audit(&app, "anonymous").await;
    assert_eq!(anonymous.len(), 1, "{anonymous:#?}");
    assert_eq!(anonymous[0]["operation"], "removeResource");
}

async fn each_attempt_is_audited_once(app: TestApp) {
    let editor = token("tz-editor", Role::Editor, Some("110112"));
    // Refused by the service (a well-formed ID of no resource; a region outside the subtree),
    // and carried out: one entry each, never one from the service and one from the guard.
    let attempts = [
        ("mutation { removeResource(id: \"UmVzb3VyY2U6OTk5OTk\") }", "FAILED"),
        (
            "mutation { createOrganization(input: { key: \"fs\", name: \"n\", kind: WOMENS_HOME, regionCode: \"110111\" }) { id } }",
            "DENIED",
        ),
        (
            "mutation { createOrganization(input: { key: \"tz\", name: \"n\", kind: WOMENS_HOME, regionCode: \"110112\" }) { id } }",
            "SUCCEEDED",
        ),
        (
            "mutation { a: createOrganization(input: { key: \"tz2\", name: \"n\", kind: WOMENS_HOME, regionCode: \"110112\" }) { id } b: removeResource(id: \"x\") }",
            "two",
        ),
    ];
    let mut expected = 0;
    for (query, outcome) in attempts {
        app.graphql_as(Some(&editor), query, json!({})).await;
        expected += if outcome == "two" { 2 } else { 1 };
        let entries = audit(&app, "tz-editor").await;
        assert_eq!(entries.len(), expected, "{query}: {entries:#?}");
        if outcome != "two" {
            assert_eq!(entries[0]["outcome"], outcome, "{query}");
        }
    }
}

async fn audit_entries_are_written_whatever_their_input(app: TestApp) {
    // Through the services directly (as an import would): a key with NUL characters and a
    // very long title; the attempt is refused and recorded, its texts made storable.
    let caller = Caller::authenticated(Principal { sub: "nul\u{0}actor".into(), role: Role::Admin, region: None });
    let submission: ReportSubmission = serde_json::from_value(json!({
        "key": format!("bad\u{0}key-{}", "x".repeat(5000)), "title": "t", "region": "110112"
    }))
    .unwrap();
    let error = app.services.submit_report(&caller, &submission).await.expect_err("refused");
    assert_eq!(error.code(), "BAD_USER_INPUT");
    let entries = audit(&app, "nul\u{FFFD}actor").await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let target = entries[0]["target"].as_str().unwrap();
    assert!(target.starts_with("report key=bad\u{FFFD}key-xxx"), "{target}");
    assert!(
        target.ends_with('…') && target.chars().count() == 500,
        "cut to 500 characters: {}",
        target.chars().count()
    );
    assert_eq!(entries[0]["outcome"], "FAILED");
}
