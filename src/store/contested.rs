//! Which figures can compete under the aggregation rules, maintained on write.
//!
//! A figure is *contested* when another figure of the same thing (same table; for case
//! statistics the same category) with an overlapping period lies in the same region or one
//! above or below it — or, for job fairs, when an alliance-level fair covers its region; case
//! statistics in an "of which" link (a subset, or the total of one) are contested too, since
//! a subset counts only where its total does not (docs/aggregation.md §5.5). Only
//! contested figures can be left out by the rules of [`super::aggregates`]; every other figure
//! in scope and window always counts, so the aggregates sum those directly. Over-marking is
//! always safe (the rules then decide), under-marking never happens: rows start contested and
//! only [`mark_report`] clears the flag, after checking every possible competitor among the
//! current revisions. Figures of a superseded revision count nowhere and compete with nothing:
//! superseding clears their flag ([`release_superseded`]).

use super::StoreResult;
use super::sql::{Sql, Tx};

/// Sets the flag for the figures of `report` and marks the figures they compete with. Only
/// rows whose flag changes are written: rewriting the hundreds of figures a correction
/// competes with on every submission cost each write a new version of every row in every
/// index (`contested` is in a partial index's predicate, so no update is HOT).
pub(crate) async fn mark_report(tx: &mut Tx, report: i64) -> StoreResult<()> {
    let mut cases = Sql::new("");
    let r = cases.arg(report);
    // Subsets link figures of one report: the report's own links are all there are.
    let flag = format!(
        "id IN (SELECT nid FROM hits) OR id IN (SELECT gid FROM hits) OR part_of IS NOT NULL \
         OR id IN (SELECT part_of FROM case_statistics WHERE report_id = {r} AND part_of IS NOT NULL)"
    );
    cases.push(&format!(
        "WITH n AS (SELECT id, region_code, category, period_start AS fs, period_end AS fe \
                    FROM case_statistics WHERE report_id = {r}), \
         rel AS (SELECT n.id AS nid, rc.ancestor AS region FROM n JOIN region_closure rc ON rc.descendant = n.region_code \
                 UNION SELECT n.id, rc.descendant FROM n JOIN region_closure rc ON rc.ancestor = n.region_code), \
         hits AS MATERIALIZED (SELECT n.id AS nid, g.id AS gid FROM n JOIN rel ON rel.nid = n.id \
                  JOIN case_statistics g ON g.region_code = rel.region AND g.category = n.category \
                  AND g.period_start <= n.fe AND n.fs <= g.period_end AND g.id <> n.id \
                  JOIN reports gr ON gr.id = g.report_id AND gr.superseded_by IS NULL) \
         UPDATE case_statistics SET contested = ({flag}) \
         WHERE id IN (SELECT id FROM n UNION SELECT gid FROM hits) AND contested <> ({flag})"
    ));
    tx.execute(&cases).await?;

    let mut fairs = Sql::new("");
    let r = fairs.arg(report);
    let (gs, ge) = ("COALESCE(g.period_start, g.period_end)", "COALESCE(g.period_end, g.period_start)");
    let (bs, be) = ("COALESCE(b.period_start, b.period_end)", "COALESCE(b.period_end, b.period_start)");
    fairs.push(&format!(
        "WITH n AS (SELECT id, region_code, COALESCE(period_start, period_end) AS fs, \
                    COALESCE(period_end, period_start) AS fe FROM job_fairs WHERE report_id = {r}), \
         rel AS (SELECT n.id AS nid, rc.ancestor AS region FROM n JOIN region_closure rc ON rc.descendant = n.region_code \
                 UNION SELECT n.id, rc.descendant FROM n JOIN region_closure rc ON rc.ancestor = n.region_code), \
         hits AS MATERIALIZED (SELECT n.id AS nid, g.id AS gid FROM n JOIN rel ON rel.nid = n.id \
                  JOIN job_fairs g ON g.region_code = rel.region AND {gs} <= n.fe AND n.fs <= {ge} AND g.id <> n.id \
                  JOIN reports gr ON gr.id = g.report_id AND gr.superseded_by IS NULL \
                  UNION \
                  SELECT g.id, b.id FROM job_fairs g JOIN alliance_members am ON am.alliance_id = g.alliance_id \
                  JOIN region_closure rc ON rc.ancestor = am.region_code JOIN job_fairs b ON b.region_code = rc.descendant \
                  JOIN reports gr ON gr.id = g.report_id AND gr.superseded_by IS NULL \
                  JOIN reports br ON br.id = b.report_id AND br.superseded_by IS NULL \
                  WHERE g.alliance_id IS NOT NULL AND (g.report_id = {r} OR b.report_id = {r}) AND b.id <> g.id \
                  AND {gs} <= {be} AND {bs} <= {ge}) \
         UPDATE job_fairs SET contested = (region_code IS NULL OR alliance_id IS NOT NULL \
                OR id IN (SELECT nid FROM hits) OR id IN (SELECT gid FROM hits)) \
         WHERE id IN (SELECT id FROM n UNION SELECT gid FROM hits UNION SELECT nid FROM hits) \
         AND contested <> (region_code IS NULL OR alliance_id IS NOT NULL \
                OR id IN (SELECT nid FROM hits) OR id IN (SELECT gid FROM hits))"
    ));
    tx.execute(&fairs).await?;
    Ok(())
}

