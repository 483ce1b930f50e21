//! Figures as lists: job fairs and case statistics, each traceable to its report and excerpt.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::alliance::AllianceNode;
use super::connection::{CaseStatisticConnection, FigureConnection, JobFairConnection, wants_total};
use super::ids::{self, NodeId};
use super::loaders::{AllianceById, Loaders, OrganizationById, RegionByCode, ReportById};
use super::organization::OrganizationNode;
use super::region::RegionNode;
use super::report::ReportNode;
use super::scalars::Date;
use crate::domain::figures::{CaseCategory, FairMode, PerUnit, Spread};
use crate::domain::model::Qualifier;
use crate::domain::query::PageRequest;
use crate::domain::{Services, page_size};
use crate::store::figure_lists::{
    AnyFigureFilter, AnyFigureRow, CaseStatisticRow, FigureFilter, FigureKind, JobFairRow,
};

/// A number as a report states it, with how exact the statement is.
#[derive(SimpleObject)]
pub struct FigureCount {
    /// The number stated.
    pub value: i64,
    /// Exact, a lower bound ("more than"), or approximate ("nearly").
    pub qualifier: Qualifier,
}

fn figure_count(value: Option<i64>, qualifier: &Option<String>) -> Option<FigureCount> {
    value.map(|value| FigureCount {
        value,
        qualifier: qualifier.as_deref().and_then(|q| q.parse().ok()).unwrap_or(Qualifier::Exact),
    })
}

/// The GraphQL `JobFair` object over a stored job-fair figure.
pub struct JobFairNode(pub JobFairRow);

/// A job fair, or a reported total over a series of fairs (`isSeries`, with `fairs`).
#[Object(name = "JobFair")]
impl JobFairNode {
    /// Global ID of this figure (a figure of a later revision of its report is another figure).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Figure(FigureKind::JobFair, self.0.id).encode()
    }

    /// Whether this is a reported series total rather than one fair.
    async fn is_series(&self) -> bool {
        self.0.is_series
    }

    /// The day of a single fair.
    async fn held_on(&self) -> Option<Date> {
        self.0.held_on.map(Date)
    }

    /// On site, online or both.
    async fn mode(&self) -> Option<FairMode> {
        self.0.mode.as_deref().and_then(|m| m.parse().ok())
    }

    /// First day of the period the figure covers.
    async fn period_start(&self) -> Option<Date> {
        self.0.period_start.map(Date)
    }

    /// Last day of the period the figure covers.
    async fn period_end(&self) -> Option<Date> {
        self.0.period_end.map(Date)
    }

    /// How the period was determined.
    async fn period_note(&self) -> Option<String> {
        self.0.period_note.clone()
    }

    /// The region the figure is about (null for an alliance's own figure).
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        region_of(ctx, self.0.region_code.as_deref()).await
    }

    /// The alliance, for a figure about an alliance as a whole.
    async fn alliance(&self, ctx: &Context<'_>) -> Result<Option<AllianceNode>> {
        let Some(id) = self.0.alliance_id else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(AllianceById(id)).await?.map(AllianceNode))
    }

    /// The organization, for a figure about one organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        let Some(id) = self.0.organization_id else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(OrganizationById(id)).await?.map(OrganizationNode))
    }

    /// Organizing bodies, as keys or names.
    async fn organizers(&self) -> Vec<String> {
        self.0.organizers.as_deref().and_then(|o| serde_json::from_str(o).ok()).unwrap_or_default()
    }

    /// Number of fairs in a series total.
    async fn fairs(&self) -> Option<FigureCount> {
        figure_count(self.0.fairs, &self.0.fairs_q)
    }

    /// Employers taking part.
    async fn employers(&self) -> Option<FigureCount> {
        figure_count(self.0.employers, &self.0.employers_q)
    }

    /// Positions offered.
    async fn positions_offered(&self) -> Option<FigureCount> {
        figure_count(self.0.positions_offered, &self.0.positions_offered_q)
    }

    /// Job seekers attending.
    async fn job_seekers(&self) -> Option<FigureCount> {
        figure_count(self.0.job_seekers, &self.0.job_seekers_q)
    }

    /// Employment intents signed.
    async fn intents(&self) -> Option<FigureCount> {
        figure_count(self.0.intents, &self.0.intents_q)
    }

    /// People hired.
    async fn hires(&self) -> Option<FigureCount> {
        figure_count(self.0.hires, &self.0.hires_q)
    }

    /// Remarks recorded with the figure (units, judgement calls).
    async fn note(&self) -> Option<String> {
        self.0.note.clone()
    }

    /// What tells the figure apart from others of its report filed under the same code, in
    /// the report's own words (docs/aggregation.md §2.3); empty when nothing needs to.
    async fn dimensions(&self) -> Result<Vec<FigureDimension>> {
        figure_dimensions(&self.0.dimensions)
    }

    /// The report the figure comes from.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<ReportNode>> {
        report_of(ctx, self.0.report_id).await
    }

    /// The report's passage that states the figure, verbatim.
    async fn excerpt(&self) -> String {
        self.0.excerpt.clone()
    }
}

