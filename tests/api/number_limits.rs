//! Numbers the API can represent: every entry path (submitReport, createOrganization, imports
//! in JSON, CSV and Excel) refuses counts above 10⁹ and values that are not finite or above
//! 10¹⁵, with the same messages; sums larger than an `Int` are an error, never a wrong number
//! (issue 12, item 10).

use fulian_graph::import::import;
use serde_json::{Value, json};

use crate::common::{TestApp, admin, error_code, only_error};
use crate::on_both_backends;

on_both_backends!(
    submissions_refuse_counts_and_values_the_api_cannot_carry,
    organizations_refuse_huge_member_counts,
    imports_refuse_them_in_every_format,
    sums_past_an_int_are_an_error_not_a_wrong_number,
);

const SUBMIT: &str = r#"mutation($input: ReportSubmissionInput!) { submitReport(input: $input) { status } }"#;

async fn report_count(app: &TestApp) -> i64 {
    app.data("{ reports(first: 0, filter: { includeSuperseded: true }) { totalCount } }", json!({})).await["reports"]
        ["totalCount"]
        .as_i64()
        .unwrap()
}

fn case(id: &str, region: &str, received: Value) -> Value {
    json!({ "id": id, "scope": { "region": region }, "period": { "start": "2024-01-01", "end": "2024-01-31" },
            "excerpt": "fixture", "category": "RIGHTS_PROTECTION", "received": received })
}

