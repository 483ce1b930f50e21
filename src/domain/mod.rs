//! Domain services: validation, and (later) authorization and aggregation. No HTTP, no SQL.

pub mod access;
pub mod audit;
pub mod cache;
pub mod dataset;
pub mod events;
pub mod figures;
pub mod libraries;
mod library_services;
pub mod model;
pub mod query;
pub mod refusals;
mod report_services;
mod services;
pub mod submission;
pub mod summary;
pub mod text;

pub use library_services::{LibraryInput, ResourceFilter, ResourceInput, VisibleResource};
pub use report_services::ImportFailure;
pub use services::{
    OrganizationInput, Services, SubmitOutcome, SubmitStatus, is_region_code, page_size, summarize_in_parts_uncached,
    summarize_whole,
};
