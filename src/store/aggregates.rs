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
//!    ones are summed. Of identical periods the figure of the report with precedence counts
//!    (the later as-of date, then the greater key: [`PRECEDES`]).
//! 5. **Latest value** (stocks): per region and thing, only the figures with the latest period
//!    end count (of several reports stating it for the same date, the one with precedence);
//!    "of which" subsets (`part_of`) are never added.
//! 6. **Qualifiers**: a sum with an APPROXIMATE term is APPROXIMATE, else with an AT_LEAST
//!    term AT_LEAST, else EXACT.

use chrono::NaiveDate;
use sqlx::FromRow;

use super::dialect::{Backend, json_list};
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
    /// Grouped by time, a row of figures that span more than one bucket: their period
    /// (docs/aggregation.md §6.2). Null otherwise.
    pub span_from: Option<NaiveDate>,
    pub span_to: Option<NaiveDate>,
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

/// Which figures a statement sums. A summary over a table with the `contested` flag can be
/// computed in two parts: the uncontested figures (summed directly; the expensive part, which
/// writes of contested figures do not change, so it is kept per base version) and the
/// contested ones (through the rules; few). Each part is grouped down to (group, region,
/// report), so that [`merge`] can count distinct regions and reports over both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Every figure, in one statement ([`summarize`]).
    Whole,
    /// Only uncontested figures.
    Uncontested,
    /// Only contested figures, through the rules.
    Contested,
}

