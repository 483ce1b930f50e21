//! The services of resource libraries: every read goes through the caller's access, computed
//! here once per call; contact details are masked where the caller may not see them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Services;
use super::access::Caller;
use super::audit::Audit;
use super::libraries::{Access, AccessMap, Grant, Grantee, Library, Owner, Permission, Resource, Standing, access};
use super::query::{Page, PageRequest};
use crate::error::{AppError, AppResult};
use crate::store::{self, libraries::ResourceQuery};

/// Which resources to list.
#[derive(Clone, Debug, Default)]
pub struct ResourceFilter {
    pub library: Option<i64>,
    pub category: Option<i64>,
    pub kinds: Vec<String>,
    pub region: Option<String>,
    pub search: Option<String>,
    /// Only resources of libraries shared with the caller (not owned by them).
    pub shared_with_me: bool,
    /// Only the resource with this id.
    pub id: Option<i64>,
}

/// Libraries, grants and the alliances of each library's owner: the caller-independent part.
#[derive(Debug)]
pub struct LibraryBase {
    libraries: Vec<Library>,
    grants: Vec<Grant>,
    owner_alliances: HashMap<i64, HashSet<i64>>,
    /// Per library, the regions whose editors write it: its owner region and the regions
    /// above it, or its alliance's members and the regions above them.
    stewards: HashMap<i64, HashSet<String>>,
}

/// The libraries, what the caller may do with each, all grants, and where the caller stands.
pub struct LibraryView {
    pub libraries: Vec<Library>,
    pub access: AccessMap,
    pub grants: Vec<Grant>,
    pub standing: Standing,
}

impl LibraryView {
    /// Whether the caller's region (or an alliance it takes part in) owns the library.
    fn owns(&self, library: &Library) -> bool {
        match &library.owner {
            Owner::Region(code) => self.standing.regions.contains(code),
            Owner::Alliance(id) => self.standing.alliances.contains(id),
        }
    }

    /// The libraries the caller may read; with `shared_with_me`, only those others share with
    /// the caller (through partnership or a grant), neither owned nor public.
    fn readable(&self, shared_with_me: bool) -> impl Iterator<Item = &Library> {
        self.libraries.iter().filter(move |l| {
            self.access.get(&l.id).is_some_and(|a| a.read)
                && (!shared_with_me || (!self.owns(l) && l.visibility != super::libraries::Visibility::Public))
        })
    }
}

/// A resource as the caller may see it.
#[derive(Clone, Debug)]
pub struct VisibleResource {
    pub resource: Resource,
    /// Whether the contact details were withheld.
    pub masked: bool,
}

impl Services {
    /// The caller's region with its ancestors, and the alliances those take part in.
    pub async fn standing(&self, caller: &Caller) -> AppResult<Standing> {
        let Some(region) = caller.principal().and_then(|p| p.region.clone()) else { return Ok(Standing::default()) };
        let mut regions: HashSet<String> = store::regions::ancestors_of(self.store(), std::slice::from_ref(&region))
            .await?
            .into_iter()
            .map(|(_, r)| r.code)
            .collect();
        regions.insert(region);
        let list: Vec<String> = regions.iter().cloned().collect();
        let alliances =
            store::alliances::of_regions(self.store(), &list).await?.into_iter().map(|(_, a)| a.id).collect();
        Ok(Standing { regions, alliances })
    }

