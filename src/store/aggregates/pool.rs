//! The candidate figures of a summary, as the rules (`domain::summary::rules`) read them.

use chrono::NaiveDate;
use sqlx::FromRow;

use super::statement::{Candidates, candidates};
use super::{Pool, ResolvedScope, Spec};
use crate::store::dialect::json_list;
use crate::store::sql::Sql;
use crate::store::{Store, StoreResult};

/// A candidate figure of a summary: what the rules and the grouping read, and its measures
/// with their qualifiers.
#[derive(Clone, Debug, FromRow)]
pub struct PoolFigure {
    pub id: i64,
    pub report_id: i64,
    pub region_code: Option<String>,
    pub organization_id: Option<i64>,
    pub scope_alliance: Option<i64>,
    /// The period as the rules read it: a stock's date as both ends; `None` where unknown.
    pub fs: Option<NaiveDate>,
    pub fe: Option<NaiveDate>,
    /// What is counted (category, kind, metric) and the second key (sector).
    pub k: Option<String>,
    pub k2: Option<String>,
    /// The report's as-of date and key, for precedence between reports.
    pub asof: Option<NaiveDate>,
    pub rkey: String,
    /// The figure this one is a subset of ("of which"), and that figure's key (category,
    /// kind; '' for tables without one): part of what a subset is.
    pub part_of: Option<i64>,
    /// For a subset: the chain of its totals, nearest first (a subset of a subset lies within
    /// its grandparent too), and their keys joined, the "of which" link that is part of what
    /// the subset is (docs/aggregation.md §2.3, §5.5). Empty and `None` for other figures.
    #[sqlx(skip)]
    pub totals: Vec<i64>,
    #[sqlx(skip)]
    pub link: Option<String>,
    /// Its dimensions as stored ('' for none), and its unit where the summary is split by unit.
    pub dims: String,
    pub unit: Option<String>,
    /// For a per-unit statement: its unit and spread as stored; [`pool`] expands it into one
    /// candidate per calendar unit, labelled by `part` (`2023`, `2023-Q1`, `2023-12`).
    pub per: Option<String>,
    pub spread: Option<String>,
    /// The period as stated (a per-unit statement is cut into the units of it).
    pub ps: Option<NaiveDate>,
    pub pe: Option<NaiveDate>,
    #[sqlx(skip)]
    pub part: Option<String>,
    /// A single job fair (docs/aggregation.md §2.4).
    pub event: bool,
    pub m0: Option<f64>,
    pub m1: Option<f64>,
    pub m2: Option<f64>,
    pub m3: Option<f64>,
    pub m4: Option<f64>,
    pub m5: Option<f64>,
    /// The measures' qualifiers as ranks: 0 exact, 1 at least, 2 approximate.
    pub q0: i64,
    pub q1: i64,
    pub q2: i64,
    pub q3: i64,
    pub q4: i64,
    pub q5: i64,
}

impl PoolFigure {
    /// Measure `i`'s value, if the figure states it.
    pub fn value(&self, i: usize) -> Option<f64> {
        [self.m0, self.m1, self.m2, self.m3, self.m4, self.m5].get(i).copied().flatten()
    }

    /// Measure `i`'s qualifier rank.
    pub fn rank(&self, i: usize) -> i64 {
        [self.q0, self.q1, self.q2, self.q3, self.q4, self.q5].get(i).copied().unwrap_or(0)
    }
}

/// A region with one of the regions at or above it, and that region's parent.
#[derive(Clone, Debug, FromRow)]
pub struct Ancestry {
    pub descendant: String,
    pub ancestor: String,
    pub distance: i64,
    pub parent_code: Option<String>,
}

/// A summary's candidates of one pool, with the ancestry of their regions, and the base
/// version the statement saw (read in the same statement, so that the contested pool and a
/// cached uncontested part are only merged when they come from one state of the data). At
/// most `limit` candidates are read (a caller that must see them all refuses a pool that
/// reaches it).
pub async fn pool(
    store: &Store,
    spec: &Spec,
    scope: &ResolvedScope,
    window: (Option<NaiveDate>, Option<NaiveDate>),
    which: Pool,
    limit: Option<usize>,
) -> StoreResult<(i64, Vec<PoolFigure>, Vec<Ancestry>)> {
    let b = store.backend();
    let Candidates { mut sql, roots, depth, select } = candidates(b, spec, scope, window, which);
    let mut columns: Vec<String> = (0..6)
        .map(|i| match spec.measures.get(i) {
            Some(m) => format!("CAST({} AS DOUBLE PRECISION) AS m{i}", m.value),
            None => format!("CAST(NULL AS DOUBLE PRECISION) AS m{i}"),
        })
        .collect();
    columns.extend((0..6).map(|i| match spec.measures.get(i) {
        Some(m) => format!(
            "CAST(CASE WHEN {q} = 'APPROXIMATE' THEN 2 WHEN {q} = 'AT_LEAST' THEN 1 ELSE 0 END AS BIGINT) AS q{i}",
            q = m.qualifier
        ),
        None => format!("CAST(0 AS BIGINT) AS q{i}"),
    }));
    let limit = match limit {
        Some(n) => format!(" LIMIT {}", sql.arg(i64::try_from(n).unwrap_or(i64::MAX))),
        None => String::new(),
    };
    // The left join keeps the version when the pool is empty: one row with id -1.
    sql.push(&format!(
        "WITH scope(code) AS (SELECT DISTINCT descendant FROM region_closure WHERE ancestor IN ({roots}){depth}), \
         kept AS ({select}) \
         SELECT d.base_version AS base, COALESCE(kept.id, -1) AS id, COALESCE(kept.report_id, -1) AS report_id, \
         kept.region_code, kept.organization_id, kept.scope_alliance, kept.fs, kept.fe, kept.k, kept.k2, kept.asof, \
         COALESCE(kept.rkey, '') AS rkey, kept.part_of, COALESCE(kept.dims, '') AS dims, kept.unit, kept.per, kept.spread, kept.ps, kept.pe, COALESCE(kept.event, FALSE) AS event, {columns} \
         FROM data_version d LEFT JOIN kept ON 1 = 1 WHERE d.id = 1 ORDER BY kept.id{limit}",
        columns = columns.join(", "),
    ));
    #[derive(FromRow)]
    struct Based {
        base: i64,
        #[sqlx(flatten)]
        figure: PoolFigure,
    }
    let rows: Vec<Based> = store.fetch_all(&sql).await?;
    let base = rows.first().map_or(0, |r| r.base);
    let pool: Vec<PoolFigure> = rows.into_iter().map(|r| r.figure).filter(|f| f.id >= 0).collect();
    let mut pool = if spec.per_unit { expand_per_unit(pool, window, spec.stock)? } else { pool };
    if spec.has_part_of && pool.iter().any(|f| f.part_of.is_some()) {
        link_subsets(store, spec, &mut pool).await?;
    }
    let mut regions: Vec<String> = pool.iter().filter_map(|f| f.region_code.clone()).collect();
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        return Ok((base, pool, Vec::new()));
    }
    let mut sql = Sql::new("");
    let list = b.text_list(sql.next_index());
    sql.arg(json_list(&regions));
    sql.push(&format!(
        "SELECT rc.descendant, rc.ancestor, CAST(rc.distance AS BIGINT) AS distance, r.parent_code \
         FROM region_closure rc JOIN regions r ON r.code = rc.ancestor WHERE rc.descendant IN ({list})"
    ));
    Ok((base, pool, store.fetch_all(&sql).await?))
}

