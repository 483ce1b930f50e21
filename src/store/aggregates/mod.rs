//! Dashboard aggregates: what the database does for a summary. What every summary means is
//! docs/aggregation.md; its rules are decided in plain Rust (`domain::summary::rules`) over
//! the candidate figures read here ([`pool`]); the figures no rule can touch (uncontested,
//! `store::contested`) are summed here in SQL ([`uncontested_part`]), and [`merge`] adds the
//! two. `specs` says what each summary sums, `statement` builds the statements.

use chrono::NaiveDate;
use sqlx::FromRow;

mod pool;
pub mod specs;
mod statement;

pub use pool::{Ancestry, PoolFigure, pool};

use super::dialect::json_list;
use super::sql::Sql;
use super::{Store, StoreResult};

/// The regions (and alliance) a summary covers.
#[derive(Clone, Debug)]
pub struct ResolvedScope {
    /// The scope's region, or the alliance's member regions.
    pub roots: Vec<String>,
    /// Whether regions below the roots count.
    pub include_descendants: bool,
    /// For an alliance scope: the alliance, whose own figures count too.
    pub alliance_id: Option<i64>,
    /// For a region scope grouped by region: the scope region (rows are its children).
    pub group_parent: Option<String>,
}

/// How rows are grouped.
#[derive(Clone, Copy, Debug, Default)]
pub struct Grouping {
    pub region: bool,
    pub year: bool,
    pub quarter: bool,
    pub month: bool,
    /// Group by the figure's key column (category, organization kind).
    pub key: bool,
    /// Group by the second key column (sector).
    pub key2: bool,
}

/// What to summarize: a figure table and its measures.
#[derive(Clone, Debug)]
pub struct Spec {
    pub table: &'static str,
    /// The measures, in the order of a row's sums.
    pub measures: Vec<Measure>,
    /// The column naming what is counted (category, kind), if any.
    pub key_column: Option<&'static str>,
    /// A second such column (sector), if any.
    pub key2_column: Option<&'static str>,
    /// Restrict to rows where this column equals this value (a metric code).
    pub only: Option<(&'static str, String)>,
    /// Stocks take the latest value; flows sum over time.
    pub stock: bool,
    /// Whether the table has an alliance column (case statistics do not).
    pub has_alliance: bool,
    /// Whether the table has a `part_of` column ("of which" subsets).
    pub has_part_of: bool,
    /// Whether the table keeps the `contested` flag (store::contested): then only contested
    /// figures go through the rules, the rest count directly.
    pub fast_path: bool,
    /// Whether every row has both period columns (case statistics).
    pub periods_required: bool,
    /// Whether a flow with one end of its period unknown is open on that side ("累计…") rather
    /// than dated at the end it has (docs/aggregation.md §2.4).
    pub open_periods: bool,
    /// The unit of a figure's value where figures of one summary may differ in it (metrics):
    /// an expression over the table (`t`). Rows are split by it (docs/aggregation.md §6.4).
    pub unit: Option<&'static str>,
    /// A boolean expression over the table (`t`) for figures the summary never considers
    /// (organization counts of organizations created in a period, in a summary of stocks).
    pub exclude: Option<&'static str>,
    /// Whether the table has per-unit statements (`per`, `spread`: docs/aggregation.md §2.4):
    /// candidates by overlap with the window, expanded into one atom per unit by [`pool`].
    pub per_unit: bool,
    /// A boolean expression over the table (`t`) saying a figure is an event (a single job
    /// fair): events never overlap each other (docs/aggregation.md §2.4).
    pub event: Option<&'static str>,
}

/// One measure of a summary: its name in the API (`explain` names the measures it counted),
/// and SQL expressions over the candidate figures (`kept`) for its value and qualifier.
#[derive(Clone, Copy, Debug)]
pub struct Measure {
    pub name: &'static str,
    pub value: &'static str,
    pub qualifier: &'static str,
}

/// What a summary row is grouped by: its region, time bucket (or, for figures spanning
/// buckets, their period), and keys (category, kind, sector); null where not grouped by it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, FromRow)]
pub struct RowKey {
    pub region: Option<String>,
    pub year: Option<i64>,
    pub quarter: Option<i64>,
    pub month: Option<i64>,
    /// Grouped by time, a row of figures that span more than one bucket: their period
    /// (docs/aggregation.md §6.2). Null otherwise.
    pub span_from: Option<NaiveDate>,
    pub span_to: Option<NaiveDate>,
    pub key: Option<String>,
    pub key2: Option<String>,
    /// The unit, for summaries split by it (metrics); null otherwise.
    pub unit: Option<String>,
}

impl RowKey {
    /// The first and last day of the row's time bucket (a year, a quarter of it, or a month
    /// of it), if it has one.
    pub fn bucket(&self) -> Option<(NaiveDate, NaiveDate)> {
        let year = i32::try_from(self.year?).ok()?;
        let (first, last) = match (self.quarter, self.month) {
            (_, Some(m)) => (u32::try_from(m).ok()?, u32::try_from(m).ok()?),
            (Some(q), None) => (u32::try_from(q * 3 - 2).ok()?, u32::try_from(q * 3).ok()?),
            (None, None) => (1, 12),
        };
        let start = NaiveDate::from_ymd_opt(year, first, 1)?;
        let next = if last == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, last + 1, 1)?
        };
        Some((start, next.pred_opt()?))
    }

    /// Where the row sorts by its period (docs/aggregation.md §6.5): by start, then end; an
    /// open start before any date; a row without a period (not grouped by time, or undated
    /// figures) last.
    fn period_order(&self) -> (u8, Option<NaiveDate>, u8, Option<NaiveDate>) {
        match (self.bucket(), self.span_from, self.span_to) {
            (Some((start, end)), _, _) => (1, Some(start), 0, Some(end)),
            (None, None, Some(end)) => (0, None, 0, Some(end)),
            (None, Some(start), end) => (1, Some(start), u8::from(end.is_none()), end),
            (None, None, None) => (2, None, 0, None),
        }
    }
}

