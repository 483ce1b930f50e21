//! Resource libraries, resources and sharing grants.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::alliance::AllianceNode;
use super::connection::{ResourceConnection, ResourceLibraryConnection, wants_total};
use super::ids::{self, NodeId};
use super::loaders::{AllianceById, CategoriesOf, GrantsOf, Loaders, OrganizationById, RegionByCode, ReportById};
use super::organization::{OrganizationNode, ReportedCountObject};
use super::region::RegionNode;
use super::report::ReportNode;
use crate::domain::access::Caller;
use crate::domain::libraries::{Access, Grant, Grantee, Library, Owner, Permission, ResourceKind, Visibility};
use crate::domain::query::{Page, PageRequest};
use crate::domain::{ResourceFilter, Services, VisibleResource, page_size};

/// What the caller may do with a library.
#[derive(SimpleObject)]
pub struct LibraryAccess {
    /// See the library and its resources.
    pub read: bool,
    /// See the contact details of people in it.
    pub contacts: bool,
    /// Add, update and remove resources.
    pub contribute: bool,
    /// Update the library and manage its grants.
    pub manage: bool,
}

/// A size a report states for a library ("90余类"), not a count of stored entries.
#[derive(SimpleObject)]
pub struct ReportedSize {
    /// The size as stated, with its qualifier.
    pub count: ReportedCountObject,
    /// What is counted (categories, experts, people …).
    pub unit: String,
}

/// A category of a library's tree.
#[derive(SimpleObject)]
pub struct LibraryCategory {
    /// The category's number (for `resources(filter: { category })`).
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The number of the category above it; null at the top.
    pub parent_id: Option<i64>,
}

/// The GraphQL `LibraryGrant` object over a domain [`Grant`].
pub struct GrantNode(pub Grant);

/// A library shared with a region or an alliance.
#[Object(name = "LibraryGrant")]
impl GrantNode {
    /// The grant's number (for `revokeLibraryGrant`).
    async fn id(&self) -> i64 {
        self.0.id
    }

    /// The region shared with (null when shared with an alliance).
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        let Grantee::Region(code) = &self.0.grantee else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(RegionByCode(code.clone())).await?.map(RegionNode))
    }

    /// The alliance shared with (null when shared with a region).
    async fn alliance(&self, ctx: &Context<'_>) -> Result<Option<AllianceNode>> {
        let Grantee::Alliance(id) = &self.0.grantee else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(AllianceById(*id)).await?.map(AllianceNode))
    }

    /// READ, or CONTRIBUTE (also add and change resources).
    async fn permission(&self) -> Permission {
        self.0.permission
    }

    /// Who granted it.
    async fn granted_by(&self) -> &str {
        &self.0.granted_by
    }

    /// When it was granted.
    async fn granted_at(&self) -> DateTime<Utc> {
        self.0.granted_at
    }

    /// When it stops working by itself; null for never.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When it was revoked; null if it was not.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// Whether it works now (neither revoked nor expired).
    async fn active(&self) -> bool {
        self.0.is_active(Utc::now())
    }
}

/// The GraphQL `ResourceLibrary` object over a domain [`Library`] and the caller's access.
pub struct LibraryNode(pub Library, pub Access);

/// A library of resources (experts, talent, enterprises, services …) owned by a region or an
/// alliance and shared under its visibility and explicit grants.
#[Object(name = "ResourceLibrary")]
impl LibraryNode {
    /// Global ID of this library.
    pub(crate) async fn id(&self) -> ID {
        NodeId::ResourceLibrary(self.0.id).encode()
    }

    /// Stable key, e.g. `tongwulang-she-economy-resource-pool`.
    async fn key(&self) -> &str {
        &self.0.key
    }

