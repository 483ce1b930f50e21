//! Resource libraries, their categories, resources and grants.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::dialect::json_list;
use super::sql::{Sql, Tx};
use super::{Store, StoreError, StoreResult};
use crate::domain::libraries::{Contact, Grant, Grantee, Library, Owner, Resource};
use crate::domain::model::ReportedCount;
use crate::domain::query::{Page, PageRequest};

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

#[derive(FromRow)]
struct LibraryRow {
    id: i64,
    key: String,
    name: String,
    description: Option<String>,
    owner_region: Option<String>,
    owner_alliance: Option<i64>,
    curator_id: Option<i64>,
    visibility: String,
    reported_size: Option<i64>,
    reported_size_q: Option<String>,
    reported_size_unit: Option<String>,
    report_id: Option<i64>,
    excerpt: Option<String>,
}

impl TryFrom<LibraryRow> for Library {
    type Error = StoreError;
    fn try_from(r: LibraryRow) -> StoreResult<Self> {
        let owner = match (r.owner_region, r.owner_alliance) {
            (Some(code), _) => Owner::Region(code),
            (None, Some(id)) => Owner::Alliance(id),
            (None, None) => return Err(corrupt("library without owner")),
        };
        let reported_size = match (r.reported_size, r.reported_size_q) {
            (Some(value), Some(q)) => Some((
                ReportedCount { value, qualifier: q.parse().map_err(corrupt)? },
                r.reported_size_unit.unwrap_or_default(),
            )),
            _ => None,
        };
        Ok(Self {
            id: r.id,
            key: r.key,
            name: r.name,
            description: r.description,
            owner,
            curator_id: r.curator_id,
            visibility: r.visibility.parse().map_err(corrupt)?,
            reported_size,
            report_id: r.report_id,
            excerpt: r.excerpt,
        })
    }
}

/// Every library, by id (a deployment has hundreds, not millions).
pub async fn all(store: &Store) -> StoreResult<Vec<Library>> {
    let rows: Vec<LibraryRow> = store
        .fetch_all(&Sql::new(
            "SELECT id, key, name, description, owner_region, owner_alliance, curator_id, visibility, reported_size, \
             reported_size_q, reported_size_unit, report_id, excerpt FROM resource_libraries ORDER BY id",
        ))
        .await?;
    rows.into_iter().map(Library::try_from).collect()
}

#[derive(FromRow)]
struct GrantRow {
    id: i64,
    library_id: i64,
    grantee_region: Option<String>,
    grantee_alliance: Option<i64>,
    permission: String,
    granted_by: String,
    granted_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    revoked_by: Option<String>,
}

const GRANT_COLUMNS: &str = "id, library_id, grantee_region, grantee_alliance, permission, granted_by, granted_at, \
    expires_at, revoked_at, revoked_by";

/// Every grant, active or not, by id.
pub async fn grants(store: &Store) -> StoreResult<Vec<Grant>> {
    convert_grants(store.fetch_all(&Sql::new(format!("SELECT {GRANT_COLUMNS} FROM library_grants ORDER BY id"))).await?)
}

/// The grants of the given libraries, by id.
pub async fn grants_of(store: &Store, libraries: &[i64]) -> StoreResult<Vec<Grant>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(libraries));
    sql.push(&format!("SELECT {GRANT_COLUMNS} FROM library_grants WHERE library_id IN ({list}) ORDER BY id"));
    convert_grants(store.fetch_all(&sql).await?)
}

fn convert_grants(rows: Vec<GrantRow>) -> StoreResult<Vec<Grant>> {
    rows.into_iter()
        .map(|r| {
            let grantee = match (r.grantee_region, r.grantee_alliance) {
                (Some(code), _) => Grantee::Region(code),
                (None, Some(id)) => Grantee::Alliance(id),
                (None, None) => return Err(corrupt("grant without grantee")),
            };
            Ok(Grant {
                id: r.id,
                library_id: r.library_id,
                grantee,
                permission: r.permission.parse().map_err(corrupt)?,
                granted_by: r.granted_by,
                granted_at: r.granted_at,
                expires_at: r.expires_at,
                revoked_at: r.revoked_at,
                revoked_by: r.revoked_by,
            })
        })
        .collect()
}

