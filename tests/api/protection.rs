//! Identity at the door and protection against hostile requests: tokens, anonymous-off mode,
//! query depth/complexity/alias limits, body size, rate limit, timeouts, introspection, CORS
//! and cross-site requests, and GraphQL-over-HTTP content negotiation.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fulian_graph::auth::Claims;
use fulian_graph::domain::access::Role;
use fulian_graph::http::HttpSettings;
use serde_json::{Value, json};

use crate::common::{Db, SECRET, TestApp, admin, error_code, only_error, test_settings, token};
use crate::on_both_dbs;

on_both_dbs!(
    bad_tokens_are_refused_never_anonymous,
    anonymous_access_can_be_turned_off,
    depth_complexity_and_alias_limits,
    oversized_bodies_are_refused,
    rate_limit_per_principal,
    slow_requests_are_abandoned,
    introspection_can_be_turned_off,
    cross_site_requests_and_cors,
    rebound_host_names_are_refused,
    one_editor_cannot_make_a_province_summary_time_out,
    content_negotiation,
);

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn signed(claims: Value, secret: &str) -> String {
    let claims: Claims = serde_json::from_value(claims).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

async fn start(db: Db, change: impl FnOnce(&mut HttpSettings)) -> TestApp {
    let mut settings = test_settings();
    change(&mut settings);
    TestApp::start(db, settings).await
}

const QUERY: &str = r#"{ region(code: "110112") { name } }"#;

async fn bad_tokens_are_refused_never_anonymous(db: Db) {
    let app = start(db, |_| {}).await;
    let expired = signed(json!({ "sub": "li", "role": "EDITOR", "exp": now() - 3600 }), SECRET);
    let not_yet = signed(json!({ "sub": "li", "role": "EDITOR", "exp": now() + 7200, "nbf": now() + 3600 }), SECRET);
    let forged =
        signed(json!({ "sub": "li", "role": "ADMIN", "exp": now() + 3600 }), "someone-elses-secret-someone-elses");
    let bad_role = signed(json!({ "sub": "li", "role": "ROOT", "exp": now() + 3600 }), SECRET);
    for (token, why) in [
        (expired.as_str(), "expired"),
        (not_yet.as_str(), "not valid yet"),
        (forged.as_str(), "signature is invalid"),
        (bad_role.as_str(), "unknown role"),
        ("not-a-jwt", "not a JWT"),
    ] {
        for accept in [GRAPHQL_RESPONSE, "application/json"] {
            let (status, headers, body) =
                app.post(Some(token), &[("accept", accept)], &json!({ "query": QUERY })).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
            assert_eq!(error_code(&body), "UNAUTHENTICATED");
            assert!(body["errors"][0]["message"].as_str().unwrap().contains(why), "{why}: {body}");
            assert!(headers[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer error=\"invalid_token\""));
            assert!(body.get("data").is_none());
        }
    }
    // Not a bearer token at all.
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, "Basic YWRtaW46YWRtaW4=")
        .body(Body::from(json!({ "query": QUERY }).to_string()))
        .unwrap();
    assert_eq!(app.send(request).await.0, StatusCode::UNAUTHORIZED);
    // A forged ADMIN token cannot write, and the attempt is on record.
    let create = r#"mutation { createOrganization(input: { key: "forged", name: "伪造", kind: OTHER }) { id } }"#;
    let (status, _, _) = app.post(Some(&forged), &[], &json!({ "query": create })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let log = app
        .data_as(Some(&admin()), r#"{ auditLog { edges { node { operation outcome errorCode } } } }"#, json!({}))
        .await;
    assert_eq!(
        log["auditLog"]["edges"][0]["node"],
        json!({ "operation": "createOrganization", "outcome": "DENIED", "errorCode": "UNAUTHENTICATED" })
    );
    let check = app.data(r#"{ organizations(filter: { nameContains: "伪造" }) { totalCount } }"#, json!({})).await;
    assert_eq!(check["organizations"]["totalCount"], 0);
}

async fn anonymous_access_can_be_turned_off(db: Db) {
    let app = start(db, |s| s.allow_anonymous = false).await;
    let (status, _, body) = app.post(None, &[], &json!({ "query": QUERY })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let viewer = token("wang", Role::Viewer, None);
    assert_eq!(app.data_as(Some(&viewer), QUERY, json!({})).await["region"]["name"], "通州区");
}

async fn depth_complexity_and_alias_limits(db: Db) {
    let app = start(db, |s| {
        s.max_depth = 6;
        s.max_complexity = 500;
        s.max_aliases = 3;
        s.max_root_fields = 4;
    })
    .await;
    let deep = r#"{ region(code: "110112-liyuan-weijiafen") { parent { parent { parent { parent { parent { name } } } } } } }"#;
    let (status, _, body) = app.post(None, &[("accept", GRAPHQL_RESPONSE)], &json!({ "query": deep })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "QUERY_TOO_DEEP");
    // `first` multiplies the cost of what is below it: 10 organizations pass, 100 do not.
    let costly = "query($n: Int) { organizations(first: $n) { edges { node { name region { name parent { name } } children { name } } } } }";
    app.data(costly, json!({ "n": 10 })).await;
    let body = app.graphql(costly, json!({ "n": 100 })).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    let aliases = r#"{ a: region(code: "110112") { name } b: region(code: "110111") { name } c: region(code: "131000") { name } d: region(code: "120114") { name } }"#;
    let (status, _, body) = app.post(None, &[("accept", GRAPHQL_RESPONSE)], &json!({ "query": aliases })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "QUERY_TOO_LARGE");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("4 aliases"));
    let roots = "{ alliances { slug } alliances { name } reports { totalCount } regions { totalCount } organizations { totalCount } }";
    let body = app.graphql(roots, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_LARGE");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("5 root fields"));
}

async fn oversized_bodies_are_refused(db: Db) {
    let app = start(db, |s| s.max_body_bytes = 2_000).await;
    let padding = " ".repeat(3_000);
    let (status, _, body) = app.post(None, &[], &json!({ "query": format!("{QUERY}{padding}") })).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE");
    assert_eq!(app.data(QUERY, json!({})).await["region"]["name"], "通州区");
}

async fn rate_limit_per_principal(db: Db) {
    let app = start(db, |s| {
        s.rate_limit_per_minute = 60;
        s.rate_limit_burst = 3;
    })
    .await;
    let li = token("li", Role::Viewer, None);
    for _ in 0..3 {
        assert_eq!(app.post(Some(&li), &[], &json!({ "query": QUERY })).await.0, StatusCode::OK);
    }
    let (status, headers, body) = app.post(Some(&li), &[], &json!({ "query": QUERY })).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&body), "RATE_LIMITED");
    let retry: u64 = headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    // Another principal has a bucket of its own.
    let wang = token("wang", Role::Viewer, None);
    assert_eq!(app.post(Some(&wang), &[], &json!({ "query": QUERY })).await.0, StatusCode::OK);
}

async fn slow_requests_are_abandoned(db: Db) {
    let app = start(db, |s| {
        s.request_timeout = Duration::from_millis(1);
        s.max_complexity = 1_000_000;
    })
    .await;
    // A hundred un-batched sub-lists: far more than a millisecond of work.
    let slow =
        "{ regions(first: 100) { edges { node { descendants(first: 50) { totalCount edges { node { code } } } } } } }";
    let (status, _, body) = app.post(None, &[], &json!({ "query": slow })).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&body), "TIMEOUT");
}

