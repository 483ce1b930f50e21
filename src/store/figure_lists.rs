//! Reading figures back: job fairs and case statistics as pages, with their provenance.

use chrono::NaiveDate;
use sqlx::FromRow;

use super::sql::Sql;
use super::{Store, StoreResult};
use crate::domain::query::{Page, PageRequest};

/// Which figures to list.
#[derive(Clone, Debug, Default)]
pub struct FigureFilter {
    /// Only figures of this region…
    pub region: Option<String>,
    /// …or of it and every region below it.
    pub include_descendants: bool,
    /// Only figures of this alliance as a whole (by id).
    pub alliance_id: Option<i64>,
    /// Only figures of this report revision.
    pub report_id: Option<i64>,
    /// Only figures whose whole period lies in [from, to].
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only case statistics of this category.
    pub category: Option<String>,
    /// Also figures of superseded report revisions (always true when `report_id` is given).
    pub include_superseded: bool,
}

fn filtered(store: &Store, select: &str, table: &str, filter: &FigureFilter) -> Sql {
    let mut sql = Sql::new(select);
    push_filter(&mut sql, table, filter);
    let _ = store;
    sql
}

/// Appends `FROM {table} t JOIN reports p … WHERE …` for the filter.
fn push_filter(sql: &mut Sql, table: &str, filter: &FigureFilter) {
    sql.push(&format!(" FROM {table} t JOIN reports p ON p.id = t.report_id WHERE 1 = 1"));
    if !filter.include_superseded && filter.report_id.is_none() {
        sql.push(" AND p.superseded_by IS NULL");
    }
    if let Some(region) = &filter.region {
        let r = sql.arg(region.as_str());
        if filter.include_descendants {
            sql.push(&format!(" AND t.region_code IN (SELECT descendant FROM region_closure WHERE ancestor = {r})"));
        } else {
            sql.push(&format!(" AND t.region_code = {r}"));
        }
    }
    if let Some(alliance) = filter.alliance_id {
        let a = sql.arg(alliance);
        sql.push(&format!(" AND t.alliance_id = {a}"));
    }
    if let Some(report) = filter.report_id {
        let r = sql.arg(report);
        sql.push(&format!(" AND t.report_id = {r}"));
    }
    if let Some(from) = filter.from {
        let f = sql.arg(Some(from));
        sql.push(&format!(" AND COALESCE(t.period_start, t.period_end) >= {f}"));
    }
    if let Some(to) = filter.to {
        let t = sql.arg(Some(to));
        sql.push(&format!(" AND COALESCE(t.period_end, t.period_start) <= {t}"));
    }
    if let Some(category) = &filter.category {
        let c = sql.arg(category.as_str());
        sql.push(&format!(" AND t.category = {c}"));
    }
}

async fn page<T: super::sql::AnyRow>(
    store: &Store,
    table: &str,
    columns: &str,
    filter: &FigureFilter,
    page: &PageRequest<i64>,
) -> StoreResult<Page<T>> {
    let mut sql = filtered(store, &format!("SELECT {columns}"), table, filter);
    if let Some(after) = page.after {
        let a = sql.arg(after);
        sql.push(&format!(" AND t.id > {a}"));
    }
    let limit = sql.arg(i64::try_from(page.first + 1).unwrap_or(i64::MAX));
    sql.push(&format!(" ORDER BY t.id LIMIT {limit}"));
    Ok(Page::from_overfetch(store.fetch_all(&sql).await?, page.first))
}

/// A job fair row.
#[derive(Clone, Debug, FromRow)]
pub struct JobFairRow {
    pub id: i64,
    pub report_id: i64,
    pub excerpt: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period_note: Option<String>,
    pub region_code: Option<String>,
    pub alliance_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub note: Option<String>,
    /// Dimensions as stored (JSON text; '' for none).
    pub dimensions: String,
    pub organizers: Option<String>,
    pub is_series: bool,
    pub held_on: Option<NaiveDate>,
    pub mode: Option<String>,
    pub fairs: Option<i64>,
    pub fairs_q: Option<String>,
    pub employers: Option<i64>,
    pub employers_q: Option<String>,
    pub positions_offered: Option<i64>,
    pub positions_offered_q: Option<String>,
    pub job_seekers: Option<i64>,
    pub job_seekers_q: Option<String>,
    pub intents: Option<i64>,
    pub intents_q: Option<String>,
    pub hires: Option<i64>,
    pub hires_q: Option<String>,
}

