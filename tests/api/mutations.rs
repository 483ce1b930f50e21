//! Writing organizations: validation with every problem listed, idempotent creation,
//! conflicts, updates that keep the tree a tree.

use serde_json::{Value, json};

use crate::common::{TestApp, admin, error_code, only_error};
use crate::on_both_backends;

on_both_backends!(
    create_is_validated_and_idempotent,
    invalid_input_lists_every_problem_and_writes_nothing,
    update_replaces_fields_but_not_the_key,
    update_refuses_cycles,
);

const CREATE: &str = r#"mutation($input: OrganizationInput!) { createOrganization(input: $input) {
    id key name shortName kind sector region { code } parent { key } foundedOn foundedPrecision
    memberCount { value qualifier } } }"#;
const UPDATE: &str = r#"mutation($id: ID!, $input: OrganizationInput!) { updateOrganization(id: $id, input: $input) {
    id key name parent { key } memberCount { value qualifier } } }"#;

async fn id_of(app: &TestApp, key: &str) -> Value {
    let data = app
        .data("{ organizations(first: 100, filter: { region: \"110112\" }) { edges { node { id key } } } }", json!({}))
        .await;
    data["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["key"] == key)
        .map(|e| e["node"]["id"].clone())
        .unwrap_or_else(|| panic!("no organization {key}"))
}

fn input(parent: &Value) -> Value {
    json!({
        "key": "110112-liyuan-new-home",
        "name": "梨园镇新建妇女之家",
        "shortName": "新妇女之家",
        "kind": "WOMENS_HOME",
        "sector": "COMMUNITY",
        "regionCode": "110112-liyuan",
        "parent": parent,
        "founded": { "date": "2024-05-01", "precision": "MONTH" },
        "memberCount": { "value": 120, "qualifier": "AT_LEAST" },
    })
}

async fn count(app: &TestApp) -> i64 {
    app.data("{ organizations(first: 0) { totalCount } }", json!({})).await["organizations"]["totalCount"]
        .as_i64()
        .unwrap()
}

async fn create_is_validated_and_idempotent(app: TestApp) {
    let before = count(&app).await;
    let parent = id_of(&app, "fed-110112").await;
    let created =
        app.data_as(Some(&admin()), CREATE, json!({ "input": input(&parent) })).await["createOrganization"].clone();
    assert_eq!(created["region"]["code"], "110112-liyuan");
    assert_eq!(created["parent"]["key"], "fed-110112");
    assert_eq!(created["foundedOn"], "2024-05-01");
    assert_eq!(created["foundedPrecision"], "MONTH");
    assert_eq!(created["memberCount"], json!({ "value": 120, "qualifier": "AT_LEAST" }));
    assert_eq!(count(&app).await, before + 1);
    // The same submission again: the same organization, nothing new.
    let again =
        app.data_as(Some(&admin()), CREATE, json!({ "input": input(&parent) })).await["createOrganization"].clone();
    assert_eq!(again, created);
    assert_eq!(count(&app).await, before + 1);
    // The same key with other data: a conflict, nothing changed.
    let mut changed = input(&parent);
    changed["name"] = json!("另一个名字");
    let body = app.graphql_as(Some(&admin()), CREATE, json!({ "input": changed })).await;
    assert_eq!(error_code(&body), "CONFLICT");
    let node = app
        .data("query($id: ID!) { node(id: $id) { ... on Organization { name } } }", json!({ "id": created["id"] }))
        .await;
    assert_eq!(node["node"]["name"], "梨园镇新建妇女之家");
}

async fn invalid_input_lists_every_problem_and_writes_nothing(app: TestApp) {
    let before = count(&app).await;
    let body = app
        .graphql_as(
            Some(&admin()),
            CREATE,
            json!({ "input": {
                "key": "Not A Key",
                "name": "  ",
                "kind": "OTHER",
                "regionCode": "119999",
                "parent": "T3JnYW5pemF0aW9uOjk5OTk5",
                "founded": { "date": "2999-01-15", "precision": "YEAR" },
                "memberCount": { "value": -3 },
            } }),
        )
        .await;
    let error = only_error(&body);
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let paths: Vec<&str> =
        error["extensions"]["problems"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "input.key",
            "input.name",
            "input.regionCode",
            "input.parent",
            "input.founded.date",
            "input.founded.date",
            "input.memberCount.value",
        ]
    );
    assert_eq!(count(&app).await, before);
    // A date that is not a date is refused by the schema itself.
    let body = app
        .graphql_as(
            Some(&admin()),
            CREATE,
            json!({ "input": { "key": "k", "name": "n", "kind": "OTHER", "founded": { "date": "2013-02-30" } } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

async fn update_replaces_fields_but_not_the_key(app: TestApp) {
    let parent = id_of(&app, "fed-110112").await;
    let created =
        app.data_as(Some(&admin()), CREATE, json!({ "input": input(&parent) })).await["createOrganization"].clone();
    let mut next = input(&parent);
    next["name"] = json!("梨园镇妇女之家（更名）");
    next["memberCount"] = json!({ "value": 150 });
    let updated =
        app.data_as(Some(&admin()), UPDATE, json!({ "id": created["id"], "input": next })).await["updateOrganization"]
            .clone();
    assert_eq!(updated["name"], "梨园镇妇女之家（更名）");
    assert_eq!(updated["memberCount"], json!({ "value": 150, "qualifier": "EXACT" }));
    let mut rekeyed = next.clone();
    rekeyed["key"] = json!("other-key");
    let body = app.graphql_as(Some(&admin()), UPDATE, json!({ "id": created["id"], "input": rekeyed })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app.graphql_as(Some(&admin()), UPDATE, json!({ "id": "T3JnYW5pemF0aW9uOjk5OTk5", "input": next })).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}

async fn update_refuses_cycles(app: TestApp) {
    // 台湖镇妇联 sits under 通州区妇联; making 通州区妇联 a child of it would close a loop.
    let county = id_of(&app, "fed-110112").await;
    let township = app
        .data(
            r#"{ organizations(filter: { region: "110112-taihu", kind: FEDERATION }) { edges { node { id } } } }"#,
            json!({}),
        )
        .await["organizations"]["edges"][0]["node"]["id"]
        .clone();
    let current = app
        .data(
            "query($id: ID!) { organization(id: $id) { key name shortName kind sector region { code } } }",
            json!({ "id": county }),
        )
        .await["organization"]
        .clone();
    let input = json!({
        "key": current["key"], "name": current["name"], "shortName": current["shortName"], "kind": current["kind"],
        "sector": current["sector"], "regionCode": current["region"]["code"], "parent": township,
    });
    let body = app.graphql_as(Some(&admin()), UPDATE, json!({ "id": county, "input": input })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(only_error(&body)["extensions"]["problems"][0]["path"], "input.parent");
    let mut own = input.clone();
    own["parent"] = county.clone();
    let body = app.graphql_as(Some(&admin()), UPDATE, json!({ "id": county, "input": own })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let after = app.data("query($id: ID!) { organization(id: $id) { parent { key } } }", json!({ "id": county })).await;
    assert_eq!(after["organization"]["parent"]["key"], "fed-110000", "the parent is unchanged");
}