/// The GraphQL `CaseStatistic` object over a stored case-statistic figure.
pub struct CaseStatisticNode(pub CaseStatisticRow);

/// Cases of one category in one region (or organization) over one period.
#[Object(name = "CaseStatistic")]
impl CaseStatisticNode {
    /// Global ID of this figure (a figure of a later revision of its report is another figure).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Figure(FigureKind::CaseStatistic, self.0.id).encode()
    }

    /// Always null: case statistics are about a region or an organization, never an alliance
    /// as a whole.
    async fn alliance(&self) -> Option<AllianceNode> {
        None
    }

    /// What kind of cases.
    async fn category(&self) -> Option<CaseCategory> {
        self.0.category.parse().ok()
    }

    /// What `received` and `resolved` count: `cases` unless the report counts otherwise
    /// (`person_times` for 人次, `times` for calls or services, `couples`, `people`).
    async fn unit(&self) -> &str {
        &self.0.unit
    }

    /// For a per-unit statement ("每年…"): the calendar unit its numbers are stated for; a
    /// summary counts them once per unit of the period. Null otherwise.
    async fn per(&self) -> Result<Option<PerUnit>> {
        stored_vocabulary(self.0.per.as_deref())
    }

    /// For a per-unit statement: whether each unit has the numbers (EACH) or they are the units'
    /// average (AVERAGE, each unit's share approximate).
    async fn spread(&self) -> Result<Option<Spread>> {
        stored_vocabulary(self.0.spread.as_deref())
    }

    /// First day of the period.
    async fn period_start(&self) -> Date {
        Date(self.0.period_start)
    }

    /// Last day of the period.
    async fn period_end(&self) -> Date {
        Date(self.0.period_end)
    }

    /// How the period was determined.
    async fn period_note(&self) -> Option<String> {
        self.0.period_note.clone()
    }

    /// Whether this is a total over several years.
    async fn cumulative(&self) -> bool {
        self.0.cumulative
    }

    /// The region.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        region_of(ctx, Some(&self.0.region_code)).await
    }

    /// The organization, for a figure about one organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        let Some(id) = self.0.organization_id else { return Ok(None) };
        Ok(ctx.data::<Loaders>()?.one(OrganizationById(id)).await?.map(OrganizationNode))
    }

    /// Cases received.
    async fn received(&self) -> Option<FigureCount> {
        figure_count(self.0.received, &self.0.received_q)
    }

    /// Cases resolved or mediated.
    async fn resolved(&self) -> Option<FigureCount> {
        figure_count(self.0.resolved, &self.0.resolved_q)
    }

    /// People aided.
    async fn people_aided(&self) -> Option<FigureCount> {
        figure_count(self.0.people_aided, &self.0.people_aided_q)
    }

    /// Money disbursed, in yuan.
    async fn amount_aided(&self) -> Option<f64> {
        self.0.amount_aided
    }

    /// How exact `amountAided` is as stated ("近百万元" is APPROXIMATE); null without an amount.
    async fn amount_aided_qualifier(&self) -> Option<Qualifier> {
        self.0
            .amount_aided
            .map(|_| self.0.amount_aided_q.as_deref().and_then(|q| q.parse().ok()).unwrap_or(Qualifier::Exact))
    }

    /// A resolution rate the report states (percent), as stated.
    async fn reported_rate(&self) -> Option<f64> {
        self.0.reported_rate
    }

    /// How exact the stated rate is ("调解率达98%以上": AT_LEAST); null without a rate.
    async fn reported_rate_qualifier(&self) -> Result<Option<Qualifier>> {
        stored_qualifier(self.0.reported_rate.map(|_| self.0.reported_rate_q.as_deref()))
    }

    /// Remarks recorded with the figure.
    async fn note(&self) -> Option<String> {
        self.0.note.clone()
    }

    /// What tells the figure apart from others of its report filed under the same code, in
    /// the report's own words (docs/aggregation.md §2.3); empty when nothing needs to.
    async fn dimensions(&self) -> Result<Vec<FigureDimension>> {
        figure_dimensions(&self.0.dimensions)
    }

    /// The report the figure comes from.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<ReportNode>> {
        report_of(ctx, self.0.report_id).await
    }

    /// The report's passage that states the figure, verbatim.
    async fn excerpt(&self) -> String {
        self.0.excerpt.clone()
    }
}