    /// Name as the owner gives it.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What it holds.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The owning region (null when an alliance owns it).
    async fn owner_region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        let Owner::Region(code) = &self.0.owner else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(RegionByCode(code.clone())).await?.map(RegionNode))
    }

    /// The owning alliance (null when a region owns it).
    async fn owner_alliance(&self, ctx: &Context<'_>) -> Result<Option<AllianceNode>> {
        let Owner::Alliance(id) = &self.0.owner else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(AllianceById(*id)).await?.map(AllianceNode))
    }

    /// The organization that curates it.
    async fn curator(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        let Some(id) = self.0.curator_id else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(OrganizationById(id)).await?.map(OrganizationNode))
    }

    /// Who may see it besides the owner and grantees.
    async fn visibility(&self) -> Visibility {
        self.0.visibility
    }

    /// A size a report states for it (e.g. 90+ categories); not the number of stored entries.
    async fn reported_size(&self) -> Option<ReportedSize> {
        self.0.reported_size.as_ref().map(|(c, unit)| ReportedSize { count: (*c).into(), unit: unit.clone() })
    }

    /// What the caller may do with it.
    async fn access(&self) -> LibraryAccess {
        let a = self.1;
        LibraryAccess { read: a.read, contacts: a.contacts, contribute: a.contribute, manage: a.manage }
    }

    /// Its category tree, as a list (each with its parent).
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<LibraryCategory>> {
        let list = ctx.data::<Loaders>()?.many(CategoriesOf(self.0.id)).await?;
        Ok(list.into_iter().map(|(id, parent_id, name)| LibraryCategory { id, name, parent_id }).collect())
    }

    /// Its sharing grants — visible to those who manage the library, empty for everyone else.
    async fn grants(&self, ctx: &Context<'_>) -> Result<Vec<GrantNode>> {
        // The node carries the caller's access, decided by the services that produced it.
        if !self.1.manage {
            return Ok(Vec::new());
        }
        Ok(ctx.data::<Loaders>()?.many(GrantsOf(self.0.id)).await?.into_iter().map(GrantNode).collect())
    }

    /// The report that names it.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<ReportNode>> {
        let Some(id) = self.0.report_id else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(ReportById(id)).await?.map(ReportNode))
    }

    /// The report's passage that names it, verbatim.
    async fn excerpt(&self) -> Option<&str> {
        self.0.excerpt.as_deref()
    }
}

/// Contact details of a person responsible for a resource.
#[derive(SimpleObject)]
pub struct ResourceContact {
    /// Name.
    pub name: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
}

/// The GraphQL `Resource` object over a resource as the caller may see it.
pub struct ResourceNode(pub VisibleResource);

/// A resource of a library: an expert, talent, enterprise, cooperative, product, service,
/// venue, course, policy or project.
#[Object(name = "Resource")]
impl ResourceNode {
    /// Global ID of this resource.
    pub(crate) async fn id(&self) -> ID {
        NodeId::Resource(self.0.resource.id).encode()
    }

    /// Stable key.
    async fn key(&self) -> &str {
        &self.0.resource.key
    }

    /// What kind of resource it is.
    async fn kind(&self) -> ResourceKind {
        self.0.resource.kind
    }

    /// Name.
    async fn name(&self) -> &str {
        &self.0.resource.name
    }

    /// What it is or offers.
    async fn description(&self) -> Option<&str> {
        self.0.resource.description.as_deref()
    }

    /// Tags, e.g. 家政, 食用菌.
    async fn tags(&self) -> &[String] {
        &self.0.resource.tags
    }

    /// Where it is.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        let Some(code) = &self.0.resource.region_code else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(RegionByCode(code.clone())).await?.map(RegionNode))
    }

    /// The organization that provides it.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        let Some(id) = self.0.resource.provider_id else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(OrganizationById(id)).await?.map(OrganizationNode))
    }

    /// Contact details: shown only to the owner's editors and to grantees; masked (all null,
    /// `contactMasked` true) for everyone else.
    async fn contact(&self) -> ResourceContact {
        let c = &self.0.resource.contact;
        ResourceContact { name: c.name.clone(), phone: c.phone.clone(), email: c.email.clone() }
    }

    /// Whether contact details exist but were withheld from the caller.
    async fn contact_masked(&self) -> bool {
        self.0.masked
    }

    /// Who added it.
    async fn created_by(&self) -> &str {
        &self.0.resource.created_by
    }

    /// When it was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.resource.created_at
    }

    /// Who changed it last.
    async fn updated_by(&self) -> &str {
        &self.0.resource.updated_by
    }

    /// When it was changed last.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.resource.updated_at
    }

    /// The report that names it.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<ReportNode>> {
        let Some(id) = self.0.resource.report_id else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(ReportById(id)).await?.map(ReportNode))
    }

    /// The report's passage that names it, verbatim.
    async fn excerpt(&self) -> Option<&str> {
        self.0.resource.excerpt.as_deref()
    }
}

