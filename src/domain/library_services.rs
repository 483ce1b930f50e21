//! The services of resource libraries: every read goes through the caller's access, computed
//! here once per call; contact details are masked where the caller may not see them.

use std::collections::{HashMap, HashSet};

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

    /// Every library with the caller's access to it, and all grants.
    pub async fn library_access(&self, caller: &Caller) -> AppResult<(Vec<Library>, AccessMap, Vec<Grant>)> {
        let libraries = store::libraries::all(self.store()).await?;
        let grants = store::libraries::grants(self.store()).await?;
        let standing = self.standing(caller).await?;
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
        let now = Utc::now();
        let map = libraries
            .iter()
            .map(|l| {
                let owner_alliances: HashSet<i64> = match &l.owner {
                    Owner::Region(code) => lineage
                        .get(code)
                        .into_iter()
                        .flatten()
                        .flat_map(|r| memberships.get(r).into_iter().flatten().copied())
                        .collect(),
                    Owner::Alliance(_) => HashSet::new(),
                };
                (l.id, access(caller, &standing, l, &owner_alliances, &grants, now))
            })
            .collect();
        Ok((libraries, map, grants))
    }

    /// The libraries the caller may read, by id; with `shared_with_me`, only those shared with
    /// the caller by others (through partnership or a grant).
    pub async fn resource_libraries(&self, caller: &Caller, shared_with_me: bool) -> AppResult<Vec<(Library, Access)>> {
        let (libraries, map, _) = self.library_access(caller).await?;
        let own = if shared_with_me { self.owned(caller, &libraries).await? } else { HashSet::new() };
        Ok(libraries
            .into_iter()
            .filter_map(|l| map.get(&l.id).copied().filter(|a| a.read).map(|a| (l, a)))
            .filter(|(l, _)| {
                !shared_with_me || (!own.contains(&l.id) && l.visibility != super::libraries::Visibility::Public)
            })
            .collect())
    }

    async fn owned(&self, caller: &Caller, libraries: &[Library]) -> AppResult<HashSet<i64>> {
        let standing = self.standing(caller).await?;
        Ok(libraries
            .iter()
            .filter(|l| match &l.owner {
                Owner::Region(code) => standing.regions.contains(code),
                Owner::Alliance(id) => standing.alliances.contains(id),
            })
            .map(|l| l.id)
            .collect())
    }

    /// One library the caller may read; `NOT_FOUND` otherwise (existence is not revealed).
    pub async fn resource_library(&self, caller: &Caller, id: i64) -> AppResult<(Library, Access)> {
        let (libraries, map, _) = self.library_access(caller).await?;
        libraries
            .into_iter()
            .find(|l| l.id == id && map.get(&id).is_some_and(|a| a.read))
            .map(|l| {
                let a = map[&l.id];
                (l, a)
            })
            .ok_or_else(|| AppError::NotFound(format!("no resource library has id {id}")))
    }

    /// Grants of a library, for those who manage it.
    pub async fn library_grants(&self, caller: &Caller, library: i64) -> AppResult<Vec<Grant>> {
        let (_, map, grants) = self.library_access(caller).await?;
        if !map.get(&library).is_some_and(|a| a.manage) {
            return Ok(Vec::new());
        }
        Ok(grants.into_iter().filter(|g| g.library_id == library).collect())
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
        let (libraries, map, _) = self.library_access(caller).await?;
        let own = if filter.shared_with_me { self.owned(caller, &libraries).await? } else { HashSet::new() };
        let mut readable: Vec<i64> = libraries
            .iter()
            .filter(|l| map.get(&l.id).is_some_and(|a| a.read))
            .filter(|l| {
                !filter.shared_with_me || (!own.contains(&l.id) && l.visibility != super::libraries::Visibility::Public)
            })
            .map(|l| l.id)
            .collect();
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
        let standing = self.standing(caller).await?;
        let editor = caller.role() >= Some(super::access::Role::Editor);
        let items = found
            .items
            .into_iter()
            .map(|(key, mut resource)| {
                let contacts = match resource.library_id {
                    Some(id) => map.get(&id).is_some_and(|a| a.contacts),
                    // Directory entries: the resource's own region's editors (and ADMIN).
                    None => {
                        caller.role() == Some(super::access::Role::Admin)
                            || editor && resource.region_code.as_ref().is_some_and(|r| standing.regions.contains(r))
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
            let (_, map, _) = self.library_access(caller).await?;
            match map.get(&library) {
                None => return Err(AppError::NotFound(format!("no resource library has id {library}"))),
                Some(a) if !a.read => return Err(AppError::NotFound(format!("no resource library has id {library}"))),
                Some(a) if !a.manage => {
                    return Err(AppError::Forbidden(
                        "only the owner's editors (or an ADMIN) manage a library's grants".into(),
                    ));
                }
                Some(_) => {}
            }
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
            let (_, map, grants) = self.library_access(caller).await?;
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
