//! Reports and provenance: every record traces back to a report and an excerpt.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::on_both_backends;

on_both_backends!(reports_describe_their_source, report_by_id_and_filters, node_fetches_every_type);

async fn reports_describe_their_source(app: TestApp) {
    let data = app
        .data(
            r#"{ reports(first: 10) { totalCount edges { node { id key title publisher publishedOn
                   periodStart periodEnd periodNote sourceFile region { code } } } } }"#,
            json!({}),
        )
        .await;
    let reports = data["reports"]["edges"].as_array().unwrap();
    assert_eq!(data["reports"]["totalCount"], 5);
    let yearbook = reports.iter().map(|e| &e["node"]).find(|r| r["key"] == "tongzhou-yearbook-2013").unwrap();
    assert_eq!(yearbook["publishedOn"], "2015-01-26");
    assert_eq!(yearbook["periodStart"], "2013-01-01");
    assert_eq!(yearbook["periodEnd"], "2013-12-31");
    assert_eq!(yearbook["sourceFile"], "001_f0578e235b7365cb.txt");
    assert_eq!(yearbook["region"]["code"], "110112");
    for report in reports {
        assert!(report["node"]["periodNote"].as_str().is_some_and(|n| !n.is_empty()), "{report}");
    }
}

async fn report_by_id_and_filters(app: TestApp) {
    let data = app
        .data(
            r#"{ reports(filter: { region: "110000", includeDescendants: true }) { edges { node { id key } } } }"#,
            json!({}),
        )
        .await;
    let keys: Vec<&str> =
        data["reports"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["tongzhou-five-year-review", "tongzhou-yearbook-2013", "fangshan-good-neighbour-feature"]);
    let direct = app.data(r#"{ reports(filter: { region: "110000" }) { totalCount } }"#, json!({})).await;
    assert_eq!(direct["reports"]["totalCount"], 0, "no report is about Beijing as a whole");
    let id = data["reports"]["edges"][2]["node"]["id"].clone();
    let data = app.data("query($id: ID!) { report(id: $id) { title region { name } } }", json!({ "id": id })).await;
    assert!(data["report"]["title"].as_str().unwrap().contains("巾帼好邻居"));
    assert_eq!(data["report"]["region"]["name"], "房山区");
    let titled =
        app.data(r#"{ reports(filter: { titleContains: "十四五" }) { edges { node { key } } } }"#, json!({})).await;
    assert_eq!(titled["reports"]["edges"], json!([{ "node": { "key": "longgang-14th-five-year-feature" } }]));
}

async fn node_fetches_every_type(app: TestApp) {
    let data = app
        .data(
            r#"{ region(code: "131000") { id } alliance(slug: "tongwulang") { id agreements { id } }
                 organizations(first: 1) { edges { node { id } } } reports(first: 1) { edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    let ids: Vec<(Value, &str)> = vec![
        (data["region"]["id"].clone(), "Region"),
        (data["alliance"]["id"].clone(), "Alliance"),
        (data["alliance"]["agreements"][0]["id"].clone(), "Agreement"),
        (data["organizations"]["edges"][0]["node"]["id"].clone(), "Organization"),
        (data["reports"]["edges"][0]["node"]["id"].clone(), "Report"),
    ];
    for (id, typename) in ids {
        let node = app.data("query($id: ID!) { node(id: $id) { __typename id } }", json!({ "id": id })).await;
        assert_eq!(node["node"], json!({ "__typename": typename, "id": id }));
    }
}