    /// Every library, every grant, and the alliances each library's owner takes part in:
    /// what access is computed from, read once per data version (every write to libraries,
    /// grants, alliances or regions bumps it) and shared by all requests.
    async fn library_base(&self) -> AppResult<Arc<LibraryBase>> {
        let version = store::data_version(self.store()).await?;
        if let Some((v, base)) = self.library_base.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref()
            && *v >= version
        {
            return Ok(base.clone());
        }
        let libraries = store::libraries::all(self.store()).await?;
        let grants = store::libraries::grants(self.store()).await?;
        // The alliances of each owner region (through it or any region above it).
        let owners: Vec<String> = libraries
            .iter()
            .filter_map(|l| match &l.owner {
                Owner::Region(code) => Some(code.clone()),
                Owner::Alliance(_) => None,
            })
            .collect();
        let mut lineage: HashMap<String, Vec<String>> = owners.iter().map(|o| (o.clone(), vec![o.clone()])).collect();
        for (code, ancestor) in store::regions::ancestors_of(self.store(), &owners).await? {
            lineage.entry(code).or_default().push(ancestor.code);
        }
        let all: Vec<String> = lineage.values().flatten().cloned().collect();
        let mut memberships: HashMap<String, HashSet<i64>> = HashMap::new();
        for (code, alliance) in store::alliances::of_regions(self.store(), &all).await? {
            memberships.entry(code).or_default().insert(alliance.id);
        }
        let owner_alliances = libraries
            .iter()
            .map(|l| {
                let set: HashSet<i64> = match &l.owner {
                    Owner::Region(code) => lineage
                        .get(code)
                        .into_iter()
                        .flatten()
                        .flat_map(|r| memberships.get(r).into_iter().flatten().copied())
                        .collect(),
                    Owner::Alliance(_) => HashSet::new(),
                };
                (l.id, set)
            })
            .collect();
        // Writers come from above: the owner's region (or an alliance member) or a region above it.
        let alliance_ids: Vec<i64> = libraries
            .iter()
            .filter_map(|l| match l.owner {
                Owner::Alliance(id) => Some(id),
                Owner::Region(_) => None,
            })
            .collect();
        let members = store::alliances::members_of(self.store(), &alliance_ids).await?;
        let member_codes: Vec<String> = members.iter().map(|(_, r)| r.code.clone()).collect();
        let member_lineage = self.lineages(&member_codes).await?;
        let stewards = libraries
            .iter()
            .map(|l| {
                let set: HashSet<String> = match &l.owner {
                    Owner::Region(code) => lineage.get(code).into_iter().flatten().cloned().collect(),
                    Owner::Alliance(id) => members
                        .iter()
                        .filter(|(a, _)| a == id)
                        .flat_map(|(_, r)| member_lineage.get(&r.code).into_iter().flatten().cloned())
                        .collect(),
                };
                (l.id, set)
            })
            .collect();
        let base = Arc::new(LibraryBase { libraries, grants, owner_alliances, stewards });
        *self.library_base.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((version, base.clone()));
        Ok(base)
    }

    /// Each region with the regions above it (itself included): whose editors write its data.
    async fn lineages(&self, codes: &[String]) -> AppResult<HashMap<String, HashSet<String>>> {
        let mut lineage: HashMap<String, HashSet<String>> =
            codes.iter().map(|c| (c.clone(), HashSet::from([c.clone()]))).collect();
        for (code, ancestor) in store::regions::ancestors_of(self.store(), codes).await? {
            lineage.entry(code).or_default().insert(ancestor.code);
        }
        Ok(lineage)
    }

    /// Every library with the caller's access to it, all grants, and the caller's standing.
    pub async fn library_access(&self, caller: &Caller) -> AppResult<LibraryView> {
        let base = self.library_base().await?;
        let standing = self.standing(caller).await?;
        let now = Utc::now();
        let (none, no_region) = (HashSet::new(), HashSet::new());
        let map = base
            .libraries
            .iter()
            .map(|l| {
                let owner_alliances = base.owner_alliances.get(&l.id).unwrap_or(&none);
                let stewards = base.stewards.get(&l.id).unwrap_or(&no_region);
                (l.id, access(caller, &standing, l, owner_alliances, stewards, &base.grants, now))
            })
            .collect();
        Ok(LibraryView { libraries: base.libraries.clone(), access: map, grants: base.grants.clone(), standing })
    }

    /// The libraries the caller may read, by id; with `shared_with_me`, only those shared with
    /// the caller by others (through partnership or a grant).
    pub async fn resource_libraries(&self, caller: &Caller, shared_with_me: bool) -> AppResult<Vec<(Library, Access)>> {
        let view = self.library_access(caller).await?;
        let listed: HashSet<i64> = view.readable(shared_with_me).map(|l| l.id).collect();
        let LibraryView { libraries, access, .. } = view;
        Ok(libraries
            .into_iter()
            .filter(|l| listed.contains(&l.id))
            .map(|l| {
                let a = access[&l.id];
                (l, a)
            })
            .collect())
    }