const FAIR_COLUMNS: &str = "t.id, t.report_id, t.excerpt, t.period_start, t.period_end, t.period_note, t.region_code, \
    t.alliance_id, t.organization_id, t.note, t.dimensions, t.organizers, t.is_series, t.held_on, t.mode, t.fairs, t.fairs_q, \
    t.employers, t.employers_q, t.positions_offered, t.positions_offered_q, t.job_seekers, t.job_seekers_q, \
    t.intents, t.intents_q, t.hires, t.hires_q";

/// A page of job fairs, by id.
pub async fn job_fairs(store: &Store, filter: &FigureFilter, p: &PageRequest<i64>) -> StoreResult<Page<JobFairRow>> {
    page(store, "job_fairs", FAIR_COLUMNS, filter, p).await
}

/// How many job fairs match.
pub async fn count_job_fairs(store: &Store, filter: &FigureFilter) -> StoreResult<i64> {
    store.fetch_count(&filtered(store, "SELECT COUNT(*)", "job_fairs", filter)).await
}

/// The first `first + 1` job fairs (by id, after `after`) of each region: fairs the region
/// holds itself or co-hosts, of current report revisions. One statement for every region.
pub async fn job_fairs_of_regions(
    store: &Store,
    regions: &[String],
    first: usize,
    after: Option<i64>,
) -> StoreResult<Vec<(String, JobFairRow)>> {
    #[derive(FromRow)]
    struct Ranked {
        held_by: String,
        #[sqlx(flatten)]
        row: JobFairRow,
    }
    let b = store.backend();
    let mut sql = Sql::new("");
    let list = b.text_list(sql.next_index());
    sql.arg(super::dialect::json_list(regions));
    let after = match after {
        Some(id) => format!(" AND t.id > {}", sql.arg(id)),
        None => String::new(),
    };
    let limit = sql.arg(i64::try_from(first + 1).unwrap_or(i64::MAX));
    sql.push(&match b {
        // PostgreSQL: each region's page through its indexes, however many fairs there are.
        // Each source walked in id order through its (region, id) index, stopping at the page.
        super::Backend::Postgres => format!(
            "SELECT r.held_by, t.* FROM (SELECT DISTINCT held_by FROM ({list}) AS l(held_by)) r \
             CROSS JOIN LATERAL (SELECT {FAIR_COLUMNS} FROM job_fairs t WHERE t.id IN ( \
                 (SELECT t.id FROM job_fairs t JOIN reports p ON p.id = t.report_id AND p.superseded_by IS NULL \
                  WHERE t.region_code = r.held_by{after} ORDER BY t.id LIMIT {limit}) \
                 UNION \
                 (SELECT t.id FROM job_fair_hosts h JOIN job_fairs t ON t.id = h.job_fair_id \
                  JOIN reports p ON p.id = t.report_id AND p.superseded_by IS NULL \
                  WHERE h.region_code = r.held_by{after} ORDER BY h.job_fair_id LIMIT {limit})) \
               ORDER BY t.id LIMIT {limit}) t \
             ORDER BY r.held_by, t.id"
        ),
        // SQLite (no LATERAL): rank every fair of the regions, keep each region's first.
        super::Backend::Sqlite => format!(
            "SELECT * FROM (SELECT x.held_by, {FAIR_COLUMNS}, \
             ROW_NUMBER() OVER (PARTITION BY x.held_by ORDER BY t.id) AS rn \
             FROM (SELECT region_code AS held_by, id AS fair FROM job_fairs WHERE region_code IN ({list}) \
                   UNION SELECT region_code, job_fair_id FROM job_fair_hosts WHERE region_code IN ({list})) x \
             JOIN job_fairs t ON t.id = x.fair JOIN reports p ON p.id = t.report_id AND p.superseded_by IS NULL \
             WHERE 1 = 1{after}) ranked WHERE rn <= {limit} ORDER BY held_by, id"
        ),
    });
    let rows: Vec<Ranked> = store.fetch_all(&sql).await?;
    Ok(rows.into_iter().map(|r| (r.held_by, r.row)).collect())
}

/// How many job fairs each region holds or co-hosts (current report revisions).
pub async fn count_job_fairs_of_regions(store: &Store, regions: &[String]) -> StoreResult<Vec<(String, i64)>> {
    let b = store.backend();
    let mut sql = Sql::new("");
    let list = b.text_list(sql.next_index());
    sql.arg(super::dialect::json_list(regions));
    sql.push(&format!(
        "SELECT x.held_by, COUNT(*) FROM \
         (SELECT region_code AS held_by, id AS fair FROM job_fairs WHERE region_code IN ({list}) \
          UNION SELECT region_code, job_fair_id FROM job_fair_hosts WHERE region_code IN ({list})) x \
         JOIN job_fairs t ON t.id = x.fair JOIN reports p ON p.id = t.report_id AND p.superseded_by IS NULL \
         GROUP BY x.held_by"
    ));
    store.fetch_all(&sql).await
}

