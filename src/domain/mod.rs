//! Domain services: validation, and (later) authorization and aggregation. No HTTP, no SQL.

pub mod access;
pub mod audit;
pub mod dataset;
pub mod model;
pub mod query;
mod services;

pub use services::{OrganizationInput, Services, is_region_code, page_size};
