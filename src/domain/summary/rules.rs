//! The rules of docs/aggregation.md §5–§6, decided in plain Rust over a summary's candidate
//! figures: which atom (one measure of one figure) counts in which row, and which rule left
//! each other one out, because of which figure. The same decisions give a summary's numbers
//! (`Verdict::part_rows`) and its `explain` (`Verdict::decisions`), so the two cannot drift
//! apart. Rule names are those of the document's §9.
//!
//! Every row is one cell (§6): the candidates are partitioned by the row they belong to
//! (region child or own row, time bucket or the figure's own period when it spans buckets,
//! category, kind, sector), and the rules compare atoms of one cell only, in the document's
//! order: restatements (§5.2), one scope one figure (§5.3), one period one figure (§5.4: the
//! longest statement stands), subsets (§5.5).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};

pub use crate::store::aggregates::RowKey;
use crate::store::aggregates::{Ancestry, Grouping, PartRow, PoolFigure, ResolvedScope, Spec};

/// The most candidate figures one summary's `explain` reads, decides and lists (bounding the
/// memory and time one request can make it take; with `EXPLAIN_COST` in the query cost, a
/// query holds at most three explains).
pub const MAX_FIGURES: usize = 2_000;

/// A subset whose total (or what stands for its total) counts in the row (§5.5).
pub const SUBSET_NOT_ADDEND: &str = "SUBSET_NOT_ADDEND";
/// A wider region's own figure of the same thing overlaps it (§5.3).
pub const CHILD_COVERED_BY_OWN_FIGURE: &str = "CHILD_COVERED_BY_OWN_FIGURE";
/// An alliance's own figure of the same thing overlaps it (§5.3).
pub const MEMBER_COVERED_BY_ALLIANCE_FIGURE: &str = "MEMBER_COVERED_BY_ALLIANCE_FIGURE";
/// The same node, thing and period (or date) is stated by an atom with precedence (§5.2).
pub const RESTATEMENT: &str = "RESTATEMENT";
/// A later level of the same node and thing counts (§5.4).
pub const EARLIER_STOCK_VALUE: &str = "EARLIER_STOCK_VALUE";
/// A counted atom of its node and thing has a period containing its own (§5.4).
pub const INSIDE_LONGER_FIGURE: &str = "INSIDE_LONGER_FIGURE";
/// A counted atom of its node and thing overlaps it without containing it (§5.4).
pub const PARTIAL_OVERLAP: &str = "PARTIAL_OVERLAP";
/// One of several rates counted in one row: rates are never added (§5.6).
pub const NOT_ADDITIVE: &str = "NOT_ADDITIVE";

/// The units of rates (§5.6): percentages, hours per day, years. A value in one of them is a
/// level, never an addend.
pub const RATE_UNITS: [&str; 3] = ["percent", "hours", "years"];

/// What the rules decided about one atom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Counted,
    /// Left out by a rule, because of a figure (its row id).
    Left(&'static str, i64),
}

/// What the rules decided about every candidate of a summary.
pub struct Verdict<'a> {
    spec: &'a Spec,
    pool: &'a [PoolFigure],
    /// Per figure: the row it belongs to.
    rows: Vec<RowKey>,
    /// Per figure and measure: the outcome, `None` where the figure does not state it.
    atoms: Vec<[Option<Outcome>; 6]>,
    /// Rows where a flow left out by a scope or period rule has time that no counted atom of
    /// its thing covers: their qualifier is at least AT_LEAST (`UNCOUNTED_REMAINDER`, §3).
    remainder: HashSet<RowKey>,
}

/// What the rules decided about a figure, for `explain`: the measures it counted in its row,
/// or those a rule left out, because of which figure. A figure counted for some measures and
/// left out for others appears once per outcome.
#[derive(Clone, Debug)]
pub struct Decision {
    pub figure: PoolFigure,
    pub row: RowKey,
    pub measures: Vec<&'static str>,
    /// The rule that left the measures out; `None` when they count.
    pub rule: Option<&'static str>,
    /// The figure (row id) whose presence made the rule apply.
    pub because: Option<i64>,
}

