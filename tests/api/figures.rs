//! Reports with figures: submission (validation, idempotency, revisions, authorization) and
//! the dashboard aggregates, checked against sums computed by hand on fixtures.

use fulian_graph::domain::access::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, admin, error_code, only_error, token};
use crate::on_both_backends;

on_both_backends!(
    invalid_submissions_list_every_problem_and_write_nothing,
    resubmission_is_idempotent_and_changes_are_revisions,
    editors_submit_only_for_their_subtree,
    case_summary_rolls_up_three_levels,
    one_period_one_figure,
    alliance_scope_and_its_own_figures,
    demo_dashboards_answer_from_the_reports,
    of_which_is_a_subset_whatever_the_order,
    every_figure_is_listed_once_with_its_report_and_scope,
    figures_longer_than_a_bucket_get_a_row_of_their_own,
    every_row_explains_itself_with_the_rules_that_applied,
    demo_summaries_of_every_kind_explain_themselves,
    restatements_follow_the_reports_dates_not_the_order_they_arrive_in,
    dates_outside_years_1_to_9999_are_bad_input,
    the_issues_examples_answer_what_their_reports_say,
    one_thing_stated_twice_must_agree_and_dimensions_tell_things_apart,
);

const SUBMIT: &str = r#"mutation($input: ReportSubmissionInput!) { submitReport(input: $input) {
    status report { id key revision isCurrent } } }"#;

fn case(id: &str, region: &str, start: &str, end: &str, category: &str, received: Value, resolved: Value) -> Value {
    json!({ "id": id, "scope": { "region": region }, "period": { "start": start, "end": end },
            "excerpt": format!("fixture {id}"), "category": category, "received": received, "resolved": resolved })
}

fn n(value: i64) -> Value {
    json!({ "value": value })
}

fn q(value: i64, qualifier: &str) -> Value {
    json!({ "value": value, "qualifier": qualifier })
}

/// The fixture: cases in 通州's towns, 通州 itself and 房山, in 2024 (see each test for the sums).
fn cases_report() -> Value {
    json!({
        "key": "fixture-cases-2024", "title": "Fixture: cases 2024", "region": "110000",
        "period": { "start": "2024-01-01", "end": "2024-12-31" },
        "figures": { "caseStatistics": [
            case("c1", "110112-liyuan", "2024-01-01", "2024-01-31", "RIGHTS_PROTECTION", n(10), n(8)),
            case("c2", "110112-liyuan", "2024-02-01", "2024-02-29", "RIGHTS_PROTECTION", q(20, "AT_LEAST"), n(15)),
            case("c3", "110112-taihu", "2024-01-01", "2024-01-31", "RIGHTS_PROTECTION", n(5), n(5)),
            case("c4", "110111", "2024-01-01", "2024-03-31", "DOMESTIC_VIOLENCE", q(7, "APPROXIMATE"), n(7)),
            case("c5", "110112-liyuan", "2024-01-01", "2024-12-31", "RIGHTS_PROTECTION", n(100), Value::Null),
            case("c6", "110112", "2024-01-01", "2024-01-31", "MARRIAGE_FAMILY_MEDIATION", n(50), n(40)),
            case("c7", "110112-taihu", "2024-01-01", "2024-01-31", "MARRIAGE_FAMILY_MEDIATION", n(9), n(9)),
        ] }
    })
}

async fn submit(app: &TestApp, token: &str, input: Value) -> Value {
    app.graphql_as(Some(token), SUBMIT, json!({ "input": input })).await
}

const CASES: &str = r#"query($scope: ScopeInput!, $period: PeriodInput, $groupBy: [CaseGroupBy!], $category: CaseCategory) {
    caseSummary(scope: $scope, period: $period, groupBy: $groupBy, category: $category) {
        region { code } year month category unit received resolved resolutionRate qualifier
        coverage { reporting total } sources { key } } }"#;

async fn cases(app: &TestApp, vars: Value) -> Vec<Value> {
    app.data(CASES, vars).await["caseSummary"].as_array().unwrap().clone()
}

async fn report_count(app: &TestApp) -> i64 {
    app.data("{ reports(first: 0, filter: { includeSuperseded: true }) { totalCount } }", json!({})).await["reports"]
        ["totalCount"]
        .as_i64()
        .unwrap()
}

async fn invalid_submissions_list_every_problem_and_write_nothing(app: TestApp) {
    let before = report_count(&app).await;
    let bad = json!({
        "key": "fixture-bad", "title": "Bad", "region": "119999",
        "period": { "start": "2024-12-31", "end": "2024-01-01" },
        "figures": {
            "caseStatistics": [
                case("x", "110112", "2024-01-01", "2024-01-31", "HOTLINE", n(5), n(9)),
                case("x", "110112", "2024-01-01", "2024-01-31", "HOTLINE", n(-1), Value::Null),
            ],
            "metrics": [{ "id": "m", "scope": { "region": "110112" }, "excerpt": "e", "metric": "no_such_metric", "value": { "value": 1 } }],
            "planIndicators": [{ "id": "p", "scope": { "alliance": "nowhere" }, "excerpt": "e", "plan": "规划", "total": n(10), "met": n(11) }],
            "jobFairs": [{ "id": "j", "scope": { "organization": "no-such-org" }, "excerpt": "e", "positionsOffered": n(1) }],
            "organizationCounts": [
                { "id": "all", "scope": { "region": "110112" }, "excerpt": "e", "organizationKind": "WOMENS_HOME", "label": "妇女之家", "count": n(10) },
                { "id": "some", "scope": { "region": "110112" }, "excerpt": "e", "organizationKind": "WOMENS_HOME", "label": "示范", "count": n(12), "partOf": "all" },
            ],
        }
    });
    let body = submit(&app, &admin(), bad).await;
    let error = only_error(&body);
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let problems: Vec<String> = error["extensions"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}: {}", p["path"].as_str().unwrap(), p["message"].as_str().unwrap()))
        .collect();
    for expected in [
        "input.period.end: 2024-01-01 is before the start 2024-12-31",
        "input.region: no region has code 119999",
        "input.figures.caseStatistics[0].resolved: 9 resolved is more than 5 received",
        "input.figures.caseStatistics[1].id: \"x\" is used by another figure of this report",
        "input.figures.caseStatistics[1].received.value: must not be negative",
        "input.figures.organizationCounts[1].partOf: the subset (12) is larger than the total it is part of (10)",
        "input.figures.metrics[0].metric: \"no_such_metric\" is not in the metric catalog",
        "input.figures.planIndicators[0].met: 11 met is more than 10 indicators",
        "input.figures.planIndicators[0].scope.alliance: no alliance has slug \"nowhere\"",
        "input.figures.jobFairs[0].scope.organization: no organization has key \"no-such-org\"",
    ] {
        assert!(problems.iter().any(|p| p == expected), "missing {expected:?} in {problems:#?}");
    }
    assert_eq!(report_count(&app).await, before, "nothing was written");
}

