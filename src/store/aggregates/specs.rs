//! What each summary sums: its table, its measures (expressions over the kept figures, with
//! their qualifiers), its keys, and how its rules apply. The domain picks one by name; the SQL
//! stays here.

use super::{Measure, Spec};

/// Case statistics: resolved, received, people aided, amount aided; keyed by category (and
/// restricted to one, when given).
pub fn case_statistics(category: Option<&str>) -> Spec {
    Spec {
        table: "case_statistics",
        measures: vec![
            Measure { name: "resolved", value: "kept.resolved", qualifier: "kept.resolved_q" },
            Measure { name: "received", value: "kept.received", qualifier: "kept.received_q" },
            Measure { name: "peopleAided", value: "kept.people_aided", qualifier: "kept.people_aided_q" },
            Measure { name: "amountAided", value: "kept.amount_aided", qualifier: "kept.amount_aided_q" },
        ],
        key_column: Some("t.category"),
        key2_column: None,
        only: category.map(|c| ("category", c.to_owned())),
        stock: false,
        has_alliance: false,
        has_part_of: true,
        fast_path: true,
        periods_required: true,
        open_periods: false,
        // A case statistic's count unit (docs/aggregation.md §4, §6.4).
        unit: Some("COALESCE(t.unit, 'cases')"),
        exclude: None,
        per_unit: true,
        event: None,
    }
}

/// Job fairs: fairs (a single fair counts 1), employers, positions, seekers, intents, hires.
pub fn job_fairs() -> Spec {
    Spec {
        table: "job_fairs",
        measures: vec![
            Measure { name: "fairs", value: "COALESCE(kept.fairs, 1)", qualifier: "kept.fairs_q" },
            Measure { name: "employers", value: "kept.employers", qualifier: "kept.employers_q" },
            Measure {
                name: "positionsOffered",
                value: "kept.positions_offered",
                qualifier: "kept.positions_offered_q",
            },
            Measure { name: "jobSeekers", value: "kept.job_seekers", qualifier: "kept.job_seekers_q" },
            Measure { name: "intents", value: "kept.intents", qualifier: "kept.intents_q" },
            Measure { name: "hires", value: "kept.hires", qualifier: "kept.hires_q" },
        ],
        key_column: None,
        key2_column: None,
        only: None,
        stock: false,
        has_alliance: true,
        has_part_of: false,
        fast_path: true,
        periods_required: false,
        open_periods: false,
        unit: None,
        exclude: None,
        // A fair without a number of fairs is one fair: an event (docs/aggregation.md §2.4).
        per_unit: false,
        event: Some("t.fairs IS NULL"),
    }
}

/// Organization counts: stocks, keyed by kind and sector (restricted to one kind, when given).
pub fn organization_counts(kind: Option<&str>) -> Spec {
    Spec {
        table: "organization_counts",
        measures: vec![Measure { name: "count", value: "kept.count", qualifier: "kept.count_q" }],
        key_column: Some("t.organization_kind"),
        key2_column: Some("t.sector"),
        only: kind.map(|k| ("organization_kind", k.to_owned())),
        stock: true,
        has_alliance: true,
        has_part_of: true,
        fast_path: false,
        periods_required: false,
        open_periods: true,
        unit: None,
        // Organizations founded or selected within a period are not a level (§5.1 NOT_A_STOCK).
        exclude: Some(r#"t.dimensions LIKE '%["basis","CREATED"]%'"#),
        per_unit: false,
        event: None,
    }
}

/// A catalog metric's values: summed when a flow, the latest value when a stock.
pub fn metric(code: &str, stock: bool) -> Spec {
    Spec {
        table: "metric_figures",
        measures: vec![Measure { name: "value", value: "kept.value", qualifier: "kept.value_q" }],
        key_column: None,
        key2_column: None,
        only: Some(("metric", code.to_owned())),
        stock,
        has_alliance: true,
        has_part_of: true,
        fast_path: false,
        periods_required: false,
        open_periods: true,
        // The figure's own unit, else the catalog's.
        unit: Some("COALESCE(t.unit, (SELECT m.unit FROM metrics m WHERE m.code = t.metric))"),
        exclude: None,
        per_unit: true,
        event: None,
    }
}