/// What a figure is about (§2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Node<'a> {
    Region(&'a str),
    Organization(i64),
    Alliance(i64),
    Nowhere,
}

fn node(f: &PoolFigure) -> Node<'_> {
    match (f.organization_id, f.scope_alliance, f.region_code.as_deref()) {
        (Some(o), _, _) => Node::Organization(o),
        (None, Some(a), _) => Node::Alliance(a),
        (None, None, Some(r)) => Node::Region(r),
        (None, None, None) => Node::Nowhere,
    }
}

/// What is counted (§2.3): category, kind, sector or metric, dimensions, unit, and for a
/// subset the key of its total; the measure is the rules' other half.
type Thing<'a> = (Option<&'a str>, Option<&'a str>, &'a str, Option<&'a str>, Option<&'a str>);

fn thing(f: &PoolFigure) -> Thing<'_> {
    (f.k.as_deref(), f.k2.as_deref(), f.dims.as_str(), f.unit.as_deref(), f.link.as_deref())
}

/// One statement (§5.2): a node, a thing, and a period (a stock's date as both ends).
type Statement<'a> = (Node<'a>, Thing<'a>, Option<NaiveDate>, Option<NaiveDate>);

/// A period's first and last day, an unknown end being unbounded (§2.4).
fn lo(f: &PoolFigure) -> NaiveDate {
    f.fs.unwrap_or(NaiveDate::MIN)
}

fn hi(f: &PoolFigure) -> NaiveDate {
    f.fe.unwrap_or(NaiveDate::MAX)
}

fn overlapping(g: &PoolFigure, f: &PoolFigure) -> bool {
    lo(g) <= hi(f) && lo(f) <= hi(g)
}

/// Whether `x`'s period lies inside `c`'s.
fn inside(x: &PoolFigure, c: &PoolFigure) -> bool {
    lo(c) <= lo(x) && hi(x) <= hi(c)
}

/// A period's length in days; an open period is infinitely long.
fn length(f: &PoolFigure) -> i64 {
    match (f.fs, f.fe) {
        (Some(s), Some(e)) => (e - s).num_days(),
        _ => i64::MAX,
    }
}

/// Precedence (§2.5): the later as-of date (none is the earliest), then the greater report
/// key; within one report the smaller figure id. The greatest key wins.
fn precedence(f: &PoolFigure) -> (NaiveDate, &str, std::cmp::Reverse<i64>) {
    (f.asof.unwrap_or(NaiveDate::MIN), f.rkey.as_str(), std::cmp::Reverse(f.id))
}

/// The regions at or above each region, with their distance.
struct Above<'a>(HashMap<&'a str, Vec<&'a Ancestry>>);

impl<'a> Above<'a> {
    fn new(ancestry: &'a [Ancestry]) -> Self {
        let mut above: HashMap<&str, Vec<&Ancestry>> = HashMap::new();
        for a in ancestry {
            above.entry(a.descendant.as_str()).or_default().push(a);
        }
        Self(above)
    }