/// Which job fairs to list.
#[derive(InputObject, Default)]
pub struct JobFairFilter {
    /// Only figures of the region with this code…
    pub region: Option<String>,
    /// …or of it and every region below it.
    #[graphql(default = false)]
    pub include_descendants: bool,
    /// Only figures of this alliance as a whole (slug).
    pub alliance: Option<String>,
    /// Only figures of this report revision (ID).
    pub report: Option<ID>,
    /// Only figures whose whole period lies on or after this day…
    pub from: Option<Date>,
    /// …and on or before this day.
    pub to: Option<Date>,
}

/// Which case statistics to list.
#[derive(InputObject, Default)]
pub struct CaseStatisticFilter {
    /// Only figures of the region with this code…
    pub region: Option<String>,
    /// …or of it and every region below it.
    #[graphql(default = false)]
    pub include_descendants: bool,
    /// Only this category.
    pub category: Option<CaseCategory>,
    /// Only figures of this report revision (ID).
    pub report: Option<ID>,
    /// Only figures whose whole period lies on or after this day…
    pub from: Option<Date>,
    /// …and on or before this day.
    pub to: Option<Date>,
}

/// Root fields for figure lists.
#[derive(Default)]
pub struct FigureQuery;

/// Root fields for figure lists.
#[Object]
impl FigureQuery {
    /// Job fairs and job-fair series totals as reported, by id (current report revisions,
    /// or the given report's).
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn job_fairs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which job fairs to list; all when omitted.")] filter: Option<JobFairFilter>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<JobFairConnection> {
        let services = ctx.data::<Services>()?;
        let page = PageRequest { first: page_size(first, "first")?, after: ids::after::<i64>(after.as_deref())? };
        let f = filter.unwrap_or_default();
        let alliance_id = match &f.alliance {
            Some(slug) => Some(services.alliance(slug).await?.id),
            None => None,
        };
        let filter = FigureFilter {
            region: f.region,
            include_descendants: f.include_descendants,
            alliance_id,
            report_id: f.report.map(|id| NodeId::report(&id, "filter.report")).transpose()?,
            from: f.from.map(|d| d.0),
            to: f.to.map(|d| d.0),
            category: None,
            include_superseded: false,
        };
        services.check_figure_filter(&filter, "filter").await?;
        let (items, total) = services.job_fairs(&filter, &page, wants_total(ctx)).await?;
        Ok(JobFairConnection::new(items, page.after.is_some(), total, |r: &JobFairRow| r.id, JobFairNode))
    }

    /// Case statistics as reported, by id (current report revisions, or the given report's).
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn case_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which case statistics to list; all when omitted.")] filter: Option<CaseStatisticFilter>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<CaseStatisticConnection> {
        let services = ctx.data::<Services>()?;
        let page = PageRequest { first: page_size(first, "first")?, after: ids::after::<i64>(after.as_deref())? };
        let f = filter.unwrap_or_default();
        let filter = FigureFilter {
            region: f.region,
            include_descendants: f.include_descendants,
            alliance_id: None,
            report_id: f.report.map(|id| NodeId::report(&id, "filter.report")).transpose()?,
            from: f.from.map(|d| d.0),
            to: f.to.map(|d| d.0),
            category: f.category.map(|c| c.as_str().to_owned()),
            include_superseded: false,
        };
        services.check_figure_filter(&filter, "filter").await?;
        let (items, total) = services.case_statistics(&filter, &page, wants_total(ctx)).await?;
        Ok(CaseStatisticConnection::new(
            items,
            page.after.is_some(),
            total,
            |r: &CaseStatisticRow| r.id,
            CaseStatisticNode,
        ))
    }
}

