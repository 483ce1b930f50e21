//! Organizations: lookups, filters, the organization tree, paging.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::on_both_backends;

on_both_backends!(
    organization_by_id_with_its_relations,
    filter_by_region_with_and_without_descendants,
    filter_by_kind_sector_and_name,
    organizations_page_in_stable_order,
    reported_counts_keep_their_qualifier,
);

const PAGE: &str = r#"query($filter: OrganizationFilter, $first: Int, $after: String) {
    organizations(filter: $filter, first: $first, after: $after) {
        totalCount edges { cursor node { id key name kind sector region { code } } }
        pageInfo { hasNextPage hasPreviousPage endCursor } } }"#;

fn keys(conn: &Value) -> Vec<String> {
    conn["edges"].as_array().unwrap().iter().map(|e| e["node"]["key"].as_str().unwrap().to_owned()).collect()
}

async fn organization_by_id_with_its_relations(app: TestApp) {
    let data = app.data(PAGE, json!({ "filter": { "nameContains": "联东集团妇委会" } })).await;
    let id = data["organizations"]["edges"][0]["node"]["id"].clone();
    let data = app
        .data(
            r#"query($id: ID!) { organization(id: $id) { name kind foundedOn foundedPrecision
                 parent { name } children { name kind } region { name } sources { excerpt report { key } } } }"#,
            json!({ "id": id }),
        )
        .await;
    let org = &data["organization"];
    assert_eq!(org["kind"], "WOMENS_COMMITTEE");
    assert_eq!(org["region"]["name"], "通州区");
    // The 2013 yearbook dates the committee and its women's home to 3 March.
    assert_eq!(org["foundedOn"], "2013-03-04");
    assert_eq!(org["foundedPrecision"], "DAY");
    assert!(org["children"].as_array().unwrap().iter().any(|c| c["kind"] == "WOMENS_HOME"), "{org}");
    for source in org["sources"].as_array().unwrap() {
        assert_eq!(source["report"]["key"], "tongzhou-yearbook-2013");
    }
    // A federation of a township has the county federation as parent, and the county lists it.
    let data = app
        .data(
            r#"{ organizations(filter: { region: "110112", kind: FEDERATION, sector: TERRITORIAL }) {
                   edges { node { key children { key region { code } } } } } }"#,
            json!({}),
        )
        .await;
    let county = &data["organizations"]["edges"][0]["node"];
    assert_eq!(county["key"], "fed-110112");
    assert!(county["children"].as_array().unwrap().iter().any(|c| c["key"] == "fed-110112-taihu"), "{county}");
}