    fn of(&self, region: Option<&str>) -> &[&'a Ancestry] {
        region.and_then(|r| self.0.get(r)).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether region `r` lies at or below region `at` (distance 0 allowed when `or_self`).
    fn below(&self, r: Option<&str>, at: &str, or_self: bool) -> bool {
        self.of(r).iter().any(|a| a.ancestor == at && (or_self || a.distance > 0))
    }
}

/// Whether `g`'s node is wider than `f`'s (§2.1): an alliance than anything within it; a
/// region than the regions below it and the organizations located in it or below;
/// organizations never.
fn wider(g: &PoolFigure, f: &PoolFigure, above: &Above) -> bool {
    match (node(g), node(f)) {
        (Node::Alliance(_), Node::Alliance(_) | Node::Nowhere) => false,
        (Node::Alliance(_), _) => true,
        (Node::Region(r), Node::Region(_)) => above.below(f.region_code.as_deref(), r, false),
        (Node::Region(r), Node::Organization(_)) => above.below(f.region_code.as_deref(), r, true),
        _ => false,
    }
}

/// Decides every candidate of a summary (see the module documentation).
pub fn decide<'a>(
    spec: &'a Spec,
    scope: &ResolvedScope,
    grouping: Grouping,
    pool: &'a [PoolFigure],
    ancestry: &[Ancestry],
) -> Verdict<'a> {
    let above = Above::new(ancestry);
    let rows: Vec<RowKey> = pool.iter().map(|f| row_key(f, scope, grouping, &above)).collect();
    let mut atoms: Vec<[Option<Outcome>; 6]> = pool
        .iter()
        .map(|f| std::array::from_fn(|m| (m < spec.measures.len() && f.value(m).is_some()).then_some(Outcome::Counted)))
        .collect();
    // A cell is a row before its split by unit: the split is presentation only, and the rules
    // (subsets in particular: a subset in person-times of a total in cases) are decided in the
    // cell (§6.4). Atoms of different units are different things, so no rule mixes them.
    let mut cells: BTreeMap<RowKey, Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        cells.entry(RowKey { unit: None, ..row.clone() }).or_default().push(i);
    }
    let mut remainder = HashSet::new();
    for (cell_key, cell) in cells {
        for m in 0..spec.measures.len() {
            let stated: Vec<usize> = cell.iter().copied().filter(|&i| pool[i].value(m).is_some()).collect();
            decide_measure(spec, pool, &above, &stated, m, &mut atoms);
        }
        subsets(pool, &cell, &mut atoms);
        rates(pool, &cell, spec.measures.len(), &mut atoms);
        if !spec.stock {
            for unit in remainders(pool, &above, &cell, &atoms, spec.measures.len()) {
                remainder.insert(RowKey { unit, ..cell_key.clone() });
            }
        }
    }
    Verdict { spec, pool, rows, atoms, remainder }
}

