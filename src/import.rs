//! `fulian-graph import FILE`: reports and figures from JSON, CSV or Excel (.xlsx) files in
//! the documented templates, with the same validation as `submitReport`. Every problem is
//! reported by row and column; a file with any problem writes nothing, and a file is written
//! in one transaction: whole or not at all.
//!
//! What a file may hold is bounded ([`MAX_FILE_BYTES`], [`MAX_XLSX_INFLATED_BYTES`],
//! [`MAX_ROWS`], [`MAX_COLUMNS`]): tables are read row by row and stop at the first row past
//! the limit, and a workbook's parts are measured before any is inflated, so neither a huge
//! CSV nor a small workbook that inflates to gigabytes can exhaust memory.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::{Map, Value, json};

use crate::domain::SubmitStatus;
use crate::domain::access::{Caller, Principal, Role};
use crate::domain::submission::ReportSubmission;
use crate::domain::{ImportFailure, Services};
use crate::error::AppError;

/// The largest file imported, in bytes (8 MiB: tens of thousands of figures).
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The most a workbook (.xlsx) may inflate to, all its parts together, in bytes (64 MiB).
pub const MAX_XLSX_INFLATED_BYTES: u64 = 64 * 1024 * 1024;

/// The most rows a table (CSV, first sheet of a workbook) may have below its header, and the
/// most reports plus figures a JSON file may hold.
pub const MAX_ROWS: usize = 20_000;

/// The most columns a table may use (the template has 61).
pub const MAX_COLUMNS: usize = 100;

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
    "dimensions",
    "unit",
    "per",
    "spread",
    "reported_rate_q",
    "areas_q",
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

/// Reads, checks and (if there is no problem at all) writes every report in the file, in one
/// transaction: a failure while writing writes nothing, and names the report where it happened.
pub async fn import(services: &Services, path: &Path) -> anyhow::Result<Result<Summary, Vec<FileProblem>>> {
    let (submissions, origins) = match read(path)? {
        Ok(parsed) => parsed,
        Err(problems) => return Ok(Err(problems)),
    };
    let progress = indicatif::ProgressBar::new(submissions.len() as u64 + 1);
    let mut problems = Vec::new();
    for (i, submission) in submissions.iter().enumerate() {
        let found = services
            .check_submission(submission, "input")
            .await
            .map_err(|e| anyhow::anyhow!("report {:?}: {}", submission.key, describe(&e)))?;
        for problem in found {
            problems.push(locate(&problem.path, &problem.message, i, origins.get(i)));
        }
        progress.inc(1);
    }
    if !problems.is_empty() {
        progress.abandon();
        return Ok(Err(problems));
    }
    let caller = Caller::authenticated(Principal { sub: "cli:import".into(), role: Role::Admin, region: None });
    let outcomes = match services.import_reports(&caller, &submissions).await {
        Ok(outcomes) => outcomes,
        Err(ImportFailure { report, error }) => {
            progress.abandon();
            return Ok(Err(failure_problems(report, &error, &submissions, &origins)));
        }
    };
    let mut summary = Summary::default();
    for (outcome, submission) in outcomes.iter().zip(&submissions) {
        match outcome.status {
            SubmitStatus::Created => summary.created += 1,
            SubmitStatus::Unchanged => summary.unchanged += 1,
            SubmitStatus::Revised => summary.revised += 1,
        }
        summary.figures += submission.figures.len();
    }
    progress.finish_and_clear();
    Ok(Ok(summary))
}

/// An error as the operator running an import should read it: internal ones with their cause.
fn describe(error: &AppError) -> String {
    match error {
        AppError::Internal(cause) => format!("internal error: {cause:#}"),
        other => other.message(),
    }
}

