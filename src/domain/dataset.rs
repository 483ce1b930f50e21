//! The demo dataset under `data/`, drawn from the source reports with provenance, and its
//! checks. The files are compiled into the binary so a fresh deployment needs nothing else.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Deserialize;

use super::figures::{Figures, Metric, Period};
use super::submission::{Known, ReportSubmission};

use super::model::{AllianceKind, DatePrecision, OrganizationKind, OrganizationSector, Qualifier, RegionLevel};

/// A pointer from a record to the report excerpt it came from.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    /// Key of the report.
    pub report: String,
    /// Verbatim excerpt of the report's source text.
    pub excerpt: String,
}

/// A report entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportEntry {
    pub key: String,
    pub title: String,
    pub publisher: Option<String>,
    pub published_on: Option<NaiveDate>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period_note: Option<String>,
    pub source_file: String,
    pub region: Option<String>,
}

/// A region entry. Regions named by no report (parents filled in up to the province) have
/// no sources.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionEntry {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent: Option<String>,
    pub sources: Vec<SourceRef>,
}

/// An agreement entry, inside its alliance.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementEntry {
    pub title: String,
    pub signed_on: Option<NaiveDate>,
    pub parties: Vec<String>,
    pub sources: Vec<SourceRef>,
}

/// An alliance entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllianceEntry {
    pub slug: String,
    pub name: String,
    pub kind: AllianceKind,
    pub description: Option<String>,
    pub members: Vec<String>,
    pub sources: Vec<SourceRef>,
    pub agreements: Vec<AgreementEntry>,
}

/// An organization entry; `parent` is another entry's key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationEntry {
    pub key: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: OrganizationKind,
    pub sector: Option<OrganizationSector>,
    pub region: Option<String>,
    pub parent: Option<String>,
    pub founded_on: Option<NaiveDate>,
    pub founded_precision: Option<DatePrecision>,
    pub member_count: Option<i64>,
    pub member_count_qualifier: Option<Qualifier>,
    pub executive_count: Option<i64>,
    pub executive_count_qualifier: Option<Qualifier>,
    pub sources: Vec<SourceRef>,
}

/// A library entry: owner is `{"region": code}` or `{"alliance": slug}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryEntry {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: LibraryOwnerEntry,
    pub curator: Option<String>,
    pub visibility: super::libraries::Visibility,
    pub reported_size: Option<ReportedSizeEntry>,
    pub categories: Vec<String>,
    pub source: SourceRef,
}

/// Who owns a library, in the dataset.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LibraryOwnerEntry {
    Region(String),
    Alliance(String),
}

/// A size the reports state for a library.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedSizeEntry {
    pub value: i64,
    pub qualifier: Qualifier,
    pub unit: String,
}

/// A resource entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceEntry {
    pub key: String,
    pub kind: super::libraries::ResourceKind,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub region: Option<String>,
    pub provider: Option<String>,
    pub library: Option<String>,
    pub source: SourceRef,
}

/// The figures of one report.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFigures {
    /// Key of the report.
    pub report: String,
    pub figures: Figures,
}

/// The whole dataset, in load order: parents before children.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub reports: Vec<ReportEntry>,
    pub regions: Vec<RegionEntry>,
    pub alliances: Vec<AllianceEntry>,
    pub organizations: Vec<OrganizationEntry>,
    pub metrics: Vec<Metric>,
    pub figures: Vec<ReportFigures>,
    pub libraries: Vec<LibraryEntry>,
    pub resources: Vec<ResourceEntry>,
}

/// Why a dataset was refused.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file is not valid JSON of the expected shape.
    #[error("{file}: {error}")]
    Parse { file: &'static str, error: serde_json::Error },
    /// Records contradict each other or the rules; every problem is listed.
    #[error("the dataset is inconsistent:\n  {}", .0.join("\n  "))]
    Inconsistent(Vec<String>),
}

fn read<T: serde::de::DeserializeOwned>(file: &'static str, text: &str) -> Result<T, DatasetError> {
    serde_json::from_str(text).map_err(|error| DatasetError::Parse { file, error })
}

impl Dataset {
    /// The demo dataset compiled into the binary.
    pub fn demo() -> Result<Self, DatasetError> {
        let mut dataset = Self::parse(
            include_str!("../../data/reports.json"),
            include_str!("../../data/regions.json"),
            include_str!("../../data/alliances.json"),
            include_str!("../../data/organizations.json"),
        )?;
        dataset.metrics = read("metrics.json", include_str!("../../data/metrics.json"))?;
        dataset.figures = read("figures.json", include_str!("../../data/figures.json"))?;
        dataset.libraries = read("libraries.json", include_str!("../../data/libraries.json"))?;
        dataset.resources = read("resources.json", include_str!("../../data/resources.json"))?;
        dataset.check()?;
        Ok(dataset)
    }

