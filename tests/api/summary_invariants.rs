//! Ways of asking never contradict each other (issue 13; rules in docs/aggregation.md).
//! Invariants that need no reference, over generated case statistics submitted through
//! `submitReport`, on both backends, answered warm (response and summary caches on) and cold
//! (a fresh replica, its caches empty) alike:
//!
//! - **a filter is a group**: `caseSummary(category: C)` equals the C row of the same summary
//!   grouped by category as well, for every grouping and window;
//! - **order and split do not matter**: the same figures submitted as one report, or split over
//!   several reports in another order, give the same answers;
//! - **re-submission changes nothing**: the same report again is `UNCHANGED` and every answer stays;
//! - **locality**: a report about regions outside a scope changes no answer for that scope.
//!
//! Each generated case lives in years of its own (`Block`), so cases never see each other's
//! figures; proptest shrinks a failing case to a minimal set of figures. The demo dataset is
//! held to the first invariant too, over every region and year it has case statistics for.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::common::{Db, TestApp, admin, test_settings};

/// Regions figures are stated for: a province, two of its districts, and towns of each.
const REGIONS: [&str; 6] = ["110000", "110112", "110112-liyuan", "110112-taihu", "110111", "110111-doudian"];
/// The scopes summaries are asked for.
const SCOPES: [&str; 3] = ["110000", "110112", "110111"];
const CATEGORIES: [&str; 3] = ["RIGHTS_PROTECTION", "HOTLINE", "PETITION_VISIT"];
const QUALIFIERS: [&str; 3] = ["EXACT", "AT_LEAST", "APPROXIMATE"];
/// Groupings without CATEGORY (each is also asked with CATEGORY added).
const GROUPINGS: [&[&str]; 5] = [&[], &["YEAR"], &["QUARTER"], &["MONTH"], &["REGION"]];

/// A period relative to a block: (year offset, month, day) of its first and last days.
type Span = ((i32, u32, u32), (i32, u32, u32));

/// The periods a figure may state, as (start, end) in (year offset, month, day), relative to
/// a block's first year; the last is a cumulative total over both years.
const PERIODS: [Span; 10] = [
    ((0, 1, 1), (0, 12, 31)),
    ((0, 1, 1), (0, 6, 30)),
    ((0, 1, 1), (0, 3, 31)),
    ((0, 1, 1), (0, 1, 31)),
    ((0, 2, 1), (0, 2, 28)),
    ((0, 4, 1), (0, 6, 30)),
    ((0, 12, 1), (0, 12, 31)),
    ((1, 1, 1), (1, 12, 31)),
    ((0, 3, 1), (1, 2, 28)),
    ((0, 1, 1), (1, 12, 31)),
];
/// The windows summaries are asked for (same encoding); the first spans the block.
const WINDOWS: [Span; 6] = [
    ((0, 1, 1), (1, 12, 31)),
    ((0, 1, 1), (0, 12, 31)),
    ((0, 1, 1), (0, 3, 31)),
    ((0, 1, 1), (0, 1, 31)),
    ((1, 1, 1), (1, 12, 31)),
    ((0, 1, 1), (0, 6, 30)),
];

/// Every window.
const ALL: [usize; 6] = [0, 1, 2, 3, 4, 5];

/// Two years of their own for one generated case: never leap years, so that shifting a case
/// to another block keeps every date valid.
#[derive(Clone, Copy, Debug)]
struct Block(i32);

impl Block {
    fn next() -> Self {
        use std::sync::atomic::{AtomicI32, Ordering};
        static NEXT: AtomicI32 = AtomicI32::new(0);
        // 2101, 2105, … : both years of a block (y, y + 1) are ≡ 1, 2 (mod 4), never leap.
        Self(2101 + 4 * NEXT.fetch_add(1, Ordering::Relaxed))
    }