/// Where an import failed while writing, as problems of the file (nothing was written).
fn failure_problems(
    report: Option<usize>,
    error: &AppError,
    submissions: &[ReportSubmission],
    origins: &[(Origins, usize)],
) -> Vec<FileProblem> {
    let Some(i) = report else {
        return vec![FileProblem {
            row: None,
            column: None,
            message: format!("nothing was imported: {}", describe(error)),
        }];
    };
    let key = submissions.get(i).map_or("", |s| s.key.as_str());
    match error {
        AppError::BadUserInput(problems) => {
            problems.iter().map(|p| locate(&p.path, &p.message, i, origins.get(i))).collect()
        }
        other => vec![FileProblem {
            row: origins.get(i).map(|(_, first_row)| *first_row).filter(|row| *row > 0),
            column: Some(format!("report {} ({key})", i + 1)),
            message: describe(other),
        }],
    }
}

/// Maps a validation path (`input.figures.caseStatistics[2].received.value`) to its row/column.
/// JSON files have no rows: a problem there is located by the report's index in the file and
/// its path in the file's own (snake_case) terms, e.g. `[2].figures.case_statistics[0].excerpt`.
fn locate(path: &str, message: &str, index: usize, origins: Option<&(Origins, usize)>) -> FileProblem {
    let rest = path.strip_prefix("input.").unwrap_or(path);
    let Some((origins, first_row)) = origins.filter(|(_, first_row)| *first_row > 0) else {
        return FileProblem {
            row: None,
            column: Some(format!("[{index}].{}", snake(rest))),
            message: message.to_owned(),
        };
    };
    if let Some(figure) = rest.strip_prefix("figures.") {
        let (head, tail) = figure.split_once('.').unwrap_or((figure, ""));
        if let Some((kind, index)) = head.split_once('[') {
            let index: usize = index.trim_end_matches(']').parse().unwrap_or(0);
            let row = origins.get(&(kind.to_owned(), index)).copied();
            // The CSV column of a field: `period.end` is `period_end`, a scope is named by region.
            let mut parts = tail.split('.');
            let column = match (parts.next().filter(|c| !c.is_empty()), parts.next()) {
                (Some("period"), Some(end @ ("start" | "end" | "note"))) => Some(format!("period_{end}")),
                (Some("scope"), _) => Some("scope_region".to_owned()),
                (Some(field), _) => Some(snake(field)),
                (None, _) => Some("id".to_owned()),
            };
            return FileProblem { row, column, message: message.to_owned() };
        }
    }
    let column = match rest.split_once('.') {
        Some(("period", end @ ("start" | "end" | "note"))) => format!("report_period_{end}"),
        _ => format!("report_{}", snake(rest.split('.').next().unwrap_or(rest))),
    };
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

/// A problem with the file as a whole (no row).
fn whole_file(message: String) -> Vec<FileProblem> {
    vec![FileProblem { row: None, column: None, message }]
}

/// The first value of an attribute `r="…"` after whitespace (a cell's or a row's reference) in a sheet's XML
/// that is not a reference Excel can write: letters (at most three), then digits (one to
/// seven). Reads the part as a stream, holding one reference at a time.
fn malformed_cell_reference(part: impl std::io::Read) -> Option<String> {
    use std::io::BufRead as _;
    const OPENING: &[u8] = b" r=\"";
    let mut reader = std::io::BufReader::new(part);
    // How much of OPENING the last bytes matched, and the reference read so far once it has.
    let (mut matched, mut reference): (usize, Option<Vec<u8>>) = (0, None);
    let well_formed = |r: &[u8]| {
        let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let digits = &r[letters..];
        letters <= 3 && (1..=7).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
    };
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            // Not inflatable: calamine reports it, located, when it reads the sheet.
            Err(_) => return None,
        };
        if buffer.is_empty() {
            return None;
        }
        for &byte in buffer {
            match &mut reference {
                Some(r) if byte == b'"' => {
                    if !well_formed(r) {
                        return Some(String::from_utf8_lossy(r).into_owned());
                    }
                    reference = None;
                }
                // Longer than any reference: malformed whatever follows.
                Some(r) if r.len() >= 10 => return Some(format!("{}…", String::from_utf8_lossy(r))),
                Some(r) => r.push(byte),
                None if (matched == 0 && byte.is_ascii_whitespace()) || (matched > 0 && byte == OPENING[matched]) => {
                    matched += 1;
                    if matched == OPENING.len() {
                        (matched, reference) = (0, Some(Vec::new()));
                    }
                }
                None => matched = usize::from(byte.is_ascii_whitespace()),
            }
        }
        let n = buffer.len();
        reader.consume(n);
    }
}

