//! Provenance: which report (and which excerpt of it) a record came from.

use sqlx::FromRow;

use super::dialect::json_list;
use super::sql::{Sql, Tx};
use super::{Store, StoreError, StoreResult};
use crate::domain::model::{Source, Subject, SubjectType};

#[derive(FromRow)]
struct SourceRow {
    subject_type: String,
    subject_key: String,
    report_id: i64,
    excerpt: String,
}

/// Sources of each given subject, in insertion order. Subjects may mix types.
pub async fn of_subjects(store: &Store, subjects: &[Subject]) -> StoreResult<Vec<(Subject, Source)>> {
    // One statement whatever the mix of types; exact (type, key) pairs are picked out below.
    let keys: Vec<&str> = subjects.iter().map(|s| s.key.as_str()).collect();
    let types: Vec<&str> = subjects.iter().map(|s| s.kind.as_str()).collect();
    let mut sql = Sql::new("");
    let key_list = store.backend().text_list(sql.next_index());
    sql.arg(json_list(&keys));
    let type_list = store.backend().text_list(sql.next_index());
    sql.arg(json_list(&types));
    sql.push(&format!(
        "SELECT subject_type, subject_key, report_id, excerpt FROM sources \
         WHERE subject_type IN ({type_list}) AND subject_key IN ({key_list}) ORDER BY id"
    ));
    let rows: Vec<SourceRow> = store.fetch_all(&sql).await?;
    let wanted: std::collections::HashSet<&Subject> = subjects.iter().collect();
    rows.into_iter()
        .map(|row| {
            let kind: SubjectType = row.subject_type.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?;
            Ok((Subject { kind, key: row.subject_key }, Source { report_id: row.report_id, excerpt: row.excerpt }))
        })
        .filter(|pair| pair.as_ref().map_or(true, |(subject, _)| wanted.contains(subject)))
        .collect()
}

/// Records that `subject` came from `report_id` through `excerpt` (no-op if already recorded).
pub(crate) async fn insert(tx: &mut Tx, subject: &Subject, source: &Source) -> StoreResult<()> {
    let mut sql = Sql::new("");
    let (t, k, r, e) = (
        sql.arg(subject.kind.as_str()),
        sql.arg(subject.key.as_str()),
        sql.arg(source.report_id),
        sql.arg(source.excerpt.as_str()),
    );
    sql.push(&format!(
        "INSERT INTO sources (subject_type, subject_key, report_id, excerpt) VALUES ({t}, {k}, {r}, {e}) \
         ON CONFLICT DO NOTHING"
    ));
    tx.execute(&sql).await.map(drop)
}
