//! What `explain` reads: every candidate of a summary, decided by `domain::summary::explain`.

use chrono::NaiveDate;
use sqlx::FromRow;

use super::statement::{Candidates, candidates};
use super::{Grouping, Part, ResolvedScope, Spec};
use crate::store::dialect::json_list;
use crate::store::sql::Sql;
use crate::store::{Store, StoreResult};

/// A candidate figure of a summary as `explain` sees it: what the rules and the grouping read,
/// and its measures with their qualifiers.
#[derive(Clone, Debug, FromRow)]
pub struct PoolFigure {
    pub id: i64,
    pub report_id: i64,
    pub region_code: Option<String>,
    pub organization_id: Option<i64>,
    pub scope_alliance: Option<i64>,
    pub fs: Option<NaiveDate>,
    pub fe: Option<NaiveDate>,
    pub k: Option<String>,
    pub k2: Option<String>,
    /// The report's as-of date and key, for precedence between reports.
    pub asof: Option<NaiveDate>,
    pub rkey: String,
    pub part_of: Option<i64>,
    /// A subset ("of which") that the summary leaves out before any rule (its total counts).
    pub subset_left_out: bool,
    pub m0: Option<f64>,
    pub m1: Option<f64>,
    pub m2: Option<f64>,
    pub m3: Option<f64>,
    pub m4: Option<f64>,
    pub m5: Option<f64>,
}

/// A region with one of the regions at or above it, and that region's parent.
#[derive(Clone, Debug, FromRow)]
pub struct Ancestry {
    pub descendant: String,
    pub ancestor: String,
    pub distance: i64,
    pub parent_code: Option<String>,
}

/// Every candidate of a summary (subsets left out included, marked), with the ancestry of
/// their regions: what `explain` needs to say, figure by figure, what the rules decided. At
/// most `limit` candidates are read (the caller refuses a pool that reaches it).
pub async fn explain_pool(
    store: &Store,
    spec: &Spec,
    scope: &ResolvedScope,
    window: (Option<NaiveDate>, Option<NaiveDate>),
    grouping: Grouping,
    limit: usize,
) -> StoreResult<(Vec<PoolFigure>, Vec<Ancestry>)> {
    let Candidates { mut sql, roots, depth, select, .. } =
        candidates(store.backend(), spec, scope, window, grouping, Part::Whole, true);
    let measures: Vec<String> = (0..6)
        .map(|i| match spec.measures.get(i) {
            Some((value, _)) => format!("CAST({value} AS DOUBLE PRECISION) AS m{i}"),
            None => format!("CAST(NULL AS DOUBLE PRECISION) AS m{i}"),
        })
        .collect();
    let part_of = if spec.has_part_of { "kept.part_of" } else { "CAST(NULL AS BIGINT)" };
    let limit = sql.arg(i64::try_from(limit).unwrap_or(i64::MAX));
    sql.push(&format!(
        "WITH scope(code) AS (SELECT DISTINCT descendant FROM region_closure WHERE ancestor IN ({roots}){depth}) \
         SELECT kept.id, kept.report_id, kept.region_code, kept.organization_id, kept.scope_alliance, kept.fs, \
         kept.fe, kept.k, kept.k2, kept.asof, kept.rkey, {part_of} AS part_of, kept.subset_left_out, {measures} FROM ({select}) kept \
         ORDER BY kept.id LIMIT {limit}",
        measures = measures.join(", "),
    ));
    let pool: Vec<PoolFigure> = store.fetch_all(&sql).await?;
    let mut regions: Vec<String> = pool.iter().filter_map(|f| f.region_code.clone()).collect();
    regions.sort();
    regions.dedup();
    let mut sql = Sql::new("");
    let list = store.backend().text_list(sql.next_index());
    sql.arg(json_list(&regions));
    sql.push(&format!(
        "SELECT rc.descendant, rc.ancestor, CAST(rc.distance AS BIGINT) AS distance, r.parent_code \
         FROM region_closure rc JOIN regions r ON r.code = rc.ancestor WHERE rc.descendant IN ({list})"
    ));
    Ok((pool, store.fetch_all(&sql).await?))
}
