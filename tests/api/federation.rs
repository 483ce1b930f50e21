//! The Apollo Federation v2 subgraph: `_service { sdl }` with the entity keys, and `_entities`
//! resolving representations through the DataLoaders.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::on_both_backends;

on_both_backends!(service_sdl_declares_the_entity_keys, entities_resolve_in_batches);

async fn service_sdl_declares_the_entity_keys(app: TestApp) {
    let sdl = app.data("{ _service { sdl } }", json!({})).await["_service"]["sdl"].as_str().unwrap().to_owned();
    assert!(sdl.contains("url: \"https://specs.apollo.dev/federation/v2"), "federation v2 link");
    for key in [
        "type Region implements Node @key(fields: \"code\")",
        "type Organization implements Node @key(fields: \"id\")",
        "type Report implements Node @key(fields: \"id\")",
        "type Alliance implements Node @key(fields: \"slug\")",
        "type ResourceLibrary implements Node @key(fields: \"id\")",
    ] {
        assert!(sdl.contains(key), "{key} missing from the subgraph SDL");
    }
}

const ENTITIES: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
    __typename ... on Region { code name parent { name } } ... on Organization { name region { code } }
    ... on Alliance { name } ... on Report { title } } }"#;

async fn entities(app: &TestApp, representations: Value) -> (Vec<Value>, u64) {
    let before = app.store.statements();
    let data = app.data(ENTITIES, json!({ "r": representations })).await;
    (data["_entities"].as_array().unwrap().clone(), app.store.statements() - before)
}

async fn entities_resolve_in_batches(app: TestApp) {
    let org = app
        .data(r#"{ organizations(first: 1, filter: { region: "110112" }) { edges { node { id name } } } }"#, json!({}))
        .await["organizations"]["edges"][0]["node"]
        .clone();
    let report = app.data("{ reports(first: 1) { edges { node { id title } } } }", json!({})).await["reports"]["edges"]
        [0]["node"]
        .clone();
    let (found, _) = entities(
        &app,
        json!([
            { "__typename": "Region", "code": "110112" },
            { "__typename": "Organization", "id": org["id"] },
            { "__typename": "Alliance", "slug": "tongwulang" },
            { "__typename": "Report", "id": report["id"] },
            { "__typename": "Region", "code": "999999" },
        ]),
    )
    .await;
    assert_eq!(
        found[0],
        json!({ "__typename": "Region", "code": "110112", "name": "通州区", "parent": { "name": "北京市" } })
    );
    assert_eq!(found[1]["name"], org["name"]);
    assert_eq!(found[1]["region"]["code"], "110112");
    assert_eq!(found[2]["name"], "通武廊");
    assert_eq!(found[3]["title"], report["title"]);
    assert_eq!(found[4], Value::Null, "an unknown key resolves to null");

    // Representations are batched: 2 regions or all of them cost the same statements.
    let regions = app.data("{ regions(first: 60) { edges { node { code } } } }", json!({})).await["regions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!({ "__typename": "Region", "code": e["node"]["code"] }))
        .collect::<Vec<_>>();
    let (two, few) = entities(&app, json!(regions[..2])).await;
    let (all, many) = entities(&app, json!(regions)).await;
    assert_eq!(two.len(), 2);
    assert_eq!(all.len(), 60);
    assert!(all.iter().all(|r| r["name"].is_string()));
    assert_eq!(few, many, "2 representations took {few} statements, 60 took {many}");
}
