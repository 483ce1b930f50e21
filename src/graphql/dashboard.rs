//! Dashboard aggregates: sums over the region hierarchy and alliances, by period and
//! category, with how exact and how complete each number is.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, MergedObject, Object, Result, SimpleObject};

use super::figure::Figure;
use super::loaders::{Loaders, RegionByCode, ReportById};
use super::region::RegionNode;
use super::report::ReportNode;
use super::scalars::Date;
use crate::domain::Services;
use crate::domain::figures::{CaseCategory, Metric, MetricNature};
use crate::domain::model::{OrganizationKind, OrganizationSector, Qualifier};
use crate::domain::summary::rules::Decision;
use crate::domain::summary::{self, GroupBy, SummaryRow, SummaryScope, Window};
use crate::store::figure_lists::{AnyFigureRow, FigureKind};

/// Where a summary looks: give exactly one of `region` or `alliance`.
#[derive(InputObject)]
pub struct ScopeInput {
    /// A region code: the region (and, by default, everything below it).
    pub region: Option<String>,
    /// An alliance slug: its member regions (and, by default, everything below them), plus
    /// figures reported for the alliance as a whole.
    pub alliance: Option<String>,
    /// Whether regions below the scope count.
    #[graphql(default = true)]
    pub include_descendants: bool,
}

/// A time window: figures whose whole period lies within it count.
#[derive(InputObject, Default)]
pub struct PeriodInput {
    /// First day of the window.
    pub from: Option<Date>,
    /// Last day of the window.
    pub to: Option<Date>,
}

/// How complete a sum is.
#[derive(SimpleObject)]
pub struct Coverage {
    /// Regions in scope (of the row's group) that contributed a figure.
    pub reporting: i64,
    /// All regions in scope (of the row's group).
    pub total: i64,
}

/// Ways to group case statistics.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum CaseGroupBy {
    /// By region one level below the scope region (or by alliance member).
    Region,
    /// By calendar year.
    Year,
    /// By quarter (with year).
    Quarter,
    /// By month (with year).
    Month,
    /// By category.
    Category,
}

/// Ways to group job fairs.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum JobFairGroupBy {
    /// By region one level below the scope region (or by alliance member).
    Region,
    /// By calendar year.
    Year,
    /// By quarter (with year).
    Quarter,
    /// By month (with year).
    Month,
}

/// Ways to group organization counts.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationGroupBy {
    /// By region one level below the scope region (or by alliance member).
    Region,
    /// By kind of organization.
    Kind,
    /// By sector.
    Sector,
}

fn group<T: Copy + PartialEq>(list: &[T], region: T, year: T, quarter: T, month: T) -> GroupBy {
    GroupBy {
        region: list.contains(&region),
        year: list.contains(&year),
        quarter: list.contains(&quarter),
        month: list.contains(&month),
        ..GroupBy::default()
    }
}

fn to_scope(input: ScopeInput) -> SummaryScope {
    SummaryScope { region: input.region, alliance: input.alliance, include_descendants: input.include_descendants }
}

fn window(period: Option<PeriodInput>) -> Window {
    let p = period.unwrap_or_default();
    Window { from: p.from.map(|d| d.0), to: p.to.map(|d| d.0) }
}

async fn region_of(ctx: &Context<'_>, row: &SummaryRow) -> Result<Option<RegionNode>> {
    let Some(code) = &row.keys.region else { return Ok(None) };
    Ok(ctx.data::<Loaders>()?.one(RegionByCode(code.clone())).await?.map(RegionNode))
}

async fn sources_of(ctx: &Context<'_>, row: &SummaryRow) -> Result<Vec<ReportNode>> {
    let mut found = ctx.data::<Loaders>()?.each(row.sources.iter().map(|id| ReportById(*id))).await?;
    Ok(row.sources.iter().filter_map(|id| found.remove(&ReportById(*id))).map(ReportNode).collect())
}

/// What a summary was asked, shared by its rows for `explain`: decided, and its figures read,
/// once per summary (one statement for the candidates, one for the figures of every row), and
/// only when a row asks for it.
pub struct Explainer {
    spec: crate::store::aggregates::Spec,
    scope: SummaryScope,
    window: Window,
    group: GroupBy,
    explained: tokio::sync::OnceCell<Explained>,
}

