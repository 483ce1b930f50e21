//! `submitReport`: a report and all its figures in one validated, all-or-nothing write.

use async_graphql::{Context, InputObject, Object, OneofObject, Result, SimpleObject};
use serde::Serialize;

use super::organization::ReportedCountInput;
use super::report::ReportNode;
use super::scalars::Date;
use crate::domain::access::Caller;
use crate::domain::figures::{CaseCategory, FairMode, PerUnit, Spread};
use crate::domain::model::{OrganizationKind, OrganizationSector, Qualifier};
use crate::domain::submission::ReportSubmission;
use crate::domain::{Services, SubmitStatus};
use crate::error::AppError;

/// The period a report or figure covers, as far as the text supports it.
#[derive(InputObject, Serialize, Default)]
pub struct ReportPeriodInput {
    /// First day covered.
    pub start: Option<Date>,
    /// Last day covered.
    pub end: Option<Date>,
    /// How the period was determined: stated in the text, or inferred and from what.
    pub note: Option<String>,
}

/// Where a figure applies: exactly one of a region, an alliance, or an organization.
#[derive(OneofObject, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureScopeInput {
    /// A region code: the figure is about that region.
    Region(String),
    /// An alliance slug: the figure is about the alliance as a whole.
    Alliance(String),
    /// An organization key: the figure is about that organization (and counts towards its region).
    Organization(String),
}

/// A decimal amount as a report states it.
#[derive(InputObject, Serialize, Clone, Copy)]
pub struct AmountInput {
    /// The amount, not negative.
    pub value: f64,
    /// How exact the statement is.
    #[graphql(default_with = "Qualifier::Exact")]
    pub qualifier: Qualifier,
}

/// One job fair, or with `fairs` a reported total over a series of fairs.
#[derive(InputObject, Serialize)]
pub struct JobFairInput {
    /// Identifies the figure within the report, unique per report.
    pub id: String,
    /// Where the figure applies.
    pub scope: FigureScopeInput,
    /// The period it covers.
    pub period: Option<ReportPeriodInput>,
    /// The report's passage that states it, verbatim.
    pub excerpt: String,
    /// Remarks (judgement calls, units).
    pub note: Option<String>,
    /// What tells this figure apart from others of its report filed under the same code, in
    /// the report's own words (docs/aggregation.md §2.3), e.g. `{ key: "subject", value: "电商培训" }`.
    #[graphql(default)]
    pub dimensions: Vec<DimensionInput>,
    /// The day of a single fair.
    pub held_on: Option<Date>,
    /// On site, online or both.
    pub mode: Option<FairMode>,
    /// Codes of the regions that hosted it (joint fairs have several).
    #[graphql(default)]
    pub host_regions: Vec<String>,
    /// Organizing bodies: organization keys or names.
    #[graphql(default)]
    pub organizers: Vec<String>,
    /// Number of fairs, for a series total; omit for a single fair.
    pub fairs: Option<ReportedCountInput>,
    /// Employers taking part.
    pub employers: Option<ReportedCountInput>,
    /// Positions offered.
    pub positions_offered: Option<ReportedCountInput>,
    /// Job seekers attending.
    pub job_seekers: Option<ReportedCountInput>,
    /// Employment intents signed.
    pub intents: Option<ReportedCountInput>,
    /// People hired.
    pub hires: Option<ReportedCountInput>,
}

