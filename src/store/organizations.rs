//! Organizations.

use chrono::NaiveDate;
use sqlx::FromRow;

use super::dialect::json_list;
use super::sql::{Sql, Tx};
use super::{Store, StoreError, StoreResult};
use crate::domain::model::{Organization, PartialDate, ReportedCount};
use crate::domain::query::{OrganizationFilter, Page, PageRequest};

#[derive(FromRow)]
struct OrganizationRow {
    id: i64,
    key: String,
    name: String,
    short_name: Option<String>,
    kind: String,
    sector: Option<String>,
    region_code: Option<String>,
    parent_id: Option<i64>,
    founded_on: Option<NaiveDate>,
    founded_precision: Option<String>,
    member_count: Option<i64>,
    member_count_qualifier: Option<String>,
    executive_count: Option<i64>,
    executive_count_qualifier: Option<String>,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn count(value: Option<i64>, qualifier: Option<String>) -> StoreResult<Option<ReportedCount>> {
    match (value, qualifier) {
        (Some(value), Some(q)) => Ok(Some(ReportedCount { value, qualifier: q.parse().map_err(corrupt)? })),
        (Some(value), None) => Ok(Some(ReportedCount { value, qualifier: crate::domain::model::Qualifier::Exact })),
        (None, _) => Ok(None),
    }
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = StoreError;
    fn try_from(row: OrganizationRow) -> StoreResult<Self> {
        let founded = match (row.founded_on, row.founded_precision) {
            (Some(date), Some(p)) => Some(PartialDate { date, precision: p.parse().map_err(corrupt)? }),
            _ => None,
        };
        Ok(Self {
            id: row.id,
            key: row.key,
            name: row.name,
            short_name: row.short_name,
            kind: row.kind.parse().map_err(corrupt)?,
            sector: row.sector.map(|s| s.parse()).transpose().map_err(corrupt)?,
            region_code: row.region_code,
            parent_id: row.parent_id,
            founded,
            members: count(row.member_count, row.member_count_qualifier)?,
            executives: count(row.executive_count, row.executive_count_qualifier)?,
        })
    }
}

fn convert(rows: Vec<OrganizationRow>) -> StoreResult<Vec<Organization>> {
    rows.into_iter().map(Organization::try_from).collect()
}

const COLUMNS: &str = "o.id, o.key, o.name, o.short_name, o.kind, o.sector, o.region_code, o.parent_id, \
    o.founded_on, o.founded_precision, o.member_count, o.member_count_qualifier, \
    o.executive_count, o.executive_count_qualifier";

/// Organizations with the given ids; unknown ids are absent.
pub async fn by_ids(store: &Store, ids: &[i64]) -> StoreResult<Vec<Organization>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(ids));
    sql.push(&format!("SELECT {COLUMNS} FROM organizations o WHERE o.id IN ({list})"));
    convert(store.fetch_all(&sql).await?)
}

/// Direct children of each given organization, ordered by id.
pub async fn children_of(store: &Store, parent_ids: &[i64]) -> StoreResult<Vec<Organization>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(parent_ids));
    sql.push(&format!("SELECT {COLUMNS} FROM organizations o WHERE o.parent_id IN ({list}) ORDER BY o.id"));
    convert(store.fetch_all(&sql).await?)
}

fn filtered(store: &Store, select: &str, filter: &OrganizationFilter) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" FROM organizations o WHERE 1 = 1");
    if let Some(region) = &filter.region {
        let p = sql.arg(region.as_str());
        if filter.include_descendants {
            sql.push(&format!(" AND o.region_code IN (SELECT descendant FROM region_closure WHERE ancestor = {p})"));
        } else {
            sql.push(&format!(" AND o.region_code = {p}"));
        }
    }
    if !filter.kinds.is_empty() {
        let list = store.backend().text_list(sql.next_index());
        sql.arg(json_list(&filter.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>()));
        sql.push(&format!(" AND o.kind IN ({list})"));
    }
    if !filter.sectors.is_empty() {
        let list = store.backend().text_list(sql.next_index());
        sql.arg(json_list(&filter.sectors.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
        sql.push(&format!(" AND o.sector IN ({list})"));
    }
    if let Some(parent) = filter.parent_id {
        let p = sql.arg(parent);
        sql.push(&format!(" AND o.parent_id = {p}"));
    }
    if let Some(text) = &filter.name_contains {
        let index = sql.next_index();
        let (name, short) = (
            store.backend().contains_ci("o.name", index),
            store.backend().contains_ci("COALESCE(o.short_name, '')", index),
        );
        sql.arg(text.as_str());
        sql.push(&format!(" AND ({name} OR {short})"));
    }
    sql
}

/// One page of organizations matching the filter, ordered by id.
pub async fn list(
    store: &Store,
    filter: &OrganizationFilter,
    page: &PageRequest<i64>,
) -> StoreResult<Page<Organization>> {
    let mut sql = filtered(store, &format!("SELECT {COLUMNS}"), filter);
    if let Some(after) = page.after {
        let p = sql.arg(after);
        sql.push(&format!(" AND o.id > {p}"));
    }
    let limit = sql.arg(i64::try_from(page.first + 1).unwrap_or(i64::MAX));
    sql.push(&format!(" ORDER BY o.id LIMIT {limit}"));
    Ok(Page::from_overfetch(convert(store.fetch_all(&sql).await?)?, page.first))
}

/// How many organizations match the filter.
pub async fn count_matching(store: &Store, filter: &OrganizationFilter) -> StoreResult<i64> {
    store.fetch_count(&filtered(store, "SELECT COUNT(*)", filter)).await
}

/// Organizations with the given keys; unknown keys are absent.
pub async fn by_keys(store: &Store, keys: &[String]) -> StoreResult<Vec<Organization>> {
    let mut sql = Sql::new("");
    let list = store.backend().text_list(sql.next_index());
    sql.arg(json_list(keys));
    sql.push(&format!("SELECT {COLUMNS} FROM organizations o WHERE o.key IN ({list})"));
    convert(store.fetch_all(&sql).await?)
}

/// The organization with this key, if any.
pub async fn by_key(store: &Store, key: &str) -> StoreResult<Option<Organization>> {
    let mut sql = Sql::new("");
    let p = sql.arg(key);
    sql.push(&format!("SELECT {COLUMNS} FROM organizations o WHERE o.key = {p}"));
    store.fetch_optional::<OrganizationRow>(&sql).await?.map(Organization::try_from).transpose()
}

/// The fields of an organization a write sets (everything but the id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationRecord {
    pub key: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: crate::domain::model::OrganizationKind,
    pub sector: Option<crate::domain::model::OrganizationSector>,
    pub region_code: Option<String>,
    pub parent_id: Option<i64>,
    pub founded: Option<PartialDate>,
    pub members: Option<ReportedCount>,
    pub executives: Option<ReportedCount>,
}

