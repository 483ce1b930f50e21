//! Apollo Federation v2: the entities other subgraphs may reference, resolved through the
//! request's DataLoaders (a gateway's `_entities` call with 100 representations costs one
//! batch per type, like a nested query).

use async_graphql::{Context, ID, Object, Result};

use super::alliance::AllianceNode;
use super::ids::NodeId;
use super::library::LibraryNode;
use super::loaders::{Loaders, OrganizationById, RegionByCode, ReportById};
use super::organization::OrganizationNode;
use super::region::RegionNode;
use super::report::ReportNode;
use crate::domain::Services;
use crate::domain::access::Caller;
use crate::error::AppError;

/// Entity resolvers (`_entities`); not visible as root fields.
#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    /// A region by its GB/T 2260 code (`@key(fields: "code")`).
    #[graphql(entity)]
    async fn find_region_by_code(&self, ctx: &Context<'_>, code: String) -> Result<Option<RegionNode>> {
        Ok(ctx.data::<Loaders>()?.one(RegionByCode(code)).await?.map(RegionNode))
    }

    /// An organization by its global ID (`@key(fields: "id")`).
    #[graphql(entity)]
    async fn find_organization_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<OrganizationNode>> {
        let id = NodeId::organization(&id, "representations.id")?;
        Ok(ctx.data::<Loaders>()?.one(OrganizationById(id)).await?.map(OrganizationNode))
    }

    /// A report by its global ID (`@key(fields: "id")`).
    #[graphql(entity)]
    async fn find_report_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ReportNode>> {
        let id = NodeId::report(&id, "representations.id")?;
        Ok(ctx.data::<Loaders>()?.one(ReportById(id)).await?.map(ReportNode))
    }

    /// An alliance by its slug (`@key(fields: "slug")`).
    #[graphql(entity)]
    async fn find_alliance_by_slug(&self, ctx: &Context<'_>, slug: String) -> Result<Option<AllianceNode>> {
        match ctx.data::<Services>()?.alliance(&slug).await {
            Ok(alliance) => Ok(Some(AllianceNode(alliance))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// A resource library by its global ID (`@key(fields: "id")`), if the caller may read it.
    #[graphql(entity)]
    async fn find_resource_library_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<LibraryNode>> {
        let id = NodeId::resource_library(&id, "representations.id")?;
        match ctx.data::<Services>()?.resource_library(ctx.data::<Caller>()?, id).await {
            Ok((library, access)) => Ok(Some(LibraryNode(library, access))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }
}
