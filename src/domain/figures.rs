//! Figures: what reports state — job fairs, case statistics, organization counts, plan
//! indicators, catalog metrics — each with its qualifier, period, scope and source excerpt.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{OrganizationKind, OrganizationSector, Qualifier, ReportedCount};

crate::domain::model::vocabulary! {
    /// How a job fair was held.
    FairMode {
        /// On site.
        Offline = "OFFLINE",
        /// Online only (livestream, online recruitment platform).
        Online = "ONLINE",
        /// Both on site and online.
        Hybrid = "HYBRID",
    }
}

crate::domain::model::vocabulary! {
    /// What kind of cases a case statistic counts.
    CaseCategory {
        /// Rights-protection cases and complaints (维权).
        RightsProtection = "RIGHTS_PROTECTION",
        /// Marriage and family disputes mediated (婚姻家庭纠纷调解).
        MarriageFamilyMediation = "MARRIAGE_FAMILY_MEDIATION",
        /// Domestic violence (家庭暴力).
        DomesticViolence = "DOMESTIC_VIOLENCE",
        /// Legal consultations (法律咨询).
        LegalConsultation = "LEGAL_CONSULTATION",
        /// Hotline calls (e.g. 12338).
        Hotline = "HOTLINE",
        /// Petitions and visits (信访).
        PetitionVisit = "PETITION_VISIT",
        /// Judicial aid (司法救助).
        JudicialAid = "JUDICIAL_AID",
        /// Any other category.
        Other = "OTHER",
    }
}

crate::domain::model::vocabulary! {
    /// How a metric adds up over time.
    MetricNature {
        /// Summed over time (trainings held, people trained).
        Flow = "FLOW",
        /// A level at a moment (members, library size): the latest value in a window counts.
        Stock = "STOCK",
    }
}

crate::domain::model::vocabulary! {
    /// The calendar unit a per-unit statement speaks of ("每年…", "每月…"): the value is stated
    /// for every such unit of the figure's period (docs/aggregation.md §2.4).
    PerUnit {
        /// Per year (每年, 年均).
        Year = "YEAR",
        /// Per quarter (每季度).
        Quarter = "QUARTER",
        /// Per month (每月).
        Month = "MONTH",
    }
}

crate::domain::model::vocabulary! {
    /// How a per-unit value holds for its units.
    Spread {
        /// Each unit has the value ("每年…3000吨").
        Each = "EACH",
        /// The value is the units' average ("年均发放助学金30万元"): each unit's share is approximate.
        Average = "AVERAGE",
    }
}

/// The most calendar units one per-unit statement may speak for (100 years by month is
/// 1,200; a summary expands each into its units).
pub const MAX_PER_UNITS: usize = 1_200;

/// The calendar units `[start, end]` is made of, each as its first and last day, when the
/// period is whole units; `None` when it starts or ends inside one.
pub fn calendar_units(start: NaiveDate, end: NaiveDate, per: PerUnit) -> Option<Vec<(NaiveDate, NaiveDate)>> {
    use chrono::Datelike;
    let months = match per {
        PerUnit::Year => 12,
        PerUnit::Quarter => 3,
        PerUnit::Month => 1,
    };
    let first_of = |d: NaiveDate| d.day() == 1 && d.month0().is_multiple_of(months);
    let mut units = Vec::new();
    let mut at = start;
    if !first_of(at) {
        return None;
    }
    while at <= end {
        let next = at.checked_add_months(chrono::Months::new(months))?;
        let last = next.pred_opt()?;
        if last > end || units.len() >= MAX_PER_UNITS {
            return None;
        }
        units.push((at, last));
        at = next;
    }
    Some(units)
}

/// The period a figure covers, as far as the text supports it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// How the period was determined ("stated", "inferred: 五年来 (十四五)", …).
    pub note: Option<String>,
}

/// Where a figure applies: a region, an alliance as a whole, or one organization (whose
/// region it then counts towards).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Scope {
    Region(String),
    Alliance(String),
    Organization(String),
}

/// A number with its qualifier, as submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Count {
    pub value: i64,
    #[serde(default = "exact")]
    pub qualifier: super::model::Qualifier,
}

/// A decimal amount with its qualifier, as submitted.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    pub value: f64,
    #[serde(default = "exact")]
    pub qualifier: super::model::Qualifier,
}

fn exact() -> super::model::Qualifier {
    super::model::Qualifier::Exact
}

/// The largest count accepted from any entry path (figures of reports and imports,
/// organizations' member counts): one billion — more than the population of any region, and
/// within GraphQL's `Int` (2³¹ − 1), the type every count is served as.
pub const MAX_COUNT: i64 = 1_000_000_000;

/// The largest amount or metric value accepted from any entry path: 10¹⁵ in the value's unit
/// (a quadrillion yuan). Whole units are still exact there (f64 is exact to 2⁵³ ≈ 9·10¹⁵), and
/// no sum of such values can overflow to infinity.
pub const MAX_AMOUNT: f64 = 1e15;

