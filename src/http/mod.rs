//! The HTTP surface: routes, request tracing, graceful shutdown.

pub mod document;
mod graphiql;
mod graphql;
mod health;
pub mod hosts;
pub use graphql::decode_untrusted;
pub mod listener;
pub mod metrics;
pub mod persisted;
mod rate_limit;
pub mod response_cache;
pub mod shutdown;
mod websocket;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::ExecutableDocument;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::response::Redirect;
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::auth::{AuthSettings, TokenVerifier};
use crate::domain::Services;
use crate::domain::access::Caller;
use crate::graphql::{AppSchema, build_schema};
use rate_limit::RateLimiter;

/// The HTTP-level settings: identity, limits, browser policy.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Where token verification keys come from.
    pub auth: AuthSettings,
    /// Whether requests without a token may read public data.
    pub allow_anonymous: bool,
    /// Deepest allowed nesting of selections.
    pub max_depth: usize,
    /// Largest allowed query cost (connections' `first` multiplies what is below them).
    pub max_complexity: usize,
    /// Most aliased fields allowed in one document.
    pub max_aliases: usize,
    /// Most root fields allowed in one operation.
    pub max_root_fields: usize,
    /// Largest accepted request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Longest a request may run before it is abandoned.
    pub request_timeout: Duration,
    /// Requests a minute each principal (or anonymous client address) may make; 0 disables.
    pub rate_limit_per_minute: u32,
    /// Requests a principal may make at once before the per-minute rate applies.
    pub rate_limit_burst: u32,
    /// Whether schema introspection (and so GraphiQL's explorer) is available.
    pub introspection: bool,
    /// Origins browsers may call the API from (CORS and cross-site checks); `*` for any.
    pub cors_origins: Vec<String>,
    /// Host names requests may name (see `hosts`); empty for any.
    pub allowed_hosts: Vec<String>,
    /// Automatic persisted queries, an allow-list, or neither.
    pub persisted_queries: persisted::PersistedMode,
    /// The operations manifest (required for the allow-list).
    pub persisted_queries_file: Option<std::path::PathBuf>,
    /// Bytes of query responses kept for repeated requests (see `response_cache`); 0 disables.
    pub response_cache_bytes: usize,
    /// Most selections, arguments, directives and values a query may expand to.
    pub max_query_nodes: usize,
    /// Longest query text, in bytes (variables may use the rest of the body).
    pub max_query_bytes: usize,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections one client address holds at once.
    pub max_connections_per_client: usize,
    /// Longest a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// Longest a client may take to send a request's body.
    pub body_read_timeout: Duration,
    /// Most WebSocket connections one client address holds at once.
    pub max_websockets_per_client: usize,
    /// Most WebSocket connections open at once.
    pub max_websockets: usize,
    /// Most subscriptions open on one WebSocket connection.
    pub max_subscriptions_per_connection: usize,
    /// Audit rows a minute for requests refused before they ran (unauthenticated mutations).
    pub audit_refusals_per_minute: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            auth: AuthSettings::default(),
            allow_anonymous: true,
            max_depth: 16,
            max_complexity: 10_000,
            max_aliases: 30,
            max_root_fields: 20,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            rate_limit_per_minute: 0,
            rate_limit_burst: 60,
            introspection: true,
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            persisted_queries: persisted::PersistedMode::Auto,
            persisted_queries_file: None,
            response_cache_bytes: 32 * 1024 * 1024,
            max_query_nodes: 5_000,
            max_query_bytes: 100_000,
            max_connections: 1024,
            max_connections_per_client: 128,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(15),
            max_websockets_per_client: 16,
            max_websockets: 512,
            max_subscriptions_per_connection: 20,
            audit_refusals_per_minute: crate::domain::refusals::DEFAULT_PER_MINUTE,
        }
    }
}

impl HttpSettings {
    /// The bounds a query document must stay within (see `document`).
    pub fn document_limits(&self) -> document::DocumentLimits {
        document::DocumentLimits {
            max_bytes: self.max_query_bytes,
            // Fields, plus room for list and object literals in arguments.
            max_text_nesting: self.max_depth.saturating_mul(2).saturating_add(16),
            max_nodes: self.max_query_nodes,
            max_depth: self.max_depth,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_directives: 10,
        }
    }

    /// The bounds on connections (see `listener`).
    pub fn connection_limits(&self) -> listener::ConnectionLimits {
        listener::ConnectionLimits {
            max_connections: self.max_connections.max(1),
            max_connections_per_client: self.max_connections_per_client.max(1),
            header_read_timeout: self.header_read_timeout,
        }
    }

