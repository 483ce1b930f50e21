//! What makes dashboards fast must not change what they say: the contested-figure fast path
//! against the full rules, the aggregate cache against writes (on two replicas), the batched
//! `Region.jobFairs`, the synthetic data generator, and the metrics the benchmark reads.

use fulian_graph::domain::summary::Window;
use fulian_graph::domain::summary::{case_spec, job_fair_spec};
use fulian_graph::domain::{summarize_in_parts_uncached, summarize_whole};
use fulian_graph::gendata::{self, Scale};
use fulian_graph::store::aggregates::{Grouping, ResolvedScope, Row, Spec, base_version};
use fulian_graph::store::contested;
use serde_json::{Value, json};

use crate::common::{TestApp, admin};
use crate::on_both_backends;

on_both_backends!(
    fast_path_agrees_with_the_full_rules,
    cached_summaries_follow_writes_on_every_replica,
    the_uncontested_part_is_reused_only_while_it_holds,
    region_job_fairs_cost_the_same_statements_for_any_page,
    generated_data_is_marked_synthetic_and_summable,
    metrics_count_requests_statements_and_errors,
    concurrent_revisions_of_one_report_all_land,
);

const SUBMIT: &str = r#"mutation($input: ReportSubmissionInput!) { submitReport(input: $input) { status } }"#;

async fn submit(app: &TestApp, input: Value) -> String {
    let data = app.data_as(Some(&admin()), SUBMIT, json!({ "input": input })).await;
    data["submitReport"]["status"].as_str().unwrap().to_owned()
}

fn case(id: &str, region: &str, start: &str, end: &str, category: &str, received: i64) -> Value {
    json!({ "id": id, "scope": { "region": region }, "period": { "start": start, "end": end },
            "excerpt": format!("fixture {id}"), "category": category, "received": { "value": received },
            "resolved": { "value": received / 2 } })
}

fn fair(id: &str, scope: Value, day: &str, positions: i64) -> Value {
    json!({ "id": id, "scope": scope, "period": { "start": day, "end": day }, "heldOn": day,
            "excerpt": format!("fixture {id}"), "positionsOffered": { "value": positions } })
}

/// Figures that compete in every way the rules know (a county month under a township month, a
/// province year over a county month, a restatement, an alliance-level fair over a member's
/// fairs, two fairs on one day) and figures that compete with nothing.
async fn competing_fixture(app: &TestApp) {
    let first = json!({
        "key": "fixture-scale-a", "title": "Fixture A", "region": "110000",
        "period": { "start": "2031-01-01", "end": "2031-12-31" },
        "figures": {
            "caseStatistics": [
                case("a1", "110112", "2031-01-01", "2031-01-31", "RIGHTS_PROTECTION", 40),
                case("a2", "110112-liyuan", "2031-01-01", "2031-01-31", "RIGHTS_PROTECTION", 15),
                case("a3", "110112", "2031-02-01", "2031-02-28", "RIGHTS_PROTECTION", 30),
                case("a4", "110000", "2031-01-01", "2031-12-31", "MARRIAGE_FAMILY_MEDIATION", 500),
                case("a5", "110111", "2031-03-01", "2031-03-31", "MARRIAGE_FAMILY_MEDIATION", 12),
                case("a6", "110111", "2031-01-01", "2031-01-31", "DOMESTIC_VIOLENCE", 9),
                case("a7", "110112", "2031-01-01", "2031-03-31", "HOTLINE", 100),
                case("a8", "110112", "2031-01-01", "2031-01-31", "HOTLINE", 35),
            ],
            "jobFairs": [
                fair("f1", json!({ "region": "110112" }), "2031-03-08", 300),
                fair("f2", json!({ "region": "110112" }), "2031-03-08", 200),
                fair("f3", json!({ "region": "110112" }), "2031-05-01", 120),
                fair("f4", json!({ "region": "120114" }), "2031-06-01", 80),
                fair("f5", json!({ "alliance": "tongwulang" }), "2031-06-01", 1000),
                fair("f6", json!({ "region": "110111" }), "2031-06-01", 60),
            ],
        }
    });
    assert_eq!(submit(app, first).await, "CREATED");
    let restatement = json!({
        "key": "fixture-scale-b", "title": "Fixture B", "region": "110112", "publishedOn": "2032-01-15",
        "period": { "start": "2031-02-01", "end": "2031-02-28" },
        "figures": { "caseStatistics": [case("b1", "110112", "2031-02-01", "2031-02-28", "RIGHTS_PROTECTION", 33)] }
    });
    assert_eq!(submit(app, restatement).await, "CREATED");
}