/// A row of a table: its 1-based number in the file, and its cells.
type TableRow = Result<(usize, Vec<String>), FileProblem>;

fn read(path: &Path) -> anyhow::Result<Result<Parsed, Vec<FileProblem>>> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    if !["json", "csv", "xlsx"].contains(&extension.as_str()) {
        bail!("unsupported file type {extension:?}: use .json, .csv or .xlsx");
    }
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if size > MAX_FILE_BYTES {
        return Ok(Err(whole_file(format!(
            "the file has {size} bytes; at most {MAX_FILE_BYTES} ({} MiB) are imported at once: split it",
            MAX_FILE_BYTES / 1024 / 1024
        ))));
    }
    match extension.as_str() {
        "json" => {
            let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            match std::str::from_utf8(&bytes) {
                Ok(text) => Ok(read_json(text)),
                Err(e) => Ok(Err(whole_file(format!(
                    "the file is not UTF-8 text (an invalid byte at offset {}): save it as UTF-8",
                    e.valid_up_to()
                )))),
            }
        }
        "csv" => {
            let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(path)?;
            let rows = reader.into_records().enumerate().map(|(i, record)| {
                let row = i + 1;
                let record = record.map_err(|e| {
                    let message = match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => "the row is not UTF-8 text (Excel's plain \"CSV\" saves GBK): \
                                                        save the file as \"CSV UTF-8\""
                            .to_owned(),
                        _ => e.to_string(),
                    };
                    FileProblem { row: Some(row), column: None, message }
                })?;
                if record.len() > MAX_COLUMNS {
                    return Err(too_many_columns(row));
                }
                Ok((row, record.iter().map(str::to_owned).collect()))
            });
            Ok(read_table(rows))
        }
        _ => read_xlsx(path),
    }
}

fn too_many_columns(row: usize) -> FileProblem {
    FileProblem { row: Some(row), column: None, message: format!("more than {MAX_COLUMNS} columns") }
}

