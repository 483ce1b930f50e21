//! Writing a whole dataset in one transaction.

use std::collections::HashMap;

use super::sql::Sql;
use super::{Store, StoreError, StoreResult, alliances, figures, libraries, organizations, regions, reports, sources};
use crate::domain::dataset::LibraryOwnerEntry;
use crate::domain::dataset::{Dataset, SourceRef};
use crate::domain::libraries::{Contact, Library, Owner, Resource};
use crate::domain::model::{PartialDate, Region, Report, ReportedCount, Source, Subject, SubjectType};
use crate::domain::submission::fingerprint;

/// Whether the database holds no regions yet (a fresh database).
pub async fn is_empty(store: &Store) -> StoreResult<bool> {
    Ok(store.fetch_count(&Sql::new("SELECT COUNT(*) FROM regions")).await? == 0)
}

/// Writes every record of the dataset with its provenance, all or nothing. Records that
/// already exist (same key) are kept, so loading twice changes nothing.
pub async fn load(store: &Store, dataset: &Dataset) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let mut report_ids = HashMap::new();
    // Regions first: reports point at them.
    for r in &dataset.regions {
        let region =
            Region { code: r.code.clone(), name: r.name.clone(), level: r.level, parent_code: r.parent.clone() };
        regions::insert(&mut tx, &region).await?;
    }
    for r in &dataset.reports {
        let report = Report {
            id: 0,
            key: r.key.clone(),
            title: r.title.clone(),
            publisher: r.publisher.clone(),
            published_on: r.published_on,
            period_start: r.period_start,
            period_end: r.period_end,
            period_note: r.period_note.clone(),
            source_file: Some(r.source_file.clone()),
            region_code: r.region.clone(),
            revision: 1,
            superseded_by: None,
        };
        report_ids.insert(r.key.as_str(), reports::upsert(&mut tx, &report).await?);
    }
    let cite = |list: &[SourceRef]| -> StoreResult<Vec<Source>> {
        list.iter()
            .map(|s| {
                let report_id = *report_ids
                    .get(s.report.as_str())
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown report {}", s.report)))?;
                Ok(Source { report_id, excerpt: s.excerpt.clone() })
            })
            .collect()
    };
    for r in &dataset.regions {
        let subject = Subject { kind: SubjectType::Region, key: r.code.clone() };
        for source in cite(&r.sources)? {
            sources::insert(&mut tx, &subject, &source).await?;
        }
    }
    let mut alliance_ids = HashMap::new();
    for a in &dataset.alliances {
        let id = alliances::upsert(&mut tx, &a.slug, &a.name, a.kind, a.description.as_deref()).await?;
        alliance_ids.insert(a.slug.clone(), id);
        for code in &a.members {
            alliances::add_member(&mut tx, id, code).await?;
        }
        let subject = Subject { kind: SubjectType::Alliance, key: id.to_string() };
        for source in cite(&a.sources)? {
            sources::insert(&mut tx, &subject, &source).await?;
        }
        for g in &a.agreements {
            let agreement = alliances::upsert_agreement(&mut tx, id, &g.title, g.signed_on).await?;
            for code in &g.parties {
                alliances::add_party(&mut tx, agreement, code).await?;
            }
            let subject = Subject { kind: SubjectType::Agreement, key: agreement.to_string() };
            for source in cite(&g.sources)? {
                sources::insert(&mut tx, &subject, &source).await?;
            }
        }
    }
    let mut org_ids: HashMap<&str, i64> = HashMap::new();
    for o in &dataset.organizations {
        let count = |value: Option<i64>, qualifier| {
            value.zip(qualifier).map(|(value, qualifier)| ReportedCount { value, qualifier })
        };
        let record = organizations::OrganizationRecord {
            key: o.key.clone(),
            name: o.name.clone(),
            short_name: o.short_name.clone(),
            kind: o.kind,
            sector: o.sector,
            region_code: o.region.clone(),
            parent_id: o.parent.as_ref().and_then(|p| org_ids.get(p.as_str()).copied()),
            founded: o.founded_on.zip(o.founded_precision).map(|(date, precision)| PartialDate { date, precision }),
            members: count(o.member_count, o.member_count_qualifier),
            executives: count(o.executive_count, o.executive_count_qualifier),
        };
        let id = match organizations::id_by_key(&mut tx, &o.key).await? {
            Some(id) => id,
            None => organizations::insert(&mut tx, &record).await?,
        };
        org_ids.insert(o.key.as_str(), id);
        let subject = Subject { kind: SubjectType::Organization, key: id.to_string() };
        for source in cite(&o.sources)? {
            sources::insert(&mut tx, &subject, &source).await?;
        }
    }
    for metric in &dataset.metrics {
        figures::upsert_metric(&mut tx, metric).await?;
    }
    let refs = figures::Refs {
        alliances: alliance_ids,
        organizations: dataset
            .organizations
            .iter()
            .filter_map(|o| org_ids.get(o.key.as_str()).map(|id| (o.key.clone(), (*id, o.region.clone()))))
            .collect(),
    };
    let mut library_ids: HashMap<&str, i64> = HashMap::new();
    for l in &dataset.libraries {
        let owner = match &l.owner {
            LibraryOwnerEntry::Region(code) => Owner::Region(code.clone()),
            LibraryOwnerEntry::Alliance(slug) => Owner::Alliance(refs.alliances[slug]),
        };
        let library = Library {
            id: 0,
            key: l.key.clone(),
            name: l.name.clone(),
            description: l.description.clone(),
            owner,
            curator_id: l.curator.as_ref().and_then(|c| org_ids.get(c.as_str()).copied()),
            visibility: l.visibility,
            reported_size: l
                .reported_size
                .as_ref()
                .map(|s| (ReportedCount { value: s.value, qualifier: s.qualifier }, s.unit.clone())),
            report_id: report_ids.get(l.source.report.as_str()).copied(),
            excerpt: Some(l.source.excerpt.clone()),
        };
        let id = libraries::upsert_library(&mut tx, &library).await?;
        for category in &l.categories {
            libraries::upsert_category(&mut tx, id, None, category).await?;
        }
        library_ids.insert(l.key.as_str(), id);
    }
    let now = chrono::Utc::now();
    for r in &dataset.resources {
        let resource = Resource {
            id: 0,
            key: r.key.clone(),
            library_id: r.library.as_ref().and_then(|l| library_ids.get(l.as_str()).copied()),
            category_id: None,
            kind: r.kind,
            name: r.name.clone(),
            description: r.description.clone(),
            tags: r.tags.clone(),
            region_code: r.region.clone(),
            provider_id: r.provider.as_ref().and_then(|p| org_ids.get(p.as_str()).copied()),
            contact: Contact::default(),
            report_id: report_ids.get(r.source.report.as_str()).copied(),
            excerpt: Some(r.source.excerpt.clone()),
            created_by: "demo-data".to_owned(),
            updated_by: "demo-data".to_owned(),
            created_at: now,
            updated_at: now,
        };
        libraries::upsert_resource(&mut tx, &resource).await?;
    }
    for report in &dataset.reports {
        let id = report_ids[report.key.as_str()];
        // Figures are written once per report: a report with a fingerprint has them already.
        if figures::fingerprint_of(&mut tx, id).await?.is_some() {
            continue;
        }
        let submission = dataset.submission(report);
        figures::insert_figures(&mut tx, id, &submission.figures, &refs).await?;
        figures::set_fingerprint(&mut tx, id, &fingerprint(&submission)).await?;
    }
    tx.commit().await
}
