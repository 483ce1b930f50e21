//! The domain services: every read and write of the GraphQL layer goes through here.

use std::collections::{HashMap, HashSet};

use chrono::Utc;

use super::access::Caller;
use super::audit::{Audit, AuditEntry, AuditFilter};
use super::figures::Metric;
use super::model::{Agreement, Alliance, Organization, PartialDate, Region, Report, ReportedCount, Source, Subject};
use super::query::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, OrganizationFilter, Page, PageRequest, RegionFilter, ReportFilter,
};
use std::sync::Arc;

use super::summary::{GroupBy, SummaryRow, SummaryScope, Window};
use crate::error::{AppError, AppResult, Problem};
use crate::store::aggregates::{Pool, ResolvedScope};
use crate::store::organizations::OrganizationRecord;
use crate::store::{self, Store, StoreError};

/// Entry point to the domain. Cheap to clone; one per process, shared by all requests.
#[derive(Clone, Debug)]
pub struct Services {
    store: Store,
    aggregates: Arc<super::cache::AggregateCache>,
    /// The uncontested parts of summaries, each with the base version it was computed at
    /// (see `summarize_in_parts`).
    base_parts: Arc<std::sync::Mutex<HashMap<String, BasePart>>>,
    /// Libraries, grants and owners' alliances at a data version (see `library_access`).
    pub(super) library_base: Arc<std::sync::Mutex<Option<VersionedLibraryBase>>>,
    events: Arc<super::events::EventBus>,
}

/// The uncontested part of a summary and the base version it was computed at.
type BasePart = (i64, Arc<Vec<store::aggregates::PartRow>>);

/// The library base and the data version it was read at.
pub(super) type VersionedLibraryBase = (i64, Arc<super::library_services::LibraryBase>);

/// Summaries the aggregate cache holds at most (a summary is a few hundred bytes to a few KB).
const AGGREGATE_CACHE_CAPACITY: usize = 4096;

/// Longest accepted search text.
const MAX_SEARCH_LEN: usize = 100;

/// Checks the shape of a region code: six digits (GB/T 2260), optionally followed by
/// `-slug` segments of lowercase ASCII letters and digits for units below county level.
pub fn is_region_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let head = parts.next().unwrap_or_default();
    head.len() == 6
        && head.bytes().all(|b| b.is_ascii_digit())
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Checks a page request's size and fills in the default.
pub fn page_size(first: Option<i32>, path: &str) -> AppResult<usize> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => Ok(n as usize),
        Some(n) => Err(AppError::bad_input(path, format!("must be between 0 and {MAX_PAGE_SIZE}, got {n}"))),
    }
}

fn search_text(text: Option<String>, path: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let text = text?.trim().to_owned();
    if text.is_empty() {
        problems.push(Problem::new(path, "must not be empty (omit it to match everything)"));
    } else if text.chars().count() > MAX_SEARCH_LEN {
        problems.push(Problem::new(path, format!("must be at most {MAX_SEARCH_LEN} characters")));
    }
    Some(text)
}

fn problems_or<T>(problems: Vec<Problem>, value: T) -> AppResult<T> {
    if problems.is_empty() { Ok(value) } else { Err(AppError::BadUserInput(problems)) }
}

/// What became of a submitted report.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubmitStatus {
    /// A new report was recorded (revision 1).
    Created,
    /// The same content was already recorded; nothing was written.
    Unchanged,
    /// The content differs from the current revision: a new revision supersedes it.
    Revised,
}

/// The report a submission produced (or matched) and what happened.
#[derive(Clone, Debug)]
pub struct SubmitOutcome {
    pub report: Report,
    pub status: SubmitStatus,
}

/// What a client sends to create or replace an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationInput {
    pub key: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: super::model::OrganizationKind,
    pub sector: Option<super::model::OrganizationSector>,
    pub region_code: Option<String>,
    pub parent_id: Option<i64>,
    pub founded: Option<PartialDate>,
    pub members: Option<ReportedCount>,
    pub executives: Option<ReportedCount>,
}

