//! Regions and the region closure (ancestor/descendant pairs).

use sqlx::FromRow;

use super::dialect::json_list;
use super::sql::{Sql, Tx};
use super::{Store, StoreError, StoreResult};
use crate::domain::model::Region;
use crate::domain::query::{Page, PageRequest, RegionFilter};

#[derive(FromRow)]
struct RegionRow {
    code: String,
    name: String,
    level: String,
    parent_code: Option<String>,
}

impl TryFrom<RegionRow> for Region {
    type Error = StoreError;
    fn try_from(row: RegionRow) -> StoreResult<Self> {
        Ok(Self {
            level: row.level.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?,
            code: row.code,
            name: row.name,
            parent_code: row.parent_code,
        })
    }
}

fn convert(rows: Vec<RegionRow>) -> StoreResult<Vec<Region>> {
    rows.into_iter().map(Region::try_from).collect()
}

const COLUMNS: &str = "r.code, r.name, r.level, r.parent_code";

/// Regions with the given codes; unknown codes are simply absent.
pub async fn by_codes(store: &Store, codes: &[String]) -> StoreResult<Vec<Region>> {
    let mut sql = Sql::new("");
    let list = store.backend().text_list(sql.next_index());
    sql.arg(json_list(codes));
    sql.push(&format!("SELECT {COLUMNS} FROM regions r WHERE r.code IN ({list})"));
    convert(store.fetch_all(&sql).await?)
}

/// Direct children of each given region, ordered by code.
pub async fn children_of(store: &Store, parents: &[String]) -> StoreResult<Vec<Region>> {
    let mut sql = Sql::new("");
    let list = store.backend().text_list(sql.next_index());
    sql.arg(json_list(parents));
    sql.push(&format!("SELECT {COLUMNS} FROM regions r WHERE r.parent_code IN ({list}) ORDER BY r.code"));
    convert(store.fetch_all(&sql).await?)
}

#[derive(FromRow)]
struct AncestorRow {
    descendant: String,
    #[sqlx(flatten)]
    region: RegionRow,
}

/// For each given region, its strict ancestors from the nearest (parent) to the farthest.
pub async fn ancestors_of(store: &Store, codes: &[String]) -> StoreResult<Vec<(String, Region)>> {
    let mut sql = Sql::new("");
    let list = store.backend().text_list(sql.next_index());
    sql.arg(json_list(codes));
    sql.push(&format!(
        "SELECT c.descendant, {COLUMNS} FROM region_closure c JOIN regions r ON r.code = c.ancestor \
         WHERE c.descendant IN ({list}) AND c.distance > 0 ORDER BY c.descendant, c.distance"
    ));
    let rows: Vec<AncestorRow> = store.fetch_all(&sql).await?;
    rows.into_iter().map(|row| Ok((row.descendant, Region::try_from(row.region)?))).collect()
}

fn filtered(store: &Store, select: &str, filter: &RegionFilter) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" FROM regions r WHERE 1 = 1");
    if let Some(level) = filter.level {
        let p = sql.arg(level.as_str());
        sql.push(&format!(" AND r.level = {p}"));
    }
    if let Some(parent) = &filter.parent {
        let p = sql.arg(parent.as_str());
        sql.push(&format!(" AND r.parent_code = {p}"));
    }
    if let Some(ancestor) = &filter.ancestor {
        let p = sql.arg(ancestor.as_str());
        sql.push(&format!(
            " AND r.code IN (SELECT descendant FROM region_closure WHERE ancestor = {p} AND distance > 0)"
        ));
    }
    if let Some(text) = &filter.name_contains {
        let condition = store.backend().contains_ci("r.name", sql.next_index());
        sql.arg(text.as_str());
        sql.push(&format!(" AND {condition}"));
    }
    sql
}

/// One page of regions matching the filter, ordered by code.
pub async fn list(store: &Store, filter: &RegionFilter, page: &PageRequest<String>) -> StoreResult<Page<Region>> {
    let mut sql = filtered(store, &format!("SELECT {COLUMNS}"), filter);
    if let Some(after) = &page.after {
        let p = sql.arg(after.as_str());
        sql.push(&format!(" AND r.code > {p}"));
    }
    let limit = sql.arg(i64::try_from(page.first + 1).unwrap_or(i64::MAX));
    sql.push(&format!(" ORDER BY r.code LIMIT {limit}"));
    Ok(Page::from_overfetch(convert(store.fetch_all(&sql).await?)?, page.first))
}

/// How many regions match the filter.
pub async fn count(store: &Store, filter: &RegionFilter) -> StoreResult<i64> {
    store.fetch_count(&filtered(store, "SELECT COUNT(*)", filter)).await
}

/// Inserts a region below an existing parent (or as a root) and records its closure rows.
/// A region that exists with the same name, level and parent is left as it is.
pub(crate) async fn insert(tx: &mut Tx, region: &Region) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let (code, name, level, parent) = (
        sql.arg(region.code.as_str()),
        sql.arg(region.name.as_str()),
        sql.arg(region.level.as_str()),
        sql.arg(region.parent_code.clone()),
    );
    sql.push(&format!(
        "INSERT INTO regions (code, name, level, parent_code) VALUES ({code}, {name}, {level}, {parent}) \
         ON CONFLICT (code) DO NOTHING"
    ));
    if tx.execute(&sql).await? == 0 {
        return Ok(());
    }
    let mut closure = Sql::new("");
    let (code, parent) = (closure.arg(region.code.as_str()), closure.arg(region.parent_code.clone()));
    closure.push(&format!(
        "INSERT INTO region_closure (ancestor, descendant, distance) \
         SELECT {code}, {code}, 0 \
         UNION ALL SELECT ancestor, {code}, distance + 1 FROM region_closure WHERE descendant = {parent}"
    ));
    tx.execute(&closure).await?;
    Ok(())
}

/// Whether `code` is `ancestor` or lies below it.
pub async fn is_within(store: &Store, ancestor: &str, code: &str) -> StoreResult<bool> {
    let mut sql = Sql::new("");
    let (a, d) = (sql.arg(ancestor), sql.arg(code));
    sql.push(&format!("SELECT COUNT(*) FROM region_closure WHERE ancestor = {a} AND descendant = {d}"));
    Ok(store.fetch_count(&sql).await? > 0)
}
