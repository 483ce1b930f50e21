//! The statements of a summary: the candidate figures (in scope and window, of current
//! revisions), and the sum of the uncontested ones grouped down to (row, region, report). The
//! rules of docs/aggregation.md are not SQL: `domain::summary::rules` decides them over the
//! candidates that can compete (`store::contested`).

use chrono::NaiveDate;

use super::{Grouping, Measure, Pool, ResolvedScope, Spec};
use crate::store::dialect::{Backend, json_list};
use crate::store::sql::Sql;

/// The statement of the uncontested part of a summary: figures that no rule can leave out,
/// summed per (row, region, report), with the base version read in the same statement.
pub(super) fn uncontested(
    b: Backend,
    spec: &Spec,
    scope: &ResolvedScope,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    grouping: Grouping,
) -> Sql {
    let Candidates { mut sql, roots, depth, select: candidates, .. } =
        candidates(b, spec, scope, (from, to), Pool::Uncontested);

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
            Some(Measure { value, qualifier: q, .. }) => {
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
        (Some(Measure { value: a, .. }), Some(Measure { value: b_, .. })) => format!(
            "CAST(SUM(CASE WHEN {b_} IS NOT NULL THEN {a} END) AS DOUBLE PRECISION) AS m0_paired, \
             CAST(SUM(CASE WHEN {a} IS NOT NULL THEN {b_} END) AS DOUBLE PRECISION) AS m1_paired"
        ),
        _ => "CAST(NULL AS DOUBLE PRECISION) AS m0_paired, CAST(NULL AS DOUBLE PRECISION) AS m1_paired".to_owned(),
    };
    let unit_key = if spec.unit.is_some() {
        group.push("unit");
        "kept.unit"
    } else {
        "CAST(NULL AS TEXT)"
    };
    let mut by = group.clone();
    by.extend(["unit_region", "unit_report"]);
    // The left join keeps the version when the part is empty.
    sql.push(&format!(
        "WITH scope(code) AS (SELECT DISTINCT descendant FROM region_closure WHERE ancestor IN ({roots}){depth}), \
         kept AS ({candidates}), \
         part AS (SELECT {region_key} AS region, {year_key} AS year, {quarter_key} AS quarter, {month_key} AS month, \
                {span_from_key} AS span_from, {span_to_key} AS span_to, {key_key} AS key, {key2_key} AS key2, \
                {unit_key} AS unit, kept.region_code AS unit_region, kept.report_id AS unit_report, \
                {measures}, {paired}, CAST({rank} AS BIGINT) AS qualifier_rank \
                FROM kept GROUP BY {by}) \
         SELECT d.base_version AS base, part.* FROM data_version d LEFT JOIN part ON 1 = 1 WHERE d.id = 1",
        measures = measures.join(", "),
        rank = b.greatest(&ranks),
        by = by.join(", "),
    ));
    sql
}

/// A report's as-of date for precedence between reports (docs/aggregation.md §2.5): its
/// publication date, else the end of its period; a report with neither comes last.
const ASOF: &str = "COALESCE(p.published_on, p.period_end)";

/// The start of a summary's statements: the scope's regions (argument 1, `roots`), the depth
/// condition, and the candidate figures as a SELECT — in scope and window, of current
/// revisions, of the pool asked for.
pub(super) struct Candidates {
    pub(super) sql: Sql,
    pub(super) roots: String,
    pub(super) depth: &'static str,
    pub(super) select: String,
}