/// The first sheet of a workbook, cell by cell: its parts are measured first (their inflated
/// sizes, which the zip reader then holds them to), and rows are handed on as they are read.
fn read_xlsx(path: &Path) -> anyhow::Result<Result<Parsed, Vec<FileProblem>>> {
    use calamine::{Reader, Xlsx};
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let unreadable = |e: &dyn std::fmt::Display| whole_file(format!("not a readable workbook: {e}"));
    let mut zip = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(zip) => zip,
        Err(e) => return Ok(Err(unreadable(&e))),
    };
    let mut inflated: u64 = 0;
    for i in 0..zip.len() {
        match zip.by_index_raw(i) {
            Ok(part) => inflated = inflated.saturating_add(part.size()),
            Err(e) => return Ok(Err(unreadable(&e))),
        }
    }
    if inflated > MAX_XLSX_INFLATED_BYTES {
        return Ok(Err(whole_file(format!(
            "the workbook inflates to {inflated} bytes; at most {MAX_XLSX_INFLATED_BYTES} ({} MiB) are read: split it",
            MAX_XLSX_INFLATED_BYTES / 1024 / 1024
        ))));
    }
    // calamine computes a cell's column from its reference with unchecked arithmetic: a
    // reference such as r="ABCDEFGHIJKLMNOP1" overflows (a panic where overflow is checked, a
    // wrong column where it is not). References are checked first, streaming each sheet.
    for i in 0..zip.len() {
        let Ok(part) = zip.by_index(i) else { continue };
        if part.name().is_ok_and(|name| name.starts_with("xl/worksheets/"))
            && let Some(reference) = malformed_cell_reference(part)
        {
            return Ok(Err(whole_file(format!(
                "not a readable workbook: the cell reference \"{reference}\" is malformed (at most three letters \
                 and seven digits, like XFD1048576)"
            ))));
        }
    }
    let mut reader = zip.into_inner();
    std::io::Seek::rewind(&mut reader)?;
    let mut book = match Xlsx::new(reader) {
        Ok(book) => book,
        Err(e) => return Ok(Err(unreadable(&e))),
    };
    let Some(first) = book.sheet_names().into_iter().next() else {
        return Ok(Err(whole_file("the workbook has no sheet".into())));
    };
    let mut cells = match book.worksheet_cells_reader(&first) {
        Ok(cells) => cells,
        Err(e) => return Ok(Err(unreadable(&e))),
    };
    let mut done = false;
    let mut current: Option<(u32, Vec<String>)> = None;
    let rows = std::iter::from_fn(|| {
        while !done {
            let cell = match cells.next_cell() {
                Ok(Some(cell)) => cell,
                Ok(None) => {
                    done = true;
                    return current.take().map(|(row, cells)| Ok((row as usize + 1, cells)));
                }
                Err(e) => {
                    done = true;
                    return Some(Err(FileProblem {
                        row: None,
                        column: None,
                        message: format!("not a readable workbook: {e}"),
                    }));
                }
            };
            let (row, column) = cell.get_position();
            if column as usize >= MAX_COLUMNS {
                done = true;
                return Some(Err(too_many_columns(row as usize + 1)));
            }
            let text = cell_text(&calamine::Data::from(cell.get_value().clone()));
            let finished = match &current {
                Some((at, _)) if *at != row => current.take(),
                _ => None,
            };
            let (_, values) = current.get_or_insert_with(|| (row, Vec::new()));
            if values.len() <= column as usize {
                values.resize(column as usize + 1, String::new());
            }
            values[column as usize] = text;
            if let Some((at, values)) = finished {
                return Some(Ok((at as usize + 1, values)));
            }
        }
        None
    });
    Ok(read_table(rows))
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
    let mut records = 0;
    for (i, item) in items.into_iter().enumerate() {
        let submission: ReportSubmission = serde_json::from_value(item)
            .map_err(|e| vec![FileProblem { row: None, column: Some(format!("[{i}]")), message: e.to_string() }])?;
        records += 1 + submission.figures.len();
        if records > MAX_ROWS {
            return Err(vec![FileProblem {
                row: None,
                column: Some(format!("[{i}]")),
                message: format!(
                    "more than {MAX_ROWS} reports and figures; at most {MAX_ROWS} are imported at once: split the file"
                ),
            }]);
        }
        submissions.push(submission);
        // No rows: problems are located by path (see `locate`).
        origins.push((Origins::new(), 0));
    }
    Ok((submissions, origins))
}