    fn date(self, (year, month, day): (i32, u32, u32)) -> String {
        format!("{:04}-{month:02}-{day:02}", self.0 + year)
    }
}

/// A generated case statistic.
#[derive(Clone, Debug)]
struct Fig {
    region: usize,
    category: usize,
    period: usize,
    received: Option<(i32, usize)>,
    resolved: Option<(i32, usize)>,
    people: Option<(i32, usize)>,
}

impl Fig {
    fn input(&self, n: usize, block: Block) -> Value {
        let (start, end) = PERIODS[self.period];
        let count = |c: Option<(i32, usize)>| c.map(|(value, q)| json!({ "value": value, "qualifier": QUALIFIERS[q] }));
        json!({
            "id": format!("c{n}"),
            "scope": { "region": REGIONS[self.region] },
            "period": { "start": block.date(start), "end": block.date(end) },
            "excerpt": format!("generated figure {n}"),
            "category": CATEGORIES[self.category],
            "cumulative": self.period == PERIODS.len() - 1,
            "received": count(self.received),
            // Never more than received (a rule of submission, not of summaries).
            "resolved": count(self.resolved.map(|(v, q)| (self.received.map_or(v, |(r, _)| v.min(r)), q))),
            "peopleAided": count(self.people),
        })
    }

    /// What makes two figures state the same thing for the same unit and period: generated
    /// sets have at most one figure per key, so that no restatement depends on report order.
    fn key(&self) -> (usize, usize, usize) {
        (self.region, self.category, self.period)
    }
}

fn figure() -> impl Strategy<Value = Fig> {
    let count = || proptest::option::weighted(0.8, (0..500i32, 0..QUALIFIERS.len()));
    (0..REGIONS.len(), 0..CATEGORIES.len(), 0..PERIODS.len(), count(), count(), count()).prop_map(
        |(region, category, period, received, resolved, people)| Fig {
            region,
            category,
            period,
            received,
            resolved,
            people,
        },
    )
}