fn window(window: (&str, &str)) -> Window {
    let date = |s: &str| (!s.is_empty()).then(|| s.parse().unwrap());
    Window { from: date(window.0), to: date(window.1) }
}

/// A summary's rows with every candidate through the rules, as comparable text.
async fn rows(app: &TestApp, spec: &Spec, scope: &ResolvedScope, w: (&str, &str), g: Grouping) -> Vec<String> {
    let rows = summarize_whole(&app.store, spec, scope, window(w), g)
        .await
        .unwrap_or_else(|e| panic!("{} {scope:?} {w:?} {g:?}: {e:?}", spec.fast_path));
    comparable(rows)
}

/// The same summary computed in two parts (contested through the rules, uncontested summed)
/// and merged, as the dashboards compute it; formatted like [`rows`].
async fn rows_in_parts(app: &TestApp, spec: &Spec, scope: &ResolvedScope, w: (&str, &str), g: Grouping) -> Vec<String> {
    let (b1, b2, rows) = summarize_in_parts_uncached(&app.store, spec, scope, window(w), g).await.unwrap();
    assert_eq!(b1, b2, "no write in between");
    comparable(rows)
}

/// Rows as comparable text (sources sorted: their order is the database's).
fn comparable(rows: Vec<Row>) -> Vec<String> {
    rows.into_iter()
        .map(|r| {
            let mut sources: Vec<&str> = r.sources.as_deref().unwrap_or("").split(',').collect();
            sources.sort_unstable();
            format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {:?}",
                r.keys, r.m0, r.m1, r.m2, r.m3, r.m5, r.m0_paired, r.qualifier_rank, r.reporting, sources
            )
        })
        .collect()
}

