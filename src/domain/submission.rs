//! Submitting a report with its figures: validated as a whole, written all or nothing,
//! idempotent by report key, revised when changed.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::figures::{
    Amount, Count, Dimension, FigureBase, Figures, MAX_DIMENSIONS, MAX_PER_UNITS, PerUnit, Period, Scope, Spread,
    calendar_units, check_amount, check_count, dimensions_text, is_code,
};
use super::model::Qualifier;
use crate::error::Problem;

/// A report and its figures, as an editor submits it (and as the demo dataset stores it).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSubmission {
    /// Stable key of the report; re-submitting the same key is idempotent or a new revision.
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub publisher: Option<String>,
    #[serde(default)]
    pub published_on: Option<NaiveDate>,
    #[serde(default)]
    pub period: Period,
    #[serde(default)]
    pub source_file: Option<String>,
    /// The region the report is about.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub figures: Figures,
}

/// What a submission refers to, to look up before validating.
#[derive(Debug, Default)]
pub struct References {
    pub regions: Vec<String>,
    pub alliances: Vec<String>,
    pub organizations: Vec<String>,
    pub metrics: Vec<String>,
}

/// What validation needs to know about the database: which referenced things exist.
#[derive(Debug, Default)]
pub struct Known {
    pub regions: HashSet<String>,
    pub alliances: HashSet<String>,
    pub metrics: HashSet<String>,
    /// Organization keys that exist, with the region each is located in.
    pub organizations: HashMap<String, Option<String>>,
}

impl ReportSubmission {
    /// Every region code, alliance slug, organization key and metric code the submission refers to.
    pub fn references(&self) -> References {
        let mut refs = References { regions: self.region.iter().cloned().collect(), ..References::default() };
        for base in self.bases() {
            match &base.scope {
                Scope::Region(code) => refs.regions.push(code.clone()),
                Scope::Alliance(slug) => refs.alliances.push(slug.clone()),
                Scope::Organization(key) => refs.organizations.push(key.clone()),
            }
        }
        refs.regions.extend(self.figures.job_fairs.iter().flat_map(|f| f.host_regions.iter().cloned()));
        refs.metrics = self.figures.metrics.iter().map(|m| m.metric.clone()).collect();
        refs
    }

    /// The regions the figures count towards (organization-scoped figures: the organization's
    /// region), and the alliances; for authorization.
    pub fn scopes(&self, known: &Known) -> (Vec<String>, Vec<String>) {
        let mut regions: Vec<String> = self.region.iter().cloned().collect();
        let mut alliances = Vec::new();
        for base in self.bases() {
            match &base.scope {
                Scope::Region(code) => regions.push(code.clone()),
                Scope::Alliance(slug) => alliances.push(slug.clone()),
                Scope::Organization(key) => {
                    regions.extend(known.organizations.get(key).cloned().flatten());
                }
            }
        }
        // A job fair's host regions list it among their own: writing them is writing there.
        regions.extend(self.figures.job_fairs.iter().flat_map(|f| f.host_regions.iter().cloned()));
        regions.sort();
        regions.dedup();
        alliances.sort();
        alliances.dedup();
        (regions, alliances)
    }