/// §5.2–§5.4 for one measure of one cell, over the figures stating it.
fn decide_measure(
    spec: &Spec,
    pool: &[PoolFigure],
    above: &Above,
    stated: &[usize],
    m: usize,
    atoms: &mut [[Option<Outcome>; 6]],
) {
    // §5.2 Restatements: one statement per node, thing and period (stocks: date). Events
    // (single fairs) restate each other only across reports: the report with precedence keeps
    // all its events of that day.
    let mut statements: HashMap<Statement, Vec<usize>> = HashMap::new();
    for &i in stated {
        let f = &pool[i];
        statements.entry((node(f), thing(f), f.fs, f.fe)).or_default().push(i);
    }
    let mut survivors = Vec::new();
    for same in statements.values() {
        let Some(&w) = same.iter().max_by(|&&a, &&b| precedence(&pool[a]).cmp(&precedence(&pool[b]))) else { continue };
        let winner = &pool[w];
        for &i in same {
            let f = &pool[i];
            if i == w || (winner.event && f.event && f.report_id == winner.report_id) {
                survivors.push(i);
            } else {
                atoms[i][m] = Some(Outcome::Left(RESTATEMENT, winner.id));
            }
        }
    }
    survivors.sort_unstable();

    // §5.3 One scope, one figure: a wider node's own atom of the same thing (overlapping, for
    // flows) stands for its whole extent.
    let mut own: HashMap<(&str, Thing), Vec<usize>> = HashMap::new();
    let mut alliance: HashMap<Thing, Vec<usize>> = HashMap::new();
    for &i in &survivors {
        let f = &pool[i];
        match node(f) {
            Node::Region(r) => own.entry((r, thing(f))).or_default().push(i),
            Node::Alliance(_) => alliance.entry(thing(f)).or_default().push(i),
            _ => {}
        }
    }
    let covers = |g: &PoolFigure, f: &PoolFigure| (spec.stock || overlapping(g, f)) && wider(g, f, above);
    let mut standing = Vec::new();
    for &i in &survivors {
        let f = &pool[i];
        let by_region = above
            .of(f.region_code.as_deref())
            .iter()
            .filter_map(|a| own.get(&(a.ancestor.as_str(), thing(f))))
            .flatten()
            .find(|&&g| covers(&pool[g], f));
        if let Some(&g) = by_region {
            atoms[i][m] = Some(Outcome::Left(CHILD_COVERED_BY_OWN_FIGURE, pool[g].id));
            continue;
        }
        if let Some(&g) = alliance.get(&thing(f)).into_iter().flatten().find(|&&g| covers(&pool[g], f)) {
            atoms[i][m] = Some(Outcome::Left(MEMBER_COVERED_BY_ALLIANCE_FIGURE, pool[g].id));
            continue;
        }
        standing.push(i);
    }

    // §5.4 One period, one figure, per node and thing.
    let mut units: HashMap<(Node, Thing), Vec<usize>> = HashMap::new();
    for &i in &standing {
        units.entry((node(&pool[i]), thing(&pool[i]))).or_default().push(i);
    }
    for mut unit in units.into_values() {
        if spec.stock {
            // The latest level stands (an undated one is the oldest); equal dates were restatements.
            let latest = |&i: &usize| (pool[i].fe.unwrap_or(NaiveDate::MIN), precedence(&pool[i]));
            let Some(&w) = unit.iter().max_by(|a, b| latest(a).cmp(&latest(b))) else { continue };
            for &i in unit.iter().filter(|&&i| i != w) {
                atoms[i][m] = Some(Outcome::Left(EARLIER_STOCK_VALUE, pool[w].id));
            }
            continue;
        }
        // Longest first, then by start (unknown first), end (later first), precedence.
        unit.sort_by(|&a, &b| {
            let (f, g) = (&pool[a], &pool[b]);
            length(g)
                .cmp(&length(f))
                .then_with(|| f.fs.cmp(&g.fs))
                .then_with(|| hi(g).cmp(&hi(f)))
                .then_with(|| precedence(g).cmp(&precedence(f)))
        });
        let mut counted: Vec<usize> = Vec::new();
        for i in unit {
            let f = &pool[i];
            // Events never overlap each other.
            let clash = |c: &&usize| overlapping(&pool[**c], f) && !(f.event && pool[**c].event);
            let outcome = match counted.iter().find(|c| clash(c) && inside(f, &pool[**c])) {
                Some(&c) => Outcome::Left(INSIDE_LONGER_FIGURE, pool[c].id),
                None => match counted.iter().find(clash) {
                    Some(&c) => Outcome::Left(PARTIAL_OVERLAP, pool[c].id),
                    None => {
                        counted.push(i);
                        Outcome::Counted
                    }
                },
            };
            atoms[i][m] = Some(outcome);
        }
    }
}

/// §5.5: a subset is never an addend of its total: left out wherever its total, or a figure
/// that left its total out (transitively), counts in the cell.
fn subsets(pool: &[PoolFigure], cell: &[usize], atoms: &mut [[Option<Outcome>; 6]]) {
    if cell.iter().all(|&i| pool[i].totals.is_empty()) {
        return;
    }
    let counts = |outcomes: &[Option<Outcome>; 6]| outcomes.contains(&Some(Outcome::Counted));
    let by_id: HashMap<i64, usize> = cell.iter().map(|&i| (pool[i].id, i)).collect();
    // Who left whom out (by row id), and what counts after §5.4.
    let mut left_by: HashMap<i64, Vec<i64>> = HashMap::new();
    for &i in cell {
        for outcome in atoms[i].iter().flatten() {
            if let Outcome::Left(_, because) = outcome {
                left_by.entry(pool[i].id).or_default().push(*because);
            }
        }
    }
    let counted: HashSet<i64> = cell.iter().filter(|&&i| counts(&atoms[i])).map(|&i| pool[i].id).collect();
    for &i in cell {
        // Any total up the chain: a subset of a subset lies within its grandparent too.
        let totals: Vec<i64> = pool[i].totals.iter().copied().filter(|t| by_id.contains_key(t)).collect();
        if !counts(&atoms[i]) || totals.is_empty() {
            continue;
        }
        let mut seen: HashSet<i64> = totals.iter().copied().collect();
        let mut todo = totals;
        let mut standing = None;
        while let Some(x) = todo.pop() {
            if counted.contains(&x) {
                standing = Some(x);
                break;
            }
            for &y in left_by.get(&x).into_iter().flatten() {
                if seen.insert(y) {
                    todo.push(y);
                }
            }
        }
        if let Some(t) = standing {
            for outcome in atoms[i].iter_mut().flatten() {
                if *outcome == Outcome::Counted {
                    *outcome = Outcome::Left(SUBSET_NOT_ADDEND, t);
                }
            }
        }
    }
}

