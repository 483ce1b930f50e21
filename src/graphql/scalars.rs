//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{Datelike, NaiveDate};

/// A calendar date in ISO 8601 form, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar date in ISO 8601 form, `YYYY-MM-DD` (e.g. `2013-03-04`).
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            // Exactly four digits of year (1 to 9999): chrono also reads "+10000-01-01" and
            // "-0005-01-01", which SQLite would compare as text, out of order.
            Value::String(text) if text.len() == 10 && text.starts_with(|c: char| c.is_ascii_digit()) => {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .filter(|d| d.year() >= 1)
                    .map(Date)
                    .ok_or_else(|| InputValueError::custom(format!("{text:?} is not a date in YYYY-MM-DD form")))
            }
            Value::String(text) => {
                Err(InputValueError::custom(format!("{text:?} is not a date in YYYY-MM-DD form (years 1 to 9999)")))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.format("%Y-%m-%d").to_string())
    }
}