async fn filter_by_region_with_and_without_descendants(app: TestApp) {
    let own = app.data(PAGE, json!({ "filter": { "region": "110112" }, "first": 100 })).await;
    let all =
        app.data(PAGE, json!({ "filter": { "region": "110112", "includeDescendants": true }, "first": 100 })).await;
    let own_regions: Vec<&str> = own["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["region"]["code"].as_str().unwrap())
        .collect();
    assert!(own_regions.iter().all(|c| *c == "110112"));
    let all_regions: Vec<&str> = all["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["region"]["code"].as_str().unwrap())
        .collect();
    assert!(all_regions.iter().all(|c| c.starts_with("110112")));
    assert!(all_regions.iter().any(|c| c.starts_with("110112-")), "descendants are included");
    let (own_total, all_total) =
        (own["organizations"]["totalCount"].as_i64().unwrap(), all["organizations"]["totalCount"].as_i64().unwrap());
    assert!(own_total > 0 && all_total > own_total);
    assert_eq!(all_total as usize, all_regions.len());
    // Beijing with descendants holds 通州 and 房山 and everything below them.
    let beijing =
        app.data(PAGE, json!({ "filter": { "region": "110000", "includeDescendants": true }, "first": 0 })).await;
    assert!(beijing["organizations"]["totalCount"].as_i64().unwrap() > all_total);
}

async fn filter_by_kind_sector_and_name(app: TestApp) {
    let coops = app.data(PAGE, json!({ "filter": { "kind": ["COOPERATIVE"] }, "first": 100 })).await;
    let edges = coops["organizations"]["edges"].as_array().unwrap();
    assert!(edges.len() >= 3);
    assert!(edges.iter().all(|e| e["node"]["kind"] == "COOPERATIVE"));
    let either = app.data(PAGE, json!({ "filter": { "kind": ["COOPERATIVE", "ENTERPRISE"] }, "first": 100 })).await;
    assert!(either["organizations"]["totalCount"].as_i64() > coops["organizations"]["totalCount"].as_i64());
    let chains = app.data(PAGE, json!({ "filter": { "sector": "INDUSTRY_CHAIN" }, "first": 100 })).await;
    let names: Vec<String> = chains["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.iter().any(|n| n.contains("数字经济产业链妇联")), "{names:?}");
    assert!(
        chains["organizations"]["edges"].as_array().unwrap().iter().all(|e| e["node"]["sector"] == "INDUSTRY_CHAIN")
    );
    // Substring search over full and short names, for CJK text and ASCII ignoring case.
    let homes = app.data(PAGE, json!({ "filter": { "nameContains": "妇女之家" }, "first": 100 })).await;
    assert!(
        homes["organizations"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| { e["node"]["name"].as_str().unwrap().contains("妇女之家") })
    );
    let lower = app.data(PAGE, json!({ "filter": { "nameContains": "fed" }, "first": 0 })).await;
    let upper = app.data(PAGE, json!({ "filter": { "nameContains": "FED" }, "first": 0 })).await;
    assert_eq!(lower["organizations"]["totalCount"], upper["organizations"]["totalCount"]);
    let none = app.data(PAGE, json!({ "filter": { "nameContains": "不存在的组织名称" } })).await;
    assert_eq!(none["organizations"]["totalCount"], 0);
    assert_eq!(none["organizations"]["pageInfo"]["endCursor"], Value::Null);
}

async fn organizations_page_in_stable_order(app: TestApp) {
    let first = app.data(PAGE, json!({ "first": 50 })).await;
    let conn = &first["organizations"];
    let total = conn["totalCount"].as_i64().unwrap();
    assert!(total > 150, "the demo data names {total} organizations");
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    assert_eq!(conn["pageInfo"]["hasPreviousPage"], false);
    // The page after the 50th item starts right after it, and repeating a query repeats its answer.
    let again = app.data(PAGE, json!({ "first": 50 })).await;
    assert_eq!(keys(conn), keys(&again["organizations"]));
    let second = app.data(PAGE, json!({ "first": 10, "after": conn["edges"][39]["cursor"] })).await;
    assert_eq!(keys(&second["organizations"]), keys(conn)[40..50].to_vec());
    assert_eq!(second["organizations"]["pageInfo"]["hasPreviousPage"], true);
    // The last page: `after` the second-to-last item yields one item and no next page.
    let all = app.data(PAGE, json!({ "first": 100, "after": conn["edges"][49]["cursor"] })).await;
    let rest = app.data(PAGE, json!({ "first": 100, "after": all["organizations"]["pageInfo"]["endCursor"] })).await;
    let tail = &rest["organizations"];
    assert_eq!(50 + 100 + tail["edges"].as_array().unwrap().len() as i64, total);
    assert_eq!(tail["pageInfo"]["hasNextPage"], false);
    let penultimate = &tail["edges"].as_array().unwrap().iter().rev().nth(1).unwrap()["cursor"];
    let last = app.data(PAGE, json!({ "after": penultimate })).await;
    assert_eq!(last["organizations"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(last["organizations"]["pageInfo"]["hasNextPage"], false);
    // `after` the very last item: an empty page.
    let past = app.data(PAGE, json!({ "after": last["organizations"]["pageInfo"]["endCursor"] })).await;
    assert_eq!(past["organizations"]["edges"], json!([]));
    assert_eq!(past["organizations"]["totalCount"], total);
}

async fn reported_counts_keep_their_qualifier(app: TestApp) {
    let data = app
        .data(
            r#"{ organizations(filter: { region: "110112", kind: VOLUNTEER_TEAM }) {
                   edges { node { key executiveCount { value } memberCount { value qualifier } } } } }"#,
            json!({}),
        )
        .await;
    let team = data["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["key"] == "110112-aixin-mama-team")
        .expect("爱心妈妈帮帮团");
    // Its own members, "200余名": 200, more than.
    assert_eq!(team["node"]["memberCount"], json!({ "value": 200, "qualifier": "AT_LEAST" }));
    assert_eq!(team["node"]["executiveCount"], Value::Null);
    // "全区…各级、各领域妇联执委达到8800余名" counts 房山's executives at every level: a figure of
    // the district (8800, more than), not the district federation's own committee.
    let fangshan = app
        .data(
            r#"{ metricSummary(metric: "executives", scope: { region: "110111" }) { value qualifier }
                 organizations(filter: { region: "110111", kind: FEDERATION }) { edges { node { key executiveCount { value } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(fangshan["metricSummary"], json!([{ "value": 8800.0, "qualifier": "AT_LEAST" }]));
    let federation = fangshan["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["key"] == "fed-110111")
        .expect("房山区妇联");
    assert_eq!(federation["node"]["executiveCount"], Value::Null);
}