/// §5.6: where more than one rate of a measure and unit counts in a cell, none does (a sum of
/// percentages means nothing); one alone is shown as stated.
fn rates(pool: &[PoolFigure], cell: &[usize], n: usize, atoms: &mut [[Option<Outcome>; 6]]) {
    let is_rate = |i: usize| pool[i].unit.as_deref().is_some_and(|u| RATE_UNITS.contains(&u));
    // Per measure: the counted rates by unit.
    let mut counted: HashMap<(usize, Option<&str>), Vec<usize>> = HashMap::new();
    for &i in cell.iter().filter(|&&i| is_rate(i)) {
        for (m, outcome) in atoms[i].iter().enumerate().take(n) {
            if *outcome == Some(Outcome::Counted) {
                counted.entry((m, pool[i].unit.as_deref())).or_default().push(i);
            }
        }
    }
    for ((m, _), rates) in counted.into_iter().filter(|(_, c)| c.len() > 1) {
        for &i in &rates {
            let other = rates.iter().find(|&&j| j != i).map_or(pool[i].id, |&j| pool[j].id);
            atoms[i][m] = Some(Outcome::Left(NOT_ADDITIVE, other));
        }
    }
}

/// `UNCOUNTED_REMAINDER` (§3): the units (rows) where a flow atom left out by a scope or
/// period rule has time that the counted atoms of its measure and thing, at its node or a
/// wider one, do not cover.
fn remainders(
    pool: &[PoolFigure],
    above: &Above,
    cell: &[usize],
    atoms: &[[Option<Outcome>; 6]],
    n: usize,
) -> HashSet<Option<String>> {
    const COVERING: [&str; 4] =
        [CHILD_COVERED_BY_OWN_FIGURE, MEMBER_COVERED_BY_ALLIANCE_FIGURE, INSIDE_LONGER_FIGURE, PARTIAL_OVERLAP];
    let mut units = HashSet::new();
    for &i in cell {
        for (m, outcome) in atoms[i].iter().enumerate().take(n) {
            if units.contains(&pool[i].unit) {
                continue;
            }
            let uncovered = {
                let f = &pool[i];
                let Some(Outcome::Left(rule, _)) = *outcome else { continue };
                if !COVERING.contains(&rule) {
                    continue;
                }
                let mut spans: Vec<(NaiveDate, NaiveDate)> = cell
                    .iter()
                    .filter(|&&g| atoms[g][m] == Some(Outcome::Counted))
                    .map(|&g| &pool[g])
                    .filter(|g| thing(g) == thing(f) && (node(g) == node(f) || wider(g, f, above)))
                    .map(|g| (lo(g), hi(g)))
                    .collect();
                spans.sort_unstable();
                // Walk the union of the spans from the atom's start.
                let mut reached = lo(f);
                let mut open = true;
                for (s, e) in spans {
                    if s > reached {
                        break;
                    }
                    if e >= hi(f) {
                        open = false;
                        break;
                    }
                    if e >= reached {
                        reached = e.succ_opt().unwrap_or(NaiveDate::MAX);
                    }
                }
                open
            };
            if uncovered {
                units.insert(pool[i].unit.clone());
            }
        }
    }
    units
}

