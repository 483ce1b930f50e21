//! Who may write what: roles, regions, the audit log. Refused writes change nothing and are
//! recorded.

use fulian_graph::domain::access::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, admin, error_code, only_error, token};
use crate::on_both_backends;

on_both_backends!(
    anonymous_and_viewers_cannot_write,
    editors_write_only_in_their_region_subtree,
    admins_write_anywhere_and_read_the_audit_log,
    audit_log_is_for_admins_only,
);

const CREATE: &str =
    r#"mutation($input: OrganizationInput!) { createOrganization(input: $input) { id key region { code } } }"#;
const UPDATE: &str = r#"mutation($id: ID!, $input: OrganizationInput!) { updateOrganization(id: $id, input: $input) { id region { code } } }"#;
const AUDIT: &str = r#"query($filter: AuditLogFilter) { auditLog(filter: $filter, first: 50) { totalCount
    edges { node { actor actorRole actorRegion operation target outcome errorCode detail occurredAt } } } }"#;

fn home(key: &str, region: Option<&str>) -> Value {
    json!({ "key": key, "name": format!("测试妇女之家 {key}"), "kind": "WOMENS_HOME", "regionCode": region })
}

async fn organization_count(app: &TestApp) -> i64 {
    app.data("{ organizations(first: 0) { totalCount } }", json!({})).await["organizations"]["totalCount"]
        .as_i64()
        .unwrap()
}

async fn audit(app: &TestApp, actor: &str) -> Vec<Value> {
    let data = app.data_as(Some(&admin()), AUDIT, json!({ "filter": { "actor": actor } })).await;
    data["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

async fn id_of(app: &TestApp, key: &str, region: &str) -> Value {
    let data = app
        .data(
            "query($r: String) { organizations(first: 100, filter: { region: $r }) { edges { node { id key } } } }",
            json!({ "r": region }),
        )
        .await;
    data["organizations"]["edges"].as_array().unwrap().iter().find(|e| e["node"]["key"] == key).unwrap()["node"]["id"]
        .clone()
}

async fn anonymous_and_viewers_cannot_write(app: TestApp) {
    let before = organization_count(&app).await;
    let body = app.graphql(CREATE, json!({ "input": home("anon-home", Some("110112")) })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let viewer = token("wang", Role::Viewer, Some("110112"));
    let body = app.graphql_as(Some(&viewer), CREATE, json!({ "input": home("viewer-home", Some("110112")) })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(organization_count(&app).await, before, "nothing was written");
    // Both refusals are in the audit log.
    let anonymous = audit(&app, "anonymous").await;
    assert_eq!(anonymous.len(), 1);
    assert_eq!(anonymous[0]["outcome"], "DENIED");
    assert_eq!(anonymous[0]["errorCode"], "UNAUTHENTICATED");
    assert_eq!(anonymous[0]["operation"], "createOrganization");
    assert_eq!(anonymous[0]["target"], "organization key=anon-home");
    let viewer = audit(&app, "wang").await;
    assert_eq!(viewer[0]["outcome"], "DENIED");
    assert_eq!(viewer[0]["actorRole"], "VIEWER");
    assert_eq!(viewer[0]["actorRegion"], "110112");
    // Reading stays open to both.
    app.data(r#"{ region(code: "110112") { name } }"#, json!({})).await;
}

async fn editors_write_only_in_their_region_subtree(app: TestApp) {
    let editor = token("li", Role::Editor, Some("110112"));
    let before = organization_count(&app).await;
    // In a town of 通州: allowed.
    let created =
        app.data_as(Some(&editor), CREATE, json!({ "input": home("liyuan-home", Some("110112-liyuan")) })).await;
    assert_eq!(created["createOrganization"]["region"]["code"], "110112-liyuan");
    // In 房山, or without a region: refused, nothing written.
    for (key, region) in [("fangshan-home", Some("110111")), ("nowhere-home", None)] {
        let body = app.graphql_as(Some(&editor), CREATE, json!({ "input": home(key, region) })).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    assert_eq!(organization_count(&app).await, before + 1);
    // Updating 房山区妇联, or moving an own organization out of 通州: refused, unchanged.
    let fangshan = id_of(&app, "fed-110111", "110111").await;
    let input = json!({ "key": "fed-110111", "name": "改名", "kind": "FEDERATION", "regionCode": "110111" });
    let body = app.graphql_as(Some(&editor), UPDATE, json!({ "id": fangshan, "input": input })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let own = created["createOrganization"]["id"].clone();
    let body =
        app.graphql_as(Some(&editor), UPDATE, json!({ "id": own, "input": home("liyuan-home", Some("110111")) })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert!(only_error(&body)["message"].as_str().unwrap().contains("outside region 110112"));
    let check = app.data("query($id: ID!) { organization(id: $id) { region { code } } }", json!({ "id": own })).await;
    assert_eq!(check["organization"]["region"]["code"], "110112-liyuan");
    // Within the subtree: allowed.
    let moved = app
        .data_as(Some(&editor), UPDATE, json!({ "id": own, "input": home("liyuan-home", Some("110112-taihu")) }))
        .await;
    assert_eq!(moved["updateOrganization"]["region"]["code"], "110112-taihu");
    // An editor whose token names no region can write nothing.
    let unplaced = token("zhao", Role::Editor, None);
    let body = app.graphql_as(Some(&unplaced), CREATE, json!({ "input": home("zhao-home", Some("110112")) })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    // The log tells the story: 2 successes and 3 refusals by li.
    let entries = audit(&app, "li").await;
    let outcomes: Vec<&str> = entries.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        ["SUCCEEDED", "DENIED", "DENIED", "DENIED", "DENIED", "SUCCEEDED"],
        "newest first: {entries:#?}"
    );
}

async fn admins_write_anywhere_and_read_the_audit_log(app: TestApp) {
    let admin = admin();
    for (key, region) in [("admin-fangshan", Some("110111")), ("admin-national", None)] {
        app.data_as(Some(&admin), CREATE, json!({ "input": home(key, region) })).await;
    }
    // A failed write (bad input) is recorded as FAILED with its code.
    let body = app.graphql_as(Some(&admin), CREATE, json!({ "input": home("Bad Key", Some("110111")) })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let entries = audit(&app, "admin").await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["outcome"], "FAILED");
    assert_eq!(entries[0]["errorCode"], "BAD_USER_INPUT");
    assert!(entries[1]["target"].as_str().unwrap().contains("key=admin-national"));
    assert_eq!(entries[1]["outcome"], "SUCCEEDED");
    assert!(entries[1]["occurredAt"].as_str().unwrap().contains('T'));
    let failed = app.data_as(Some(&admin), AUDIT, json!({ "filter": { "outcome": "FAILED" } })).await;
    assert_eq!(failed["auditLog"]["totalCount"], 1);
}

async fn audit_log_is_for_admins_only(app: TestApp) {
    let body = app.graphql(AUDIT, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    for role in [Role::Viewer, Role::Editor] {
        let body = app.graphql_as(Some(&token("x", role, Some("110112"))), AUDIT, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN");
    }
}
