//! Dashboard summaries: what is summed, over which regions, grouped how, and why each number
//! is what it is (`explain`). The semantics are docs/aggregation.md; `rules` decides them in
//! plain Rust over the figures that can compete, and `store::aggregates` (the only place that
//! builds aggregate SQL) reads the candidates and sums the figures no rule can touch.

pub mod rules;

use chrono::NaiveDate;

use super::figures::{CaseCategory, MetricNature};
use super::model::{OrganizationKind, Qualifier};
use crate::error::{AppError, AppResult};
use crate::store::aggregates::{Grouping, Row, RowKey, Spec, specs};

/// Where a summary looks: a region or an alliance, with or without what lies below.
#[derive(Clone, Debug)]
pub struct SummaryScope {
    pub region: Option<String>,
    pub alliance: Option<String>,
    pub include_descendants: bool,
}

/// The time window: figures whose whole period lies within it count.
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// How complete a sum is: regions in scope that contributed, of all regions in scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coverage {
    pub reporting: i64,
    pub total: i64,
}

/// One row of a summary: its group keys, sums, and how far to trust them.
#[derive(Clone, Debug)]
pub struct SummaryRow {
    /// What the row is grouped by (`explain` assigns figures to rows by it).
    pub keys: RowKey,
    /// The period the row speaks for: its bucket within the window, the own period of figures
    /// spanning buckets, or the window (docs/aggregation.md §6.2).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Sums of the measures, in the summary's order.
    pub sums: [Option<f64>; 6],
    /// Measure 0 and 1 summed over figures having both (for rates).
    pub paired: (Option<f64>, Option<f64>),
    pub qualifier: Qualifier,
    pub coverage: Coverage,
    pub sources: Vec<i64>,
}

impl SummaryRow {
    pub(crate) fn from_row(row: Row, total: i64, window: Window, group: GroupBy) -> Self {
        let k = &row.keys;
        let (from, to) = if k.span_from.is_some() || k.span_to.is_some() {
            (k.span_from, k.span_to)
        } else if group.year || group.quarter || group.month {
            // A bucket, within the window; no bucket for figures without a period.
            match k.bucket() {
                Some((start, end)) => {
                    (Some(window.from.map_or(start, |f| f.max(start))), Some(window.to.map_or(end, |t| t.min(end))))
                }
                None => (None, None),
            }
        } else {
            (window.from, window.to)
        };
        Self {
            keys: row.keys,
            from,
            to,
            sums: [row.m0, row.m1, row.m2, row.m3, row.m4, row.m5],
            paired: (row.m0_paired, row.m1_paired),
            qualifier: match row.qualifier_rank.unwrap_or(0) {
                2 => Qualifier::Approximate,
                1 => Qualifier::AtLeast,
                _ => Qualifier::Exact,
            },
            coverage: Coverage { reporting: row.reporting, total },
            sources: row
                .sources
                .unwrap_or_default()
                .split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect::<std::collections::BTreeSet<i64>>()
                .into_iter()
                .collect(),
        }
    }

    /// Whether this row holds figures whose period spans several of the buckets grouped by.
    pub fn spans_buckets(&self) -> bool {
        self.keys.span_from.is_some() || self.keys.span_to.is_some()
    }

    /// A measure's sum as an integer count, as GraphQL's `Int` carries it: `OUT_OF_RANGE` when
    /// the sum is larger than 2³¹ − 1 (counts are at most `MAX_COUNT` each, but a sum over many
    /// can pass it), never a wrong number.
    pub fn count(&self, i: usize) -> AppResult<Option<i32>> {
        let Some(sum) = self.sums[i] else { return Ok(None) };
        let rounded = sum.round();
        if (0.0..=f64::from(i32::MAX)).contains(&rounded) {
            Ok(Some(rounded as i32))
        } else {
            Err(AppError::OutOfRange(format!(
                "the sum {rounded} is outside what a GraphQL Int carries (0 to {}); narrow the scope or the period",
                i32::MAX
            )))
        }
    }

    /// A measure's sum as a decimal amount: `OUT_OF_RANGE` when it is not a finite number
    /// (GraphQL's `Float` has no infinity), never a null that looks like "nothing reported".
    pub fn amount(&self, i: usize) -> AppResult<Option<f64>> {
        match self.sums[i] {
            Some(sum) if !sum.is_finite() => Err(AppError::OutOfRange(
                "the sum is too large to be represented; narrow the scope or the period".to_owned(),
            )),
            other => Ok(other),
        }
    }

    /// Measure 0 over measure 1, where both were reported (e.g. resolved / received).
    pub fn rate(&self) -> Option<f64> {
        match self.paired {
            (Some(part), Some(whole)) if whole > 0.0 => Some(part / whole),
            _ => None,
        }
    }
}

/// What a summary groups by.
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupBy {
    pub region: bool,
    pub year: bool,
    pub quarter: bool,
    pub month: bool,
    pub category: bool,
    pub sector: bool,
}

impl GroupBy {
    pub(crate) fn grouping(self) -> Grouping {
        Grouping {
            region: self.region,
            year: self.year,
            quarter: self.quarter,
            month: self.month,
            key: self.category,
            key2: self.sector,
        }
    }
}

/// Case statistics: received, resolved, people aided, amount aided; keyed by category.
pub fn case_spec(category: Option<CaseCategory>) -> Spec {
    specs::case_statistics(category.map(CaseCategory::as_str))
}

/// Job fairs: fairs (a single fair counts 1), employers, positions, seekers, intents, hires.
pub fn job_fair_spec() -> Spec {
    specs::job_fairs()
}

/// Organization counts: stocks, keyed by kind and sector.
pub fn organization_spec(kind: Option<OrganizationKind>) -> Spec {
    specs::organization_counts(kind.map(OrganizationKind::as_str))
}

/// A catalog metric: summed when a flow, latest value when a stock.
pub fn metric_spec(code: &str, nature: MetricNature) -> Spec {
    specs::metric(code, nature == MetricNature::Stock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_calendar_units() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let bucket = |year, quarter, month| RowKey { year, quarter, month, ..RowKey::default() }.bucket();
        assert_eq!(bucket(Some(2024), None, None), Some((d(2024, 1, 1), d(2024, 12, 31))));
        assert_eq!(bucket(Some(2024), Some(1), None), Some((d(2024, 1, 1), d(2024, 3, 31))));
        assert_eq!(bucket(Some(2024), Some(4), None), Some((d(2024, 10, 1), d(2024, 12, 31))));
        assert_eq!(bucket(Some(2024), None, Some(2)), Some((d(2024, 2, 1), d(2024, 2, 29))));
        assert_eq!(bucket(Some(2023), None, Some(12)), Some((d(2023, 12, 1), d(2023, 12, 31))));
        assert_eq!(bucket(None, None, Some(2)), None);
    }
}