impl Verdict<'_> {
    /// The summary's numbers from the counted atoms, down to (row, region, report) as the
    /// uncontested part gives them, so that `store::aggregates::merge` adds both.
    pub fn part_rows(&self, base: i64) -> Vec<PartRow> {
        let mut parts: BTreeMap<(&RowKey, Option<&str>, i64), PartRow> = BTreeMap::new();
        for (i, f) in self.pool.iter().enumerate() {
            let counted: Vec<usize> =
                (0..self.spec.measures.len()).filter(|&m| self.atoms[i][m] == Some(Outcome::Counted)).collect();
            if counted.is_empty() {
                continue;
            }
            let row = &self.rows[i];
            let part = parts
                .entry((row, f.region_code.as_deref(), f.report_id))
                .or_insert_with(|| PartRow::empty(base, row.clone(), f.region_code.clone(), Some(f.report_id)));
            let add = |sum: &mut Option<f64>, v: Option<f64>| {
                if let Some(v) = v {
                    *sum = Some(sum.unwrap_or(0.0) + v);
                }
            };
            for &m in &counted {
                let sum = match m {
                    0 => &mut part.m0,
                    1 => &mut part.m1,
                    2 => &mut part.m2,
                    3 => &mut part.m3,
                    4 => &mut part.m4,
                    _ => &mut part.m5,
                };
                add(sum, f.value(m));
                part.qualifier_rank = part.qualifier_rank.max(Some(f.rank(m)));
            }
            if counted.contains(&0) && counted.contains(&1) {
                add(&mut part.m0_paired, f.value(0));
                add(&mut part.m1_paired, f.value(1));
            }
            if self.remainder.contains(row) {
                part.qualifier_rank = part.qualifier_rank.max(Some(1));
            }
        }
        // A row whose candidates were all left out (several rates, §5.6) is a row of nulls, so
        // that its `explain` can say why (§6.5): never an invisible figure.
        let mut rows: Vec<PartRow> = parts.into_values().collect();
        let with_numbers: HashSet<&RowKey> = rows.iter().map(|r| &r.keys).collect();
        let mut empty: Vec<&RowKey> = (0..self.pool.len())
            .filter(|&i| self.atoms[i].iter().any(Option::is_some))
            .map(|i| &self.rows[i])
            .filter(|row| !with_numbers.contains(row))
            .collect();
        empty.sort();
        empty.dedup();
        let empty: Vec<PartRow> = empty.into_iter().map(|row| PartRow::empty(base, row.clone(), None, None)).collect();
        rows.extend(empty);
        rows
    }

    /// Every candidate figure with what was decided about its measures (see [`Decision`]).
    pub fn decisions(&self) -> Vec<Decision> {
        let mut out = Vec::new();
        for (i, f) in self.pool.iter().enumerate() {
            let mut groups: Vec<(Option<&'static str>, Option<i64>, Vec<&'static str>)> = Vec::new();
            for (m, measure) in self.spec.measures.iter().enumerate() {
                let (rule, because) = match self.atoms[i][m] {
                    None => continue,
                    Some(Outcome::Counted) => (None, None),
                    Some(Outcome::Left(rule, because)) => (Some(rule), Some(because)),
                };
                match groups.iter_mut().find(|(r, b, _)| *r == rule && *b == because) {
                    Some((_, _, names)) => names.push(measure.name),
                    None => groups.push((rule, because, vec![measure.name])),
                }
            }
            for (rule, because, measures) in groups {
                out.push(Decision { figure: f.clone(), row: self.rows[i].clone(), measures, rule, because });
            }
        }
        out
    }
}

/// The row a figure belongs to (§6): as the uncontested part's statement groups it.
fn row_key(f: &PoolFigure, scope: &ResolvedScope, grouping: Grouping, above: &Above) -> RowKey {
    let ancestors = above.of(f.region_code.as_deref());
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
        // Split by unit where the summary has one per figure (§6.4).
        unit: f.unit.clone(),
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
