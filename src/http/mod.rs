//! The HTTP surface: routes, request tracing, graceful shutdown.

mod graphql;
mod health;
pub mod shutdown;

use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::response::{Html, Redirect};
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::domain::Services;
use crate::graphql::{AppSchema, build_schema};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub services: Services,
}

impl AppState {
    /// State for a service over these domain services.
    pub fn new(services: Services) -> Self {
        Self { schema: build_schema(services.clone()), services }
    }
}

/// The router with every route and middleware; `main` serves it, tests call it directly.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphiql", get(graphiql))
        .route("/", get(|| async { Redirect::temporary("/graphiql") }))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .with_state(state)
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
                    tracing::info_span!("http", method = %request.method(), route, request_id, status = tracing::field::Empty)
                })
                .on_request(())
                .on_response(|response: &axum::response::Response, latency: Duration, span: &Span| {
                    let status = response.status();
                    span.record("status", status.as_u16());
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

async fn graphiql() -> Html<String> {
    Html(async_graphql::http::GraphiQLSource::build().endpoint("/graphql").title("fulian-graph").finish())
}