/// The GraphQL `OrganizationCount` object over a stored organization-count figure.
pub struct OrganizationCountNode(pub crate::store::figure_lists::OrganizationCountRow);

/// A count of organizations a report states ("609个妇女之家"); a subset names its total in `partOf`.
#[Object(name = "OrganizationCount")]
impl OrganizationCountNode {
    /// Global ID of this figure (a figure of a later revision of its report is another figure).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Figure(FigureKind::OrganizationCount, self.0.id).encode()
    }

    /// First day of the period the figure covers.
    async fn period_start(&self) -> Option<Date> {
        self.0.period_start.map(Date)
    }

    /// Last day of the period the figure covers.
    async fn period_end(&self) -> Option<Date> {
        self.0.period_end.map(Date)
    }

    /// How the period was determined.
    async fn period_note(&self) -> Option<String> {
        self.0.period_note.clone()
    }

    /// The alliance, for a figure about an alliance as a whole.
    async fn alliance(&self, ctx: &Context<'_>) -> Result<Option<AllianceNode>> {
        alliance_of(ctx, self.0.alliance_id).await
    }

    /// The organization, for a figure about one organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        organization_of(ctx, self.0.organization_id).await
    }

    /// The report (revision) the figure comes from.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<ReportNode>> {
        report_of(ctx, self.0.report_id).await
    }

    /// The report's own term for what is counted.
    async fn label(&self) -> &str {
        &self.0.label
    }

    /// Which kind of organization is counted.
    async fn kind(&self) -> Option<crate::domain::model::OrganizationKind> {
        self.0.organization_kind.parse().ok()
    }

    /// Which sector, if the count is of one.
    async fn sector(&self) -> Option<crate::domain::model::OrganizationSector> {
        self.0.sector.as_deref().and_then(|s| s.parse().ok())
    }

    /// How many.
    async fn count(&self) -> FigureCount {
        figure_count(Some(self.0.count), &Some(self.0.count_q.clone())).expect("a count is always present")
    }

    /// Whether this count is a subset ("of which") of another figure of the report.
    async fn is_subset(&self) -> bool {
        self.0.part_of.is_some()
    }

    /// The date the count describes (the end of its period).
    async fn as_of(&self) -> Option<Date> {
        self.0.period_end.or(self.0.period_start).map(Date)
    }

    /// The region counted in (null for an alliance's own figure).
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        region_of(ctx, self.0.region_code.as_deref()).await
    }

    /// Remarks recorded with the figure.
    async fn note(&self) -> Option<String> {
        self.0.note.clone()
    }

    /// What tells the figure apart from others of its report filed under the same code, in
    /// the report's own words (docs/aggregation.md §2.3); empty when nothing needs to.
    async fn dimensions(&self) -> Result<Vec<FigureDimension>> {
        figure_dimensions(&self.0.dimensions)
    }

    /// The report's passage that states it, verbatim.
    async fn excerpt(&self) -> String {
        self.0.excerpt.clone()
    }
}

