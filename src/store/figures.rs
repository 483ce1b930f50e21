//! Writing figures and report revisions; reading figure lists.

use std::collections::HashMap;

use sqlx::FromRow;

use super::sql::{Sql, Tx};
use super::{Store, StoreError, StoreResult};
use crate::domain::figures::{Amount, Count, FigureBase, Figures, Metric, Scope};
use crate::domain::model::Qualifier;
use crate::domain::submission::ReportSubmission;

/// Records a catalog metric (kept as it is when the code exists).
pub(crate) async fn upsert_metric(tx: &mut Tx, metric: &Metric) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let v = [
        sql.arg(metric.code.as_str()),
        sql.arg(metric.name.as_str()),
        sql.arg(metric.unit.as_str()),
        sql.arg(metric.nature.as_str()),
        sql.arg(metric.description.clone()),
    ]
    .join(", ");
    sql.push(&format!(
        "INSERT INTO metrics (code, name, unit, nature, description) VALUES ({v}) ON CONFLICT (code) DO NOTHING"
    ));
    tx.execute(&sql).await.map(drop)
}

/// Which of the given metric codes exist.
pub async fn known_metrics(store: &Store, codes: &[String]) -> StoreResult<Vec<String>> {
    #[derive(FromRow)]
    struct Code {
        code: String,
    }
    let mut sql = Sql::new("");
    let list = store.backend().text_list(sql.next_index());
    sql.arg(super::dialect::json_list(codes));
    sql.push(&format!("SELECT code FROM metrics WHERE code IN ({list})"));
    Ok(store.fetch_all::<Code>(&sql).await?.into_iter().map(|c| c.code).collect())
}

/// Every catalog metric, by code.
pub async fn all_metrics(store: &Store) -> StoreResult<Vec<Metric>> {
    #[derive(FromRow)]
    struct Row {
        code: String,
        name: String,
        unit: String,
        nature: String,
        description: Option<String>,
    }
    let rows: Vec<Row> =
        store.fetch_all(&Sql::new("SELECT code, name, unit, nature, description FROM metrics ORDER BY code")).await?;
    rows.into_iter()
        .map(|r| {
            Ok(Metric {
                nature: r.nature.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?,
                code: r.code,
                name: r.name,
                unit: r.unit,
                description: r.description,
            })
        })
        .collect()
}

/// The current revision of a report key: (id, revision, fingerprint).
pub async fn current_revision(store: &Store, report_key: &str) -> StoreResult<Option<(i64, i64, Option<String>)>> {
    #[derive(FromRow)]
    struct Row {
        id: i64,
        revision: i64,
        content_hash: Option<String>,
    }
    let mut sql = Sql::new("");
    let k = sql.arg(report_key);
    sql.push(&format!(
        "SELECT id, revision, content_hash FROM reports WHERE report_key = {k} AND superseded_by IS NULL"
    ));
    Ok(store.fetch_optional::<Row>(&sql).await?.map(|r| (r.id, r.revision, r.content_hash)))
}

/// The regions and alliances (by id) the figures of a report count towards: who may write the
/// report is decided by these and by the report's own region.
pub async fn scopes_of_report(store: &Store, report: i64) -> StoreResult<(Vec<String>, Vec<i64>)> {
    #[derive(FromRow)]
    struct Row {
        region_code: Option<String>,
        alliance_id: Option<i64>,
    }
    let mut sql = Sql::new("");
    let parts: Vec<String> = [
        ("job_fairs", "alliance_id"),
        ("case_statistics", "CAST(NULL AS BIGINT)"),
        ("organization_counts", "alliance_id"),
        ("plan_indicators", "alliance_id"),
        ("metric_figures", "alliance_id"),
    ]
    .iter()
    .map(|(table, alliance)| {
        let r = sql.arg(report);
        format!("SELECT region_code, {alliance} AS alliance_id FROM {table} WHERE report_id = {r}")
    })
    .collect();
    sql.push(&parts.join(" UNION "));
    let rows: Vec<Row> = store.fetch_all(&sql).await?;
    let mut regions: Vec<String> = rows.iter().filter_map(|r| r.region_code.clone()).collect();
    let mut alliances: Vec<i64> = rows.iter().filter_map(|r| r.alliance_id).collect();
    regions.sort();
    regions.dedup();
    alliances.sort_unstable();
    alliances.dedup();
    Ok((regions, alliances))
}