async fn fast_path_agrees_with_the_full_rules(app: TestApp) {
    competing_fixture(&app).await;
    let (contested_cases, cases) = contested::count(&app.store, "case_statistics").await.unwrap();
    let (contested_fairs, fairs) = contested::count(&app.store, "job_fairs").await.unwrap();
    // Both paths are exercised: some figures compete, most do not.
    assert!(contested_cases >= 7 && contested_cases < cases, "{contested_cases} of {cases} cases contested");
    assert!(contested_fairs >= 4 && contested_fairs < fairs, "{contested_fairs} of {fairs} fairs contested");

    let alliance = app.data(r#"{ alliance(slug: "tongwulang") { members { code } } }"#, json!({})).await;
    let members: Vec<String> = alliance["alliance"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().into())
        .collect();
    let numeric = fulian_graph::domain::Services::new(app.store.clone()).alliance("tongwulang").await.unwrap().id;
    let region = |code: &str, grouped: bool| ResolvedScope {
        roots: vec![code.to_owned()],
        include_descendants: true,
        alliance_id: None,
        group_parent: grouped.then(|| code.to_owned()),
    };
    let scopes = vec![
        region("110000", false),
        region("110000", true),
        region("110112", false),
        region("110112", true),
        ResolvedScope { roots: members, include_descendants: true, alliance_id: Some(numeric), group_parent: None },
    ];
    let windows = [("", ""), ("2031-01-01", "2031-12-31"), ("2031-01-01", "2031-01-31"), ("2031-01-01", "2031-03-31")];
    let groupings = [
        Grouping::default(),
        Grouping { month: true, ..Grouping::default() },
        Grouping { key: true, month: true, ..Grouping::default() },
        Grouping { year: true, ..Grouping::default() },
        Grouping { key: true, ..Grouping::default() },
    ];
    let check = |label: &'static str| {
        let app = &app;
        let scopes = &scopes;
        async move {
            let mut compared = 0;
            for (spec, table) in [(case_spec(None), "cases"), (job_fair_spec(), "fairs")] {
                assert!(spec.fast_path);
                for scope in scopes {
                    for window in windows {
                        for g in groupings {
                            let mut g = g;
                            if scope.group_parent.is_some() {
                                g.region = true;
                            }
                            if table == "fairs" {
                                g.key = false;
                            }
                            let slow = rows(app, &spec, scope, window, g).await;
                            let parts = rows_in_parts(app, &spec, scope, window, g).await;
                            assert_eq!(parts, slow, "{label} (in parts): {table} {scope:?} {window:?} {g:?}");
                            compared += 1;
                        }
                    }
                }
            }
            compared
        }
    };
    assert_eq!(check("marked on write").await, 2 * 5 * 4 * 5);
    // Recomputing every flag from scratch (what gen-data does) gives the same sums too.
    contested::recompute(&app.store).await.unwrap();
    assert_eq!(contested::count(&app.store, "case_statistics").await.unwrap().0, contested_cases);
    check("recomputed").await;
    // A revision supersedes a report: its old figures stop competing (their flags are cleared)
    // and the new ones go through the rules.
    let revised = json!({
        "key": "fixture-scale-b", "title": "Fixture B, revised", "region": "110112", "publishedOn": "2032-01-15",
        "period": { "start": "2031-02-01", "end": "2031-02-28" },
        "figures": { "caseStatistics": [case("b1", "110112", "2031-02-01", "2031-02-28", "RIGHTS_PROTECTION", 34)] }
    });
    assert_eq!(submit(&app, revised).await, "REVISED");
    check("revised").await;

    // And the figures the rules leave out are really left out: the January township figure
    // under the county's, the February figure restated by a report published later (as revised;
    // fixture A's as-of date is the end of its period, 2031-12-31).
    let jan = app
        .data(
            r#"{ caseSummary(scope: { region: "110112" }, period: { from: "2031-01-01", to: "2031-02-28" },
                 category: RIGHTS_PROTECTION, groupBy: [MONTH]) { month received } }"#,
            json!({}),
        )
        .await;
    assert_eq!(jan["caseSummary"], json!([{ "month": 1, "received": 40 }, { "month": 2, "received": 34 }]));
}

const MONTHS: &str = r#"query($from: Date, $to: Date) { caseSummary(scope: { region: "110112" },
    period: { from: $from, to: $to }, category: DOMESTIC_VIOLENCE, groupBy: [MONTH]) { month received } }"#;

async fn months(app: &TestApp) -> Value {
    app.data(MONTHS, json!({ "from": "2032-01-01", "to": "2032-12-31" })).await["caseSummary"].clone()
}

async fn cached_summaries_follow_writes_on_every_replica(app: TestApp) {
    let replica = app.replica();
    assert_eq!(months(&app).await, json!([]));
    assert_eq!(months(&replica).await, json!([]));
    // Served from the cache: the same answer without running the summary again.
    let before = app.store.statements();
    assert_eq!(months(&app).await, json!([]));
    assert_eq!(app.store.statements() - before, 1, "a cached summary costs only the version check");

    let report = |received: i64| {
        json!({ "key": "fixture-cache", "title": "Fixture cache", "region": "110112",
                "period": { "start": "2032-01-01", "end": "2032-02-29" },
                "figures": { "caseStatistics": [
                    case("j", "110112-liyuan", "2032-01-01", "2032-01-31", "DOMESTIC_VIOLENCE", received),
                    case("f", "110112-taihu", "2032-02-01", "2032-02-29", "DOMESTIC_VIOLENCE", 4),
                ] } })
    };
    assert_eq!(submit(&app, report(10)).await, "CREATED");
    let expected = json!([{ "month": 1, "received": 10 }, { "month": 2, "received": 4 }]);
    assert_eq!(months(&app).await, expected, "the writing replica");
    assert_eq!(months(&replica).await, expected, "the other replica");

    // The same report again changes nothing, and is not counted twice.
    assert_eq!(submit(&replica, report(10)).await, "UNCHANGED");
    assert_eq!(months(&app).await, expected);
    // A revision replaces the old figures everywhere.
    assert_eq!(submit(&replica, report(7)).await, "REVISED");
    let revised = json!([{ "month": 1, "received": 7 }, { "month": 2, "received": 4 }]);
    assert_eq!(months(&app).await, revised);
    assert_eq!(months(&replica).await, revised);
}