/// The GraphQL `PlanIndicator` object over a stored plan-indicator figure.
pub struct PlanIndicatorNode(pub crate::store::figure_lists::PlanIndicatorRow);

/// A development plan's monitoring indicators: how many, and how many were met.
#[Object(name = "PlanIndicator")]
impl PlanIndicatorNode {
    /// Global ID of this figure (a figure of a later revision of its report is another figure).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Figure(FigureKind::PlanIndicator, self.0.id).encode()
    }

    /// How the period was determined.
    async fn period_note(&self) -> Option<String> {
        self.0.period_note.clone()
    }

    /// The alliance, for a figure about an alliance as a whole.
    async fn alliance(&self, ctx: &Context<'_>) -> Result<Option<AllianceNode>> {
        alliance_of(ctx, self.0.alliance_id).await
    }

    /// The organization, for a figure about one organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        organization_of(ctx, self.0.organization_id).await
    }

    /// The report (revision) the figure comes from.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<ReportNode>> {
        report_of(ctx, self.0.report_id).await
    }

    /// The plan's name as written.
    async fn plan(&self) -> &str {
        &self.0.plan
    }

    /// Number of areas the indicators fall into.
    async fn areas(&self) -> Option<i64> {
        self.0.areas
    }

    /// How exact the number of areas is; null without one.
    async fn areas_qualifier(&self) -> Result<Option<Qualifier>> {
        stored_qualifier(self.0.areas.map(|_| self.0.areas_q.as_deref()))
    }

    /// Indicators monitored.
    async fn total(&self) -> FigureCount {
        figure_count(Some(self.0.total), &Some(self.0.total_q.clone())).expect("always present")
    }

    /// Indicators met.
    async fn met(&self) -> FigureCount {
        figure_count(Some(self.0.met), &Some(self.0.met_q.clone())).expect("always present")
    }

    /// First day of the period.
    async fn period_start(&self) -> Option<Date> {
        self.0.period_start.map(Date)
    }

    /// Last day of the period.
    async fn period_end(&self) -> Option<Date> {
        self.0.period_end.map(Date)
    }

    /// The region the plan is for.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        region_of(ctx, self.0.region_code.as_deref()).await
    }

    /// Remarks recorded with the figure.
    async fn note(&self) -> Option<String> {
        self.0.note.clone()
    }

    /// What tells the figure apart from others of its report filed under the same code, in
    /// the report's own words (docs/aggregation.md §2.3); empty when nothing needs to.
    async fn dimensions(&self) -> Result<Vec<FigureDimension>> {
        figure_dimensions(&self.0.dimensions)
    }

    /// The report's passage that states it, verbatim.
    async fn excerpt(&self) -> String {
        self.0.excerpt.clone()
    }
}

/// The GraphQL `MetricFigure` object over a stored catalog-metric figure.
pub struct MetricFigureNode(pub crate::store::figure_lists::MetricFigureRow);

