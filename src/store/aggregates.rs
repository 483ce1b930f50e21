//! Dashboard aggregates, computed in SQL with the rules that keep sums honest:
//!
//! 1. **Current revisions only**: figures of superseded report revisions are ignored.
//! 2. **Within the window**: a figure counts when its whole period lies in the window.
//! 3. **One scope, one figure**: a figure of a region (or of an alliance as a whole) stands for
//!    its scope; figures of regions below it, and of organizations in it (members, for an
//!    alliance), for the same thing and an overlapping period are left out.
//! 4. **One period, one figure** (flows): for one region (or organization) and thing, a figure whose period is
//!    exactly the window wins over the finer ones inside it (unless grouping by time, where the
//!    group is the granularity asked for); otherwise a coarser figure that
//!    contains finer ones (a cumulative total over yearly figures) is left out and the finer
//!    ones are summed. Of identical periods the most recent report's figure counts.
//! 5. **Latest value** (stocks): per region and thing, only the figures with the latest period
//!    end count (of several reports stating it for the same date, the most recent report's);
//!    "of which" subsets (`part_of`) are never added.
//! 6. **Qualifiers**: a sum with an APPROXIMATE term is APPROXIMATE, else with an AT_LEAST
//!    term AT_LEAST, else EXACT.

use chrono::NaiveDate;
use sqlx::FromRow;

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
    /// (value expression, qualifier expression) per measure, over the rows of `kept`.
    pub measures: Vec<(&'static str, &'static str)>,
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
    /// Whether the table has a `part_of` column (subsets to leave out).
    pub has_part_of: bool,
    /// Whether subsets are breakdowns by the key (category): shown in their own group when
    /// grouping by key, left out otherwise.
    pub subsets_by_key: bool,
    /// Whether the table keeps the `contested` flag (store::contested): then only contested
    /// figures go through the rules, the rest count directly.
    pub fast_path: bool,
    /// Whether every row has both period columns (case statistics).
    pub periods_required: bool,
}