/// Inserts a report revision; returns its id.
pub(crate) async fn insert_report(
    tx: &mut Tx,
    submission: &ReportSubmission,
    revision: i64,
    fingerprint: &str,
) -> StoreResult<i64> {
    let mut sql = Sql::new("");
    let row_key = if revision == 1 { submission.key.clone() } else { format!("{}@{revision}", submission.key) };
    let v = [
        sql.arg(row_key),
        sql.arg(submission.key.as_str()),
        sql.arg(revision),
        sql.arg(fingerprint),
        sql.arg(submission.title.as_str()),
        sql.arg(submission.publisher.clone()),
        sql.arg(submission.published_on),
        sql.arg(submission.period.start),
        sql.arg(submission.period.end),
        sql.arg(submission.period.note.clone()),
        sql.arg(submission.source_file.clone()),
        sql.arg(submission.region.clone()),
    ]
    .join(", ");
    sql.push(&format!(
        "INSERT INTO reports (key, report_key, revision, content_hash, title, publisher, published_on, period_start, \
         period_end, period_note, source_file, region_code) VALUES ({v}) RETURNING id"
    ));
    tx.fetch_count(&sql).await
}

/// Marks `old` as superseded by `new`.
pub(crate) async fn supersede(tx: &mut Tx, old: i64, new: i64) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let (n, o) = (sql.arg(new), sql.arg(old));
    sql.push(&format!("UPDATE reports SET superseded_by = {n}, updated_at = CURRENT_TIMESTAMP WHERE id = {o}"));
    tx.execute(&sql).await?;
    super::contested::release_superseded(tx, old).await
}

/// The fingerprint of a report, inside a transaction.
pub(crate) async fn fingerprint_of(tx: &mut Tx, report: i64) -> StoreResult<Option<String>> {
    #[derive(FromRow)]
    struct Row {
        content_hash: Option<String>,
    }
    let mut sql = Sql::new("");
    let r = sql.arg(report);
    sql.push(&format!("SELECT content_hash FROM reports WHERE id = {r}"));
    Ok(tx.fetch_optional::<Row>(&sql).await?.and_then(|row| row.content_hash))
}

/// Sets the fingerprint of a report (for reports loaded before figures existed).
pub(crate) async fn set_fingerprint(tx: &mut Tx, report: i64, fingerprint: &str) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let (f, r) = (sql.arg(fingerprint), sql.arg(report));
    sql.push(&format!("UPDATE reports SET content_hash = {f} WHERE id = {r}"));
    tx.execute(&sql).await.map(drop)
}

fn count(sql: &mut Sql, c: Option<Count>) -> [String; 2] {
    [sql.arg(c.map(|c| c.value)), sql.arg(c.map(|c| c.qualifier.as_str()))]
}

fn amount(sql: &mut Sql, a: Option<Amount>) -> [String; 2] {
    [sql.arg(a.map(|a| a.value)), sql.arg(a.map(|a| a.qualifier.as_str()))]
}

/// Ids of what figures refer to: alliances by slug, organizations by key (with their region).
#[derive(Debug, Default)]
pub struct Refs {
    pub alliances: HashMap<String, i64>,
    pub organizations: HashMap<String, (i64, Option<String>)>,
}

/// The columns every figure table shares, bound from a figure's base.
fn base(sql: &mut Sql, report: i64, b: &FigureBase, refs: &Refs) -> Vec<String> {
    let (region, alliance, organization) = match &b.scope {
        Scope::Region(code) => (Some(code.clone()), None, None),
        Scope::Alliance(slug) => (None, refs.alliances.get(slug).copied(), None),
        Scope::Organization(key) => {
            let found = refs.organizations.get(key);
            (found.and_then(|(_, region)| region.clone()), None, found.map(|(id, _)| *id))
        }
    };
    vec![
        sql.arg(report),
        sql.arg(b.excerpt.as_str()),
        sql.arg(b.period.start),
        sql.arg(b.period.end),
        sql.arg(b.period.note.clone()),
        sql.arg(region),
        sql.arg(alliance),
        sql.arg(organization),
        sql.arg(b.note.clone()),
        sql.arg(crate::domain::figures::dimensions_text(&b.dimensions)),
    ]
}