/// Cases of one category in one region (or organization) over one period.
#[derive(InputObject, Serialize)]
pub struct CaseStatisticInput {
    /// Identifies the figure within the report, unique per report.
    pub id: String,
    /// Where the figure applies: a region or an organization.
    pub scope: FigureScopeInput,
    /// The period it covers (start and end required).
    pub period: Option<ReportPeriodInput>,
    /// The report's passage that states it, verbatim.
    pub excerpt: String,
    /// Remarks.
    pub note: Option<String>,
    /// What tells this figure apart from others of its report filed under the same code, in
    /// the report's own words (docs/aggregation.md §2.3), e.g. `{ key: "subject", value: "电商培训" }`.
    #[graphql(default)]
    pub dimensions: Vec<DimensionInput>,
    /// What kind of cases.
    pub category: CaseCategory,
    /// What `received` and `resolved` count where not cases: `person_times` (人次), `times`
    /// (次 of calls or services), `couples` (对), `people` (人) … (lowercase code). Figures in
    /// different units are never added: summaries give one row per unit.
    pub unit: Option<String>,
    /// True for a total over several years that yearly figures may also cover.
    #[graphql(default)]
    pub cumulative: bool,
    /// For a per-unit statement ("每年…", "每月…"): the calendar unit the numbers are stated
    /// for; the period must then be whole such units, and summaries count the numbers once
    /// per unit (docs/aggregation.md §2.4).
    pub per: Option<PerUnit>,
    /// How a per-unit value holds for its units: EACH ("每年…", the default) or AVERAGE ("年均…").
    pub spread: Option<Spread>,
    /// Cases received.
    pub received: Option<ReportedCountInput>,
    /// Cases resolved or mediated; not more than received.
    pub resolved: Option<ReportedCountInput>,
    /// People aided.
    pub people_aided: Option<ReportedCountInput>,
    /// Money disbursed (yuan).
    pub amount_aided: Option<AmountInput>,
    /// A resolution rate the report states (percent), kept as stated.
    pub reported_rate: Option<f64>,
    /// How exact the stated rate is ("调解率达98%以上": AT_LEAST); EXACT when not given.
    pub reported_rate_qualifier: Option<Qualifier>,
    /// The `id` of the case statistic of this report (of another category) this one breaks
    /// down ("of which"), listed before or after it; never added to it.
    pub part_of: Option<String>,
}

/// A count of organizations reported in aggregate ("609个妇女之家").
#[derive(InputObject, Serialize)]
pub struct OrganizationCountInput {
    /// Identifies the figure within the report, unique per report.
    pub id: String,
    /// Where the figure applies.
    pub scope: FigureScopeInput,
    /// The period (or the date, as start = end) it describes.
    pub period: Option<ReportPeriodInput>,
    /// The report's passage that states it, verbatim.
    pub excerpt: String,
    /// Remarks.
    pub note: Option<String>,
    /// What tells this figure apart from others of its report filed under the same code, in
    /// the report's own words (docs/aggregation.md §2.3), e.g. `{ key: "subject", value: "电商培训" }`.
    #[graphql(default)]
    pub dimensions: Vec<DimensionInput>,
    /// Which kind of organization is counted.
    pub organization_kind: OrganizationKind,
    /// Which sector, if the count is of one.
    pub sector: Option<OrganizationSector>,
    /// The report's own term.
    pub label: String,
    /// How many.
    pub count: ReportedCountInput,
    /// The `id` of the count this is a subset of ("of which"); never added to it.
    pub part_of: Option<String>,
}

/// A development plan's monitoring indicators.
#[derive(InputObject, Serialize)]
pub struct PlanIndicatorInput {
    /// Identifies the figure within the report, unique per report.
    pub id: String,
    /// Where the figure applies.
    pub scope: FigureScopeInput,
    /// The period it covers.
    pub period: Option<ReportPeriodInput>,
    /// The report's passage that states it, verbatim.
    pub excerpt: String,
    /// Remarks.
    pub note: Option<String>,
    /// The plan's name as written.
    pub plan: String,
    /// Number of areas the indicators fall into.
    pub areas: Option<i64>,
    /// How exact the number of areas is; EXACT when not given.
    pub areas_qualifier: Option<Qualifier>,
    /// Indicators monitored.
    pub total: ReportedCountInput,
    /// Indicators met; not more than the total.
    pub met: ReportedCountInput,
}