/// Checks a count: a whole number from 0 to [`MAX_COUNT`]. The one rule for counts, whatever
/// the entry path.
pub fn check_count(value: i64) -> Result<(), String> {
    if value < 0 {
        Err("must not be negative".to_owned())
    } else if value > MAX_COUNT {
        Err(format!("{value} is more than {MAX_COUNT}, the largest count accepted"))
    } else {
        Ok(())
    }
}

/// Checks an amount or metric value: a finite number from 0 to [`MAX_AMOUNT`]. The one rule for
/// amounts, whatever the entry path.
pub fn check_amount(value: f64) -> Result<(), String> {
    if !value.is_finite() {
        Err("must be a finite number".to_owned())
    } else if value < 0.0 {
        Err("must not be negative".to_owned())
    } else if value > MAX_AMOUNT {
        Err(format!("{value:e} is more than {MAX_AMOUNT:e}, the largest value accepted"))
    } else {
        Ok(())
    }
}

impl From<Count> for ReportedCount {
    fn from(c: Count) -> Self {
        Self { value: c.value, qualifier: c.qualifier }
    }
}

/// One dimension of what a figure counts, in the report's own words (docs/aggregation.md §2.3):
/// figures filed under one code but stating different things are told apart by these
/// (`subject: 电商培训`, `designation: 市级示范`; `basis: CREATED` for organizations founded in a
/// period rather than a level at a date).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub key: String,
    pub value: String,
}

/// The most dimensions one figure may have.
pub const MAX_DIMENSIONS: usize = 8;

/// Dimensions as stored and compared: sorted by key, as JSON text (`[["subject","电商培训"]]`);
/// '' for none.
pub fn dimensions_text(dimensions: &[Dimension]) -> String {
    if dimensions.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(&str, &str)> = dimensions.iter().map(|d| (d.key.as_str(), d.value.as_str())).collect();
    pairs.sort_unstable();
    serde_json::to_string(&pairs).unwrap_or_default()
}

/// The dimensions stored as [`dimensions_text`] gives them; `None` for text that is not that.
pub fn dimensions_from_text(text: &str) -> Option<Vec<Dimension>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    let pairs: Vec<(String, String)> = serde_json::from_str(text).ok()?;
    Some(pairs.into_iter().map(|(key, value)| Dimension { key, value }).collect())
}

/// Whether a dimension key or unit code is well formed: 1–32 lowercase ASCII letters, digits
/// and underscores, starting with a letter.
pub fn is_code(text: &str) -> bool {
    text.len() <= 32
        && text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// What every figure carries.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureBase {
    /// Identifies the figure within its report (for `part_of` references); unique per report.
    pub id: String,
    pub scope: Scope,
    #[serde(default)]
    pub period: Period,
    /// The report's passage that states the figure, verbatim.
    pub excerpt: String,
    #[serde(default)]
    pub note: Option<String>,
    /// What tells it apart from other figures under the same code (see [`Dimension`]).
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
}

/// One job fair, or (with `fairs`) a reported total over a series of fairs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFairFigure {
    #[serde(flatten)]
    pub base: FigureBase,
    #[serde(default)]
    pub held_on: Option<NaiveDate>,
    #[serde(default)]
    pub mode: Option<FairMode>,
    #[serde(default)]
    pub host_regions: Vec<String>,
    /// Organizing bodies: organization keys, or names as the report gives them.
    #[serde(default)]
    pub organizers: Vec<String>,
    /// Number of fairs, for a series total; absent for one fair.
    #[serde(default)]
    pub fairs: Option<Count>,
    #[serde(default)]
    pub employers: Option<Count>,
    #[serde(default)]
    pub positions_offered: Option<Count>,
    #[serde(default)]
    pub job_seekers: Option<Count>,
    #[serde(default)]
    pub intents: Option<Count>,
    #[serde(default)]
    pub hires: Option<Count>,
}

/// Cases of one category in one region over one period.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseStatisticFigure {
    #[serde(flatten)]
    pub base: FigureBase,
    pub category: CaseCategory,
    /// What `received` and `resolved` count, where not cases (件/宗/起): `person_times` (人次),
    /// `times` (次 of calls, services), `couples` (对), `people` (人) … (docs/aggregation.md §4).
    #[serde(default)]
    pub unit: Option<String>,
    /// True for a total over several years that yearly figures may also cover.
    #[serde(default)]
    pub cumulative: bool,
    /// For a per-unit statement ("每年处理…1000余宗"): the unit each value is stated for.
    #[serde(default)]
    pub per: Option<PerUnit>,
    /// How a per-unit value holds for its units (each, or on average); EACH when not given.
    #[serde(default)]
    pub spread: Option<Spread>,
    #[serde(default)]
    pub received: Option<Count>,
    #[serde(default)]
    pub resolved: Option<Count>,
    #[serde(default)]
    pub people_aided: Option<Count>,
    #[serde(default)]
    pub amount_aided: Option<Amount>,
    /// A resolution rate the report states (percent), kept as stated.
    #[serde(default)]
    pub reported_rate: Option<f64>,
    /// How exact the stated rate is ("达98%以上": AT_LEAST); exact when not given.
    #[serde(default)]
    pub reported_rate_qualifier: Option<Qualifier>,
    /// The id of the case statistic (of another category) this one breaks down ("of which").
    #[serde(default)]
    pub part_of: Option<String>,
}

