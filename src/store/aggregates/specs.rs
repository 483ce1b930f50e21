//! What each summary sums: its table, its measures (expressions over the kept figures, with
//! their qualifiers), its keys, and how its rules apply. The domain picks one by name; the SQL
//! stays here.

use super::Spec;

/// Case statistics: resolved, received, people aided, amount aided; keyed by category (and
/// restricted to one, when given).
pub fn case_statistics(category: Option<&str>) -> Spec {
    Spec {
        table: "case_statistics",
        measures: vec![
            ("kept.resolved", "kept.resolved_q"),
            ("kept.received", "kept.received_q"),
            ("kept.people_aided", "kept.people_aided_q"),
            ("kept.amount_aided", "kept.amount_aided_q"),
        ],
        key_column: Some("t.category"),
        key2_column: None,
        only: category.map(|c| ("category", c.to_owned())),
        stock: false,
        has_alliance: false,
        has_part_of: true,
        subsets_by_key: true,
        fast_path: true,
        periods_required: true,
    }
}

/// Job fairs: fairs (a single fair counts 1), employers, positions, seekers, intents, hires.
pub fn job_fairs() -> Spec {
    Spec {
        table: "job_fairs",
        measures: vec![
            ("COALESCE(kept.fairs, 1)", "kept.fairs_q"),
            ("kept.employers", "kept.employers_q"),
            ("kept.positions_offered", "kept.positions_offered_q"),
            ("kept.job_seekers", "kept.job_seekers_q"),
            ("kept.intents", "kept.intents_q"),
            ("kept.hires", "kept.hires_q"),
        ],
        key_column: None,
        key2_column: None,
        only: None,
        stock: false,
        has_alliance: true,
        has_part_of: false,
        subsets_by_key: false,
        fast_path: true,
        periods_required: false,
    }
}

/// Organization counts: stocks, keyed by kind and sector (restricted to one kind, when given).
pub fn organization_counts(kind: Option<&str>) -> Spec {
    Spec {
        table: "organization_counts",
        measures: vec![("kept.count", "kept.count_q")],
        key_column: Some("t.organization_kind"),
        key2_column: Some("t.sector"),
        only: kind.map(|k| ("organization_kind", k.to_owned())),
        stock: true,
        has_alliance: true,
        has_part_of: true,
        subsets_by_key: false,
        fast_path: false,
        periods_required: false,
    }
}

/// A catalog metric's values: summed when a flow, the latest value when a stock.
pub fn metric(code: &str, stock: bool) -> Spec {
    Spec {
        table: "metric_figures",
        measures: vec![("kept.value", "kept.value_q")],
        key_column: None,
        key2_column: None,
        only: Some(("metric", code.to_owned())),
        stock,
        has_alliance: true,
        has_part_of: true,
        subsets_by_key: false,
        fast_path: false,
        periods_required: false,
    }
}
