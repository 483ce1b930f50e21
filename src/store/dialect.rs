//! Everything that differs between SQLite and PostgreSQL, in one place.
//!
//! The rest of the store writes one body of SQL with `$N` placeholders (both drivers accept
//! them) and asks this module for the few fragments that cannot be shared.

/// Which database engine a [`super::Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file, one process.
    Sqlite,
    /// The production backend: many replicas, one cluster.
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }

    /// Short lowercase name, as used in logs, metrics and test names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// A sub-select yielding the strings of the JSON array bound at `$n`.
    ///
    /// Variable-length lists are bound as one JSON text on both backends: SQLite has no array
    /// type, and one bind parameter keeps the statement text (and its prepared-statement cache
    /// entry) the same whatever the list length.
    pub fn text_list(self, n: u8) -> String {
        match self {
            Self::Sqlite => format!("SELECT value FROM json_each(${n})"),
            Self::Postgres => format!("SELECT jsonb_array_elements_text(${n}::jsonb)"),
        }
    }

    /// A sub-select yielding the integers of the JSON array bound at `$n`.
    pub fn int_list(self, n: u8) -> String {
        match self {
            Self::Sqlite => format!("SELECT value FROM json_each(${n})"),
            Self::Postgres => format!("SELECT jsonb_array_elements_text(${n}::jsonb)::bigint"),
        }
    }

    /// A condition: `column` contains the text bound at `$n`, ignoring case.
    ///
    /// `LIKE` would need the bound text escaped and folds only ASCII on SQLite; a substring
    /// position search needs neither. (SQLite's `lower` folds ASCII only: irrelevant for CJK.)
    pub fn contains_ci(self, column: &str, n: u8) -> String {
        match self {
            Self::Sqlite => format!("instr(lower({column}), lower(${n})) > 0"),
            Self::Postgres => format!("strpos(lower({column}), lower(${n})) > 0"),
        }
    }
}

impl Backend {
    /// The calendar year of a date column, as an integer.
    pub fn year_of(self, column: &str) -> String {
        match self {
            Self::Sqlite => format!("CAST(substr({column}, 1, 4) AS INTEGER)"),
            Self::Postgres => format!("CAST(EXTRACT(YEAR FROM {column}) AS BIGINT)"),
        }
    }

    /// The month (1–12) of a date column, as an integer.
    pub fn month_of(self, column: &str) -> String {
        match self {
            Self::Sqlite => format!("CAST(substr({column}, 6, 2) AS INTEGER)"),
            Self::Postgres => format!("CAST(EXTRACT(MONTH FROM {column}) AS BIGINT)"),
        }
    }

    /// The largest of several non-null integer expressions.
    pub fn greatest(self, items: &[String]) -> String {
        match self {
            Self::Sqlite if items.len() == 1 => items[0].clone(),
            Self::Sqlite => format!("MAX({})", items.join(", ")),
            Self::Postgres => format!("GREATEST({})", items.join(", ")),
        }
    }

    /// A condition: `a` equals `b`, NULL counting as equal to NULL, in a form a join can use.
    ///
    /// PostgreSQL hashes `=` but not `IS NOT DISTINCT FROM`, so there both sides are coalesced
    /// to `none`, a value no row has. SQLite cannot hash; its automatic indexes (on a
    /// materialized set, for one join) cover columns, not expressions, and `IS` can use them,
    /// where coalesced sides made it compare every pair of rows.
    pub fn same(self, a: &str, b: &str, none: &str) -> String {
        match self {
            Self::Sqlite => format!("{a} IS {b}"),
            Self::Postgres => format!("COALESCE({a}, {none}) = COALESCE({b}, {none})"),
        }
    }

    /// A condition: `expr` is one of the values `subquery` yields.
    ///
    /// On PostgreSQL as `= ANY(ARRAY(…))`: the set is computed first and the index on `expr`
    /// serves each value, where `IN (…)` would be planned from a guessed set size (a seq scan
    /// of a million rows for a province).
    pub fn in_set(self, expr: &str, subquery: &str) -> String {
        match self {
            Self::Sqlite => format!("{expr} IN ({subquery})"),
            Self::Postgres => format!("{expr} = ANY(ARRAY({subquery}))"),
        }
    }

    /// The distinct values of an integer column in a group, comma-separated.
    pub fn concat_distinct(self, column: &str) -> String {
        match self {
            Self::Sqlite => format!("group_concat(DISTINCT {column})"),
            Self::Postgres => format!("string_agg(DISTINCT CAST({column} AS TEXT), ',')"),
        }
    }
}

/// Encodes a list for binding where [`Backend::text_list`] or [`Backend::int_list`] expects it.
pub fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).expect("a list of strings or integers always serializes")
}