/// Records a grant; returns its id.
pub(crate) async fn insert_grant(
    tx: &mut Tx,
    library: i64,
    grantee: &Grantee,
    permission: crate::domain::libraries::Permission,
    by: &str,
    at: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
) -> StoreResult<i64> {
    let mut sql = Sql::new("");
    let (region, alliance) = match grantee {
        Grantee::Region(code) => (Some(code.clone()), None),
        Grantee::Alliance(id) => (None, Some(*id)),
    };
    let v = [
        sql.arg(library),
        sql.arg(region),
        sql.arg(alliance),
        sql.arg(permission.as_str()),
        sql.arg(by),
        sql.arg(at),
        sql.arg(super::sql::Arg::Time(expires)),
    ]
    .join(", ");
    sql.push(&format!(
        "INSERT INTO library_grants (library_id, grantee_region, grantee_alliance, permission, granted_by, granted_at, \
         expires_at) VALUES ({v}) RETURNING id"
    ));
    tx.fetch_count(&sql).await
}

/// Revokes a grant (no-op if already revoked); returns whether a row changed.
pub(crate) async fn revoke_grant(tx: &mut Tx, grant: i64, by: &str, at: DateTime<Utc>) -> StoreResult<bool> {
    let mut sql = Sql::new("");
    let (a, b, g) = (sql.arg(at), sql.arg(by), sql.arg(grant));
    sql.push(&format!(
        "UPDATE library_grants SET revoked_at = {a}, revoked_by = {b} WHERE id = {g} AND revoked_at IS NULL"
    ));
    Ok(tx.execute(&sql).await? > 0)
}

