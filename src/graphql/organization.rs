//! Organizations: federations and the bodies they found, serve through or work with.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::connection::{OrganizationConnection, wants_total};
use super::ids::{self, NodeId};
use super::loaders::{ChildrenOfOrganization, Loaders, OrganizationById, RegionByCode, SourcesOf};
use super::region::RegionNode;
use super::report::SourceNode;
use super::scalars::Date;
use crate::domain::access::Caller;
use crate::domain::model::{
    DatePrecision, Organization, OrganizationKind, OrganizationSector, PartialDate, Qualifier, ReportedCount, Subject,
    SubjectType,
};
use crate::domain::query::{OrganizationFilter, PageRequest};
use crate::domain::{OrganizationInput, Services, page_size};

/// A number as a report states it, with how exact the statement is.
#[derive(SimpleObject)]
#[graphql(name = "ReportedCount")]
pub struct ReportedCountObject {
    /// The number stated.
    pub value: i64,
    /// Whether the number is exact, a lower bound ("more than"), or approximate ("nearly").
    pub qualifier: Qualifier,
}

impl From<ReportedCount> for ReportedCountObject {
    fn from(c: ReportedCount) -> Self {
        Self { value: c.value, qualifier: c.qualifier }
    }
}

/// The GraphQL `Organization` object over a domain [`Organization`].
pub struct OrganizationNode(pub Organization);

/// A women's federation, or a body one founds, serves through or works with: sector
/// federations, women's committees, women's homes, service posts, cooperatives, companies …
#[Object(name = "Organization")]
impl OrganizationNode {
    /// Global ID of this organization (for `node` and `organization`).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Organization(self.0.id).encode()
    }

    /// Stable key, unique across the platform, e.g. `fed-110112` for 通州区妇联.
    async fn key(&self) -> &str {
        &self.0.key
    }

    /// Full name, e.g. `北京市通州区妇女联合会`.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Short name as commonly used, e.g. `通州区妇联`.
    async fn short_name(&self) -> Option<&str> {
        self.0.short_name.as_deref()
    }

    /// What kind of body this is.
    async fn kind(&self) -> OrganizationKind {
        self.0.kind
    }

    /// What it is organized around; null where no sector applies.
    async fn sector(&self) -> Option<OrganizationSector> {
        self.0.sector
    }

    /// Where it is located: the most specific region the reports support; null for national bodies.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        let Some(code) = &self.0.region_code else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(RegionByCode(code.clone())).await?.map(RegionNode))
    }

    /// The organization this one belongs to, e.g. a township federation's county federation.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        let Some(id) = self.0.parent_id else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(OrganizationById(id)).await?.map(OrganizationNode))
    }

    /// Organizations directly under this one, ordered by id.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<OrganizationNode>> {
        let list = ctx.data::<Loaders>()?.many(ChildrenOfOrganization(self.0.id)).await?;
        Ok(list.into_iter().map(OrganizationNode).collect())
    }

    /// When it was founded, if known; see `foundedPrecision` for how much of the date is known.
    async fn founded_on(&self) -> Option<Date> {
        self.0.founded.map(|f| Date(f.date))
    }

    /// How much of `foundedOn` is known: the day, only the month, or only the year.
    async fn founded_precision(&self) -> Option<DatePrecision> {
        self.0.founded.map(|f| f.precision)
    }

    /// Number of members, when a report states it.
    async fn member_count(&self) -> Option<ReportedCountObject> {
        self.0.members.map(Into::into)
    }

    /// Number of executive committee members (执委), when a report states it.
    async fn executive_count(&self) -> Option<ReportedCountObject> {
        self.0.executives.map(Into::into)
    }

    /// Report excerpts that name this organization.
    async fn sources(&self, ctx: &Context<'_>) -> Result<Vec<SourceNode>> {
        let subject = Subject { kind: SubjectType::Organization, key: self.0.id.to_string() };
        let list = ctx.data::<Loaders>()?.many(SourcesOf(subject)).await?;
        Ok(list.into_iter().map(SourceNode).collect())
    }
}

/// Which organizations to list.
#[derive(InputObject, Default)]
#[graphql(name = "OrganizationFilter")]
pub struct OrganizationFilterInput {
    /// Only organizations located in the region with this code…
    pub region: Option<String>,
    /// …or, when true, in it or in any region below it.
    #[graphql(default = false)]
    pub include_descendants: bool,
    /// Only organizations of these kinds (any of them).
    pub kind: Option<Vec<OrganizationKind>>,
    /// Only organizations of these sectors (any of them).
    pub sector: Option<Vec<OrganizationSector>>,
    /// Only the direct children of the organization with this ID.
    pub parent: Option<ID>,
    /// Only organizations whose name or short name contains this text (case-insensitive).
    pub name_contains: Option<String>,
}

/// A date and how much of it is known.
#[derive(InputObject)]
pub struct PartialDateInput {
    /// The date; for precision MONTH the first of the month, for YEAR January 1st.
    pub date: Date,
    /// How much of the date is known.
    #[graphql(default_with = "DatePrecision::Day")]
    pub precision: DatePrecision,
}

