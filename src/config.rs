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
    /// Import reports and figures from a .json, .csv or .xlsx file (templates in the README);
    /// any problem: every one listed by row and column, nothing written, exit code 1.
    Import {
        /// The file.
        file: std::path::PathBuf,
    },
    /// Fill the database with deterministic synthetic data (marked as such) for benchmarks.
    GenData {
        /// How much: one province, or the whole country (~1.1 million case rows).
        #[arg(long, value_enum, default_value_t = crate::gendata::Scale::Province)]
        scale: crate::gendata::Scale,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Run the benchmark workloads (BENCHMARKS.md) against a running server.
    Bench(crate::bench::BenchOptions),
    /// Bearer tokens for small deployments without an identity provider.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a token signed (HS256) with the configured secret.
    Issue(IssueOptions),
}

/// Settings of `token issue`.
#[derive(Debug, Args, Clone)]
pub struct IssueOptions {
    /// Subject: who the token is for (recorded in the audit log).
    #[arg(long)]
    pub sub: String,
    /// Role: VIEWER, EDITOR or ADMIN.
    #[arg(long)]
    pub role: String,
    /// Region code the holder acts for (an EDITOR writes only in this region and below).
    #[arg(long)]
    pub region: Option<String>,
    /// Lifetime: seconds, or with a unit: 30m, 12h, 7d.
    #[arg(long, default_value = "12h")]
    pub ttl: String,
    /// HS256 secret (at least 32 bytes); the same the server verifies with.
    #[arg(long, env = "FULIAN_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: String,
    /// Issuer claim to set (the server checks it when FULIAN_JWT_ISSUER is set).
    #[arg(long, env = "FULIAN_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Audience claim to set (the server checks it when FULIAN_JWT_AUDIENCE is set).
    #[arg(long, env = "FULIAN_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
}

/// Identity and abuse-protection settings of `serve`.
#[derive(Debug, Args, Clone)]
pub struct SecurityOptions {
    /// HS256 secret for verifying bearer tokens (at least 32 bytes).
    #[arg(long, env = "FULIAN_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM file with an RS256 (RSA) or ES256 (EC P-256) public key for verifying tokens.
    #[arg(long, env = "FULIAN_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<std::path::PathBuf>,
    /// JWKS file with RS256/ES256 public keys (picked by `kid`) for verifying tokens.
    #[arg(long, env = "FULIAN_JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<std::path::PathBuf>,
    /// Required `iss` claim.
    #[arg(long, env = "FULIAN_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim.
    #[arg(long, env = "FULIAN_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Let requests without a token read public data.
    #[arg(long, env = "FULIAN_ALLOW_ANONYMOUS", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_anonymous: bool,
    /// Deepest allowed nesting of a query.
    #[arg(long, env = "FULIAN_MAX_DEPTH", default_value_t = 16)]
    pub max_depth: usize,
    /// Largest allowed query cost: each field costs 1, a connection costs `first` × its items.
    #[arg(long, env = "FULIAN_MAX_COMPLEXITY", default_value_t = 10_000)]
    pub max_complexity: usize,
    /// Most aliases allowed in one query document.
    #[arg(long, env = "FULIAN_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,
    /// Most root fields allowed in one operation.
    #[arg(long, env = "FULIAN_MAX_ROOT_FIELDS", default_value_t = 20)]
    pub max_root_fields: usize,
    /// Largest accepted request body in bytes (larger: 413).
    #[arg(long, env = "FULIAN_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds a request may run before it is abandoned (503, code TIMEOUT).
    #[arg(long, env = "FULIAN_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    pub request_timeout_seconds: u64,
    /// Requests a minute per principal (anonymous: per client address); 0 turns the limit off.
    #[arg(long, env = "FULIAN_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// Requests a principal may make in a burst before the per-minute rate applies.
    #[arg(long, env = "FULIAN_RATE_LIMIT_BURST", default_value_t = 100)]
    pub rate_limit_burst: u32,
    /// Allow schema introspection (GraphiQL's explorer needs it).
    #[arg(long, env = "FULIAN_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
    /// Comma-separated origins browsers may call the API from, e.g. `https://dash.example.cn`; `*` for any.
    #[arg(long, env = "FULIAN_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Comma-separated host names this server answers to, e.g. `fulian.example.cn` or
    /// `.example.cn` (with subdomains); addresses and `localhost` always. Unset: any host.
    /// Set it wherever browsers reach the server: it stops DNS rebinding.
    #[arg(long, env = "FULIAN_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Persisted queries: `auto` (Apollo automatic persisted queries), `allowlist` (only the
    /// manifest's operations run), or `off`.
    #[arg(long, env = "FULIAN_PERSISTED_QUERIES", value_enum, default_value_t = crate::http::persisted::PersistedMode::Auto)]
    pub persisted_queries: crate::http::persisted::PersistedMode,
    /// Operations manifest (Apollo persisted query manifest JSON, or `{ "<sha256>": "<query>" }`).
    #[arg(long, env = "FULIAN_PERSISTED_QUERIES_FILE")]
    pub persisted_queries_file: Option<std::path::PathBuf>,
    /// Megabytes of query responses kept for repeated requests, served only while no write
    /// has happened since (0 disables).
    #[arg(long, env = "FULIAN_RESPONSE_CACHE_MB", default_value_t = 32)]
    pub response_cache_mb: usize,
    /// Most selections, arguments, directives and literal values a query may expand to
    /// (fragments counted each time they are spread).
    #[arg(long, env = "FULIAN_MAX_QUERY_NODES", default_value_t = 5_000)]
    pub max_query_nodes: usize,
    /// Longest query text in bytes (the rest of the body may carry variables).
    #[arg(long, env = "FULIAN_MAX_QUERY_BYTES", default_value_t = 100_000)]
    pub max_query_bytes: usize,
    /// Most HTTP connections open at once (lowered to fit the open-file limit).
    #[arg(long, env = "FULIAN_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Most HTTP connections one client address may hold open.
    #[arg(long, env = "FULIAN_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 128)]
    pub max_connections_per_client: usize,
    /// Seconds a client has to send a request's headers (idle keep-alive connections too).
    #[arg(long, env = "FULIAN_HEADER_READ_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_read_timeout_seconds: u64,
    /// Seconds a client has to send a request's whole body.
    #[arg(long, env = "FULIAN_BODY_READ_TIMEOUT_SECONDS", default_value_t = 15)]
    pub body_read_timeout_seconds: u64,
    /// Most WebSocket connections one client address may hold open.
    #[arg(long, env = "FULIAN_MAX_WEBSOCKETS_PER_CLIENT", default_value_t = 16)]
    pub max_websockets_per_client: usize,
    /// Most WebSocket connections open at once.
    #[arg(long, env = "FULIAN_MAX_WEBSOCKETS", default_value_t = 512)]
    pub max_websockets: usize,
    /// Most subscriptions open on one WebSocket connection.
    #[arg(long, env = "FULIAN_MAX_SUBSCRIPTIONS_PER_CONNECTION", default_value_t = 20)]
    pub max_subscriptions_per_connection: usize,
    /// Audit rows a minute for requests refused before they ran (mutations without a valid
    /// token); refusals past it are counted and reported in the next row.
    #[arg(long, env = "FULIAN_AUDIT_REFUSALS_PER_MINUTE", default_value_t = crate::domain::refusals::DEFAULT_PER_MINUTE)]
    pub audit_refusals_per_minute: u32,
}

