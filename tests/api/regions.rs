//! The region hierarchy: lookups, parents and ancestors, children, descendants, filters, paging.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::on_both_backends;

on_both_backends!(
    region_has_its_place_in_the_hierarchy,
    township_ancestors_reach_the_province,
    regions_filter_by_level_and_parent,
    descendants_filter_by_level,
    regions_page_through_to_the_last_page,
    region_names_its_sources,
);

fn names(list: &Value) -> Vec<&str> {
    list.as_array().expect("a list").iter().map(|r| r["name"].as_str().unwrap()).collect()
}

async fn region_has_its_place_in_the_hierarchy(app: TestApp) {
    let data = app
        .data(
            r#"{ region(code: "110112") { code name level parent { code name level } children { code name level } } }"#,
            json!({}),
        )
        .await;
    let region = &data["region"];
    assert_eq!(region["name"], "通州区");
    assert_eq!(region["level"], "COUNTY");
    assert_eq!(region["parent"], json!({ "code": "110000", "name": "北京市", "level": "PROVINCE" }));
    let children = region["children"].as_array().unwrap();
    // The 通州 towns and streets the reports name, ordered by code, all one level down.
    assert!(names(&region["children"]).contains(&"梨园镇"));
    assert!(names(&region["children"]).contains(&"中仓街道"));
    // Towns and streets; a community whose street the report does not name hangs off the county.
    assert!(children.iter().all(|c| c["level"] == "TOWNSHIP" || c["level"] == "VILLAGE"));
    assert!(children.iter().filter(|c| c["level"] == "TOWNSHIP").count() >= 10);
    let codes: Vec<&str> = children.iter().map(|c| c["code"].as_str().unwrap()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted, "children are ordered by code");
}

async fn township_ancestors_reach_the_province(app: TestApp) {
    let data = app
        .data(r#"{ region(code: "110112-liyuan-weijiafen") { name level ancestors { code level } } }"#, json!({}))
        .await;
    assert_eq!(data["region"]["name"], "魏家坟村");
    assert_eq!(data["region"]["level"], "VILLAGE");
    assert_eq!(
        data["region"]["ancestors"],
        json!([
            { "code": "110000", "level": "PROVINCE" },
            { "code": "110112", "level": "COUNTY" },
            { "code": "110112-liyuan", "level": "TOWNSHIP" },
        ])
    );
    // Every region of the dataset reaches a province.
    let data = app
        .data(r#"{ regions(first: 100) { totalCount edges { node { level ancestors { level } } } } }"#, json!({}))
        .await;
    for edge in data["regions"]["edges"].as_array().unwrap() {
        let node = &edge["node"];
        let top = node["ancestors"].as_array().unwrap().first().map_or(&node["level"], |a| &a["level"]);
        assert_eq!(top, "PROVINCE", "{node}");
    }
}

async fn regions_filter_by_level_and_parent(app: TestApp) {
    let data = app
        .data(
            r#"{ provinces: regions(filter: { level: PROVINCE }, first: 100) { totalCount edges { node { code } } }
                 hebei: regions(filter: { parent: "130000" }) { edges { node { code name } } }
                 named: regions(filter: { nameContains: "街道", ancestor: "440307" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    let provinces: Vec<&str> =
        data["provinces"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["code"].as_str().unwrap()).collect();
    assert!(provinces.iter().all(|c| c.ends_with("0000")), "{provinces:?}");
    assert!(provinces.contains(&"110000") && provinces.contains(&"540000"));
    assert_eq!(data["provinces"]["totalCount"], provinces.len());
    assert_eq!(
        data["hebei"]["edges"],
        json!([{ "node": { "code": "130900", "name": "沧州市" } }, { "node": { "code": "131000", "name": "廊坊市" } }])
    );
    // 龙岗区's streets named in the feature: 吉华, 布吉, 园山, 坂田, 横岗, 南湾.
    assert_eq!(data["named"]["totalCount"], 6);
}

async fn descendants_filter_by_level(app: TestApp) {
    let data = app
        .data(
            r#"{ region(code: "110000") {
                   counties: descendants(level: COUNTY) { totalCount edges { node { name } } }
                   villages: descendants(level: VILLAGE, first: 100) { edges { node { level ancestors { code } } } }
                   all: descendants(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage } } } }"#,
            json!({}),
        )
        .await;
    let region = &data["region"];
    let counties: Vec<&str> =
        region["counties"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["name"].as_str().unwrap()).collect();
    assert_eq!(counties, ["房山区", "通州区"]);
    for edge in region["villages"]["edges"].as_array().unwrap() {
        assert_eq!(edge["node"]["level"], "VILLAGE");
        assert_eq!(edge["node"]["ancestors"][0]["code"], "110000");
    }
    assert!(region["all"]["totalCount"].as_i64().unwrap() > 30);
    assert_eq!(region["all"]["edges"], json!([]));
    assert_eq!(region["all"]["pageInfo"]["hasNextPage"], true);
}

async fn regions_page_through_to_the_last_page(app: TestApp) {
    let query = r#"query($after: String) { regions(first: 30, after: $after) {
        totalCount edges { cursor node { code } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"#;
    let mut after = Value::Null;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let data = app.data(query, json!({ "after": after })).await;
        let conn = &data["regions"];
        let edges = conn["edges"].as_array().unwrap();
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], pages > 0);
        assert_eq!(conn["pageInfo"]["startCursor"], edges[0]["cursor"]);
        assert_eq!(conn["pageInfo"]["endCursor"], edges.last().unwrap()["cursor"]);
        seen.extend(edges.iter().map(|e| e["node"]["code"].as_str().unwrap().to_owned()));
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] == false {
            assert_eq!(seen.len() as i64, conn["totalCount"].as_i64().unwrap(), "the pages cover every region once");
            break;
        }
        assert_eq!(edges.len(), 30, "only the last page may be short");
        after = conn["pageInfo"]["endCursor"].clone();
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "stable order by code, no repeats across pages");
    assert!(pages >= 3);
}

async fn region_names_its_sources(app: TestApp) {
    let data = app
        .data(
            r#"{ named: region(code: "110111") { sources { excerpt report { key sourceFile } } }
                 filled: region(code: "150400") { name sources { excerpt } } }"#,
            json!({}),
        )
        .await;
    let sources = data["named"]["sources"].as_array().unwrap();
    assert!(sources.iter().any(|s| s["excerpt"].as_str().unwrap().contains("房山")), "{sources:?}");
    for s in sources {
        assert!(!s["excerpt"].as_str().unwrap().is_empty(), "{s}");
        assert_eq!(s["report"]["sourceFile"], "004_7e4d882c0cb740e8.txt");
    }
    // 赤峰市 is filled in as 翁牛特旗's parent; no report names it.
    assert_eq!(data["filled"], json!({ "name": "赤峰市", "sources": [] }));
}