impl Services {
    /// Services over a store.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            aggregates: Arc::new(super::cache::AggregateCache::new(AGGREGATE_CACHE_CAPACITY)),
            base_parts: Arc::default(),
            library_base: Arc::default(),
            events: Arc::default(),
        }
    }

    /// The underlying store (for health checks and tests).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The data version and the next grant expiry: the version is bumped in the same
    /// transaction as every write to data a query can read (triggers, migrations 0006 and
    /// 0008), and grants expiring are the one change to what a caller may see that comes
    /// without a write. What was computed at a version is current while a reader still reads
    /// that version, until that expiry.
    pub async fn freshness(&self) -> AppResult<store::Freshness> {
        Ok(store::freshness(&self.store, chrono::Utc::now()).await?)
    }

    // ---- regions ------------------------------------------------------------------------------

    /// The region with this code; `NOT_FOUND` if none, `BAD_USER_INPUT` if the code is malformed.
    pub async fn region(&self, code: &str) -> AppResult<Region> {
        self.check_region_exists(code, "code").await
    }

    async fn check_region_exists(&self, code: &str, path: &str) -> AppResult<Region> {
        if !is_region_code(code) {
            return Err(AppError::bad_input(
                path,
                format!(
                    "{code:?} is not a region code (six GB/T 2260 digits, e.g. \"110112\", optionally followed by \"-slug\" parts)"
                ),
            ));
        }
        store::regions::by_codes(&self.store, &[code.to_owned()])
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound(format!("no region has code {code}")))
    }

    /// Checks that a region referenced by a filter or input exists, as an input problem.
    async fn check_region_ref(&self, code: &str, path: &str, problems: &mut Vec<Problem>) -> AppResult<()> {
        match self.check_region_exists(code, path).await {
            Ok(_) => Ok(()),
            Err(AppError::NotFound(message)) => {
                problems.push(Problem::new(path, message));
                Ok(())
            }
            Err(AppError::BadUserInput(mut p)) => {
                problems.append(&mut p);
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    /// Regions by code, for loaders; unknown codes are absent.
    pub async fn regions_by_codes(&self, codes: &[String]) -> AppResult<Vec<Region>> {
        Ok(store::regions::by_codes(&self.store, codes).await?)
    }

    /// Children of each region, for loaders.
    pub async fn region_children(&self, parents: &[String]) -> AppResult<Vec<Region>> {
        Ok(store::regions::children_of(&self.store, parents).await?)
    }

    /// Ancestors of each region (nearest first), for loaders.
    pub async fn region_ancestors(&self, codes: &[String]) -> AppResult<Vec<(String, Region)>> {
        Ok(store::regions::ancestors_of(&self.store, codes).await?)
    }

    /// Validates a region filter: referenced regions must exist, texts must be sensible.
    pub async fn check_region_filter(&self, mut filter: RegionFilter, path: &str) -> AppResult<RegionFilter> {
        let mut problems = Vec::new();
        for (field, code) in [("parent", &filter.parent), ("ancestor", &filter.ancestor)] {
            if let Some(code) = code {
                self.check_region_ref(code, &format!("{path}.{field}"), &mut problems).await?;
            }
        }
        filter.name_contains = search_text(filter.name_contains, &format!("{path}.nameContains"), &mut problems);
        problems_or(problems, filter)
    }

    /// A page of regions (the filter must have passed [`Services::check_region_filter`]).
    pub async fn regions(&self, filter: &RegionFilter, page: &PageRequest<String>) -> AppResult<Page<Region>> {
        Ok(store::regions::list(&self.store, filter, page).await?)
    }

    /// How many regions match a (checked) filter.
    pub async fn count_regions(&self, filter: &RegionFilter) -> AppResult<i64> {
        Ok(store::regions::count(&self.store, filter).await?)
    }

    // ---- alliances ----------------------------------------------------------------------------

    /// The alliance with this slug.
    pub async fn alliance(&self, slug: &str) -> AppResult<Alliance> {
        store::alliances::by_slugs(&self.store, &[slug.to_owned()])
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound(format!("no alliance has slug {slug:?}")))
    }

    /// Every alliance, ordered by slug.
    pub async fn alliances(&self) -> AppResult<Vec<Alliance>> {
        Ok(store::alliances::all(&self.store).await?)
    }

    /// Alliances by id, for loaders.
    pub async fn alliances_by_ids(&self, ids: &[i64]) -> AppResult<Vec<Alliance>> {
        Ok(store::alliances::by_ids(&self.store, ids).await?)
    }

    /// Members of each alliance, for loaders.
    pub async fn alliance_members(&self, ids: &[i64]) -> AppResult<Vec<(i64, Region)>> {
        Ok(store::alliances::members_of(&self.store, ids).await?)
    }

    /// Alliances of each region, for loaders.
    pub async fn region_alliances(&self, codes: &[String]) -> AppResult<Vec<(String, Alliance)>> {
        Ok(store::alliances::of_regions(&self.store, codes).await?)
    }

    /// Agreements of each alliance, for loaders.
    pub async fn alliance_agreements(&self, ids: &[i64]) -> AppResult<Vec<Agreement>> {
        Ok(store::alliances::agreements_of(&self.store, ids).await?)
    }

    /// Agreements by id, for loaders.
    pub async fn agreements_by_ids(&self, ids: &[i64]) -> AppResult<Vec<Agreement>> {
        Ok(store::alliances::agreements_by_ids(&self.store, ids).await?)
    }

    /// Parties of each agreement, for loaders.
    pub async fn agreement_parties(&self, ids: &[i64]) -> AppResult<Vec<(i64, Region)>> {
        Ok(store::alliances::parties_of(&self.store, ids).await?)
    }

    // ---- organizations ------------------------------------------------------------------------

    /// The organization with this id.
    pub async fn organization(&self, id: i64) -> AppResult<Organization> {
        store::organizations::by_ids(&self.store, &[id])
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound(format!("no organization has id {id}")))
    }

    /// Organizations by id, for loaders.
    pub async fn organizations_by_ids(&self, ids: &[i64]) -> AppResult<Vec<Organization>> {
        Ok(store::organizations::by_ids(&self.store, ids).await?)
    }

    /// Children of each organization, for loaders.
    pub async fn organization_children(&self, ids: &[i64]) -> AppResult<Vec<Organization>> {
        Ok(store::organizations::children_of(&self.store, ids).await?)
    }

    /// Validates an organization filter.
    pub async fn check_organization_filter(
        &self,
        mut filter: OrganizationFilter,
        path: &str,
    ) -> AppResult<OrganizationFilter> {
        let mut problems = Vec::new();
        if let Some(code) = &filter.region {
            self.check_region_ref(code, &format!("{path}.region"), &mut problems).await?;
        }
        filter.name_contains = search_text(filter.name_contains, &format!("{path}.nameContains"), &mut problems);
        problems_or(problems, filter)
    }

    /// A page of organizations matching a checked filter.
    pub async fn organizations(
        &self,
        filter: &OrganizationFilter,
        page: &PageRequest<i64>,
    ) -> AppResult<Page<Organization>> {
        Ok(store::organizations::list(&self.store, filter, page).await?)
    }

    /// How many organizations match a checked filter.
    pub async fn count_organizations(&self, filter: &OrganizationFilter) -> AppResult<i64> {
        Ok(store::organizations::count_matching(&self.store, filter).await?)
    }

    async fn check_organization_input(&self, input: &OrganizationInput, path: &str) -> AppResult<OrganizationRecord> {
        let mut problems = Vec::new();
        let key_ok = !input.key.is_empty()
            && input.key.len() <= 100
            && input.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !key_ok {
            problems.push(Problem::new(
                format!("{path}.key"),
                "must be 1–100 characters of lowercase ASCII letters, digits and hyphens",
            ));
        }
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            problems.push(Problem::new(format!("{path}.name"), "must be 1–200 characters"));
        }
        let short_name = input.short_name.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if short_name.as_ref().is_some_and(|s| s.chars().count() > 100) {
            problems.push(Problem::new(format!("{path}.shortName"), "must be at most 100 characters"));
        }
        if let Some(code) = &input.region_code {
            self.check_region_ref(code, &format!("{path}.regionCode"), &mut problems).await?;
        }
        if let Some(parent) = input.parent_id
            && store::organizations::by_ids(&self.store, &[parent]).await?.is_empty()
        {
            problems.push(Problem::new(format!("{path}.parent"), format!("no organization has id {parent}")));
        }
        if let Some(founded) = input.founded {
            if founded.date > Utc::now().date_naive() {
                problems.push(Problem::new(format!("{path}.founded.date"), "must not be in the future"));
            }
            if founded.date != founded.precision_start() {
                problems.push(Problem::new(
                    format!("{path}.founded.date"),
                    "must be the first day of the month (precision MONTH) or of the year (precision YEAR)",
                ));
            }
        }
        for (field, count) in [("memberCount", input.members), ("executiveCount", input.executives)] {
            if let Some(Err(message)) = count.map(|c| super::figures::check_count(c.value)) {
                problems.push(Problem::new(format!("{path}.{field}.value"), message));
            }
        }
        problems_or(
            problems,
            OrganizationRecord {
                key: input.key.clone(),
                name,
                short_name,
                kind: input.kind,
                sector: input.sector,
                region_code: input.region_code.clone(),
                parent_id: input.parent_id,
                founded: input.founded,
                members: input.members,
                executives: input.executives,
            },
        )
    }

    /// Checks that an EDITOR confined to `root` may write data located in `region`.
    pub(super) async fn check_region_writable(
        &self,
        root: Option<&str>,
        region: Option<&str>,
        what: &str,
    ) -> AppResult<()> {
        let Some(root) = root else { return Ok(()) };
        match region {
            Some(code) if store::regions::is_within(&self.store, root, code).await? => Ok(()),
            Some(code) => Err(AppError::Forbidden(format!(
                "{what}: region {code} is outside region {root}, the only subtree this editor may write"
            ))),
            None => Err(AppError::Forbidden(format!(
                "{what}: an organization without a region can only be written by an ADMIN"
            ))),
        }
    }

    /// Checks that an EDITOR confined to `root` may attach something to `organization` (as its
    /// parent, provider or curator): the organization then lists it as its own, so the
    /// organization's region must be writable too. `role` names the link in the refusal.
    pub(super) async fn check_organization_writable(
        &self,
        root: Option<&str>,
        organization: Option<i64>,
        what: &str,
        role: &str,
    ) -> AppResult<()> {
        let (Some(_), Some(id)) = (root, organization) else { return Ok(()) };
        // An unknown organization was reported by the input check.
        let Some(organization) = store::organizations::by_ids(&self.store, &[id]).await?.into_iter().next() else {
            return Ok(());
        };
        self.check_region_writable(root, organization.region_code.as_deref(), &format!("{what} (its {role})")).await
    }

    /// Creates an organization. Re-submitting the same input returns the existing organization;
    /// reusing its key with different data is a `CONFLICT`. EDITORs create only in their subtree.
    pub async fn create_organization(&self, caller: &Caller, input: &OrganizationInput) -> AppResult<Organization> {
        let mut audit = Audit::start(caller, "createOrganization", format!("organization key={}", input.key));
        let result = self.create_organization_audited(caller, input, &mut audit).await;
        audit.finish(&self.store, result).await
    }

    async fn create_organization_audited(
        &self,
        caller: &Caller,
        input: &OrganizationInput,
        audit: &mut Audit,
    ) -> AppResult<Organization> {
        let root = caller.writable_root("createOrganization")?;
        let record = self.check_organization_input(input, "input").await?;
        self.check_region_writable(root, record.region_code.as_deref(), "createOrganization").await?;
        self.check_organization_writable(root, record.parent_id, "createOrganization", "parent").await?;
        if let Some(existing) = store::organizations::by_key(&self.store, &record.key).await? {
            audit.target(format!("organization id={} key={}", existing.id, existing.key));
            return if record_of(&existing) == record { Ok(existing) } else { Err(conflict_on_key(&record.key)) };
        }
        let mut tx = self.store.begin().await?;
        let id = store::organizations::insert(&mut tx, &record).await.map_err(|e| match e {
            StoreError::Constraint { .. } => conflict_on_key(&record.key),
            other => other.into(),
        })?;
        audit.target(format!("organization id={id} key={}", record.key));
        audit.commit(tx).await?;
        self.organization(id).await
    }

    /// Replaces an organization's fields. The key may not change; the parent may not be the
    /// organization itself or one of its descendants. EDITORs may only move data within
    /// their subtree.
    pub async fn update_organization(
        &self,
        caller: &Caller,
        id: i64,
        input: &OrganizationInput,
    ) -> AppResult<Organization> {
        let mut audit = Audit::start(caller, "updateOrganization", format!("organization id={id}"));
        let result = self.update_organization_audited(caller, id, input, &mut audit).await;
        audit.finish(&self.store, result).await
    }

    async fn update_organization_audited(
        &self,
        caller: &Caller,
        id: i64,
        input: &OrganizationInput,
        audit: &mut Audit,
    ) -> AppResult<Organization> {
        let root = caller.writable_root("updateOrganization")?;
        let existing = self.organization(id).await?;
        audit.target(format!("organization id={id} key={}", existing.key));
        self.check_region_writable(root, existing.region_code.as_deref(), "updateOrganization").await?;
        let record = self.check_organization_input(input, "input").await?;
        self.check_region_writable(root, record.region_code.as_deref(), "updateOrganization").await?;
        if record.parent_id != existing.parent_id {
            self.check_organization_writable(root, record.parent_id, "updateOrganization", "parent").await?;
        }
        if record.key != existing.key {
            return Err(AppError::bad_input("input.key", format!("cannot change; it is {:?}", existing.key)));
        }
        if record_of(&existing) == record {
            return Ok(existing);
        }
        let mut tx = self.store.begin().await?;
        if let Some(parent) = record.parent_id
            && store::organizations::is_self_or_ancestor(&mut tx, id, parent).await?
        {
            return Err(AppError::bad_input("input.parent", "would make the organization its own ancestor"));
        }
        store::organizations::update(&mut tx, id, &record).await?;
        audit.commit(tx).await?;
        self.organization(id).await
    }

    /// Records a mutation attempt that no service recorded: refused before reaching one
    /// (malformed arguments, unstorable text, a document that fails validation) with its
    /// error code and message, or — never expected — one that succeeded unrecorded.
    pub async fn record_unaudited_attempt(
        &self,
        caller: &Caller,
        operation: &str,
        target: &str,
        refused: Option<(&str, &str)>,
    ) {
        let audit = Audit::start(caller, operation, target);
        match refused {
            Some((code, message)) => audit.record_refusal(&self.store, code, message).await,
            None => {
                tracing::error!(operation, "a mutation succeeded without an audit entry; recording it now");
                let _ = audit.finish(&self.store, Ok(())).await;
            }
        }
    }

    /// Records mutations refused before they could run (e.g. an invalid token).
    pub async fn record_refused_mutation(&self, operations: &[String], reason: &str) {
        for operation in operations {
            let audit = Audit::start(&Caller::anonymous(), operation, "(not resolved: request refused)");
            let _ = audit.finish::<()>(&self.store, Err(AppError::Unauthenticated(reason.to_owned()))).await;
        }
    }

    /// This process's event bus (subscriptions read from it).
    pub fn events(&self) -> &super::events::EventBus {
        &self.events
    }

    /// On PostgreSQL: forwards other replicas' events to this process's subscribers, for as
    /// long as the process runs (reconnecting after errors); returns once listening (or after
    /// 5 s of trying, with a warning). Nothing to do on SQLite.
    pub async fn listen_for_events(&self) {
        let Some(listener) = store::events::Listener::new(&self.store) else { return };
        let (events, origin) = (self.events.clone(), self.events.origin());
        let (ready, listening) = tokio::sync::oneshot::channel();
        tokio::spawn(listener.run(
            move |event| {
                if event.origin != origin {
                    events.publish(event);
                }
            },
            ready,
        ));
        if tokio::time::timeout(std::time::Duration::from_secs(5), listening).await.is_err() {
            tracing::warn!("not yet listening for other replicas' events; still trying");
        }
    }

    /// Runs a dashboard summary of `spec` over a scope and window.
    pub async fn summarize(
        &self,
        spec: &crate::store::aggregates::Spec,
        scope: &SummaryScope,
        window: Window,
        group: GroupBy,
    ) -> AppResult<Vec<SummaryRow>> {
        if let (Some(from), Some(to)) = (window.from, window.to)
            && to < from
        {
            return Err(AppError::bad_input("period.to", format!("{to} is before period.from {from}")));
        }
        let version = store::data_version(&self.store).await?;
        let key = format!("{spec:?}|{scope:?}|{window:?}|{group:?}");
        let cell = self.aggregates.cell(&key, version);
        let rows = cell
            .get_or_try_init(|| async { self.summarize_uncached(spec, scope, window, group).await.map(Arc::new) })
            .await?;
        Ok(rows.as_ref().clone())
    }

    /// Computes a summary in SQL (see `summarize`, which caches).
    async fn summarize_uncached(
        &self,
        spec: &crate::store::aggregates::Spec,
        scope: &SummaryScope,
        window: Window,
        group: GroupBy,
    ) -> AppResult<Vec<SummaryRow>> {
        let resolved = self.resolve_scope(scope, group).await?;
        // The sums and the scope's size are independent: read both at once.
        let rows = async {
            if spec.fast_path {
                self.summarize_in_parts(spec, &resolved, window, group.grouping()).await
            } else {
                summarize_whole(&self.store, spec, &resolved, window, group.grouping()).await
            }
        };
        let (rows, sizes) = tokio::try_join!(rows, store::aggregates::scope_sizes(&self.store, &resolved))?;
        let all: i64 = sizes.iter().map(|(_, n)| n).sum();
        Ok(rows
            .into_iter()
            .map(|row| {
                let total = if group.region {
                    sizes
                        .iter()
                        .find(|(r, _)| *r == row.keys.region && row.keys.region.is_some())
                        .map_or(all, |(_, n)| *n)
                } else {
                    all
                };
                SummaryRow::from_row(row, total, window, group)
            })
            .collect())
    }

    /// The regions (and alliance) a summary's scope covers; `BAD_USER_INPUT` for an unknown one.
    async fn resolve_scope(&self, scope: &SummaryScope, group: GroupBy) -> AppResult<ResolvedScope> {
        Ok(match (&scope.region, &scope.alliance) {
            (Some(code), None) => {
                self.check_region_exists(code, "scope.region").await.map_err(|e| match e {
                    AppError::NotFound(m) => AppError::bad_input("scope.region", m),
                    other => other,
                })?;
                ResolvedScope {
                    roots: vec![code.clone()],
                    include_descendants: scope.include_descendants,
                    alliance_id: None,
                    group_parent: group.region.then(|| code.clone()),
                }
            }
            (None, Some(slug)) => {
                let alliance = self.alliance(slug).await.map_err(|e| match e {
                    AppError::NotFound(m) => AppError::bad_input("scope.alliance", m),
                    other => other,
                })?;
                let members = store::alliances::members_of(&self.store, &[alliance.id]).await?;
                let roots = members.into_iter().map(|(_, r)| r.code).collect();
                ResolvedScope {
                    roots,
                    include_descendants: scope.include_descendants,
                    alliance_id: Some(alliance.id),
                    group_parent: None,
                }
            }
            _ => return Err(AppError::bad_input("scope", "give exactly one of region or alliance")),
        })
    }

    /// Why a summary's numbers are what they are: every candidate figure with the row it
    /// belongs to and what the rules decided about each of its measures (`summary::rules`).
    pub async fn explain(
        &self,
        spec: &crate::store::aggregates::Spec,
        scope: &SummaryScope,
        window: Window,
        group: GroupBy,
    ) -> AppResult<Vec<super::summary::rules::Decision>> {
        let resolved = self.resolve_scope(scope, group).await?;
        let grouping = group.grouping();
        let period = (window.from, window.to);
        let limit = super::summary::rules::MAX_FIGURES;
        let (_, pool, ancestry) =
            store::aggregates::pool(&self.store, spec, &resolved, period, Pool::All, Some(limit + 1)).await?;
        if pool.len() > limit {
            return Err(AppError::OutOfRange(format!(
                "explain lists at most {limit} figures and this summary has more; narrow its scope, period or \
                 category (the numbers themselves are not limited)"
            )));
        }
        Ok(super::summary::rules::decide(spec, &resolved, grouping, &pool, &ancestry).decisions())
    }

    /// A summary of a table with the `contested` flag, in two parts: the contested figures
    /// through the rules (few; every time), and the uncontested ones summed directly (the
    /// bulk), reused while the base version — bumped by every write that changes what that
    /// part reads (migration 0009) — stays the same. The contested pool is read with the base
    /// version in one statement, and the parts are merged only when the uncontested one was
    /// computed at that same version, so a sum never mixes two states of the data.
    async fn summarize_in_parts(
        &self,
        spec: &crate::store::aggregates::Spec,
        scope: &ResolvedScope,
        window: Window,
        grouping: crate::store::aggregates::Grouping,
    ) -> crate::store::StoreResult<Vec<crate::store::aggregates::Row>> {
        use crate::store::aggregates::{merge, uncontested_part};
        let key = format!("{spec:?}|{scope:?}|{window:?}|{grouping:?}");
        let (from, to) = (window.from, window.to);
        for _ in 0..3 {
            let (base, contested) = contested_part(&self.store, spec, scope, window, grouping).await?;
            let cached = self.lock_base_parts().get(&key).filter(|(b, _)| *b == base).map(|(_, rows)| rows.clone());
            let uncontested = match cached {
                Some(rows) => rows,
                None => {
                    let (at, rows) = uncontested_part(&self.store, spec, scope, from, to, grouping).await?;
                    let rows = Arc::new(rows);
                    let mut parts = self.lock_base_parts();
                    if parts.len() >= AGGREGATE_CACHE_CAPACITY {
                        parts.clear();
                    }
                    parts.insert(key.clone(), (at, rows.clone()));
                    drop(parts);
                    if at != base {
                        // The uncontested figures changed between the two statements: again.
                        continue;
                    }
                    rows
                }
            };
            let all = contested.into_iter().chain(uncontested.iter().cloned());
            return Ok(merge(grouping, all));
        }
        // Writes kept changing the uncontested figures: every figure through the rules, read
        // in one statement.
        summarize_whole(&self.store, spec, scope, window, grouping).await
    }

    fn lock_base_parts(&self) -> std::sync::MutexGuard<'_, HashMap<String, BasePart>> {
        self.base_parts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks a figure list filter's references.
    pub async fn check_figure_filter(
        &self,
        filter: &crate::store::figure_lists::FigureFilter,
        path: &str,
    ) -> AppResult<()> {
        let mut problems = Vec::new();
        if let Some(code) = &filter.region {
            self.check_region_ref(code, &format!("{path}.region"), &mut problems).await?;
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && to < from
        {
            problems.push(Problem::new(format!("{path}.to"), format!("{to} is before {from}")));
        }
        problems_or(problems, ())
    }

    /// A page of job fairs matching a checked filter.
    pub async fn job_fairs(
        &self,
        filter: &crate::store::figure_lists::FigureFilter,
        page: &PageRequest<i64>,
        with_total: bool,
    ) -> AppResult<(Page<crate::store::figure_lists::JobFairRow>, i64)> {
        let total = if with_total { store::figure_lists::count_job_fairs(&self.store, filter).await? } else { 0 };
        Ok((store::figure_lists::job_fairs(&self.store, filter, page).await?, total))
    }

    /// The first job fairs of each region (held or co-hosted), and how many each has when asked.
    pub async fn job_fairs_of_regions(
        &self,
        regions: &[String],
        page: &PageRequest<i64>,
        with_total: bool,
    ) -> AppResult<(Vec<(String, crate::store::figure_lists::JobFairRow)>, Vec<(String, i64)>)> {
        let rows = store::figure_lists::job_fairs_of_regions(&self.store, regions, page.first, page.after).await?;
        let totals = if with_total {
            store::figure_lists::count_job_fairs_of_regions(&self.store, regions).await?
        } else {
            Vec::new()
        };
        Ok((rows, totals))
    }

    /// A page of case statistics matching a checked filter.
    pub async fn case_statistics(
        &self,
        filter: &crate::store::figure_lists::FigureFilter,
        page: &PageRequest<i64>,
        with_total: bool,
    ) -> AppResult<(Page<crate::store::figure_lists::CaseStatisticRow>, i64)> {
        let total = if with_total { store::figure_lists::count_case_statistics(&self.store, filter).await? } else { 0 };
        Ok((store::figure_lists::case_statistics(&self.store, filter, page).await?, total))
    }

    /// Organization counts of each report, for loaders.
    pub async fn organization_counts_of(
        &self,
        reports: &[i64],
    ) -> AppResult<Vec<store::figure_lists::OrganizationCountRow>> {
        Ok(store::figure_lists::organization_counts_of(&self.store, reports).await?)
    }

    /// Plan indicators of each report, for loaders.
    pub async fn plan_indicators_of(&self, reports: &[i64]) -> AppResult<Vec<store::figure_lists::PlanIndicatorRow>> {
        Ok(store::figure_lists::plan_indicators_of(&self.store, reports).await?)
    }

    /// Metric figures of each report, for loaders.
    pub async fn metric_figures_of(&self, reports: &[i64]) -> AppResult<Vec<store::figure_lists::MetricFigureRow>> {
        Ok(store::figure_lists::metric_figures_of(&self.store, reports).await?)
    }

    /// A page of figures of every kind matching a checked filter.
    pub async fn any_figures(
        &self,
        filter: &store::figure_lists::AnyFigureFilter,
        page: &PageRequest<(i64, i64)>,
        with_total: bool,
    ) -> AppResult<(Page<store::figure_lists::AnyFigureRow>, i64)> {
        let total = if with_total { store::figure_lists::count_any_figures(&self.store, filter).await? } else { 0 };
        Ok((store::figure_lists::any_figures(&self.store, filter, page).await?, total))
    }

    /// The figures of this kind with these rows (those that exist).
    pub async fn figures(
        &self,
        kind: store::figure_lists::FigureKind,
        ids: &[i64],
    ) -> AppResult<Vec<store::figure_lists::AnyFigureRow>> {
        Ok(store::figure_lists::figures_by_ids(&self.store, kind, ids).await?)
    }

    /// The catalog entry of a metric; `BAD_USER_INPUT` if unknown.
    pub async fn metric(&self, code: &str) -> AppResult<Metric> {
        self.metrics()
            .await?
            .into_iter()
            .find(|m| m.code == code)
            .ok_or_else(|| AppError::bad_input("metric", format!("{code:?} is not in the metric catalog")))
    }

    /// The metric catalog.
    pub async fn metrics(&self) -> AppResult<Vec<Metric>> {
        Ok(store::figures::all_metrics(&self.store).await?)
    }

    // ---- audit log ----------------------------------------------------------------------------

    /// A page of the audit log, newest first. ADMIN only.
    pub async fn audit_log(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        page: &PageRequest<i64>,
    ) -> AppResult<Page<AuditEntry>> {
        caller.require_admin("auditLog")?;
        Ok(store::audit::list(&self.store, filter, page).await?)
    }

    /// How many audit entries match. ADMIN only.
    pub async fn count_audit_log(&self, caller: &Caller, filter: &AuditFilter) -> AppResult<i64> {
        caller.require_admin("auditLog")?;
        Ok(store::audit::count(&self.store, filter).await?)
    }

    // ---- reports and provenance ---------------------------------------------------------------

    /// The report with this id.
    pub async fn report(&self, id: i64) -> AppResult<Report> {
        store::reports::by_ids(&self.store, &[id])
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound(format!("no report has id {id}")))
    }

    /// Reports by id, for loaders.
    pub async fn reports_by_ids(&self, ids: &[i64]) -> AppResult<Vec<Report>> {
        Ok(store::reports::by_ids(&self.store, ids).await?)
    }

    /// Validates a report filter.
    pub async fn check_report_filter(&self, mut filter: ReportFilter, path: &str) -> AppResult<ReportFilter> {
        let mut problems = Vec::new();
        if let Some(code) = &filter.region {
            self.check_region_ref(code, &format!("{path}.region"), &mut problems).await?;
        }
        filter.title_contains = search_text(filter.title_contains, &format!("{path}.titleContains"), &mut problems);
        problems_or(problems, filter)
    }

    /// A page of reports matching a checked filter.
    pub async fn reports(&self, filter: &ReportFilter, page: &PageRequest<i64>) -> AppResult<Page<Report>> {
        Ok(store::reports::list(&self.store, filter, page).await?)
    }

    /// How many reports match a checked filter.
    pub async fn count_reports(&self, filter: &ReportFilter) -> AppResult<i64> {
        Ok(store::reports::count(&self.store, filter).await?)
    }

    /// Sources of each subject, for loaders.
    pub async fn sources(&self, subjects: &[Subject]) -> AppResult<Vec<(Subject, Source)>> {
        let unique: Vec<Subject> = subjects.iter().cloned().collect::<HashSet<_>>().into_iter().collect();
        Ok(store::sources::of_subjects(&self.store, &unique).await?)
    }
}