/// Which libraries to list.
#[derive(InputObject, Default)]
pub struct ResourceLibraryFilter {
    /// Only libraries shared with the caller by others (a partnership or a grant).
    #[graphql(default)]
    pub shared_with_me: bool,
}

/// Which resources to list.
#[derive(InputObject, Default)]
#[graphql(name = "ResourceFilter")]
pub struct ResourceFilterInput {
    /// Text to find in names, descriptions and tags (substring, works for Chinese); results by relevance.
    pub search: Option<String>,
    /// Only this library (ID).
    pub library: Option<ID>,
    /// Only this category and those below it.
    pub category: Option<i64>,
    /// Only these kinds.
    pub kind: Option<Vec<ResourceKind>>,
    /// Only resources located in this region or below it.
    pub region: Option<String>,
    /// Only resources of libraries shared with the caller by others.
    #[graphql(default)]
    pub shared_with_me: bool,
}

/// Root fields for resource libraries.
#[derive(Default)]
pub struct LibraryQuery;

/// Root fields for resource libraries.
#[Object]
impl LibraryQuery {
    /// A library the caller may read; errors with `NOT_FOUND` otherwise.
    async fn resource_library(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The library's ID.")] id: ID,
    ) -> Result<Option<LibraryNode>> {
        let id = NodeId::resource_library(&id, "id")?;
        let (library, access) = ctx.data::<Services>()?.resource_library(ctx.data::<Caller>()?, id).await?;
        Ok(Some(LibraryNode(library, access)))
    }

    /// The libraries the caller may read, by id.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn resource_libraries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which libraries to list.")] filter: Option<ResourceLibraryFilter>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<ResourceLibraryConnection> {
        let page = PageRequest { first: page_size(first, "first")?, after: ids::after::<i64>(after.as_deref())? };
        let shared = filter.unwrap_or_default().shared_with_me;
        let all = ctx.data::<Services>()?.resource_libraries(ctx.data::<Caller>()?, shared).await?;
        let total = all.len() as i64;
        let rest: Vec<_> =
            all.into_iter().filter(|(l, _)| page.after.is_none_or(|a| l.id > a)).take(page.first + 1).collect();
        let items = Page::from_overfetch(rest, page.first);
        Ok(ResourceLibraryConnection::new(
            items,
            page.after.is_some(),
            total,
            |(l, _)| l.id,
            |(l, a)| LibraryNode(l, a),
        ))
    }

    /// Resources of the libraries the caller may read (and the public directory), contact
    /// details masked where the caller may not see them.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn resources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which resources to list; text search with `search`.")] filter: Option<ResourceFilterInput>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<ResourceConnection> {
        let page = PageRequest { first: page_size(first, "first")?, after: ids::after::<i64>(after.as_deref())? };
        let f = filter.unwrap_or_default();
        let filter = ResourceFilter {
            library: f.library.map(|id| NodeId::resource_library(&id, "filter.library")).transpose()?,
            category: f.category,
            kinds: f.kind.unwrap_or_default().iter().map(|k| k.as_str().to_owned()).collect(),
            region: f.region,
            search: f.search,
            shared_with_me: f.shared_with_me,
            id: None,
        };
        let (items, total) =
            ctx.data::<Services>()?.resources(ctx.data::<Caller>()?, &filter, &page, wants_total(ctx)).await?;
        Ok(ResourceConnection::new(items, page.after.is_some(), total, |(key, _)| *key, |(_, r)| ResourceNode(r)))
    }
}

/// A library to create, or its new state.
#[derive(InputObject)]
#[graphql(name = "LibraryInput")]
pub struct LibraryInputObject {
    /// Stable key (lowercase ASCII letters, digits, hyphens); the same key and data again is harmless.
    pub key: String,
    /// Name.
    pub name: String,
    /// What it holds.
    pub description: Option<String>,
    /// The owning region (give this or `ownerAlliance`).
    pub owner_region: Option<String>,
    /// The owning alliance's slug (give this or `ownerRegion`).
    pub owner_alliance: Option<String>,
    /// The curating organization's ID.
    pub curator: Option<ID>,
    /// Who may see it besides the owner and grantees.
    pub visibility: Visibility,
}

/// Contact details of a person responsible for a resource (personal data: shown only to the
/// owner's editors and grantees).
#[derive(InputObject)]
pub struct ContactInput {
    /// Name.
    pub name: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
}

