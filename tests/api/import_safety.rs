//! Imports are whole or nothing, name where they fail, and bound what they hold: oversized
//! files, tables with too many rows and workbooks that inflate past their limit are refused
//! quickly with the limit named (issue 12, items 8 and 12).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fulian_graph::import::{FileProblem, MAX_FILE_BYTES, MAX_ROWS, MAX_XLSX_INFLATED_BYTES, import};
use fulian_graph::store::Backend;
use serde_json::json;

use crate::common::{TestApp, workbook, xlsx};
use crate::on_both_backends;

on_both_backends!(
    nul_in_an_excerpt_is_found_before_anything_is_written,
    a_failure_while_writing_writes_nothing_and_names_the_report,
    a_report_key_may_appear_once_per_file,
    workbooks_are_read_like_csv_files,
    oversized_files_are_refused_quickly,
    tables_past_the_row_limit_are_refused_quickly,
    a_workbook_that_inflates_past_its_limit_is_refused_before_inflating,
    malformed_cell_references_are_refused_not_a_crash,
    a_column_named_twice_is_refused,
    unreadable_text_and_numbers_are_named,
);

async fn reports(app: &TestApp) -> i64 {
    app.data("{ reports(first: 0, filter: { includeSuperseded: true }) { totalCount } }", json!({})).await["reports"]
        ["totalCount"]
        .as_i64()
        .unwrap()
}

/// A temporary file with these bytes, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, extension: &str, bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "fulian-{name}-{}-{:?}.{extension}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, bytes).unwrap();
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const HEADER: &str =
    "report_key,report_title,report_region,kind,id,scope_region,period_start,period_end,excerpt,category,received";

/// One CSV row: a report with one case statistic.
fn row(key: &str, excerpt: &str) -> String {
    format!("{key},Report {key},110112,CASE_STATISTIC,a,110112-liyuan,2024-01-01,2024-01-31,{excerpt},OTHER,5")
}