#[derive(FromRow)]
struct ResourceRow {
    id: i64,
    key: String,
    library_id: Option<i64>,
    category_id: Option<i64>,
    kind: String,
    name: String,
    description: Option<String>,
    tags: String,
    region_code: Option<String>,
    provider_id: Option<i64>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    report_id: Option<i64>,
    excerpt: Option<String>,
    created_by: String,
    updated_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ResourceRow> for Resource {
    type Error = StoreError;
    fn try_from(r: ResourceRow) -> StoreResult<Self> {
        Ok(Self {
            id: r.id,
            key: r.key,
            library_id: r.library_id,
            category_id: r.category_id,
            kind: r.kind.parse().map_err(corrupt)?,
            name: r.name,
            description: r.description,
            tags: r.tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect(),
            region_code: r.region_code,
            provider_id: r.provider_id,
            contact: Contact { name: r.contact_name, phone: r.contact_phone, email: r.contact_email },
            report_id: r.report_id,
            excerpt: r.excerpt,
            created_by: r.created_by,
            updated_by: r.updated_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Which resources to list (the caller's visible libraries are decided by the domain).
#[derive(Clone, Debug, Default)]
pub struct ResourceQuery {
    /// Libraries the caller may read; resources of other libraries are never returned.
    pub libraries: Vec<i64>,
    /// Whether directory entries (resources in no library, public) are included.
    pub directory: bool,
    /// Text to find in name, description or tags.
    pub search: Option<String>,
    /// Only this category and the categories below it.
    pub category: Option<i64>,
    /// Only these kinds.
    pub kinds: Vec<String>,
    /// Only resources located in this region or below it.
    pub region: Option<String>,
    /// Only the resource with this id.
    pub id: Option<i64>,
}

const RESOURCE_COLUMNS: &str = "r.id, r.key, r.library_id, r.category_id, r.kind, r.name, r.description, r.tags, \
    r.region_code, r.provider_id, r.contact_name, r.contact_phone, r.contact_email, r.report_id, r.excerpt, \
    r.created_by, r.updated_by, r.created_at, r.updated_at";

#[derive(FromRow)]
struct KeyedRow {
    order_key: i64,
    #[sqlx(flatten)]
    row: ResourceRow,
}

/// Cursor keys of one relevance tier lie in [tier × stride, (tier + 1) × stride).
const RANK_STRIDE: i64 = 1_099_511_627_776;

/// Builds the resource query: select list with its order key, then the filters. The search
/// text is bound first so placeholders appear in the text in the order they are numbered.
fn resource_query(store: &Store, select: &str, q: &ResourceQuery) -> (Sql, String) {
    let (sql, order_key, _) = resource_query_ranked(store, select, q);
    (sql, order_key)
}

/// [`resource_query`], also returning the relevance rank expression (0 name, 1 tags, 2 other).
fn resource_query_ranked(store: &Store, select: &str, q: &ResourceQuery) -> (Sql, String, String) {
    let b = store.backend();
    let mut sql = Sql::new("");
    let rank = match &q.search {
        Some(text) => {
            let t = sql.next_index();
            sql.arg(text.as_str());
            format!(
                "CASE WHEN {} THEN 0 WHEN {} THEN 1 ELSE 2 END",
                b.contains_ci("r.name", t),
                b.contains_ci("r.tags", t)
            )
        }
        None => "0".to_owned(),
    };
    let order_key = format!("(({rank}) * {RANK_STRIDE} + r.id)");
    sql.push(&select.replace("{order_key}", &order_key));
    sql.push(" FROM resources r WHERE (");
    let libs = b.int_list(sql.next_index());
    sql.arg(json_list(&q.libraries));
    sql.push(&format!("r.library_id IN ({libs})"));
    if q.directory {
        sql.push(" OR r.library_id IS NULL");
    }
    sql.push(")");
    if let Some(category) = q.category {
        let c = sql.arg(category);
        sql.push(&format!(
            " AND r.category_id IN (WITH RECURSIVE below(id) AS (SELECT CAST({c} AS BIGINT) UNION ALL \
             SELECT c.id FROM library_categories c JOIN below ON c.parent_id = below.id) SELECT id FROM below)"
        ));
    }
    if !q.kinds.is_empty() {
        let k = b.text_list(sql.next_index());
        sql.arg(json_list(&q.kinds));
        sql.push(&format!(" AND r.kind IN ({k})"));
    }
    if let Some(id) = q.id {
        let p = sql.arg(id);
        sql.push(&format!(" AND r.id = {p}"));
    }
    if let Some(region) = &q.region {
        let p = sql.arg(region.as_str());
        sql.push(&format!(" AND r.region_code IN (SELECT descendant FROM region_closure WHERE ancestor = {p})"));
    }
    if let Some(text) = &q.search {
        let haystack = "(r.name || ' ' || COALESCE(r.description, '') || ' ' || r.tags)";
        match b {
            // The trigram index answers for three characters or more; shorter text is scanned.
            super::Backend::Sqlite if text.chars().count() >= 3 => {
                let m = sql.arg(format!("\"{}\"", text.replace('"', "\"\"")));
                sql.push(&format!(
                    " AND r.id IN (SELECT rowid FROM resources_search WHERE resources_search MATCH {m})"
                ));
            }
            super::Backend::Sqlite => {
                let condition = b.contains_ci(haystack, sql.next_index());
                sql.arg(text.as_str());
                sql.push(&format!(" AND {condition}"));
            }
            super::Backend::Postgres => {
                let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                let p = sql.arg(format!("%{escaped}%"));
                sql.push(&format!(" AND {haystack} ILIKE {p}"));
            }
        }
    }
    (sql, order_key, rank)
}

/// One page of resources, with each one's order key (the cursor): by relevance when
/// searching (name match, then tags, then description), then by id.
pub async fn resources(
    store: &Store,
    q: &ResourceQuery,
    page: &PageRequest<i64>,
) -> StoreResult<Page<(i64, Resource)>> {
    let wanted = page.first + 1;
    let mut rows: Vec<KeyedRow> = Vec::new();
    // Searching: relevance tiers in turn (name, tags, the rest), each in id order and stopping
    // at the page size, so a common word does not rank every match, and later tiers run only
    // when earlier ones leave the page short. Without search: one tier, by id.
    let tiers: &[Option<i64>] = if q.search.is_some() { &[Some(0), Some(1), Some(2)] } else { &[None] };
    for tier in tiers {
        if rows.len() >= wanted {
            break;
        }
        // A cursor past this tier skips it.
        if let (Some(t), Some(after)) = (tier, page.after)
            && after >= (t + 1) * RANK_STRIDE
        {
            continue;
        }
        let (mut sql, order_key, rank) =
            resource_query_ranked(store, &format!("SELECT {RESOURCE_COLUMNS}, {{order_key}} AS order_key"), q);
        if let Some(t) = tier {
            sql.push(&format!(" AND ({rank}) = {t}"));
        }
        if let Some(after) = page.after {
            let a = sql.arg(after);
            sql.push(&format!(" AND {order_key} > {a}"));
        }
        let limit = sql.arg(i64::try_from(wanted - rows.len()).unwrap_or(i64::MAX));
        sql.push(&format!(" ORDER BY r.id LIMIT {limit}"));
        rows.extend(store.fetch_all::<KeyedRow>(&sql).await?);
    }
    let items =
        rows.into_iter().map(|r| Ok((r.order_key, Resource::try_from(r.row)?))).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.first))
}

/// How many resources match.
pub async fn count_resources(store: &Store, q: &ResourceQuery) -> StoreResult<i64> {
    store.fetch_count(&resource_query(store, "SELECT COUNT(*)", q).0).await
}

/// Inserts a library (kept as it is when the key exists); returns its id.
pub(crate) async fn upsert_library(tx: &mut Tx, l: &Library) -> StoreResult<i64> {
    let mut sql = Sql::new("");
    let (region, alliance) = match &l.owner {
        Owner::Region(code) => (Some(code.clone()), None),
        Owner::Alliance(id) => (None, Some(*id)),
    };
    let v = [
        sql.arg(l.key.as_str()),
        sql.arg(l.name.as_str()),
        sql.arg(l.description.clone()),
        sql.arg(region),
        sql.arg(alliance),
        sql.arg(l.curator_id),
        sql.arg(l.visibility.as_str()),
        sql.arg(l.reported_size.as_ref().map(|(c, _)| c.value)),
        sql.arg(l.reported_size.as_ref().map(|(c, _)| c.qualifier.as_str())),
        sql.arg(l.reported_size.as_ref().map(|(_, unit)| unit.clone())),
        sql.arg(l.report_id),
        sql.arg(l.excerpt.clone()),
    ]
    .join(", ");
    sql.push(&format!(
        "INSERT INTO resource_libraries (key, name, description, owner_region, owner_alliance, curator_id, visibility, \
         reported_size, reported_size_q, reported_size_unit, report_id, excerpt) VALUES ({v}) \
         ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id"
    ));
    tx.fetch_count(&sql).await
}

/// Inserts a category under a library (and parent); returns its id.
pub(crate) async fn upsert_category(tx: &mut Tx, library: i64, parent: Option<i64>, name: &str) -> StoreResult<i64> {
    let mut sql = Sql::new("");
    let (l, p, n) = (sql.arg(library), sql.arg(parent), sql.arg(name));
    sql.push(&format!(
        "INSERT INTO library_categories (library_id, parent_id, name) VALUES ({l}, {p}, {n}) \
         ON CONFLICT (library_id, parent_id, name) DO UPDATE SET name = excluded.name RETURNING id"
    ));
    tx.fetch_count(&sql).await
}

/// Inserts a resource (kept as it is when the key exists).
pub(crate) async fn upsert_resource(tx: &mut Tx, r: &Resource) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let v = [
        sql.arg(r.key.as_str()),
        sql.arg(r.library_id),
        sql.arg(r.category_id),
        sql.arg(r.kind.as_str()),
        sql.arg(r.name.as_str()),
        sql.arg(r.description.clone()),
        sql.arg(r.tags.join(",")),
        sql.arg(r.region_code.clone()),
        sql.arg(r.provider_id),
        sql.arg(r.contact.name.clone()),
        sql.arg(r.contact.phone.clone()),
        sql.arg(r.contact.email.clone()),
        sql.arg(r.report_id),
        sql.arg(r.excerpt.clone()),
        sql.arg(r.created_by.as_str()),
        sql.arg(r.updated_by.as_str()),
    ]
    .join(", ");
    sql.push(&format!(
        "INSERT INTO resources (key, library_id, category_id, kind, name, description, tags, region_code, provider_id, \
         contact_name, contact_phone, contact_email, report_id, excerpt, created_by, updated_by) VALUES ({v}) \
         ON CONFLICT (key) DO NOTHING"
    ));
    tx.execute(&sql).await.map(drop)
}

/// Categories of the given libraries: (id, library, parent, name), by id.
pub async fn categories(store: &Store, libraries: &[i64]) -> StoreResult<Vec<(i64, i64, Option<i64>, String)>> {
    #[derive(FromRow)]
    struct Row {
        id: i64,
        library_id: i64,
        parent_id: Option<i64>,
        name: String,
    }
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(libraries));
    sql.push(&format!(
        "SELECT id, library_id, parent_id, name FROM library_categories WHERE library_id IN ({list}) ORDER BY id"
    ));
    let rows: Vec<Row> = store.fetch_all(&sql).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.library_id, r.parent_id, r.name)).collect())
}