const W1: &str = r#"query($n: Int) { organizations(first: $n) { edges { node { name region { name code parent { name }
    jobFairs(first: 5) { totalCount edges { cursor node { heldOn positionsOffered { value } } } pageInfo { hasNextPage } } } } } } }"#;

async fn region_job_fairs_cost_the_same_statements_for_any_page(app: TestApp) {
    const ALL: &str = r#"{ region(code: "110112") { jobFairs(first: 100) { totalCount
        edges { cursor node { positionsOffered { value } } } } } }"#;
    let ids = |data: &Value| -> Vec<Value> {
        data["region"]["jobFairs"]["edges"].as_array().unwrap().iter().map(|e| e["cursor"].clone()).collect()
    };
    let before = ids(&app.data(ALL, json!({})).await);
    competing_fixture(&app).await;
    let all = app.data(ALL, json!({})).await;
    // 通州区 holds f1, f2, f3 of the fixture, on top of the demo fairs it holds or co-hosts.
    assert_eq!(ids(&all).len(), before.len() + 3);
    assert_eq!(all["region"]["jobFairs"]["totalCount"], before.len() + 3);
    let positions: Vec<i64> = all["region"]["jobFairs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["positionsOffered"]["value"].as_i64())
        .collect();
    assert!(positions.ends_with(&[300, 200, 120]), "{positions:?}");

    let statements = |n: usize| {
        let app = &app;
        async move {
            let before = app.store.statements();
            let data = app.data(W1, json!({ "n": n })).await;
            (app.store.statements() - before, data)
        }
    };
    let (ten, _) = statements(10).await;
    let (hundred, data) = statements(100).await;
    assert_eq!(ten, hundred, "10 organizations took {ten} statements, 100 took {hundred}");
    assert!(hundred <= 6, "{hundred} statements");
    // In the batched page, 通州区's first five fairs are the first five of its whole list.
    let tongzhou = data["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["region"])
        .find(|r| r["code"] == "110112")
        .expect("an organization of 通州区 among the first 100");
    let page = &tongzhou["jobFairs"];
    let total = ids(&all).len();
    assert_eq!(page["totalCount"], total);
    assert_eq!(page["pageInfo"]["hasNextPage"], total > 5);
    let page_ids: Vec<Value> = page["edges"].as_array().unwrap().iter().map(|e| e["cursor"].clone()).collect();
    assert_eq!(page_ids, ids(&all)[..total.min(5)].to_vec());
}

async fn generated_data_is_marked_synthetic_and_summable(app: TestApp) {
    let (contested_before, _) = contested::count(&app.store, "case_statistics").await.unwrap();
    let generated = gendata::generate(&app.store, Scale::Province, 7).await.unwrap();
    let rows = |table: &str| generated.rows.iter().find(|(t, _)| *t == table).unwrap().1;
    assert_eq!(rows("case_statistics"), 90 * 60 * 6);
    assert_eq!(rows("organizations"), 3000);
    assert_eq!(rows("resources"), 3000);
    // Again with the same seed: refused, nothing written twice.
    let again = gendata::generate(&app.store, Scale::Province, 7).await;
    assert!(matches!(again, Err(gendata::GenError::AlreadyGenerated(_))), "{again:?}");

    // Provenance: the synthetic report, cited by every generated figure.
    let report = app
        .data(r#"{ reports(first: 10) { edges { node { key title publisher } } } }"#, json!({}))
        .await["reports"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .find(|r| r["key"] == "syn-province-seed-7")
        .expect("the synthetic report is listed");
    assert!(report["title"].as_str().unwrap().contains("非真实"), "{report}");
    assert_eq!(report["publisher"], "fulian-graph gen-data");

    // No generated figure competes with another, so the dashboard sums them all: the province's
    // year by month equals the sum of its counties' monthly figures.
    let (contested_after, _) = contested::count(&app.store, "case_statistics").await.unwrap();
    assert_eq!(contested_after, contested_before, "generated figures compete with nothing");
    let summary = app
        .data(
            r#"{ caseSummary(scope: { region: "901000" }, period: { from: "2023-01-01", to: "2023-12-31" },
                 groupBy: [CATEGORY, MONTH]) { month received coverage { reporting } } }"#,
            json!({}),
        )
        .await;
    let list = summary["caseSummary"].as_array().unwrap();
    assert_eq!(list.len(), 6 * 12);
    assert!(list.iter().all(|r| r["coverage"]["reporting"] == 90));
    let total: i64 = list.iter().map(|r| r["received"].as_i64().unwrap()).sum();
    let listed = app
        .data(
            r#"{ caseStatistics(first: 0, filter: { region: "901000", includeDescendants: true, from: "2023-01-01", to: "2023-12-31" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(listed["caseStatistics"]["totalCount"], 90 * 12 * 6);
    assert!(total > 0);

    // `explain` of a month, by category: every county's figure of its category, adding up.
    let explained = app
        .data(
            r#"{ caseSummary(scope: { region: "901000" }, period: { from: "2023-01-01", to: "2023-01-31" },
                 groupBy: [CATEGORY]) { received explain { counted { figure { ... on CaseStatistic { received { value } } } }
                 leftOut { rule } } } }"#,
            json!({}),
        )
        .await;
    for row in explained["caseSummary"].as_array().unwrap() {
        let counted = row["explain"]["counted"].as_array().unwrap();
        assert_eq!(counted.len(), 90);
        let sum: i64 = counted.iter().map(|c| c["figure"]["received"]["value"].as_i64().unwrap()).sum();
        assert_eq!(Some(sum), row["received"].as_i64());
    }
    // A year holds more figures than one explain lists: refused with a clear error, the
    // numbers still answered.
    let body = app
        .graphql(
            r#"{ caseSummary(scope: { region: "901000" }, period: { from: "2023-01-01", to: "2023-12-31" }) {
                 received explain { counted { rule } } } }"#,
            json!({}),
        )
        .await;
    assert!(body["data"]["caseSummary"][0]["received"].as_i64().is_some(), "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "OUT_OF_RANGE", "{body}");
    assert!(error["message"].as_str().unwrap().contains("narrow"), "{body}");
    // Explains cost what they may read: a query holds at most three.
    let four = (0..4)
        .map(|i| format!("a{i}: caseSummary(scope: {{ region: \"110112\" }}) {{ explain {{ counted {{ rule }} }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let body = app.graphql(&format!("{{ {four} }}"), json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{body}");
}

async fn metrics_count_requests_statements_and_errors(app: TestApp) {
    app.data("query Dashboard { regions(first: 1) { totalCount } }", json!({})).await;
    let bad = app.graphql("{ noSuchField }", json!({})).await;
    assert!(bad["errors"].is_array());
    let (status, headers, body) = app.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(headers[axum::http::header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
    let text = body.as_str().unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no sample {prefix} in\n{text}"))
    };
    assert!(value("fulian_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"}") >= 1.0);
    assert!(value("fulian_graphql_operations_total{type=\"query\",name=\"Dashboard\"}") >= 1.0);
    assert!(value("fulian_graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"}") >= 1.0);
    assert!(value("fulian_http_request_duration_seconds_count{route=\"/graphql\"}") >= 2.0);
    assert!(value("fulian_db_statements_total") >= 1.0);
    assert!(value("process_resident_memory_bytes") > 1_000_000.0);
}

/// Editors revising one report at the same moment (found by W5): every submission lands as its
/// own revision, none fails, exactly one revision is current.
async fn concurrent_revisions_of_one_report_all_land(app: TestApp) {
    let submissions = (0..8).map(|i| {
        let app = &app;
        async move {
            let input = json!({ "key": "fixture-race", "title": format!("Race {i}"), "region": "110112",
                                "figures": { "caseStatistics": [case("c", "110112", "2033-01-01", "2033-01-31", "HOTLINE", i + 1)] } });
            app.graphql_as(Some(&admin()), SUBMIT, json!({ "input": input })).await
        }
    });
    let results = futures_util::future::join_all(submissions).await;
    for body in &results {
        assert!(body.get("errors").is_none(), "a concurrent revision failed: {body}");
    }
    let statuses: Vec<&str> = results.iter().map(|b| b["data"]["submitReport"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "CREATED").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == "REVISED").count(), 7, "{statuses:?}");
    let current = app
        .data(r#"{ reports(first: 100, filter: { includeSuperseded: true }) { edges { node { key revision isCurrent } } } }"#, json!({}))
        .await;
    let revisions: Vec<&Value> = current["reports"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["key"] == "fixture-race")
        .collect();
    assert_eq!(revisions.len(), 8);
    assert_eq!(revisions.iter().filter(|n| n["isCurrent"] == true).count(), 1);
}

const YEAR_2034: &str = r#"query { caseSummary(scope: { region: "110000" }, period: { from: "2034-01-01", to: "2034-12-31" },
    category: HOTLINE, groupBy: [MONTH]) { month received coverage { reporting } } }"#;

async fn year(app: &TestApp) -> Value {
    app.data(YEAR_2034, json!({})).await["caseSummary"].clone()
}

/// Dashboards keep the uncontested part of a summary while only contested figures change
/// (an editor correcting figures that compete anyway), and recompute it when it changes — on
/// every replica, with sums that are never stale or counted twice.
async fn the_uncontested_part_is_reused_only_while_it_holds(app: TestApp) {
    let replica = app.replica();
    let report = |key: &str, figures: Vec<Value>| json!({ "key": key, "title": key, "region": "110000", "figures": { "caseStatistics": figures } });
    let base = || base_version(&app.store);

    // A county's January figure that competes with nothing.
    let jan = case("jan", "110112", "2034-01-01", "2034-01-31", "HOTLINE", 50);
    assert_eq!(submit(&app, report("parts-a", vec![jan.clone()])).await, "CREATED");
    assert_eq!(year(&app).await, json!([{ "month": 1, "received": 50, "coverage": { "reporting": 1 } }]));
    assert_eq!(year(&replica).await, json!([{ "month": 1, "received": 50, "coverage": { "reporting": 1 } }]));

    // Another report restates it: both now compete (the uncontested part changed); the later
    // report's figure counts, once.
    let before = base().await.unwrap();
    let restated = |n: i64| case("jan", "110112", "2034-01-01", "2034-01-31", "HOTLINE", n);
    assert_eq!(submit(&app, report("parts-b", vec![restated(60)])).await, "CREATED");
    assert!(base().await.unwrap() > before, "a figure turned contested");
    assert_eq!(year(&replica).await, json!([{ "month": 1, "received": 60, "coverage": { "reporting": 1 } }]));

    // Revisions of the restatement only change contested figures: the uncontested part stays,
    // the sum follows every revision.
    let before = base().await.unwrap();
    for n in [61, 62, 63] {
        assert_eq!(submit(&replica, report("parts-b", vec![restated(n)])).await, "REVISED");
        assert_eq!(base().await.unwrap(), before, "only contested figures changed");
        let expected = json!([{ "month": 1, "received": n, "coverage": { "reporting": 1 } }]);
        assert_eq!(year(&app).await, expected, "revision {n} on the other replica");
        assert_eq!(year(&replica).await, expected, "revision {n} on the writing replica");
    }

    // A new uncontested figure (February, another county) changes the uncontested part.
    let feb = case("feb", "110111", "2034-02-01", "2034-02-28", "HOTLINE", 7);
    assert_eq!(submit(&app, report("parts-c", vec![feb])).await, "CREATED");
    assert!(base().await.unwrap() > before);
    let expected = json!([
        { "month": 1, "received": 63, "coverage": { "reporting": 1 } },
        { "month": 2, "received": 7, "coverage": { "reporting": 1 } },
    ]);
    assert_eq!(year(&app).await, expected);
    assert_eq!(year(&replica).await, expected);
}