    /// One library the caller may read; `NOT_FOUND` otherwise (existence is not revealed).
    pub async fn resource_library(&self, caller: &Caller, id: i64) -> AppResult<(Library, Access)> {
        let LibraryView { libraries, access, .. } = self.library_access(caller).await?;
        libraries
            .into_iter()
            .find(|l| l.id == id && access.get(&id).is_some_and(|a| a.read))
            .map(|l| (l, access[&id]))
            .ok_or_else(|| AppError::NotFound(format!("no resource library has id {id}")))
    }

    /// Grants of each library, for loaders (the GraphQL layer shows them only to managers).
    pub async fn grants_of(&self, libraries: &[i64]) -> AppResult<Vec<Grant>> {
        Ok(store::libraries::grants_of(self.store(), libraries).await?)
    }

    /// Categories of each library, for loaders: (id, library, parent, name).
    pub async fn categories_of(&self, libraries: &[i64]) -> AppResult<Vec<(i64, i64, Option<i64>, String)>> {
        Ok(store::libraries::categories(self.store(), libraries).await?)
    }

    /// A page of resources the caller may read, contact details masked where they may not
    /// see them. Returns each resource with its cursor key.
    pub async fn resources(
        &self,
        caller: &Caller,
        filter: &ResourceFilter,
        page: &PageRequest<i64>,
        with_total: bool,
    ) -> AppResult<(Page<(i64, VisibleResource)>, i64)> {
        let view = self.library_access(caller).await?;
        let mut readable: Vec<i64> = view.readable(filter.shared_with_me).map(|l| l.id).collect();
        if let Some(library) = filter.library {
            if !readable.contains(&library) {
                return Err(AppError::bad_input("filter.library", format!("no resource library has id {library}")));
            }
            readable = vec![library];
        }
        if let Some(code) = &filter.region {
            self.region(code).await.map_err(|e| match e {
                AppError::NotFound(m) => AppError::bad_input("filter.region", m),
                other => other,
            })?;
        }
        let search = filter.search.as_ref().map(|s| s.trim().to_owned());
        if search.as_ref().is_some_and(|s| s.is_empty() || s.chars().count() > 100) {
            return Err(AppError::bad_input("filter.search", "must be 1–100 characters"));
        }
        let query = ResourceQuery {
            libraries: readable,
            directory: filter.library.is_none() && !filter.shared_with_me,
            search,
            category: filter.category,
            kinds: filter.kinds.clone(),
            region: filter.region.clone(),
            id: filter.id,
        };
        let total = if with_total { store::libraries::count_resources(self.store(), &query).await? } else { 0 };
        let found = store::libraries::resources(self.store(), &query, page).await?;
        let editor = caller.role() >= Some(super::access::Role::Editor);
        // Directory entries' contacts are for the editors of their region's subtree: by lineage.
        let caller_region = caller.principal().and_then(|p| p.region.clone());
        let directory_regions: Vec<String> = found
            .items
            .iter()
            .filter(|(_, r)| r.library_id.is_none())
            .filter_map(|(_, r)| r.region_code.clone())
            .collect();
        let directory_lineage = if editor && caller_region.is_some() && !directory_regions.is_empty() {
            self.lineages(&directory_regions).await?
        } else {
            HashMap::new()
        };
        let items = found
            .items
            .into_iter()
            .map(|(key, mut resource)| {
                let contacts =
                    match resource.library_id {
                        Some(id) => view.access.get(&id).is_some_and(|a| a.contacts),
                        // Directory entries: the resource's own region's editors (and ADMIN).
                        None => {
                            caller.role() == Some(super::access::Role::Admin)
                                || editor
                                    && resource.region_code.as_ref().and_then(|r| directory_lineage.get(r)).is_some_and(
                                        |writers| caller_region.as_ref().is_some_and(|c| writers.contains(c)),
                                    )
                        }
                    };
                let masked = !contacts && resource.contact != Default::default();
                if !contacts {
                    resource.contact = Default::default();
                }
                (key, VisibleResource { resource, masked })
            })
            .collect();
        Ok((Page { items, has_next_page: found.has_next_page }, total))
    }

