//! `/graphql` over GET and POST, following the GraphQL-over-HTTP specification: content
//! negotiation, status codes, CSRF protection, authentication, rate and size limits.

use std::net::SocketAddr;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, Variables};
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use tracing::Instrument as _;

use super::AppState;
use super::document::{self, DocumentLimits, operation, operation_type};
use super::response_cache::{Entry, ResponseCache, Uncacheable};
use crate::graphql::loaders::Loaders;

/// The media type of GraphQL-over-HTTP responses.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Which media type the response is in; decides status codes for request errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MediaType {
    /// `application/graphql-response+json`: request errors get 4xx and no `data`.
    GraphqlResponse,
    /// `application/json` (legacy): 200 for every well-formed request.
    Json,
}

impl MediaType {
    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from `Accept`: the GraphQL response type when acceptable,
/// else JSON; `None` when the client accepts neither. No `Accept` means JSON.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    let mut graphql = None;
    let mut json = None;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let range = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts.filter_map(|p| p.strip_prefix("q=")).find_map(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
        let slot = match range.as_str() {
            GRAPHQL_RESPONSE_JSON => &mut graphql,
            "application/json" => &mut json,
            "*/*" | "application/*" => {
                json = json.or(Some(q));
                continue;
            }
            _ => continue,
        };
        *slot = Some(q);
    }
    match (graphql.filter(|q| *q > 0.0), json.filter(|q| *q > 0.0)) {
        (Some(g), Some(j)) if j > g => Some(MediaType::Json),
        (Some(_), _) => Some(MediaType::GraphqlResponse),
        (None, Some(_)) => Some(MediaType::Json),
        (None, None) => None,
    }
}

/// The client's address, when the server was started with connection info (not in tests).
pub struct PeerAddr(Option<SocketAddr>);

impl PeerAddr {
    /// The address's IP, if known.
    pub(super) fn ip(&self) -> Option<std::net::IpAddr> {
        self.0.map(|addr| addr.ip())
    }

    /// The rate-limit key of the client's address (an IPv6 client by its /64).
    pub(super) fn key(&self) -> String {
        format!(
            "ip:{}",
            self.ip().map_or_else(|| "unknown".to_owned(), |ip| super::listener::client_of(ip).to_string())
        )
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| *addr)))
    }
}

/// A response that ends a request before execution (boxed: responses are large).
type Refusal = Box<HttpResponse>;

/// The query-string parameters of a GraphQL GET request.
#[derive(Debug, serde::Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// Decodes untrusted request bytes the way the handlers do, without a server: a POST body
/// (as `application/json`) or a GET query string, then the document checks. For the fuzz
/// targets in `fuzz/`; the answer is the status the client would get before execution.
pub fn decode_untrusted(post_body: Option<&[u8]>, query_string: &str, limits: &DocumentLimits) -> StatusCode {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let decoded = match post_body {
        Some(body) => parse_post(MediaType::GraphqlResponse, &headers, Bytes::copy_from_slice(body)),
        None => {
            let uri = format!("/graphql?{query_string}").parse::<axum::http::Uri>();
            match uri.ok().and_then(|uri| Query::<GetParams>::try_from_uri(&uri).ok()) {
                Some(Query(params)) => request_from_params(MediaType::GraphqlResponse, params),
                None => return StatusCode::BAD_REQUEST,
            }
        }
    };
    match decoded {
        Ok(mut request) => match parse_within_limits(&mut request, limits) {
            Ok(_) => StatusCode::OK,
            Err(_) => StatusCode::BAD_REQUEST,
        },
        Err(response) => response.status(),
    }
}