async fn submissions_refuse_counts_and_values_the_api_cannot_carry(app: TestApp) {
    let before = report_count(&app).await;
    let input = json!({
        "key": "huge-numbers", "title": "Huge numbers", "region": "110112",
        "figures": {
            "caseStatistics": [
                case("a", "110112-liyuan", json!({ "value": 1_i64 << 40 })),
                case("b", "110112-taihu", json!({ "value": 1_i64 << 62 })),
                case("c", "110112-beiyuan", json!({ "value": i64::MAX })),
                case("d", "110112-luyuan", json!({ "value": 1_000_000_001 })),
            ],
            "metrics": [{ "id": "m", "scope": { "region": "110112" }, "excerpt": "fixture",
                          "metric": "people_trained", "value": { "value": 1e308 } }],
            "planIndicators": [{ "id": "p", "scope": { "region": "110112" }, "excerpt": "fixture", "plan": "plan",
                                 "areas": 1_i64 << 40, "total": { "value": 10 }, "met": { "value": 5 } }],
        }
    });
    let body = app.graphql_as(Some(&admin()), SUBMIT, json!({ "input": input })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    let problems: Vec<String> = only_error(&body)["extensions"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}: {}", p["path"].as_str().unwrap(), p["message"].as_str().unwrap()))
        .collect();
    for expected in [
        "input.figures.caseStatistics[0].received.value: 1099511627776 is more than 1000000000, the largest count accepted",
        "input.figures.caseStatistics[1].received.value: 4611686018427387904 is more than 1000000000, the largest count accepted",
        "input.figures.caseStatistics[2].received.value: 9223372036854775807 is more than 1000000000, the largest count accepted",
        "input.figures.caseStatistics[3].received.value: 1000000001 is more than 1000000000, the largest count accepted",
        "input.figures.metrics[0].value.value: 1e308 is more than 1e15, the largest value accepted",
        "input.figures.planIndicators[0].areas: 1099511627776 is more than 1000000000, the largest count accepted",
    ] {
        assert!(problems.iter().any(|p| p == expected), "missing {expected:?} in {problems:#?}");
    }
    assert_eq!(report_count(&app).await, before, "nothing was written");
    // The largest accepted count is accepted.
    let fine = json!({ "key": "big-numbers", "title": "Big", "region": "110112",
                       "figures": { "caseStatistics": [case("a", "110112-liyuan", json!({ "value": 1_000_000_000 }))] } });
    let body = app.graphql_as(Some(&admin()), SUBMIT, json!({ "input": fine })).await;
    assert_eq!(body["data"]["submitReport"]["status"], "CREATED", "{body:#}");
}

async fn organizations_refuse_huge_member_counts(app: TestApp) {
    let create = "mutation($i: OrganizationInput!) { createOrganization(input: $i) { id } }";
    let input = json!({ "key": "huge-home", "name": "大妇女之家", "kind": "WOMENS_HOME", "regionCode": "110112",
                        "memberCount": { "value": 1_i64 << 40 }, "executiveCount": { "value": -1 } });
    let body = app.graphql_as(Some(&admin()), create, json!({ "i": input })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    let problems = &only_error(&body)["extensions"]["problems"];
    assert_eq!(
        problems,
        &json!([
            { "path": "input.memberCount.value", "message": "1099511627776 is more than 1000000000, the largest count accepted" },
            { "path": "input.executiveCount.value", "message": "must not be negative" },
        ])
    );
}

/// Writes `text` to a temporary file with `extension`; returns its path.
fn temp_file(name: &str, extension: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "fulian-{name}-{}-{:?}.{extension}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn imports_refuse_them_in_every_format(app: TestApp) {
    let before = report_count(&app).await;
    let csv = "report_key,report_title,report_region,kind,id,scope_region,period_start,period_end,excerpt,category,received,metric,value\n\
               huge-csv,Huge,110112,CASE_STATISTIC,a,110112-liyuan,2024-01-01,2024-01-31,x,RIGHTS_PROTECTION,1099511627776,,\n\
               huge-csv,Huge,110112,CASE_STATISTIC,b,110112-taihu,2024-01-01,2024-01-31,x,RIGHTS_PROTECTION,9223372036854775807,,\n\
               huge-csv,Huge,110112,METRIC,m,110112,2024-01-01,2024-01-31,x,,,people_trained,1e308\n";
    let path = temp_file("huge", "csv", csv.as_bytes());
    let problems = import(&app.services, &path).await.unwrap().expect_err("refused");
    let _ = std::fs::remove_file(&path);
    let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for expected in [
        "row 2, column received: 1099511627776 is more than 1000000000, the largest count accepted",
        "row 3, column received: 9223372036854775807 is more than 1000000000, the largest count accepted",
        "row 4, column value: 1e308 is more than 1e15, the largest value accepted",
    ] {
        assert!(rendered.iter().any(|r| r == expected), "missing {expected:?} in {rendered:#?}");
    }
    let json_file = json!([{ "key": "huge-json", "title": "Huge", "region": "110112",
        "figures": { "case_statistics": [case("a", "110112-liyuan", json!({ "value": 1_i64 << 62 }))],
                     "metrics": [{ "id": "m", "scope": { "region": "110112" }, "excerpt": "x", "metric": "people_trained",
                                   "value": { "value": 1e308 } }] } }]);
    let path = temp_file("huge", "json", json_file.to_string().as_bytes());
    let problems = import(&app.services, &path).await.unwrap().expect_err("refused");
    let _ = std::fs::remove_file(&path);
    let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for expected in [
        "[0].figures.case_statistics[0].received.value: 4611686018427387904 is more than 1000000000, the largest count accepted",
        "[0].figures.metrics[0].value.value: 1e308 is more than 1e15, the largest value accepted",
    ] {
        assert!(rendered.iter().any(|r| r == expected), "missing {expected:?} in {rendered:#?}");
    }
    assert_eq!(report_count(&app).await, before, "nothing was written");
}

async fn sums_past_an_int_are_an_error_not_a_wrong_number(app: TestApp) {
    // Three towns of 通州 with a billion cases each: each fits an Int, their sum does not.
    let billion = json!({ "value": 1_000_000_000 });
    let input = json!({ "key": "billions", "title": "Billions", "region": "110112",
        "figures": { "caseStatistics": [
            case("a", "110112-liyuan", billion.clone()),
            case("b", "110112-taihu", billion.clone()),
            case("c", "110112-beiyuan", billion),
        ] } });
    let body = app.graphql_as(Some(&admin()), SUBMIT, json!({ "input": input })).await;
    assert_eq!(body["data"]["submitReport"]["status"], "CREATED", "{body:#}");
    let by_town = app
        .data(
            r#"{ caseSummary(scope: { region: "110112" }, period: { from: "2024-01-01", to: "2024-01-31" }, groupBy: [REGION]) { region { code } received } }"#,
            json!({}),
        )
        .await;
    for row in by_town["caseSummary"].as_array().unwrap() {
        assert_eq!(row["received"], 1_000_000_000, "{row}");
    }
    let body = app
        .graphql(
            r#"{ caseSummary(scope: { region: "110112" }, period: { from: "2024-01-01", to: "2024-01-31" }) { received qualifier } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "OUT_OF_RANGE", "{body:#}");
    let message = only_error(&body)["message"].as_str().unwrap();
    assert_eq!(
        message,
        "the sum 3000000000 is outside what a GraphQL Int carries (0 to 2147483647); narrow the scope or the period"
    );
    assert_eq!(only_error(&body)["path"], json!(["caseSummary", 0, "received"]));
}