    /// Shares a library with a region or an alliance. Only those who manage the library.
    pub async fn grant_library(
        &self,
        caller: &Caller,
        library: i64,
        grantee: &Grantee,
        permission: Permission,
        expires_at: Option<DateTime<Utc>>,
    ) -> AppResult<Grant> {
        let mut audit = Audit::start(caller, "grantLibraryAccess", format!("library id={library}"));
        let result = async {
            self.manageable(caller, library, "grantLibraryAccess").await?;
            match grantee {
                Grantee::Region(code) => {
                    self.region(code).await.map_err(|e| match e {
                        AppError::NotFound(m) => AppError::bad_input("grantee.region", m),
                        other => other,
                    })?;
                }
                Grantee::Alliance(id) => {
                    if self.alliances_by_ids(&[*id]).await?.is_empty() {
                        return Err(AppError::bad_input("grantee.alliance", "no such alliance"));
                    }
                }
            }
            let now = Utc::now();
            if expires_at.is_some_and(|e| e <= now) {
                return Err(AppError::bad_input("expiresAt", "must be in the future"));
            }
            let mut tx = self.store().begin().await?;
            let id = store::libraries::insert_grant(
                &mut tx,
                library,
                grantee,
                permission,
                &caller.describe(),
                now,
                expires_at,
            )
            .await?;
            audit.target(format!("library id={library} grant id={id}"));
            audit.commit(tx).await?;
            store::libraries::grants(self.store())
                .await?
                .into_iter()
                .find(|g| g.id == id)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("grant {id} vanished")))
        }
        .await;
        audit.finish(self.store(), result).await
    }

    /// Revokes a grant; it stops working at once. Only those who manage the library.
    pub async fn revoke_grant(&self, caller: &Caller, grant: i64) -> AppResult<Grant> {
        let mut audit = Audit::start(caller, "revokeLibraryGrant", format!("grant id={grant}"));
        let result = async {
            let LibraryView { access: map, grants, .. } = self.library_access(caller).await?;
            let found = grants.into_iter().find(|g| g.id == grant);
            let Some(existing) = found.filter(|g| map.get(&g.library_id).is_some_and(|a| a.read)) else {
                return Err(AppError::NotFound(format!("no grant has id {grant}")));
            };
            if !map.get(&existing.library_id).is_some_and(|a| a.manage) {
                return Err(AppError::Forbidden(
                    "only the owner's editors (or an ADMIN) manage a library's grants".into(),
                ));
            }
            let mut tx = self.store().begin().await?;
            store::libraries::revoke_grant(&mut tx, grant, &caller.describe(), Utc::now()).await?;
            audit.commit(tx).await?;
            store::libraries::grants(self.store())
                .await?
                .into_iter()
                .find(|g| g.id == grant)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("grant {grant} vanished")))
        }
        .await;
        audit.finish(self.store(), result).await
    }
}

/// A library to create, or the new state of one.
#[derive(Clone, Debug)]
pub struct LibraryInput {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: Owner,
    pub curator_id: Option<i64>,
    pub visibility: super::libraries::Visibility,
}

/// A resource to add, or the new state of one.
#[derive(Clone, Debug)]
pub struct ResourceInput {
    pub key: String,
    pub kind: super::libraries::ResourceKind,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub region_code: Option<String>,
    pub provider_id: Option<i64>,
    pub category_id: Option<i64>,
    pub contact: super::libraries::Contact,
}