    /// Every text of the submission with its path: what must be storable.
    fn texts(&self, path: &str) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> =
            vec![(format!("{path}.key"), &self.key), (format!("{path}.title"), &self.title)];
        let optional = [
            ("publisher", &self.publisher),
            ("sourceFile", &self.source_file),
            ("region", &self.region),
            ("period.note", &self.period.note),
        ];
        out.extend(optional.into_iter().filter_map(|(name, v)| v.as_deref().map(|v| (format!("{path}.{name}"), v))));
        let f = &self.figures;
        let fpath = format!("{path}.figures");
        for (i, x) in f.job_fairs.iter().enumerate() {
            let at = format!("{fpath}.jobFairs[{i}]");
            base_texts(&at, &x.base, &mut out);
            out.extend(x.host_regions.iter().enumerate().map(|(j, s)| (format!("{at}.hostRegions[{j}]"), s.as_str())));
            out.extend(x.organizers.iter().enumerate().map(|(j, s)| (format!("{at}.organizers[{j}]"), s.as_str())));
        }
        for (i, x) in f.case_statistics.iter().enumerate() {
            let at = format!("{fpath}.caseStatistics[{i}]");
            base_texts(&at, &x.base, &mut out);
            out.extend(x.part_of.iter().map(|s| (format!("{at}.partOf"), s.as_str())));
        }
        for (i, x) in f.organization_counts.iter().enumerate() {
            let at = format!("{fpath}.organizationCounts[{i}]");
            base_texts(&at, &x.base, &mut out);
            out.push((format!("{at}.label"), x.label.as_str()));
            out.extend(x.part_of.iter().map(|s| (format!("{at}.partOf"), s.as_str())));
        }
        for (i, x) in f.plan_indicators.iter().enumerate() {
            let at = format!("{fpath}.planIndicators[{i}]");
            base_texts(&at, &x.base, &mut out);
            out.push((format!("{at}.plan"), x.plan.as_str()));
        }
        for (i, x) in f.metrics.iter().enumerate() {
            let at = format!("{fpath}.metrics[{i}]");
            base_texts(&at, &x.base, &mut out);
            out.push((format!("{at}.metric"), x.metric.as_str()));
            out.extend(x.part_of.iter().map(|s| (format!("{at}.partOf"), s.as_str())));
        }
        out
    }

    fn bases(&self) -> impl Iterator<Item = &FigureBase> {
        let f = &self.figures;
        f.job_fairs
            .iter()
            .map(|x| &x.base)
            .chain(f.case_statistics.iter().map(|x| &x.base))
            .chain(f.organization_counts.iter().map(|x| &x.base))
            .chain(f.plan_indicators.iter().map(|x| &x.base))
            .chain(f.metrics.iter().map(|x| &x.base))
    }

    /// Every problem with the submission, each at its path (`input.figures.caseStatistics[2].resolved`).
    pub fn problems(&self, known: &Known, path: &str) -> Vec<Problem> {
        let mut p = Problems { list: Vec::new() };
        for (at, text) in self.texts(path) {
            p.text(text, &at);
        }
        let key_ok = !self.key.is_empty()
            && self.key.len() <= 100
            && self.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !key_ok {
            p.add(format!("{path}.key"), "must be 1–100 characters of lowercase ASCII letters, digits and hyphens");
        }
        if self.title.trim().is_empty() {
            p.add(format!("{path}.title"), "must not be empty");
        }
        p.period(&self.period, &format!("{path}.period"));
        p.date(self.published_on, &format!("{path}.publishedOn"));
        if let Some(code) = &self.region {
            p.region(known, code, &format!("{path}.region"));
        }
        let figures = &self.figures;
        let fpath = format!("{path}.figures");
        let mut ids = HashSet::new();
        let mut check_base = |p: &mut Problems, base: &FigureBase, at: &str| {
            if base.id.trim().is_empty() {
                p.add(format!("{at}.id"), "must not be empty");
            } else if !ids.insert(base.id.clone()) {
                p.add(format!("{at}.id"), format!("{:?} is used by another figure of this report", base.id));
            }
            if base.excerpt.trim().is_empty() {
                p.add(format!("{at}.excerpt"), "must quote the report's passage that states the figure");
            }
            match &base.scope {
                Scope::Region(code) => p.region(known, code, &format!("{at}.scope.region")),
                Scope::Alliance(slug) if !known.alliances.contains(slug) => {
                    p.add(format!("{at}.scope.alliance"), format!("no alliance has slug {slug:?}"))
                }
                Scope::Alliance(_) => {}
                Scope::Organization(key) if !known.organizations.contains_key(key) => {
                    p.add(format!("{at}.scope.organization"), format!("no organization has key {key:?}"))
                }
                Scope::Organization(_) => {}
            }
            p.period(&base.period, &format!("{at}.period"));
            p.dimensions(&base.dimensions, &format!("{at}.dimensions"));
        };
        for (i, f) in figures.job_fairs.iter().enumerate() {
            let at = format!("{fpath}.jobFairs[{i}]");
            check_base(&mut p, &f.base, &at);
            for (j, code) in f.host_regions.iter().enumerate() {
                p.region(known, code, &format!("{at}.hostRegions[{j}]"));
            }
            for (name, count) in [
                ("fairs", f.fairs),
                ("employers", f.employers),
                ("positionsOffered", f.positions_offered),
                ("jobSeekers", f.job_seekers),
                ("intents", f.intents),
                ("hires", f.hires),
            ] {
                p.count(count, &format!("{at}.{name}"));
            }
            if f.fairs.is_some_and(|c| c.value == 0) {
                p.add(format!("{at}.fairs"), "a series has at least one fair");
            }
            p.date(f.held_on, &format!("{at}.heldOn"));
            if let (Some(day), Some(start), Some(end)) = (f.held_on, f.base.period.start, f.base.period.end)
                && (day < start || day > end)
            {
                p.add(format!("{at}.heldOn"), "lies outside the figure's period");
            }
        }
        for (i, f) in figures.case_statistics.iter().enumerate() {
            let at = format!("{fpath}.caseStatistics[{i}]");
            check_base(&mut p, &f.base, &at);
            match &f.base.scope {
                Scope::Alliance(_) => {
                    p.add(format!("{at}.scope"), "case statistics belong to a region or an organization")
                }
                Scope::Organization(key) if known.organizations.get(key).is_some_and(Option::is_none) => p.add(
                    format!("{at}.scope.organization"),
                    "case statistics need an organization located in a region",
                ),
                _ => {}
            }
            if f.base.period.start.is_none() || f.base.period.end.is_none() {
                p.add(format!("{at}.period"), "case statistics need a start and an end");
            }
            for (name, count) in [("received", f.received), ("resolved", f.resolved), ("peopleAided", f.people_aided)] {
                p.count(count, &format!("{at}.{name}"));
            }
            p.amount(f.amount_aided, &format!("{at}.amountAided"));
            p.per(f.per, f.spread, &f.base.period, &at);
            if f.unit.as_deref().is_some_and(|u| !is_code(u)) {
                p.add(
                    format!("{at}.unit"),
                    "must be a unit code: 1–32 lowercase ASCII letters, digits and underscores",
                );
            }
            if let (Some(received), Some(resolved)) = (f.received, f.resolved)
                && resolved.value > received.value
                && received.qualifier == Qualifier::Exact
                && resolved.qualifier != Qualifier::Approximate
            {
                p.add(
                    format!("{at}.resolved"),
                    format!("{} resolved is more than {} received", resolved.value, received.value),
                );
            }
            if let Some(parent) = &f.part_of {
                match figures.case_statistics.iter().find(|g| &g.base.id == parent) {
                    None => {
                        p.add(format!("{at}.partOf"), format!("no case statistic in this report has id {parent:?}"))
                    }
                    Some(g) if g.category == f.category => {
                        p.add(format!("{at}.partOf"), "a breakdown must be of another category than its total")
                    }
                    Some(g) if f.received.zip(g.received).is_some_and(|(own, total)| own.value > total.value) => {
                        p.add(format!("{at}.partOf"), "the subset received more cases than its total")
                    }
                    Some(_) => {}
                }
            }
            if f.reported_rate.is_some_and(|r| !(0.0..=100.0).contains(&r)) {
                p.add(format!("{at}.reportedRate"), "must be a percentage between 0 and 100");
            }
        }
        let counts: HashMap<&str, i64> =
            figures.organization_counts.iter().map(|f| (f.base.id.as_str(), f.count.value)).collect();
        for (i, f) in figures.organization_counts.iter().enumerate() {
            let at = format!("{fpath}.organizationCounts[{i}]");
            check_base(&mut p, &f.base, &at);
            p.count(Some(f.count), &format!("{at}.count"));
            if f.label.trim().is_empty() {
                p.add(format!("{at}.label"), "must give the report's own term");
            }
            p.part_of(f.part_of.as_deref(), &f.base.id, f.count.value, &counts, &format!("{at}.partOf"));
        }
        for (i, f) in figures.plan_indicators.iter().enumerate() {
            let at = format!("{fpath}.planIndicators[{i}]");
            check_base(&mut p, &f.base, &at);
            if let Some(Err(message)) = f.areas.map(check_count) {
                p.add(format!("{at}.areas"), message);
            }
            p.count(Some(f.total), &format!("{at}.total"));
            p.count(Some(f.met), &format!("{at}.met"));
            if f.met.value > f.total.value {
                p.add(format!("{at}.met"), format!("{} met is more than {} indicators", f.met.value, f.total.value));
            }
            if f.plan.trim().is_empty() {
                p.add(format!("{at}.plan"), "must name the plan");
            }
        }
        let values: HashMap<&str, i64> =
            figures.metrics.iter().map(|f| (f.base.id.as_str(), f.value.value.round() as i64)).collect();
        for (i, f) in figures.metrics.iter().enumerate() {
            let at = format!("{fpath}.metrics[{i}]");
            check_base(&mut p, &f.base, &at);
            if !known.metrics.contains(&f.metric) {
                p.add(format!("{at}.metric"), format!("{:?} is not in the metric catalog", f.metric));
            }
            p.amount(Some(f.value), &format!("{at}.value"));
            p.per(f.per, f.spread, &f.base.period, &at);
            if f.unit.as_deref().is_some_and(|u| !is_code(u)) {
                p.add(
                    format!("{at}.unit"),
                    "must be a unit code: 1–32 lowercase ASCII letters, digits and underscores",
                );
            }
            // A subset is at most its total only when both count the same thing in one unit.
            let comparable = f
                .part_of
                .as_deref()
                .and_then(|t| figures.metrics.iter().find(|g| g.base.id == t))
                .is_none_or(|total| total.metric == f.metric && total.unit == f.unit);
            let value = if comparable { f.value.value.round() as i64 } else { 0 };
            p.part_of(f.part_of.as_deref(), &f.base.id, value, &values, &format!("{at}.partOf"));
        }
        same_thing_agrees(figures, &fpath, &mut p);
        // "Of which" links are resolved whatever the order figures come in (a subset may be
        // listed before its total), so they must lead to a total, never round in a circle.
        let links: [(&str, Vec<Link>); 3] = [
            (
                "caseStatistics",
                figures.case_statistics.iter().map(|f| (f.base.id.as_str(), f.part_of.as_deref())).collect(),
            ),
            (
                "organizationCounts",
                figures.organization_counts.iter().map(|f| (f.base.id.as_str(), f.part_of.as_deref())).collect(),
            ),
            ("metrics", figures.metrics.iter().map(|f| (f.base.id.as_str(), f.part_of.as_deref())).collect()),
        ];
        for (kind, items) in &links {
            for i in in_cycles(items) {
                p.add(
                    format!("{fpath}.{kind}[{i}].partOf"),
                    format!(
                        "{:?} is, through its partOf links, a subset of itself: an \"of which\" must lead to a total",
                        items[i].0
                    ),
                );
            }
        }
        p.list
    }
}

