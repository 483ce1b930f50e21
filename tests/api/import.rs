//! `fulian-graph import`: JSON, CSV and Excel files in the documented templates, the same
//! validation as `submitReport`, every problem by row and column, nothing written on error.

use std::path::PathBuf;

use fulian_graph::domain::Services;
use fulian_graph::import::{FileProblem, import};
use serde_json::json;

use crate::common::{TempDir, TestApp};
use crate::on_both_backends;

on_both_backends!(
    imports_each_format_and_reimports_idempotently,
    a_file_with_errors_writes_nothing,
    imports_carry_dimensions_units_and_per_unit_marks
);

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

async fn reports(app: &TestApp) -> i64 {
    app.data("{ reports(first: 0, filter: { includeSuperseded: true }) { totalCount } }", json!({})).await["reports"]
        ["totalCount"]
        .as_i64()
        .unwrap()
}

async fn imports_each_format_and_reimports_idempotently(app: TestApp) {
    let services = Services::new(app.store.clone());
    let before = reports(&app).await;
    let csv = import(&services, &fixture("reports.csv")).await.unwrap().expect("no problems");
    assert_eq!((csv.created, csv.figures), (2, 5));
    let xlsx = import(&services, &fixture("reports.xlsx")).await.unwrap().expect("no problems");
    assert_eq!((xlsx.created, xlsx.figures), (2, 5));
    let json_file = import(&services, &fixture("report.json")).await.unwrap().expect("no problems");
    assert_eq!(json_file.created, 1);
    assert_eq!(reports(&app).await, before + 5);
    // Again: nothing new.
    let again = import(&services, &fixture("reports.csv")).await.unwrap().unwrap();
    assert_eq!((again.created, again.unchanged), (0, 2));
    assert_eq!(reports(&app).await, before + 5);
    // What was imported is what the dashboards see: 梨园's homes are 20 (the 5 are "of which"),
    // stated by both the CSV's and the workbook's report for the same date: counted once.
    let homes = app
        .data(r#"{ organizationCoverage(scope: { region: "110112-liyuan" }, kind: WOMENS_HOME) { count } }"#, json!({}))
        .await;
    assert_eq!(homes["organizationCoverage"][0]["count"], 20);
    let fairs = app
        .data(r#"{ jobFairs(filter: { alliance: "tongwulang", from: "2024-01-01" }) { totalCount edges { node { positionsOffered { value qualifier } report { key } } } } }"#, json!({}))
        .await;
    assert_eq!(fairs["jobFairs"]["totalCount"], 2, "one from the CSV, one from the workbook");
    assert_eq!(
        fairs["jobFairs"]["edges"][0]["node"]["positionsOffered"],
        json!({ "value": 500, "qualifier": "AT_LEAST" })
    );
}

async fn a_file_with_errors_writes_nothing(app: TestApp) {
    let services = Services::new(app.store.clone());
    let before = reports(&app).await;
    let problems = import(&services, &fixture("bad.csv")).await.unwrap().expect_err("problems");
    let at = |row: usize, column: &str| {
        problems.iter().find(|p: &&FileProblem| p.row == Some(row) && p.column.as_deref() == Some(column))
    };
    // Cell-level: a count that is not a number (row 4), reported before anything else is checked.
    assert!(at(4, "received").is_some_and(|p| p.message.contains("\"many\" is not a whole number")), "{problems:#?}");
    assert_eq!(reports(&app).await, before);
    // Fix the cell: now the validation problems, each at its row and column.
    let text = std::fs::read_to_string(fixture("bad.csv")).unwrap().replace(",many,", ",7,");
    let fixed = std::env::temp_dir().join(format!("fulian-bad-{}.csv", std::process::id()));
    std::fs::write(&fixed, text).unwrap();
    let problems = import(&services, &fixed).await.unwrap().expect_err("problems");
    let _ = std::fs::remove_file(&fixed);
    let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for expected in [
        "row 2, column report_region: no region has code 119999",
        "row 2, column resolved: 9 resolved is more than 5 received",
        "row 3, column metric: \"no_such_metric\" is not in the metric catalog",
    ] {
        assert!(rendered.iter().any(|r| r == expected), "missing {expected:?} in {rendered:#?}");
    }
    assert_eq!(reports(&app).await, before, "nothing was written");
}

/// The columns of docs/aggregation.md §2.3–§2.4 in a CSV: `dimensions` (`key=value; …`),
/// `unit`, `per` and `spread`; what the summaries then say; a malformed pair named by row.
async fn imports_carry_dimensions_units_and_per_unit_marks(app: TestApp) {
    let services = Services::new(app.store.clone());
    let dir = TempDir::new("import-dimensions");
    let header = "report_key,report_title,kind,id,scope_region,period_start,period_end,excerpt,metric,value,value_q,dimensions,unit,per,spread";
    let csv = format!(
        "{header}\n\
         import-dims,Dims,METRIC,a,110112-taihu,2032-01-01,2032-12-31,开展技能培训70场,trainings_held,70,,subject=技能培训,,,\n\
         import-dims,Dims,METRIC,b,110112-taihu,2032-01-01,2032-12-31,电商培训10场,trainings_held,10,,subject=电商培训; audience=妇女,,,\n\
         import-dims,Dims,METRIC,c,110112-taihu,2032-01-01,2032-12-31,培训妇女120人,people_trained,120,,,people,,\n\
         import-dims,Dims,METRIC,d,110112-taihu,2032-01-01,2033-12-31,每年产出50吨,agricultural_output_tons,50,,,,year,each\n"
    );
    let path = dir.0.join("dims.csv");
    std::fs::write(&path, csv).unwrap();
    let outcome = import(&services, &path).await.unwrap().expect("no problems");
    assert_eq!((outcome.created, outcome.figures), (1, 4));
    let data = app
        .data(
            r#"{ t: metricSummary(metric: "trainings_held", scope: { region: "110112-taihu" },
                     period: { from: "2032-01-01", to: "2032-12-31" }) { value }
                 p: metricSummary(metric: "people_trained", scope: { region: "110112-taihu" },
                     period: { from: "2032-01-01", to: "2032-12-31" }) { value unit }
                 o: metricSummary(metric: "agricultural_output_tons", scope: { region: "110112-taihu" },
                     period: { from: "2033-01-01", to: "2033-12-31" }) { value } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["t"], json!([{ "value": 80.0 }]), "two things under one code, both counted");
    assert_eq!(data["p"], json!([{ "value": 120.0, "unit": "people" }]));
    assert_eq!(data["o"], json!([{ "value": 50.0 }]), "50 in each year of the two");
    let bad = dir.0.join("bad-dims.csv");
    std::fs::write(
        &bad,
        format!(
            "{header}\nimport-dims-bad,Bad,METRIC,a,110112-taihu,2032-01-01,2032-12-31,x,trainings_held,1,,subject,,,\n"
        ),
    )
    .unwrap();
    let problems: Vec<FileProblem> = import(&services, &bad).await.unwrap().expect_err("refused");
    assert!(problems.iter().any(|p| p.row == Some(2) && p.column.as_deref() == Some("dimensions")), "{problems:?}");
}