fn bind_record(sql: &mut Sql, r: &OrganizationRecord) -> [String; 13] {
    [
        sql.arg(r.key.as_str()),
        sql.arg(r.name.as_str()),
        sql.arg(r.short_name.clone()),
        sql.arg(r.kind.as_str()),
        sql.arg(r.sector.map(|s| s.as_str())),
        sql.arg(r.region_code.clone()),
        sql.arg(r.parent_id),
        sql.arg(r.founded.map(|f| f.date)),
        sql.arg(r.founded.map(|f| f.precision.as_str())),
        sql.arg(r.members.map(|c| c.value)),
        sql.arg(r.members.map(|c| c.qualifier.as_str())),
        sql.arg(r.executives.map(|c| c.value)),
        sql.arg(r.executives.map(|c| c.qualifier.as_str())),
    ]
}

const WRITE_COLUMNS: &str = "key, name, short_name, kind, sector, region_code, parent_id, founded_on, \
    founded_precision, member_count, member_count_qualifier, executive_count, executive_count_qualifier";

/// Inserts an organization; returns its new id.
pub(crate) async fn insert(tx: &mut Tx, record: &OrganizationRecord) -> StoreResult<i64> {
    let mut sql = Sql::new("");
    let values = bind_record(&mut sql, record).join(", ");
    sql.push(&format!("INSERT INTO organizations ({WRITE_COLUMNS}) VALUES ({values}) RETURNING id"));
    tx.fetch_count(&sql).await
}

/// Replaces every field of an organization; returns false when no such id exists.
pub(crate) async fn update(tx: &mut Tx, id: i64, record: &OrganizationRecord) -> StoreResult<bool> {
    let mut sql = Sql::new("");
    let values = bind_record(&mut sql, record);
    let assignments = WRITE_COLUMNS
        .split(", ")
        .map(str::trim)
        .zip(values.iter())
        .map(|(column, value)| format!("{column} = {value}"))
        .collect::<Vec<_>>()
        .join(", ");
    let id = sql.arg(id);
    sql.push(&format!("UPDATE organizations SET {assignments}, updated_at = CURRENT_TIMESTAMP WHERE id = {id}"));
    Ok(tx.execute(&sql).await? > 0)
}

/// Whether `ancestor` is `id` itself or one of its parent organizations, at any depth.
pub(crate) async fn is_self_or_ancestor(tx: &mut Tx, ancestor: i64, id: i64) -> StoreResult<bool> {
    let mut sql = Sql::new("");
    let (start, target) = (sql.arg(id), sql.arg(ancestor));
    sql.push(&format!(
        "WITH RECURSIVE chain(id, parent_id) AS ( \
             SELECT id, parent_id FROM organizations WHERE id = {start} \
             UNION SELECT o.id, o.parent_id FROM organizations o JOIN chain c ON o.id = c.parent_id) \
         SELECT COUNT(*) FROM chain WHERE id = {target}"
    ));
    Ok(tx.fetch_count(&sql).await? > 0)
}

/// The id of the organization with this key, inside a transaction.
pub(crate) async fn id_by_key(tx: &mut Tx, key: &str) -> StoreResult<Option<i64>> {
    #[derive(FromRow)]
    struct Id {
        id: i64,
    }
    let mut sql = Sql::new("");
    let p = sql.arg(key);
    sql.push(&format!("SELECT id FROM organizations WHERE key = {p}"));
    Ok(tx.fetch_optional::<Id>(&sql).await?.map(|row| row.id))
}