/// A resource to add, or its new state.
#[derive(InputObject)]
#[graphql(name = "ResourceInput")]
pub struct ResourceInputObject {
    /// Stable key (lowercase ASCII letters, digits, hyphens); cannot change.
    pub key: String,
    /// What kind of resource.
    pub kind: ResourceKind,
    /// Name.
    pub name: String,
    /// What it is or offers.
    pub description: Option<String>,
    /// Tags, e.g. 家政.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Where it is (region code).
    pub region: Option<String>,
    /// The providing organization's ID.
    pub provider: Option<ID>,
    /// The library category it belongs in.
    pub category: Option<i64>,
    /// Contact details.
    pub contact: Option<ContactInput>,
}

impl ResourceInputObject {
    fn into_domain(self) -> Result<crate::domain::ResourceInput> {
        let contact = self.contact.map_or_else(Default::default, |c| crate::domain::libraries::Contact {
            name: c.name,
            phone: c.phone,
            email: c.email,
        });
        Ok(crate::domain::ResourceInput {
            provider_id: self.provider.map(|id| NodeId::organization(&id, "input.provider")).transpose()?,
            key: self.key,
            kind: self.kind,
            name: self.name,
            description: self.description,
            tags: self.tags.into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect(),
            region_code: self.region,
            category_id: self.category,
            contact,
        })
    }
}

async fn library_input(ctx: &Context<'_>, input: LibraryInputObject) -> Result<crate::domain::LibraryInput> {
    let owner = match (input.owner_region, input.owner_alliance) {
        (Some(code), None) => Owner::Region(code),
        (None, Some(slug)) => Owner::Alliance(
            ctx.data::<Services>()?
                .alliance(&slug)
                .await
                .map_err(|e| match e {
                    crate::error::AppError::NotFound(m) => crate::error::AppError::bad_input("input.ownerAlliance", m),
                    other => other,
                })?
                .id,
        ),
        _ => {
            return Err(crate::error::AppError::bad_input(
                "input.ownerRegion",
                "give exactly one of ownerRegion or ownerAlliance",
            )
            .into());
        }
    };
    Ok(crate::domain::LibraryInput {
        curator_id: input.curator.map(|id| NodeId::organization(&id, "input.curator")).transpose()?,
        key: input.key,
        name: input.name,
        description: input.description,
        owner,
        visibility: input.visibility,
    })
}

async fn visible_resource(ctx: &Context<'_>, id: i64) -> Result<ResourceNode> {
    let filter = ResourceFilter { id: Some(id), ..Default::default() };
    let page = PageRequest { first: 1, after: None };
    let (found, _) = ctx.data::<Services>()?.resources(ctx.data::<Caller>()?, &filter, &page, false).await?;
    found
        .items
        .into_iter()
        .next()
        .map(|(_, r)| ResourceNode(r))
        .ok_or_else(|| crate::error::AppError::NotFound(format!("no resource has id {id}")).into())
}

/// Mutations on resource libraries.
#[derive(Default)]
pub struct LibraryMutation;

/// Mutations on resource libraries.
#[Object]
impl LibraryMutation {
    /// Creates a library. EDITORs create libraries owned by their region (or below) or by an
    /// alliance their region takes part in; audited.
    async fn create_library(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The library.")] input: LibraryInputObject,
    ) -> Result<LibraryNode> {
        let input = library_input(ctx, input).await?;
        let (library, access) = ctx.data::<Services>()?.create_library(ctx.data::<Caller>()?, &input).await?;
        Ok(LibraryNode(library, access))
    }

    /// Changes a library's name, description, curator and visibility (owner and key stay).
    /// Requires managing it; audited.
    async fn update_library(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The library's ID.")] id: ID,
        #[graphql(desc = "Its new state.")] input: LibraryInputObject,
    ) -> Result<LibraryNode> {
        let id = NodeId::resource_library(&id, "id")?;
        let input = library_input(ctx, input).await?;
        let (library, access) = ctx.data::<Services>()?.update_library(ctx.data::<Caller>()?, id, &input).await?;
        Ok(LibraryNode(library, access))
    }