/// One grouped row, before domain interpretation.
#[derive(Debug, FromRow)]
pub struct Row {
    pub region: Option<String>,
    pub year: Option<i64>,
    pub quarter: Option<i64>,
    pub month: Option<i64>,
    pub key: Option<String>,
    pub key2: Option<String>,
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

/// Runs a summary.
pub async fn summarize(
    store: &Store,
    spec: &Spec,
    scope: &ResolvedScope,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    grouping: Grouping,
) -> StoreResult<Vec<Row>> {
    let b = store.backend();
    let mut sql = Sql::new("");
    let roots = b.text_list(sql.next_index());
    sql.arg(json_list(&scope.roots));
    let depth = if scope.include_descendants { "" } else { " AND distance = 0" };
    // Bound only where the table has the column: PostgreSQL refuses an argument it is not asked for.
    let alliance = scope.alliance_id.filter(|_| spec.has_alliance).map(|id| sql.arg(id));
    let key = spec.key_column.map_or("CAST(NULL AS TEXT)", |c| c);
    let key2 = spec.key2_column.map_or("CAST(NULL AS TEXT)", |c| c);
    // Where periods are required the columns themselves, so the period index serves the window.
    let (start, end) = if spec.periods_required {
        ("t.period_start", "t.period_end")
    } else {
        ("COALESCE(t.period_start, t.period_end)", "COALESCE(t.period_end, t.period_start)")
    };

    // The figures in scope and window, of current revisions.
    let mut wheres = vec![format!(
        "({}{})",
        b.in_set("t.region_code", "SELECT code FROM scope"),
        match (&alliance, spec.has_alliance) {
            (Some(a), true) => format!(" OR t.alliance_id = {a}"),
            _ => String::new(),
        }
    )];
    if let Some(from) = from {
        let p = sql.arg(Some(from));
        wheres.push(format!("{start} >= {p}"));
    }
    if let Some(to) = to {
        let p = sql.arg(Some(to));
        wheres.push(format!("{end} <= {p}"));
    }
    if let Some((column, value)) = &spec.only {
        let p = sql.arg(value.as_str());
        wheres.push(format!("t.{column} = {p}"));
    }
    if spec.has_part_of && !(spec.subsets_by_key && grouping.key) {
        wheres.push("t.part_of IS NULL".to_owned());
    }
    let alliance_col = if spec.has_alliance { "t.alliance_id" } else { "CAST(NULL AS BIGINT)" };
    let candidates = format!(
        "SELECT t.*, {alliance_col} AS scope_alliance, {start} AS fs, {end} AS fe, {key} AS k, {key2} AS k2 \
         FROM {table} t JOIN reports p ON p.id = t.report_id AND p.superseded_by IS NULL WHERE {wheres}",
        table = spec.table,
        wheres = wheres.join(" AND ")
    );

    // With the flag, the rules compare contested figures among themselves only: a figure that
    // could leave another out is contested too, by construction.
    let pool = if spec.fast_path { "c" } else { "f" };

    // Rule 3: a figure of a region above (or of the alliance) for the same thing and period.
    let overlapping = "g.fs <= f.fe AND f.fs <= g.fe";
    // Equalities that treat nulls as equal and that hash joins can use (IS NOT DISTINCT FROM
    // cannot be hashed): no key, region or id is '' or -1.
    let same_text = |a: &str, b: &str| format!("COALESCE({a}, '') = COALESCE({b}, '')");
    let same_id = |a: &str, b: &str| format!("COALESCE({a}, -1) = COALESCE({b}, -1)");
    let same_thing = format!("{} AND {}", same_text("g.k", "f.k"), same_text("g.k2", "f.k2"));
    // A region's own figure (not an organization's) also stands over its organizations' figures.
    let mut rules = vec![format!(
        "NOT EXISTS (SELECT 1 FROM {pool} g JOIN region_closure rc ON rc.ancestor = g.region_code \
         AND rc.descendant = f.region_code WHERE g.organization_id IS NULL AND g.id <> f.id \
         AND (rc.distance > 0 OR f.organization_id IS NOT NULL) AND {same_thing} AND {overlapping})"
    )];
    if spec.has_alliance && alliance.is_some() {
        rules.push(format!(
            "(f.scope_alliance IS NOT NULL OR NOT EXISTS (SELECT 1 FROM {pool} g WHERE g.scope_alliance IS NOT NULL \
             AND {same_thing} AND {overlapping}))"
        ));
    }
    let same_unit = format!(
        "{} AND {} AND {}",
        same_text("g.region_code", "f.region_code"),
        same_id("g.scope_alliance", "f.scope_alliance"),
        same_id("g.organization_id", "f.organization_id")
    );
    if spec.stock {
        // Rule 5: only the latest period end per unit and thing.
        rules.push(format!(
            "NOT EXISTS (SELECT 1 FROM {pool} g WHERE {same_unit} AND {same_thing} \
             AND COALESCE(g.fe, '0001-01-01') > COALESCE(f.fe, '0001-01-01'))"
        ));
        // Two reports stating the level at the same date: the more recent report's statement.
        rules.push(format!(
            "NOT EXISTS (SELECT 1 FROM {pool} g WHERE {same_unit} AND {same_thing} \
             AND COALESCE(g.fe, '0001-01-01') = COALESCE(f.fe, '0001-01-01') AND g.report_id > f.report_id)"
        ));
    } else {
        // Rule 4: prefer the figure matching the window; else the finest; of equals the latest report.
        // When grouping by time the group unit is the granularity asked for: no window preference.
        let by_time = grouping.year || grouping.quarter || grouping.month;
        let window_match = match (from, to) {
            (Some(_), Some(_)) if !by_time => {
                let (f_, t_) = (sql.arg(from), sql.arg(to));
                Some((f_, t_))
            }
            _ => None,
        };
        let finer = format!(
            "NOT EXISTS (SELECT 1 FROM {pool} g WHERE {same_unit} AND {same_thing} AND g.id <> f.id \
             AND g.fs >= f.fs AND g.fe <= f.fe AND (g.fs > f.fs OR g.fe < f.fe))"
        );
        match &window_match {
            // A figure of exactly the window stands; others give way to finer ones and to it.
            Some((f_, t_)) => {
                let matches = |alias: &str| format!("({alias}.fs = {f_} AND {alias}.fe = {t_})");
                rules.push(format!("({} OR {finer})", matches("f")));
                rules.push(format!(
                    "({f_match} OR NOT EXISTS (SELECT 1 FROM {pool} g WHERE {same_unit} AND {same_thing} \
                     AND g.id <> f.id AND {g_match} AND g.fs <= f.fs AND g.fe >= f.fe))",
                    f_match = matches("f"),
                    g_match = matches("g")
                ));
            }
            // Plain NOT EXISTS at the top of the condition: the planner makes it an anti-join.
            None => rules.push(finer),
        }
        rules.push(format!(
            "NOT EXISTS (SELECT 1 FROM {pool} g WHERE {same_unit} AND {same_thing} AND g.fs = f.fs AND g.fe = f.fe \
             AND (g.report_id > f.report_id OR (g.report_id = f.report_id AND g.id > f.id)))"
        ));
    }

    // Grouping keys.
    let mut group = Vec::new();
    let region_key = if grouping.region {
        let parent = scope.group_parent.as_ref().map(|p| sql.arg(p.as_str()));
        let expr = match parent {
            // Region scope: the child of the scope region the figure lies under (the scope region itself if at it).
            Some(p) => format!(
                "COALESCE((SELECT rc.ancestor FROM region_closure rc JOIN regions r ON r.code = rc.ancestor \
                 WHERE rc.descendant = kept.region_code AND r.parent_code = {p}), kept.region_code)"
            ),
            // Alliance scope: the member the figure lies under (null for the alliance's own figures).
            None => format!(
                "(SELECT MIN(rc.ancestor) FROM region_closure rc WHERE rc.descendant = kept.region_code \
                 AND rc.ancestor IN ({}))",
                b.text_list(1)
            ),
        };
        group.push("region");
        expr
    } else {
        "CAST(NULL AS TEXT)".to_owned()
    };
    let (year, month) = (b.year_of("kept.fs"), b.month_of("kept.fs"));
    let (year_end, month_end) = (b.year_of("kept.fe"), b.month_of("kept.fe"));
    let mut time_filter = Vec::new();
    let year_key = if grouping.year || grouping.quarter || grouping.month {
        group.push("year");
        time_filter.push(format!("{year} = {year_end}"));
        year.clone()
    } else {
        "CAST(NULL AS BIGINT)".to_owned()
    };
    let quarter_key = if grouping.quarter && !grouping.month {
        group.push("quarter");
        time_filter.push(format!("({month} - 1) / 3 = ({month_end} - 1) / 3"));
        format!("(({month} - 1) / 3 + 1)")
    } else {
        "CAST(NULL AS BIGINT)".to_owned()
    };
    let month_key = if grouping.month {
        group.push("month");
        time_filter.push(format!("{month} = {month_end}"));
        month.clone()
    } else {
        "CAST(NULL AS BIGINT)".to_owned()
    };
    let key_key = if grouping.key {
        group.push("key");
        "kept.k".to_owned()
    } else {
        "CAST(NULL AS TEXT)".to_owned()
    };
    let key2_key = if grouping.key2 {
        group.push("key2");
        "kept.k2".to_owned()
    } else {
        "CAST(NULL AS TEXT)".to_owned()
    };

    let mut measures = Vec::new();
    let mut ranks = Vec::new();
    for i in 0..6 {
        match spec.measures.get(i) {
            Some((value, q)) => {
                measures.push(format!("CAST(SUM({value}) AS DOUBLE PRECISION) AS m{i}"));
                ranks.push(format!(
                    "COALESCE(MAX(CASE WHEN {value} IS NULL THEN 0 WHEN {q} = 'APPROXIMATE' THEN 2 \
                     WHEN {q} = 'AT_LEAST' THEN 1 ELSE 0 END), 0)"
                ));
            }
            None => measures.push(format!("CAST(NULL AS DOUBLE PRECISION) AS m{i}")),
        }
    }
    let paired = match (spec.measures.first(), spec.measures.get(1)) {
        (Some((a, _)), Some((b_, _))) => format!(
            "CAST(SUM(CASE WHEN {b_} IS NOT NULL THEN {a} END) AS DOUBLE PRECISION) AS m0_paired, \
             CAST(SUM(CASE WHEN {a} IS NOT NULL THEN {b_} END) AS DOUBLE PRECISION) AS m1_paired"
        ),
        _ => "CAST(NULL AS DOUBLE PRECISION) AS m0_paired, CAST(NULL AS DOUBLE PRECISION) AS m1_paired".to_owned(),
    };
    let group_by = if group.is_empty() { String::new() } else { format!(" GROUP BY {}", group.join(", ")) };
    let order_by = if group.is_empty() { String::new() } else { format!(" ORDER BY {}", group.join(", ")) };
    let time_where =
        if time_filter.is_empty() { String::new() } else { format!(" WHERE {}", time_filter.join(" AND ")) };
    let kept = if spec.fast_path {
        "c AS MATERIALIZED (SELECT * FROM f WHERE f.contested), \
         kept AS (SELECT * FROM f WHERE NOT f.contested UNION ALL SELECT * FROM c f WHERE {rules})"
    } else {
        "kept AS (SELECT * FROM f WHERE {rules})"
    }
    .replace("{rules}", &rules.join(" AND "));
    sql.push(&format!(
        "WITH scope(code) AS (SELECT DISTINCT descendant FROM region_closure WHERE ancestor IN ({roots}){depth}), \
         f AS MATERIALIZED ({candidates}), \
         {kept} \
         SELECT {region_key} AS region, {year_key} AS year, {quarter_key} AS quarter, {month_key} AS month, \
                {key_key} AS key, {key2_key} AS key2, {measures}, {paired}, \
                CAST({rank} AS BIGINT) AS qualifier_rank, COUNT(DISTINCT kept.region_code) AS reporting, \
                {sources} AS sources \
         FROM kept{time_where}{group_by}{order_by}",
        measures = measures.join(", "),
        rank = b.greatest(&ranks),
        sources = b.concat_distinct("kept.report_id"),
    ));
    let rows: Vec<Row> = store.fetch_all(&sql).await?;
    // Without grouping, an empty input still yields one row of nulls: keep it (it says "nothing").
    Ok(rows)
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
