//! The demo dataset: faithful to the source reports, loaded once, all or nothing.

use std::collections::HashMap;

use fulian_graph::domain::dataset::Dataset;
use fulian_graph::store::dataset;
use serde_json::json;

use crate::common::TestApp;
use crate::on_both_backends;

on_both_backends!(loading_again_changes_nothing);

#[test]
fn every_excerpt_is_verbatim_from_its_source_file() {
    let demo = Dataset::demo().expect("the demo dataset parses and is consistent");
    let root = env!("CARGO_MANIFEST_DIR");
    let texts: HashMap<&str, String> = demo
        .reports
        .iter()
        .map(|r| {
            let path = format!("{root}/data/sources/{}", r.source_file);
            (r.key.as_str(), std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        })
        .collect();
    let mut checked = 0;
    for source in demo.all_sources() {
        let text = &texts[source.report.as_str()];
        assert!(text.contains(&source.excerpt), "not in {}: {:?}", source.report, source.excerpt);
        checked += 1;
    }
    assert!(checked > 300, "only {checked} excerpts");
    // Every figure's excerpt too.
    let mut figures = 0;
    for report in &demo.figures {
        let text = &texts[report.report.as_str()];
        let f = &report.figures;
        let excerpts = f
            .job_fairs
            .iter()
            .map(|x| &x.base.excerpt)
            .chain(f.case_statistics.iter().map(|x| &x.base.excerpt))
            .chain(f.organization_counts.iter().map(|x| &x.base.excerpt))
            .chain(f.plan_indicators.iter().map(|x| &x.base.excerpt))
            .chain(f.metrics.iter().map(|x| &x.base.excerpt));
        for excerpt in excerpts {
            assert!(text.contains(excerpt.as_str()), "not in {}: {excerpt:?}", report.report);
            figures += 1;
        }
    }
    assert_eq!(figures, 249, "every figure extracted from the five reports");
}

#[test]
fn the_dataset_names_what_the_reports_name() {
    let demo = Dataset::demo().unwrap();
    let region = |code: &str| demo.regions.iter().find(|r| r.code == code).unwrap_or_else(|| panic!("region {code}"));
    // Official GB/T 2260 codes for the regions of the 通武廊 cooperation and the pairing support.
    for (code, name) in [
        ("110112", "通州区"),
        ("120114", "武清区"),
        ("131000", "廊坊市"),
        ("150426", "翁牛特旗"),
        ("150525", "奈曼旗"),
        ("440307", "龙岗区"),
        ("110111", "房山区"),
    ] {
        assert_eq!(region(code).name, name);
        assert!(!region(code).sources.is_empty(), "{name} is named by a report");
    }
    assert!(demo.alliances.iter().any(|a| a.slug == "jingjinji"));
    assert!(demo.organizations.len() > 150);
    // Parents are filled in up to the province, and those fillers cite nothing.
    assert!(region("150400").sources.is_empty());
    assert_eq!(region("150426").parent.as_deref(), Some("150400"));
}

#[test]
fn an_inconsistent_dataset_is_refused_with_every_problem() {
    let regions = r#"[{"code":"110112","name":"通州区","level":"COUNTY","parent":"119999","sources":[]}]"#;
    let orgs = r#"[{"key":"x","name":"X","short_name":null,"kind":"OTHER","sector":null,"region":"999999","parent":"y",
        "founded_on":null,"founded_precision":null,"member_count":-1,"member_count_qualifier":"EXACT",
        "executive_count":null,"executive_count_qualifier":null,"sources":[{"report":"nope","excerpt":"…"}]}]"#;
    let error = Dataset::parse("[]", regions, "[]", orgs).unwrap_err().to_string();
    for expected in [
        "unknown region 119999",
        "unknown region 999999",
        "unknown parent y",
        "negative member_count",
        "unknown report nope",
    ] {
        assert!(error.contains(expected), "{expected:?} missing from: {error}");
    }
}

async fn loading_again_changes_nothing(app: TestApp) {
    let count = r#"{ regions(first: 0) { totalCount } organizations(first: 0) { totalCount } reports(first: 0) { totalCount } }"#;
    let before = app.data(count, json!({})).await;
    dataset::load(&app.store, &Dataset::demo().unwrap()).await.expect("load again");
    assert_eq!(app.data(count, json!({})).await, before);
    let sources = app.data(r#"{ region(code: "110112") { sources { excerpt } } }"#, json!({})).await;
    let n = sources["region"]["sources"].as_array().unwrap().len();
    dataset::load(&app.store, &Dataset::demo().unwrap()).await.expect("load again");
    let again = app.data(r#"{ region(code: "110112") { sources { excerpt } } }"#, json!({})).await;
    assert_eq!(again["region"]["sources"].as_array().unwrap().len(), n, "no duplicated provenance");
}