fn rendered(problems: &[FileProblem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

async fn nul_in_an_excerpt_is_found_before_anything_is_written(app: TestApp) {
    let before = reports(&app).await;
    let csv = [HEADER.to_owned(), row("first", "ok"), row("second", "ok"), row("third", "bad\0excerpt")].join("\n");
    let file = TempFile::new("nul", "csv", csv.as_bytes());
    let problems = import(&app.services, &file.0).await.unwrap().expect_err("refused");
    assert_eq!(
        rendered(&problems),
        ["row 4, column excerpt: must not contain the NUL character (U+0000), which cannot be stored"]
    );
    assert_eq!(reports(&app).await, before, "nothing was written");
}

async fn a_failure_while_writing_writes_nothing_and_names_the_report(app: TestApp) {
    // The database refuses the third report's figure at write time (as a full disk or a
    // constraint would): the first two, already written in the same transaction, go too.
    let trigger = match app.store.backend() {
        Backend::Sqlite => "CREATE TRIGGER refuse_boom BEFORE INSERT ON case_statistics WHEN NEW.excerpt = 'boom' \
                           BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
            .to_owned(),
        Backend::Postgres => "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                              IF NEW.excerpt = 'boom' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$; \
                              CREATE TRIGGER refuse_boom BEFORE INSERT ON case_statistics FOR EACH ROW EXECUTE FUNCTION refuse_boom();"
            .to_owned(),
    };
    app.store.execute_script(&trigger).await.unwrap();
    let before = reports(&app).await;
    let audit_before = audit_count(&app).await;
    let csv = [HEADER.to_owned(), row("first", "ok"), row("second", "ok"), row("third", "boom")].join("\n");
    let file = TempFile::new("boom", "csv", csv.as_bytes());
    let problems = import(&app.services, &file.0).await.unwrap().expect_err("refused");
    let text = rendered(&problems);
    assert_eq!(text.len(), 1, "{text:#?}");
    assert!(text[0].starts_with("row 4, column report 3 (third): internal error: "), "{text:#?}");
    assert!(text[0].contains("refused by the test"), "the cause, for the operator: {text:#?}");
    assert_eq!(reports(&app).await, before, "nothing was written");
    // Every report of the file was an attempt, and each is recorded as failed.
    assert_eq!(audit_count(&app).await, audit_before + 3);
}

async fn audit_count(app: &TestApp) -> i64 {
    app.data_as(Some(&crate::common::admin()), "{ auditLog(first: 0) { totalCount } }", json!({})).await["auditLog"]
        ["totalCount"]
        .as_i64()
        .unwrap()
}

async fn a_report_key_may_appear_once_per_file(app: TestApp) {
    let before = reports(&app).await;
    let report = |title: &str| {
        json!({ "key": "twice", "title": title, "region": "110112", "figures": { "case_statistics": [
            { "id": "a", "scope": { "region": "110112" }, "period": { "start": "2024-01-01", "end": "2024-01-31" },
              "excerpt": "x", "category": "OTHER", "received": { "value": 1 } }] } })
    };
    let file = TempFile::new("twice", "json", json!([report("one"), report("two")]).to_string().as_bytes());
    let problems = import(&app.services, &file.0).await.unwrap().expect_err("refused");
    assert_eq!(rendered(&problems), ["[1].key: report \"twice\" is also report 1 of this import; give each key once"]);
    assert_eq!(reports(&app).await, before, "nothing was written");
}

async fn workbooks_are_read_like_csv_files(app: TestApp) {
    let cells = |line: &str| line.split(',').map(str::to_owned).collect::<Vec<_>>();
    let mut rows = vec![cells(HEADER), cells(&row("from-xlsx", "ok"))];
    // A count past the limit, as a numeric cell: refused at its row and column.
    rows.push(cells(&row("from-xlsx-huge", "ok").replace(",OTHER,5", ",OTHER,4611686018427387904")));
    let file = TempFile::new("book", "xlsx", &xlsx(&rows));
    let problems = import(&app.services, &file.0).await.unwrap().expect_err("refused");
    let text = rendered(&problems);
    assert!(
        text.iter().any(|p| p.starts_with("row 3, column received: ")
            && p.ends_with("is more than 1000000000, the largest count accepted")),
        "{text:#?}"
    );
    rows.pop();
    let file = TempFile::new("book", "xlsx", &xlsx(&rows));
    let summary = import(&app.services, &file.0).await.unwrap().expect("imported");
    assert_eq!((summary.created, summary.figures), (1, 1));
}

async fn oversized_files_are_refused_quickly(app: TestApp) {
    let before = reports(&app).await;
    let size = usize::try_from(MAX_FILE_BYTES).unwrap() + 1;
    for extension in ["csv", "json", "xlsx"] {
        let file = TempFile::new("big", extension, &vec![b' '; size]);
        let started = Instant::now();
        let problems = import(&app.services, &file.0).await.unwrap().expect_err("refused");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(
            rendered(&problems),
            [format!("the file has {size} bytes; at most 8388608 (8 MiB) are imported at once: split it")]
        );
    }
    assert_eq!(reports(&app).await, before);
}

async fn tables_past_the_row_limit_are_refused_quickly(app: TestApp) {
    let before = reports(&app).await;
    // Small rows, so the file stays under the size limit: the row limit is what stops it.
    let mut csv = String::from(HEADER);
    for i in 0..MAX_ROWS + 5 {
        csv.push_str(&format!("\nr{i},t,110112,CASE_STATISTIC,a,110112,,,x,OTHER,1"));
    }
    assert!((csv.len() as u64) < MAX_FILE_BYTES);
    let file = TempFile::new("rows", "csv", csv.as_bytes());
    let started = Instant::now();
    let problems = import(&app.services, &file.0).await.unwrap().expect_err("refused");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(
        rendered(&problems),
        [format!(
            "row {}: more than {MAX_ROWS} rows below the header; at most {MAX_ROWS} are imported at once: split the file",
            MAX_ROWS + 2
        )]
    );
    assert_eq!(reports(&app).await, before);
}

async fn a_workbook_that_inflates_past_its_limit_is_refused_before_inflating(app: TestApp) {
    // A sheet of 80 MiB of blanks deflates to well under 1 MiB.
    let inflated = 80 * 1024 * 1024;
    let mut sheet = br#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#.to_vec();
    sheet.resize(inflated, b' ');
    let bomb = workbook(&[("xl/worksheets/sheet1.xml", &sheet)]);
    drop(sheet);
    assert!(bomb.len() < 1024 * 1024, "the bomb is small: {} bytes", bomb.len());
    let file = TempFile::new("bomb", "xlsx", &bomb);
    let started = Instant::now();
    let problems = import(&app.services, &file.0).await.unwrap().expect_err("refused");
    assert!(started.elapsed() < Duration::from_secs(1), "refused before inflating: {:?}", started.elapsed());
    let text = rendered(&problems);
    assert_eq!(text.len(), 1, "{text:#?}");
    assert!(
        text[0].starts_with("the workbook inflates to ")
            && text[0].ends_with(&format!("bytes; at most {MAX_XLSX_INFLATED_BYTES} (64 MiB) are read: split it")),
        "{text:#?}"
    );
}

async fn malformed_cell_references_are_refused_not_a_crash(app: TestApp) {
    // Found by fuzzing (fuzz/fuzz_targets/import_xlsx.rs): the workbook reader computed a
    // column from a reference of many letters with overflowing arithmetic (a panic in a debug
    // build, a wrong column in a release one). Any attribute spacing, any position.
    let before = reports(&app).await;
    for (reference, shown) in [
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZ1", "ABCDEFGHIJ…"),
        ("A99999999999", "A999999999…"),
        ("AAAA1", "AAAA1"),
        ("A1B", "A1B"),
        ("", ""),
    ] {
        for spacing in [" ", "\n\t"] {
            let sheet = format!(
                r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>key</t></is></c><c{spacing}r="{reference}" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#
            );
            let book = workbook(&[("xl/worksheets/sheet1.xml", sheet.as_bytes())]);
            let file = TempFile::new("malformed", "xlsx", &book);
            let problems = import(&app.services, &file.0).await.unwrap().expect_err("refused");
            let text = rendered(&problems);
            assert_eq!(
                text,
                [format!(
                    "not a readable workbook: the cell reference \"{shown}\" is malformed (at most three letters and \
                     seven digits, like XFD1048576)"
                )],
                "{reference:?}"
            );
        }
    }
    assert_eq!(reports(&app).await, before);
}

async fn a_column_named_twice_is_refused(app: TestApp) {
    // Found by an outside-in attack: a second report_key column was read silently (the first
    // counted), revising a report to what the author did not see.
    let before = reports(&app).await;
    let columns = HEADER.split(',').count();
    let csv = [format!("{HEADER},report_key"), format!("{},other-key", row("twice", "ok"))].join("\n");
    let file = TempFile::new("twice", "csv", csv.as_bytes());
    let problems = import(&app.services, &file.0).await.unwrap().expect_err("refused");
    assert_eq!(rendered(&problems), [format!("row 1, column {} (report_key): this column appears twice", columns + 1)]);
    assert_eq!(reports(&app).await, before);
}

/// Text that is not UTF-8 (a CSV saved by Excel in GBK, a JSON file in GBK), numbers that are
/// not finite and texts past the length bound: each refused with a message a person can act
/// on, at its row and column where it has one, and nothing written.
async fn unreadable_text_and_numbers_are_named(app: TestApp) {
    let before = reports(&app).await;
    // "梨园" in GBK.
    let gbk = [0xC0u8, 0xE6, 0xD4, 0xB0];
    let mut csv = format!("{HEADER}\n{}\n", row("gbk", "x")).into_bytes();
    csv.extend(row("gbk-two", "").as_bytes());
    csv.extend(gbk);
    let file = TempFile::new("gbk", "csv", &csv);
    let problems = rendered(&import(&app.services, &file.0).await.unwrap().expect_err("refused"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("row 3") && problems[0].contains("CSV UTF-8"), "{problems:?}");

    let mut json = b"{\"key\": \"gbk\", \"title\": \"".to_vec();
    json.extend(gbk);
    json.extend(b"\"}");
    let file = TempFile::new("gbk", "json", &json);
    let problems = rendered(&import(&app.services, &file.0).await.unwrap().expect_err("refused"));
    assert!(
        problems.len() == 1 && problems[0].contains("not UTF-8") && problems[0].contains("offset 25"),
        "{problems:?}"
    );

    for (value, column) in [("NaN", "amount_aided"), ("inf", "amount_aided"), ("NaN", "reported_rate")] {
        let header = format!("{HEADER},{column}");
        let csv = format!("{header}\n{},{value}", row("not-finite", "ok"));
        let file = TempFile::new("nan", "csv", csv.as_bytes());
        let problems = rendered(&import(&app.services, &file.0).await.unwrap().expect_err("refused"));
        assert_eq!(problems, [format!("row 2, column {column}: {value:?} is not a number")]);
    }

    let far = [HEADER.to_owned(), row("far", "ok").replace("2024-01-31", "+10000-12-31")].join("\n");
    let file = TempFile::new("far", "csv", far.as_bytes());
    let problems = rendered(&import(&app.services, &file.0).await.unwrap().expect_err("refused"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("row 2, column period_end") && problems[0].contains("years 1 to 9999"),
        "{problems:?}"
    );

    let long = "妇".repeat(fulian_graph::domain::text::MAX_CHARS + 1);
    let csv = [HEADER.to_owned(), row("long", "ok"), row("longer", &long)].join("\n");
    let file = TempFile::new("long", "csv", csv.as_bytes());
    let problems = rendered(&import(&app.services, &file.0).await.unwrap().expect_err("refused"));
    assert_eq!(problems, ["row 3, column excerpt: is 20001 characters long; at most 20000 are stored"]);
    assert_eq!(reports(&app).await, before, "nothing was written");
}
