//! Alliances, their members and agreements.

use serde_json::json;

use crate::common::{TestApp, error_code};
use crate::on_both_backends;

on_both_backends!(tongwulang_has_its_members_and_agreement, alliances_are_listed_by_slug, regions_know_their_alliances);

async fn tongwulang_has_its_members_and_agreement(app: TestApp) {
    let data = app
        .data(
            r#"{ alliance(slug: "tongwulang") { name kind members { code name }
                   agreements { title signedOn parties { code } alliance { slug } sources { excerpt report { key } } }
                   sources { excerpt } } }"#,
            json!({}),
        )
        .await;
    let alliance = &data["alliance"];
    assert_eq!(alliance["name"], "通武廊");
    assert_eq!(alliance["kind"], "REGIONAL_COOPERATION");
    assert_eq!(
        alliance["members"],
        json!([
            { "code": "110112", "name": "通州区" },
            { "code": "120114", "name": "武清区" },
            { "code": "131000", "name": "廊坊市" },
        ])
    );
    let agreement = &alliance["agreements"][0];
    assert_eq!(agreement["title"], "推进通武廊协同发展合作书");
    assert_eq!(agreement["signedOn"], json!(null), "the report gives no date");
    assert_eq!(agreement["parties"].as_array().unwrap().len(), 3);
    assert_eq!(agreement["alliance"]["slug"], "tongwulang");
    assert!(agreement["sources"][0]["excerpt"].as_str().unwrap().contains("合作书"));
    assert_eq!(agreement["sources"][0]["report"]["key"], "tongzhou-five-year-review");
    assert!(!alliance["sources"].as_array().unwrap().is_empty());
}

async fn alliances_are_listed_by_slug(app: TestApp) {
    let data = app.data("{ alliances { slug kind } }", json!({})).await;
    let slugs: Vec<&str> = data["alliances"].as_array().unwrap().iter().map(|a| a["slug"].as_str().unwrap()).collect();
    let mut sorted = slugs.clone();
    sorted.sort();
    assert_eq!(slugs, sorted);
    assert!(slugs.contains(&"jingjinji") && slugs.contains(&"tongzhou-pairing-assistance"));
    let body = app.graphql(r#"{ alliance(slug: "nowhere") { name } }"#, json!({})).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(body["data"]["alliance"], json!(null));
}

async fn regions_know_their_alliances(app: TestApp) {
    let data = app.data(r#"{ region(code: "110112") { alliances { slug } } }"#, json!({})).await;
    let slugs: Vec<&str> =
        data["region"]["alliances"].as_array().unwrap().iter().map(|a| a["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["tongwulang", "tongzhou-pairing-assistance"]);
}