/// A case statistic row.
#[derive(Clone, Debug, FromRow)]
pub struct CaseStatisticRow {
    pub id: i64,
    pub report_id: i64,
    pub excerpt: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub period_note: Option<String>,
    pub region_code: String,
    pub organization_id: Option<i64>,
    pub note: Option<String>,
    /// Dimensions as stored (JSON text; '' for none).
    pub dimensions: String,
    /// What received and resolved count (`cases` unless the report says otherwise).
    pub unit: String,
    /// For a per-unit statement: the unit (YEAR, QUARTER, MONTH) and spread (EACH, AVERAGE).
    pub per: Option<String>,
    pub spread: Option<String>,
    pub category: String,
    pub cumulative: bool,
    pub received: Option<i64>,
    pub received_q: Option<String>,
    pub resolved: Option<i64>,
    pub resolved_q: Option<String>,
    pub people_aided: Option<i64>,
    pub people_aided_q: Option<String>,
    pub amount_aided: Option<f64>,
    pub amount_aided_q: Option<String>,
    pub reported_rate: Option<f64>,
    pub reported_rate_q: Option<String>,
}

const CASE_COLUMNS: &str = "t.id, t.report_id, t.excerpt, t.period_start, t.period_end, t.period_note, t.region_code, \
    t.organization_id, t.note, t.dimensions, COALESCE(t.unit, 'cases') AS unit, t.per, t.spread, t.category, t.cumulative, t.received, t.received_q, t.resolved, t.resolved_q, \
    t.people_aided, t.people_aided_q, t.amount_aided, t.amount_aided_q, t.reported_rate, t.reported_rate_q";

/// A page of case statistics, by id.
pub async fn case_statistics(
    store: &Store,
    filter: &FigureFilter,
    p: &PageRequest<i64>,
) -> StoreResult<Page<CaseStatisticRow>> {
    page(store, "case_statistics", CASE_COLUMNS, filter, p).await
}

/// How many case statistics match.
pub async fn count_case_statistics(store: &Store, filter: &FigureFilter) -> StoreResult<i64> {
    store.fetch_count(&filtered(store, "SELECT COUNT(*)", "case_statistics", filter)).await
}

/// An organization count row.
#[derive(Clone, Debug, FromRow)]
pub struct OrganizationCountRow {
    pub id: i64,
    pub report_id: i64,
    pub excerpt: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period_note: Option<String>,
    pub region_code: Option<String>,
    pub alliance_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub note: Option<String>,
    /// Dimensions as stored (JSON text; '' for none).
    pub dimensions: String,
    pub organization_kind: String,
    pub sector: Option<String>,
    pub label: String,
    pub count: i64,
    pub count_q: String,
    pub part_of: Option<i64>,
}

/// A plan indicator row.
#[derive(Clone, Debug, FromRow)]
pub struct PlanIndicatorRow {
    pub id: i64,
    pub report_id: i64,
    pub excerpt: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period_note: Option<String>,
    pub region_code: Option<String>,
    pub alliance_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub note: Option<String>,
    /// Dimensions as stored (JSON text; '' for none).
    pub dimensions: String,
    pub plan: String,
    pub areas: Option<i64>,
    pub areas_q: Option<String>,
    pub total: i64,
    pub total_q: String,
    pub met: i64,
    pub met_q: String,
}

/// A metric figure row.
#[derive(Clone, Debug, FromRow)]
pub struct MetricFigureRow {
    pub id: i64,
    pub report_id: i64,
    pub excerpt: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period_note: Option<String>,
    pub region_code: Option<String>,
    pub alliance_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub note: Option<String>,
    /// Dimensions as stored (JSON text; '' for none).
    pub dimensions: String,
    pub metric: String,
    pub value: f64,
    pub value_q: String,
    pub cumulative: bool,
    pub part_of: Option<i64>,
    /// The value's unit: the figure's own, else the catalog's.
    pub unit: String,
    /// For a per-unit statement: the unit (YEAR, QUARTER, MONTH) and spread (EACH, AVERAGE).
    pub per: Option<String>,
    pub spread: Option<String>,
}

/// The columns every figure table shares.
const SHARED: &str = "t.id, t.report_id, t.excerpt, t.period_start, t.period_end, t.period_note, t.region_code, \
    t.alliance_id, t.organization_id, t.note, t.dimensions";

fn organization_count_columns() -> String {
    format!("{SHARED}, t.organization_kind, t.sector, t.label, t.count, t.count_q, t.part_of")
}

