//! The GraphQL schema: one module per domain, merged into the root types here.

pub mod alliance;
pub mod audit;
pub mod connection;
pub mod dashboard;
pub mod federation;
pub mod figure;
pub mod guard;
pub mod ids;
pub mod library;
pub mod live;
pub mod loaders;
pub mod organization;
pub mod region;
pub mod report;
pub mod scalars;
pub mod submission;

use async_graphql::{Context, ID, Interface, MergedObject, Object, Result, Schema, SchemaBuilder};

use crate::domain::Services;
use alliance::{AgreementNode, AllianceNode, AllianceQuery};
use audit::AuditQuery;
use ids::NodeId;
use loaders::{AgreementById, AllianceById, Loaders, OrganizationById, RegionByCode, ReportById};
use organization::{OrganizationMutation, OrganizationNode, OrganizationQuery};
use region::{RegionNode, RegionQuery};
use report::{ReportNode, ReportQuery};

/// The schema type served by this service.
pub type AppSchema = Schema<Query, Mutation, live::Subscription>;

/// Anything with a global ID, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global ID, unique across all types."))]
pub enum Node {
    /// A region.
    Region(RegionNode),
    /// An alliance.
    Alliance(AllianceNode),
    /// An agreement.
    Agreement(AgreementNode),
    /// An organization.
    Organization(OrganizationNode),
    /// A report.
    Report(ReportNode),
    /// A resource library (only one the caller may read).
    ResourceLibrary(library::LibraryNode),
    /// A resource (only one the caller may read; contact details masked as in `resources`).
    Resource(library::ResourceNode),
    /// A job fair or series total.
    JobFair(figure::JobFairNode),
    /// A case statistic.
    CaseStatistic(figure::CaseStatisticNode),
    /// An organization count.
    OrganizationCount(figure::OrganizationCountNode),
    /// A plan indicator.
    PlanIndicator(figure::PlanIndicatorNode),
    /// A catalog metric's value.
    MetricFigure(figure::MetricFigureNode),
}

/// Root field `node`.
#[derive(Default)]
pub struct NodeQuery;

/// Root field `node`.
#[Object]
impl NodeQuery {
    /// The object with this global ID; null if it no longer exists. A malformed ID is an error.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID from any `id` field.")] id: ID,
    ) -> Result<Option<Node>> {
        let loaders = ctx.data::<Loaders>()?;
        Ok(match NodeId::decode(&id, "id")? {
            NodeId::Region(code) => loaders.one(RegionByCode(code)).await?.map(|r| Node::Region(RegionNode(r))),
            NodeId::Alliance(id) => loaders.one(AllianceById(id)).await?.map(|a| Node::Alliance(AllianceNode(a))),
            NodeId::Agreement(id) => loaders.one(AgreementById(id)).await?.map(|a| Node::Agreement(AgreementNode(a))),
            NodeId::Organization(id) => {
                loaders.one(OrganizationById(id)).await?.map(|o| Node::Organization(OrganizationNode(o)))
            }
            NodeId::Report(id) => loaders.one(ReportById(id)).await?.map(|r| Node::Report(ReportNode(r))),
            NodeId::ResourceLibrary(id) => {
                let services = ctx.data::<crate::domain::Services>()?;
                match services.resource_library(ctx.data::<crate::domain::access::Caller>()?, id).await {
                    Ok((library, access)) => Some(Node::ResourceLibrary(library::LibraryNode(library, access))),
                    Err(crate::error::AppError::NotFound(_)) => None,
                    Err(other) => return Err(other.into()),
                }
            }
            NodeId::Figure(kind, id) => {
                let services = ctx.data::<crate::domain::Services>()?;
                services.figures(kind, &[id]).await?.into_iter().next().map(|row| match figure::Figure::from(row) {
                    figure::Figure::JobFair(f) => Node::JobFair(f),
                    figure::Figure::CaseStatistic(f) => Node::CaseStatistic(f),
                    figure::Figure::OrganizationCount(f) => Node::OrganizationCount(f),
                    figure::Figure::PlanIndicator(f) => Node::PlanIndicator(f),
                    figure::Figure::MetricFigure(f) => Node::MetricFigure(f),
                })
            }
            NodeId::Resource(id) => {
                let services = ctx.data::<crate::domain::Services>()?;
                let filter = crate::domain::ResourceFilter { id: Some(id), ..Default::default() };
                let page = crate::domain::query::PageRequest { first: 1, after: None };
                let caller = ctx.data::<crate::domain::access::Caller>()?;
                let (found, _) = services.resources(caller, &filter, &page, false).await?;
                found.items.into_iter().next().map(|(_, r)| Node::Resource(library::ResourceNode(r)))
            }
        })
    }
}

/// The root of every query: regions, alliances, organizations and the reports they come from.
#[derive(MergedObject, Default)]
pub struct Query(
    NodeQuery,
    RegionQuery,
    AllianceQuery,
    OrganizationQuery,
    ReportQuery,
    AuditQuery,
    dashboard::DashboardQuery,
    figure::FigureQuery,
    figure::AnyFigureQuery,
    library::LibraryQuery,
    federation::EntityQuery,
);

/// The root of every write. Mutations are only accepted over POST.
#[derive(MergedObject, Default)]
pub struct Mutation(OrganizationMutation, submission::SubmissionMutation, library::LibraryMutation);

/// The schema with its types registered, before per-process data is attached.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, live::Subscription> {
    Schema::build(Query::default(), Mutation::default(), live::Subscription)
        .register_output_type::<Node>()
        .register_output_type::<figure::Figure>()
        .enable_federation()
}

/// The schema for a running service, with its query limits.
pub fn build_schema(services: Services, settings: &crate::http::HttpSettings) -> AppSchema {
    let builder = schema_builder()
        .data(services)
        .extension(guard::Guard)
        .limit_depth(settings.max_depth)
        .limit_complexity(settings.max_complexity);
    // Without introspection, error messages suggest no names either ("Did you mean …?").
    if settings.introspection {
        builder.finish()
    } else {
        builder.disable_introspection().disable_suggestions().finish()
    }
}

/// The SDL of the schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// The cost of a connection field for the complexity limit: its page size (as asked, within
/// the allowed range) times the cost of one item, plus one for the field itself.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = first.map_or(crate::domain::query::DEFAULT_PAGE_SIZE, |n| n.clamp(0, 100) as usize);
    first.saturating_mul(child_complexity).saturating_add(1)
}
