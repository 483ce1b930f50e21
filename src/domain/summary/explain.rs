//! "Why this number": for every candidate figure of a summary, the row it belongs to and
//! whether it counted there, or which rule left it out and because of which figure.
//!
//! The rules are those `store::aggregates` runs in SQL, decided here again in plain Rust over
//! the same candidates, figure by figure; the rule names are those of `docs/aggregation.md`
//! §9 (`CONTAINS_SHORTER_FIGURES` names what the code does today where §5.4 says otherwise,
//! see §12). A row's counted figures add up to the row's numbers: the tests hold every summary
//! to that, so the two never drift apart silently.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

pub use crate::store::aggregates::RowKey;
use crate::store::aggregates::{Ancestry, Grouping, PoolFigure, ResolvedScope, Spec};

/// The most candidate figures one summary's `explain` reads, decides and lists (bounding the
/// memory and time one request can make it take; with `EXPLAIN_COST` in the query cost, a
/// query holds at most three explains).
pub const MAX_FIGURES: usize = 2_000;

/// What the rules decided about one candidate figure.
#[derive(Clone, Debug)]
pub struct Decision {
    pub figure: PoolFigure,
    /// The row the figure belongs to.
    pub row: RowKey,
    /// The rule that left it out; `None` when it counts.
    pub rule: Option<&'static str>,
    /// The figure (row id) whose presence made the rule apply.
    pub because: Option<i64>,
}

/// A subset whose total counts (the summary leaves subsets out unless grouped by their key).
pub const SUBSET_NOT_ADDEND: &str = "SUBSET_NOT_ADDEND";
/// A region's own figure of the same thing overlaps a figure below it.
pub const CHILD_COVERED_BY_OWN_FIGURE: &str = "CHILD_COVERED_BY_OWN_FIGURE";
/// An alliance's own figure of the same thing overlaps a member's figure.
pub const MEMBER_COVERED_BY_ALLIANCE_FIGURE: &str = "MEMBER_COVERED_BY_ALLIANCE_FIGURE";
/// Another statement of the same node, thing and period (or date) has precedence.
pub const RESTATEMENT: &str = "RESTATEMENT";
/// A later level of the same node and thing counts.
pub const EARLIER_STOCK_VALUE: &str = "EARLIER_STOCK_VALUE";
/// A figure of exactly the window, containing this one, counts.
pub const INSIDE_LONGER_FIGURE: &str = "INSIDE_LONGER_FIGURE";
/// Today's code (docs/aggregation.md §12): a flow containing shorter figures of its node and
/// thing gives way to them.
pub const CONTAINS_SHORTER_FIGURES: &str = "CONTAINS_SHORTER_FIGURES";

/// Decides every candidate of a summary (see the module documentation).
pub fn decide(
    spec: &Spec,
    scope: &ResolvedScope,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    grouping: Grouping,
    pool: Vec<PoolFigure>,
    ancestry: &[Ancestry],
) -> Vec<Decision> {
    let mut above: HashMap<&str, Vec<&Ancestry>> = HashMap::new();
    for a in ancestry {
        above.entry(a.descendant.as_str()).or_default().push(a);
    }
    let by_time = grouping.year || grouping.quarter || grouping.month;
    let rules: Vec<&PoolFigure> = pool.iter().filter(|f| !f.subset_left_out).collect();
    // Indexes of the figures each rule compares with, so that deciding is near-linear in the
    // number of candidates rather than quadratic.
    let mut own_figures: HashMap<(&str, Thing), Vec<&PoolFigure>> = HashMap::new();
    let mut alliance_figures: HashMap<Thing, Vec<&PoolFigure>> = HashMap::new();
    let mut units: HashMap<UnitKey, Vec<&PoolFigure>> = HashMap::new();
    for g in &rules {
        if let (Some(region), None) = (g.region_code.as_deref(), g.organization_id) {
            own_figures.entry((region, thing(g))).or_default().push(g);
        }
        if g.scope_alliance.is_some() {
            alliance_figures.entry(thing(g)).or_default().push(g);
        }
        units.entry(unit_key(g)).or_default().push(g);
    }
    let window_match = match (from, to) {
        (Some(f), Some(t)) if !by_time => Some((f, t)),
        _ => None,
    };
    let matches = |x: &PoolFigure| window_match.is_some_and(|(f, t)| x.fs == Some(f) && x.fe == Some(t));
    let decided: Vec<(Option<&'static str>, Option<i64>)> = pool
        .iter()
        .map(|f| {
            if f.subset_left_out {
                return (Some(SUBSET_NOT_ADDEND), f.part_of);
            }
            // One scope, one figure: a region's own figure at or above, or the alliance's.
            if let Some(region) = &f.region_code {
                for a in above.get(region.as_str()).into_iter().flatten() {
                    let covering =
                        own_figures.get(&(a.ancestor.as_str(), thing(f))).into_iter().flatten().find(|g| {
                            g.id != f.id && (a.distance > 0 || f.organization_id.is_some()) && overlapping(g, f)
                        });
                    if let Some(g) = covering {
                        return (Some(CHILD_COVERED_BY_OWN_FIGURE), Some(g.id));
                    }
                }
            }
            if spec.has_alliance && scope.alliance_id.is_some() && f.scope_alliance.is_none() {
                let covering = alliance_figures.get(&thing(f)).into_iter().flatten().find(|g| overlapping(g, f));
                if let Some(g) = covering {
                    return (Some(MEMBER_COVERED_BY_ALLIANCE_FIGURE), Some(g.id));
                }
            }
            // One node and thing: restatements, the latest level, one period.
            let unit = units.get(&unit_key(f)).map(Vec::as_slice).unwrap_or_default();
            for g in unit.iter().filter(|g| spec.stock || overlapping(g, f)) {
                if spec.stock {
                    let (gd, fd) = (g.fe.unwrap_or(NaiveDate::MIN), f.fe.unwrap_or(NaiveDate::MIN));
                    if gd > fd {
                        return (Some(EARLIER_STOCK_VALUE), Some(g.id));
                    }
                    if gd == fd && precedes(g, f) {
                        return (Some(RESTATEMENT), Some(g.id));
                    }
                    continue;
                }
                let equal = f.fs.is_some() && f.fe.is_some() && g.fs == f.fs && g.fe == f.fe;
                if equal && (precedes(g, f) || (g.report_id == f.report_id && g.id > f.id)) {
                    return (Some(RESTATEMENT), Some(g.id));
                }
                let inside = |x: &PoolFigure, y: &PoolFigure| match (x.fs, x.fe, y.fs, y.fe) {
                    (Some(xs), Some(xe), Some(ys), Some(ye)) => xs >= ys && xe <= ye,
                    _ => false,
                };
                let finer = g.id != f.id && inside(g, f) && (g.fs > f.fs || g.fe < f.fe);
                if window_match.is_some() && !matches(f) && g.id != f.id && matches(g) && inside(f, g) {
                    return (Some(INSIDE_LONGER_FIGURE), Some(g.id));
                }
                if finer && !matches(f) {
                    return (Some(CONTAINS_SHORTER_FIGURES), Some(g.id));
                }
            }
            (None, None)
        })
        .collect();
    pool.into_iter()
        .zip(decided)
        .map(|(figure, (rule, because))| {
            let row = row_key(&figure, scope, grouping, &above);
            Decision { figure, row, rule, because }
        })
        .collect()
}

/// Whether `g`'s report takes precedence over `f`'s: the later as-of date (none is the
/// earliest), then the greater report key.
fn precedes(g: &PoolFigure, f: &PoolFigure) -> bool {
    (g.asof.unwrap_or(NaiveDate::MIN), &g.rkey) > (f.asof.unwrap_or(NaiveDate::MIN), &f.rkey)
}

/// What is counted (category, kind, sector, metric); null equals null, as in the SQL.
type Thing<'a> = (Option<&'a str>, Option<&'a str>);

fn thing(f: &PoolFigure) -> Thing<'_> {
    (f.k.as_deref(), f.k2.as_deref())
}

