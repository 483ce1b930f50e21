//! Required token claims through HTTP: with an issuer and an audience configured, a token
//! without them is refused like one with wrong ones; an `aud` array naming us is accepted.
//! (Token checks do not touch the database: SQLite only.)

use axum::http::StatusCode;
use fulian_graph::auth::AuthSettings;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::{Db, SECRET, TestApp, error_code, test_settings};

const WHO_AM_I: &str =
    r#"mutation { createOrganization(input: { key: "claims-check", name: "声明检查", kind: OTHER }) { key } }"#;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// An app insisting on issuer `fulian` and audience `dashboards`, verifying with `keys`.
async fn strict_app(keys: AuthSettings) -> TestApp {
    let mut settings = test_settings();
    settings.auth = AuthSettings { issuer: Some("fulian".into()), audience: Some("dashboards".into()), ..keys };
    TestApp::start(Db::Sqlite, settings).await
}

/// An ADMIN's claims, with `changes` applied (`null` removes a claim).
fn claims(changes: Value) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({ "sub": "admin", "role": "ADMIN", "exp": now + 600, "iss": "fulian", "aud": "dashboards" });
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

fn hs256(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

fn rs256(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-rsa".into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(fixture("rsa-private.pem").as_bytes()).unwrap())
        .unwrap()
}

/// Sends the mutation with `token`; returns the status and the body.
async fn write_with(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let (status, _, body) = app.post(Some(token), &[], &json!({ "query": WHO_AM_I })).await;
    (status, body)
}

async fn refused_without_issuer_or_audience(app: &TestApp, sign: fn(&Value) -> String) {
    for (changes, why) in [
        (json!({ "iss": null }), "lacks the iss claim"),
        (json!({ "aud": null }), "lacks the aud claim"),
        (json!({ "iss": null, "aud": null }), "lacks the"),
        (json!({ "iss": "elsewhere" }), "issuer is not accepted"),
        (json!({ "aud": "others" }), "audience is not accepted"),
        (json!({ "aud": ["others", "more"] }), "audience is not accepted"),
    ] {
        let (status, body) = write_with(app, &sign(&claims(changes.clone()))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{changes}: {body}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(why), "{changes}: {body}");
    }
    // Nothing was written by the refused tokens; an `aud` array naming us is accepted (RFC 7519).
    let (status, body) = write_with(app, &sign(&claims(json!({ "aud": ["others", "dashboards"] })))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["createOrganization"]["key"], "claims-check", "{body}");
    let (status, body) = write_with(app, &sign(&claims(json!({})))).await;
    assert_eq!((status, body.get("errors")), (StatusCode::OK, None), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs256_tokens_need_the_configured_issuer_and_audience() {
    let app = strict_app(AuthSettings { secret: Some(SECRET.into()), ..AuthSettings::default() }).await;
    refused_without_issuer_or_audience(&app, hs256).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_tokens_from_a_jwks_need_the_configured_issuer_and_audience() {
    let app = strict_app(AuthSettings { jwks_json: Some(fixture("jwks.json")), ..AuthSettings::default() }).await;
    refused_without_issuer_or_audience(&app, rs256).await;
    // An HS256 token keyed with the RSA public key is not an RS256 token.
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(json!({})),
        &EncodingKey::from_secret(fixture("rsa-public.pem").as_bytes()),
    )
    .unwrap();
    assert_eq!(write_with(&app, &confused).await.0, StatusCode::UNAUTHORIZED);
}
