//! GraphiQL is served whole from the binary: a page that loads only this origin's assets,
//! under a Content-Security-Policy that holds the browser to that. (The browser itself is
//! checked by `tests/browser/run.sh`.) The page does not touch the database: SQLite only.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::common::TestApp;

/// GETs `uri` with extra headers; returns status, headers and the raw body.
async fn fetch(app: &TestApp, uri: &str, headers: &[(header::HeaderName, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = app.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
}

/// The values of `attribute="..."` in `html`, in order.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!("{attribute}=\"");
    html.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            &rest[..rest.find('"').expect("a closing quote")]
        })
        .collect()
}

#[tokio::test]
async fn graphiql_page_loads_only_this_origin() {
    let app = TestApp::sqlite().await;
    let (status, headers, body) = fetch(&app, "/graphiql", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains(r#"<div id="graphiql">"#), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"), "{html}");
    assert!(!html.contains("<style") && !html.contains(" style="), "no inline styles: {html}");
    let scripts = attribute_values(&html, "src");
    assert_eq!(scripts.len(), 1, "one script: {html}");
    assert!(scripts[0].starts_with("/graphiql/graphiql.js?v="), "{html}");
    assert_eq!(html.matches("<script").count(), 1, "no inline script: {html}");
    let links = attribute_values(&html, "href");
    assert!(links.iter().all(|l| (l.starts_with('/') && !l.starts_with("//")) || *l == "data:,"), "{links:?}");
    let style = links.iter().find(|l| l.starts_with("/graphiql/graphiql.css?v=")).expect("the stylesheet");

    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"] {
        assert!(csp.split(';').any(|d| d.trim() == directive), "{directive} not in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && !csp.contains("http"), "{csp}");

    // The URLs the page names are the ones served.
    for (uri, content_type) in [(scripts[0], "text/javascript; charset=utf-8"), (*style, "text/css; charset=utf-8")] {
        let (status, headers, body) = fetch(&app, uri, &[]).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers[header::CONTENT_TYPE], content_type, "{uri}");
        assert!(body.len() > 100_000, "{uri} is only {} bytes", body.len());
    }
}

#[tokio::test]
async fn graphiql_assets_are_served_with_types_and_caching() {
    let app = TestApp::sqlite().await;
    let (status, headers, script) = fetch(&app, "/graphiql/graphiql.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(script.len() > 500_000, "GraphiQL and React bundled: {} bytes", script.len());
    let script = String::from_utf8(script).expect("the script is UTF-8");
    assert!(script.contains("\"/graphql\""), "the page queries /graphql on its own origin");
    assert!(!script.contains("sourceMappingURL"), "no source map to fetch");

    let (status, headers, style) = fetch(&app, "/graphiql/graphiql.css", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(style.len() > 50_000, "GraphiQL's styles: {} bytes", style.len());
    let style = String::from_utf8(style).expect("the styles are UTF-8");
    assert!(style.contains(".graphiql-container"), "GraphiQL's styles");
    assert!(
        !style.contains("url(http") && !style.contains("url(//") && !style.contains("@import"),
        "fonts are inlined"
    );

    // Cached for a while, and revalidated by ETag.
    let cache = headers[header::CACHE_CONTROL].to_str().unwrap();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2, "{etag}");
    let (status, headers, body) = fetch(&app, "/graphiql/graphiql.css", &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(headers[header::ETAG], etag.as_str());
    assert!(body.is_empty());
    let (status, _, _) = fetch(&app, "/graphiql/graphiql.css", &[(header::IF_NONE_MATCH, "\"other\"")]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, script_headers, _) = fetch(&app, "/graphiql/graphiql.js", &[]).await;
    assert_ne!(script_headers[header::ETAG], etag.as_str(), "each asset has its own ETag");
}