/// Every candidate's decision, and the figures they name, by row id.
struct Explained {
    decisions: Vec<Decision>,
    figures: HashMap<i64, AnyFigureRow>,
}

impl Explainer {
    fn new(spec: crate::store::aggregates::Spec, scope: SummaryScope, window: Window, group: GroupBy) -> Arc<Self> {
        Arc::new(Self { spec, scope, window, group, explained: tokio::sync::OnceCell::new() })
    }

    async fn explained(&self, services: &Services) -> crate::error::AppResult<&Explained> {
        self.explained
            .get_or_try_init(|| async {
                let decisions = services.explain(&self.spec, &self.scope, self.window, self.group).await?;
                let mut ids: Vec<i64> =
                    decisions.iter().flat_map(|d| std::iter::once(d.figure.id).chain(d.because)).collect();
                ids.sort_unstable();
                ids.dedup();
                let figures = match FigureKind::of_table(self.spec.table) {
                    Some(kind) if !ids.is_empty() => services.figures(kind, &ids).await?,
                    _ => Vec::new(),
                };
                let figures = figures.into_iter().map(|r| (r.key().1, r)).collect();
                Ok(Explained { decisions, figures })
            })
            .await
    }
}

/// What an `explain` costs towards the query cost limit (10,000 by default): it reads and lists
/// up to `MAX_FIGURES` figures, where a field of a row costs 1.
const EXPLAIN_COST: usize = 3_000;

/// "Why this number": the figures a row counts and those it leaves out. The rules decide each
/// number of a figure (each measure) on its own (docs/aggregation.md §2.2): a case statistic's
/// received cases can count while its resolved ones are left out, and then it is listed in both.
#[derive(SimpleObject)]
pub struct Explanation {
    /// The figures whose numbers the row's numbers add up (the `measures` named), each as its
    /// report states it.
    pub counted: Vec<ExplainedFigure>,
    /// The figures that belong to this row but whose `measures` do not count, each with the
    /// rule that left them out (docs/aggregation.md §9) and the figure that made it apply.
    pub left_out: Vec<ExplainedFigure>,
}

/// A figure in an explanation.
#[derive(SimpleObject)]
pub struct ExplainedFigure {
    /// The figure: its numbers and qualifiers, report, scope, period and verbatim excerpt.
    pub figure: Figure,
    /// Which of the row's numbers this entry is about, by their field names in the row (e.g.
    /// `received`, `resolved`; `value` for metrics, `count` for organization counts).
    pub measures: Vec<String>,
    /// For a per-unit statement ("每年…"), the unit of its period this entry is about (`2023`,
    /// `2023-Q1`, `2023-12`): such a figure counts once per unit (docs/aggregation.md §2.4).
    pub part: Option<String>,
    /// Why it is left out (e.g. `CHILD_COVERED_BY_OWN_FIGURE`, `SUBSET_NOT_ADDEND`); null when
    /// it counts.
    pub rule: Option<String>,
    /// The figure whose presence made the rule apply (the total of a subset, the region's own
    /// figure, the later value …).
    pub because: Option<Figure>,
}

/// The fields every summary row has: group keys, qualifier, coverage, sources.
pub struct RowCommon(SummaryRow, Arc<Explainer>);

