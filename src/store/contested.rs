//! Which figures can compete under the aggregation rules, maintained on write.
//!
//! A figure is *contested* when another figure of the same thing (same table; for case
//! statistics the same category) with an overlapping period lies in the same region or one
//! above or below it — or, for job fairs, when an alliance-level fair covers its region. Only
//! contested figures can be left out by the rules of [`super::aggregates`]; every other figure
//! in scope and window always counts, so the aggregates sum those directly. Over-marking is
//! always safe (the rules then decide), under-marking never happens: rows start contested and
//! only [`mark_report`] clears the flag, after checking every possible competitor.

use super::StoreResult;
use super::sql::{Sql, Tx};

/// Sets the flag for the figures of `report` and marks the figures they compete with.
pub(crate) async fn mark_report(tx: &mut Tx, report: i64) -> StoreResult<()> {
    let mut cases = Sql::new("");
    let r = cases.arg(report);
    cases.push(&format!(
        "WITH n AS (SELECT id, region_code, category, period_start AS fs, period_end AS fe \
                    FROM case_statistics WHERE report_id = {r}), \
         rel AS (SELECT n.id AS nid, rc.ancestor AS region FROM n JOIN region_closure rc ON rc.descendant = n.region_code \
                 UNION SELECT n.id, rc.descendant FROM n JOIN region_closure rc ON rc.ancestor = n.region_code), \
         hits AS (SELECT n.id AS nid, g.id AS gid FROM n JOIN rel ON rel.nid = n.id \
                  JOIN case_statistics g ON g.region_code = rel.region AND g.category = n.category \
                  AND g.period_start <= n.fe AND n.fs <= g.period_end AND g.id <> n.id) \
         UPDATE case_statistics SET contested = (id IN (SELECT nid FROM hits) OR id IN (SELECT gid FROM hits)) \
         WHERE report_id = {r} OR id IN (SELECT gid FROM hits)"
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
         hits AS (SELECT n.id AS nid, g.id AS gid FROM n JOIN rel ON rel.nid = n.id \
                  JOIN job_fairs g ON g.region_code = rel.region AND {gs} <= n.fe AND n.fs <= {ge} AND g.id <> n.id \
                  UNION \
                  SELECT g.id, b.id FROM job_fairs g JOIN alliance_members am ON am.alliance_id = g.alliance_id \
                  JOIN region_closure rc ON rc.ancestor = am.region_code JOIN job_fairs b ON b.region_code = rc.descendant \
                  WHERE g.alliance_id IS NOT NULL AND (g.report_id = {r} OR b.report_id = {r}) AND b.id <> g.id \
                  AND {gs} <= {be} AND {bs} <= {ge}) \
         UPDATE job_fairs SET contested = (region_code IS NULL OR alliance_id IS NOT NULL \
                OR id IN (SELECT nid FROM hits) OR id IN (SELECT gid FROM hits)) \
         WHERE report_id = {r} OR id IN (SELECT gid FROM hits) OR id IN (SELECT nid FROM hits)"
    ));
    tx.execute(&fairs).await?;
    Ok(())
}

/// The data version: bumped (by triggers) with every write that can change an aggregate.
pub async fn data_version(store: &super::Store) -> StoreResult<i64> {
    store.fetch_count(&Sql::new("SELECT version FROM data_version WHERE id = 1")).await
}
