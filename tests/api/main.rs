//! Integration tests through the HTTP router. Every test in a module listed by
//! `on_both_backends!` runs on SQLite and, with `FULIAN_TEST_POSTGRES_URL` set, on PostgreSQL.

mod common;

mod access;
mod alliances;
mod audit_coverage;
mod dataset;
mod errors;
mod faults;
mod federation;
mod figures;
mod graphiql;
mod hostile;
mod http;
mod import;
mod import_safety;
mod libraries;
mod live;
mod mutations;
mod n_plus_one;
mod number_limits;
mod organizations;
mod ownership;
mod persisted;
mod pg_restart;
mod protection;
mod reference;
mod reference_metrics;
mod regions;
mod reports;
mod response_cache;
mod scale;
mod schema;
mod store_faults;
mod summary_invariants;
mod telemetry;
mod tokens;