/// The texts every figure has, with their paths below `at`.
fn base_texts<'a>(at: &str, base: &'a FigureBase, out: &mut Vec<(String, &'a str)>) {
    out.push((format!("{at}.id"), &base.id));
    out.push((format!("{at}.excerpt"), &base.excerpt));
    let (kind, scope) = match &base.scope {
        Scope::Region(s) => ("region", s),
        Scope::Alliance(s) => ("alliance", s),
        Scope::Organization(s) => ("organization", s),
    };
    out.push((format!("{at}.scope.{kind}"), scope));
    out.extend(base.note.as_deref().map(|n| (format!("{at}.note"), n)));
    out.extend(base.period.note.as_deref().map(|n| (format!("{at}.period.note"), n)));
    for (i, d) in base.dimensions.iter().enumerate() {
        out.push((format!("{at}.dimensions[{i}].value"), &d.value));
    }
}

/// docs/aggregation.md §2.3: within one report, two statements of the same thing (kind,
/// scope, code, dimensions, unit, the total they are a subset of) for the same period are one statement made
/// twice and must agree; differing values mean different things that a dimension or unit must
/// tell apart, or the rules would keep one and drop the other. Single job fairs are exempt (a
/// report may list two fairs on one day).
fn same_thing_agrees(figures: &super::figures::Figures, fpath: &str, p: &mut Problems) {
    fn scope(s: &Scope) -> String {
        format!("{s:?}")
    }
    let period = |b: &FigureBase| format!("{:?}..{:?}", b.period.start, b.period.end);
    let dims = |b: &FigureBase| dimensions_text(&b.dimensions);
    let mut seen: HashMap<String, (String, String)> = HashMap::new();
    let mut check = |p: &mut Problems, key: String, value: String, at: String| match seen.get(&key) {
        Some((first, v)) if *v != value => p.add(
            at,
            format!(
                "states the same thing as {first} (same scope, code, period, dimensions and unit) with other \
                 numbers: one statement made twice must agree; if they are different things, tell them apart \
                 with a dimension (e.g. subject or designation) or a unit"
            ),
        ),
        Some(_) => {}
        None => {
            seen.insert(key, (at, value));
        }
    };
    for (i, f) in figures.job_fairs.iter().enumerate().filter(|(_, f)| f.fairs.is_some()) {
        let b = &f.base;
        let key = format!("fair|{}|{}|{}", scope(&b.scope), period(b), dims(b));
        let value = format!("{:?}", [f.fairs, f.employers, f.positions_offered, f.job_seekers, f.intents, f.hires]);
        check(p, key, value, format!("{fpath}.jobFairs[{i}]"));
    }
    for (i, f) in figures.case_statistics.iter().enumerate() {
        let b = &f.base;
        let key = format!(
            "case|{}|{}|{:?}|{:?}|{}|{}|{:?}",
            scope(&b.scope),
            f.category.as_str(),
            f.unit,
            f.per,
            period(b),
            dims(b),
            f.part_of
        );
        let value = format!("{:?}", (f.received, f.resolved, f.people_aided, f.amount_aided));
        check(p, key, value, format!("{fpath}.caseStatistics[{i}]"));
    }
    for (i, f) in figures.organization_counts.iter().enumerate() {
        let b = &f.base;
        let key = format!(
            "count|{}|{}|{:?}|{}|{}|{:?}",
            scope(&b.scope),
            f.organization_kind.as_str(),
            f.sector.map(|s| s.as_str()),
            period(b),
            dims(b),
            f.part_of
        );
        check(p, key, format!("{:?}", f.count), format!("{fpath}.organizationCounts[{i}]"));
    }
    for (i, f) in figures.metrics.iter().enumerate() {
        let b = &f.base;
        let key = format!(
            "metric|{}|{}|{:?}|{:?}|{}|{}|{:?}",
            scope(&b.scope),
            f.metric,
            f.unit,
            f.per,
            period(b),
            dims(b),
            f.part_of
        );
        check(p, key, format!("{:?}", f.value), format!("{fpath}.metrics[{i}]"));
    }
}

struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.list.push(Problem::new(path, message));
    }

    fn region(&mut self, known: &Known, code: &str, path: &str) {
        if !known.regions.contains(code) {
            self.add(path, format!("no region has code {code}"));
        }
    }

    /// A date both backends store and compare alike: years 1 to 9999 (SQLite compares dates as
    /// text, so "+10000-01-01" would sort before "2013-01-01").
    fn date(&mut self, date: Option<NaiveDate>, path: &str) {
        if let Some(date) = date
            && !(1..=9999).contains(&date.year())
        {
            self.add(path, format!("{date} is outside the years 1 to 9999"));
        }
    }

    fn period(&mut self, period: &Period, path: &str) {
        self.date(period.start, &format!("{path}.start"));
        self.date(period.end, &format!("{path}.end"));
        if let (Some(start), Some(end)) = (period.start, period.end)
            && end < start
        {
            self.add(format!("{path}.end"), format!("{end} is before the start {start}"));
        }
    }

    fn count(&mut self, count: Option<Count>, path: &str) {
        if let Some(Err(message)) = count.map(|c| check_count(c.value)) {
            self.add(format!("{path}.value"), message);
        }
    }

    fn amount(&mut self, amount: Option<Amount>, path: &str) {
        if let Some(Err(message)) = amount.map(|a| check_amount(a.value)) {
            self.add(format!("{path}.value"), message);
        }
    }

    /// A per-unit statement needs a period of whole units (and a spread only with a unit).
    fn per(&mut self, per: Option<PerUnit>, spread: Option<Spread>, period: &Period, at: &str) {
        match (per, period.start, period.end) {
            (None, _, _) if spread.is_some() => {
                self.add(format!("{at}.spread"), "is only for a per-unit statement (per)")
            }
            (None, _, _) => {}
            (Some(per), Some(start), Some(end)) if start <= end => {
                if calendar_units(start, end, per).is_none() {
                    self.add(
                        format!("{at}.period"),
                        format!(
                            "a statement per {} needs a period of whole such units (at most {MAX_PER_UNITS}), from the \
                             first day of one to the last day of another",
                            per.as_str().to_lowercase()
                        ),
                    );
                }
            }
            (Some(_), Some(_), Some(_)) => {}
            (Some(_), _, _) => self.add(format!("{at}.period"), "a per-unit statement needs a start and an end"),
        }
    }

    fn dimensions(&mut self, dimensions: &[Dimension], path: &str) {
        if dimensions.len() > MAX_DIMENSIONS {
            self.add(path, format!("at most {MAX_DIMENSIONS} dimensions"));
        }
        let mut keys = HashSet::new();
        for (i, d) in dimensions.iter().enumerate() {
            if !is_code(&d.key) {
                self.add(
                    format!("{path}[{i}].key"),
                    "must be 1–32 lowercase ASCII letters, digits and underscores, starting with a letter",
                );
            } else if !keys.insert(d.key.as_str()) {
                self.add(format!("{path}[{i}].key"), format!("{:?} is given twice", d.key));
            }
            if d.value.trim().is_empty() {
                self.add(format!("{path}[{i}].value"), "must not be empty");
            } else if d.value.chars().count() > 200 {
                self.add(format!("{path}[{i}].value"), "must be at most 200 characters");
            }
        }
    }

    fn text(&mut self, text: &str, path: &str) {
        if let Err(message) = super::text::check(text) {
            self.add(path, message);
        }
    }

    fn part_of(&mut self, parent: Option<&str>, own: &str, value: i64, values: &HashMap<&str, i64>, path: &str) {
        let Some(parent) = parent else { return };
        match values.get(parent) {
            None => self.add(path, format!("no figure of the same kind in this report has id {parent:?}")),
            Some(_) if parent == own => self.add(path, "a figure cannot be part of itself"),
            Some(total) if value > *total => {
                self.add(path, format!("the subset ({value}) is larger than the total it is part of ({total})"))
            }
            Some(_) => {}
        }
    }
}

