//! Global object IDs and pagination cursors: opaque to clients, checked on the way in.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AppError, AppResult};
use crate::store::figure_lists::FigureKind;

/// What a global ID points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeId {
    Region(String),
    Alliance(i64),
    Agreement(i64),
    Organization(i64),
    Report(i64),
    ResourceLibrary(i64),
    Resource(i64),
    /// A figure: its kind and its row (a figure of a new report revision is a new figure).
    Figure(FigureKind, i64),
}

/// The type name a figure kind's IDs carry.
fn figure_type(kind: FigureKind) -> &'static str {
    match kind {
        FigureKind::JobFair => "JobFair",
        FigureKind::CaseStatistic => "CaseStatistic",
        FigureKind::OrganizationCount => "OrganizationCount",
        FigureKind::PlanIndicator => "PlanIndicator",
        FigureKind::Metric => "MetricFigure",
    }
}

impl NodeId {
    /// The opaque ID clients see: base64url of `Type:key`.
    pub fn encode(&self) -> ID {
        let plain = match self {
            Self::Region(code) => format!("Region:{code}"),
            Self::Alliance(id) => format!("Alliance:{id}"),
            Self::Agreement(id) => format!("Agreement:{id}"),
            Self::Organization(id) => format!("Organization:{id}"),
            Self::Report(id) => format!("Report:{id}"),
            Self::ResourceLibrary(id) => format!("ResourceLibrary:{id}"),
            Self::Resource(id) => format!("Resource:{id}"),
            Self::Figure(kind, id) => format!("{}:{id}", figure_type(*kind)),
        };
        ID(URL_SAFE_NO_PAD.encode(plain))
    }

    /// Reads a global ID; `BAD_USER_INPUT` (at `path`) if it is not one this service issued.
    pub fn decode(id: &str, path: &str) -> AppResult<Self> {
        let malformed = || AppError::bad_input(path, format!("{id:?} is not a valid ID"));
        let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| malformed())?;
        let plain = String::from_utf8(bytes).map_err(|_| malformed())?;
        let (kind, key) = plain.split_once(':').ok_or_else(malformed)?;
        // Only the spelling this service issues: one ID per object (`04`, `+4` are refused).
        let number = || key.parse::<i64>().ok().filter(|n| *n > 0 && n.to_string() == key).ok_or_else(malformed);
        match kind {
            "Region" if crate::domain::is_region_code(key) => Ok(Self::Region(key.to_owned())),
            "Alliance" => Ok(Self::Alliance(number()?)),
            "Agreement" => Ok(Self::Agreement(number()?)),
            "Organization" => Ok(Self::Organization(number()?)),
            "Report" => Ok(Self::Report(number()?)),
            "ResourceLibrary" => Ok(Self::ResourceLibrary(number()?)),
            "Resource" => Ok(Self::Resource(number()?)),
            _ => match FigureKind::ALL.into_iter().find(|k| figure_type(*k) == kind) {
                Some(figure) => Ok(Self::Figure(figure, number()?)),
                None => Err(malformed()),
            },
        }
    }

    /// Reads an ID that must be an organization's.
    pub fn organization(id: &str, path: &str) -> AppResult<i64> {
        match Self::decode(id, path)? {
            Self::Organization(n) => Ok(n),
            _ => Err(AppError::bad_input(path, format!("{id:?} is not an organization ID"))),
        }
    }

    /// Reads an ID that must be a resource library's.
    pub fn resource_library(id: &str, path: &str) -> AppResult<i64> {
        match Self::decode(id, path)? {
            Self::ResourceLibrary(n) => Ok(n),
            _ => Err(AppError::bad_input(path, format!("{id:?} is not a resource library ID"))),
        }
    }

    /// Reads an ID that must be a report's.
    pub fn report(id: &str, path: &str) -> AppResult<i64> {
        match Self::decode(id, path)? {
            Self::Report(n) => Ok(n),
            _ => Err(AppError::bad_input(path, format!("{id:?} is not a report ID"))),
        }
    }
}

/// A position in a list ordered by a key of type `Self`.
pub trait CursorKey: Sized {
    /// The key as cursor text.
    fn to_cursor(&self) -> String;
    /// The key from cursor text, if well formed.
    fn from_cursor(text: &str) -> Option<Self>;
}

impl CursorKey for i64 {
    fn to_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("n:{self}"))
    }
    fn from_cursor(text: &str) -> Option<Self> {
        let plain = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
        plain.strip_prefix("n:")?.parse().ok()
    }
}

impl CursorKey for String {
    fn to_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("s:{self}"))
    }
    fn from_cursor(text: &str) -> Option<Self> {
        let plain = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
        // A key the database could not hold is no cursor of any list.
        plain.strip_prefix("s:").filter(|key| crate::domain::text::check(key).is_ok()).map(str::to_owned)
    }
}

impl CursorKey for (i64, i64) {
    fn to_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("p:{}:{}", self.0, self.1))
    }
    fn from_cursor(text: &str) -> Option<Self> {
        let plain = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
        let (a, b) = plain.strip_prefix("p:")?.split_once(':')?;
        // A figure kind's rank and a row id, as `figures` issues them; nothing else.
        let (kind, id): (i64, i64) = (a.parse().ok()?, b.parse().ok()?);
        (FigureKind::from_rank(kind).is_some() && id > 0).then_some((kind, id))
    }
}

/// Reads an `after` argument; `BAD_USER_INPUT` if it is not a cursor of this list.
pub fn after<K: CursorKey>(after: Option<&str>) -> AppResult<Option<K>> {
    after
        .map(|text| {
            K::from_cursor(text)
                .ok_or_else(|| AppError::bad_input("after", format!("{text:?} is not a cursor of this list")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_foreign_text() {
        for id in [
            NodeId::Region("110112-liyuan".into()),
            NodeId::Organization(42),
            NodeId::Report(7),
            NodeId::Figure(FigureKind::Metric, 3),
            NodeId::Figure(FigureKind::CaseStatistic, 3),
        ] {
            assert_eq!(NodeId::decode(&id.encode(), "id").unwrap(), id);
        }
        for bad in [
            "",
            "Organization:42",
            "!!!",
            &URL_SAFE_NO_PAD.encode("Organization:x"),
            &URL_SAFE_NO_PAD.encode("Thing:1"),
            // Other spellings of Organization:42: one ID per object.
            &URL_SAFE_NO_PAD.encode("Organization:042"),
            &URL_SAFE_NO_PAD.encode("Organization:+42"),
        ] {
            assert!(NodeId::decode(bad, "id").is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn cursors_are_typed() {
        assert_eq!(i64::from_cursor(&17i64.to_cursor()), Some(17));
        assert_eq!(i64::from_cursor(&"17".to_owned().to_cursor()), None);
        assert_eq!(<(i64, i64)>::from_cursor(&(2, 17).to_cursor()), Some((2, 17)));
        assert_eq!(<(i64, i64)>::from_cursor(&17i64.to_cursor()), None);
        assert_eq!(<(i64, i64)>::from_cursor(&(9, 1).to_cursor()), None, "no such kind");
        assert_eq!(<(i64, i64)>::from_cursor(&(-5, 1).to_cursor()), None);
        assert_eq!(<(i64, i64)>::from_cursor(&(1, -1).to_cursor()), None);
        assert_eq!(String::from_cursor(&"110112".to_owned().to_cursor()).as_deref(), Some("110112"));
    }
}
