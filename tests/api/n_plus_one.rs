//! A nested query costs a number of SQL statements bounded by its depth, not by its rows.

use serde_json::json;

use crate::common::{TestApp, admin};
use crate::on_both_backends;

on_both_backends!(nested_query_statement_count_does_not_grow_with_rows);

/// 100 organizations → region → parent region → its parent, alliance memberships and their
/// members; parent organization → its region; children; provenance → report → its region.
const NESTED: &str = r#"query($n: Int, $parent: ID) { organizations(first: $n, filter: { parent: $parent }) { edges { node {
    name
    region { name parent { name parent { name } } alliances { slug members { code } } }
    parent { name region { name } }
    children { name }
    sources { excerpt report { title region { name } } }
} } } }"#;

async fn statements_for(app: &TestApp, n: usize, parent: &serde_json::Value) -> u64 {
    let before = app.store.statements();
    let data = app.data(NESTED, json!({ "n": n, "parent": parent })).await;
    let edges = data["organizations"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), n);
    assert!(edges.iter().all(|e| e["node"]["region"]["parent"]["name"] == "北京市"));
    assert!(edges.iter().any(|e| e["node"]["region"]["alliances"][0]["slug"] == "tongwulang"));
    app.store.statements() - before
}

async fn nested_query_statement_count_does_not_grow_with_rows(app: TestApp) {
    // Fixture: 100 women's homes under one new association under 通州区妇联, alternately in 通州
    // and 房山, so every page of them exercises every nested field alike.
    let county = app.data(r#"{ organizations(filter: { region: "110112", kind: FEDERATION, sector: TERRITORIAL }) { edges { node { id } } } }"#, json!({})).await
        ["organizations"]["edges"][0]["node"]["id"]
        .clone();
    let parent = app
        .data_as(
            Some(&admin()),
            "mutation($input: OrganizationInput!) { createOrganization(input: $input) { id } }",
            json!({ "input": { "key": "homes-network", "name": "妇女之家联络网", "kind": "ASSOCIATION", "regionCode": "110112", "parent": county } }),
        )
        .await["createOrganization"]["id"]
        .clone();
    let counties = ["110112", "110111"];
    for i in 0..100 {
        let input = json!({ "key": format!("home-{i}"), "name": format!("妇女之家 {i}"), "kind": "WOMENS_HOME",
                            "regionCode": counties[i % 2], "parent": parent });
        app.data_as(
            Some(&admin()),
            "mutation($input: OrganizationInput!) { createOrganization(input: $input) { id } }",
            json!({ "input": input }),
        )
        .await;
    }
    let ten = statements_for(&app, 10, &parent).await;
    let hundred = statements_for(&app, 100, &parent).await;
    assert_eq!(ten, hundred, "10 organizations took {ten} statements, 100 took {hundred}");
    // The list and its count, then one batch per distinct loader per level of nesting.
    assert!(hundred <= 12, "{hundred} statements");
}