/// Clears the flag of a superseded revision's figures: they count nowhere (aggregates read
/// current revisions only), so they compete with nothing. Cleared, they stay out of the
/// contested sets the rules read on every summary (an editor's corrections piled up there),
/// and the base version ignores figures of superseded reports (migration 0009), so this
/// changes no cached part.
pub(crate) async fn release_superseded(tx: &mut Tx, report: i64) -> StoreResult<()> {
    for table in ["case_statistics", "job_fairs"] {
        let mut sql = Sql::new("");
        let r = sql.arg(report);
        sql.push(&format!("UPDATE {table} SET contested = FALSE WHERE report_id = {r} AND contested"));
        tx.execute(&sql).await?;
    }
    Ok(())
}

/// Recomputes the flag of every figure from scratch (rewriting only rows whose flag changes), in set-based passes that suit bulk loads:
/// competitors in the same region are found by sorting each region's figures by start (a row
/// competes when it starts before an earlier row ends, or ends after a later row starts), and
/// across levels only among regions that hold figures and lie above one another.
pub(crate) async fn recompute_all(tx: &mut Tx) -> StoreResult<()> {
    let no = "1 = 0";
    // Both comparisons run over frames that only grow (a running MAX forwards, a running MIN
    // backwards), so each partition is one pass.
    let window = |part: &str, start: &str, end: &str| {
        format!(
            "COALESCE({start} <= MAX({end}) OVER (PARTITION BY {part} ORDER BY {start}, id \
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), {no}) \
             OR COALESCE({end} >= MIN({start}) OVER (PARTITION BY {part} ORDER BY {start} DESC, id DESC \
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), {no})"
        )
    };
    let cases = format!(
        "WITH w AS (SELECT id, ({same}) AS same_region FROM case_statistics), \
         held AS (SELECT DISTINCT region_code FROM case_statistics), \
         pairs AS (SELECT rc.ancestor, rc.descendant FROM region_closure rc \
                   JOIN held a ON a.region_code = rc.ancestor JOIN held d ON d.region_code = rc.descendant \
                   WHERE rc.distance > 0), \
         hits AS (SELECT x.id AS xid, y.id AS yid FROM pairs \
                  JOIN case_statistics x ON x.region_code = pairs.ancestor \
                  JOIN case_statistics y ON y.region_code = pairs.descendant AND y.category = x.category \
                  AND x.period_start <= y.period_end AND y.period_start <= x.period_end), \
         links AS (SELECT part_of AS id FROM case_statistics WHERE part_of IS NOT NULL \
                   UNION SELECT id FROM case_statistics WHERE part_of IS NOT NULL), \
         v AS (SELECT id, (same_region OR id IN (SELECT xid FROM hits) OR id IN (SELECT yid FROM hits) \
                OR id IN (SELECT id FROM links)) AS c FROM w) \
         UPDATE case_statistics SET contested = v.c FROM v WHERE v.id = case_statistics.id AND case_statistics.contested <> v.c",
        same = window("region_code, category", "period_start", "period_end")
    );
    tx.execute(&Sql::new(cases)).await?;
    let (fs, fe) = ("COALESCE(period_start, period_end)", "COALESCE(period_end, period_start)");
    let overlap = |a: &str, b: &str| {
        format!(
            "COALESCE({a}.period_start, {a}.period_end) <= COALESCE({b}.period_end, {b}.period_start) \
             AND COALESCE({b}.period_start, {b}.period_end) <= COALESCE({a}.period_end, {a}.period_start)"
        )
    };
    let fairs = format!(
        "WITH w AS (SELECT id, ({same}) AS same_region FROM job_fairs), \
         held AS (SELECT DISTINCT region_code FROM job_fairs WHERE region_code IS NOT NULL), \
         pairs AS (SELECT rc.ancestor, rc.descendant FROM region_closure rc \
                   JOIN held a ON a.region_code = rc.ancestor JOIN held d ON d.region_code = rc.descendant \
                   WHERE rc.distance > 0), \
         hits AS (SELECT x.id AS xid, y.id AS yid FROM pairs \
                  JOIN job_fairs x ON x.region_code = pairs.ancestor \
                  JOIN job_fairs y ON y.region_code = pairs.descendant AND {xy} \
                  UNION \
                  SELECT g.id, b.id FROM job_fairs g JOIN alliance_members am ON am.alliance_id = g.alliance_id \
                  JOIN region_closure rc ON rc.ancestor = am.region_code JOIN job_fairs b ON b.region_code = rc.descendant \
                  WHERE g.alliance_id IS NOT NULL AND b.id <> g.id AND {gb}), \
         v AS (SELECT w.id, (f.region_code IS NULL OR f.alliance_id IS NOT NULL OR w.same_region \
                OR w.id IN (SELECT xid FROM hits) OR w.id IN (SELECT yid FROM hits)) AS c \
                FROM w JOIN job_fairs f ON f.id = w.id) \
         UPDATE job_fairs SET contested = v.c FROM v WHERE v.id = job_fairs.id AND job_fairs.contested <> v.c",
        same = window("region_code", fs, fe),
        xy = overlap("x", "y"),
        gb = overlap("g", "b"),
    );
    tx.execute(&Sql::new(fairs)).await?;
    Ok(())
}

/// [`recompute_all`] in a transaction of its own (administration and tests).
pub async fn recompute(store: &super::Store) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    recompute_all(&mut tx).await?;
    tx.commit().await
}

/// How many figures of `table` (case_statistics or job_fairs) are contested, of how many.
pub async fn count(store: &super::Store, table: &str) -> StoreResult<(i64, i64)> {
    let table = if table == "job_fairs" { "job_fairs" } else { "case_statistics" };
    let contested = store.fetch_count(&Sql::new(format!("SELECT COUNT(*) FROM {table} WHERE contested"))).await?;
    let all = store.fetch_count(&Sql::new(format!("SELECT COUNT(*) FROM {table}"))).await?;
    Ok((contested, all))
}
