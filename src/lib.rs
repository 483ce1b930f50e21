//! fulian-graph: a GraphQL data platform federating the reports of women's federations (妇联).
//!
//! Data flows one way: [`http`] → [`graphql`] → [`domain`] → [`store`].

/// Bearer tokens: verification and issuing.
pub mod auth;
/// The benchmark workloads, driven against a running server.
pub mod bench;
/// Command line and environment configuration.
pub mod config;
/// Domain services: validation, authorization, aggregation; the demo dataset.
pub mod domain;
/// Errors as clients see them, with their `extensions.code`.
pub mod error;
/// Synthetic data at province or national scale, for benchmarks.
pub mod gendata;
/// The GraphQL schema, its objects and per-request DataLoaders.
pub mod graphql;
/// Routes, probes, request tracing and graceful shutdown.
pub mod http;
/// Importing reports and figures from JSON, CSV and Excel files.
pub mod import;
/// Starting the service: open the store, migrate, load demo data, serve.
pub mod server;
/// All SQL: the pool on SQLite or PostgreSQL, migrations, queries.
pub mod store;
/// Logging setup.
pub mod telemetry;

pub use http::{AppState, app};