/// A figure's id and the id of the total it is part of, if any.
type Link<'a> = (&'a str, Option<&'a str>);

/// The positions of the items (id, the id of the total it is part of) whose `partOf` links
/// lead back to themselves.
fn in_cycles(items: &[Link]) -> Vec<usize> {
    let position: HashMap<&str, usize> = items.iter().enumerate().map(|(i, (id, _))| (*id, i)).collect();
    // 0: not seen; 1: on the path being walked; 2: done. Each item is walked once.
    let mut state = vec![0u8; items.len()];
    let mut cyclic = vec![false; items.len()];
    for first in 0..items.len() {
        let mut path = Vec::new();
        let mut at = Some(first);
        while let Some(i) = at {
            match state[i] {
                0 => {
                    state[i] = 1;
                    path.push(i);
                    at = items[i].1.and_then(|total| position.get(total).copied());
                }
                1 => {
                    // Back on the path: from `i` on, the path is a cycle.
                    let from = path.iter().position(|&j| j == i).unwrap_or(path.len());
                    path[from..].iter().for_each(|&j| cyclic[j] = true);
                    at = None;
                }
                _ => at = None,
            }
        }
        path.iter().for_each(|&j| state[j] = 2);
    }
    (0..items.len()).filter(|&i| cyclic[i]).collect()
}

/// A stable fingerprint of a submission's content, to tell a re-submission from a revision.
/// FNV-1a over the canonical debug form: stable across runs and builds of the same version.
pub fn fingerprint(submission: &ReportSubmission) -> String {
    let text = format!("{submission:?}");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}
