//! Configuration: one clap struct; every setting is a flag and an environment variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Default database: an SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://fulian.db";
/// Default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// fulian-graph: a GraphQL data platform for the reports of women's federations (妇联).
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings every subcommand shares.
#[derive(Debug, Args, Clone)]
pub struct GlobalOptions {
    /// Database URL: `sqlite://FILE` (created if missing), `sqlite::memory:`, or `postgres://USER@HOST/DB`.
    #[arg(long, env = "FULIAN_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Maximum number of pooled database connections.
    #[arg(long, env = "FULIAN_DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_max_connections: u32,

    /// Log filter in `tracing` syntax, e.g. `info` or `fulian_graph=debug,sqlx=warn`.
    #[arg(long, env = "FULIAN_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log format: human-readable `text`, or `json` (one object per line) for log collectors.
    #[arg(long, env = "FULIAN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API over HTTP (the default).
    Serve(ServeOptions),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print the GraphQL schema (SDL) to standard output.
    ExportSchema,
}

/// Settings of `serve`.
#[derive(Debug, Args, Clone)]
pub struct ServeOptions {
    /// Address and port to listen on.
    #[arg(long, env = "FULIAN_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Apply pending migrations on start (`false` when a separate `migrate` step owns the schema).
    #[arg(long, env = "FULIAN_AUTO_MIGRATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_migrate: bool,

    /// Load the demo dataset (drawn from the source reports) when the database is empty.
    #[arg(long, env = "FULIAN_DEMO_DATA", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo_data: bool,

    /// Seconds to let in-flight requests finish after SIGTERM or Ctrl-C before exiting anyway.
    #[arg(long, env = "FULIAN_SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().expect("the default listen address parses"),
            auto_migrate: true,
            demo_data: true,
            shutdown_grace_seconds: 20,
        }
    }
}

impl ServeOptions {
    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }
}
