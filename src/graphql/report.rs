//! Reports and provenance.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::connection::{ReportConnection, wants_total};
use super::ids::{self, NodeId};
use super::loaders::{Loaders, RegionByCode, ReportById};
use super::region::RegionNode;
use super::scalars::Date;
use crate::domain::model::{Report, Source};
use crate::domain::query::{PageRequest, ReportFilter};
use crate::domain::{Services, page_size};

/// The GraphQL `Report` object over a domain [`Report`].
pub struct ReportNode(pub Report);

/// A published or submitted report of a region: the origin of every figure and record.
#[Object(name = "Report")]
impl ReportNode {
    /// Global ID of this report (for `node` and `report`).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Report(self.0.id).encode()
    }

    /// Stable key of the report, e.g. `tongzhou-yearbook-2013`.
    async fn key(&self) -> &str {
        &self.0.key
    }

    /// Title as published.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Who published it (a newspaper, an office); null when the text does not say.
    async fn publisher(&self) -> Option<&str> {
        self.0.publisher.as_deref()
    }

    /// Publication date; null when the text does not give one.
    async fn published_on(&self) -> Option<Date> {
        self.0.published_on.map(Date)
    }

    /// First day of the period the report covers.
    async fn period_start(&self) -> Option<Date> {
        self.0.period_start.map(Date)
    }

    /// Last day of the period the report covers.
    async fn period_end(&self) -> Option<Date> {
        self.0.period_end.map(Date)
    }

    /// How the period was determined: stated in the text, or inferred and from what.
    async fn period_note(&self) -> Option<&str> {
        self.0.period_note.as_deref()
    }

    /// Which revision of the report this is: 1 for the first submission of its key, then 2, 3 …
    async fn revision(&self) -> i64 {
        self.0.revision
    }

    /// Whether this is the current revision (aggregates count current revisions only).
    async fn is_current(&self) -> bool {
        self.0.superseded_by.is_none()
    }

    /// The revision that replaced this one; null for the current revision.
    async fn superseded_by(&self, ctx: &Context<'_>) -> Result<Option<ReportNode>> {
        let Some(id) = self.0.superseded_by else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(ReportById(id)).await?.map(ReportNode))
    }

    /// Name of the source text file the report was transcribed from.
    async fn source_file(&self) -> Option<&str> {
        self.0.source_file.as_deref()
    }

    /// Organization counts the report states.
    async fn organization_counts(&self, ctx: &Context<'_>) -> Result<Vec<super::figure::OrganizationCountNode>> {
        let list = ctx.data::<Loaders>()?.many(super::loaders::OrganizationCountsOf(self.0.id)).await?;
        Ok(list.into_iter().map(super::figure::OrganizationCountNode).collect())
    }

    /// Plan indicators the report states.
    async fn plan_indicators(&self, ctx: &Context<'_>) -> Result<Vec<super::figure::PlanIndicatorNode>> {
        let list = ctx.data::<Loaders>()?.many(super::loaders::PlanIndicatorsOf(self.0.id)).await?;
        Ok(list.into_iter().map(super::figure::PlanIndicatorNode).collect())
    }

    /// Catalog metrics the report states.
    async fn metric_figures(&self, ctx: &Context<'_>) -> Result<Vec<super::figure::MetricFigureNode>> {
        let list = ctx.data::<Loaders>()?.many(super::loaders::MetricFiguresOf(self.0.id)).await?;
        Ok(list.into_iter().map(super::figure::MetricFigureNode).collect())
    }

    /// The region the report is about; null for reports spanning several unrelated regions.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        let Some(code) = &self.0.region_code else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(RegionByCode(code.clone())).await?.map(RegionNode))
    }
}

/// The GraphQL `Source` object over a domain [`Source`].
pub struct SourceNode(pub Source);

/// Where a record came from: a report and the verbatim excerpt of it that names or states it.
#[Object(name = "Source")]
impl SourceNode {
    /// The report.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<ReportNode>> {
        Ok(ctx.data::<Loaders>()?.one(ReportById(self.0.report_id)).await?.map(ReportNode))
    }

    /// The passage of the report, verbatim.
    async fn excerpt(&self) -> &str {
        &self.0.excerpt
    }
}

/// Which reports to list.
#[derive(InputObject, Default)]
#[graphql(name = "ReportFilter")]
pub struct ReportFilterInput {
    /// Only reports about the region with this code…
    pub region: Option<String>,
    /// …or, when true, about it or any region below it.
    #[graphql(default = false)]
    pub include_descendants: bool,
    /// Only reports whose title contains this text.
    pub title_contains: Option<String>,
    /// Also list revisions a later revision superseded (default: current revisions only).
    #[graphql(default = false)]
    pub include_superseded: bool,
}

/// Root fields for reports.
#[derive(Default)]
pub struct ReportQuery;

/// Root fields for reports.
#[Object]
impl ReportQuery {
    /// The report with this ID. Errors with `NOT_FOUND` if there is none.
    async fn report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's global ID.")] id: ID,
    ) -> Result<Option<ReportNode>> {
        let id = NodeId::report(&id, "id")?;
        Ok(Some(ReportNode(ctx.data::<Services>()?.report(id).await?)))
    }

    /// Reports, in the order they were recorded.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which reports to list; all when omitted.")] filter: Option<ReportFilterInput>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<ReportConnection> {
        let services = ctx.data::<Services>()?;
        let page = PageRequest { first: page_size(first, "first")?, after: ids::after::<i64>(after.as_deref())? };
        let f = filter.unwrap_or_default();
        let filter = ReportFilter {
            region: f.region,
            include_descendants: f.include_descendants,
            title_contains: f.title_contains,
            include_superseded: f.include_superseded,
        };
        let filter = services.check_report_filter(filter, "filter").await?;
        let total = if wants_total(ctx) { services.count_reports(&filter).await? } else { 0 };
        let items = services.reports(&filter, &page).await?;
        Ok(ReportConnection::new(items, page.after.is_some(), total, |r: &Report| r.id, ReportNode))
    }
}