/// Writes a library and its resources in one transaction (resources are placed in the
/// library); returns the library's id.
pub async fn insert_library(store: &Store, library: &Library, resources: &[Resource]) -> StoreResult<i64> {
    let mut tx = store.begin().await?;
    let id = upsert_library(&mut tx, library).await?;
    for resource in resources {
        upsert_resource(&mut tx, &Resource { library_id: Some(id), ..resource.clone() }).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The id of the library with this key.
pub async fn library_id_by_key(store: &Store, key: &str) -> StoreResult<Option<i64>> {
    #[derive(FromRow)]
    struct Id {
        id: i64,
    }
    let mut sql = Sql::new("");
    let k = sql.arg(key);
    sql.push(&format!("SELECT id FROM resource_libraries WHERE key = {k}"));
    Ok(store.fetch_optional::<Id>(&sql).await?.map(|r| r.id))
}

/// Changes a library's name, description, curator and visibility.
pub(crate) async fn update_library(tx: &mut Tx, l: &Library) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let (n, d, c, v, id) = (
        sql.arg(l.name.as_str()),
        sql.arg(l.description.clone()),
        sql.arg(l.curator_id),
        sql.arg(l.visibility.as_str()),
        sql.arg(l.id),
    );
    sql.push(&format!(
        "UPDATE resource_libraries SET name = {n}, description = {d}, curator_id = {c}, visibility = {v}, \
         updated_at = CURRENT_TIMESTAMP WHERE id = {id}"
    ));
    tx.execute(&sql).await.map(drop)
}

/// The resource with this id or key (any library; access is the domain's concern).
pub async fn resource_by(store: &Store, id: Option<i64>, key: Option<&str>) -> StoreResult<Option<Resource>> {
    let mut sql = Sql::new("");
    let (i, k) = (sql.arg(id), sql.arg(key));
    sql.push(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources r WHERE ({i} IS NOT NULL AND r.id = {i}) OR ({k} IS NOT NULL AND r.key = {k})"
    ));
    store.fetch_optional::<ResourceRow>(&sql).await?.map(Resource::try_from).transpose()
}

