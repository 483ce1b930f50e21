//! `fulian-graph import FILE`: reports and figures from JSON, CSV or Excel (.xlsx) files in
//! the documented templates, with the same validation as `submitReport`. Every problem is
//! reported by row and column; a file with any problem writes nothing.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::{Map, Value, json};

use crate::domain::Services;
use crate::domain::SubmitStatus;
use crate::domain::access::{Caller, Principal, Role};
use crate::domain::submission::ReportSubmission;

/// The table template's columns (CSV header / first row of the first sheet).
pub const COLUMNS: &[&str] = &[
    "report_key",
    "report_title",
    "report_publisher",
    "report_published_on",
    "report_period_start",
    "report_period_end",
    "report_period_note",
    "report_region",
    "report_source_file",
    "kind",
    "id",
    "scope_region",
    "scope_alliance",
    "scope_organization",
    "period_start",
    "period_end",
    "period_note",
    "excerpt",
    "note",
    "category",
    "cumulative",
    "received",
    "received_q",
    "resolved",
    "resolved_q",
    "people_aided",
    "people_aided_q",
    "amount_aided",
    "amount_aided_q",
    "reported_rate",
    "metric",
    "value",
    "value_q",
    "part_of",
    "organization_kind",
    "sector",
    "label",
    "count",
    "count_q",
    "plan",
    "areas",
    "total",
    "total_q",
    "met",
    "met_q",
    "held_on",
    "mode",
    "host_regions",
    "organizers",
    "fairs",
    "fairs_q",
    "employers",
    "employers_q",
    "positions_offered",
    "positions_offered_q",
    "job_seekers",
    "job_seekers_q",
    "intents",
    "intents_q",
    "hires",
    "hires_q",
];

/// A problem in the file, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// 1-based row (the header is row 1), when the problem is in a row.
    pub row: Option<usize>,
    /// Column name, or JSON path.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.row, &self.column) {
            (Some(row), Some(column)) => write!(f, "row {row}, column {column}: {}", self.message),
            (Some(row), None) => write!(f, "row {row}: {}", self.message),
            (None, Some(column)) => write!(f, "{column}: {}", self.message),
            (None, None) => write!(f, "{}", self.message),
        }
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Summary {
    pub created: usize,
    pub unchanged: usize,
    pub revised: usize,
    pub figures: usize,
}

/// Where each figure of a submission came from: (kind path, index) → row.
type Origins = BTreeMap<(String, usize), usize>;

/// Reads, checks and (if there is no problem at all) writes every report in the file.
pub async fn import(services: &Services, path: &Path) -> anyhow::Result<Result<Summary, Vec<FileProblem>>> {
    let (submissions, origins) = match read(path)? {
        Ok(parsed) => parsed,
        Err(problems) => return Ok(Err(problems)),
    };
    let progress = indicatif::ProgressBar::new(submissions.len() as u64 * 2);
    let mut problems = Vec::new();
    for (i, submission) in submissions.iter().enumerate() {
        for problem in services.check_submission(submission, "input").await.map_err(|e| anyhow::anyhow!(e.message()))? {
            problems.push(locate(&problem.path, &problem.message, origins.get(i)));
        }
        progress.inc(1);
    }
    if !problems.is_empty() {
        progress.abandon();
        return Ok(Err(problems));
    }
    let caller = Caller::authenticated(Principal { sub: "cli:import".into(), role: Role::Admin, region: None });
    let mut summary = Summary::default();
    for submission in &submissions {
        let outcome = services.submit_report(&caller, submission).await.map_err(|e| anyhow::anyhow!(e.message()))?;
        match outcome.status {
            SubmitStatus::Created => summary.created += 1,
            SubmitStatus::Unchanged => summary.unchanged += 1,
            SubmitStatus::Revised => summary.revised += 1,
        }
        summary.figures += submission.figures.len();
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(Ok(summary))
}

/// Maps a validation path (`input.figures.caseStatistics[2].received.value`) to its row/column.
fn locate(path: &str, message: &str, origins: Option<&(Origins, usize)>) -> FileProblem {
    let Some((origins, first_row)) = origins else {
        return FileProblem { row: None, column: Some(path.to_owned()), message: message.to_owned() };
    };
    let rest = path.strip_prefix("input.").unwrap_or(path);
    if let Some(figure) = rest.strip_prefix("figures.") {
        let (head, tail) = figure.split_once('.').unwrap_or((figure, ""));
        if let Some((kind, index)) = head.split_once('[') {
            let index: usize = index.trim_end_matches(']').parse().unwrap_or(0);
            let row = origins.get(&(kind.to_owned(), index)).copied();
            let column = tail.split('.').next().filter(|c| !c.is_empty()).map(snake).or(Some("id".into()));
            let column = column.map(|c| if c == "scope" { "scope_region".to_owned() } else { c });
            return FileProblem { row, column, message: message.to_owned() };
        }
    }
    let column = format!("report_{}", snake(rest.split('.').next().unwrap_or(rest)));
    FileProblem { row: Some(*first_row), column: Some(column), message: message.to_owned() }
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Per submission: its figures' rows, and the row of its first line.
type Parsed = (Vec<ReportSubmission>, Vec<(Origins, usize)>);

fn read(path: &Path) -> anyhow::Result<Result<Parsed, Vec<FileProblem>>> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match extension.as_str() {
        "json" => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(read_json(&text))
        }
        "csv" => {
            let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(path)?;
            let mut rows = Vec::new();
            for record in reader.records() {
                rows.push(record?.iter().map(str::to_owned).collect());
            }
            Ok(read_table(rows))
        }
        "xlsx" => {
            use calamine::{Reader, Xlsx, open_workbook};
            let mut book: Xlsx<_> = open_workbook(path).with_context(|| format!("cannot open {}", path.display()))?;
            let sheet = book.worksheet_range_at(0).context("the workbook has no sheet")??;
            let rows = sheet.rows().map(|r| r.iter().map(cell_text).collect()).collect();
            Ok(read_table(rows))
        }
        other => bail!("unsupported file type {other:?}: use .json, .csv or .xlsx"),
    }
}

fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        // Excel dates count days from 1899-12-30.
        Data::DateTime(d) => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|epoch| epoch.checked_add_days(chrono::Days::new(d.as_f64().max(0.0) as u64)))
            .map(|day| day.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

/// JSON: one report submission (the shape of `data/figures.json` entries with the report's
/// fields) or an array of them.
fn read_json(text: &str) -> Result<Parsed, Vec<FileProblem>> {
    let problem = |e: serde_json::Error| {
        vec![FileProblem {
            row: Some(e.line()),
            column: Some(format!("character {}", e.column())),
            message: e.to_string(),
        }]
    };
    let value: Value = serde_json::from_str(text).map_err(problem)?;
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut submissions = Vec::new();
    let mut origins = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let submission: ReportSubmission = serde_json::from_value(item)
            .map_err(|e| vec![FileProblem { row: None, column: Some(format!("[{i}]")), message: e.to_string() }])?;
        submissions.push(submission);
        origins.push((Origins::new(), 1));
    }
    Ok((submissions, origins))
}

/// One report being assembled from table rows.
struct TableReport {
    key: String,
    report: Map<String, Value>,
    figures: Map<String, Value>,
    rows: Origins,
    first_row: usize,
}

const KINDS: &[(&str, &str)] = &[
    ("JOB_FAIR", "jobFairs"),
    ("CASE_STATISTIC", "caseStatistics"),
    ("ORGANIZATION_COUNT", "organizationCounts"),
    ("PLAN_INDICATOR", "planIndicators"),
    ("METRIC", "metrics"),
];

const COUNTS: &[&str] = &[
    "received",
    "resolved",
    "people_aided",
    "count",
    "total",
    "met",
    "fairs",
    "employers",
    "positions_offered",
    "job_seekers",
    "intents",
    "hires",
];