async fn resubmission_is_idempotent_and_changes_are_revisions(app: TestApp) {
    let admin = admin();
    let first = submit(&app, &admin, cases_report()).await;
    let created = &first["data"]["submitReport"];
    assert_eq!(created["status"], "CREATED", "{first}");
    assert_eq!(created["report"]["revision"], 1);
    let count = report_count(&app).await;
    let again = submit(&app, &admin, cases_report()).await;
    assert_eq!(again["data"]["submitReport"]["status"], "UNCHANGED");
    assert_eq!(again["data"]["submitReport"]["report"]["id"], created["report"]["id"]);
    assert_eq!(report_count(&app).await, count, "no new row");
    // A changed figure: revision 2 supersedes revision 1, which stays queryable.
    let mut changed = cases_report();
    changed["figures"]["caseStatistics"][2]["received"] = n(6);
    let revised = submit(&app, &admin, changed).await;
    assert_eq!(revised["data"]["submitReport"]["status"], "REVISED");
    assert_eq!(revised["data"]["submitReport"]["report"]["revision"], 2);
    let old = app
        .data(
            "query($id: ID!) { report(id: $id) { isCurrent supersededBy { revision } } }",
            json!({ "id": created["report"]["id"] }),
        )
        .await;
    assert_eq!(old["report"], json!({ "isCurrent": false, "supersededBy": { "revision": 2 } }));
    let listed = app.data(r#"{ reports(filter: { titleContains: "Fixture" }) { totalCount } }"#, json!({})).await;
    assert_eq!(listed["reports"]["totalCount"], 1, "the list shows current revisions");
    // Aggregates read the current revision only: taihu's January now has 6, not 5.
    let rows = cases(&app, json!({ "scope": { "region": "110112-taihu" }, "period": { "from": "2024-01-01", "to": "2024-01-31" }, "category": "RIGHTS_PROTECTION" })).await;
    assert_eq!(rows[0]["received"], 6);
}

async fn editors_submit_only_for_their_subtree(app: TestApp) {
    let editor = token("li", Role::Editor, Some("110112"));
    let own = json!({ "key": "fixture-liyuan", "title": "梨园", "region": "110112-liyuan",
        "figures": { "caseStatistics": [case("a", "110112-liyuan", "2024-01-01", "2024-01-31", "HOTLINE", n(3), n(3))] } });
    assert_eq!(submit(&app, &editor, own).await["data"]["submitReport"]["status"], "CREATED");
    let before = report_count(&app).await;
    let foreign = json!({ "key": "fixture-fangshan", "title": "房山", "region": "110112",
        "figures": { "caseStatistics": [case("a", "110111", "2024-01-01", "2024-01-31", "HOTLINE", n(3), n(3))] } });
    assert_eq!(error_code(&submit(&app, &editor, foreign).await), "FORBIDDEN");
    // Alliance figures: 通州 is a member of 通武廊, 房山 is not.
    let alliance = json!({ "key": "fixture-twl", "title": "通武廊", "figures": { "jobFairs": [
        { "id": "s", "scope": { "alliance": "tongwulang" }, "excerpt": "e", "fairs": n(1), "period": { "start": "2024-01-01", "end": "2024-12-31" } }] } });
    let fangshan = token("zhang", Role::Editor, Some("110111"));
    assert_eq!(error_code(&submit(&app, &fangshan, alliance.clone()).await), "FORBIDDEN");
    assert_eq!(report_count(&app).await, before, "refused submissions write nothing");
    assert_eq!(submit(&app, &editor, alliance).await["data"]["submitReport"]["status"], "CREATED");
    let viewer = token("wang", Role::Viewer, Some("110112"));
    assert_eq!(error_code(&submit(&app, &viewer, cases_report()).await), "FORBIDDEN");
}

async fn case_summary_rolls_up_three_levels(app: TestApp) {
    submit(&app, &admin(), cases_report()).await;
    let q1 = json!({ "from": "2024-01-01", "to": "2024-03-31" });
    // Province → county → township, by category.
    let rows = cases(&app, json!({ "scope": { "region": "110000" }, "period": q1, "groupBy": ["CATEGORY"] })).await;
    let by: std::collections::HashMap<&str, &Value> =
        rows.iter().map(|r| (r["category"].as_str().unwrap(), r)).collect();
    let rights = by["RIGHTS_PROTECTION"];
    // c1 10 + c2 20+ + c3 5; c5 (the whole year) lies outside the window.
    assert_eq!((rights["received"].clone(), rights["resolved"].clone()), (json!(35), json!(28)));
    assert_eq!(rights["qualifier"], "AT_LEAST");
    assert_eq!(rights["coverage"]["reporting"], 2);
    assert!((rights["resolutionRate"].as_f64().unwrap() - 28.0 / 35.0).abs() < 1e-9);
    assert_eq!(rights["sources"], json!([{ "key": "fixture-cases-2024" }]));
    assert_eq!(by["DOMESTIC_VIOLENCE"]["qualifier"], "APPROXIMATE");
    // 通州's own January figure stands; 台湖's (c7) is not added to it.
    assert_eq!(by["MARRIAGE_FAMILY_MEDIATION"]["received"], 50);
    // Grouped by region one level down: 房山 7, 通州 10 + 20 + 5 + 50.
    let rows = cases(&app, json!({ "scope": { "region": "110000" }, "period": q1, "groupBy": ["REGION"] })).await;
    let regions: Vec<(String, i64)> = rows
        .iter()
        .map(|r| (r["region"]["code"].as_str().unwrap().to_owned(), r["received"].as_i64().unwrap()))
        .collect();
    assert_eq!(regions, [("110111".to_owned(), 7), ("110112".to_owned(), 85)]);
    // Coverage counts the regions of each group: 通州 and everything under it.
    let tongzhou = app.data(r#"{ region(code: "110112") { descendants(first: 0) { totalCount } } }"#, json!({})).await;
    let total = tongzhou["region"]["descendants"]["totalCount"].as_i64().unwrap() + 1;
    assert_eq!(rows[1]["coverage"], json!({ "reporting": 3, "total": total }));
}

async fn one_period_one_figure(app: TestApp) {
    submit(&app, &admin(), cases_report()).await;
    let scope = json!({ "region": "110112" });
    let rights = |period: Value, group: Value| json!({ "scope": scope, "period": period, "category": "RIGHTS_PROTECTION", "groupBy": group });
    // docs/aggregation.md §11 C. 2024: 梨园's year figure c5 (100 received) stands over its
    // months' received cases; 台湖 5. The year states no resolved cases, so the months' are
    // the longest statements of those: 8 + 15 + 5.
    let year = cases(&app, rights(json!({ "from": "2024-01-01", "to": "2024-12-31" }), json!([]))).await;
    assert_eq!(year[0]["received"], 105);
    assert_eq!(year[0]["resolved"], 28);
    assert_eq!(year[0]["resolutionRate"], 1.0, "only 台湖's figure counts both");
    assert_eq!(year[0]["qualifier"], "EXACT", "February's 20+ received is not counted");
    // A wider window holding the same figures: the same answer (the longest statement stands
    // whatever the window's bounds).
    let wide = cases(&app, rights(json!({ "from": "2023-12-01", "to": "2025-01-31" }), json!([]))).await;
    assert_eq!(wide, year);
    // By month: January 10 + 5, February 20+, and 梨园's year in a row of its own period.
    let months = cases(&app, rights(json!({ "from": "2024-01-01", "to": "2024-12-31" }), json!(["MONTH"]))).await;
    let got: Vec<(Option<i64>, Option<i64>, i64, &str)> = months
        .iter()
        .map(|r| {
            (r["year"].as_i64(), r["month"].as_i64(), r["received"].as_i64().unwrap(), r["qualifier"].as_str().unwrap())
        })
        .collect();
    // In the order of their periods (docs/aggregation.md §6.5): January, the year, February.
    assert_eq!(
        got,
        [(Some(2024), Some(1), 15, "EXACT"), (None, None, 100, "EXACT"), (Some(2024), Some(2), 20, "AT_LEAST")]
    );
}

const FAIRS: &str = r#"query($scope: ScopeInput!, $period: PeriodInput, $groupBy: [JobFairGroupBy!]) {
    jobFairSummary(scope: $scope, period: $period, groupBy: $groupBy) {
        year fairs positionsOffered jobSeekers qualifier coverage { reporting total } sources { key } } }"#;

async fn alliance_scope_and_its_own_figures(app: TestApp) {
    let report = json!({ "key": "fixture-fairs", "title": "Fixture: fairs", "figures": { "jobFairs": [
        { "id": "series", "scope": { "alliance": "tongwulang" }, "excerpt": "三地联合招聘会2场", "fairs": n(2),
          "positionsOffered": q(300, "AT_LEAST"), "period": { "start": "2024-01-01", "end": "2024-12-31" } },
        { "id": "tz", "scope": { "region": "110112" }, "excerpt": "通州招聘会", "heldOn": "2024-05-01",
          "positionsOffered": n(100), "period": { "start": "2024-05-01", "end": "2024-05-01" } },
        { "id": "wq", "scope": { "region": "120114" }, "excerpt": "武清招聘会", "heldOn": "2025-03-01",
          "positionsOffered": n(50), "jobSeekers": n(400), "period": { "start": "2025-03-01", "end": "2025-03-01" } },
    ] } });
    assert_eq!(submit(&app, &admin(), report).await["data"]["submitReport"]["status"], "CREATED");
    let vars = json!({ "scope": { "alliance": "tongwulang" }, "period": { "from": "2024-01-01", "to": "2025-12-31" }, "groupBy": ["YEAR"] });
    let rows = app.data(FAIRS, vars).await["jobFairSummary"].as_array().unwrap().clone();
    // 2024: the alliance's own series stands for the alliance; 通州's fair inside it is not added.
    assert_eq!(rows[0]["year"], 2024);
    assert_eq!((rows[0]["fairs"].clone(), rows[0]["positionsOffered"].clone()), (json!(2), json!(300)));
    assert_eq!(rows[0]["qualifier"], "AT_LEAST");
    // 2025: 武清's single fair counts one.
    assert_eq!(
        (rows[1]["year"].clone(), rows[1]["fairs"].clone(), rows[1]["jobSeekers"].clone()),
        (json!(2025), json!(1), json!(400))
    );
    assert_eq!(rows[1]["coverage"]["reporting"], 1);
    // Without the alliance, 通州 alone counts its own fair.
    let tz = app
        .data(FAIRS, json!({ "scope": { "region": "110112" }, "period": { "from": "2024-01-01", "to": "2024-12-31" } }))
        .await;
    assert_eq!(tz["jobFairSummary"][0]["positionsOffered"], 100);
    // Bad scopes are refused clearly.
    let body = app.graphql(FAIRS, json!({ "scope": { "region": "110112", "alliance": "tongwulang" } })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app.graphql(FAIRS, json!({ "scope": { "alliance": "nowhere" } })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

async fn demo_dashboards_answer_from_the_reports(app: TestApp) {
    // 通武廊: "三地联手合作开展线上线下女性专场招聘会6场，提供招聘岗位4000余个，吸引求职女性9万余人参与".
    let rows = app
        .data(
            FAIRS,
            json!({ "scope": { "alliance": "tongwulang" }, "period": { "from": "2021-01-01", "to": "2025-12-31" } }),
        )
        .await;
    let row = &rows["jobFairSummary"][0];
    assert_eq!(
        (row["fairs"].clone(), row["positionsOffered"].clone(), row["jobSeekers"].clone()),
        (json!(6), json!(4000), json!(90000))
    );
    assert_eq!(row["qualifier"], "AT_LEAST");
    assert_eq!(row["sources"], json!([{ "key": "tongzhou-five-year-review" }]));
    // 通州's women's homes: the 2025 review's 609 (latest) — not 593 + 609, and never + the 267 subset.
    let homes = app
        .data(r#"{ organizationCoverage(scope: { region: "110112" }, kind: WOMENS_HOME) { count qualifier sources { key } } }"#, json!({}))
        .await;
    assert_eq!(homes["organizationCoverage"][0]["count"], 609);
    // 2013 in 通州: by category the rows show the breakdown of the 430 rights-protection services
    // (368 legal consultations in person-times, 56 hotline calls) in their own categories; the
    // total counts the 430 and not its breakdown, in whatever unit the breakdown is.
    let year = json!({ "from": "2013-01-01", "to": "2013-12-31" });
    let grouped =
        cases(&app, json!({ "scope": { "region": "110112" }, "period": year, "groupBy": ["CATEGORY"] })).await;
    assert!(grouped.iter().any(|r| r["category"] == "LEGAL_CONSULTATION" && r["received"] == 368));
    assert!(grouped.iter().any(|r| r["category"] == "HOTLINE" && r["received"] == 56));
    let total = cases(&app, json!({ "scope": { "region": "110112" }, "period": year })).await;
    assert_eq!(total[0]["received"], 430, "{total:?}");
    // Every figure traces back to its report and excerpt.
    let fairs = app
        .data(r#"{ jobFairs(filter: { alliance: "tongwulang" }) { totalCount edges { node { isSeries mode
               fairs { value qualifier } positionsOffered { value qualifier } alliance { slug } report { key } excerpt } } } }"#, json!({}))
        .await;
    let series = &fairs["jobFairs"]["edges"][0]["node"];
    assert_eq!(fairs["jobFairs"]["totalCount"], 1);
    assert_eq!(series["isSeries"], true);
    assert_eq!(series["positionsOffered"], json!({ "value": 4000, "qualifier": "AT_LEAST" }));
    assert!(series["excerpt"].as_str().unwrap().contains("4000余个"));
    let cases = app
        .data(r#"{ caseStatistics(filter: { region: "110000", includeDescendants: true, category: HOTLINE }) {
               totalCount edges { node { category received { value qualifier } region { code } report { key } excerpt } } } }"#, json!({}))
        .await;
    let hotline = &cases["caseStatistics"]["edges"][0]["node"];
    assert_eq!(hotline["received"], json!({ "value": 56, "qualifier": "EXACT" }));
    assert_eq!(hotline["report"]["key"], "tongzhou-yearbook-2013");
    // The plan indicators: "15个领域140项监测指标，其中136项已提前达到市级标准".
    let plans = app
        .data(
            r#"{ reports(filter: { titleContains: "凝心聚力" }) { edges { node {
               planIndicators { plan areas total { value } met { value } excerpt }
               organizationCounts { label count { value } isSubset }
               metricFigures { metric value qualifier } } } } }"#,
            json!({}),
        )
        .await;
    let review = &plans["reports"]["edges"][0]["node"];
    let plan = &review["planIndicators"][0];
    assert_eq!(
        (plan["areas"].clone(), plan["total"]["value"].clone(), plan["met"]["value"].clone()),
        (json!(15), json!(140), json!(136))
    );
    let subset = review["organizationCounts"].as_array().unwrap().iter().find(|c| c["count"]["value"] == 267).unwrap();
    assert_eq!(subset["isSubset"], true);
    assert!(review["metricFigures"].as_array().unwrap().len() > 20);
    // The catalog.
    let metrics = app.data("{ metrics { code unit nature } }", json!({})).await;
    assert!(metrics["metrics"].as_array().unwrap().len() > 50);
}