/// One grouped row, before domain interpretation.
#[derive(Debug, FromRow)]
pub struct Row {
    #[sqlx(flatten)]
    pub keys: RowKey,
    pub m0: Option<f64>,
    pub m1: Option<f64>,
    pub m2: Option<f64>,
    pub m3: Option<f64>,
    pub m4: Option<f64>,
    pub m5: Option<f64>,
    /// Sum of measure 0 over figures that also have measure 1 (for rates such as resolved/received).
    pub m0_paired: Option<f64>,
    /// Sum of measure 1 over figures that also have measure 0.
    pub m1_paired: Option<f64>,
    pub qualifier_rank: Option<i64>,
    pub reporting: i64,
    pub sources: Option<String>,
}

/// Which candidate figures a statement reads. Over a table with the `contested` flag a
/// summary is computed in two parts: the uncontested figures, summed directly (the bulk, which
/// writes of contested figures do not change, so it is kept per base version), and the
/// contested ones, through the rules (few). Tables without the flag read all their figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool {
    All,
    Uncontested,
    Contested,
}

/// One row of a part: a group, one region and one report within it, and the base version the
/// statement ran at (bumped by every write that changes the uncontested figures; migration
/// 0009). A part with no rows still yields one row, with the version and no report.
#[derive(Clone, Debug, FromRow)]
pub struct PartRow {
    pub base: i64,
    #[sqlx(flatten)]
    pub keys: RowKey,
    pub unit_region: Option<String>,
    pub unit_report: Option<i64>,
    pub m0: Option<f64>,
    pub m1: Option<f64>,
    pub m2: Option<f64>,
    pub m3: Option<f64>,
    pub m4: Option<f64>,
    pub m5: Option<f64>,
    pub m0_paired: Option<f64>,
    pub m1_paired: Option<f64>,
    pub qualifier_rank: Option<i64>,
}

impl PartRow {
    /// A part with no sums yet (EXACT until a term says otherwise), for one row and, when
    /// given, one region and report.
    pub fn empty(base: i64, keys: RowKey, unit_region: Option<String>, unit_report: Option<i64>) -> Self {
        Self {
            base,
            keys,
            unit_region,
            unit_report,
            m0: None,
            m1: None,
            m2: None,
            m3: None,
            m4: None,
            m5: None,
            m0_paired: None,
            m1_paired: None,
            qualifier_rank: Some(0),
        }
    }
}

/// Sums the uncontested figures of a summary (of a table with the `contested` flag) down to
/// (row, region, report); returns the base version the statement saw and the rows.
pub async fn uncontested_part(
    store: &Store,
    spec: &Spec,
    scope: &ResolvedScope,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    grouping: Grouping,
) -> StoreResult<(i64, Vec<PartRow>)> {
    debug_assert!(spec.fast_path);
    let sql = statement::uncontested(store.backend(), spec, scope, from, to, grouping);
    let rows: Vec<PartRow> = store.fetch_all(&sql).await?;
    let base = rows.first().map_or(0, |r| r.base);
    Ok((base, rows.into_iter().filter(|r| r.unit_report.is_some()).collect()))
}

/// The base version (see [`PartRow`]): for tests and diagnostics.
pub async fn base_version(store: &Store) -> StoreResult<i64> {
    store.fetch_count(&Sql::new("SELECT base_version FROM data_version WHERE id = 1")).await
}

