//! Relay connections: `edges { cursor node }`, `pageInfo`, `totalCount`.

use async_graphql::{Context, SimpleObject};

use super::audit::AuditEntryNode;
use super::figure::{CaseStatisticNode, Figure, JobFairNode};
use super::ids::CursorKey;
use super::library::{LibraryNode, ResourceNode};
use super::organization::OrganizationNode;
use super::region::RegionNode;
use super::report::ReportNode;
use crate::domain::query::Page;

/// Where a page sits in its list.
#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    /// Whether more items follow this page (ask again with `after: endCursor`).
    pub has_next_page: bool,
    /// Whether items precede this page (true when the page was asked for with `after`).
    pub has_previous_page: bool,
    /// Cursor of the first item of this page; null when the page is empty.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of this page; null when the page is empty.
    pub end_cursor: Option<String>,
}

/// Declares the connection and edge types of one node type.
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty, $items:literal) => {
        #[doc = concat!("One of ", $items, " with its cursor.")]
        #[derive(SimpleObject)]
        pub struct $edge {
            /// Opaque position of this item, for `after`.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        #[doc = concat!("A page of ", $items, " in the list's stable order, with the total number that match.")]
        #[derive(SimpleObject)]
        pub struct $connection {
            /// The items of this page, each with its cursor.
            pub edges: Vec<$edge>,
            /// Where this page sits in the list.
            pub page_info: PageInfo,
            /// How many items match the filter, over all pages.
            pub total_count: i64,
        }

        impl $connection {
            /// Builds the connection from a page; `key` gives each item's sort key for its cursor.
            pub fn new<T, K: CursorKey>(
                page: Page<T>,
                after_given: bool,
                total_count: i64,
                key: impl Fn(&T) -> K,
                node: impl Fn(T) -> $node,
            ) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|item| $edge { cursor: key(&item).to_cursor(), node: node(item) })
                    .collect();
                let page_info = PageInfo {
                    has_next_page: page.has_next_page,
                    has_previous_page: after_given,
                    start_cursor: edges.first().map(|e| e.cursor.clone()),
                    end_cursor: edges.last().map(|e| e.cursor.clone()),
                };
                Self { edges, page_info, total_count }
            }
        }
    };
}

connection_types!(RegionConnection, RegionEdge, RegionNode, "regions");
connection_types!(OrganizationConnection, OrganizationEdge, OrganizationNode, "organizations");
connection_types!(ReportConnection, ReportEdge, ReportNode, "reports");
connection_types!(JobFairConnection, JobFairEdge, JobFairNode, "job fairs");
connection_types!(FigureConnection, FigureEdge, Figure, "figures of every kind");
connection_types!(CaseStatisticConnection, CaseStatisticEdge, CaseStatisticNode, "case statistics");
connection_types!(ResourceLibraryConnection, ResourceLibraryEdge, LibraryNode, "resource libraries");
connection_types!(ResourceConnection, ResourceEdge, ResourceNode, "resources");
connection_types!(AuditEntryConnection, AuditEntryEdge, AuditEntryNode, "audit entries");

/// Whether the client selected `totalCount`, so the count query runs only when it is needed.
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}