pub(super) fn candidates(
    b: Backend,
    spec: &Spec,
    scope: &ResolvedScope,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    pool: Pool,
) -> Candidates {
    let mut sql = Sql::new("");
    let roots = b.text_list(sql.next_index());
    sql.arg(json_list(&scope.roots));
    let depth = if scope.include_descendants { "" } else { " AND distance = 0" };
    // Bound only where the table has the column: PostgreSQL refuses an argument it is not asked for.
    let alliance = scope.alliance_id.filter(|_| spec.has_alliance).map(|id| sql.arg(id));
    let key = spec.key_column.map_or("CAST(NULL AS TEXT)", |c| c);
    let key2 = spec.key2_column.map_or("CAST(NULL AS TEXT)", |c| c);
    // The period as the rules read it (docs/aggregation.md §2.4). Where periods are required,
    // the columns themselves, so the period index serves the window. A stock is a level at a
    // date: its period's end, else its start. A flow with one end unknown is open on that side
    // ("累计…", "截至目前"), except job fairs, where a single date is the fair's day.
    let (start, end) = if spec.periods_required {
        ("t.period_start", "t.period_end")
    } else if spec.stock {
        ("COALESCE(t.period_end, t.period_start)", "COALESCE(t.period_end, t.period_start)")
    } else if spec.open_periods {
        ("t.period_start", "t.period_end")
    } else {
        ("COALESCE(t.period_start, t.period_end)", "COALESCE(t.period_end, t.period_start)")
    };

    // The figures in scope and window, of current revisions. A bound of the window excludes a
    // figure open on that side (its start or end compares as null).
    let mut wheres = vec![format!(
        "({}{})",
        b.in_set("t.region_code", "SELECT code FROM scope"),
        match (&alliance, spec.has_alliance) {
            (Some(a), true) => format!(" OR t.alliance_id = {a}"),
            _ => String::new(),
        }
    )];
    // A per-unit statement is a candidate when it overlaps the window: its units inside the
    // window count (`pool` expands it and keeps those).
    let per = |alternative: String| {
        if spec.per_unit { format!(" OR (t.per IS NOT NULL AND {alternative})") } else { String::new() }
    };
    if let Some(from) = from {
        let p = sql.arg(Some(from));
        wheres.push(format!("({start} >= {p}{})", per(format!("t.period_end >= {p}"))));
    }
    if let Some(to) = to {
        let p = sql.arg(Some(to));
        wheres.push(format!("({end} <= {p}{})", per(format!("t.period_start <= {p}"))));
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
    if let Some(exclude) = spec.exclude {
        wheres.push(format!("NOT ({exclude})"));
    }
    // Subsets and their totals are contested (store::contested): the uncontested part never
    // holds one, and the rules see both.
    let subset = if spec.has_part_of { " AND t.part_of IS NULL" } else { "" };
    match pool {
        Pool::All => {}
        Pool::Uncontested => {
            let per = if spec.per_unit { " AND t.per IS NULL" } else { "" };
            wheres.push(format!("NOT t.contested{subset}{per}"));
            // A figure stating none of the measures counts nowhere (it has no atom, §2.2): not
            // among the sources or the regions reporting either, as the rules decide for the
            // contested part.
            let stated: Vec<String> =
                spec.measures.iter().map(|m| format!("{} IS NOT NULL", m.value.replace("kept.", "t."))).collect();
            wheres.push(format!("({})", stated.join(" OR ")));
        }
        // Subsets, their totals and per-unit statements go through the rules too.
        Pool::Contested => wheres.push(format!(
            "(t.contested{}{})",
            if spec.has_part_of { " OR t.part_of IS NOT NULL" } else { "" },
            if spec.per_unit { " OR t.per IS NOT NULL" } else { "" }
        )),
    }
    let alliance_col = if spec.has_alliance { "t.alliance_id" } else { "CAST(NULL AS BIGINT)" };
    let part_of = if spec.has_part_of { "t.part_of" } else { "CAST(NULL AS BIGINT)" };
    // Only the columns the rules, the grouping and the measures read: whole rows (excerpts,
    // notes) cost more to copy than the rules cost to run.
    let mut columns = vec!["id", "report_id", "region_code", "organization_id"];
    for column in measure_columns(spec) {
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    let select = format!(
        "SELECT {columns}, {part_of} AS part_of, t.dimensions AS dims, {unit} AS unit, {per} AS per, \
         {spread} AS spread, t.period_start AS ps, t.period_end AS pe, {event} AS event, {ASOF} AS asof, \
         COALESCE(p.report_key, '') AS rkey, {alliance_col} AS scope_alliance, {start} AS fs, {end} AS fe, \
         {key} AS k, {key2} AS k2 \
         FROM {table} t JOIN reports p ON p.id = t.report_id AND p.superseded_by IS NULL WHERE {wheres}",
        columns = columns.iter().map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", "),
        event = spec.event.unwrap_or("FALSE"),
        unit = spec.unit.unwrap_or("CAST(NULL AS TEXT)"),
        per = if spec.per_unit { "t.per" } else { "CAST(NULL AS TEXT)" },
        spread = if spec.per_unit { "t.spread" } else { "CAST(NULL AS TEXT)" },
        table = spec.table,
        wheres = wheres.join(" AND ")
    );
    Candidates { sql, roots, depth, select }
}

/// The columns of the figure table that the measures read (`kept.x` in their expressions; not
/// the ones the candidate set computes, which the table need not have).
fn measure_columns(spec: &Spec) -> Vec<&'static str> {
    const COMPUTED: [&str; 14] = [
        "scope_alliance",
        "fs",
        "fe",
        "k",
        "k2",
        "part_of",
        "dims",
        "unit",
        "per",
        "spread",
        "ps",
        "pe",
        "event",
        "rkey",
    ];
    let mut columns = Vec::new();
    for expr in spec.measures.iter().flat_map(|m| [m.value, m.qualifier]) {
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