/// The fields every summary row has: group keys, qualifier, coverage, sources.
#[Object]
impl RowCommon {
    /// The group's region (when grouped by region); null for figures of an alliance as a whole.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<RegionNode>> {
        region_of(ctx, &self.0).await
    }

    /// The alliance, on the row of an alliance's own figures: grouped by region with an alliance
    /// scope, the row whose `region` is null holds the figures about the alliance as a whole
    /// (docs/aggregation.md §6.1). Null on every other row.
    async fn alliance(&self, ctx: &Context<'_>) -> Result<Option<super::alliance::AllianceNode>> {
        let explainer = &self.1;
        let Some(slug) = explainer.scope.alliance.as_deref().filter(|_| explainer.group.region) else {
            return Ok(None);
        };
        if self.0.keys.region.is_some() {
            return Ok(None);
        }
        Ok(Some(super::alliance::AllianceNode(ctx.data::<Services>()?.alliance(slug).await?)))
    }

    /// The group's year (when grouped by year, quarter or month).
    async fn year(&self) -> Option<i64> {
        self.0.keys.year
    }

    /// The group's quarter, 1–4 (when grouped by quarter).
    async fn quarter(&self) -> Option<i64> {
        self.0.keys.quarter
    }

    /// The group's month, 1–12 (when grouped by month).
    async fn month(&self) -> Option<i64> {
        self.0.keys.month
    }

    /// The first day of the period the row speaks for: its year, quarter or month within the
    /// window; for a row that `spansBuckets`, the first day of its figures' own period (null
    /// for "累计…" totals without a stated beginning); otherwise the window's.
    async fn from(&self) -> Option<Date> {
        self.0.from.map(Date)
    }

    /// The last day of the period the row speaks for (see `from`).
    async fn to(&self) -> Option<Date> {
        self.0.to.map(Date)
    }

    /// Whether the row holds figures stated for a period longer than the buckets grouped by
    /// (a five-year total grouped by year): they are shown in a row of their own period, with
    /// `year`, `quarter` and `month` null, never dropped and never split. A chart must not
    /// stack such a row onto the bucket rows it overlaps.
    async fn spans_buckets(&self) -> bool {
        self.0.spans_buckets()
    }

    /// How exact the sums are: APPROXIMATE if any term is, else AT_LEAST if any term is.
    async fn qualifier(&self) -> Qualifier {
        self.0.qualifier
    }

    /// How many regions in scope contributed, of how many.
    async fn coverage(&self) -> Coverage {
        Coverage { reporting: self.0.coverage.reporting, total: self.0.coverage.total }
    }

    /// The reports the sums come from.
    async fn sources(&self, ctx: &Context<'_>) -> Result<Vec<ReportNode>> {
        sources_of(ctx, &self.0).await
    }

    /// Why this row's numbers are what they are: every figure of the row's group, in scope and
    /// window, counted or left out with the rule that left it out. The counted figures' numbers
    /// add up to the row's. At most 2,000 figures per summary (`OUT_OF_RANGE` beyond: narrow
    /// the scope or period); it costs 3,000 towards the query's cost limit, so one query holds
    /// at most three.
    #[graphql(complexity = "EXPLAIN_COST + child_complexity")]
    async fn explain(&self, ctx: &Context<'_>) -> Result<Explanation> {
        let explained = self.1.explained(ctx.data::<Services>()?).await?;
        let key = &self.0.keys;
        let rows = &explained.figures;
        let (mut counted, mut left_out) = (Vec::new(), Vec::new());
        for d in explained.decisions.iter().filter(|d| d.row == *key) {
            let Some(row) = rows.get(&d.figure.id) else { continue };
            let explained = ExplainedFigure {
                figure: Figure::from(row.clone()),
                measures: d.measures.iter().map(|m| (*m).to_owned()).collect(),
                part: d.figure.part.clone(),
                rule: d.rule.map(str::to_owned),
                because: d.because.and_then(|id| rows.get(&id)).cloned().map(Figure::from),
            };
            if d.rule.is_some() { left_out.push(explained) } else { counted.push(explained) }
        }
        // A bucket row also lists the figures of the same group stated for a longer period that
        // overlaps its bucket: they count in the row of their own period (docs/aggregation.md
        // §6.2), never silently elsewhere.
        if let Some((start, end)) = key.bucket() {
            // Per figure, every measure it states (its decisions may be split by outcome).
            let mut longer_figures: std::collections::BTreeMap<i64, (&Decision, Vec<String>)> =
                std::collections::BTreeMap::new();
            let longer = explained.decisions.iter().filter(|d| {
                let r = &d.row;
                (r.span_from.is_some() || r.span_to.is_some())
                    && (&r.region, &r.key, &r.key2, &r.unit) == (&key.region, &key.key, &key.key2, &key.unit)
                    && d.figure.fs.is_none_or(|s| s <= end)
                    && d.figure.fe.is_none_or(|e| e >= start)
            });
            for d in longer {
                let entry = longer_figures.entry(d.figure.id).or_insert((d, Vec::new()));
                entry.1.extend(d.measures.iter().map(|m| (*m).to_owned()));
            }
            for (id, (d, measures)) in longer_figures {
                let Some(row) = rows.get(&id) else { continue };
                left_out.push(ExplainedFigure {
                    figure: Figure::from(row.clone()),
                    measures,
                    part: d.figure.part.clone(),
                    rule: Some(LONGER_THAN_BUCKET.to_owned()),
                    because: None,
                });
            }
        }
        Ok(Explanation { counted, left_out })
    }
}