/// A node (region, alliance, organization) and thing; null equals null, as in the SQL.
type UnitKey<'a> = (Option<&'a str>, Option<i64>, Option<i64>, Option<&'a str>, Option<&'a str>);

fn unit_key(f: &PoolFigure) -> UnitKey<'_> {
    (f.region_code.as_deref(), f.scope_alliance, f.organization_id, f.k.as_deref(), f.k2.as_deref())
}

/// Whether two periods overlap; unknown ends compare as SQL's null does (not overlapping).
fn overlapping(g: &PoolFigure, f: &PoolFigure) -> bool {
    matches!((g.fs, g.fe, f.fs, f.fe), (Some(gs), Some(ge), Some(fs), Some(fe)) if gs <= fe && fs <= ge)
}

/// The row a figure belongs to, as the statement groups it.
fn row_key(f: &PoolFigure, scope: &ResolvedScope, grouping: Grouping, above: &HashMap<&str, Vec<&Ancestry>>) -> RowKey {
    let ancestors = f.region_code.as_deref().and_then(|r| above.get(r)).map(Vec::as_slice).unwrap_or_default();
    let region = if !grouping.region {
        None
    } else if let Some(parent) = &scope.group_parent {
        // The child of the scope region the figure lies under; the figure's region if none.
        ancestors
            .iter()
            .find(|a| a.parent_code.as_deref() == Some(parent.as_str()))
            .map(|a| a.ancestor.clone())
            .or_else(|| f.region_code.clone())
    } else {
        // The member of the alliance the figure lies under (the smallest code if several).
        ancestors.iter().filter(|a| scope.roots.contains(&a.ancestor)).map(|a| a.ancestor.clone()).min()
    };
    let mut key = RowKey {
        region,
        key: grouping.key.then(|| f.k.clone()).flatten(),
        key2: grouping.key2.then(|| f.k2.clone()).flatten(),
        ..RowKey::default()
    };
    if grouping.year || grouping.quarter || grouping.month {
        let quarter_of = |d: NaiveDate| i64::from(d.month0() / 3 + 1);
        let by_quarter = grouping.quarter && !grouping.month;
        let in_bucket = match (f.fs, f.fe) {
            (Some(s), Some(e)) => {
                let same_quarter = quarter_of(s) == quarter_of(e);
                let same_month = s.month() == e.month();
                s.year() == e.year() && (same_quarter || !by_quarter) && (same_month || !grouping.month)
            }
            _ => false,
        };
        match f.fs.filter(|_| in_bucket) {
            Some(s) => {
                key.year = Some(i64::from(s.year()));
                key.quarter = by_quarter.then(|| quarter_of(s));
                key.month = grouping.month.then(|| i64::from(s.month()));
            }
            None => (key.span_from, key.span_to) = (f.fs, f.fe),
        }
    }
    key
}