fn plan_indicator_columns() -> String {
    format!("{SHARED}, t.plan, t.areas, t.areas_q, t.total, t.total_q, t.met, t.met_q")
}

fn metric_figure_columns() -> String {
    format!(
        "{SHARED}, t.metric, t.value, t.value_q, t.cumulative, t.per, t.spread, t.part_of, \
         COALESCE(t.unit, (SELECT m.unit FROM metrics m WHERE m.code = t.metric)) AS unit"
    )
}

async fn of_reports<T: super::sql::AnyRow>(
    store: &Store,
    table: &str,
    columns: &str,
    reports: &[i64],
) -> StoreResult<Vec<T>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(super::dialect::json_list(reports));
    sql.push(&format!("SELECT {columns} FROM {table} t WHERE t.report_id IN ({list}) ORDER BY t.report_id, t.id"));
    store.fetch_all(&sql).await
}

/// Organization counts of each given report.
pub async fn organization_counts_of(store: &Store, reports: &[i64]) -> StoreResult<Vec<OrganizationCountRow>> {
    of_reports(store, "organization_counts", &organization_count_columns(), reports).await
}

/// Plan indicators of each given report.
pub async fn plan_indicators_of(store: &Store, reports: &[i64]) -> StoreResult<Vec<PlanIndicatorRow>> {
    of_reports(store, "plan_indicators", &plan_indicator_columns(), reports).await
}

/// Metric figures of each given report.
pub async fn metric_figures_of(store: &Store, reports: &[i64]) -> StoreResult<Vec<MetricFigureRow>> {
    of_reports(store, "metric_figures", &metric_figure_columns(), reports).await
}

/// The five kinds of figure, each a table; `figures` lists them in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FigureKind {
    JobFair,
    CaseStatistic,
    OrganizationCount,
    PlanIndicator,
    Metric,
}

impl FigureKind {
    pub const ALL: [Self; 5] =
        [Self::JobFair, Self::CaseStatistic, Self::OrganizationCount, Self::PlanIndicator, Self::Metric];

    fn table(self) -> &'static str {
        match self {
            Self::JobFair => "job_fairs",
            Self::CaseStatistic => "case_statistics",
            Self::OrganizationCount => "organization_counts",
            Self::PlanIndicator => "plan_indicators",
            Self::Metric => "metric_figures",
        }
    }

    /// The kind a figure table holds.
    pub fn of_table(table: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.table() == table)
    }

    /// The kind's position in the list order.
    pub fn rank(self) -> i64 {
        Self::ALL.iter().position(|k| *k == self).map_or(0, |i| i as i64)
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        usize::try_from(rank).ok().and_then(|i| Self::ALL.get(i)).copied()
    }
}

/// A figure of any kind.
#[derive(Clone, Debug)]
pub enum AnyFigureRow {
    JobFair(JobFairRow),
    CaseStatistic(CaseStatisticRow),
    OrganizationCount(OrganizationCountRow),
    PlanIndicator(PlanIndicatorRow),
    Metric(MetricFigureRow),
}

impl AnyFigureRow {
    /// The figure's kind and row id.
    pub fn key(&self) -> (FigureKind, i64) {
        match self {
            Self::JobFair(r) => (FigureKind::JobFair, r.id),
            Self::CaseStatistic(r) => (FigureKind::CaseStatistic, r.id),
            Self::OrganizationCount(r) => (FigureKind::OrganizationCount, r.id),
            Self::PlanIndicator(r) => (FigureKind::PlanIndicator, r.id),
            Self::Metric(r) => (FigureKind::Metric, r.id),
        }
    }
}

/// Which figures of every kind to list: the shared filter, the kinds (all when empty), and a
/// metric code (then only metric figures of it).
#[derive(Clone, Debug, Default)]
pub struct AnyFigureFilter {
    pub shared: FigureFilter,
    pub kinds: Vec<FigureKind>,
    pub metric: Option<String>,
}

impl AnyFigureFilter {
    /// The kinds that can match: case statistics have no alliance of their own, and only
    /// metric figures have a metric.
    fn kinds(&self) -> Vec<FigureKind> {
        FigureKind::ALL
            .into_iter()
            .filter(|k| self.kinds.is_empty() || self.kinds.contains(k))
            .filter(|k| self.shared.alliance_id.is_none() || *k != FigureKind::CaseStatistic)
            .filter(|k| self.metric.is_none() || *k == FigureKind::Metric)
            .collect()
    }
}