impl SecurityOptions {
    /// The HTTP settings these options describe, with key files read.
    pub fn http_settings(&self) -> anyhow::Result<crate::http::HttpSettings> {
        use anyhow::Context as _;
        let read = |path: &Option<std::path::PathBuf>| -> anyhow::Result<Option<String>> {
            path.as_ref()
                .map(|p| std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display())))
                .transpose()
        };
        Ok(crate::http::HttpSettings {
            auth: crate::auth::AuthSettings {
                secret: self.jwt_secret.clone(),
                public_key_pem: read(&self.jwt_public_key_file)?,
                jwks_json: read(&self.jwt_jwks_file)?,
                issuer: self.jwt_issuer.clone(),
                audience: self.jwt_audience.clone(),
            },
            allow_anonymous: self.allow_anonymous,
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_body_bytes: self.max_body_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            rate_limit_per_minute: self.rate_limit_per_minute,
            rate_limit_burst: self.rate_limit_burst,
            introspection: self.introspection,
            cors_origins: self.cors_origins.iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect(),
            allowed_hosts: self.allowed_hosts.clone(),
            persisted_queries: self.persisted_queries,
            persisted_queries_file: self.persisted_queries_file.clone(),
            response_cache_bytes: self.response_cache_mb.saturating_mul(1024 * 1024),
            max_query_nodes: self.max_query_nodes,
            max_query_bytes: self.max_query_bytes,
            max_connections: self.max_connections,
            max_connections_per_client: self.max_connections_per_client,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_seconds.max(1)),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_seconds.max(1)),
            max_websockets_per_client: self.max_websockets_per_client,
            max_websockets: self.max_websockets,
            max_subscriptions_per_connection: self.max_subscriptions_per_connection,
            audit_refusals_per_minute: self.audit_refusals_per_minute,
        })
    }
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

    #[command(flatten)]
    pub security: SecurityOptions,
}

impl ServeOptions {
    /// The options `serve` gets when no subcommand is given: defaults and environment.
    pub fn from_env() -> Self {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            serve: ServeOptions,
        }
        Wrapper::parse_from(["fulian-graph"]).serve
    }
}

impl ServeOptions {
    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }
}