fn conflict_on_key(key: &str) -> AppError {
    AppError::Conflict(format!(
        "an organization with key {key:?} already exists with different data; use updateOrganization to change it"
    ))
}

fn record_of(o: &Organization) -> OrganizationRecord {
    OrganizationRecord {
        key: o.key.clone(),
        name: o.name.clone(),
        short_name: o.short_name.clone(),
        kind: o.kind,
        sector: o.sector,
        region_code: o.region_code.clone(),
        parent_id: o.parent_id,
        founded: o.founded,
        members: o.members,
        executives: o.executives,
    }
}

/// The contested part of a summary: its contested candidates through the rules, down to
/// (row, region, report), with the base version they were read at.
async fn contested_part(
    store: &store::Store,
    spec: &crate::store::aggregates::Spec,
    scope: &ResolvedScope,
    window: Window,
    grouping: crate::store::aggregates::Grouping,
) -> crate::store::StoreResult<(i64, Vec<store::aggregates::PartRow>)> {
    let (base, pool, ancestry) =
        store::aggregates::pool(store, spec, scope, (window.from, window.to), Pool::Contested, None).await?;
    Ok((base, super::summary::rules::decide(spec, scope, grouping, &pool, &ancestry).part_rows(base)))
}

/// A summary with every candidate through the rules, read in one statement: for tables
/// without the `contested` flag, and as the reference the two-part computation must equal.
pub async fn summarize_whole(
    store: &store::Store,
    spec: &crate::store::aggregates::Spec,
    scope: &ResolvedScope,
    window: Window,
    grouping: crate::store::aggregates::Grouping,
) -> crate::store::StoreResult<Vec<store::aggregates::Row>> {
    let (base, pool, ancestry) =
        store::aggregates::pool(store, spec, scope, (window.from, window.to), Pool::All, None).await?;
    let parts = super::summary::rules::decide(spec, scope, grouping, &pool, &ancestry).part_rows(base);
    Ok(store::aggregates::merge(grouping, parts))
}

/// [`Services::summarize_in_parts`] without its cache: the contested part through the rules
/// and the uncontested part summed, merged (for tests holding it to [`summarize_whole`]).
pub async fn summarize_in_parts_uncached(
    store: &store::Store,
    spec: &crate::store::aggregates::Spec,
    scope: &ResolvedScope,
    window: Window,
    grouping: crate::store::aggregates::Grouping,
) -> crate::store::StoreResult<(i64, i64, Vec<store::aggregates::Row>)> {
    let (b1, contested) = contested_part(store, spec, scope, window, grouping).await?;
    let (b2, uncontested) =
        store::aggregates::uncontested_part(store, spec, scope, window.from, window.to, grouping).await?;
    Ok((b1, b2, store::aggregates::merge(grouping, contested.into_iter().chain(uncontested))))
}