/// A figure stated for a period longer than the row's bucket (docs/aggregation.md §5.1, §6.2).
const LONGER_THAN_BUCKET: &str = "LONGER_THAN_BUCKET";

/// One row of a case summary: cases received and resolved, people and money aided.
#[derive(MergedObject)]
pub struct CaseSummaryRow(RowCommon, CaseSummaryFields);

impl CaseSummaryRow {
    fn new(row: SummaryRow, explainer: &Arc<Explainer>) -> Self {
        Self(RowCommon(row.clone(), explainer.clone()), CaseSummaryFields(row))
    }
}

/// The fields particular to `CaseSummaryRow`.
pub struct CaseSummaryFields(SummaryRow);

/// The fields particular to `CaseSummaryRow`.
#[Object]
impl CaseSummaryFields {
    /// The group's category (when grouped by category).
    async fn category(&self) -> Option<CaseCategory> {
        self.0.keys.key.as_deref().and_then(|k| k.parse().ok())
    }

    /// What `received` and `resolved` count in this row (`cases`, `person_times`, `times`,
    /// `couples`, `people` …): figures in different units are never added, so every summary
    /// gives one row per unit (docs/aggregation.md §6.4).
    async fn unit(&self) -> Option<&str> {
        self.0.keys.unit.as_deref()
    }

    /// Cases received.
    async fn received(&self) -> Result<Option<i32>> {
        Ok(self.0.count(1)?)
    }

    /// Cases resolved or mediated.
    async fn resolved(&self) -> Result<Option<i32>> {
        Ok(self.0.count(0)?)
    }

    /// Resolved ÷ received, over the figures that state both (0–1).
    async fn resolution_rate(&self) -> Option<f64> {
        self.0.rate()
    }

    /// People aided.
    async fn people_aided(&self) -> Result<Option<i32>> {
        Ok(self.0.count(2)?)
    }

    /// Money disbursed, in yuan.
    async fn amount_aided(&self) -> Result<Option<f64>> {
        Ok(self.0.amount(3)?)
    }
}

/// One row of a job-fair summary: fairs held and what they offered and achieved.
#[derive(MergedObject)]
pub struct JobFairSummaryRow(RowCommon, JobFairSummaryFields);

impl JobFairSummaryRow {
    fn new(row: SummaryRow, explainer: &Arc<Explainer>) -> Self {
        Self(RowCommon(row.clone(), explainer.clone()), JobFairSummaryFields(row))
    }
}

/// The fields particular to `JobFairSummaryRow`.
pub struct JobFairSummaryFields(SummaryRow);

/// The fields particular to `JobFairSummaryRow`.
#[Object]
impl JobFairSummaryFields {
    /// Fairs held (a series total counts its stated number, a single fair one).
    async fn fairs(&self) -> Result<Option<i32>> {
        Ok(self.0.count(0)?)
    }

    /// Employers taking part.
    async fn employers(&self) -> Result<Option<i32>> {
        Ok(self.0.count(1)?)
    }

    /// Positions offered.
    async fn positions_offered(&self) -> Result<Option<i32>> {
        Ok(self.0.count(2)?)
    }

    /// Job seekers attending.
    async fn job_seekers(&self) -> Result<Option<i32>> {
        Ok(self.0.count(3)?)
    }

    /// Employment intents signed.
    async fn intents(&self) -> Result<Option<i32>> {
        Ok(self.0.count(4)?)
    }