/// One row of a part: a group, one region and one report within it, and the base version the
/// statement ran at (bumped by every write that changes the uncontested figures; migration
/// 0009). A part with no rows still yields one row, with the version and no report.
#[derive(Clone, Debug, FromRow)]
pub struct PartRow {
    pub base: i64,
    pub region: Option<String>,
    pub year: Option<i64>,
    pub quarter: Option<i64>,
    pub month: Option<i64>,
    pub span_from: Option<NaiveDate>,
    pub span_to: Option<NaiveDate>,
    pub key: Option<String>,
    pub key2: Option<String>,
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

/// Runs one part of a summary of a table with the `contested` flag; returns the base version
/// the statement saw and the part's rows.
pub async fn summarize_part(
    store: &Store,
    spec: &Spec,
    scope: &ResolvedScope,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    grouping: Grouping,
    part: Part,
) -> StoreResult<(i64, Vec<PartRow>)> {
    debug_assert!(spec.fast_path && part != Part::Whole);
    let sql = statement(store.backend(), spec, scope, from, to, grouping, part);
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
pub fn merge(backend: Backend, grouping: Grouping, parts: impl IntoIterator<Item = PartRow>) -> Vec<Row> {
    use std::collections::{BTreeMap, BTreeSet};
    type Group = (
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<String>,
        Option<String>,
    );
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
    let mut groups: BTreeMap<Group, Acc> = BTreeMap::new();
    for p in parts {
        let acc =
            groups.entry((p.region, p.year, p.quarter, p.month, p.span_from, p.span_to, p.key, p.key2)).or_default();
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
        .map(|((region, year, quarter, month, span_from, span_to, key, key2), acc)| Row {
            region,
            year,
            quarter,
            month,
            span_from,
            span_to,
            key,
            key2,
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
    // The order of `ORDER BY` over the group columns: nulls last on PostgreSQL, first on SQLite.
    let nulls_last = backend == Backend::Postgres;
    fn by<T: Ord>(a: &Option<T>, b: &Option<T>, nulls_last: bool) -> std::cmp::Ordering {
        match (a, b) {
            (Some(x), Some(y)) => x.cmp(y),
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) if nulls_last => std::cmp::Ordering::Greater,
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) if nulls_last => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
        }
    }
    rows.sort_by(|a, b| {
        by(&a.region, &b.region, nulls_last)
            .then_with(|| by(&a.year, &b.year, nulls_last))
            .then_with(|| by(&a.quarter, &b.quarter, nulls_last))
            .then_with(|| by(&a.month, &b.month, nulls_last))
            .then_with(|| by(&a.span_from, &b.span_from, nulls_last))
            .then_with(|| by(&a.span_to, &b.span_to, nulls_last))
            .then_with(|| by(&a.key, &b.key, nulls_last))
            .then_with(|| by(&a.key2, &b.key2, nulls_last))
    });
    rows
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
    let sql = statement(store.backend(), spec, scope, from, to, grouping, Part::Whole);
    let rows: Vec<Row> = store.fetch_all(&sql).await?;
    // Without grouping, an empty input still yields one row of nulls: keep it (it says "nothing").
    Ok(rows)
}

/// The statement of a summary (see [`summarize`]).
fn statement(
    b: Backend,
    spec: &Spec,
    scope: &ResolvedScope,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    grouping: Grouping,
    part: Part,
) -> Sql {
    let Candidates { mut sql, roots, depth, alliance, select: candidates } =
        candidates(b, spec, scope, (from, to), grouping, part, false);

    // With the flag, the rules compare contested figures among themselves only: a figure that
    // could leave another out is contested too, by construction.
    // (The contested part's candidates are all contested: the rules run over them as a whole.)
    let two_sets = spec.fast_path && part == Part::Whole;
    let pool = if two_sets { "c" } else { "f" };

    // Each rule is written as the set of figures it leaves out: a join of the pool with itself
    // on the equalities (same thing, same unit, a region above), computed once, which both
    // backends can run by hashing or an index (PostgreSQL hash-joins, SQLite indexes the
    // `NOT IN` set), where a correlated `NOT EXISTS` per figure ran as a nested loop over the
    // pool (the planner cannot estimate a materialized set's size and assumes one row).
    // A figure is kept when no rule leaves it out. That is the same as every rule holding:
    // a rule `NOT EXISTS (g: cond)` fails exactly when some `g` makes `cond` true, which is
    // when the join yields the figure; a rule `(p OR NOT EXISTS …)` fails when `p` is not true
    // (false or null: a null `p` made the whole condition null, and WHERE dropped the figure)
    // and a `g` exists, hence `p IS NOT TRUE` below. Ids are never null, so `NOT IN` is never
    // null either.
    let mut excluded = Vec::new();

    // Rule 3: a figure of a region above (or of the alliance) for the same thing and period.
    let overlapping = "g.fs <= f.fe AND f.fs <= g.fe";
    // Equalities that treat nulls as equal and that joins can use: no key, region or id is '' or -1.
    let same_text = |x: &str, y: &str| b.same(x, y, "''");
    let same_id = |x: &str, y: &str| b.same(x, y, "-1");
    let same_thing = format!("{} AND {}", same_text("g.k", "f.k"), same_text("g.k2", "f.k2"));
    // A region's own figure (not an organization's) also stands over its organizations' figures.
    // Joined through `above` (each figure with the regions at or above it: a few index lookups
    // per figure) rather than by probing the closure for every pair of figures of one thing.
    excluded.push(format!(
        "SELECT f.id FROM above f JOIN {pool} g ON g.region_code = f.ancestor AND {same_thing} \
         WHERE g.organization_id IS NULL AND g.id <> f.id AND (f.distance > 0 OR f.organization_id IS NOT NULL) \
         AND {overlapping}"
    ));
    if spec.has_alliance && alliance.is_some() {
        excluded.push(format!(
            "SELECT f.id FROM {pool} f JOIN {pool} g ON {same_thing} \
             WHERE f.scope_alliance IS NULL AND g.scope_alliance IS NOT NULL AND {overlapping}"
        ));
    }
    let same_unit = format!(
        "{} AND {} AND {}",
        same_text("g.region_code", "f.region_code"),
        same_id("g.scope_alliance", "f.scope_alliance"),
        same_id("g.organization_id", "f.organization_id")
    );
    // The rules below compare figures of one unit and thing: one join, a figure left out when
    // any of them leaves it out (the union of their sets is the disjunction of their conditions).
    // For flows every one of them needs the two periods to overlap (a finer figure lies inside,
    // a window-matching one around, an equal one on it), said first in the join: plain date
    // comparisons that drop most pairs before the null-safe equalities run, which matters
    // when a planner estimates a set at one row and compares every pair.
    let mut unit_rules = Vec::new();
    // The same rules over a window pass, for the contested part (see below).
    let mut unit_windowed = None;
    if spec.stock {
        // Rule 5: only the latest period end per unit and thing.
        unit_rules.push("COALESCE(g.fe, '0001-01-01') > COALESCE(f.fe, '0001-01-01')".to_owned());
        // Two reports stating the level at the same date: the more recent report's statement.
        unit_rules.push(format!("(COALESCE(g.fe, '0001-01-01') = COALESCE(f.fe, '0001-01-01') AND {PRECEDES})"));
    } else {
        // Rule 4: prefer the figure matching the window; else the finest; of equals the report
        // with precedence.
        // When grouping by time the group unit is the granularity asked for: no window preference.
        let by_time = grouping.year || grouping.quarter || grouping.month;
        let window_match = match (from, to) {
            (Some(_), Some(_)) if !by_time => {
                let (f_, t_) = (sql.arg(from), sql.arg(to));
                Some((f_, t_))
            }
            _ => None,
        };
        let finer = "(g.id <> f.id AND g.fs >= f.fs AND g.fe <= f.fe AND (g.fs > f.fs OR g.fe < f.fe))";
        match &window_match {
            // A figure of exactly the window stands; others give way to finer ones and to it.
            Some((f_, t_)) => {
                let matches = |alias: &str| format!("({alias}.fs = {f_} AND {alias}.fe = {t_})");
                unit_rules.push(format!("({} IS NOT TRUE AND {finer})", matches("f")));
                unit_rules.push(format!(
                    "({f_match} IS NOT TRUE AND g.id <> f.id AND {g_match} AND g.fs <= f.fs AND g.fe >= f.fe)",
                    f_match = matches("f"),
                    g_match = matches("g")
                ));
            }
            None => unit_rules.push(finer.to_owned()),
        }
        unit_rules.push(format!(
            "(g.fs = f.fs AND g.fe = f.fe AND ({PRECEDES} OR (g.report_id = f.report_id AND g.id > f.id)))"
        ));
        // The contested part runs these rules as one window pass per unit and thing instead
        // of a join of the set with itself: both planners estimate a materialized set at one
        // row and then compare every pair (a nested loop of 450 × 450 figures took 39 ms when
        // an editor's corrections made them compete). Per figure, with the unit and thing as
        // the partition (windows group nulls together, as the null-safe equalities do):
        // - a finer figure exists iff some figure starting no earlier ends earlier
        //   (`min_fe_after < fe`) or some figure ending no later starts later
        //   (`max_fs_before > fs`): a contained, different period either ends earlier or,
        //   ending the same day, starts later; the figure itself and equal periods never
        //   satisfy the strict comparisons;
        // - of equal periods the report with precedence (then the highest id) is number 1;
        // - with a window to match, a figure not matching it gives way to any that does (every
        //   candidate lies inside the window).
        // Figures without a period compare as null and are never left out, as in the join.
        let matches = window_match.as_ref().map(|(f_, t_)| format!("(w.fs = {f_} AND w.fe = {t_})"));
        let finer = "(w.min_fe_after < w.fe OR w.max_fs_before > w.fs)";
        let mut rules = vec![match &matches {
            Some(m) => format!("({m} IS NOT TRUE AND ({finer} OR w.window_matches > 0))"),
            None => finer.to_owned(),
        }];
        rules.push("(w.fs IS NOT NULL AND w.fe IS NOT NULL AND w.same_period_rank > 1)".to_owned());
        let unit = "f.region_code, f.scope_alliance, f.organization_id, f.k, f.k2";
        let window_matches = match &window_match {
            Some((f_, t_)) => format!(
                ", SUM(CASE WHEN f.fs = {f_} AND f.fe = {t_} THEN 1 ELSE 0 END) OVER (PARTITION BY {unit}) AS window_matches"
            ),
            None => String::new(),
        };
        unit_windowed = Some(format!(
            "SELECT w.id FROM (SELECT f.id, f.fs, f.fe, \
               MIN(CASE WHEN f.fs IS NOT NULL THEN f.fe END) OVER (PARTITION BY {unit} ORDER BY f.fs DESC) AS min_fe_after, \
               MAX(CASE WHEN f.fe IS NOT NULL THEN f.fs END) OVER (PARTITION BY {unit} ORDER BY f.fe) AS max_fs_before, \
               ROW_NUMBER() OVER (PARTITION BY {unit}, f.fs, f.fe ORDER BY COALESCE(f.asof, '0001-01-01') DESC, f.rkey DESC, f.report_id DESC, f.id DESC) AS same_period_rank\
               {window_matches} FROM {pool} f) w WHERE {}",
            rules.join(" OR ")
        ));
    }
    match unit_windowed.filter(|_| part == Part::Contested) {
        Some(windowed) => excluded.push(windowed),
        None => excluded.push(format!(
            "SELECT f.id FROM {pool} f JOIN {pool} g ON {overlap}{same_thing} AND {same_unit} WHERE {}",
            unit_rules.join(" OR "),
            overlap = if spec.stock { "" } else { "g.fs <= f.fe AND f.fs <= g.fe AND " }
        )),
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
    // Time buckets: a figure within one bucket goes to its bucket's row; one that spans
    // buckets (a five-year total grouped by year) to the row of its own period, with the
    // bucket keys null (docs/aggregation.md §6.2), never dropped.
    let (year, month) = (b.year_of("kept.fs"), b.month_of("kept.fs"));
    let (year_end, month_end) = (b.year_of("kept.fe"), b.month_of("kept.fe"));
    let by_time = grouping.year || grouping.quarter || grouping.month;
    let mut in_bucket = vec![format!("{year} = {year_end}")];
    if grouping.quarter && !grouping.month {
        in_bucket.push(format!("({month} - 1) / 3 = ({month_end} - 1) / 3"));
    }
    if grouping.month {
        in_bucket.push(format!("{month} = {month_end}"));
    }
    let in_bucket = in_bucket.join(" AND ");
    let bucketed = |expr: &str| format!("CASE WHEN {in_bucket} THEN {expr} END");
    let year_key = if by_time {
        group.push("year");
        bucketed(&year)
    } else {
        "CAST(NULL AS BIGINT)".to_owned()
    };
    let quarter_key = if grouping.quarter && !grouping.month {
        group.push("quarter");
        bucketed(&format!("(({month} - 1) / 3 + 1)"))
    } else {
        "CAST(NULL AS BIGINT)".to_owned()
    };
    let month_key = if grouping.month {
        group.push("month");
        bucketed(&month)
    } else {
        "CAST(NULL AS BIGINT)".to_owned()
    };
    let (span_from_key, span_to_key) = if by_time {
        group.extend(["span_from", "span_to"]);
        (
            format!("CASE WHEN {in_bucket} THEN NULL ELSE kept.fs END"),
            format!("CASE WHEN {in_bucket} THEN NULL ELSE kept.fe END"),
        )
    } else {
        ("CAST(NULL AS DATE)".to_owned(), "CAST(NULL AS DATE)".to_owned())
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
    // `c` is materialized because it is read more than once (SQLite would evaluate it anew for
    // every reference); `above` as a fence: joined freely with the rule, both planners probed the
    // closure for every pair of figures of one thing. Its `CROSS JOIN` makes SQLite start from
    // the figures (a few closure rows each) instead of scanning the whole closure; PostgreSQL
    // plans it as any inner join.
    let kept = if part == Part::Uncontested {
        // Uncontested figures always count: no rules.
        "kept AS (SELECT * FROM f)".to_owned()
    } else {
        format!(
            "{contested}above AS MATERIALIZED (SELECT f.id, f.organization_id, f.fs, f.fe, f.k, f.k2, \
             rc.ancestor, rc.distance FROM {pool} f CROSS JOIN region_closure rc WHERE rc.descendant = f.region_code), \
             excluded(id) AS ({excluded}), \
             kept AS ({uncontested}SELECT * FROM {pool} f WHERE f.id NOT IN (SELECT id FROM excluded))",
            contested = if two_sets { "c AS MATERIALIZED (SELECT * FROM f WHERE f.contested), " } else { "" },
            uncontested = if two_sets { "SELECT * FROM f WHERE NOT f.contested UNION ALL " } else { "" },
            excluded = excluded.join(" UNION ALL ")
        )
    };
    if part != Part::Whole {
        // Down to (group, region, report), with the base version read in the same statement
        // (one snapshot); the left join keeps the version when the part is empty.
        let mut by = group.clone();
        by.extend(["unit_region", "unit_report"]);
        sql.push(&format!(
            "WITH scope(code) AS (SELECT DISTINCT descendant FROM region_closure WHERE ancestor IN ({roots}){depth}), \
             f AS MATERIALIZED ({candidates}), \
             {kept}, \
             part AS (SELECT {region_key} AS region, {year_key} AS year, {quarter_key} AS quarter, {month_key} AS month, \
                    {span_from_key} AS span_from, {span_to_key} AS span_to, {key_key} AS key, {key2_key} AS key2, kept.region_code AS unit_region, kept.report_id AS unit_report, \
                    {measures}, {paired}, CAST({rank} AS BIGINT) AS qualifier_rank \
                    FROM kept GROUP BY {by}) \
             SELECT d.base_version AS base, part.* FROM data_version d LEFT JOIN part ON 1 = 1 WHERE d.id = 1",
            measures = measures.join(", "),
            rank = b.greatest(&ranks),
            by = by.join(", "),
        ));
        return sql;
    }
    sql.push(&format!(
        "WITH scope(code) AS (SELECT DISTINCT descendant FROM region_closure WHERE ancestor IN ({roots}){depth}), \
         f AS MATERIALIZED ({candidates}), \
         {kept} \
         SELECT {region_key} AS region, {year_key} AS year, {quarter_key} AS quarter, {month_key} AS month, \
                {span_from_key} AS span_from, {span_to_key} AS span_to, {key_key} AS key, {key2_key} AS key2, \
                {measures}, {paired}, \
                CAST({rank} AS BIGINT) AS qualifier_rank, COUNT(DISTINCT kept.region_code) AS reporting, \
                {sources} AS sources \
         FROM kept{group_by}{order_by}",
        measures = measures.join(", "),
        rank = b.greatest(&ranks),
        sources = b.concat_distinct("kept.report_id"),
    ));
    sql
}

/// A report's as-of date for precedence between reports (docs/aggregation.md §2.5): its
/// publication date, else the end of its period; a report with neither comes last.
const ASOF: &str = "COALESCE(p.published_on, p.period_end)";

/// Whether figure `g`'s report takes precedence over figure `f`'s (another report): the later
/// as-of date, then the greater report key — never the order they were submitted in.
const PRECEDES: &str = "(COALESCE(g.asof, '0001-01-01') > COALESCE(f.asof, '0001-01-01') \
    OR (COALESCE(g.asof, '0001-01-01') = COALESCE(f.asof, '0001-01-01') AND g.rkey > f.rkey))";

/// The start of a summary's statements: the scope's regions (argument 1, `roots`), the depth
/// condition, the alliance argument, and the candidate figures as a SELECT — in scope and
/// window, of current revisions, of the part asked for. `with_subsets`: subsets that the
/// summary leaves out are selected too, marked `subset_left_out` (for `explain`).
struct Candidates {
    sql: Sql,
    roots: String,
    depth: &'static str,
    alliance: Option<String>,
    select: String,
}

fn candidates(
    b: Backend,
    spec: &Spec,
    scope: &ResolvedScope,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    grouping: Grouping,
    part: Part,
    with_subsets: bool,
) -> Candidates {
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
        if spec.periods_required {
            // Implied (a period never ends before it starts: a CHECK of the table), but it
            // bounds the scan of the (region, period start) index to the window's years
            // instead of everything from `from` on.
            wheres.push(format!("{start} <= {p}"));
        }
    }
    if let Some((column, value)) = &spec.only {
        let p = sql.arg(value.as_str());
        wheres.push(format!("t.{column} = {p}"));
    }
    match part {
        Part::Whole => {}
        Part::Uncontested => wheres.push("NOT t.contested".to_owned()),
        Part::Contested => wheres.push("t.contested".to_owned()),
    }
    // Subsets that are breakdowns by the key stand in their key's group, and a filter on the
    // key is that group (docs/aggregation.md: a filter is a group): neither leaves them out.
    let filtered_by_key = matches!((&spec.only, spec.key_column), (Some((column, _)), Some(key)) if key.strip_prefix("t.") == Some(*column));
    let subsets_left_out = spec.has_part_of && !(spec.subsets_by_key && (grouping.key || filtered_by_key));
    if subsets_left_out && !with_subsets {
        wheres.push("t.part_of IS NULL".to_owned());
    }
    let alliance_col = if spec.has_alliance { "t.alliance_id" } else { "CAST(NULL AS BIGINT)" };
    // Only the columns the rules, the grouping and the measures read: every candidate is
    // written to the materialized set, and whole rows (excerpts, notes) cost more to copy than
    // the rules cost to run.
    let mut columns = vec!["id", "report_id", "region_code", "organization_id"];
    if with_subsets && spec.has_part_of {
        columns.push("part_of");
    }
    if spec.fast_path {
        columns.push("contested");
    }
    for column in measure_columns(spec) {
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    let subset_column = match (with_subsets, subsets_left_out) {
        (false, _) => "",
        (true, true) => ", t.part_of IS NOT NULL AS subset_left_out",
        (true, false) => ", FALSE AS subset_left_out",
    };
    let select = format!(
        "SELECT {columns}{subset_column}, {ASOF} AS asof, COALESCE(p.report_key, '') AS rkey, \
         {alliance_col} AS scope_alliance, {start} AS fs, {end} AS fe, {key} AS k, {key2} AS k2 \
         FROM {table} t JOIN reports p ON p.id = t.report_id AND p.superseded_by IS NULL WHERE {wheres}",
        columns = columns.iter().map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", "),
        table = spec.table,
        wheres = wheres.join(" AND ")
    );
    Candidates { sql, roots, depth, alliance, select }
}

/// The columns of the figure table that the measures read (`kept.x` in their expressions; not
/// the ones the candidate set computes, which the table need not have).
fn measure_columns(spec: &Spec) -> Vec<&'static str> {
    const COMPUTED: [&str; 5] = ["scope_alliance", "fs", "fe", "k", "k2"];
    let mut columns = Vec::new();
    for expr in spec.measures.iter().flat_map(|(value, q)| [*value, *q]) {
        for (at, _) in expr.match_indices("kept.") {
            let rest = &expr[at + "kept.".len()..];
            let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            let column = &rest[..len];
            if len > 0 && !COMPUTED.contains(&column) && !columns.contains(&column) {
                columns.push(column);
            }
        }
    }
    columns
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

    /// W2 of the benchmarks: a province's case statistics for a year, by category and month.
    fn w2(b: Backend) -> String {
        let spec = crate::domain::summary::case_spec(None);
        let scope = ResolvedScope {
            roots: vec!["901000".into()],
            include_descendants: true,
            alliance_id: None,
            group_parent: None,
        };
        let (from, to) = (NaiveDate::from_ymd_opt(2023, 1, 1), NaiveDate::from_ymd_opt(2023, 12, 31));
        format!(
            "{:?}",
            statement(
                b,
                &spec,
                &scope,
                from,
                to,
                Grouping { key: true, month: true, ..Grouping::default() },
                Part::Whole
            )
        )
    }

    #[test]
    fn rules_are_uncorrelated_and_candidates_narrow() {
        for b in [Backend::Sqlite, Backend::Postgres] {
            let sql = w2(b);
            assert!(!sql.contains("EXISTS"), "{sql}");
            assert!(!sql.contains("t.*"), "{sql}");
            assert!(sql.contains("t.received_q"), "{sql}");
        }
    }
}

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