/// A catalog metric's value as a report states it.
#[Object(name = "MetricFigure")]
impl MetricFigureNode {
    /// Global ID of this figure (a figure of a later revision of its report is another figure).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Figure(FigureKind::Metric, self.0.id).encode()
    }

    /// How the period was determined.
    async fn period_note(&self) -> Option<String> {
        self.0.period_note.clone()
    }

    /// The alliance, for a figure about an alliance as a whole.
    async fn alliance(&self, ctx: &Context<'_>) -> Result<Option<AllianceNode>> {
        alliance_of(ctx, self.0.alliance_id).await
    }

    /// The organization, for a figure about one organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        organization_of(ctx, self.0.organization_id).await
    }

    /// The report (revision) the figure comes from.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<ReportNode>> {
        report_of(ctx, self.0.report_id).await
    }

    /// The metric's code (see `metrics` for its unit and nature).
    async fn metric(&self) -> &str {
        &self.0.metric
    }

    /// The value.
    async fn value(&self) -> f64 {
        self.0.value
    }

    /// How exact the statement is.
    async fn qualifier(&self) -> Qualifier {
        self.0.value_q.parse().unwrap_or(Qualifier::Exact)
    }

    /// What the value counts, as the metric catalog states it (e.g. `count`, `yuan`).
    async fn unit(&self) -> &str {
        &self.0.unit
    }

    /// For a per-unit statement ("每年…"): the calendar unit its numbers are stated for; a
    /// summary counts them once per unit of the period. Null otherwise.
    async fn per(&self) -> Result<Option<PerUnit>> {
        stored_vocabulary(self.0.per.as_deref())
    }

    /// For a per-unit statement: whether each unit has the numbers (EACH) or they are the units'
    /// average (AVERAGE, each unit's share approximate).
    async fn spread(&self) -> Result<Option<Spread>> {
        stored_vocabulary(self.0.spread.as_deref())
    }

    /// Whether this is a total over several years.
    async fn cumulative(&self) -> bool {
        self.0.cumulative
    }

    /// Whether this value is a subset ("of which") of another figure of the report.
    async fn is_subset(&self) -> bool {
        self.0.part_of.is_some()
    }

    /// First day of the period.
    async fn period_start(&self) -> Option<Date> {
        self.0.period_start.map(Date)
    }

    /// Last day of the period.
    async fn period_end(&self) -> Option<Date> {
        self.0.period_end.map(Date)
    }

    /// The region it counts towards (null for an alliance's own figure).
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        region_of(ctx, self.0.region_code.as_deref()).await
    }

    /// Remarks recorded with the figure (units, judgement calls).
    async fn note(&self) -> Option<String> {
        self.0.note.clone()
    }

    /// What tells the figure apart from others of its report filed under the same code, in
    /// the report's own words (docs/aggregation.md §2.3); empty when nothing needs to.
    async fn dimensions(&self) -> Result<Vec<FigureDimension>> {
        figure_dimensions(&self.0.dimensions)
    }

    /// The report's passage that states it, verbatim.
    async fn excerpt(&self) -> String {
        self.0.excerpt.clone()
    }
}

async fn report_of(ctx: &Context<'_>, id: i64) -> Result<Option<ReportNode>> {
    Ok(ctx.data::<Loaders>()?.one(ReportById(id)).await?.map(ReportNode))
}

async fn region_of(ctx: &Context<'_>, code: Option<&str>) -> Result<Option<RegionNode>> {
    let Some(code) = code else { return Ok(None) };
    Ok(ctx.data::<Loaders>()?.one(RegionByCode(code.to_owned())).await?.map(RegionNode))
}

