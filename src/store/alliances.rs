//! Alliances, their member regions, their agreements and the agreements' parties.

use chrono::NaiveDate;
use sqlx::FromRow;

use super::dialect::json_list;
use super::sql::{Sql, Tx};
use super::{Store, StoreError, StoreResult};
use crate::domain::model::{Agreement, Alliance, AllianceKind, Region};

#[derive(FromRow)]
struct AllianceRow {
    id: i64,
    slug: String,
    name: String,
    kind: String,
    description: Option<String>,
}

impl TryFrom<AllianceRow> for Alliance {
    type Error = StoreError;
    fn try_from(row: AllianceRow) -> StoreResult<Self> {
        Ok(Self {
            kind: row.kind.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?,
            id: row.id,
            slug: row.slug,
            name: row.name,
            description: row.description,
        })
    }
}

fn convert(rows: Vec<AllianceRow>) -> StoreResult<Vec<Alliance>> {
    rows.into_iter().map(Alliance::try_from).collect()
}

const COLUMNS: &str = "a.id, a.slug, a.name, a.kind, a.description";

/// Every alliance, ordered by slug.
pub async fn all(store: &Store) -> StoreResult<Vec<Alliance>> {
    convert(store.fetch_all(&Sql::new(format!("SELECT {COLUMNS} FROM alliances a ORDER BY a.slug"))).await?)
}

/// Alliances with the given ids.
pub async fn by_ids(store: &Store, ids: &[i64]) -> StoreResult<Vec<Alliance>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(ids));
    sql.push(&format!("SELECT {COLUMNS} FROM alliances a WHERE a.id IN ({list})"));
    convert(store.fetch_all(&sql).await?)
}

/// Alliances with the given slugs.
pub async fn by_slugs(store: &Store, slugs: &[String]) -> StoreResult<Vec<Alliance>> {
    let mut sql = Sql::new("");
    let list = store.backend().text_list(sql.next_index());
    sql.arg(json_list(slugs));
    sql.push(&format!("SELECT {COLUMNS} FROM alliances a WHERE a.slug IN ({list})"));
    convert(store.fetch_all(&sql).await?)
}

#[derive(FromRow)]
struct MemberRow {
    alliance_id: i64,
    code: String,
    name: String,
    level: String,
    parent_code: Option<String>,
}

/// Member regions of each given alliance, ordered by region code.
pub async fn members_of(store: &Store, alliance_ids: &[i64]) -> StoreResult<Vec<(i64, Region)>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(alliance_ids));
    sql.push(&format!(
        "SELECT m.alliance_id, r.code, r.name, r.level, r.parent_code \
         FROM alliance_members m JOIN regions r ON r.code = m.region_code \
         WHERE m.alliance_id IN ({list}) ORDER BY m.alliance_id, r.code"
    ));
    let rows: Vec<MemberRow> = store.fetch_all(&sql).await?;
    rows.into_iter()
        .map(|row| {
            let level = row.level.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?;
            Ok((row.alliance_id, Region { code: row.code, name: row.name, level, parent_code: row.parent_code }))
        })
        .collect()
}

#[derive(FromRow)]
struct MembershipRow {
    region_code: String,
    #[sqlx(flatten)]
    alliance: AllianceRow,
}

/// Alliances each given region is a direct member of, ordered by slug.
pub async fn of_regions(store: &Store, codes: &[String]) -> StoreResult<Vec<(String, Alliance)>> {
    let mut sql = Sql::new("");
    let list = store.backend().text_list(sql.next_index());
    sql.arg(json_list(codes));
    sql.push(&format!(
        "SELECT m.region_code, {COLUMNS} FROM alliance_members m JOIN alliances a ON a.id = m.alliance_id \
         WHERE m.region_code IN ({list}) ORDER BY m.region_code, a.slug"
    ));
    let rows: Vec<MembershipRow> = store.fetch_all(&sql).await?;
    rows.into_iter().map(|row| Ok((row.region_code, Alliance::try_from(row.alliance)?))).collect()
}

#[derive(FromRow)]
struct AgreementRow {
    id: i64,
    alliance_id: i64,
    title: String,
    signed_on: Option<NaiveDate>,
}

/// Agreements with the given ids.
pub async fn agreements_by_ids(store: &Store, ids: &[i64]) -> StoreResult<Vec<Agreement>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(ids));
    sql.push(&format!("SELECT id, alliance_id, title, signed_on FROM agreements WHERE id IN ({list})"));
    let rows: Vec<AgreementRow> = store.fetch_all(&sql).await?;
    Ok(rows.into_iter().map(Agreement::from).collect())
}