/// A set of figures, one per key, and a way to split and reorder them into reports.
fn case() -> impl Strategy<Value = (Vec<Fig>, Vec<usize>, Vec<usize>)> {
    proptest::collection::vec(figure(), 1..10)
        .prop_map(|figures| {
            let mut seen = std::collections::BTreeSet::new();
            figures.into_iter().filter(|f| seen.insert(f.key())).collect::<Vec<_>>()
        })
        .prop_flat_map(|figures| {
            let n = figures.len();
            // Per figure: which of up to three reports it goes to, and its rank in the order.
            (Just(figures), proptest::collection::vec(0..3usize, n), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
}

const SUBMIT: &str = "mutation($input: ReportSubmissionInput!) { submitReport(input: $input) { status } }";

/// Submits figures as one report; returns its status.
async fn submit(app: &TestApp, key: &str, figures: &[(usize, &Fig)], block: Block) -> String {
    let input = json!({
        "key": key,
        "title": format!("generated {key}"),
        "figures": { "caseStatistics": figures.iter().map(|(n, f)| f.input(*n, block)).collect::<Vec<_>>() },
    });
    let data = app.data_as(Some(&admin()), SUBMIT, json!({ "input": input })).await;
    data["submitReport"]["status"].as_str().unwrap_or_default().to_owned()
}

const ROW: &str = "region { code } year quarter month category qualifier coverage { reporting total } \
                   sources { key } received resolved resolutionRate peopleAided amountAided \
                   explain { counted { rule measures figure { report { key } ... on CaseStatistic { received { value } \
                   resolved { value } peopleAided { value } amountAided } } } leftOut { rule } }";

/// Every summary of a block a case asks for, by a name saying what it is: for each scope and
/// window, each grouping with and without CATEGORY, and each grouping filtered to each category.
async fn answers(app: &TestApp, block: Block, scopes: &[&str], windows: &[usize]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for scope in scopes {
        for &w in windows {
            let (start, end) = &WINDOWS[w];
            let mut fields = Vec::new();
            for (g, grouping) in GROUPINGS.iter().enumerate() {
                let mut with_category = grouping.to_vec();
                with_category.push("CATEGORY");
                fields.push((format!("g{g}"), grouping.join(", "), None));
                fields.push((format!("g{g}c"), with_category.join(", "), None));
                for (c, category) in CATEGORIES.iter().enumerate() {
                    fields.push((format!("g{g}f{c}"), grouping.join(", "), Some(*category)));
                }
            }
            let variables = json!({
                "scope": { "region": scope },
                "period": { "from": block.date(*start), "to": block.date(*end) },
            });
            // Within the default limits (replicas run with the defaults): each `explain` costs
            // 3,000 of the 10,000 a query may cost, so three summaries a query.
            for chunk in fields.chunks(3) {
                let query = format!(
                    "query($scope: ScopeInput!, $period: PeriodInput) {{ {} }}",
                    chunk
                        .iter()
                        .map(|(alias, groups, category)| {
                            let category = category.map(|c| format!(", category: {c}")).unwrap_or_default();
                            format!(
                                "{alias}: caseSummary(scope: $scope, period: $period, groupBy: [{groups}]{category}) \
                                 {{ {ROW} }}"
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                let data = app.data(&query, variables.clone()).await;
                for (alias, _, _) in chunk {
                    if let Err(problem) = explains_itself(&data[alias.as_str()]) {
                        out.insert(format!("!{scope} w{w} {alias}"), json!(problem));
                    }
                    out.insert(format!("{scope} w{w} {alias}"), normalized(&data[alias.as_str()], block));
                }
            }
        }
    }
    out
}

/// Whether every row's `explain` accounts for its numbers: the counted figures add up to the
/// row's received, resolved, people and money aided, their reports are the row's sources, and
/// every figure left out names its rule.
fn explains_itself(rows: &Value) -> Result<(), String> {
    for row in rows.as_array().expect("summary rows") {
        let counted = row["explain"]["counted"].as_array().expect("counted");
        for (field, value) in
            [("received", "/value"), ("resolved", "/value"), ("peopleAided", "/value"), ("amountAided", "")]
        {
            // Each entry names the measures it counts (the rules decide each on its own).
            let values: Vec<f64> = counted
                .iter()
                .filter(|c| c["measures"].as_array().is_some_and(|m| m.iter().any(|m| m == field)))
                .filter_map(|c| c["figure"][field].pointer(value).and_then(Value::as_f64))
                .collect();
            let sum = (!values.is_empty()).then(|| values.iter().sum::<f64>());
            let stated = row[field].as_f64();
            let same = match (sum, stated) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-6 * a.abs().max(1.0),
                (None, None) => true,
                _ => false,
            };
            if !same {
                return Err(format!("{field} is {stated:?} but its counted figures add up to {sum:?}: {row:#}"));
            }
        }
        let reports: std::collections::BTreeSet<&str> =
            counted.iter().filter_map(|c| c["figure"]["report"]["key"].as_str()).collect();
        let sources: std::collections::BTreeSet<&str> =
            row["sources"].as_array().expect("sources").iter().filter_map(|s| s["key"].as_str()).collect();
        if reports != sources {
            return Err(format!("sources {sources:?} but the counted figures come from {reports:?}: {row:#}"));
        }
        if counted.iter().any(|c| !c["rule"].is_null())
            || row["explain"]["leftOut"].as_array().expect("left out").iter().any(|l| l["rule"].as_str().is_none())
        {
            return Err(format!("a counted figure with a rule, or one left out without: {row:#}"));
        }
    }
    Ok(())
}

/// Problems `explains_itself` found in a set of answers.
fn explained(answers: &BTreeMap<String, Value>) -> Result<(), String> {
    match answers.iter().find(|(name, _)| name.starts_with('!')) {
        Some((name, problem)) => Err(format!("{name}: {}", problem.as_str().unwrap_or_default())),
        None => Ok(()),
    }
}

/// A summary's rows as they compare between blocks: years relative to the block's first, and
/// without the reports they come from (which differ between two submissions) or the figures
/// that explain them (their IDs differ too).
fn normalized(rows: &Value, block: Block) -> Value {
    let rows = rows.as_array().expect("summary rows");
    Value::Array(
        rows.iter()
            .map(|row| {
                let mut row = row.clone();
                row["sources"] = Value::Null;
                row["explain"] = Value::Null;
                if let Some(year) = row["year"].as_i64() {
                    row["year"] = json!(year - i64::from(block.0));
                }
                row
            })
            .collect(),
    )
}

/// Whether two answers say the same, treating an absent row like a row of nothing reported.
fn same_rows(filtered: &Value, grouped_rows: &[Value]) -> bool {
    let empty = |rows: &[Value]| {
        rows.iter().all(|r| r["received"].is_null() && r["resolved"].is_null() && r["peopleAided"].is_null())
    };
    let filtered = filtered.as_array().expect("rows");
    if empty(filtered) && empty(grouped_rows) {
        return true;
    }
    filtered.len() == grouped_rows.len() && filtered.iter().zip(grouped_rows).all(|(a, b)| a == b)
}

/// Checks the first invariant over a set of answers: each filtered summary equals the rows of
/// its category in the summary grouped by category too (with the category field left out).
fn filters_are_groups(answers: &BTreeMap<String, Value>) -> Result<(), String> {
    for (name, filtered) in answers {
        // Names end in the alias: `g<grouping>f<category>` for a filtered summary.
        let Some((at, alias)) = name.rsplit_once(' ') else { continue };
        let Some((grouping, category)) = alias.split_once('f') else { continue };
        let Ok(c) = category.parse::<usize>() else { continue };
        let grouped = &answers[&format!("{at} {grouping}c")];
        let rows: Vec<Value> = grouped
            .as_array()
            .expect("rows")
            .iter()
            .filter(|r| r["category"] == CATEGORIES[c])
            .map(|r| {
                let mut r = r.clone();
                r["category"] = Value::Null;
                r
            })
            .collect();
        let filtered: Value = Value::Array(
            filtered
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r["category"] = Value::Null;
                    r
                })
                .collect(),
        );
        if !same_rows(&filtered, &rows) {
            return Err(format!(
                "{name}: filtered to {} it says\n{filtered:#}\nbut grouped by category, that row says\n{:#}",
                CATEGORIES[c],
                Value::Array(rows)
            ));
        }
    }
    Ok(())
}

async fn app(db: Db) -> TestApp {
    TestApp::start(db, test_settings()).await
}

/// Checks every invariant for one generated case.
async fn check_case(app: &TestApp, figures: &[Fig], reports: &[usize], order: &[usize]) -> Result<(), String> {
    let (one, split) = (Block::next(), Block::next());
    let numbered: Vec<(usize, &Fig)> = figures.iter().enumerate().collect();

    // As one report; re-submitted, nothing changes.
    let key = format!("inv-{}", one.0);
    assert_eq!(submit(app, &key, &numbered, one).await, "CREATED");
    let warm = answers(app, one, &SCOPES, &ALL).await;
    explained(&warm)?;
    filters_are_groups(&warm)?;
    assert_eq!(submit(app, &key, &numbered, one).await, "UNCHANGED");
    let again = answers(app, one, &SCOPES, &ALL).await;
    let cold = answers(&app.replica(), one, &SCOPES, &ALL).await;
    explained(&cold)?;
    for (name, answer) in &warm {
        if again[name] != *answer {
            return Err(format!("{name} changed when the same report was submitted again"));
        }
        if cold[name] != *answer {
            return Err(format!("{name}: cached {answer:#}, computed afresh {:#}", cold[name]));
        }
    }

    // Split over reports, in another order; figures of 110111 last, and until then every
    // answer about 110112 is already what it will be (locality).
    let ordered: Vec<(usize, &Fig)> = order.iter().map(|&i| numbered[i]).collect();
    let (outside, inside): (Vec<_>, Vec<_>) =
        ordered.into_iter().partition(|(_, f)| REGIONS[f.region].starts_with("110111"));
    for r in 0..3 {
        let part: Vec<(usize, &Fig)> = inside.iter().copied().filter(|(n, _)| reports[*n] == r).collect();
        if !part.is_empty() {
            assert_eq!(submit(app, &format!("inv-{}-{r}", split.0), &part, split).await, "CREATED");
        }
    }
    let before = answers(app, split, &["110112"], &ALL).await;
    if !outside.is_empty() {
        assert_eq!(submit(app, &format!("inv-{}-outside", split.0), &outside, split).await, "CREATED");
    }
    let after = answers(app, split, &SCOPES, &ALL).await;
    for (name, answer) in &before {
        if after[name] != *answer {
            return Err(format!(
                "{name} changed when a report about 110111 only came in:\nbefore {answer:#}\nafter {:#}",
                after[name]
            ));
        }
    }
    for (name, answer) in &warm {
        if after[name] != *answer {
            return Err(format!(
                "{name}: as one report {answer:#}\nsplit over reports in another order {:#}",
                after[name]
            ));
        }
    }
    Ok(())
}

/// How many generated cases each backend runs (each asks a few thousand summaries).
const CASES: u32 = 12;

async fn generated_cases_hold_the_invariants(db: Db) {
    let app = app(db).await;
    let handle = tokio::runtime::Handle::current();
    let mut runner =
        TestRunner::new(Config { cases: CASES, max_shrink_iters: 64, failure_persistence: None, ..Config::default() });
    let outcome = tokio::task::block_in_place(|| {
        runner.run(&case(), |(figures, reports, order)| {
            handle.block_on(check_case(&app, &figures, &reports, &order)).map_err(TestCaseError::fail)
        })
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

async fn demo_filters_are_groups(db: Db) {
    let app = app(db).await;
    // Every region with case statistics, with its ancestors, and every year stated.
    const LIST: &str = "query($after: String) { caseStatistics(first: 100, after: $after) { \
        pageInfo { hasNextPage endCursor } edges { node { periodStart periodEnd region { code ancestors { code } } } } } }";
    let mut pairs = std::collections::BTreeSet::new();
    let mut after = Value::Null;
    loop {
        let data = app.data(LIST, json!({ "after": after })).await;
        let page = &data["caseStatistics"];
        for edge in page["edges"].as_array().expect("edges") {
            let node = &edge["node"];
            let Some(region) = node["region"]["code"].as_str() else { continue };
            let year = |d: &Value| d.as_str().and_then(|d| d[..4].parse::<i32>().ok()).expect("a date");
            let ancestors = node["region"]["ancestors"].as_array().into_iter().flatten();
            for scope in ancestors.filter_map(|a| a["code"].as_str()).chain([region]) {
                for y in year(&node["periodStart"])..=year(&node["periodEnd"]) {
                    pairs.insert((y, scope.to_owned()));
                }
            }
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert!(pairs.contains(&(2013, "110112".to_owned())), "{pairs:?}");
    let mut problems = Vec::new();
    for (year, scope) in &pairs {
        // The year as a block's first year: windows of that year (whole, first quarter, January).
        let answers = answers(&app, Block(*year), &[scope.as_str()], &[1, 2, 3]).await;
        if let Err(problem) = filters_are_groups(&answers) {
            problems.push(format!("{year}: {problem}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} regions and years contradict themselves; the first: {}",
        problems.len(),
        pairs.len(),
        problems[0]
    );
}

crate::on_both_dbs!(generated_cases_hold_the_invariants, demo_filters_are_groups);