async fn alliance_of(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<AllianceNode>> {
    let Some(id) = id else { return Ok(None) };
    Ok(ctx.data::<Loaders>()?.one(AllianceById(id)).await?.map(AllianceNode))
}

async fn organization_of(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<OrganizationNode>> {
    let Some(id) = id else { return Ok(None) };
    Ok(ctx.data::<Loaders>()?.one(OrganizationById(id)).await?.map(OrganizationNode))
}

/// A statement of a report with a number in it, of any kind: what every figure has.
// (Two fields of one type are spelled differently: clippy's `duplicated_attributes` reads two
// equal `ty = "…"` as one attribute given twice.)
#[derive(async_graphql::Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global ID of the figure (for `node`)."))]
#[graphql(field(name = "report", ty = "Option<ReportNode>", desc = "The report (revision) the figure comes from."))]
#[graphql(field(
    name = "region",
    ty = "Option<RegionNode>",
    desc = "The region the figure is about, if it is about a region or one of its organizations."
))]
#[graphql(field(
    name = "alliance",
    ty = "Option<AllianceNode>",
    desc = "The alliance, for a figure about an alliance as a whole."
))]
#[graphql(field(
    name = "organization",
    ty = "Option<OrganizationNode>",
    desc = "The organization, for a figure about one organization."
))]
#[graphql(field(
    name = "period_start",
    ty = "Option<Date>",
    desc = "First day of the period (null when the report gives none, as for \"累计\")."
))]
#[graphql(field(name = "period_end", ty = "std::option::Option<Date>", desc = "Last day of the period."))]
#[graphql(field(name = "period_note", ty = "Option<String>", desc = "How the period was determined."))]
#[graphql(field(name = "note", ty = "std::option::Option<String>", desc = "Remarks recorded with the figure."))]
#[graphql(field(
    name = "dimensions",
    ty = "Vec<FigureDimension>",
    desc = "What tells the figure apart from others of its report filed under the same code."
))]
#[graphql(field(name = "excerpt", ty = "String", desc = "The report's passage that states the figure, verbatim."))]
pub enum Figure {
    /// A job fair or series total.
    JobFair(JobFairNode),
    /// A case statistic.
    CaseStatistic(CaseStatisticNode),
    /// An organization count.
    OrganizationCount(OrganizationCountNode),
    /// A plan indicator.
    PlanIndicator(PlanIndicatorNode),
    /// A catalog metric's value.
    MetricFigure(MetricFigureNode),
}

impl From<AnyFigureRow> for Figure {
    fn from(row: AnyFigureRow) -> Self {
        match row {
            AnyFigureRow::JobFair(r) => Self::JobFair(JobFairNode(r)),
            AnyFigureRow::CaseStatistic(r) => Self::CaseStatistic(CaseStatisticNode(r)),
            AnyFigureRow::OrganizationCount(r) => Self::OrganizationCount(OrganizationCountNode(r)),
            AnyFigureRow::PlanIndicator(r) => Self::PlanIndicator(PlanIndicatorNode(r)),
            AnyFigureRow::Metric(r) => Self::MetricFigure(MetricFigureNode(r)),
        }
    }
}

/// The kind of a figure (its type), for filtering `figures`.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum FigureType {
    /// `JobFair`.
    JobFair,
    /// `CaseStatistic`.
    CaseStatistic,
    /// `OrganizationCount`.
    OrganizationCount,
    /// `PlanIndicator`.
    PlanIndicator,
    /// `MetricFigure`.
    MetricFigure,
}

impl From<FigureType> for FigureKind {
    fn from(t: FigureType) -> Self {
        match t {
            FigureType::JobFair => Self::JobFair,
            FigureType::CaseStatistic => Self::CaseStatistic,
            FigureType::OrganizationCount => Self::OrganizationCount,
            FigureType::PlanIndicator => Self::PlanIndicator,
            FigureType::MetricFigure => Self::Metric,
        }
    }
}

/// Which figures `figures` lists.
#[derive(InputObject, Default)]
pub struct FigureFilterInput {
    /// Only these kinds (all when omitted).
    pub types: Option<Vec<FigureType>>,
    /// Only figures of the region with this code…
    pub region: Option<String>,
    /// …or of it and every region below it.
    #[graphql(default = false)]
    pub include_descendants: bool,
    /// Only figures of this alliance as a whole (slug).
    pub alliance: Option<String>,
    /// Only figures of this report revision (ID); then superseded revisions' figures too.
    pub report: Option<ID>,
    /// Only values of this catalog metric (then only `MetricFigure`s).
    pub metric: Option<String>,
    /// Only figures whose whole period lies on or after this day…
    pub from: Option<Date>,
    /// …and on or before this day.
    pub to: Option<Date>,
}

