//! Regions: the administrative hierarchy.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::alliance::AllianceNode;
use super::connection::{JobFairConnection, RegionConnection, wants_total};
use super::figure::JobFairNode;
use super::ids::{self, NodeId};
use super::loaders::{
    AlliancesOfRegion, AncestorsOfRegion, ChildrenOfRegion, JobFairsOfRegion, Loaders, RegionByCode, SourcesOf,
};
use super::report::SourceNode;
use crate::domain::model::{Region, RegionLevel, Subject, SubjectType};
use crate::domain::query::{Page, PageRequest, RegionFilter};
use crate::domain::{Services, page_size};
use crate::store::figure_lists::JobFairRow;

/// The GraphQL `Region` object over a domain [`Region`].
pub struct RegionNode(pub Region);

/// Lists regions below `ancestor` (or all), checked and paged; shared by `regions` and `descendants`.
async fn region_page(
    ctx: &Context<'_>,
    filter: RegionFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<RegionConnection> {
    let services = ctx.data::<Services>()?;
    let page = PageRequest { first: page_size(first, "first")?, after: ids::after::<String>(after.as_deref())? };
    let filter = services.check_region_filter(filter, "filter").await?;
    let total = if wants_total(ctx) { services.count_regions(&filter).await? } else { 0 };
    let items = services.regions(&filter, &page).await?;
    Ok(RegionConnection::new(items, page.after.is_some(), total, |r: &Region| r.code.clone(), RegionNode))
}

/// An administrative division: province, prefecture, county, township, village or grid.
#[Object(name = "Region")]
impl RegionNode {
    /// Global ID of this region (for `node`).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Region(self.0.code.clone()).encode()
    }

    /// Official GB/T 2260 code (six digits) for province, prefecture and county level; below
    /// county level a stable slug under the county code, e.g. `110112-liyuan`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name as in the official division list, e.g. `通州区`.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Administrative level.
    async fn level(&self) -> RegionLevel {
        self.0.level
    }

    /// The region directly above; null for a province.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        let Some(code) = &self.0.parent_code else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(RegionByCode(code.clone())).await?.map(RegionNode))
    }

    /// Every region above this one, from the province down to the parent.
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<RegionNode>> {
        let mut list = ctx.data::<Loaders>()?.many(AncestorsOfRegion(self.0.code.clone())).await?;
        list.reverse();
        Ok(list.into_iter().map(RegionNode).collect())
    }

    /// The regions directly below this one, ordered by code.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<RegionNode>> {
        let list = ctx.data::<Loaders>()?.many(ChildrenOfRegion(self.0.code.clone())).await?;
        Ok(list.into_iter().map(RegionNode).collect())
    }

    /// Regions below this one at any depth, ordered by code.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn descendants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only descendants at this level.")] level: Option<RegionLevel>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<RegionConnection> {
        let filter = RegionFilter { level, ancestor: Some(self.0.code.clone()), ..RegionFilter::default() };
        region_page(ctx, filter, first, after).await
    }

    /// Job fairs this region held or co-hosted (not those of regions below it), by id, from
    /// current report revisions. Batched: many regions' pages cost one statement.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn job_fairs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<JobFairConnection> {
        let page = PageRequest { first: page_size(first, "first")?, after: ids::after::<i64>(after.as_deref())? };
        let key = JobFairsOfRegion {
            region: self.0.code.clone(),
            first: page.first,
            after: page.after,
            with_total: wants_total(ctx),
        };
        let (items, total) = ctx.data::<Loaders>()?.one(key).await?.unwrap_or((Page::from_overfetch(Vec::new(), 0), 0));
        Ok(JobFairConnection::new(items, page.after.is_some(), total, |r: &JobFairRow| r.id, JobFairNode))
    }

    /// Alliances this region is a direct member of.
    async fn alliances(&self, ctx: &Context<'_>) -> Result<Vec<AllianceNode>> {
        let list = ctx.data::<Loaders>()?.many(AlliancesOfRegion(self.0.code.clone())).await?;
        Ok(list.into_iter().map(AllianceNode).collect())
    }

    /// Report excerpts that name this region; empty for a region filled in only as a parent.
    async fn sources(&self, ctx: &Context<'_>) -> Result<Vec<SourceNode>> {
        let subject = Subject { kind: SubjectType::Region, key: self.0.code.clone() };
        let list = ctx.data::<Loaders>()?.many(SourcesOf(subject)).await?;
        Ok(list.into_iter().map(SourceNode).collect())
    }
}

/// Which regions to list.
#[derive(InputObject, Default)]
#[graphql(name = "RegionFilter")]
pub struct RegionFilterInput {
    /// Only regions at this level.
    pub level: Option<RegionLevel>,
    /// Only the direct children of the region with this code.
    pub parent: Option<String>,
    /// Only regions below the region with this code, at any depth.
    pub ancestor: Option<String>,
    /// Only regions whose name contains this text.
    pub name_contains: Option<String>,
}

/// Root fields for regions.
#[derive(Default)]
pub struct RegionQuery;

/// Root fields for regions.
#[Object]
impl RegionQuery {
    /// The region with this code, e.g. `110112` (通州区). Errors with `NOT_FOUND` if there is none.
    async fn region(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "GB/T 2260 code, or slug below county level.")] code: String,
    ) -> Result<Option<RegionNode>> {
        Ok(Some(RegionNode(ctx.data::<Services>()?.region(&code).await?)))
    }

    /// Regions, ordered by code.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn regions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which regions to list; all when omitted.")] filter: Option<RegionFilterInput>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<RegionConnection> {
        let f = filter.unwrap_or_default();
        let filter =
            RegionFilter { level: f.level, parent: f.parent, ancestor: f.ancestor, name_contains: f.name_contains };
        region_page(ctx, filter, first, after).await
    }
}