/// Inserts a resource; returns its id.
pub(crate) async fn insert_resource(tx: &mut Tx, r: &Resource) -> StoreResult<i64> {
    upsert_resource(tx, r).await?;
    let mut sql = Sql::new("");
    let k = sql.arg(r.key.as_str());
    sql.push(&format!("SELECT id FROM resources WHERE key = {k}"));
    tx.fetch_count(&sql).await
}

/// Replaces a resource's fields (not its key or library).
pub(crate) async fn update_resource(tx: &mut Tx, r: &Resource) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let sets = [
        ("category_id", sql.arg(r.category_id)),
        ("kind", sql.arg(r.kind.as_str())),
        ("name", sql.arg(r.name.as_str())),
        ("description", sql.arg(r.description.clone())),
        ("tags", sql.arg(r.tags.join(","))),
        ("region_code", sql.arg(r.region_code.clone())),
        ("provider_id", sql.arg(r.provider_id)),
        ("contact_name", sql.arg(r.contact.name.clone())),
        ("contact_phone", sql.arg(r.contact.phone.clone())),
        ("contact_email", sql.arg(r.contact.email.clone())),
        ("updated_by", sql.arg(r.updated_by.as_str())),
    ]
    .iter()
    .map(|(c, p)| format!("{c} = {p}"))
    .collect::<Vec<_>>()
    .join(", ");
    let id = sql.arg(r.id);
    sql.push(&format!("UPDATE resources SET {sets}, updated_at = CURRENT_TIMESTAMP WHERE id = {id}"));
    tx.execute(&sql).await.map(drop)
}

/// Deletes a resource.
pub(crate) async fn delete_resource(tx: &mut Tx, id: i64) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let i = sql.arg(id);
    sql.push(&format!("DELETE FROM resources WHERE id = {i}"));
    tx.execute(&sql).await.map(drop)
}

/// Renames a category or moves it under another parent.
pub(crate) async fn update_category(tx: &mut Tx, id: i64, parent: Option<i64>, name: &str) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let (p, n, i) = (sql.arg(parent), sql.arg(name), sql.arg(id));
    sql.push(&format!("UPDATE library_categories SET parent_id = {p}, name = {n} WHERE id = {i}"));
    tx.execute(&sql).await.map(drop)
}