    /// The report submission (report and figures) the dataset holds for a report key.
    pub fn submission(&self, report: &ReportEntry) -> ReportSubmission {
        ReportSubmission {
            key: report.key.clone(),
            title: report.title.clone(),
            publisher: report.publisher.clone(),
            published_on: report.published_on,
            period: Period { start: report.period_start, end: report.period_end, note: report.period_note.clone() },
            source_file: Some(report.source_file.clone()),
            region: report.region.clone(),
            figures: self
                .figures
                .iter()
                .find(|f| f.report == report.key)
                .map(|f| f.figures.clone())
                .unwrap_or_default(),
        }
    }

    /// Parses and checks a dataset (without figures) from the text of its four files.
    pub fn parse(reports: &str, regions: &str, alliances: &str, organizations: &str) -> Result<Self, DatasetError> {
        let mut dataset = Self {
            reports: read("reports.json", reports)?,
            regions: read("regions.json", regions)?,
            alliances: read("alliances.json", alliances)?,
            organizations: read("organizations.json", organizations)?,
            metrics: Vec::new(),
            figures: Vec::new(),
            libraries: Vec::new(),
            resources: Vec::new(),
        };
        dataset.check()?;
        dataset.order();
        Ok(dataset)
    }

    /// Every source reference in the dataset, for provenance checks.
    pub fn all_sources(&self) -> impl Iterator<Item = &SourceRef> {
        self.regions
            .iter()
            .flat_map(|r| &r.sources)
            .chain(
                self.alliances
                    .iter()
                    .flat_map(|a| a.sources.iter().chain(a.agreements.iter().flat_map(|g| &g.sources))),
            )
            .chain(self.organizations.iter().flat_map(|o| &o.sources))
    }