const BASE: &str = "report_id, excerpt, period_start, period_end, period_note, region_code, alliance_id, \
     organization_id, note, dimensions";

/// Figures in an order where every "of which" subset comes after the total it names, so that
/// its link can be written (docs/aggregation.md: a subset is one whatever the order it arrives
/// in; a subset listed first was stored as no subset at all). Otherwise in the report's order.
/// Validation refuses links that go round in a circle; were one here, one of its links would
/// be left unwritten rather than a figure lost.
fn totals_first<'a, T>(items: &'a [T], link: impl Fn(&'a T) -> (&'a str, Option<&'a str>)) -> Vec<&'a T> {
    let position: HashMap<&str, usize> = items.iter().enumerate().map(|(i, f)| (link(f).0, i)).collect();
    let mut placed = vec![false; items.len()];
    let mut order = Vec::with_capacity(items.len());
    for first in 0..items.len() {
        // The chain of totals above `first` not yet placed, then placed from the top down:
        // linear in all, each figure placed once.
        let mut chain = Vec::new();
        let mut at = Some(first);
        // `placed` is set as soon as a figure joins a chain, so that a cycle ends it.
        while let Some(i) = at.filter(|&i| !placed[i]) {
            placed[i] = true;
            chain.push(i);
            at = link(&items[i]).1.and_then(|total| position.get(total).copied());
        }
        order.extend(chain.iter().rev().map(|&i| &items[i]));
    }
    order
}

/// Writes every figure of a report revision. `alliances` maps slugs to ids.
pub(crate) async fn insert_figures(tx: &mut Tx, report: i64, figures: &Figures, refs: &Refs) -> StoreResult<()> {
    for f in &figures.job_fairs {
        let mut sql = Sql::new("");
        let mut v = base(&mut sql, report, &f.base, refs);
        v.push(sql.arg(if f.organizers.is_empty() { None } else { Some(super::dialect::json_list(&f.organizers)) }));
        v.push(sql.arg(f.fairs.is_some()));
        v.push(sql.arg(f.held_on));
        v.push(sql.arg(f.mode.map(|m| m.as_str())));
        for c in [f.fairs, f.employers, f.positions_offered, f.job_seekers, f.intents, f.hires] {
            v.extend(count(&mut sql, c));
        }
        sql.push(&format!(
            "INSERT INTO job_fairs ({BASE}, organizers, is_series, held_on, mode, fairs, fairs_q, employers, employers_q, \
             positions_offered, positions_offered_q, job_seekers, job_seekers_q, intents, intents_q, hires, hires_q) \
             VALUES ({}) RETURNING id",
            v.join(", ")
        ));
        let id = tx.fetch_count(&sql).await?;
        for host in &f.host_regions {
            let mut sql = Sql::new("");
            let (j, r) = (sql.arg(id), sql.arg(host.as_str()));
            sql.push(&format!(
                "INSERT INTO job_fair_hosts (job_fair_id, region_code) VALUES ({j}, {r}) ON CONFLICT DO NOTHING"
            ));
            tx.execute(&sql).await?;
        }
    }
    let mut case_ids: HashMap<&str, i64> = HashMap::new();
    for f in totals_first(&figures.case_statistics, |f| (&f.base.id, f.part_of.as_deref())) {
        let mut sql = Sql::new("");
        let mut v = base(&mut sql, report, &f.base, refs);
        v.remove(6); // case statistics have no alliance column
        v.push(sql.arg(f.category.as_str()));
        v.push(sql.arg(f.unit.clone()));
        v.push(sql.arg(f.cumulative));
        v.push(sql.arg(f.per.map(|p| p.as_str())));
        v.push(sql.arg(f.per.map(|_| f.spread.unwrap_or(crate::domain::figures::Spread::Each).as_str())));
        for c in [f.received, f.resolved, f.people_aided] {
            v.extend(count(&mut sql, c));
        }
        v.extend(amount(&mut sql, f.amount_aided));
        v.push(sql.arg(f.reported_rate));
        v.push(sql.arg(f.reported_rate.map(|_| f.reported_rate_qualifier.unwrap_or(Qualifier::Exact).as_str())));
        v.push(sql.arg(f.part_of.as_deref().and_then(|p| case_ids.get(p).copied())));
        sql.push(&format!(
            "INSERT INTO case_statistics (report_id, excerpt, period_start, period_end, period_note, region_code, \
             organization_id, note, dimensions, \
             category, unit, cumulative, per, spread, received, received_q, resolved, resolved_q, people_aided, people_aided_q, \
             amount_aided, amount_aided_q, reported_rate, reported_rate_q, part_of) VALUES ({}) RETURNING id",
            v.join(", ")
        ));
        case_ids.insert(&f.base.id, tx.fetch_count(&sql).await?);
    }
    let mut count_ids: HashMap<&str, i64> = HashMap::new();
    for f in totals_first(&figures.organization_counts, |f| (&f.base.id, f.part_of.as_deref())) {
        let mut sql = Sql::new("");
        let mut v = base(&mut sql, report, &f.base, refs);
        v.push(sql.arg(f.organization_kind.as_str()));
        v.push(sql.arg(f.sector.map(|s| s.as_str())));
        v.push(sql.arg(f.label.as_str()));
        v.extend(count(&mut sql, Some(f.count)));
        v.push(sql.arg(f.part_of.as_deref().and_then(|p| count_ids.get(p).copied())));
        sql.push(&format!(
            "INSERT INTO organization_counts ({BASE}, organization_kind, sector, label, count, count_q, part_of) \
             VALUES ({}) RETURNING id",
            v.join(", ")
        ));
        count_ids.insert(&f.base.id, tx.fetch_count(&sql).await?);
    }
    for f in &figures.plan_indicators {
        let mut sql = Sql::new("");
        let mut v = base(&mut sql, report, &f.base, refs);
        v.push(sql.arg(f.plan.as_str()));
        v.push(sql.arg(f.areas));
        v.push(sql.arg(f.areas.map(|_| f.areas_qualifier.unwrap_or(Qualifier::Exact).as_str())));
        v.extend(count(&mut sql, Some(f.total)));
        v.extend(count(&mut sql, Some(f.met)));
        sql.push(&format!(
            "INSERT INTO plan_indicators ({BASE}, plan, areas, areas_q, total, total_q, met, met_q) VALUES ({})",
            v.join(", ")
        ));
        tx.execute(&sql).await?;
    }
    let mut metric_ids: HashMap<&str, i64> = HashMap::new();
    for f in totals_first(&figures.metrics, |f| (&f.base.id, f.part_of.as_deref())) {
        let mut sql = Sql::new("");
        let mut v = base(&mut sql, report, &f.base, refs);
        v.push(sql.arg(f.metric.as_str()));
        v.extend(amount(&mut sql, Some(f.value)));
        v.push(sql.arg(f.unit.clone()));
        v.push(sql.arg(f.cumulative));
        v.push(sql.arg(f.per.map(|p| p.as_str())));
        v.push(sql.arg(f.per.map(|_| f.spread.unwrap_or(crate::domain::figures::Spread::Each).as_str())));
        v.push(sql.arg(f.part_of.as_deref().and_then(|p| metric_ids.get(p).copied())));
        sql.push(&format!(
            "INSERT INTO metric_figures ({BASE}, metric, value, value_q, unit, cumulative, per, spread, part_of) VALUES ({}) \
             RETURNING id",
            v.join(", ")
        ));
        metric_ids.insert(&f.base.id, tx.fetch_count(&sql).await?);
    }
    // Which of the new figures compete with others (and which others they now compete with).
    super::contested::mark_report(tx, report).await?;
    Ok(())
}

/// The ids of the alliances and organizations a submission refers to.
pub async fn refs(store: &Store, slugs: &[String], keys: &[String]) -> StoreResult<Refs> {
    let alliances = super::alliances::by_slugs(store, slugs).await?.into_iter().map(|a| (a.slug, a.id)).collect();
    let organizations =
        super::organizations::by_keys(store, keys).await?.into_iter().map(|o| (o.key, (o.id, o.region_code))).collect();
    Ok(Refs { alliances, organizations })
}