    /// People hired.
    async fn hires(&self) -> Result<Option<i32>> {
        Ok(self.0.count(5)?)
    }
}

/// One row of an organization coverage summary: how many organizations the reports count (latest count per region; "of which" subsets are not added).
#[derive(MergedObject)]
pub struct OrganizationCoverageRow(RowCommon, OrganizationCoverageFields);

impl OrganizationCoverageRow {
    fn new(row: SummaryRow, explainer: &Arc<Explainer>) -> Self {
        Self(RowCommon(row.clone(), explainer.clone()), OrganizationCoverageFields(row))
    }
}

/// The fields particular to `OrganizationCoverageRow`.
pub struct OrganizationCoverageFields(SummaryRow);

/// The fields particular to `OrganizationCoverageRow`.
#[Object]
impl OrganizationCoverageFields {
    /// The group's kind (when grouped by kind).
    async fn kind(&self) -> Option<OrganizationKind> {
        self.0.keys.key.as_deref().and_then(|k| k.parse().ok())
    }

    /// The group's sector (when grouped by sector).
    async fn sector(&self) -> Option<OrganizationSector> {
        self.0.keys.key2.as_deref().and_then(|k| k.parse().ok())
    }

    /// Organizations counted.
    async fn count(&self) -> Result<i32> {
        Ok(self.0.count(0)?.unwrap_or(0))
    }
}

/// One row of a metric summary: a flow summed over time, or a stock's latest values summed across regions.
#[derive(MergedObject)]
pub struct MetricSummaryRow(RowCommon, MetricSummaryFields);

impl MetricSummaryRow {
    fn new(row: SummaryRow, metric: Metric, explainer: &Arc<Explainer>) -> Self {
        Self(RowCommon(row.clone(), explainer.clone()), MetricSummaryFields(row, metric))
    }
}

/// The fields particular to `MetricSummaryRow`.
pub struct MetricSummaryFields(SummaryRow, Metric);

/// The fields particular to `MetricSummaryRow`.
#[Object]
impl MetricSummaryFields {
    /// The value, in `unit`.
    async fn value(&self) -> Result<Option<f64>> {
        Ok(self.0.amount(0)?)
    }

    /// The row's unit: the figures' own where a report states a metric in another unit than the
    /// catalog's (people vs person-times), else the metric's. Values in different units are
    /// never added: an ungrouped summary gives one row per unit (docs/aggregation.md §6.4).
    async fn unit(&self) -> &str {
        self.0.keys.unit.as_deref().unwrap_or(&self.1.unit)
    }
}

/// A metric of the catalog.
pub struct MetricNode(pub Metric);

/// A metric of the catalog: what a metric code means and how it adds up.
#[Object(name = "Metric")]
impl MetricNode {
    /// The code figures use, e.g. `people_trained`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// A short name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The unit values are in (people, sessions, yuan, percent …).
    async fn unit(&self) -> &str {
        &self.0.unit
    }

    /// FLOW (summed over time) or STOCK (latest value counts).
    async fn nature(&self) -> MetricNature {
        self.0.nature
    }

    /// What it measures.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
}

/// Root fields for dashboards.
#[derive(Default)]
pub struct DashboardQuery;