/// The union of the kinds' matching `(kind rank, id)`, keyset-bounded by `after`.
fn keys_statement(
    filter: &AnyFigureFilter,
    after: Option<(i64, i64)>,
    select: &str,
    limit: Option<usize>,
) -> Option<Sql> {
    let mut sql = Sql::new(format!("{select} FROM ("));
    let mut parts = 0;
    // A page needs at most `limit` keys of each kind: each part stops there, in id order (its
    // primary key), so a page never sorts a whole table.
    let limit = limit.map(|n| sql.arg(i64::try_from(n).unwrap_or(i64::MAX)));
    for kind in filter.kinds() {
        let rank = kind.rank();
        if after.is_some_and(|(k, _)| rank < k) {
            continue;
        }
        sql.push(if parts == 0 { "SELECT * FROM (SELECT " } else { " UNION ALL SELECT * FROM (SELECT " });
        sql.push(&format!("CAST({rank} AS BIGINT) AS kind, t.id AS id"));
        push_filter(&mut sql, kind.table(), &filter.shared);
        if let Some((_, id)) = after.filter(|(k, _)| *k == rank) {
            let a = sql.arg(id);
            sql.push(&format!(" AND t.id > {a}"));
        }
        if let Some(metric) = filter.metric.as_deref().filter(|_| kind == FigureKind::Metric) {
            let m = sql.arg(metric);
            sql.push(&format!(" AND t.metric = {m}"));
        }
        if let Some(limit) = &limit {
            sql.push(&format!(" ORDER BY t.id LIMIT {limit}"));
        }
        sql.push(&format!(") p{rank}"));
        parts += 1;
    }
    sql.push(") u");
    (parts > 0).then_some(sql)
}

/// A page of figures of every kind, by kind then id.
pub async fn any_figures(
    store: &Store,
    filter: &AnyFigureFilter,
    page: &PageRequest<(i64, i64)>,
) -> StoreResult<Page<AnyFigureRow>> {
    let Some(mut sql) = keys_statement(filter, page.after, "SELECT kind, id", Some(page.first + 1)) else {
        return Ok(Page::from_overfetch(Vec::new(), page.first));
    };
    let limit = sql.arg(i64::try_from(page.first + 1).unwrap_or(i64::MAX));
    sql.push(&format!(" ORDER BY kind, id LIMIT {limit}"));
    let keys: Vec<(i64, i64)> = store.fetch_all(&sql).await?;
    let mut rows = Vec::with_capacity(keys.len());
    for kind in FigureKind::ALL {
        let ids: Vec<i64> = keys.iter().filter(|(k, _)| *k == kind.rank()).map(|(_, id)| *id).collect();
        if !ids.is_empty() {
            rows.extend(figures_by_ids(store, kind, &ids).await?);
        }
    }
    Ok(Page::from_overfetch(rows, page.first))
}

/// How many figures of every kind match.
pub async fn count_any_figures(store: &Store, filter: &AnyFigureFilter) -> StoreResult<i64> {
    match keys_statement(filter, None, "SELECT COUNT(*)", None) {
        Some(sql) => store.fetch_count(&sql).await,
        None => Ok(0),
    }
}

/// The figures of one kind with these ids, by id (missing ids are skipped).
pub async fn figures_by_ids(store: &Store, kind: FigureKind, ids: &[i64]) -> StoreResult<Vec<AnyFigureRow>> {
    let columns = match kind {
        FigureKind::JobFair => FAIR_COLUMNS.to_owned(),
        FigureKind::CaseStatistic => CASE_COLUMNS.to_owned(),
        FigureKind::OrganizationCount => organization_count_columns(),
        FigureKind::PlanIndicator => plan_indicator_columns(),
        FigureKind::Metric => metric_figure_columns(),
    };
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(super::dialect::json_list(ids));
    sql.push(&format!("SELECT {columns} FROM {} t WHERE t.id IN ({list}) ORDER BY t.id", kind.table()));
    Ok(match kind {
        FigureKind::JobFair => store.fetch_all(&sql).await?.into_iter().map(AnyFigureRow::JobFair).collect(),
        FigureKind::CaseStatistic => {
            store.fetch_all(&sql).await?.into_iter().map(AnyFigureRow::CaseStatistic).collect()
        }
        FigureKind::OrganizationCount => {
            store.fetch_all(&sql).await?.into_iter().map(AnyFigureRow::OrganizationCount).collect()
        }
        FigureKind::PlanIndicator => {
            store.fetch_all(&sql).await?.into_iter().map(AnyFigureRow::PlanIndicator).collect()
        }
        FigureKind::Metric => store.fetch_all(&sql).await?.into_iter().map(AnyFigureRow::Metric).collect(),
    })
}
