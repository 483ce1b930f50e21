//! The statements of a summary: the candidate figures (in scope and window, of current
//! revisions), the rules as the sets of figures they leave out, and the grouping.

use chrono::NaiveDate;

use super::{Grouping, Part, ResolvedScope, Spec};
use crate::store::dialect::{Backend, json_list};
use crate::store::sql::Sql;

/// The statement of a summary (see [`summarize`]).
pub(super) fn statement(
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
    let unit_windowed = if spec.stock {
        // Rule 5: only the latest period end per unit and thing.
        unit_rules.push("COALESCE(g.fe, '0001-01-01') > COALESCE(f.fe, '0001-01-01')".to_owned());
        // Two reports stating the level at the same date: the more recent report's statement.
        unit_rules.push(format!("(COALESCE(g.fe, '0001-01-01') = COALESCE(f.fe, '0001-01-01') AND {PRECEDES})"));
        // The same as one window pass per unit and thing: a figure stands when its date and
        // report are those of the partition's first figure in (date, precedence) order. The
        // join compared every pair: 5,000 counts of one region and kind stated for one day
        // (one editor's submissions) took seconds, 20,000 past the request timeout.
        let unit = "f.region_code, f.scope_alliance, f.organization_id, f.k, f.k2";
        let (fe, asof) = ("COALESCE(f.fe, '0001-01-01')", "COALESCE(f.asof, '0001-01-01')");
        let first = |value: &str| {
            format!("FIRST_VALUE({value}) OVER (PARTITION BY {unit} ORDER BY {fe} DESC, {asof} DESC, f.rkey DESC)")
        };
        Some(format!(
            "SELECT w.id FROM (SELECT f.id, {fe} AS fe, {asof} AS asof, f.rkey, {top_fe} AS top_fe, \
             {top_asof} AS top_asof, {top_rkey} AS top_rkey FROM {pool} f) w \
             WHERE w.fe <> w.top_fe OR w.asof <> w.top_asof OR w.rkey <> w.top_rkey",
            top_fe = first(fe),
            top_asof = first(asof),
            top_rkey = first("f.rkey"),
        ))
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
        Some(format!(
            "SELECT w.id FROM (SELECT f.id, f.fs, f.fe, \
               MIN(CASE WHEN f.fs IS NOT NULL THEN f.fe END) OVER (PARTITION BY {unit} ORDER BY f.fs DESC) AS min_fe_after, \
               MAX(CASE WHEN f.fe IS NOT NULL THEN f.fs END) OVER (PARTITION BY {unit} ORDER BY f.fe) AS max_fs_before, \
               ROW_NUMBER() OVER (PARTITION BY {unit}, f.fs, f.fe ORDER BY COALESCE(f.asof, '0001-01-01') DESC, f.rkey DESC, f.report_id DESC, f.id DESC) AS same_period_rank\
               {window_matches} FROM {pool} f) w WHERE {}",
            rules.join(" OR ")
        ))
    };
    // The window pass wherever a summary runs the rules over all its figures in one statement
    // (tables without the contested flag) or over the contested part; the join only for the
    // whole-table fallback of flagged tables (which `fast_path_agrees_with_the_full_rules`
    // holds the window pass to).
    match unit_windowed.filter(|_| part == Part::Contested || !spec.fast_path) {
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
             rc.ancestor, rc.distance FROM {pool} f CROSS JOIN region_closure rc WHERE rc.descendant = f.region_code \
             AND (rc.distance > 0 OR f.organization_id IS NOT NULL)), \
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
pub(super) struct Candidates {
    pub(super) sql: Sql,
    pub(super) roots: String,
    pub(super) depth: &'static str,
    pub(super) alliance: Option<String>,
    pub(super) select: String,
}

pub(super) fn candidates(
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
