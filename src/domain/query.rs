//! What list queries ask for: filters and pages, validated by the services before the store
//! sees them.

use super::model::{OrganizationKind, OrganizationSector, RegionLevel};

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: usize = 100;
/// The page size when a client asks for none.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// A forward page: up to `first` items after the item whose sort key is `after`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest<K> {
    pub first: usize,
    pub after: Option<K>,
}

/// One page of results, in the list's stable order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `first + 1` fetched rows: the extra row only tells that more follow.
    pub fn from_overfetch(mut items: Vec<T>, first: usize) -> Self {
        let has_next_page = items.len() > first;
        items.truncate(first);
        Self { items, has_next_page }
    }
}

/// Which regions to list. Regions are ordered by code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionFilter {
    /// Only regions at this level.
    pub level: Option<RegionLevel>,
    /// Only direct children of this region.
    pub parent: Option<String>,
    /// Only regions strictly below this one, at any depth.
    pub ancestor: Option<String>,
    /// Only regions whose name contains this text.
    pub name_contains: Option<String>,
}

/// Which organizations to list. Organizations are ordered by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrganizationFilter {
    /// Only organizations located in this region…
    pub region: Option<String>,
    /// …or, when true, in this region or any region below it.
    pub include_descendants: bool,
    /// Only organizations of these kinds (any of them); empty means all.
    pub kinds: Vec<OrganizationKind>,
    /// Only organizations of these sectors (any of them); empty means all.
    pub sectors: Vec<OrganizationSector>,
    /// Only direct children of this organization.
    pub parent_id: Option<i64>,
    /// Only organizations whose name or short name contains this text (case-insensitive).
    pub name_contains: Option<String>,
}

/// Which reports to list. Reports are ordered by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Only reports about this region or, with `include_descendants`, any region below it.
    pub region: Option<String>,
    /// See `region`.
    pub include_descendants: bool,
    /// Only reports whose title contains this text.
    pub title_contains: Option<String>,
    /// Also list revisions that a later revision superseded.
    pub include_superseded: bool,
}