/// Agreements of each given alliance, ordered by date (undated last), then id.
pub async fn agreements_of(store: &Store, alliance_ids: &[i64]) -> StoreResult<Vec<Agreement>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(alliance_ids));
    sql.push(&format!(
        "SELECT id, alliance_id, title, signed_on FROM agreements WHERE alliance_id IN ({list}) \
         ORDER BY alliance_id, CASE WHEN signed_on IS NULL THEN 1 ELSE 0 END, signed_on, id"
    ));
    let rows: Vec<AgreementRow> = store.fetch_all(&sql).await?;
    Ok(rows.into_iter().map(Agreement::from).collect())
}

impl From<AgreementRow> for Agreement {
    fn from(r: AgreementRow) -> Self {
        Self { id: r.id, alliance_id: r.alliance_id, title: r.title, signed_on: r.signed_on }
    }
}

#[derive(FromRow)]
struct PartyRow {
    agreement_id: i64,
    code: String,
    name: String,
    level: String,
    parent_code: Option<String>,
}

/// Party regions of each given agreement, ordered by region code.
pub async fn parties_of(store: &Store, agreement_ids: &[i64]) -> StoreResult<Vec<(i64, Region)>> {
    let mut sql = Sql::new("");
    let list = store.backend().int_list(sql.next_index());
    sql.arg(json_list(agreement_ids));
    sql.push(&format!(
        "SELECT p.agreement_id, r.code, r.name, r.level, r.parent_code \
         FROM agreement_parties p JOIN regions r ON r.code = p.region_code \
         WHERE p.agreement_id IN ({list}) ORDER BY p.agreement_id, r.code"
    ));
    let rows: Vec<PartyRow> = store.fetch_all(&sql).await?;
    rows.into_iter()
        .map(|row| {
            let level = row.level.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?;
            Ok((row.agreement_id, Region { code: row.code, name: row.name, level, parent_code: row.parent_code }))
        })
        .collect()
}

/// Inserts (or finds) an alliance by slug; returns its id.
pub(crate) async fn upsert(
    tx: &mut Tx,
    slug: &str,
    name: &str,
    kind: AllianceKind,
    description: Option<&str>,
) -> StoreResult<i64> {
    let mut sql = Sql::new("");
    let (s, n, k, d) = (sql.arg(slug), sql.arg(name), sql.arg(kind.as_str()), sql.arg(description));
    sql.push(&format!(
        "INSERT INTO alliances (slug, name, kind, description) VALUES ({s}, {n}, {k}, {d}) \
         ON CONFLICT (slug) DO UPDATE SET name = excluded.name RETURNING id"
    ));
    tx.fetch_count(&sql).await
}

/// Adds a member region to an alliance (no-op if already a member).
pub(crate) async fn add_member(tx: &mut Tx, alliance_id: i64, region: &str) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let (a, r) = (sql.arg(alliance_id), sql.arg(region));
    sql.push(&format!(
        "INSERT INTO alliance_members (alliance_id, region_code) VALUES ({a}, {r}) ON CONFLICT DO NOTHING"
    ));
    tx.execute(&sql).await.map(drop)
}

/// Inserts (or finds) an agreement by alliance and title; returns its id.
pub(crate) async fn upsert_agreement(
    tx: &mut Tx,
    alliance_id: i64,
    title: &str,
    signed_on: Option<NaiveDate>,
) -> StoreResult<i64> {
    let mut sql = Sql::new("");
    let (a, t, d) = (sql.arg(alliance_id), sql.arg(title), sql.arg(signed_on));
    sql.push(&format!(
        "INSERT INTO agreements (alliance_id, title, signed_on) VALUES ({a}, {t}, {d}) \
         ON CONFLICT (alliance_id, title) DO UPDATE SET title = excluded.title RETURNING id"
    ));
    tx.fetch_count(&sql).await
}

/// Adds a party region to an agreement (no-op if already a party).
pub(crate) async fn add_party(tx: &mut Tx, agreement_id: i64, region: &str) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let (a, r) = (sql.arg(agreement_id), sql.arg(region));
    sql.push(&format!(
        "INSERT INTO agreement_parties (agreement_id, region_code) VALUES ({a}, {r}) ON CONFLICT DO NOTHING"
    ));
    tx.execute(&sql).await.map(drop)
}
