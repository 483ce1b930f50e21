//! Subscriptions over WebSocket at `/graphql/ws` (graphql-transport-ws, and the older
//! graphql-ws protocol), within bounds: connections per client address and in all,
//! subscriptions per connection, the client's request rate, and the same document limits
//! as over HTTP (see `document`).
//!
//! The token, if any, comes in the `connection_init` payload as `Authorization: Bearer …`
//! (or `authToken`); cross-site pages are refused like for HTTP requests.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Request, Response, ServerError};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::AppState;
use super::document::{self, DocumentLimits};
use super::graphql::{MediaType, PeerAddr, cross_site_origin, parse_within_limits, request_error};
use super::metrics::held;
use super::rate_limit::RateLimiter;
use crate::graphql::AppSchema;

/// What a WebSocket message may hold besides a document of the largest size: its variables
/// (at most `max_nodes` values), the protocol's envelope.
const WEBSOCKET_MESSAGE_SLACK: usize = 64 * 1024;

/// `GET /graphql/ws`: upgrades to a WebSocket when the client may open one more.
pub async fn upgrade(
    State(state): State<AppState>,
    peer: PeerAddr,
    headers: HeaderMap,
    protocol: async_graphql_axum::GraphQLProtocol,
    upgrade: axum::extract::WebSocketUpgrade,
) -> HttpResponse {
    if let Some(origin) = cross_site_origin(&headers, &state.settings.cors_origins) {
        let message = format!("cross-site WebSocket from {origin} refused (not in FULIAN_CORS_ORIGINS)");
        return request_error(MediaType::Json, StatusCode::FORBIDDEN, "FORBIDDEN", &message);
    }
    let address = peer.key();
    if state.rate_limiter.check(&address).is_err() {
        return request_error(
            MediaType::Json,
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests; retry later",
        );
    }
    let client = peer.ip().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    let Some(slot) = state.websockets.take(client) else {
        let message = format!(
            "too many WebSocket connections (at most {} per client, {} in all); close one first",
            state.settings.max_websockets_per_client, state.settings.max_websockets
        );
        return request_error(MediaType::Json, StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_CONNECTIONS", &message);
    };
    let executor = Bounded {
        schema: state.schema.clone(),
        limits: state.settings.document_limits(),
        introspection: state.settings.introspection,
        open: Arc::new(AtomicUsize::new(0)),
        max_open: state.settings.max_subscriptions_per_connection.max(1),
        rate_limiter: state.rate_limiter.clone(),
        address,
    };
    // A message is a document and its variables: bounded like them (not by the library's 64
    // MiB default, which let one client hold gigabytes through a few subscriptions).
    let message_limit = state.settings.max_query_bytes + WEBSOCKET_MESSAGE_SLACK;
    upgrade
        .max_message_size(message_limit)
        .max_frame_size(message_limit)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| async move {
            held::WEBSOCKETS.fetch_add(1, Relaxed);
            async_graphql_axum::GraphQLWebSocket::new(stream, executor, protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                        .or_else(|| payload.get("authToken").and_then(|v| v.as_str()).map(|t| format!("Bearer {t}")));
                    let mut headers = HeaderMap::new();
                    if let Some(value) = token.and_then(|t| HeaderValue::from_str(&t).ok()) {
                        headers.insert(header::AUTHORIZATION, value);
                    }
                    let caller = state.authenticate(&headers).map_err(async_graphql::Error::new)?;
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
                .await;
            held::WEBSOCKETS.fetch_sub(1, Relaxed);
            drop(slot);
        })
        .into_response()
}

/// The schema as one WebSocket connection may use it: each operation checked like an HTTP
/// request, at most `max_open` subscriptions at once.
#[derive(Clone)]
struct Bounded {
    schema: AppSchema,
    limits: DocumentLimits,
    introspection: bool,
    open: Arc<AtomicUsize>,
    max_open: usize,
    rate_limiter: Arc<RateLimiter>,
    address: String,
}

/// Holds one of a connection's subscription places while its stream lives.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        held::SUBSCRIPTIONS.fetch_sub(1, Relaxed);
    }
}

fn refusal(code: &str, message: impl Into<String>) -> Response {
    let mut error = ServerError::new(message, None);
    error.extensions.get_or_insert_with(Default::default).set("code", code);
    Response::from_errors(vec![error])
}

impl Bounded {
    /// Checks an operation; only subscriptions run over WebSocket.
    fn admit(&self, request: &mut Request) -> Result<(), document::Refusal> {
        let refused = |code, message: &str| document::Refusal { code, message: message.to_owned() };
        if self.rate_limiter.check(&self.address).is_err() {
            return Err(refused("RATE_LIMITED", "too many requests; retry later"));
        }
        let name = request.operation_name.clone();
        let introspection = self.introspection;
        // A subscription holds its variables for as long as it lives: bounded like a document.
        // (Over HTTP the body limit bounds them, and they go with the request.)
        document::check_variables(&request.variables, &self.limits)?;
        let document = parse_within_limits(request, &self.limits)?;
        if !introspection {
            let fields = document::root_fields(document, name.as_deref());
            if fields.iter().any(|f| f.starts_with("__") || f == "_service") {
                return Err(refused("INTROSPECTION_DISABLED", "this server does not publish its schema"));
            }
        }
        match document::operation_type(document, name.as_deref()) {
            Some(OperationType::Subscription) | None => Ok(()),
            Some(_) => Err(refused(
                "BAD_REQUEST",
                "only subscriptions run over WebSocket; send queries and mutations to /graphql over HTTP",
            )),
        }
    }
}

impl async_graphql::Executor for Bounded {
    async fn execute(&self, mut request: Request) -> Response {
        match self.admit(&mut request) {
            Ok(()) => {
                let mut response = self.schema.execute(request).await;
                super::graphql::classify_errors(&mut response, self.introspection);
                response
            }
            Err(refused) => refusal(refused.code, refused.message),
        }
    }

    fn execute_stream(&self, mut request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        if let Err(refused) = self.admit(&mut request) {
            let response = refusal(refused.code, refused.message);
            return futures_util::stream::once(async move { response }).boxed();
        }
        let taken =
            self.open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.max_open).then_some(n + 1));
        if taken.is_err() {
            let message = format!(
                "this connection already has {} subscriptions open, the most allowed; complete one first",
                self.max_open
            );
            return futures_util::stream::once(async move { refusal("TOO_MANY_SUBSCRIPTIONS", message) }).boxed();
        }
        held::SUBSCRIPTIONS.fetch_add(1, Relaxed);
        let place = Place(self.open.clone());
        let stream = self.schema.execute_stream_with_session_data(request, session_data.unwrap_or_default());
        let publish_schema = self.introspection;
        stream
            .map(move |mut response| {
                let _held = &place;
                super::graphql::classify_errors(&mut response, publish_schema);
                response
            })
            .boxed()
    }
}