/// The root list of figures of every kind.
#[derive(Default)]
pub struct AnyFigureQuery;

#[Object]
impl AnyFigureQuery {
    /// Every figure the reports state, of every kind, each with its report, scope, period and
    /// excerpt: by kind (job fairs, case statistics, organization counts, plan indicators,
    /// metric values), then in the order they were stored. Current report revisions only,
    /// unless `filter.report` names a revision.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn figures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which figures to list; all when omitted.")] filter: Option<FigureFilterInput>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<FigureConnection> {
        let services = ctx.data::<Services>()?;
        let page =
            PageRequest { first: page_size(first, "first")?, after: ids::after::<(i64, i64)>(after.as_deref())? };
        let f = filter.unwrap_or_default();
        let alliance_id = match &f.alliance {
            Some(slug) => Some(services.alliance(slug).await?.id),
            None => None,
        };
        if let Some(metric) = &f.metric
            && !services.metrics().await?.iter().any(|m| m.code == *metric)
        {
            let message = format!("{metric:?} is not in the metric catalog");
            return Err(crate::error::AppError::bad_input("filter.metric", message).into());
        }
        let filter = AnyFigureFilter {
            shared: FigureFilter {
                region: f.region,
                include_descendants: f.include_descendants,
                alliance_id,
                report_id: f.report.map(|id| NodeId::report(&id, "filter.report")).transpose()?,
                from: f.from.map(|d| d.0),
                to: f.to.map(|d| d.0),
                category: None,
                include_superseded: false,
            },
            kinds: f.types.unwrap_or_default().into_iter().map(FigureKind::from).collect(),
            metric: f.metric,
        };
        services.check_figure_filter(&filter.shared, "filter").await?;
        let (items, total) = services.any_figures(&filter, &page, wants_total(ctx)).await?;
        Ok(FigureConnection::new(items, page.after.is_some(), total, figure_key, Figure::from))
    }
}

fn figure_key(row: &AnyFigureRow) -> (i64, i64) {
    let (kind, id) = row.key();
    (kind.rank(), id)
}

/// One dimension of what a figure counts, in the report's own words (docs/aggregation.md §2.3).
#[derive(SimpleObject)]
pub struct FigureDimension {
    /// What kind of distinction (`subject`, `designation`, `audience`, `basis` …).
    pub key: String,
    /// The report's words.
    pub value: String,
}

/// Decodes stored dimensions; text the store cannot read is an error, never "no dimensions".
fn figure_dimensions(stored: &str) -> Result<Vec<FigureDimension>> {
    let dimensions = crate::domain::figures::dimensions_from_text(stored)
        .ok_or_else(|| async_graphql::Error::new(format!("unreadable stored dimensions {stored:?}")))?;
    Ok(dimensions.into_iter().map(|d| FigureDimension { key: d.key, value: d.value }).collect())
}

/// A stored qualifier of an optional number: `None` without the number; a number stored before
/// qualifiers were kept for it (no text) is as stated, exact; text the store cannot read is an
/// error, never a silent default.
fn stored_qualifier(stored: Option<Option<&str>>) -> Result<Option<Qualifier>> {
    match stored {
        None => Ok(None),
        Some(None) => Ok(Some(Qualifier::Exact)),
        Some(Some(text)) => text
            .parse()
            .map(Some)
            .map_err(|_| async_graphql::Error::new(format!("unreadable stored qualifier {text:?}"))),
    }
}

/// Stored vocabulary text (per-unit marks): text the store cannot read is an error, never a
/// silent default.
fn stored_vocabulary<T: std::str::FromStr>(stored: Option<&str>) -> Result<Option<T>> {
    stored
        .map(|text| text.parse().map_err(|_| async_graphql::Error::new(format!("unreadable stored value {text:?}"))))
        .transpose()
}
