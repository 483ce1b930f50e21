//! Reports.

use chrono::NaiveDate;
use sqlx::FromRow;

use super::dialect::json_list;
use super::sql::{Sql, Tx};
use super::{Store, StoreResult};
use crate::domain::model::Report;
use crate::domain::query::{Page, PageRequest, ReportFilter};

#[derive(FromRow)]
struct ReportRow {
    id: i64,
    key: String,
    title: String,
    publisher: Option<String>,
    published_on: Option<NaiveDate>,
    period_start: Option<NaiveDate>,
    period_end: Option<NaiveDate>,
    period_note: Option<String>,
    source_file: Option<String>,
    region_code: Option<String>,
    revision: i64,
    superseded_by: Option<i64>,
}

impl From<ReportRow> for Report {
    fn from(r: ReportRow) -> Self {
        Self {
            id: r.id,
            key: r.key,
            title: r.title,
            publisher: r.publisher,
            published_on: r.published_on,
            period_start: r.period_start,
            period_end: r.period_end,
            period_note: r.period_note,
            source_file: r.source_file,
            region_code: r.region_code,
            revision: r.revision,
            superseded_by: r.superseded_by,
        }
    }
}

const COLUMNS: &str = "p.id, COALESCE(p.report_key, p.key) AS key, p.revision, p.superseded_by, p.title, p.publisher, p.published_on, p.period_start, p.period_end, \
    p.period_note, p.source_file, p.region_code";

/// Reports with the given ids.
pub async fn by_ids(store: &Store, ids: &[i64]) -> StoreResult<Vec<Report>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(ids));
    sql.push(&format!("SELECT {COLUMNS} FROM reports p WHERE p.id IN ({list})"));
    let rows: Vec<ReportRow> = store.fetch_all(&sql).await?;
    Ok(rows.into_iter().map(Report::from).collect())
}

fn filtered(store: &Store, select: &str, filter: &ReportFilter) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" FROM reports p WHERE 1 = 1");
    if !filter.include_superseded {
        sql.push(" AND p.superseded_by IS NULL");
    }
    if let Some(region) = &filter.region {
        let p = sql.arg(region.as_str());
        if filter.include_descendants {
            sql.push(&format!(" AND p.region_code IN (SELECT descendant FROM region_closure WHERE ancestor = {p})"));
        } else {
            sql.push(&format!(" AND p.region_code = {p}"));
        }
    }
    if let Some(text) = &filter.title_contains {
        let condition = store.backend().contains_ci("p.title", sql.next_index());
        sql.arg(text.as_str());
        sql.push(&format!(" AND {condition}"));
    }
    sql
}

/// One page of reports matching the filter, ordered by id.
pub async fn list(store: &Store, filter: &ReportFilter, page: &PageRequest<i64>) -> StoreResult<Page<Report>> {
    let mut sql = filtered(store, &format!("SELECT {COLUMNS}"), filter);
    if let Some(after) = page.after {
        let p = sql.arg(after);
        sql.push(&format!(" AND p.id > {p}"));
    }
    let limit = sql.arg(i64::try_from(page.first + 1).unwrap_or(i64::MAX));
    sql.push(&format!(" ORDER BY p.id LIMIT {limit}"));
    let rows: Vec<ReportRow> = store.fetch_all(&sql).await?;
    Ok(Page::from_overfetch(rows.into_iter().map(Report::from).collect(), page.first))
}

/// How many reports match the filter.
pub async fn count(store: &Store, filter: &ReportFilter) -> StoreResult<i64> {
    store.fetch_count(&filtered(store, "SELECT COUNT(*)", filter)).await
}

/// Inserts a report, or returns the id of the report with the same key.
pub(crate) async fn upsert(tx: &mut Tx, report: &Report) -> StoreResult<i64> {
    let mut sql = Sql::new("");
    let values = [
        sql.arg(report.key.as_str()),
        sql.arg(report.key.as_str()),
        sql.arg(report.title.as_str()),
        sql.arg(report.publisher.clone()),
        sql.arg(report.published_on),
        sql.arg(report.period_start),
        sql.arg(report.period_end),
        sql.arg(report.period_note.clone()),
        sql.arg(report.source_file.clone()),
        sql.arg(report.region_code.clone()),
    ]
    .join(", ");
    sql.push(&format!(
        "INSERT INTO reports (key, report_key, title, publisher, published_on, period_start, period_end, period_note, \
         source_file, region_code) VALUES ({values}) \
         ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id"
    ));
    tx.fetch_count(&sql).await
}
