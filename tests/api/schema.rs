//! The schema: checked in, documented everywhere, migrations in step.

use fulian_graph::graphql;
use serde_json::{Value, json};

use crate::common::TestApp;

/// `schema.graphql` is what the code builds. Regenerate with
/// `cargo run -- export-schema > schema.graphql`.
#[test]
fn checked_in_schema_matches_the_code() {
    let checked_in = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(checked_in == graphql::sdl(), "schema.graphql is stale: run `cargo run -- export-schema > schema.graphql`");
}

#[test]
fn migration_sets_stay_in_lock_step() {
    let (sqlite, postgres) = fulian_graph::store::migration_versions();
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must have the same versions");
}

/// Every type, field, argument, input field and enum value has a description.
#[tokio::test]
async fn everything_is_described() {
    let app = TestApp::sqlite().await;
    let data = app
        .data(
            r#"{ __schema { types { name description
                 fields { name description args { name description } }
                 inputFields { name description }
                 enumValues { name description } } } }"#,
            json!({}),
        )
        .await;
    let described = |v: &Value| v["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    let mut missing = Vec::new();
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        // `_Service`, `_Entity`, `_Any`: the Apollo Federation specification's types.
        if name.starts_with('_') || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        if !described(t) {
            missing.push(name.to_owned());
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            // `_service` and `_entities` are defined by the Apollo Federation specification.
            if f["name"].as_str().is_some_and(|n| n.starts_with('_')) {
                continue;
            }
            if !described(f) {
                missing.push(format!("{name}.{}", f["name"]));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if !described(a) {
                    missing.push(format!("{name}.{}({})", f["name"], a["name"]));
                }
            }
        }
        for list in ["inputFields", "enumValues"] {
            for f in t[list].as_array().into_iter().flatten() {
                if !described(f) {
                    missing.push(format!("{name}.{}", f["name"]));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}