/// Adds up part rows (of the same base version) into the rows [`summarize`] gives, in the same
/// order: sums add, qualifiers take the worst, regions and reports count once per group.
pub fn merge(grouping: Grouping, parts: impl IntoIterator<Item = PartRow>) -> Vec<Row> {
    use std::collections::{BTreeMap, BTreeSet};
    #[derive(Default)]
    struct Acc {
        m: [Option<f64>; 8],
        rank: i64,
        regions: BTreeSet<String>,
        reports: BTreeSet<i64>,
    }
    fn add(a: Option<f64>, b: Option<f64>) -> Option<f64> {
        match (a, b) {
            (Some(x), Some(y)) => Some(x + y),
            (x, None) => x,
            (None, y) => y,
        }
    }
    let mut groups: BTreeMap<RowKey, Acc> = BTreeMap::new();
    for p in parts {
        let acc = groups.entry(p.keys).or_default();
        let values = [p.m0, p.m1, p.m2, p.m3, p.m4, p.m5, p.m0_paired, p.m1_paired];
        for (sum, value) in acc.m.iter_mut().zip(values) {
            *sum = add(*sum, value);
        }
        acc.rank = acc.rank.max(p.qualifier_rank.unwrap_or(0));
        acc.regions.extend(p.unit_region);
        acc.reports.extend(p.unit_report);
    }
    let grouped =
        grouping.region || grouping.year || grouping.quarter || grouping.month || grouping.key || grouping.key2;
    if !grouped && groups.is_empty() {
        // Like an aggregate without GROUP BY over no rows: one row that says "nothing".
        groups.insert(Default::default(), Acc::default());
    }
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|(keys, acc)| Row {
            keys,
            m0: acc.m[0],
            m1: acc.m[1],
            m2: acc.m[2],
            m3: acc.m[3],
            m4: acc.m[4],
            m5: acc.m[5],
            m0_paired: acc.m[6],
            m1_paired: acc.m[7],
            qualifier_rank: Some(acc.rank),
            reporting: acc.regions.len() as i64,
            sources: (!acc.reports.is_empty())
                .then(|| acc.reports.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
        })
        .collect();
    // docs/aggregation.md §6.5: by region, period, keys; an open start before any date, every
    // other null last — the same on both backends.
    fn by<T: Ord>(a: &Option<T>, b: &Option<T>) -> std::cmp::Ordering {
        match (a, b) {
            (Some(x), Some(y)) => x.cmp(y),
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(_), None) => std::cmp::Ordering::Less,
        }
    }
    rows.sort_by(|a, b| {
        by(&a.keys.region, &b.keys.region)
            .then_with(|| a.keys.period_order().cmp(&b.keys.period_order()))
            .then_with(|| by(&a.keys.key, &b.keys.key))
            .then_with(|| by(&a.keys.key2, &b.keys.key2))
            .then_with(|| by(&a.keys.unit, &b.keys.unit))
    });
    rows
}

/// The number of regions in scope, per group region (for `coverage.total`).
pub async fn scope_sizes(store: &Store, scope: &ResolvedScope) -> StoreResult<Vec<(Option<String>, i64)>> {
    #[derive(FromRow)]
    struct Size {
        region: Option<String>,
        n: i64,
    }
    let b = store.backend();
    let mut sql = Sql::new("");
    let roots = b.text_list(sql.next_index());
    sql.arg(json_list(&scope.roots));
    let depth = if scope.include_descendants { "" } else { " AND distance = 0" };
    let group = match &scope.group_parent {
        Some(parent) => {
            let p = sql.arg(parent.as_str());
            format!(
                "COALESCE((SELECT rc.ancestor FROM region_closure rc JOIN regions r ON r.code = rc.ancestor \
                 WHERE rc.descendant = s.code AND r.parent_code = {p}), s.code)"
            )
        }
        None => format!(
            "(SELECT MIN(rc.ancestor) FROM region_closure rc WHERE rc.descendant = s.code AND rc.ancestor IN ({roots}))"
        ),
    };
    sql.push(&format!(
        "WITH scope(code) AS (SELECT DISTINCT descendant FROM region_closure WHERE ancestor IN ({roots}){depth}) \
         SELECT {group} AS region, COUNT(*) AS n FROM scope s GROUP BY 1"
    ));
    let rows: Vec<Size> = store.fetch_all(&sql).await?;
    Ok(rows.into_iter().map(|r| (r.region, r.n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::dialect::Backend;

    /// W2 of the benchmarks: a province's case statistics for a year, by category and month.
    fn w2(b: Backend) -> String {
        let spec = specs::case_statistics(None);
        let scope = ResolvedScope {
            roots: vec!["901000".into()],
            include_descendants: true,
            alliance_id: None,
            group_parent: None,
        };
        let (from, to) = (NaiveDate::from_ymd_opt(2023, 1, 1), NaiveDate::from_ymd_opt(2023, 12, 31));
        let grouping = Grouping { key: true, month: true, ..Grouping::default() };
        format!("{:?}", statement::uncontested(b, &spec, &scope, from, to, grouping))
    }

    #[test]
    fn the_uncontested_part_reads_only_what_it_sums() {
        for b in [Backend::Sqlite, Backend::Postgres] {
            let sql = w2(b);
            assert!(!sql.contains("EXISTS"), "{sql}");
            assert!(!sql.contains(" t.*"), "whole figure rows: {sql}");
            assert!(sql.contains("t.received_q"), "{sql}");
            assert!(sql.contains("NOT t.contested AND t.part_of IS NULL"), "{sql}");
        }
    }
}