fn key_ok(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 100
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Services {
    /// Creates a library. EDITORs create libraries of their region (or below) or of an
    /// alliance their region takes part in. The same key and data again returns the library.
    pub async fn create_library(&self, caller: &Caller, input: &LibraryInput) -> AppResult<(Library, Access)> {
        let mut audit = Audit::start(caller, "createLibrary", format!("library key={}", input.key));
        let result = async {
            let root = caller.writable_root("createLibrary")?;
            let mut problems = Vec::new();
            if !key_ok(&input.key) {
                problems.push(crate::error::Problem::new(
                    "input.key",
                    "must be 1–100 lowercase ASCII letters, digits, hyphens",
                ));
            }
            if input.name.trim().is_empty() {
                problems.push(crate::error::Problem::new("input.name", "must not be empty"));
            }
            if let Owner::Region(code) = &input.owner
                && store::regions::by_codes(self.store(), std::slice::from_ref(code)).await?.is_empty()
            {
                problems.push(crate::error::Problem::new("input.ownerRegion", format!("no region has code {code}")));
            }
            if !problems.is_empty() {
                return Err(AppError::BadUserInput(problems));
            }
            if let Some(root) = root {
                let allowed = match &input.owner {
                    Owner::Region(code) => store::regions::is_within(self.store(), root, code).await?,
                    // A member's editors, or editors of a region above a member.
                    Owner::Alliance(id) => {
                        let members: Vec<String> = store::alliances::members_of(self.store(), &[*id])
                            .await?
                            .into_iter()
                            .map(|(_, r)| r.code)
                            .collect();
                        self.lineages(&members).await?.values().any(|writers| writers.contains(root))
                    }
                };
                if !allowed {
                    return Err(AppError::Forbidden(format!("createLibrary: region {root} may not own this library")));
                }
            }
            self.check_organization_writable(root, input.curator_id, "createLibrary", "curator").await?;
            if let Some(id) = store::libraries::library_id_by_key(self.store(), &input.key).await? {
                let (library, access) = self.resource_library(caller, id).await?;
                let same = library.name == input.name
                    && library.description == input.description
                    && library.owner == input.owner
                    && library.visibility == input.visibility
                    && library.curator_id == input.curator_id;
                return if same {
                    Ok((library, access))
                } else {
                    Err(AppError::Conflict(format!("a library with key {:?} exists with other data", input.key)))
                };
            }
            let library = Library {
                id: 0,
                key: input.key.clone(),
                name: input.name.trim().to_owned(),
                description: input.description.clone(),
                owner: input.owner.clone(),
                curator_id: input.curator_id,
                visibility: input.visibility,
                reported_size: None,
                report_id: None,
                excerpt: None,
            };
            let mut tx = self.store().begin().await?;
            let id = store::libraries::upsert_library(&mut tx, &library).await?;
            audit.target(format!("library id={id} key={}", input.key));
            audit.commit(tx).await?;
            self.resource_library(caller, id).await
        }
        .await;
        audit.finish(self.store(), result).await
    }

    /// The library, if the caller manages it (the owner's editors, ADMIN): `NOT_FOUND` when they
    /// may not even read it, `FORBIDDEN` when they may read but not manage it.
    async fn manageable(&self, caller: &Caller, library: i64, what: &str) -> AppResult<Library> {
        caller.writable_root(what)?;
        let (library, access) = self.resource_library(caller, library).await?;
        if !access.manage {
            return Err(AppError::Forbidden(format!(
                "{what}: only the owner's editors (or an ADMIN) change a library"
            )));
        }
        Ok(library)
    }

    /// Changes a library's name, description, curator and visibility. Requires managing it.
    pub async fn update_library(&self, caller: &Caller, id: i64, input: &LibraryInput) -> AppResult<(Library, Access)> {
        let mut audit = Audit::start(caller, "updateLibrary", format!("library id={id}"));
        let result = async {
            let library = self.manageable(caller, id, "updateLibrary").await?;
            if input.name.trim().is_empty() {
                return Err(AppError::bad_input("input.name", "must not be empty"));
            }
            if input.curator_id != library.curator_id {
                let root = caller.writable_root("updateLibrary")?;
                self.check_organization_writable(root, input.curator_id, "updateLibrary", "curator").await?;
            }
            let changed = Library {
                name: input.name.trim().to_owned(),
                description: input.description.clone(),
                curator_id: input.curator_id,
                visibility: input.visibility,
                ..library
            };
            let mut tx = self.store().begin().await?;
            store::libraries::update_library(&mut tx, &changed).await?;
            audit.commit(tx).await?;
            self.resource_library(caller, id).await
        }
        .await;
        audit.finish(self.store(), result).await
    }

    /// Adds a category (under a parent category of the same library). Requires managing it.
    pub async fn add_category(&self, caller: &Caller, library: i64, parent: Option<i64>, name: &str) -> AppResult<i64> {
        let mut audit = Audit::start(caller, "addLibraryCategory", format!("library id={library} name={name}"));
        let result = async {
            self.manageable(caller, library, "addLibraryCategory").await?;
            if name.trim().is_empty() {
                return Err(AppError::bad_input("name", "must not be empty"));
            }
            if let Some(parent) = parent {
                let categories = store::libraries::categories(self.store(), &[library]).await?;
                if !categories.iter().any(|(id, _, _, _)| *id == parent) {
                    return Err(AppError::bad_input("parent", format!("library {library} has no category {parent}")));
                }
            }
            let mut tx = self.store().begin().await?;
            let id = store::libraries::upsert_category(&mut tx, library, parent, name.trim()).await?;
            audit.commit(tx).await?;
            Ok(id)
        }
        .await;
        audit.finish(self.store(), result).await
    }

    /// Renames a category or moves it (never under itself or its own sub-categories).
    /// Requires managing the library; audited.
    pub async fn update_category(
        &self,
        caller: &Caller,
        library: i64,
        category: i64,
        parent: Option<i64>,
        name: &str,
    ) -> AppResult<()> {
        let mut audit =
            Audit::start(caller, "updateLibraryCategory", format!("library id={library} category id={category}"));
        let result = async {
            self.manageable(caller, library, "updateLibraryCategory").await?;
            if name.trim().is_empty() {
                return Err(AppError::bad_input("name", "must not be empty"));
            }
            let categories = store::libraries::categories(self.store(), &[library]).await?;
            let parent_of: HashMap<i64, Option<i64>> = categories.iter().map(|(id, _, p, _)| (*id, *p)).collect();
            if !parent_of.contains_key(&category) {
                return Err(AppError::NotFound(format!("library {library} has no category {category}")));
            }
            let mut cursor = parent;
            while let Some(id) = cursor {
                if id == category {
                    return Err(AppError::bad_input("parent", "a category cannot be moved under itself"));
                }
                cursor = *parent_of
                    .get(&id)
                    .ok_or_else(|| AppError::bad_input("parent", format!("library {library} has no category {id}")))?;
            }
            let mut tx = self.store().begin().await?;
            store::libraries::update_category(&mut tx, category, parent, name.trim()).await?;
            audit.commit(tx).await?;
            Ok(())
        }
        .await;
        audit.finish(self.store(), result).await
    }

    async fn check_resource(&self, library: i64, input: &ResourceInput) -> AppResult<()> {
        let mut problems = Vec::new();
        if !key_ok(&input.key) {
            problems.push(crate::error::Problem::new(
                "input.key",
                "must be 1–100 lowercase ASCII letters, digits, hyphens",
            ));
        }
        if input.name.trim().is_empty() {
            problems.push(crate::error::Problem::new("input.name", "must not be empty"));
        }
        if let Some(code) = &input.region_code
            && store::regions::by_codes(self.store(), std::slice::from_ref(code)).await?.is_empty()
        {
            problems.push(crate::error::Problem::new("input.region", format!("no region has code {code}")));
        }
        if let Some(category) = input.category_id {
            let categories = store::libraries::categories(self.store(), &[library]).await?;
            if !categories.iter().any(|(id, _, _, _)| *id == category) {
                problems.push(crate::error::Problem::new(
                    "input.category",
                    format!("library {library} has no category {category}"),
                ));
            }
        }
        if input.contact.email.as_ref().is_some_and(|e| !e.contains('@')) {
            problems.push(crate::error::Problem::new("input.contact.email", "is not an e-mail address"));
        }
        if problems.is_empty() { Ok(()) } else { Err(AppError::BadUserInput(problems)) }
    }

    /// A resource's region and provider list it under a region (`resources(filter: { region })`,
    /// the provider's own): an EDITOR may name only regions of their subtree there.
    async fn check_resource_location(&self, caller: &Caller, input: &ResourceInput, what: &str) -> AppResult<()> {
        let root = caller.writable_root(what)?;
        if root.is_some() && input.region_code.is_some() {
            self.check_region_writable(root, input.region_code.as_deref(), &format!("{what} (its region)")).await?;
        }
        self.check_organization_writable(root, input.provider_id, what, "provider").await
    }

    async fn contributable(&self, caller: &Caller, library: i64, what: &str) -> AppResult<()> {
        caller.writable_root(what)?;
        let (_, access) = self.resource_library(caller, library).await?;
        if !access.contribute {
            return Err(AppError::Forbidden(format!(
                "{what}: only the owner's editors, editors of regions granted CONTRIBUTE, or an ADMIN change this library"
            )));
        }
        Ok(())
    }

    /// Adds a resource to a library. Requires contributing (owner editors, CONTRIBUTE grantees).
    /// The same key and data again returns the resource.
    pub async fn add_resource(&self, caller: &Caller, library: i64, input: &ResourceInput) -> AppResult<i64> {
        let mut audit = Audit::start(caller, "addResource", format!("library id={library} resource key={}", input.key));
        let result = async {
            self.contributable(caller, library, "addResource").await?;
            self.check_resource(library, input).await?;
            self.check_resource_location(caller, input, "addResource").await?;
            if let Some(existing) = store::libraries::resource_by(self.store(), None, Some(&input.key)).await? {
                let same = existing.library_id == Some(library)
                    && existing.name == input.name.trim()
                    && existing.kind == input.kind
                    && existing.description == input.description
                    && existing.tags == input.tags
                    && existing.region_code == input.region_code
                    && existing.contact == input.contact;
                return if same {
                    Ok(existing.id)
                } else {
                    Err(AppError::Conflict(format!("a resource with key {:?} exists with other data", input.key)))
                };
            }
            let now = Utc::now();
            let resource = Resource {
                id: 0,
                key: input.key.clone(),
                library_id: Some(library),
                category_id: input.category_id,
                kind: input.kind,
                name: input.name.trim().to_owned(),
                description: input.description.clone(),
                tags: input.tags.clone(),
                region_code: input.region_code.clone(),
                provider_id: input.provider_id,
                contact: input.contact.clone(),
                report_id: None,
                excerpt: None,
                created_by: caller.describe(),
                updated_by: caller.describe(),
                created_at: now,
                updated_at: now,
            };
            let mut tx = self.store().begin().await?;
            let id = store::libraries::insert_resource(&mut tx, &resource).await?;
            audit.target(format!("library id={library} resource id={id} key={}", input.key));
            audit.commit(tx).await?;
            Ok(id)
        }
        .await;
        audit.finish(self.store(), result).await
    }

    /// Replaces a resource's fields. Requires contributing to its library.
    pub async fn update_resource(&self, caller: &Caller, id: i64, input: &ResourceInput) -> AppResult<i64> {
        let mut audit = Audit::start(caller, "updateResource", format!("resource id={id}"));
        let result = async {
            let existing = store::libraries::resource_by(self.store(), Some(id), None).await?;
            let Some(existing) = existing.filter(|r| r.library_id.is_some()) else {
                return Err(AppError::NotFound(format!("no resource has id {id}")));
            };
            let library = existing.library_id.unwrap_or_default();
            self.contributable(caller, library, "updateResource").await?;
            self.check_resource(library, input).await?;
            if (&input.region_code, input.provider_id) != (&existing.region_code, existing.provider_id) {
                self.check_resource_location(caller, input, "updateResource").await?;
            }
            if input.key != existing.key {
                return Err(AppError::bad_input("input.key", format!("cannot change; it is {:?}", existing.key)));
            }
            let changed = Resource {
                category_id: input.category_id,
                kind: input.kind,
                name: input.name.trim().to_owned(),
                description: input.description.clone(),
                tags: input.tags.clone(),
                region_code: input.region_code.clone(),
                provider_id: input.provider_id,
                contact: input.contact.clone(),
                updated_by: caller.describe(),
                ..existing
            };
            let mut tx = self.store().begin().await?;
            store::libraries::update_resource(&mut tx, &changed).await?;
            audit.commit(tx).await?;
            Ok(id)
        }
        .await;
        audit.finish(self.store(), result).await
    }

    /// Removes a resource. Requires contributing to its library.
    pub async fn remove_resource(&self, caller: &Caller, id: i64) -> AppResult<()> {
        let mut audit = Audit::start(caller, "removeResource", format!("resource id={id}"));
        let result = async {
            let existing = store::libraries::resource_by(self.store(), Some(id), None).await?;
            let Some(library) = existing.and_then(|r| r.library_id) else {
                return Err(AppError::NotFound(format!("no resource has id {id}")));
            };
            self.contributable(caller, library, "removeResource").await?;
            let mut tx = self.store().begin().await?;
            store::libraries::delete_resource(&mut tx, id).await?;
            audit.commit(tx).await?;
            Ok(())
        }
        .await;
        audit.finish(self.store(), result).await
    }
}