/// "Of which" links hold whatever order a report lists its figures in (docs/aggregation.md,
/// subsets): a subset listed before its total was stored as no subset at all and added to it
/// (通州's 巧娘工作室 44 where the report says 36). Links round in a circle are refused.
async fn of_which_is_a_subset_whatever_the_order(app: TestApp) {
    let count = |id: &str, label: &str, value: i64, part_of: Option<&str>| {
        json!({ "id": id, "scope": { "region": "110112-liyuan" }, "period": { "end": "2031-06-30" },
                "excerpt": format!("fixture {id}"), "organizationKind": "SERVICE_POST", "label": label,
                "count": n(value), "partOf": part_of })
    };
    // Subsets first, one of them a subset of a subset; the total last.
    let figures = [
        count("demo", "示范", 8, Some("town")),
        count("star", "星级", 3, Some("demo")),
        count("town", "服务站", 36, None),
    ];
    let input = json!({ "key": "fixture-of-which-order", "title": "Of which, in any order", "region": "110112-liyuan",
                        "figures": { "organizationCounts": figures } });
    let body = submit(&app, &admin(), input).await;
    assert_eq!(body["data"]["submitReport"]["status"], "CREATED", "{body}");
    let data = app
        .data(
            r#"query($id: ID!) { report(id: $id) { organizationCounts { label count { value } isSubset } }
               organizationCoverage(scope: { region: "110112-liyuan" }, kind: SERVICE_POST) { count } }"#,
            json!({ "id": body["data"]["submitReport"]["report"]["id"] }),
        )
        .await;
    let mut stored: Vec<(String, bool)> = data["report"]["organizationCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["label"].as_str().unwrap().to_owned(), c["isSubset"].as_bool().unwrap()))
        .collect();
    stored.sort();
    let mut expected = [("示范".to_owned(), true), ("星级".to_owned(), true), ("服务站".to_owned(), false)];
    expected.sort();
    assert_eq!(stored, expected);
    assert_eq!(data["organizationCoverage"][0]["count"], 36, "{data}");
    // The demo report that showed it: "截至年底,全区巧娘工作室36个", of which 8 awarded plaques,
    // listed before the total.
    let demo = app
        .data(r#"{ organizationCoverage(scope: { region: "110112" }, kind: STUDIO) { count qualifier } }"#, json!({}))
        .await;
    assert_eq!(demo["organizationCoverage"], json!([{ "count": 36, "qualifier": "EXACT" }]));

    // A circle of links: refused, each figure on it named, nothing written.
    let before = report_count(&app).await;
    let circle = json!({ "key": "fixture-of-which-circle", "title": "Circle", "region": "110112-liyuan",
        "figures": { "organizationCounts": [
            count("a", "甲", 5, Some("b")), count("b", "乙", 5, Some("c")), count("c", "丙", 5, Some("a")), count("d", "丁", 5, Some("a")),
        ] } });
    let body = submit(&app, &admin(), circle).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let paths: Vec<&str> = only_error(&body)["extensions"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [0, 1, 2].map(|i| format!("input.figures.organizationCounts[{i}].partOf")), "{body}");
    assert_eq!(report_count(&app).await, before, "nothing was written");
}

const FIGURE_FIELDS: &str = "__typename id excerpt periodStart periodEnd periodNote note report { id key } \
    region { code } alliance { slug } organization { id } ... on MetricFigure { metric }";

/// Every page of `figures` with this filter, in order.
async fn all_figures(app: &TestApp, filter: Value) -> Vec<Value> {
    let query = format!(
        "query($f: FigureFilterInput, $after: String) {{ figures(filter: $f, first: 100, after: $after) {{ \
         totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {FIGURE_FIELDS} }} }} }} }}"
    );
    let (mut out, mut after) = (Vec::new(), Value::Null);
    loop {
        let page = app.data(&query, json!({ "f": filter, "after": after })).await["figures"].clone();
        out.extend(page["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            assert_eq!(page["totalCount"].as_u64().unwrap() as usize, out.len(), "totalCount counts the pages' items");
            return out;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// The root `figures` list holds every figure exactly once, the same figures that the
/// per-report lists and the per-kind lists hold, each with an ID `node` resolves, its report
/// and what it is about; its filters keep exactly the figures they describe.
async fn every_figure_is_listed_once_with_its_report_and_scope(app: TestApp) {
    use std::collections::BTreeSet;
    let figures = all_figures(&app, json!({})).await;
    let ids: BTreeSet<String> = figures.iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), figures.len(), "no figure listed twice");
    assert!(figures.len() > 200, "the demo dataset's figures: {}", figures.len());

    // The same figures, gathered the other ways: each report's lists, and the per-kind lists.
    let mut expected = BTreeSet::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .data(
                "query($after: String) { reports(first: 100, after: $after) { pageInfo { hasNextPage endCursor } \
                 edges { node { id organizationCounts { id } planIndicators { id } metricFigures { id } } } } }",
                json!({ "after": after }),
            )
            .await["reports"]
            .clone();
        for edge in page["edges"].as_array().unwrap() {
            for list in ["organizationCounts", "planIndicators", "metricFigures"] {
                expected.extend(
                    edge["node"][list].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()),
                );
            }
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    for list in ["jobFairs", "caseStatistics"] {
        let page = app.data(&format!("{{ {list}(first: 100) {{ edges {{ node {{ id }} }} }} }}"), json!({})).await;
        expected.extend(
            page[list]["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(ids, expected);

    for figure in &figures {
        // Every figure says what it is about and where it comes from.
        let about = ["region", "alliance", "organization"].iter().filter(|k| !figure[**k].is_null()).count();
        assert!(about >= 1, "a figure about nothing: {figure}");
        assert!(!figure["report"].is_null() && !figure["excerpt"].as_str().unwrap().is_empty(), "{figure}");
    }
    // Figures about an alliance as a whole say so (they had neither region nor alliance).
    let alliance_figures: Vec<&Value> = figures.iter().filter(|f| !f["alliance"].is_null()).collect();
    assert!(alliance_figures.len() >= 5, "{}", alliance_figures.len());

    // node(id) gives back the same figure, of the same type.
    for figure in figures.iter().step_by(17).chain(alliance_figures.iter().copied()) {
        let node = app
            .data(
                &format!("query($id: ID!) {{ node(id: $id) {{ ... on Figure {{ {FIGURE_FIELDS} }} }} }}"),
                json!({ "id": figure["id"] }),
            )
            .await["node"]
            .clone();
        assert_eq!(&node, figure);
    }

    // Filters keep exactly the figures they describe (checked against the unfiltered list).
    let keep = |pred: &dyn Fn(&Value) -> bool| -> BTreeSet<String> {
        figures.iter().filter(|f| pred(f)).map(|f| f["id"].as_str().unwrap().to_owned()).collect()
    };
    let ids_of =
        |list: Vec<Value>| -> BTreeSet<String> { list.iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect() };
    let tongwulang = ids_of(all_figures(&app, json!({ "alliance": "tongwulang" })).await);
    assert_eq!(tongwulang, keep(&|f| f["alliance"]["slug"] == "tongwulang"));
    assert!(!tongwulang.is_empty());
    let tongzhou = ids_of(all_figures(&app, json!({ "region": "110112", "includeDescendants": true })).await);
    assert_eq!(tongzhou, keep(&|f| f["region"]["code"].as_str().is_some_and(|c| c.starts_with("110112"))));
    let metric = ids_of(all_figures(&app, json!({ "metric": "events_held" })).await);
    assert_eq!(metric, keep(&|f| f["metric"] == "events_held"));
    let types = ids_of(all_figures(&app, json!({ "types": ["JOB_FAIR", "PLAN_INDICATOR"] })).await);
    assert_eq!(types, keep(&|f| f["__typename"] == "JobFair" || f["__typename"] == "PlanIndicator"));
    let window = ids_of(all_figures(&app, json!({ "from": "2023-01-01", "to": "2023-12-31" })).await);
    let inside = |f: &Value| {
        let (start, end) = (
            f["periodStart"].as_str().or(f["periodEnd"].as_str()),
            f["periodEnd"].as_str().or(f["periodStart"].as_str()),
        );
        start.is_some_and(|s| s >= "2023-01-01") && end.is_some_and(|e| e <= "2023-12-31")
    };
    assert_eq!(window, keep(&inside));
    assert!(!window.is_empty());
    let report = figures[0]["report"]["id"].clone();
    let of_report = ids_of(all_figures(&app, json!({ "report": report })).await);
    assert_eq!(of_report, keep(&|f| f["report"]["id"] == report));

    // Every metric value carries its catalog unit; a stated amount its qualifier.
    let catalog = app.data("{ metrics { code unit } }", json!({})).await;
    let units: std::collections::HashMap<&str, &str> = catalog["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["code"].as_str().unwrap(), m["unit"].as_str().unwrap()))
        .collect();
    let mut metric_units = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .data(
                "query($after: String) { figures(first: 100, after: $after, filter: { types: [METRIC_FIGURE] }) { \
                 pageInfo { hasNextPage endCursor } edges { node { excerpt ... on MetricFigure { metric unit } } } } }",
                json!({ "after": after }),
            )
            .await;
        metric_units.extend(page["figures"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
        if page["figures"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["figures"]["pageInfo"]["endCursor"].clone();
    }
    // Each figure's unit is the catalog's unless the report's measure word says otherwise
    // (docs/aggregation.md §4): 人/名 people, 人次 person-times, 次 times, 项 items.
    let mut own_units = 0;
    for node in &metric_units {
        let (unit, excerpt) = (node["unit"].as_str().unwrap(), node["excerpt"].as_str().unwrap());
        if Some(unit) != units.get(node["metric"].as_str().unwrap()).copied() {
            own_units += 1;
            let word = match unit {
                "people" => ["人", "名"].iter().any(|w| excerpt.contains(w)) && !excerpt.contains("人次"),
                "person_times" => excerpt.contains("人次"),
                "times" => excerpt.contains('次'),
                "items" => excerpt.contains('项'),
                _ => false,
            };
            assert!(word, "{unit} is not what the excerpt says: {node}");
        }
    }
    assert!(own_units > 0, "the demo states some metrics in another unit than the catalog's");
    let amounts = app
        .data("{ caseStatistics(first: 100) { edges { node { amountAided amountAidedQualifier } } } }", json!({}))
        .await;
    let amounts: Vec<(Value, Value)> = amounts["caseStatistics"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["node"]["amountAided"].clone(), e["node"]["amountAidedQualifier"].clone()))
        .collect();
    assert!(amounts.contains(&(json!(67520132.32), json!("EXACT"))), "{amounts:?}");
    assert!(amounts.iter().all(|(amount, q)| amount.is_null() == q.is_null()), "{amounts:?}");

    let body = app.graphql("{ figures(filter: { metric: \"no_such_metric\" }) { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(only_error(&body)["extensions"]["problems"][0]["path"], "filter.metric", "{body}");
}

/// Grouped by time, a figure stated for a period longer than the bucket (half a year grouped
/// by month, two years grouped by year) is neither dropped nor split: it is shown in a row of
/// its own period, flagged `spansBuckets`, beside the bucket rows (docs/aggregation.md §6.2).
async fn figures_longer_than_a_bucket_get_a_row_of_their_own(app: TestApp) {
    // The demo: 通武廊's six joint fairs of 2021–2025 (they vanished from a yearly grouping).
    let query = "query($scope: ScopeInput!, $period: PeriodInput, $groupBy: [JobFairGroupBy!]) { \
        jobFairSummary(scope: $scope, period: $period, groupBy: $groupBy) { \
        region { code } year from to spansBuckets fairs positionsOffered jobSeekers qualifier } }";
    let vars = json!({ "scope": { "alliance": "tongwulang" }, "period": { "from": "2021-01-01", "to": "2025-12-31" },
                       "groupBy": ["REGION", "YEAR"] });
    let rows = app.data(query, vars).await["jobFairSummary"].clone();
    let spanning: Vec<&Value> = rows.as_array().unwrap().iter().filter(|r| r["spansBuckets"] == true).collect();
    assert_eq!(spanning.len(), 1, "{rows:#}");
    let row = spanning[0];
    assert_eq!(
        (&row["region"], &row["year"], &row["from"], &row["to"]),
        (&Value::Null, &Value::Null, &json!("2021-01-01"), &json!("2025-12-31"))
    );
    assert_eq!((&row["fairs"], &row["positionsOffered"], &row["jobSeekers"]), (&json!(6), &json!(4000), &json!(90000)));

    // A fixture: 梨园 states the first half of 2024 at once, 台湖 March alone, 潞城 both years.
    let report = json!({ "key": "fixture-spans", "title": "Fixture: spans", "region": "110112", "figures": { "caseStatistics": [
        case("half", "110112-liyuan", "2024-01-01", "2024-06-30", "HOTLINE", n(60), Value::Null),
        case("march", "110112-taihu", "2024-03-01", "2024-03-31", "HOTLINE", n(7), Value::Null),
        case("two-years", "110112-lucheng", "2023-01-01", "2024-12-31", "HOTLINE", n(200), Value::Null),
    ] } });
    let body = submit(&app, &admin(), report).await;
    assert_eq!(body["data"]["submitReport"]["status"], "CREATED", "{body}");
    let rows = |group: &str, from: &str, to: &str| {
        let vars = json!({ "scope": { "region": "110112" }, "period": { "from": from, "to": to }, "category": "HOTLINE",
                           "groupBy": [group] });
        let app = &app;
        async move {
            let query = "query($scope: ScopeInput!, $period: PeriodInput, $groupBy: [CaseGroupBy!], $category: CaseCategory) { \
                caseSummary(scope: $scope, period: $period, groupBy: $groupBy, category: $category) { \
                year quarter month from to spansBuckets received } }";
            app.data(query, vars).await["caseSummary"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let text = |k: &str| r[k].as_str().map(str::to_owned);
                    (
                        r["year"].as_i64(),
                        r["quarter"].as_i64().or(r["month"].as_i64()),
                        text("from"),
                        text("to"),
                        r["spansBuckets"].as_bool().unwrap(),
                        r["received"].as_i64(),
                    )
                })
                .collect::<std::collections::BTreeSet<_>>()
        }
    };
    let s = |x: &str| Some(x.to_owned());
    // By month over 2024 (from February): March is a bucket, the half year a row of its own;
    // the two-year figure lies outside the window.
    assert_eq!(
        rows("MONTH", "2024-01-01", "2024-12-31").await,
        [
            (Some(2024), Some(3), s("2024-03-01"), s("2024-03-31"), false, Some(7)),
            (None, None, s("2024-01-01"), s("2024-06-30"), true, Some(60)),
        ]
        .into_iter()
        .collect()
    );
    // By quarter, the window starting in February: the first quarter's row says so.
    assert_eq!(
        rows("QUARTER", "2024-02-01", "2024-12-31").await,
        [(Some(2024), Some(1), s("2024-02-01"), s("2024-03-31"), false, Some(7))].into_iter().collect(),
        "the half year starts before the window"
    );
    // By year over both years: 2024 holds the half year and March; the two years a row of their own.
    assert_eq!(
        rows("YEAR", "2023-01-01", "2024-12-31").await,
        [
            (Some(2024), None, s("2024-01-01"), s("2024-12-31"), false, Some(67)),
            (None, None, s("2023-01-01"), s("2024-12-31"), true, Some(200)),
        ]
        .into_iter()
        .collect()
    );
}

/// `explain` on a summary row: the figures counted, and the figures left out with the rule
/// (docs/aggregation.md §9) and the figure that made it apply; shown by each figure's excerpt.
async fn every_row_explains_itself_with_the_rules_that_applied(app: TestApp) {
    submit(&app, &admin(), cases_report()).await;
    let query = r#"query($scope: ScopeInput!, $period: PeriodInput, $groupBy: [CaseGroupBy!], $category: CaseCategory) {
        caseSummary(scope: $scope, period: $period, groupBy: $groupBy, category: $category) {
            region { code } category received
            explain { counted { rule figure { excerpt } because { excerpt } }
                      leftOut { rule figure { excerpt } because { excerpt } } } } }"#;
    let explained = |vars: Value| {
        let app = &app;
        async move {
            let rows = app.data(query, vars).await["caseSummary"].clone();
            rows.as_array()
                .unwrap()
                .iter()
                .map(|row| {
                    let list = |which: &str| -> Vec<(String, Value, Value)> {
                        let mut list: Vec<(String, Value, Value)> = row["explain"][which]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|e| {
                                let excerpt = e["figure"]["excerpt"].as_str().unwrap().replace("fixture ", "");
                                (excerpt, e["rule"].clone(), e["because"]["excerpt"].clone())
                            })
                            .collect();
                        list.sort_by(|a, b| a.0.cmp(&b.0));
                        list
                    };
                    (row["received"].clone(), list("counted"), list("leftOut"))
                })
                .collect::<Vec<_>>()
        }
    };
    let rights = |period: Value, group: Value| json!({ "scope": { "region": "110112" }, "period": period, "category": "RIGHTS_PROTECTION", "groupBy": group });
    let counted = |id: &str| (id.to_owned(), Value::Null, Value::Null);
    let left = |id: &str, rule: &str, because: &str| (id.to_owned(), json!(rule), json!(format!("fixture {because}")));
    // §11 C: 梨园's year figure stands over its months' received cases (each listed as left out
    // for those), while the months' resolved cases count (each listed as counted for those).
    let year = explained(rights(json!({ "from": "2024-01-01", "to": "2024-12-31" }), json!([]))).await;
    assert_eq!(
        year,
        [(
            json!(105),
            vec![counted("c1"), counted("c2"), counted("c3"), counted("c5")],
            vec![left("c1", "INSIDE_LONGER_FIGURE", "c5"), left("c2", "INSIDE_LONGER_FIGURE", "c5")]
        )]
    );
    // A wider window holding the same figures decides the same.
    let wide = explained(rights(json!({ "from": "2023-12-01", "to": "2025-01-31" }), json!([]))).await;
    assert_eq!(wide, year);
    // 通州's own January figure covers 台湖's, in the ungrouped sum and in 通州's region row.
    let family = |group: Value| {
        json!({ "scope": { "region": "110000" }, "period": { "from": "2024-01-01", "to": "2024-03-31" },
                "category": "MARRIAGE_FAMILY_MEDIATION", "groupBy": group })
    };
    let whole = explained(family(json!([]))).await;
    assert_eq!(whole, [(json!(50), vec![counted("c6")], vec![left("c7", "CHILD_COVERED_BY_OWN_FIGURE", "c6")])]);
    let by_region = explained(family(json!(["REGION"]))).await;
    assert_eq!(by_region, whole, "one row, 通州's, holding both");

    // Subsets: the demo's 通州 2013 rights week, "其中…" figures left out for their total.
    let demo =
        explained(json!({ "scope": { "region": "110112" }, "period": { "from": "2013-01-01", "to": "2013-12-31" } }))
            .await;
    // One row per unit: the 430 counts in the cases row; its breakdown, in person-times and
    // times, is listed in the rows of its units as left out for it.
    let (received, counted_figures, _) = &demo[0];
    assert_eq!(received, &json!(430));
    assert!(counted_figures.iter().any(|c| c.0 == "组织普法维权服务430件"));
    let left_out: Vec<(String, Value, Value)> = demo.iter().flat_map(|row| row.2.clone()).collect();
    let subsets: Vec<&str> = left_out.iter().filter(|l| l.1 == "SUBSET_NOT_ADDEND").map(|l| l.0.as_str()).collect();
    assert!(subsets.contains(&"其中,接受法律咨询和服务368人次") && subsets.contains(&"接听热线56次"), "{subsets:?}");
    assert!(left_out.iter().filter(|l| l.1 == "SUBSET_NOT_ADDEND").all(|l| l.2 == "组织普法维权服务430件"));
}

/// Over the demo dataset, every kind of summary, grouped several ways: each row's counted
/// figures add up to the row's numbers (a job fair without a stated number of fairs is one).
async fn demo_summaries_of_every_kind_explain_themselves(app: TestApp) {
    let explain =
        |fields: &str| format!("explain {{ counted {{ measures figure {{ {fields} }} }} leftOut {{ rule }} }}");
    let fairs = explain("... on JobFair { fairs { value } positionsOffered { value } jobSeekers { value } }");
    let counts = explain("... on OrganizationCount { count { value } }");
    let values = explain("... on MetricFigure { value }");
    let mut checked = 0;
    for (scope, groups) in [
        (json!({ "alliance": "tongwulang" }), "[REGION, YEAR]"),
        (json!({ "region": "110000" }), "[]"),
        (json!({ "region": "110112" }), "[YEAR]"),
        (json!({ "alliance": "jingjinji" }), "[REGION]"),
    ] {
        // Three explains a query at most (each costs 3,000 of the 10,000).
        let first = format!(
            "query($scope: ScopeInput!) {{ \
             jobFairSummary(scope: $scope, groupBy: {groups}) {{ fairs positionsOffered jobSeekers {fairs} }} \
             organizationCoverage(scope: $scope, groupBy: [KIND]) {{ count {counts} }} }}"
        );
        let second = format!(
            "query($scope: ScopeInput!) {{ \
             events: metricSummary(metric: \"events_held\", scope: $scope, groupBy: {groups}) {{ value {values} }} \
             homes: metricSummary(metric: \"communities_covered\", scope: $scope) {{ value {values} }} }}"
        );
        let mut data = app.data(&first, json!({ "scope": scope })).await;
        let more = app.data(&second, json!({ "scope": scope })).await;
        data["events"] = more["events"].clone();
        data["homes"] = more["homes"].clone();
        // The counted entries naming a measure, added up.
        let sum = |row: &Value, measure: &str, pick: &dyn Fn(&Value) -> Option<f64>| -> Option<f64> {
            let values: Vec<f64> = row["explain"]["counted"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["measures"].as_array().unwrap().iter().any(|m| m == measure))
                .filter_map(|c| pick(&c["figure"]))
                .collect();
            (!values.is_empty()).then(|| values.iter().sum())
        };
        let value = |path: &'static str| move |f: &Value| f.pointer(path).and_then(Value::as_f64);
        for row in data["jobFairSummary"].as_array().unwrap() {
            assert_eq!(
                sum(row, "fairs", &|f| Some(f.pointer("/fairs/value").and_then(Value::as_f64).unwrap_or(1.0))),
                row["fairs"].as_f64(),
                "{row:#}"
            );
            let positions = sum(row, "positionsOffered", &value("/positionsOffered/value"));
            assert_eq!(positions, row["positionsOffered"].as_f64(), "{row:#}");
            assert_eq!(sum(row, "jobSeekers", &value("/jobSeekers/value")), row["jobSeekers"].as_f64(), "{row:#}");
            checked += 1;
        }
        for row in data["organizationCoverage"].as_array().unwrap() {
            let count = sum(row, "count", &value("/count/value")).unwrap_or(0.0);
            assert_eq!(count, row["count"].as_f64().unwrap(), "{row:#}");
            checked += 1;
        }
        for row in data["events"].as_array().unwrap().iter().chain(data["homes"].as_array().unwrap()) {
            assert_eq!(sum(row, "value", &value("/value")), row["value"].as_f64(), "{row:#}");
            checked += 1;
        }
    }
    assert!(checked > 10, "{checked} rows");
}

/// Two reports state the same figure (node, thing, period) with different values: the report
/// published later counts, whichever was submitted first (it had been the one submitted last).
async fn restatements_follow_the_reports_dates_not_the_order_they_arrive_in(app: TestApp) {
    let report = |key: &str, published: &str, town: &str, received: i64| {
        json!({ "key": format!("{key}-{town}"), "title": key, "publishedOn": published, "figures": { "caseStatistics": [
            case(&format!("{key}-{town}"), &format!("110112-{town}"), "2013-01-01", "2013-12-31", "RIGHTS_PROTECTION", n(received), Value::Null),
        ] } })
    };
    // 梨园: the review (2025) first, then the yearbook (2014). 台湖: the other way round.
    for (first, second) in [
        (report("review", "2025-12-01", "liyuan", 45), report("yearbook", "2014-03-01", "liyuan", 40)),
        (report("yearbook", "2014-03-01", "taihu", 40), report("review", "2025-12-01", "taihu", 45)),
    ] {
        for input in [first, second] {
            let body = submit(&app, &admin(), input).await;
            assert_eq!(body["data"]["submitReport"]["status"], "CREATED", "{body}");
        }
    }
    let query = r#"query($region: String!) { caseSummary(scope: { region: $region },
        period: { from: "2013-01-01", to: "2013-12-31" }, category: RIGHTS_PROTECTION) {
        received sources { key } explain { leftOut { rule figure { excerpt } because { excerpt } } } } }"#;
    for town in ["liyuan", "taihu"] {
        let row = app.data(query, json!({ "region": format!("110112-{town}") })).await["caseSummary"][0].clone();
        assert_eq!(row["received"], 45, "{town}: {row:#}");
        assert_eq!(row["sources"], json!([{ "key": format!("review-{town}") }]));
        assert_eq!(
            row["explain"]["leftOut"],
            json!([{ "rule": "RESTATEMENT", "figure": { "excerpt": format!("fixture yearbook-{town}") },
                     "because": { "excerpt": format!("fixture review-{town}") } }])
        );
    }
}

/// Years past 9999 or before 1 ("+10000-12-31", "-0005-01-01") are bad input everywhere: SQLite
/// compares dates as text, so they had passed a window filter as if they were any date, and a
/// period ending in them hit a CHECK constraint (INTERNAL).
async fn dates_outside_years_1_to_9999_are_bad_input(app: TestApp) {
    for day in ["+10000-12-31", "-0005-01-01", "0000-06-01", "10000-01-01"] {
        let report = json!({ "key": "fixture-far", "title": "far", "period": { "start": "2013-06-01", "end": day },
            "figures": { "caseStatistics": [case("c", "110112", "2013-06-01", day, "OTHER", n(1), Value::Null)] } });
        let body = submit(&app, &admin(), report).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{day}: {body}");
        for query in [
            "query($d: Date) { caseSummary(scope: { region: \"110112\" }, period: { from: $d }) { received } }",
            "query($d: Date) { figures(filter: { from: $d }) { totalCount } }",
        ] {
            let body = app.graphql(query, json!({ "d": day })).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{day}: {body}");
        }
    }
    assert_eq!(report_count_with_key(&app, "fixture-far").await, 0);
}

async fn report_count_with_key(app: &TestApp, key: &str) -> usize {
    let data = app
        .data("{ reports(first: 100, filter: { includeSuperseded: true }) { edges { node { key } } } }", json!({}))
        .await;
    data["reports"]["edges"].as_array().unwrap().iter().filter(|e| e["node"]["key"] == key).count()
}

/// The examples of issue 13 over the demo dataset (docs/aggregation.md §11), each what its
/// report says: ways of asking agree, nothing is counted twice or dropped, units never mix.
async fn the_issues_examples_answer_what_their_reports_say(app: TestApp) {
    let one = |query: &str| {
        let app = &app;
        let query = query.to_owned();
        async move {
            let data = app.data(&query, json!({})).await;
            data.as_object().unwrap().values().next().unwrap().clone()
        }
    };
    let y2013 = r#"period: { from: "2013-01-01", to: "2013-12-31" }"#;
    // 通州 2013, HOTLINE: filtered = the row of the grouping, 56 calls (a subset of the 430).
    let filtered = one(&format!(
        r#"{{ caseSummary(scope: {{ region: "110112" }}, {y2013}, category: HOTLINE) {{ unit received }} }}"#
    ))
    .await;
    let grouped = one(&format!(
        r#"{{ caseSummary(scope: {{ region: "110112" }}, {y2013}, groupBy: [CATEGORY]) {{ category unit received }} }}"#
    ))
    .await;
    assert_eq!(filtered, json!([{ "unit": "times", "received": 56 }]));
    let rows = |category: &str| -> Vec<Value> {
        grouped
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["category"] == category)
            .map(|r| json!({ "unit": r["unit"], "received": r["received"] }))
            .collect()
    };
    assert_eq!(rows("HOTLINE"), filtered.as_array().unwrap().clone());
    // LEGAL_CONSULTATION: 368 person-times and 68 people, never one sum, both ways of asking.
    let legal = json!([{ "unit": "people", "received": 68 }, { "unit": "person_times", "received": 368 }]);
    assert_eq!(Value::Array(rows("LEGAL_CONSULTATION")), legal);
    let legal_filtered = one(&format!(
        r#"{{ caseSummary(scope: {{ region: "110112" }}, {y2013}, category: LEGAL_CONSULTATION) {{ unit received }} }}"#
    ))
    .await;
    assert_eq!(legal_filtered, legal);
    // Ungrouped, one row per unit; the rights week's breakdown (368, 56, 6) is not added to its 430.
    let total = one(&format!(
        r#"{{ caseSummary(scope: {{ region: "110112" }}, {y2013}) {{ unit received resolved qualifier }} }}"#
    ))
    .await;
    assert_eq!(
        total,
        json!([
            { "unit": "cases", "received": 430, "resolved": 167, "qualifier": "EXACT" },
            { "unit": "couples", "received": 100, "resolved": 18, "qualifier": "APPROXIMATE" },
            { "unit": "people", "received": 68, "resolved": null, "qualifier": "EXACT" },
            { "unit": "person_times", "received": 400, "resolved": null, "qualifier": "AT_LEAST" },
            { "unit": "times", "received": 1000, "resolved": null, "qualifier": "AT_LEAST" },
        ])
    );
    // By month, March's row lists the year's statements as LONGER_THAN_BUCKET: they count in
    // their own row (2013-01-01…2013-12-31), not in March's, and are not dropped.
    let by_month = one(&format!(
        r#"{{ caseSummary(scope: {{ region: "110112" }}, {y2013}, groupBy: [MONTH]) {{
            month from to spansBuckets unit received explain {{ leftOut {{ rule figure {{ excerpt }} }} }} }} }}"#
    ))
    .await;
    // (In person-times, March holds only the rights week's 368, a subset of its 430 cases.)
    let march = by_month
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["month"] == 3 && r["unit"] == "person_times")
        .expect("March, in person-times");
    let left: Vec<(&str, &str)> = march["explain"]["leftOut"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["rule"].as_str().unwrap(), l["figure"]["excerpt"].as_str().unwrap()))
        .collect();
    assert!(left.contains(&("SUBSET_NOT_ADDEND", "其中,接受法律咨询和服务368人次")), "{march:#}");
    assert!(left.contains(&("LONGER_THAN_BUCKET", "全年接待来电来访400余人次,调解率达98%以上")), "{march:#}");
    assert!(
        by_month.as_array().unwrap().iter().any(|r| r["spansBuckets"] == true
            && r["unit"] == "person_times"
            && r["received"] == 400
            && r["from"] == "2013-01-01"),
        "{by_month:#}"
    );
    // 巧娘工作室 36 (8 of them a subset listed first); 四川's executives 101 (33 a subset).
    let studios =
        one(r#"{ organizationCoverage(scope: { region: "110112" }, kind: STUDIO) { count qualifier } }"#).await;
    assert_eq!(studios, json!([{ "count": 36, "qualifier": "EXACT" }]));
    let executives =
        one(r#"{ metricSummary(metric: "executives", scope: { region: "510000" }) { value unit } }"#).await;
    assert_eq!(executives, json!([{ "value": 101.0, "unit": "people" }]));
    // "动员全区三级近万名执委": executives of the whole district, at every level — a figure of
    // 通州, not the size of the district federation's own committee.
    let district =
        one(r#"{ metricSummary(metric: "executives", scope: { region: "110112" }) { value qualifier } }"#).await;
    assert_eq!(district, json!([{ "value": 10000.0, "qualifier": "APPROXIMATE" }]));
    let federations =
        one(r#"{ organizations(filter: { region: "110112", kind: [FEDERATION], nameContains: "通州区妇女联合会" }) {
            edges { node { name executiveCount { value } } } } }"#)
        .await;
    assert_eq!(
        federations["edges"],
        json!([{ "node": { "name": "北京市通州区妇女联合会", "executiveCount": null } }]),
        "{federations:#}"
    );
    // 龙岗's demonstration bases: 4 + 5 + 59 + 22 = 90 (the 5 child-friendly communities are
    // stated twice in the report: one statement).
    let bases =
        one(r#"{ organizationCoverage(scope: { region: "440307" }, kind: DEMONSTRATION_BASE) { count } }"#).await;
    assert_eq!(bases, json!([{ "count": 90 }]));
    // 通州 2021–2025: 700余场 skills trainings and 近百场 e-commerce trainings are two things;
    // 2000余场 family-education activities and 1800余场 holiday child care too.
    let five_years = r#"scope: { region: "110112" }, period: { from: "2021-01-01", to: "2025-12-31" }"#;
    let trainings =
        one(&format!(r#"{{ metricSummary(metric: "trainings_held", {five_years}) {{ value unit qualifier }} }}"#))
            .await;
    assert_eq!(trainings, json!([{ "value": 800.0, "unit": "sessions", "qualifier": "APPROXIMATE" }]));
    let events =
        one(&format!(r#"{{ metricSummary(metric: "events_held", {five_years}) {{ value unit qualifier }} }}"#)).await;
    assert_eq!(events, json!([{ "value": 3800.0, "unit": "sessions", "qualifier": "AT_LEAST" }]));
    // People trained: people and person-times in rows of their own.
    let trained =
        one(&format!(r#"{{ metricSummary(metric: "people_trained", {five_years}) {{ value unit qualifier }} }}"#))
            .await;
    assert_eq!(
        trained,
        json!([
            { "value": 750.0, "unit": "people", "qualifier": "AT_LEAST" },
            { "value": 10000.0, "unit": "person_times", "qualifier": "EXACT" },
        ])
    );
    // Rates are never added (§5.6): the women's plan's 82% and the children's plan's 95% in one
    // row give no number, each listed as NOT_ADDITIVE; one plan alone shows its rate.
    let rates = one(r#"{ metricSummary(metric: "plan_indicators_met_percent", scope: { region: "110112" }) {
            value unit explain { leftOut { rule figure { excerpt } } } } }"#)
    .await;
    assert_eq!(rates[0]["value"], Value::Null, "{rates:#}");
    let left: Vec<&Value> = rates[0]["explain"]["leftOut"].as_array().unwrap().iter().map(|l| &l["rule"]).collect();
    assert_eq!(left, [&json!("NOT_ADDITIVE"), &json!("NOT_ADDITIVE")], "{rates:#}");
    // A stated rate keeps its qualifier: "调解率达98%以上" is 98, at least.
    let stated =
        one(r#"{ caseStatistics(filter: { region: "110112", includeDescendants: true, category: PETITION_VISIT }) {
            edges { node { reportedRate reportedRateQualifier } } } }"#)
        .await;
    assert!(
        stated["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"] == json!({ "reportedRate": 98.0, "reportedRateQualifier": "AT_LEAST" })),
        "{stated:#}"
    );
    // "每年蔬菜和食用菌产出有3000吨" over 2021–2025: 3000 each year, never one five-year 3000.
    let tons = |period: &str, group: &str| {
        format!(
            r#"{{ metricSummary(metric: "agricultural_output_tons", scope: {{ region: "110112" }}, {period} {group})
                {{ year value qualifier }} }}"#
        )
    };
    let one_year = one(&tons(r#"period: { from: "2023-01-01", to: "2023-12-31" }"#, "")).await;
    assert_eq!(one_year, json!([{ "year": null, "value": 3000.0, "qualifier": "EXACT" }]));
    let five = one(&tons(r#"period: { from: "2021-01-01", to: "2025-12-31" }"#, "")).await;
    assert_eq!(five[0]["value"], 15000.0);
    let by_year = one(&tons(r#"period: { from: "2021-01-01", to: "2025-12-31" }"#, "groupBy: [YEAR]")).await;
    let years: Vec<(i64, f64)> = by_year
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["year"].as_i64().unwrap(), r["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(years, (2021..=2025).map(|y| (y, 3000.0)).collect::<Vec<_>>());
    // The 通武廊 alliance's own six joint fairs, grouped by region and year: a row of its own.
    let fairs = one(r#"{ jobFairSummary(scope: { alliance: "tongwulang" }, groupBy: [REGION, YEAR]) {
            region { code } alliance { slug } year from to spansBuckets fairs } }"#)
    .await;
    assert!(
        fairs.as_array().unwrap().iter().any(|r| r["region"].is_null()
            && r["alliance"]["slug"] == "tongwulang"
            && r["fairs"] == 6
            && r["spansBuckets"] == true
            && r["from"] == "2021-01-01"),
        "{fairs:#}"
    );
}

/// docs/aggregation.md §2.3: one report stating one thing twice with different numbers is
/// refused (nothing written); told apart by a dimension, both count, and the figures say how.
async fn one_thing_stated_twice_must_agree_and_dimensions_tell_things_apart(app: TestApp) {
    let training = |id: &str, value: i64, subject: Option<&str>| {
        let mut f = json!({ "id": id, "scope": { "region": "110112-liyuan" }, "excerpt": format!("fixture {id}"),
            "period": { "start": "2031-01-01", "end": "2031-12-31" }, "metric": "trainings_held",
            "value": { "value": value, "qualifier": "EXACT" } });
        if let Some(subject) = subject {
            f["dimensions"] = json!([{ "key": "subject", "value": subject }]);
        }
        f
    };
    let report = |figures: Vec<Value>| {
        json!({ "key": "fixture-same-thing", "title": "Same thing", "region": "110112-liyuan",
                "figures": { "metrics": figures } })
    };
    let before = report_count(&app).await;
    let body = submit(&app, &admin(), report(vec![training("a", 700, None), training("b", 100, None)])).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let problem = &only_error(&body)["extensions"]["problems"][0];
    assert_eq!(problem["path"], "input.figures.metrics[1]", "{body}");
    assert!(problem["message"].as_str().unwrap().contains("input.figures.metrics[0]"), "{body}");
    assert_eq!(report_count(&app).await, before, "nothing was written");
    // Stated twice with the same number: one statement, counted once.
    let body = submit(&app, &admin(), report(vec![training("a", 700, None), training("b", 700, None)])).await;
    assert_eq!(body["data"]["submitReport"]["status"], "CREATED", "{body}");
    let summary = r#"{ metricSummary(metric: "trainings_held", scope: { region: "110112-liyuan" },
        period: { from: "2031-01-01", to: "2031-12-31" }) { value explain { leftOut { rule } } } }"#;
    let once = app.data(summary, json!({})).await;
    assert_eq!(once["metricSummary"][0]["value"], 700.0);
    assert_eq!(once["metricSummary"][0]["explain"]["leftOut"], json!([{ "rule": "RESTATEMENT" }]));
    // Told apart: both count, and each figure carries its dimension.
    let figures = vec![training("a", 700, Some("创业就业技能培训")), training("b", 100, Some("电商培训"))];
    let body = submit(&app, &admin(), report(figures)).await;
    assert_eq!(body["data"]["submitReport"]["status"], "REVISED", "{body}");
    assert_eq!(app.data(summary, json!({})).await["metricSummary"][0]["value"], 800.0);
    let listed = app
        .data(
            r#"query($report: ID!) { figures(first: 10, filter: { report: $report, types: [METRIC_FIGURE] }) {
                edges { node { excerpt dimensions { key value } } } } }"#,
            json!({ "report": body["data"]["submitReport"]["report"]["id"] }),
        )
        .await;
    let dims: Vec<Value> =
        listed["figures"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["dimensions"].clone()).collect();
    assert_eq!(
        dims,
        [
            json!([{ "key": "subject", "value": "创业就业技能培训" }]),
            json!([{ "key": "subject", "value": "电商培训" }])
        ]
    );
    // A per-unit statement: each month of a quarter has it; on average, each month's share is
    // approximate; a period that is not whole units is refused.
    let mut monthly = training("m", 4, Some("每月"));
    monthly["period"] = json!({ "start": "2031-01-01", "end": "2031-03-31" });
    monthly["per"] = json!("MONTH");
    let mut average = training("avg", 10, Some("月均"));
    average["period"] = json!({ "start": "2031-01-01", "end": "2031-03-31" });
    (average["per"], average["spread"]) = (json!("MONTH"), json!("AVERAGE"));
    let per_report = json!({ "key": "fixture-per-unit", "title": "Per unit", "region": "110112-liyuan",
                             "figures": { "metrics": [monthly.clone(), average] } });
    let body = submit(&app, &admin(), per_report).await;
    assert_eq!(body["data"]["submitReport"]["status"], "CREATED", "{body}");
    let per_unit = |period: &str, group: &str| {
        format!(
            r#"{{ metricSummary(metric: "trainings_held", scope: {{ region: "110112-liyuan" }}, {period} {group})
                {{ month value qualifier explain {{ counted {{ part }} }} }} }}"#
        )
    };
    let february = app.data(&per_unit(r#"period: { from: "2031-02-01", to: "2031-02-28" }"#, ""), json!({})).await;
    assert_eq!(february["metricSummary"][0]["value"], 14.0, "{february:#}");
    assert_eq!(february["metricSummary"][0]["qualifier"], "APPROXIMATE");
    assert_eq!(
        february["metricSummary"][0]["explain"]["counted"],
        json!([{ "part": "2031-02" }, { "part": "2031-02" }])
    );
    let quarter = app.data(&per_unit(r#"period: { from: "2031-01-01", to: "2031-03-31" }"#, ""), json!({})).await;
    assert_eq!(quarter["metricSummary"][0]["value"], 42.0, "{quarter:#}");
    let mut ragged = monthly;
    ragged["period"] = json!({ "start": "2031-01-15", "end": "2031-03-31" });
    let body = submit(
        &app,
        &admin(),
        json!({ "key": "fixture-per-unit-ragged", "title": "Ragged", "figures": { "metrics": [ragged] } }),
    )
    .await;
    assert_eq!(only_error(&body)["extensions"]["problems"][0]["path"], "input.figures.metrics[0].period", "{body}");

    // Malformed dimensions and units: refused, each at its path.
    let mut bad = training("c", 5, None);
    bad["dimensions"] = json!([{ "key": "Subject!", "value": "x" }, { "key": "level", "value": " " }]);
    bad["unit"] = json!("Person Times");
    let body = submit(&app, &admin(), report(vec![bad])).await;
    let paths: Vec<&str> = only_error(&body)["extensions"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "input.figures.metrics[0].dimensions[0].key",
            "input.figures.metrics[0].dimensions[1].value",
            "input.figures.metrics[0].unit"
        ],
        "{body}"
    );
}