    fn check(&self) -> Result<(), DatasetError> {
        let mut problems = Vec::new();
        let reports: HashSet<&str> = self.reports.iter().map(|r| r.key.as_str()).collect();
        let regions: HashMap<&str, &RegionEntry> = self.regions.iter().map(|r| (r.code.as_str(), r)).collect();
        let orgs: HashSet<&str> = self.organizations.iter().map(|o| o.key.as_str()).collect();

        let mut duplicates = |what: &str, keys: Vec<&str>| {
            let mut seen = HashSet::new();
            for key in keys {
                if !seen.insert(key) {
                    problems.push(format!("{what} {key} appears twice"));
                }
            }
        };
        duplicates("report", self.reports.iter().map(|r| r.key.as_str()).collect());
        duplicates("region", self.regions.iter().map(|r| r.code.as_str()).collect());
        duplicates("alliance", self.alliances.iter().map(|a| a.slug.as_str()).collect());
        duplicates("organization", self.organizations.iter().map(|o| o.key.as_str()).collect());

        let region_ref = |problems: &mut Vec<String>, owner: &str, code: &str| {
            if !regions.contains_key(code) {
                problems.push(format!("{owner} refers to unknown region {code}"));
            }
        };
        let sources_ok = |problems: &mut Vec<String>, owner: &str, sources: &[SourceRef]| {
            for s in sources {
                if !reports.contains(s.report.as_str()) {
                    problems.push(format!("{owner} cites unknown report {}", s.report));
                }
                if s.excerpt.trim().is_empty() {
                    problems.push(format!("{owner} has an empty excerpt"));
                }
            }
        };

        for report in &self.reports {
            if let Some(code) = &report.region {
                region_ref(&mut problems, &format!("report {}", report.key), code);
            }
            if let (Some(start), Some(end)) = (report.period_start, report.period_end)
                && end < start
            {
                problems.push(format!("report {} ends before it starts", report.key));
            }
        }
        for region in &self.regions {
            let owner = format!("region {}", region.code);
            if !super::services::is_region_code(&region.code) {
                problems.push(format!("{owner} has a malformed code"));
            }
            match (&region.parent, region.level) {
                (None, RegionLevel::Province) => {}
                (None, _) => problems.push(format!("{owner} below province level has no parent")),
                (Some(parent), level) => match regions.get(parent.as_str()) {
                    Some(p) if p.level < level => {}
                    Some(_) => problems.push(format!("{owner} is not below its parent {parent}")),
                    None => region_ref(&mut problems, &owner, parent),
                },
            }
            sources_ok(&mut problems, &owner, &region.sources);
        }
        for alliance in &self.alliances {
            let owner = format!("alliance {}", alliance.slug);
            for code in &alliance.members {
                region_ref(&mut problems, &owner, code);
            }
            if alliance.sources.is_empty() {
                problems.push(format!("{owner} has no source"));
            }
            sources_ok(&mut problems, &owner, &alliance.sources);
            for agreement in &alliance.agreements {
                let owner = format!("agreement {:?} of {}", agreement.title, alliance.slug);
                for code in &agreement.parties {
                    region_ref(&mut problems, &owner, code);
                }
                if agreement.sources.is_empty() {
                    problems.push(format!("{owner} has no source"));
                }
                sources_ok(&mut problems, &owner, &agreement.sources);
            }
        }
        for org in &self.organizations {
            let owner = format!("organization {}", org.key);
            if let Some(code) = &org.region {
                region_ref(&mut problems, &owner, code);
            }
            if let Some(parent) = &org.parent
                && !orgs.contains(parent.as_str())
            {
                problems.push(format!("{owner} has unknown parent {parent}"));
            }
            if org.founded_on.is_some() != org.founded_precision.is_some() {
                problems.push(format!("{owner} needs both founded_on and founded_precision, or neither"));
            }
            for (field, value, qualifier) in [
                ("member_count", org.member_count, org.member_count_qualifier),
                ("executive_count", org.executive_count, org.executive_count_qualifier),
            ] {
                if value.is_some() != qualifier.is_some() {
                    problems.push(format!("{owner} needs both {field} and its qualifier, or neither"));
                }
                if value.is_some_and(|v| v < 0) {
                    problems.push(format!("{owner} has a negative {field}"));
                }
            }
            if org.sources.is_empty() {
                problems.push(format!("{owner} has no source"));
            }
            sources_ok(&mut problems, &owner, &org.sources);
        }
        let known = Known {
            regions: regions.keys().map(|c| (*c).to_owned()).collect(),
            alliances: self.alliances.iter().map(|a| a.slug.clone()).collect(),
            metrics: self.metrics.iter().map(|m| m.code.clone()).collect(),
            organizations: self.organizations.iter().map(|o| (o.key.clone(), o.region.clone())).collect(),
        };
        for figures in &self.figures {
            match self.reports.iter().find(|r| r.key == figures.report) {
                None => problems.push(format!("figures.json names unknown report {}", figures.report)),
                Some(report) => {
                    for problem in self.submission(report).problems(&known, &figures.report) {
                        problems.push(format!("{}: {}", problem.path, problem.message));
                    }
                }
            }
        }
        let libraries: HashSet<&str> = self.libraries.iter().map(|l| l.key.as_str()).collect();
        for l in &self.libraries {
            let owner = format!("library {}", l.key);
            match &l.owner {
                LibraryOwnerEntry::Region(code) => region_ref(&mut problems, &owner, code),
                LibraryOwnerEntry::Alliance(slug) if !known.alliances.contains(slug) => {
                    problems.push(format!("{owner} is owned by unknown alliance {slug}"))
                }
                LibraryOwnerEntry::Alliance(_) => {}
            }
            if l.curator.as_ref().is_some_and(|c| !orgs.contains(c.as_str())) {
                problems.push(format!("{owner} has an unknown curator"));
            }
            sources_ok(&mut problems, &owner, std::slice::from_ref(&l.source));
        }
        for r in &self.resources {
            let owner = format!("resource {}", r.key);
            if let Some(code) = &r.region {
                region_ref(&mut problems, &owner, code);
            }
            if r.provider.as_ref().is_some_and(|p| !orgs.contains(p.as_str())) {
                problems.push(format!("{owner} has an unknown provider"));
            }
            if r.library.as_ref().is_some_and(|l| !libraries.contains(l.as_str())) {
                problems.push(format!("{owner} is in an unknown library"));
            }
            sources_ok(&mut problems, &owner, std::slice::from_ref(&r.source));
        }
        if problems.is_empty() { Ok(()) } else { Err(DatasetError::Inconsistent(problems)) }
    }

    /// Sorts regions by level and organizations so that every parent precedes its children.
    fn order(&mut self) {
        self.regions.sort_by(|a, b| a.level.cmp(&b.level).then_with(|| a.code.cmp(&b.code)));
        let mut placed: HashSet<String> = HashSet::new();
        let mut pending = std::mem::take(&mut self.organizations);
        while !pending.is_empty() {
            let (ready, rest): (Vec<_>, Vec<_>) =
                pending.into_iter().partition(|o| o.parent.as_ref().is_none_or(|p| placed.contains(p)));
            if ready.is_empty() {
                // A cycle: keep the remaining order; the store's foreign key will refuse it.
                self.organizations.extend(rest);
                break;
            }
            placed.extend(ready.iter().map(|o| o.key.clone()));
            self.organizations.extend(ready);
            pending = rest;
        }
    }
}