/// A count of organizations reported in aggregate ("609个妇女之家").
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationCountFigure {
    #[serde(flatten)]
    pub base: FigureBase,
    pub organization_kind: OrganizationKind,
    #[serde(default)]
    pub sector: Option<OrganizationSector>,
    /// The report's own term, e.g. 市级“妇女之家”示范阵地.
    pub label: String,
    pub count: Count,
    /// The id of the figure this one is a subset of ("of which").
    #[serde(default)]
    pub part_of: Option<String>,
}

/// A development plan's monitoring indicators: how many, how many met.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanIndicatorFigure {
    #[serde(flatten)]
    pub base: FigureBase,
    pub plan: String,
    #[serde(default)]
    pub areas: Option<i64>,
    /// How exact the number of areas is; exact when not given.
    #[serde(default)]
    pub areas_qualifier: Option<Qualifier>,
    pub total: Count,
    pub met: Count,
}

/// A catalog metric's value.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricFigure {
    #[serde(flatten)]
    pub base: FigureBase,
    pub metric: String,
    pub value: Amount,
    /// The unit of this figure's value where it is not the catalog's (`person_times` for
    /// 人次 under a metric counted in people; docs/aggregation.md §4).
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub cumulative: bool,
    /// For a per-unit statement ("每年…3000吨"): the unit the value is stated for.
    #[serde(default)]
    pub per: Option<PerUnit>,
    /// How a per-unit value holds for its units (each, or on average); EACH when not given.
    #[serde(default)]
    pub spread: Option<Spread>,
    #[serde(default)]
    pub part_of: Option<String>,
}

/// All figures of one report.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    #[serde(default)]
    pub job_fairs: Vec<JobFairFigure>,
    #[serde(default)]
    pub case_statistics: Vec<CaseStatisticFigure>,
    #[serde(default)]
    pub organization_counts: Vec<OrganizationCountFigure>,
    #[serde(default)]
    pub plan_indicators: Vec<PlanIndicatorFigure>,
    #[serde(default)]
    pub metrics: Vec<MetricFigure>,
}

impl Figures {
    /// How many figures there are.
    pub fn len(&self) -> usize {
        self.job_fairs.len()
            + self.case_statistics.len()
            + self.organization_counts.len()
            + self.plan_indicators.len()
            + self.metrics.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A catalog metric.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub nature: MetricNature,
    #[serde(default)]
    pub description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fit_the_api() {
        for ok in [0, 1, MAX_COUNT] {
            assert!(check_count(ok).is_ok(), "{ok}");
        }
        for bad in [-1, MAX_COUNT + 1, 1 << 40, 1 << 62, i64::MAX, i64::MIN] {
            assert!(check_count(bad).is_err(), "{bad}");
        }
        assert!(MAX_COUNT <= i64::from(i32::MAX));
    }

    #[test]
    fn amounts_are_finite_and_bounded() {
        for ok in [0.0, 0.5, 67_520_132.32, MAX_AMOUNT] {
            assert!(check_amount(ok).is_ok(), "{ok}");
        }
        for bad in [-0.01, 1e308, f64::INFINITY, f64::NAN, f64::MAX, MAX_AMOUNT * 1.01] {
            assert!(check_amount(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod per_unit_tests {
    use super::*;

    #[test]
    fn periods_of_whole_units_are_cut_into_them() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let years = calendar_units(d(2021, 1, 1), d(2025, 12, 31), PerUnit::Year).unwrap();
        assert_eq!(years.len(), 5);
        assert_eq!(years[2], (d(2023, 1, 1), d(2023, 12, 31)));
        let quarters = calendar_units(d(2024, 4, 1), d(2024, 9, 30), PerUnit::Quarter).unwrap();
        assert_eq!(quarters, [(d(2024, 4, 1), d(2024, 6, 30)), (d(2024, 7, 1), d(2024, 9, 30))]);
        let months = calendar_units(d(2024, 2, 1), d(2024, 3, 31), PerUnit::Month).unwrap();
        assert_eq!(months, [(d(2024, 2, 1), d(2024, 2, 29)), (d(2024, 3, 1), d(2024, 3, 31))]);
        // Not whole units: starting or ending inside one.
        assert_eq!(calendar_units(d(2013, 11, 15), d(2013, 12, 31), PerUnit::Month), None);
        assert_eq!(calendar_units(d(2024, 2, 1), d(2024, 6, 30), PerUnit::Quarter), None);
        assert_eq!(calendar_units(d(2021, 1, 1), d(2025, 6, 30), PerUnit::Year), None);
        // At most MAX_PER_UNITS units.
        assert_eq!(calendar_units(d(1900, 1, 1), d(2000, 12, 31), PerUnit::Month), None);
    }
}