/// Tables (CSV, Excel): a header row with the template's columns, then one figure per row;
/// the report's columns repeat on each of its rows.
fn read_table(rows: Vec<Vec<String>>) -> Result<Parsed, Vec<FileProblem>> {
    let mut rows = rows.into_iter().enumerate();
    let Some((_, header)) = rows.next() else {
        return Err(vec![FileProblem { row: Some(1), column: None, message: "the file is empty".into() }]);
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let mut problems = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if !name.is_empty() && !COLUMNS.contains(&name.as_str()) {
            problems.push(FileProblem {
                row: Some(1),
                column: Some(format!("{} ({name})", i + 1)),
                message: "unknown column".into(),
            });
        }
    }
    for required in ["report_key", "report_title", "kind", "id", "excerpt"] {
        if !header.iter().any(|h| h == required) {
            problems.push(FileProblem {
                row: Some(1),
                column: Some(required.into()),
                message: "required column is missing".into(),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut reports: Vec<TableReport> = Vec::new();
    for (index, cells) in rows {
        let row = index + 1;
        let get = |name: &str| -> Option<String> {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| cells.get(i))
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut bad = |column: &str, message: String| {
            problems.push(FileProblem { row: Some(row), column: Some(column.to_owned()), message })
        };
        let key = get("report_key").unwrap_or_default();
        let position = match reports.iter().position(|r| r.key == key) {
            Some(p) => p,
            None => {
                let mut report = Map::new();
                for (column, field) in [
                    ("report_key", "key"),
                    ("report_title", "title"),
                    ("report_publisher", "publisher"),
                    ("report_published_on", "published_on"),
                    ("report_region", "region"),
                    ("report_source_file", "source_file"),
                ] {
                    if let Some(v) = get(column) {
                        report.insert(field.into(), json!(v));
                    }
                }
                let period: Map<String, Value> =
                    [("report_period_start", "start"), ("report_period_end", "end"), ("report_period_note", "note")]
                        .iter()
                        .filter_map(|(c, f)| get(c).map(|v| ((*f).to_owned(), json!(v))))
                        .collect();
                report.insert("period".into(), Value::Object(period));
                reports.push(TableReport {
                    key: key.clone(),
                    report,
                    figures: Map::new(),
                    rows: Origins::new(),
                    first_row: row,
                });
                reports.len() - 1
            }
        };
        let kind = get("kind").unwrap_or_default();
        let Some((_, list)) = KINDS.iter().find(|(k, _)| *k == kind.to_ascii_uppercase()) else {
            bad(
                "kind",
                format!("{kind:?} is not one of JOB_FAIR, CASE_STATISTIC, ORGANIZATION_COUNT, PLAN_INDICATOR, METRIC"),
            );
            continue;
        };
        let mut figure = Map::new();
        for (column, field) in [
            ("id", "id"),
            ("excerpt", "excerpt"),
            ("note", "note"),
            ("category", "category"),
            ("metric", "metric"),
            ("part_of", "part_of"),
            ("organization_kind", "organization_kind"),
            ("sector", "sector"),
            ("label", "label"),
            ("plan", "plan"),
            ("held_on", "held_on"),
            ("mode", "mode"),
        ] {
            if let Some(v) = get(column) {
                figure.insert(field.into(), json!(v));
            }
        }
        let scope: Vec<(&str, String)> =
            [("region", "scope_region"), ("alliance", "scope_alliance"), ("organization", "scope_organization")]
                .iter()
                .filter_map(|(k, c)| get(c).map(|v| (*k, v)))
                .collect();
        match scope.as_slice() {
            [(kind, value)] => {
                figure.insert("scope".into(), json!({ *kind: value }));
            }
            _ => bad("scope_region", "give exactly one of scope_region, scope_alliance, scope_organization".into()),
        }
        let period: Map<String, Value> = [("period_start", "start"), ("period_end", "end"), ("period_note", "note")]
            .iter()
            .filter_map(|(c, f)| get(c).map(|v| ((*f).to_owned(), json!(v))))
            .collect();
        figure.insert("period".into(), Value::Object(period));
        for name in COUNTS {
            if let Some(text) = get(name) {
                match text.replace([',', '，'], "").parse::<i64>() {
                    Ok(value) => {
                        let qualifier =
                            get(&format!("{name}_q")).unwrap_or_else(|| "EXACT".into()).to_ascii_uppercase();
                        figure.insert((*name).into(), json!({ "value": value, "qualifier": qualifier }));
                    }
                    Err(_) => bad(name, format!("{text:?} is not a whole number")),
                }
            }
        }
        for name in ["amount_aided", "value"] {
            if let Some(text) = get(name) {
                match text.replace([',', '，'], "").parse::<f64>() {
                    Ok(value) => {
                        let qualifier =
                            get(&format!("{name}_q")).unwrap_or_else(|| "EXACT".into()).to_ascii_uppercase();
                        figure.insert(name.into(), json!({ "value": value, "qualifier": qualifier }));
                    }
                    Err(_) => bad(name, format!("{text:?} is not a number")),
                }
            }
        }
        for (name, is_int) in [("reported_rate", false), ("areas", true)] {
            if let Some(text) = get(name) {
                match (text.parse::<f64>(), is_int) {
                    (Ok(v), false) => {
                        figure.insert(name.into(), json!(v));
                    }
                    (Ok(v), true) if v.fract() == 0.0 => {
                        figure.insert(name.into(), json!(v as i64));
                    }
                    _ => bad(name, format!("{text:?} is not a number")),
                }
            }
        }
        if let Some(text) = get("cumulative") {
            match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => {
                    figure.insert("cumulative".into(), json!(true));
                }
                "false" | "no" | "0" => {}
                _ => bad("cumulative", format!("{text:?} is not true or false")),
            }
        }
        for name in ["host_regions", "organizers"] {
            if let Some(text) = get(name) {
                let items: Vec<&str> = text.split([';', '；']).map(str::trim).filter(|s| !s.is_empty()).collect();
                figure.insert(name.into(), json!(items));
            }
        }
        let entry = &mut reports[position];
        let figures = entry.figures.entry((*list).to_owned()).or_insert_with(|| json!([]));
        let figures = figures.as_array_mut().expect("an array");
        entry.rows.insert(((*list).to_owned(), figures.len()), row);
        figures.push(Value::Object(figure));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut submissions = Vec::new();
    let mut origins = Vec::new();
    for TableReport { mut report, figures, rows: figure_rows, first_row, .. } in reports {
        let figures: Map<String, Value> = figures.into_iter().map(|(k, v)| (snake(&k), v)).collect();
        report.insert("figures".into(), Value::Object(figures));
        match serde_json::from_value::<ReportSubmission>(Value::Object(report)) {
            Ok(submission) => {
                submissions.push(submission);
                origins.push((figure_rows, first_row));
            }
            Err(e) => problems.push(FileProblem { row: Some(first_row), column: None, message: e.to_string() }),
        }
    }
    if problems.is_empty() { Ok((submissions, origins)) } else { Err(problems) }
}
