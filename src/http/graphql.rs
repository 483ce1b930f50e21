//! `/graphql` over GET and POST.

use async_graphql::parser::types::OperationType;
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, Variables};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};

use super::AppState;
use crate::graphql::loaders::Loaders;

/// The query-string parameters of a GraphQL GET request (GraphQL over HTTP, section "GET").
#[derive(Debug, serde::Deserialize)]
pub struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// GraphQL over GET: queries only. A mutation is refused with 405 before anything runs.
pub async fn get(State(state): State<AppState>, params: Result<Query<GetParams>, QueryRejection>) -> HttpResponse {
    let Ok(Query(params)) = params else {
        return request_error(StatusCode::BAD_REQUEST, "malformed query string");
    };
    let json = |name: &str, text: Option<String>| -> Result<Option<serde_json::Value>, String> {
        text.filter(|t| !t.is_empty())
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| format!("{name} is not JSON: {e}"))
    };
    let (variables, extensions) = match (json("variables", params.variables), json("extensions", params.extensions)) {
        (Ok(v), Ok(e)) => (v, e),
        (Err(message), _) | (_, Err(message)) => return request_error(StatusCode::BAD_REQUEST, &message),
    };
    let mut request = Request::new(params.query);
    if let Some(name) = params.operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = variables {
        request = request.variables(Variables::from_json(variables));
    }
    if let Some(serde_json::Value::Object(map)) = extensions {
        for (key, value) in map {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(key, value);
            }
        }
    }
    execute(state, request, true).await
}

/// GraphQL over POST with a JSON body.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> HttpResponse {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !is_json {
        return request_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "POST bodies must be application/json");
    }
    match serde_json::from_slice::<Request>(&body) {
        Ok(request) => execute(state, request, false).await,
        Err(error) => request_error(StatusCode::BAD_REQUEST, &format!("the body is not a GraphQL request: {error}")),
    }
}

async fn execute(state: AppState, mut request: Request, over_get: bool) -> HttpResponse {
    // Parse up front (async-graphql keeps the document) to tell parse errors apart and to
    // refuse mutations over GET before they run.
    let name = request.operation_name.clone();
    let operation_type = match request.parsed_query() {
        Ok(document) => operation_type(document, name.as_deref()),
        Err(error) => return respond(Response::from_errors(vec![with_code(error, "GRAPHQL_PARSE_FAILED")])),
    };
    if over_get && operation_type == Some(OperationType::Mutation) {
        let mut response = request_error(StatusCode::METHOD_NOT_ALLOWED, "mutations are only accepted over POST");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let (loaders, window) = Loaders::new(state.services.clone());
    let request = request.data(loaders);
    // Unconstrained: tokio's cooperative budget would otherwise make the executor yield midway
    // through a list's fields, splitting one DataLoader batch into several.
    let mut response = tokio::task::unconstrained(window.run(state.schema.execute(request))).await;
    for error in &mut response.errors {
        if error.extensions.as_ref().is_some_and(|e| e.get("code").is_some()) {
            continue;
        }
        let code =
            if error.message.contains("Invalid value for argument") || error.message.starts_with("Failed to parse") {
                // Input coercion: a value of the wrong type or outside an enum.
                "BAD_USER_INPUT"
            } else if !error.path.is_empty() {
                // A resolver failed without an AppError (e.g. missing context data): our fault.
                tracing::error!(message = %error.message, "unclassified resolver error");
                error.message = "internal error".to_owned();
                "INTERNAL"
            } else {
                "GRAPHQL_VALIDATION_FAILED"
            };
        error.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", code);
    }
    respond(response)
}

fn operation_type(
    document: &async_graphql::parser::types::ExecutableDocument,
    name: Option<&str>,
) -> Option<OperationType> {
    use async_graphql::parser::types::DocumentOperations;
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        _ => None,
    }
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    error.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", code);
    error
}

fn respond(response: Response) -> HttpResponse {
    let body = serde_json::to_vec(&response).expect("a GraphQL response always serializes");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// An error about the HTTP request itself, in the GraphQL response shape.
fn request_error(status: StatusCode, message: &str) -> HttpResponse {
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        _ => "BAD_REQUEST",
    };
    let response = Response::from_errors(vec![with_code(ServerError::new(message, None), code)]);
    let mut http = respond(response);
    *http.status_mut() = status;
    http
}