/// GraphQL over GET: queries only. A mutation is refused with 405 before anything runs.
pub async fn get(
    State(state): State<AppState>,
    peer: PeerAddr,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> HttpResponse {
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    let request = match params {
        Err(_) => Err(Box::new(request_error(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", "malformed query string"))),
        Ok(Query(params)) => request_from_params(media, params),
    };
    handle(state, peer, headers, media, request, true).await
}

fn request_from_params(media: MediaType, params: GetParams) -> Result<Request, Refusal> {
    let bad = |message: String| Box::new(request_error(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", &message));
    let json = |name: &str, text: Option<String>| -> Result<Option<serde_json::Value>, String> {
        text.filter(|t| !t.is_empty())
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| format!("{name} is not JSON: {e}"))
    };
    let variables = json("variables", params.variables).map_err(bad)?;
    let extensions = json("extensions", params.extensions).map_err(bad)?;
    let mut request = Request::new(params.query.unwrap_or_default());
    if let Some(name) = params.operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    match variables {
        None => {}
        Some(v @ serde_json::Value::Object(_)) => request = request.variables(Variables::from_json(v)),
        Some(_) => return Err(bad("variables must be a JSON object".to_owned())),
    }
    if let Some(serde_json::Value::Object(map)) = extensions {
        for (key, value) in map {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(key, value);
            }
        }
    }
    Ok(request)
}

/// GraphQL over POST with a JSON body.
pub async fn post(State(state): State<AppState>, peer: PeerAddr, headers: HeaderMap, body: Body) -> HttpResponse {
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    let request = match read_body(media, body, &state.settings).await {
        Ok(body) => parse_post(media, &headers, body),
        Err(refusal) => Err(refusal),
    };
    handle(state, peer, headers, media, request, false).await
}

/// Reads a request body whole, within the size limit and the body timeout (counted for the
/// whole body, so a client trickling bytes cannot hold the connection).
async fn read_body(media: MediaType, body: Body, settings: &super::HttpSettings) -> Result<Bytes, Refusal> {
    match tokio::time::timeout(settings.body_read_timeout, axum::body::to_bytes(body, settings.max_body_bytes)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|e| e.downcast_ref::<http_body_util::LengthLimitError>().is_some());
            Err(Box::new(if too_large {
                request_error(
                    media,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    &format!("the request body is larger than this server accepts ({} bytes)", settings.max_body_bytes),
                )
            } else {
                request_error(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", "the request body could not be read")
            }))
        }
        Err(_) => Err(Box::new(request_error(
            media,
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            &format!("the request body did not arrive within {} s", settings.body_read_timeout.as_secs()),
        ))),
    }
}

fn parse_post(media: MediaType, headers: &HeaderMap, body: Bytes) -> Result<Request, Refusal> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if essence != "application/json" {
        // Also what keeps "simple" cross-site form posts (text/plain, form encodings) out.
        return Err(Box::new(request_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "POST bodies must be application/json",
        )));
    }
    serde_json::from_slice::<Request>(&body).map_err(|error| {
        let message = format!("the body is not a GraphQL request: {error}");
        Box::new(request_error(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", &message))
    })
}

/// Answers a request within the request timeout, whatever it waits on: every database call it
/// makes (the response cache's data version, audits of refusals, execution) carries the
/// request's deadline (`store::within`) and the whole is abandoned at the timeout with
/// `TIMEOUT`. (A data-version read before execution once waited out the pool's acquire timeout
/// on top of the request timeout while the database was down.)
async fn handle(
    state: AppState,
    peer: PeerAddr,
    headers: HeaderMap,
    media: MediaType,
    request: Result<Request, Refusal>,
    over_get: bool,
) -> HttpResponse {
    let timeout = state.settings.request_timeout;
    let budget = state.refusals.clone();
    // What an abandoned request's audit needs (see `audit_abandoned`): kept only for text that
    // could be a mutation.
    let abandoned = request
        .as_ref()
        .ok()
        .filter(|r| r.query.contains("mutation"))
        .map(|r| (state.clone(), headers.clone(), r.query.clone(), r.operation_name.clone()));
    let work = crate::store::within(timeout, answer(state, peer, headers, media, request, over_get));
    // Anonymous attempts' audit rows are rationed, wherever they are recorded.
    let work = crate::domain::refusals::rationed(budget.clone(), work);
    match tokio::time::timeout(timeout, work).await {
        Ok(response) => response,
        Err(_) => {
            if let Some((state, headers, query, name)) = abandoned {
                tokio::spawn(crate::domain::refusals::rationed(budget, audit_abandoned(state, headers, query, name)));
            }
            request_error(
                media,
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                "the request took too long and was abandoned",
            )
        }
    }
}

/// Records a mutation abandoned at the request timeout as an attempt of its root fields (its
/// service's own entry, if it got that far, was dropped with it). Runs after the answer, with
/// a deadline of its own: what held the request up may hold this write up too.
async fn audit_abandoned(state: AppState, headers: HeaderMap, query: String, name: Option<String>) {
    let caller = state.authenticate(&headers).unwrap_or_else(|_| crate::domain::access::Caller::anonymous());
    let mut request = Request::new(query);
    if let Some(name) = &name {
        request = request.operation_name(name);
    }
    let Ok(document) = parse_within_limits(&mut request, &state.settings.document_limits()) else { return };
    let refusal = document::Refusal {
        code: "TIMEOUT",
        message: format!(
            "abandoned at the request timeout ({} s); if its write had committed, its own entry says so",
            state.settings.request_timeout.as_secs()
        ),
    };
    let write = audit_refused_mutation(&state, &caller, document, name.as_deref(), &refusal);
    let _ = tokio::time::timeout(ABANDONED_AUDIT_PATIENCE, crate::store::within(ABANDONED_AUDIT_PATIENCE, write)).await;
}

/// How long the audit of an abandoned request may wait for the database.
const ABANDONED_AUDIT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// See [`handle`], which bounds this by the request timeout.
async fn answer(
    state: AppState,
    peer: PeerAddr,
    headers: HeaderMap,
    media: MediaType,
    request: Result<Request, Refusal>,
    over_get: bool,
) -> HttpResponse {
    if let Some(origin) = cross_site_origin(&headers, &state.settings.cors_origins) {
        return request_error(
            media,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            &format!("cross-site request from {origin} refused (not in FULIAN_CORS_ORIGINS)"),
        );
    }
    // Rate limits, before any token is verified: an address whose tokens keep failing is
    // refused at once (its failures have a bucket of their own, so bad tokens cost nothing
    // to refuse); then each principal, or each address for anonymous requests, has its bucket.
    let failures = format!("failed-auth:{}", peer.key());
    if headers.contains_key(header::AUTHORIZATION)
        && let Err(wait) = state.rate_limiter.peek(&failures)
    {
        return too_many_requests(media, wait);
    }
    let caller = match state.authenticate(&headers) {
        Ok(caller) => caller,
        Err(message) => {
            let _ = state.rate_limiter.check(&failures);
            return unauthenticated(&state, media, request, &message).await;
        }
    };
    let bucket = caller.principal().map_or_else(|| peer.key(), |p| format!("sub:{}", p.sub));
    if let Err(wait) = state.rate_limiter.check(&bucket) {
        return too_many_requests(media, wait);
    }
    let mut request = match request {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if let Err(refused) = state.persisted.resolve(&mut request, peer.ip().map(super::listener::client_of)) {
        // A mutation the allow-list refuses is an attempt like any other: audited (the text
        // is parsed only for that, within the same limits as any document).
        if !request.query.trim().is_empty() {
            let name = request.operation_name.clone();
            let (mut request, checked) = parse_off_runtime(request, state.settings.document_limits()).await;
            if !matches!(checked, Checked::Unparsed(_))
                && let Ok(document) = request.parsed_query()
            {
                let refusal = document::Refusal { code: refused.code, message: refused.message.clone() };
                audit_refused_mutation(&state, &caller, document, name.as_deref(), &refusal).await;
            }
        }
        let status = if refused.malformed { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        return request_error(media, status, refused.code, &refused.message);
    }
    if request.query.trim().is_empty() {
        return request_error(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", "the request has no query");
    }
    // A repeated query: answered from the response cache when nothing it could show has been
    // written since (the same text passed every check below when it was first executed).
    let cache = &state.response_cache;
    let cache_key = cache
        .enabled()
        .then(|| ResponseCache::key(&request.query, request.operation_name.as_deref(), &request.variables, &caller));
    let mut version = None;
    if let Some(key) = &cache_key
        && cache.holds(key)
    {
        match state.services.freshness().await {
            Ok(fresh) => {
                if let Some(hit) = cache.get(key, fresh.version, chrono::Utc::now()) {
                    super::metrics::operation("query", Some(&hit.operation));
                    super::metrics::response_cache(true);
                    return ok_json(media, hit.body);
                }
                version = Some(fresh);
            }
            Err(error) => tracing::warn!(?error, "cannot read the data version; executing without the cache"),
        }
    }
    let name = request.operation_name.clone();
    let (mut request, checked) = parse_off_runtime(request, state.settings.document_limits()).await;
    let over_limit = match checked {
        Checked::Within => None,
        Checked::Unparsed(refusal) => return refused_document(media, refusal),
        Checked::OverLimit(refusal) => Some(refusal),
    };
    // Parsed above; this borrows the parsed document.
    let document = match request.parsed_query() {
        Ok(document) => document,
        Err(error) => {
            return refused_document(media, document::Refusal { code: "GRAPHQL_PARSE_FAILED", message: error.message });
        }
    };
    if let Some(refusal) = over_limit {
        audit_refused_mutation(&state, &caller, document, name.as_deref(), &refusal).await;
        return refused_document(media, refusal);
    }
    if over_get && operation_type(document, name.as_deref()) == Some(OperationType::Mutation) {
        let message = "mutations are only accepted over POST";
        let refusal = document::Refusal { code: "METHOD_NOT_ALLOWED", message: message.to_owned() };
        audit_refused_mutation(&state, &caller, document, name.as_deref(), &refusal).await;
        let mut response = request_error(media, StatusCode::METHOD_NOT_ALLOWED, refusal.code, message);
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    if let Err(refusal) = state.settings.check_schema_access(document, name.as_deref()) {
        return refused_document(media, refusal);
    }

    let request_document = document.clone();
    // The operation's name: asked for, or the only operation's own.
    let op_name = name
        .clone()
        .or(match &document.operations {
            DocumentOperations::Multiple(ops) if ops.len() == 1 => ops.keys().next().map(|n| n.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    let kind = match operation_type(document, name.as_deref()) {
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        _ => "query",
    };
    super::metrics::operation(kind, Some(op_name.as_str()));
    // Queries are cached, unless a resolver marks what it read as uncacheable (the audit log).
    let cacheable = cache_key.is_some() && kind == "query";
    if cacheable && version.is_none() {
        version = state.services.freshness().await.ok();
    }
    let (loaders, window) = Loaders::new(state.services.clone());
    let uncacheable = Uncacheable::default();
    let request = request.data(loaders).data(caller).data(uncacheable.clone());
    // Unconstrained: tokio's cooperative budget would otherwise make the executor yield midway
    // through a list's fields, splitting one DataLoader batch into several.
    let span = tracing::info_span!(
        "graphql",
        otel.name = %format!("{kind} {op_name}").trim_end(),
        graphql.operation.type = kind,
        graphql.operation.name = %op_name,
    );
    // Bounded by the request's deadline (see `handle`): its database work stops there too.
    let mut response = tokio::task::unconstrained(window.run(state.schema.execute(request)).instrument(span)).await;
    classify_errors(&mut response, state.settings.introspection);
    null_failed_root_fields(&state.schema_shape, &request_document, name.as_deref(), &mut response);
    if let Some(op) = operation(&request_document, name.as_deref()).map(|op| &op.node) {
        in_selection_order(&mut response.data, &[&op.selection_set.node], &request_document);
    }
    let request_error = response.errors.iter().all(|e| e.path.is_empty()) && !response.errors.is_empty();
    let status = if request_error { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    if cacheable {
        super::metrics::response_cache(false);
    }
    if let (true, Some(key), Some(fresh)) = (cacheable, cache_key, version)
        && response.errors.is_empty()
        && !uncacheable.is_marked()
    {
        let body = Bytes::from(serde_json::to_vec(&response).expect("a GraphQL response always serializes"));
        let entry = Entry {
            version: fresh.version,
            valid_until: fresh.next_expiry,
            body: body.clone(),
            operation: op_name.into(),
        };
        cache.put(key, entry);
        return ok_json(media, body);
    }
    respond(media, status, response)
}

/// Which root fields may be null, by operation type; read from the schema once.
#[derive(Debug, Default)]
pub struct SchemaShape {
    nullable_roots: std::collections::HashSet<(bool, String)>,
}

impl SchemaShape {
    /// Reads root-field nullability from the SDL.
    pub fn from_sdl(sdl: &str) -> Self {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let mut nullable_roots = std::collections::HashSet::new();
        if let Ok(document) = async_graphql::parser::parse_schema(sdl) {
            for definition in &document.definitions {
                let TypeSystemDefinition::Type(ty) = definition else { continue };
                let is_mutation = match ty.node.name.node.as_str() {
                    "Query" => false,
                    "Mutation" => true,
                    _ => continue,
                };
                if let TypeKind::Object(object) = &ty.node.kind {
                    for field in &object.fields {
                        if field.node.ty.node.nullable {
                            nullable_roots.insert((is_mutation, field.node.name.node.to_string()));
                        }
                    }
                }
            }
        }
        Self { nullable_roots }
    }
}

/// async-graphql leaves a failed field out of the response; GraphQL wants it present as null
/// when nullable, and the null to spread to the parent otherwise. Done here for root fields.
fn null_failed_root_fields(
    shape: &SchemaShape,
    document: &ExecutableDocument,
    name: Option<&str>,
    response: &mut Response,
) {
    let Some(op) = operation(document, name).map(|op| &op.node) else { return };
    for error in &response.errors {
        let [async_graphql::PathSegment::Field(key)] = error.path.as_slice() else { continue };
        let field = op.selection_set.node.items.iter().find_map(|s| match &s.node {
            Selection::Field(f) if f.node.response_key().node.as_str() == key => Some(f.node.name.node.to_string()),
            _ => None,
        });
        let Some(field) = field else { continue };
        if shape.nullable_roots.contains(&(op.ty == OperationType::Mutation, field)) {
            if let async_graphql::Value::Null = response.data {
                response.data = async_graphql::Value::Object(Default::default());
            }
            if let async_graphql::Value::Object(map) = &mut response.data {
                map.entry(async_graphql::Name::new(key)).or_insert(async_graphql::Value::Null);
            }
        } else {
            response.data = async_graphql::Value::Null;
            return;
        }
    }
}

/// Puts the fields of every response object in the order the query selected them, as the
/// GraphQL specification asks (async-graphql 7 emits them in the order they finished).
fn in_selection_order(value: &mut async_graphql::Value, sets: &[&SelectionSet], document: &ExecutableDocument) {
    fn collect<'a>(
        document: &'a ExecutableDocument,
        set: &'a SelectionSet,
        out: &mut Vec<(&'a str, Vec<&'a SelectionSet>)>,
        depth: usize,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.as_str();
                    let sub = &field.node.selection_set.node;
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, subs)) => subs.push(sub),
                        None => out.push((key, vec![sub])),
                    }
                }
                Selection::InlineFragment(fragment) if depth < 32 => {
                    collect(document, &fragment.node.selection_set.node, out, depth + 1)
                }
                Selection::FragmentSpread(spread) if depth < 32 => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                        collect(document, &fragment.node.selection_set.node, out, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }
    match value {
        async_graphql::Value::Object(map) => {
            let mut fields = Vec::new();
            for set in sets {
                collect(document, set, &mut fields, 0);
            }
            let mut ordered = async_graphql::indexmap::IndexMap::with_capacity(map.len());
            for (key, subs) in &fields {
                if let Some((name, mut child)) = map.shift_remove_entry(*key) {
                    in_selection_order(&mut child, subs, document);
                    ordered.insert(name, child);
                }
            }
            ordered.extend(map.drain(..));
            *map = ordered;
        }
        async_graphql::Value::List(items) => {
            for item in items {
                in_selection_order(item, sets, document);
            }
        }
        _ => {}
    }
}

/// Gives every error without a code the one that fits it.
///
/// With the schema unpublished (`publish_schema` false: introspection off), the messages of
/// validation and input coercion are withheld: they name fields, arguments, types and
/// required inputs the client did not send, which would let it map the schema error by error.
pub(super) fn classify_errors(response: &mut Response, publish_schema: bool) {
    const WITHHELD: &str = "the query does not match the schema here; details are withheld because this server \
                            does not publish its schema";
    for error in &mut response.errors {
        if error.extensions.as_ref().is_some_and(|e| e.get("code").is_some()) {
            continue;
        }
        let code = if error.message.contains("Invalid value for argument")
            || error.message.starts_with("Failed to parse")
            || error.message.starts_with("Expected input type")
            || error.message.starts_with("Variable")
        {
            // Input coercion: a value of the wrong type or outside an enum (also a scalar
            // given for an input object, which the library reports from the resolver).
            if !publish_schema {
                error.message = WITHHELD.to_owned();
            }
            "BAD_USER_INPUT"
        } else if error.message.contains("nested too deep") {
            "QUERY_TOO_DEEP"
        } else if error.message.contains("too complex") {
            "QUERY_TOO_COMPLEX"
        } else if !error.path.is_empty() {
            // A resolver failed without an AppError (e.g. missing context data): our fault.
            tracing::error!(message = %error.message, "unclassified resolver error");
            error.message = "internal error".to_owned();
            "INTERNAL"
        } else {
            if !publish_schema {
                error.message = WITHHELD.to_owned();
            }
            "GRAPHQL_VALIDATION_FAILED"
        };
        error.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", code);
    }
}

/// Parses a request's query once its text passed the nesting check, then measures the
/// document; both linear in the query's size.
pub(super) fn parse_within_limits<'r>(
    request: &'r mut Request,
    limits: &DocumentLimits,
) -> Result<&'r ExecutableDocument, document::Refusal> {
    document::check_text(&request.query, limits)?;
    let name = request.operation_name.clone();
    let document = request
        .parsed_query()
        .map_err(|error| document::Refusal { code: "GRAPHQL_PARSE_FAILED", message: error.message })?;
    document::check_document(document, name.as_deref(), limits)?;
    Ok(document)
}

/// Queries longer than this are parsed and measured on the blocking pool, not on the
/// runtime's workers, so that parsing them cannot hold up other requests (`/healthz`).
const PARSE_INLINE_BELOW: usize = 4 * 1024;

/// At most this many long queries parse at once (one per core), whatever the number of clients.
static PARSERS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

/// How a query fared in [`parse_off_runtime`].
enum Checked {
    /// Parsed, and within every limit.
    Within,
    /// Refused before it was parsed (too long, nested too deep) or because it does not parse.
    Unparsed(document::Refusal),
    /// Parsed (the document is in the request), and over a limit.
    OverLimit(document::Refusal),
}

/// Parses and measures a query, a long one on the blocking pool, a short one here. The
/// parsed document stays in the request.
async fn parse_off_runtime(mut request: Request, limits: DocumentLimits) -> (Request, Checked) {
    fn check(request: &mut Request, limits: &DocumentLimits) -> Checked {
        if let Err(refusal) = document::check_text(&request.query, limits) {
            return Checked::Unparsed(refusal);
        }
        let name = request.operation_name.clone();
        match request.parsed_query() {
            Err(error) => Checked::Unparsed(document::Refusal { code: "GRAPHQL_PARSE_FAILED", message: error.message }),
            Ok(document) => match document::check_document(document, name.as_deref(), limits) {
                Ok(()) => Checked::Within,
                Err(refusal) => Checked::OverLimit(refusal),
            },
        }
    }
    if request.query.len() < PARSE_INLINE_BELOW {
        let checked = check(&mut request, &limits);
        return (request, checked);
    }
    let _permit = PARSERS.acquire().await.expect("the parser semaphore is never closed");
    let parsing = tokio::task::spawn_blocking(move || {
        let checked = check(&mut request, &limits);
        (request, checked)
    });
    match parsing.await {
        Ok(parsed) => parsed,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// Records a mutation refused here, before the schema ran, as an attempt of each of its root
/// fields; anonymous ones within the audit's budget for refusals (`domain::refusals`).
async fn audit_refused_mutation(
    state: &AppState,
    caller: &crate::domain::access::Caller,
    document: &ExecutableDocument,
    name: Option<&str>,
    refusal: &document::Refusal,
) {
    if operation_type(document, name) != Some(OperationType::Mutation) {
        return;
    }
    for field in document::root_fields(document, name) {
        let target = "(not resolved: request refused)";
        state.services.record_unaudited_attempt(caller, &field, target, Some((refusal.code, &refusal.message))).await;
    }
}

/// A document refused before validation: 400 with the refusal's code.
fn refused_document(media: MediaType, refusal: document::Refusal) -> HttpResponse {
    respond(
        media,
        StatusCode::BAD_REQUEST,
        Response::from_errors(vec![with_code(ServerError::new(refusal.message, None), refusal.code)]),
    )
}

/// 429 with `Retry-After`.
fn too_many_requests(media: MediaType, wait: std::time::Duration) -> HttpResponse {
    let mut response =
        request_error(media, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "too many requests; retry later");
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// 401 with a `WWW-Authenticate` challenge. A refused mutation is audited, within the
/// audit's budget for refusals (`domain::refusals`): no one can grow the log at will.
async fn unauthenticated(
    state: &AppState,
    media: MediaType,
    request: Result<Request, Refusal>,
    message: &str,
) -> HttpResponse {
    if let Ok(mut request) = request
        && let name = request.operation_name.clone()
        && let Ok(document) = parse_within_limits(&mut request, &state.settings.document_limits())
        && operation_type(document, name.as_deref()) == Some(OperationType::Mutation)
    {
        state.services.record_refused_mutation(&document::root_fields(document, name.as_deref()), message).await;
    }
    let mut response = request_error(media, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{}\"", message.replace('"', "'"));
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The origin of a browser request made from another site that is not allowed, if this is one.
///
/// Browsers mark every request with `Sec-Fetch-Site` and cross-origin ones with `Origin`;
/// a request a page on another site makes (a form post, an image, a script) carries one of
/// them, while programs (curl, dashboards, gateways) send neither and are not affected.
pub(super) fn cross_site_origin(headers: &HeaderMap, allowed: &[String]) -> Option<String> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let allowed_origin = |o: &str| allowed.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(o));
    if fetch_site == Some("cross-site") {
        let origin = origin.unwrap_or("an unnamed origin");
        return (!allowed_origin(origin)).then(|| origin.to_owned());
    }
    let origin = origin?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok())?;
    let same = origin.split_once("://").is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host));
    (!same && !allowed_origin(origin)).then(|| origin.to_owned())
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    error.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", code);
    error
}

/// Writes a GraphQL response. Under the GraphQL response media type a request error (one that
/// stopped execution before it began) has a 4xx status and no `data` entry.
fn respond(media: MediaType, status: StatusCode, response: Response) -> HttpResponse {
    if !response.errors.is_empty() {
        super::metrics::errors(response.errors.iter().map(
            |e| match e.extensions.as_ref().and_then(|x| x.get("code")) {
                Some(async_graphql::Value::String(code)) => code.as_str(),
                _ => "INTERNAL",
            },
        ));
    }
    let (status, omit_data) = match media {
        MediaType::GraphqlResponse => (status, status.is_client_error()),
        MediaType::Json => (if status == StatusCode::BAD_REQUEST { StatusCode::OK } else { status }, false),
    };
    // Straight to bytes; only a response that must lose `data` goes through a JSON value.
    let bytes = if omit_data {
        let mut body = serde_json::to_value(&response).expect("a GraphQL response always serializes");
        if let Some(object) = body.as_object_mut() {
            object.remove("data");
        }
        serde_json::to_vec(&body)
    } else {
        serde_json::to_vec(&response)
    }
    .expect("a GraphQL response always serializes");
    (status, [(header::CONTENT_TYPE, media.content_type())], bytes).into_response()
}

/// A successful response whose body is already serialized (from or into the response cache).
fn ok_json(media: MediaType, body: Bytes) -> HttpResponse {
    (StatusCode::OK, [(header::CONTENT_TYPE, media.content_type())], body).into_response()
}

/// An error about the HTTP request itself, in the GraphQL response shape, with its status
/// whatever the media type (these requests are not well-formed GraphQL-over-HTTP requests).
pub(super) fn request_error(media: MediaType, status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let response = Response::from_errors(vec![with_code(ServerError::new(message, None), code)]);
    let mut http = respond(MediaType::GraphqlResponse, status, response);
    http.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    http
}

fn not_acceptable() -> HttpResponse {
    request_error(
        MediaType::Json,
        StatusCode::NOT_ACCEPTABLE,
        "NOT_ACCEPTABLE",
        "this endpoint answers application/graphql-response+json or application/json",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn negotiation_prefers_the_graphql_response_type() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(MediaType::Json));
        assert_eq!(
            negotiate(&accept("application/graphql-response+json, application/json")),
            Some(MediaType::GraphqlResponse)
        );
        assert_eq!(negotiate(&accept("application/json")), Some(MediaType::Json));
        assert_eq!(
            negotiate(&accept("application/graphql-response+json;q=0.5, application/json")),
            Some(MediaType::Json)
        );
        assert_eq!(negotiate(&accept("*/*")), Some(MediaType::Json));
        assert_eq!(negotiate(&accept("text/html")), None);
    }
}