/// A catalog metric's value.
#[derive(InputObject, Serialize)]
pub struct MetricFigureInput {
    /// Identifies the figure within the report, unique per report.
    pub id: String,
    /// Where the figure applies.
    pub scope: FigureScopeInput,
    /// The period it covers.
    pub period: Option<ReportPeriodInput>,
    /// The report's passage that states it, verbatim.
    pub excerpt: String,
    /// Remarks.
    pub note: Option<String>,
    /// What tells this figure apart from others of its report filed under the same code, in
    /// the report's own words (docs/aggregation.md §2.3), e.g. `{ key: "subject", value: "电商培训" }`.
    #[graphql(default)]
    pub dimensions: Vec<DimensionInput>,
    /// The metric's code in the catalog (`metrics` lists them).
    pub metric: String,
    /// The value, in the metric's unit unless `unit` says otherwise.
    pub value: AmountInput,
    /// The unit of the value where it is not the metric's (e.g. `person_times` for 人次 under a
    /// metric counted in `people`): lowercase code; figures in different units are never added.
    pub unit: Option<String>,
    /// True for a total over several years.
    #[graphql(default)]
    pub cumulative: bool,
    /// For a per-unit statement ("每年…", "每月…"): the calendar unit the numbers are stated
    /// for; the period must then be whole such units, and summaries count the numbers once
    /// per unit (docs/aggregation.md §2.4).
    pub per: Option<PerUnit>,
    /// How a per-unit value holds for its units: EACH ("每年…", the default) or AVERAGE ("年均…").
    pub spread: Option<Spread>,
    /// The `id` of the metric figure this is a subset of.
    pub part_of: Option<String>,
}

/// One dimension of what a figure counts (docs/aggregation.md §2.3).
#[derive(InputObject, Serialize)]
pub struct DimensionInput {
    /// 1–32 lowercase ASCII letters, digits and underscores (`subject`, `designation`, `basis`).
    pub key: String,
    /// The report's own words.
    pub value: String,
}

/// All figures of a report, by kind.
#[derive(InputObject, Serialize, Default)]
pub struct FiguresInput {
    /// Job fairs and job-fair series.
    #[graphql(default)]
    pub job_fairs: Vec<JobFairInput>,
    /// Case statistics.
    #[graphql(default)]
    pub case_statistics: Vec<CaseStatisticInput>,
    /// Organization counts.
    #[graphql(default)]
    pub organization_counts: Vec<OrganizationCountInput>,
    /// Plan indicators.
    #[graphql(default)]
    pub plan_indicators: Vec<PlanIndicatorInput>,
    /// Catalog metrics.
    #[graphql(default)]
    pub metrics: Vec<MetricFigureInput>,
}

/// A report and its figures.
#[derive(InputObject, Serialize)]
pub struct ReportSubmissionInput {
    /// Stable key (lowercase ASCII, digits, hyphens). The same key and content again changes
    /// nothing; the same key with changed content is a new revision.
    pub key: String,
    /// Title as published.
    pub title: String,
    /// Who published it.
    pub publisher: Option<String>,
    /// Publication date.
    pub published_on: Option<Date>,
    /// The period the report covers.
    pub period: Option<ReportPeriodInput>,
    /// The source text's file name.
    pub source_file: Option<String>,
    /// Code of the region the report is about.
    pub region: Option<String>,
    /// The figures.
    pub figures: Option<FiguresInput>,
}

/// What `submitReport` did.
#[derive(SimpleObject)]
pub struct SubmitReportPayload {
    /// The report revision now current for the key.
    pub report: ReportNode,
    /// Whether it was created, left unchanged, or revised.
    pub status: SubmitStatus,
}

/// Converts the typed input into the domain submission (the same shape the import files use).
pub fn to_domain(input: &ReportSubmissionInput) -> Result<ReportSubmission, AppError> {
    let mut value = serde_json::to_value(input).map_err(|e| AppError::Internal(e.into()))?;
    // Optional groups default to empty in the domain: drop nulls so serde defaults apply.
    strip_nulls(&mut value);
    serde_json::from_value(value).map_err(|e| AppError::bad_input("input", e.to_string()))
}

fn strip_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Mutations on reports.
#[derive(Default)]
pub struct SubmissionMutation;

/// Mutations on reports.
#[Object]
impl SubmissionMutation {
    /// Submits a report with its figures. Validated as a whole: on any problem nothing is
    /// written and every problem is listed (`extensions.problems`). Idempotent by `input.key`;
    /// changed content becomes a new revision superseding the old (which stays queryable).
    /// Requires EDITOR (for the editor's region subtree) or ADMIN; audited.
    async fn submit_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report and its figures.")] input: ReportSubmissionInput,
    ) -> Result<SubmitReportPayload> {
        let caller = ctx.data::<Caller>()?;
        let submission = to_domain(&input)?;
        let outcome = ctx.data::<Services>()?.submit_report(caller, &submission).await?;
        Ok(SubmitReportPayload { report: ReportNode(outcome.report), status: outcome.status })
    }
}