/// Fills in each subset's chain of totals and its link (see [`PoolFigure::totals`]), reading
/// the totals that are not candidates themselves (another category, outside the window).
async fn link_subsets(store: &Store, spec: &Spec, pool: &mut [PoolFigure]) -> StoreResult<()> {
    use std::collections::HashMap;
    #[derive(FromRow)]
    struct Link {
        id: i64,
        part_of: Option<i64>,
        k: Option<String>,
    }
    let mut known: HashMap<i64, (Option<i64>, Option<String>)> =
        pool.iter().map(|f| (f.id, (f.part_of, f.k.clone()))).collect();
    // Chains are short (validation refuses cycles); a few rounds reach every total.
    for _ in 0..16 {
        let mut missing: Vec<i64> = known.values().filter_map(|(p, _)| *p).filter(|p| !known.contains_key(p)).collect();
        if missing.is_empty() {
            break;
        }
        missing.sort_unstable();
        missing.dedup();
        let ids = missing.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = Sql::new(format!(
            "SELECT t.id, t.part_of, {key} AS k FROM {table} t WHERE t.id IN ({ids})",
            key = spec.key_column.unwrap_or("CAST(NULL AS TEXT)"),
            table = spec.table
        ));
        let found: Vec<Link> = store.fetch_all(&sql).await?;
        if found.is_empty() {
            break;
        }
        known.extend(found.into_iter().map(|l| (l.id, (l.part_of, l.k))));
    }
    for f in pool.iter_mut() {
        let mut at = f.part_of;
        let mut keys = Vec::new();
        while let Some(total) = at.filter(|t| !f.totals.contains(t) && *t != f.id) {
            f.totals.push(total);
            let (next, key) = known.get(&total).cloned().unwrap_or_default();
            keys.push(key.unwrap_or_default());
            at = next;
        }
        f.link = f.part_of.map(|_| keys.join("/"));
    }
    Ok(())
}

/// Expands each per-unit statement ("每年…3000吨") into one candidate per calendar unit of its
/// period that lies inside the window, each with the stated numbers (docs/aggregation.md
/// §2.4); an AVERAGE over several units makes each unit's numbers approximate.
fn expand_per_unit(
    pool: Vec<PoolFigure>,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    stock: bool,
) -> StoreResult<Vec<PoolFigure>> {
    use crate::domain::figures::{PerUnit, calendar_units};
    use chrono::Datelike;
    let mut out = Vec::with_capacity(pool.len());
    for f in pool {
        let Some(text) = f.per.as_deref() else {
            out.push(f);
            continue;
        };
        let corrupt = || {
            crate::store::StoreError::Corrupt(format!(
                "per-unit statement {} ({text:?}, {:?} to {:?})",
                f.id, f.ps, f.pe
            ))
        };
        let per: PerUnit = text.parse().map_err(|_| corrupt())?;
        let units = f.ps.zip(f.pe).and_then(|(s, e)| calendar_units(s, e, per)).ok_or_else(corrupt)?;
        let average = f.spread.as_deref() == Some("AVERAGE") && units.len() > 1;
        for (start, end) in units {
            // A level per unit is dated at the unit's end (§2.4); a flow covers the unit.
            let (start, end) = if stock { (end, end) } else { (start, end) };
            if from.is_some_and(|d| start < d) || to.is_some_and(|d| end > d) {
                continue;
            }
            let mut part = f.clone();
            (part.fs, part.fe) = (Some(start), Some(end));
            part.part = Some(match per {
                PerUnit::Year => format!("{}", start.year()),
                PerUnit::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
                PerUnit::Month => format!("{}-{:02}", start.year(), start.month()),
            });
            if average {
                for q in [&mut part.q0, &mut part.q1, &mut part.q2, &mut part.q3, &mut part.q4, &mut part.q5] {
                    *q = 2;
                }
            }
            out.push(part);
        }
    }
    Ok(out)
}