async fn introspection_can_be_turned_off(db: Db) {
    let app = start(db, |s| s.introspection = false).await;
    // Nothing hands out the schema: not introspection, not the federation SDL, not the
    // suggestions in error messages.
    for query in [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"Region\") { name } }",
        "{ _service { sdl } }",
        "fragment F on Query { _service { sdl } } { ...F }",
    ] {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(error_code(&body), "INTROSPECTION_DISABLED", "{query}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    let body = app.graphql("{ regio(code: \"110112\") { nam } }", json!({})).await;
    let message = only_error(&body)["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    // Nor the messages of validation and input coercion, which name what the client did not
    // send (a required argument, the type of a field, a required input field): each error
    // keeps its code and location, its message names nothing of the schema.
    for (query, code) in [
        ("{ region }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ regions { edges } }", "GRAPHQL_VALIDATION_FAILED"),
        ("mutation { submitReport(input: {}) { status } }", "BAD_USER_INPUT"),
    ] {
        let body = app.graphql(query, json!({})).await;
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("{query}: {body}"));
        for error in errors {
            assert_eq!(error["extensions"]["code"], code, "{query}: {body}");
            assert!(error["locations"].is_array(), "{query}: {body}");
            let message = error["message"].as_str().unwrap();
            for secret in ["code", "Region", "RegionEdge", "Query", "key", "String", "input"] {
                assert!(!message.contains(secret), "{query}: {message:?} names {secret:?}");
            }
        }
    }
    let body =
        app.graphql("query($c: String!) { region(code: $c) { name } }", json!({ "c": { "not": "a string" } })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(!only_error(&body)["message"].as_str().unwrap().contains("String"), "{body}");
    assert_eq!(app.data(QUERY, json!({})).await["region"]["name"], "通州区");
}

async fn cross_site_requests_and_cors(db: Db) {
    let app = start(db, |s| s.cors_origins = vec!["https://dash.example.cn".into()]).await;
    // A page on another site posting (or a browser fetching) from an origin not allowed: refused.
    let (status, _, body) = app
        .post(None, &[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")], &json!({ "query": QUERY }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "FORBIDDEN");
    let request = Request::get(format!("/graphql?query={}", "%7B%20alliances%20%7B%20slug%20%7D%20%7D"))
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.0, StatusCode::FORBIDDEN);
    // The allowed dashboard: served, with CORS headers; its preflight is answered.
    let (status, headers, _) = app
        .post(
            None,
            &[("origin", "https://dash.example.cn"), ("sec-fetch-site", "cross-site")],
            &json!({ "query": QUERY }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://dash.example.cn");
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/graphql")
        .header(header::ORIGIN, "https://dash.example.cn")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,content-type")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = app.send(preflight).await;
    assert!(status.is_success());
    assert!(headers[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap().contains("authorization"));
    // Same-origin pages (GraphiQL) and programs without browser headers are unaffected.
    let (status, _, _) = app
        .post(
            None,
            &[("origin", "http://localhost"), ("host", "localhost"), ("sec-fetch-site", "same-origin")],
            &json!({ "query": QUERY }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// DNS rebinding: a page at evil.example makes the browser resolve evil.example to this
/// server; its requests then carry `Host: evil.example` and `Origin: http://evil.example`, and
/// look same-origin. With allowed hosts configured, they are refused on every route.
async fn rebound_host_names_are_refused(db: Db) {
    let app = start(db.clone(), |s| s.allowed_hosts = vec!["fulian.example.cn".into()]).await;
    let rebound = [("host", "evil.example"), ("origin", "http://evil.example"), ("sec-fetch-site", "same-origin")];
    let (status, _, body) = app.post(None, &rebound, &json!({ "query": QUERY })).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    assert_eq!(error_code(&body), "HOST_NOT_ALLOWED");
    assert!(body.get("data").is_none());
    for path in ["/graphql?query=%7B__typename%7D", "/graphiql", "/metrics", "/graphql/ws"] {
        let request = Request::get(path).header(header::HOST, "evil.example:8080").body(Body::empty()).unwrap();
        assert_eq!(app.send(request).await.0, StatusCode::MISDIRECTED_REQUEST, "{path}");
    }
    // No Host, two of them, or one that is not text: no name this server answers for.
    let none = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "query": QUERY }).to_string()))
        .unwrap();
    assert_eq!(app.send(none).await.0, StatusCode::MISDIRECTED_REQUEST);
    let two = Request::get("/graphql?query=%7B__typename%7D")
        .header(header::HOST, "evil.example")
        .header(header::HOST, "fulian.example.cn")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(two).await.0, StatusCode::MISDIRECTED_REQUEST);
    let bytes = Request::get("/graphql?query=%7B__typename%7D")
        .header(header::HOST, axum::http::HeaderValue::from_bytes(b"evil\xff.example").unwrap())
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(bytes).await.0, StatusCode::MISDIRECTED_REQUEST);
    // The configured name, an address (probes, scrapers) and localhost are answered.
    for host in ["fulian.example.cn", "FULIAN.example.cn:443", "10.0.0.7:8080", "localhost:8080"] {
        let (status, _, body) = app.post(None, &[("host", host)], &json!({ "query": QUERY })).await;
        assert_eq!(status, StatusCode::OK, "{host}: {body}");
        assert_eq!(body["data"]["region"]["name"], "通州区");
    }
    // Unset (the default): any name, as before.
    let open = start(db, |_| {}).await;
    let (status, _, _) = open.post(None, &[("host", "evil.example")], &json!({ "query": QUERY })).await;
    assert_eq!(status, StatusCode::OK);
}

async fn content_negotiation(db: Db) {
    let app = start(db, |_| {}).await;
    let both = "application/graphql-response+json, application/json;q=0.9";
    let (status, headers, body) = app.post(None, &[("accept", both)], &json!({ "query": QUERY })).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with(GRAPHQL_RESPONSE));
    assert_eq!(body["data"]["region"]["name"], "通州区");
    // Request errors under the new media type: 400 and no data entry.
    for (query, code) in [("{ region(code: ", "GRAPHQL_PARSE_FAILED"), ("{ nonsense }", "GRAPHQL_VALIDATION_FAILED")] {
        let (status, _, body) = app.post(None, &[("accept", GRAPHQL_RESPONSE)], &json!({ "query": query })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error_code(&body), code);
        assert!(body.get("data").is_none(), "{body}");
    }
    let coercion =
        json!({ "query": "query($n: Int) { organizations(first: $n) { totalCount } }", "variables": { "n": "ten" } });
    let (status, _, body) = app.post(None, &[("accept", GRAPHQL_RESPONSE)], &coercion).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Field errors are not request errors: 200 with data.
    let (status, _, body) = app
        .post(None, &[("accept", GRAPHQL_RESPONSE)], &json!({ "query": r#"{ region(code: "119999") { name } }"# }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!({ "region": null }));
    // Legacy JSON: 200 for every well-formed request, errors in the body.
    let (status, headers, body) =
        app.post(None, &[("accept", "application/json")], &json!({ "query": "{ nonsense }" })).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    // Neither acceptable: 406. No query at all: 400.
    assert_eq!(
        app.post(None, &[("accept", "text/html")], &json!({ "query": QUERY })).await.0,
        StatusCode::NOT_ACCEPTABLE
    );
    assert_eq!(app.post(None, &[], &json!({ "variables": {} })).await.0, StatusCode::BAD_REQUEST);
}

/// An EDITOR of one district submits thousands of counts of one kind for one day (found by an
/// outside-in attack: the stock rule compared every pair, and 20,000 such counts made the
/// province's public organization summary time out for everyone). The summary answers, within
/// a short request timeout, what the rules say: every count states the same level of the same
/// thing for the same day, so they are one statement (docs/aggregation.md §5.2), counted once.
async fn one_editor_cannot_make_a_province_summary_time_out(db: Db) {
    let app = start(db, |s| s.request_timeout = Duration::from_secs(5)).await;
    let editor = token("editor-110112", Role::Editor, Some("110112"));
    for key in ["flood-a", "flood-b"] {
        let counts: Vec<Value> = (0..2_500)
            .map(|i| {
                json!({ "id": format!("c{i}"), "scope": { "region": "110112" },
                        "period": { "start": "2025-12-31", "end": "2025-12-31" }, "excerpt": format!("{key} {i}"),
                        "label": "studio", "organizationKind": "STUDIO", "count": { "value": 1 } })
            })
            .collect();
        let input =
            json!({ "key": key, "title": key, "region": "110112", "figures": { "organizationCounts": counts } });
        let body = app
            .graphql_as(
                Some(&editor),
                "mutation($input: ReportSubmissionInput!) { submitReport(input: $input) { status } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(body["data"]["submitReport"]["status"], "CREATED", "{body}");
    }
    for scope in ["110112", "110000"] {
        let body = app
            .graphql(
                "query($r: String!) { organizationCoverage(scope: { region: $r }, kind: STUDIO) { count } }",
                json!({ "r": scope }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{scope}: {body}");
        assert_eq!(body["data"]["organizationCoverage"][0]["count"], 1, "{scope}: {body}");
    }
}