/// One report being assembled from table rows.
struct TableReport {
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
/// Rows are read one at a time, and no further than [`MAX_ROWS`] non-empty rows; empty rows
/// are skipped.
fn read_table(rows: impl Iterator<Item = TableRow>) -> Result<Parsed, Vec<FileProblem>> {
    let mut rows = rows.filter(|row| !matches!(row, Ok((_, cells)) if cells.iter().all(|c| c.trim().is_empty())));
    let (header_row, header) = match rows.next() {
        Some(Ok(first)) => first,
        Some(Err(problem)) => return Err(vec![problem]),
        None => return Err(vec![FileProblem { row: Some(1), column: None, message: "the file is empty".into() }]),
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let mut problems = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if !name.is_empty() && !COLUMNS.contains(&name.as_str()) {
            problems.push(FileProblem {
                row: Some(header_row),
                column: Some(format!("{} ({name})", i + 1)),
                message: "unknown column".into(),
            });
        } else if !name.is_empty() && header[..i].contains(name) {
            // Which of two values would count is anyone's guess: say so rather than pick one.
            problems.push(FileProblem {
                row: Some(header_row),
                column: Some(format!("{} ({name})", i + 1)),
                message: "this column appears twice".into(),
            });
        }
    }
    for required in ["report_key", "report_title", "kind", "id", "excerpt"] {
        if !header.iter().any(|h| h == required) {
            problems.push(FileProblem {
                row: Some(header_row),
                column: Some(required.into()),
                message: "required column is missing".into(),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // Each column's position, looked up once (names are unique, checked above).
    let positions: std::collections::HashMap<&str, usize> =
        header.iter().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
    let mut reports: Vec<TableReport> = Vec::new();
    let mut by_key: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (count, next) in rows.enumerate() {
        let (row, cells) = next.map_err(|problem| vec![problem])?;
        if count >= MAX_ROWS {
            return Err(vec![FileProblem {
                row: Some(row),
                column: None,
                message: format!(
                    "more than {MAX_ROWS} rows below the header; at most {MAX_ROWS} are imported at once: split the file"
                ),
            }]);
        }
        let get = |name: &str| -> Option<String> {
            positions.get(name).and_then(|i| cells.get(*i)).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty())
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut bad = |column: &str, message: String| {
            problems.push(FileProblem { row: Some(row), column: Some(column.to_owned()), message })
        };
        let key = get("report_key").unwrap_or_default();
        let position = match by_key.get(&key) {
            Some(p) => *p,
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
                reports.push(TableReport { report, figures: Map::new(), rows: Origins::new(), first_row: row });
                by_key.insert(key, reports.len() - 1);
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
                match text.replace([',', '，'], "").parse::<f64>().ok().filter(|v| v.is_finite()) {
                    Some(value) => {
                        let qualifier =
                            get(&format!("{name}_q")).unwrap_or_else(|| "EXACT".into()).to_ascii_uppercase();
                        figure.insert(name.into(), json!({ "value": value, "qualifier": qualifier }));
                    }
                    None => bad(name, format!("{text:?} is not a number")),
                }
            }
        }
        // What tells figures under one code apart (docs/aggregation.md §2.3), as
        // `key=value; key=value`; units and per-unit marks as codes.
        if let Some(text) = get("dimensions") {
            let mut dimensions = Vec::new();
            for pair in text.split([';', '；']).map(str::trim).filter(|p| !p.is_empty()) {
                match pair.split_once(['=', '＝']) {
                    Some((key, value)) => dimensions.push(json!({ "key": key.trim(), "value": value.trim() })),
                    None => bad("dimensions", format!("{pair:?} is not key=value (pairs separated by ;)")),
                }
            }
            figure.insert("dimensions".into(), Value::Array(dimensions));
        }
        if let Some(unit) = get("unit") {
            figure.insert("unit".into(), json!(unit));
        }
        for (column, field) in [
            ("per", "per"),
            ("spread", "spread"),
            ("reported_rate_q", "reported_rate_qualifier"),
            ("areas_q", "areas_qualifier"),
        ] {
            if let Some(text) = get(column) {
                figure.insert(field.into(), json!(text.to_ascii_uppercase()));
            }
        }
        for (name, is_int) in [("reported_rate", false), ("areas", true)] {
            if let Some(text) = get(name) {
                match (
                    text.parse::<f64>().map_err(|_| ()).and_then(|v| if v.is_finite() { Ok(v) } else { Err(()) }),
                    is_int,
                ) {
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

/// Reads untrusted bytes as `fulian-graph import` reads a file with this extension (`json`,
/// `csv` or `xlsx`): the same size bound and parser, and no database. The number of reports,
/// or the file's problems. For the fuzz targets in `fuzz/`; the readers take a path, so the
/// bytes go through a new file in the temporary directory (`TMPDIR`), removed afterwards.
#[doc(hidden)]
pub fn parse_untrusted(extension: &str, bytes: &[u8]) -> anyhow::Result<Result<usize, Vec<FileProblem>>> {
    use std::io::Write as _;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("fulian-import-{}-{n}.{extension}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    drop(file);
    let parsed = read(&path);
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(parsed?.map(|(submissions, _)| submissions.len()))
}