    /// With introspection off, nothing else may hand out the schema: the federation SDL
    /// (`_service`) is refused like `__schema` (a gateway then needs its supergraph composed
    /// elsewhere), and validation errors suggest no field names (see `build_schema`).
    fn check_schema_access(
        &self,
        document: &ExecutableDocument,
        operation: Option<&str>,
    ) -> Result<(), document::Refusal> {
        if self.introspection {
            return Ok(());
        }
        let fields = document::root_fields(document, operation);
        match fields.iter().find(|f| matches!(f.as_str(), "_service" | "__schema" | "__type")) {
            Some(field) => Err(document::Refusal {
                code: "INTROSPECTION_DISABLED",
                message: format!(
                    "`{field}` is not available: this server does not publish its schema (FULIAN_INTROSPECTION=false)"
                ),
            }),
            None => Ok(()),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub services: Services,
    pub settings: Arc<HttpSettings>,
    verifier: Option<Arc<TokenVerifier>>,
    rate_limiter: Arc<RateLimiter>,
    schema_shape: Arc<graphql::SchemaShape>,
    persisted: Arc<persisted::PersistedQueries>,
    response_cache: Arc<response_cache::ResponseCache>,
    refusals: Arc<crate::domain::refusals::RefusalBudget>,
    websockets: Arc<listener::ClientSlots>,
}

impl AppState {
    /// State for a service over these domain services with default settings (anonymous
    /// reads, no token keys: every write is refused).
    pub fn new(services: Services) -> Self {
        Self::with_settings(services, HttpSettings::default()).expect("default settings are valid")
    }

    /// State with explicit settings; fails when the token keys cannot be read.
    pub fn with_settings(services: Services, settings: HttpSettings) -> anyhow::Result<Self> {
        let verifier = TokenVerifier::new(&settings.auth)?.map(Arc::new);
        Ok(Self {
            schema: build_schema(services.clone(), &settings),
            services,
            verifier,
            rate_limiter: Arc::new(RateLimiter::new(settings.rate_limit_per_minute, settings.rate_limit_burst)),
            schema_shape: Arc::new(graphql::SchemaShape::from_sdl(&crate::graphql::sdl())),
            persisted: Arc::new(persisted::PersistedQueries::load(
                settings.persisted_queries,
                settings.persisted_queries_file.as_deref(),
            )?),
            response_cache: Arc::new(response_cache::ResponseCache::new(settings.response_cache_bytes)),
            refusals: Arc::new(crate::domain::refusals::RefusalBudget::new(settings.audit_refusals_per_minute)),
            websockets: listener::ClientSlots::new(
                settings.max_websockets_per_client.max(1),
                settings.max_websockets.max(1),
            ),
            settings: Arc::new(settings),
        })
    }

    /// Who is calling: the verified bearer token's principal, or anonymous (when allowed).
    /// The error says why the request is not authenticated.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, String> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return if self.settings.allow_anonymous {
                Ok(Caller::anonymous())
            } else {
                Err("this server requires a bearer token".to_owned())
            };
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| "the Authorization header must be \"Bearer <token>\"".to_owned())?;
        let verifier =
            self.verifier.as_ref().ok_or_else(|| "this server accepts no tokens (no keys configured)".to_owned())?;
        verifier.verify(token).map(Caller::authenticated)
    }
}

/// The router with every route and middleware; `main` serves it, tests call it directly.
pub fn app(state: AppState) -> Router {
    let cors = cors_layer(&state.settings.cors_origins);
    let body_limit = DefaultBodyLimit::max(state.settings.max_body_bytes);
    let allowed_hosts = std::sync::Arc::new(hosts::AllowedHosts::new(&state.settings.allowed_hosts));
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(websocket::upgrade))
        .route(graphiql::PAGE_PATH, get(graphiql::page))
        .route(graphiql::SCRIPT_PATH, get(graphiql::script))
        .route(graphiql::STYLE_PATH, get(graphiql::style))
        .route("/", get(|| async { Redirect::temporary("/graphiql") }))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(metrics::render))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
        .layer(body_limit)
        .layer(axum::middleware::from_fn(move |request, next| hosts::check(allowed_hosts.clone(), request, next)));
    let router = match cors {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or_else(|| request.uri().path().to_owned(), |p| p.as_str().to_owned());
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    tracing::info_span!(
                        "http",
                        otel.name = %format!("{} {route}", request.method()),
                        otel.kind = "server",
                        method = %request.method(),
                        route,
                        request_id,
                        status = tracing::field::Empty,
                        http.response.status_code = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(|response: &axum::response::Response, latency: Duration, span: &Span| {
                    let status = response.status();
                    span.record("status", status.as_u16());
                    span.record("http.response.status_code", status.as_u16());
                    let latency_ms = latency.as_secs_f64() * 1000.0;
                    if status.is_server_error() {
                        tracing::error!(status = status.as_u16(), latency_ms, "request failed");
                    } else {
                        tracing::info!(status = status.as_u16(), latency_ms, "request served");
                    }
                })
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// CORS for the configured origins; none when no origin is configured (same-origin only).
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT])
            .max_age(Duration::from_secs(600)),
    )
}