/// A number as a report states it.
#[derive(InputObject, serde::Serialize, Clone, Copy)]
pub struct ReportedCountInput {
    /// The number, not negative.
    pub value: i64,
    /// How exact the statement is.
    #[graphql(default_with = "Qualifier::Exact")]
    pub qualifier: Qualifier,
}

/// An organization to create, or the full new state of one to update.
#[derive(InputObject)]
#[graphql(name = "OrganizationInput")]
pub struct OrganizationInputObject {
    /// Stable key chosen by the client: lowercase ASCII letters, digits and hyphens. Submitting
    /// the same key and data again is harmless; the same key with other data is a `CONFLICT`.
    pub key: String,
    /// Full name.
    pub name: String,
    /// Short name as commonly used.
    pub short_name: Option<String>,
    /// What kind of body it is.
    pub kind: OrganizationKind,
    /// What it is organized around.
    pub sector: Option<OrganizationSector>,
    /// Code of the region it is located in.
    pub region_code: Option<String>,
    /// ID of the organization it belongs to.
    pub parent: Option<ID>,
    /// When it was founded.
    pub founded: Option<PartialDateInput>,
    /// Number of members.
    pub member_count: Option<ReportedCountInput>,
    /// Number of executive committee members (执委).
    pub executive_count: Option<ReportedCountInput>,
}

impl OrganizationInputObject {
    fn into_domain(self) -> Result<OrganizationInput> {
        let count = |c: ReportedCountInput| ReportedCount { value: c.value, qualifier: c.qualifier };
        Ok(OrganizationInput {
            parent_id: self.parent.map(|id| NodeId::organization(&id, "input.parent")).transpose()?,
            key: self.key,
            name: self.name,
            short_name: self.short_name,
            kind: self.kind,
            sector: self.sector,
            region_code: self.region_code,
            founded: self.founded.map(|f| PartialDate { date: f.date.0, precision: f.precision }),
            members: self.member_count.map(count),
            executives: self.executive_count.map(count),
        })
    }
}

/// Root fields for organizations.
#[derive(Default)]
pub struct OrganizationQuery;

/// Root fields for organizations.
#[Object]
impl OrganizationQuery {
    /// The organization with this ID. Errors with `NOT_FOUND` if there is none.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's global ID.")] id: ID,
    ) -> Result<Option<OrganizationNode>> {
        let id = NodeId::organization(&id, "id")?;
        Ok(Some(OrganizationNode(ctx.data::<Services>()?.organization(id).await?)))
    }

    /// Organizations, in the order they were recorded.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which organizations to list; all when omitted.")] filter: Option<OrganizationFilterInput>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<OrganizationConnection> {
        let services = ctx.data::<Services>()?;
        let page = PageRequest { first: page_size(first, "first")?, after: ids::after::<i64>(after.as_deref())? };
        let f = filter.unwrap_or_default();
        let filter = OrganizationFilter {
            region: f.region,
            include_descendants: f.include_descendants,
            kinds: f.kind.unwrap_or_default(),
            sectors: f.sector.unwrap_or_default(),
            parent_id: f.parent.map(|id| NodeId::organization(&id, "filter.parent")).transpose()?,
            name_contains: f.name_contains,
        };
        let filter = services.check_organization_filter(filter, "filter").await?;
        let total = if wants_total(ctx) { services.count_organizations(&filter).await? } else { 0 };
        let items = services.organizations(&filter, &page).await?;
        Ok(OrganizationConnection::new(items, page.after.is_some(), total, |o: &Organization| o.id, OrganizationNode))
    }
}

/// Mutations on organizations.
#[derive(Default)]
pub struct OrganizationMutation;

/// Mutations on organizations.
#[Object]
impl OrganizationMutation {
    /// Creates an organization. Idempotent by `input.key`: re-submitting the same data returns
    /// the existing organization; the same key with different data fails with `CONFLICT`.
    /// Requires EDITOR (within the editor's region and below) or ADMIN; audited.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization to create.")] input: OrganizationInputObject,
    ) -> Result<OrganizationNode> {
        let input = input.into_domain()?;
        let caller = ctx.data::<Caller>()?;
        Ok(OrganizationNode(ctx.data::<Services>()?.create_organization(caller, &input).await?))
    }

    /// Replaces every field of an organization (its key cannot change). Requires EDITOR (the
    /// organization and its new region within the editor's region) or ADMIN; audited.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's global ID.")] id: ID,
        #[graphql(desc = "The organization's complete new state.")] input: OrganizationInputObject,
    ) -> Result<OrganizationNode> {
        let id = NodeId::organization(&id, "id")?;
        let input = input.into_domain()?;
        let caller = ctx.data::<Caller>()?;
        Ok(OrganizationNode(ctx.data::<Services>()?.update_organization(caller, id, &input).await?))
    }
}