    /// Adds a category to a library's tree; returns its number. Requires managing it; audited.
    async fn add_library_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The library's ID.")] library: ID,
        #[graphql(desc = "The category to put it under; the top when omitted.")] parent: Option<i64>,
        #[graphql(desc = "Its name.")] name: String,
    ) -> Result<i64> {
        let library = NodeId::resource_library(&library, "library")?;
        Ok(ctx.data::<Services>()?.add_category(ctx.data::<Caller>()?, library, parent, &name).await?)
    }

    /// Renames a category or moves it under another (not under itself). Requires managing the
    /// library; audited.
    async fn update_library_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The library's ID.")] library: ID,
        #[graphql(desc = "The category's number.")] category: i64,
        #[graphql(desc = "The category to put it under; the top when omitted.")] parent: Option<i64>,
        #[graphql(desc = "Its (new) name.")] name: String,
    ) -> Result<bool> {
        let library = NodeId::resource_library(&library, "library")?;
        ctx.data::<Services>()?.update_category(ctx.data::<Caller>()?, library, category, parent, &name).await?;
        Ok(true)
    }

    /// Adds a resource to a library. Requires the owner's editors, editors of a region granted
    /// CONTRIBUTE, or an ADMIN; the same key and data again is harmless; audited.
    async fn add_resource(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The library's ID.")] library: ID,
        #[graphql(desc = "The resource.")] input: ResourceInputObject,
    ) -> Result<ResourceNode> {
        let library = NodeId::resource_library(&library, "library")?;
        let id = ctx.data::<Services>()?.add_resource(ctx.data::<Caller>()?, library, &input.into_domain()?).await?;
        visible_resource(ctx, id).await
    }

    /// Replaces a resource's fields (its key stays). Same permission as `addResource`; audited.
    async fn update_resource(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The resource's ID.")] id: ID,
        #[graphql(desc = "Its new state.")] input: ResourceInputObject,
    ) -> Result<ResourceNode> {
        let id = match NodeId::decode(&id, "id")? {
            NodeId::Resource(n) => n,
            _ => return Err(crate::error::AppError::bad_input("id", "is not a resource ID").into()),
        };
        ctx.data::<Services>()?.update_resource(ctx.data::<Caller>()?, id, &input.into_domain()?).await?;
        visible_resource(ctx, id).await
    }

    /// Removes a resource. Same permission as `addResource`; audited.
    async fn remove_resource(&self, ctx: &Context<'_>, #[graphql(desc = "The resource's ID.")] id: ID) -> Result<bool> {
        let id = match NodeId::decode(&id, "id")? {
            NodeId::Resource(n) => n,
            _ => return Err(crate::error::AppError::bad_input("id", "is not a resource ID").into()),
        };
        ctx.data::<Services>()?.remove_resource(ctx.data::<Caller>()?, id).await?;
        Ok(true)
    }

    /// Shares a library with a region or an alliance (give exactly one). Requires managing the
    /// library (the owner's editors, or an ADMIN); audited.
    async fn grant_library_access(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The library's ID.")] library: ID,
        #[graphql(desc = "The region to share with.")] region: Option<String>,
        #[graphql(desc = "The alliance (slug) to share with.")] alliance: Option<String>,
        #[graphql(desc = "READ, or CONTRIBUTE.")] permission: Permission,
        #[graphql(desc = "When the grant stops working by itself.")] expires_at: Option<DateTime<Utc>>,
    ) -> Result<GrantNode> {
        let services = ctx.data::<Services>()?;
        let library = NodeId::resource_library(&library, "library")?;
        let grantee = match (region, alliance) {
            (Some(code), None) => Grantee::Region(code),
            (None, Some(slug)) => Grantee::Alliance(
                services
                    .alliance(&slug)
                    .await
                    .map_err(|e| match e {
                        crate::error::AppError::NotFound(m) => crate::error::AppError::bad_input("alliance", m),
                        other => other,
                    })?
                    .id,
            ),
            _ => {
                return Err(
                    crate::error::AppError::bad_input("region", "give exactly one of region or alliance").into()
                );
            }
        };
        let grant = services.grant_library(ctx.data::<Caller>()?, library, &grantee, permission, expires_at).await?;
        Ok(GrantNode(grant))
    }

    /// Revokes a grant; it stops working at once. Requires managing the library; audited.
    async fn revoke_library_grant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The grant's number.")] grant: i64,
    ) -> Result<GrantNode> {
        Ok(GrantNode(ctx.data::<Services>()?.revoke_grant(ctx.data::<Caller>()?, grant).await?))
    }
}