/// Root fields for dashboards.
#[Object]
impl DashboardQuery {
    /// Case statistics summed over a scope and window: received, resolved, resolution rate,
    /// people and money aided, with qualifier, coverage and sources.
    async fn case_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The region or alliance to sum over.")] scope: ScopeInput,
        #[graphql(desc = "The time window; all time when omitted.")] period: Option<PeriodInput>,
        #[graphql(desc = "How to group the rows; one row when omitted.")] group_by: Option<Vec<CaseGroupBy>>,
        #[graphql(desc = "Only this category.")] category: Option<CaseCategory>,
    ) -> Result<Vec<CaseSummaryRow>> {
        let list = group_by.unwrap_or_default();
        let mut g = group(&list, CaseGroupBy::Region, CaseGroupBy::Year, CaseGroupBy::Quarter, CaseGroupBy::Month);
        g.category = list.contains(&CaseGroupBy::Category);
        let (spec, scope, window) = (summary::case_spec(category), to_scope(scope), window(period));
        let rows = ctx.data::<Services>()?.summarize(&spec, &scope, window, g).await?;
        let explainer = Explainer::new(spec, scope, window, g);
        Ok(rows.into_iter().map(|r| CaseSummaryRow::new(r, &explainer)).collect())
    }

    /// Job fairs summed over a scope and window. A reported series total ("6 fairs, 4000+
    /// positions") counts as reported; it is never split into invented fairs.
    async fn job_fair_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The region or alliance to sum over.")] scope: ScopeInput,
        #[graphql(desc = "The time window; all time when omitted.")] period: Option<PeriodInput>,
        #[graphql(desc = "How to group the rows; one row when omitted.")] group_by: Option<Vec<JobFairGroupBy>>,
    ) -> Result<Vec<JobFairSummaryRow>> {
        let list = group_by.unwrap_or_default();
        let g =
            group(&list, JobFairGroupBy::Region, JobFairGroupBy::Year, JobFairGroupBy::Quarter, JobFairGroupBy::Month);
        let (spec, scope, window) = (summary::job_fair_spec(), to_scope(scope), window(period));
        let rows = ctx.data::<Services>()?.summarize(&spec, &scope, window, g).await?;
        let explainer = Explainer::new(spec, scope, window, g);
        Ok(rows.into_iter().map(|r| JobFairSummaryRow::new(r, &explainer)).collect())
    }

    /// Organizations the reports count (women's homes, service posts, federations …): the
    /// latest count per region, summed across regions.
    async fn organization_coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The region or alliance to sum over.")] scope: ScopeInput,
        #[graphql(desc = "How to group the rows; one row when omitted.")] group_by: Option<Vec<OrganizationGroupBy>>,
        #[graphql(desc = "Only this kind of organization.")] kind: Option<OrganizationKind>,
    ) -> Result<Vec<OrganizationCoverageRow>> {
        let list = group_by.unwrap_or_default();
        let g = GroupBy {
            region: list.contains(&OrganizationGroupBy::Region),
            category: list.contains(&OrganizationGroupBy::Kind),
            sector: list.contains(&OrganizationGroupBy::Sector),
            ..GroupBy::default()
        };
        let (spec, scope) = (summary::organization_spec(kind), to_scope(scope));
        let rows = ctx.data::<Services>()?.summarize(&spec, &scope, Window::default(), g).await?;
        let explainer = Explainer::new(spec, scope, Window::default(), g);
        Ok(rows.into_iter().map(|r| OrganizationCoverageRow::new(r, &explainer)).collect())
    }

    /// A catalog metric summed over a scope and window (flows summed over time; stocks: the
    /// latest value per region, summed across regions).
    async fn metric_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The metric's code (see `metrics`).")] metric: String,
        #[graphql(desc = "The region or alliance to sum over.")] scope: ScopeInput,
        #[graphql(desc = "The time window; all time when omitted.")] period: Option<PeriodInput>,
        #[graphql(desc = "How to group the rows; one row when omitted.")] group_by: Option<Vec<JobFairGroupBy>>,
    ) -> Result<Vec<MetricSummaryRow>> {
        let services = ctx.data::<Services>()?;
        let metric = services.metric(&metric).await?;
        let list = group_by.unwrap_or_default();
        let g =
            group(&list, JobFairGroupBy::Region, JobFairGroupBy::Year, JobFairGroupBy::Quarter, JobFairGroupBy::Month);
        let spec = summary::metric_spec(&metric.code, metric.nature);
        let (scope, window) = (to_scope(scope), window(period));
        let rows = services.summarize(&spec, &scope, window, g).await?;
        let explainer = Explainer::new(spec, scope, window, g);
        Ok(rows.into_iter().map(|r| MetricSummaryRow::new(r, metric.clone(), &explainer)).collect())
    }

    /// The metric catalog, by code.
    async fn metrics(&self, ctx: &Context<'_>) -> Result<Vec<MetricNode>> {
        Ok(ctx.data::<Services>()?.metrics().await?.into_iter().map(MetricNode).collect())
    }
}
