//! GraphiQL, served whole from the binary: the page at `/graphiql` and its two assets, built
//! from `assets/graphiql/src` (see the README there). Nothing is loaded from anywhere else, so
//! the IDE works on networks without internet; the page's Content-Security-Policy holds the
//! browser to that.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Where the page and its assets are served.
pub const PAGE_PATH: &str = "/graphiql";
pub const SCRIPT_PATH: &str = "/graphiql/graphiql.js";
pub const STYLE_PATH: &str = "/graphiql/graphiql.css";

/// GraphiQL, React and the page's start-up code in one script (`npm run build`).
static SCRIPT: &[u8] = include_bytes!("../../assets/graphiql/graphiql.js");
/// GraphiQL's styles, fonts inlined.
static STYLE: &[u8] = include_bytes!("../../assets/graphiql/graphiql.css");

/// Only this origin's files, and `data:` for the fonts and images inlined in the CSS. No inline
/// script or style: the start-up code and the page's own styles are in the bundle.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Assets change only with the binary; their URLs carry a version, their ETag lets browsers
/// revalidate cheaply after the day is up.
const ASSET_CACHE_CONTROL: &str = "public, max-age=86400";

struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    etag: String,
}

impl Asset {
    fn new(body: &'static [u8], content_type: &'static str) -> Self {
        Self { body, content_type, etag: format!("\"{}\"", fingerprint(body)) }
    }

    /// The asset, or 304 when the browser already has this version.
    fn respond(&self, headers: &HeaderMap) -> Response {
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| tags.split(',').any(|t| t.trim() == self.etag || t.trim() == "*"));
        let common = [
            (header::ETAG, HeaderValue::from_str(&self.etag).expect("an ETag is ASCII")),
            (header::CACHE_CONTROL, HeaderValue::from_static(ASSET_CACHE_CONTROL)),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ];
        if fresh {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        (common, [(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type))], self.body).into_response()
    }
}

static SCRIPT_ASSET: LazyLock<Asset> = LazyLock::new(|| Asset::new(SCRIPT, "text/javascript; charset=utf-8"));
static STYLE_ASSET: LazyLock<Asset> = LazyLock::new(|| Asset::new(STYLE, "text/css; charset=utf-8"));

/// The page: the two assets (versioned by their fingerprints) and the element GraphiQL fills.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    let version = |asset: &Asset| asset.etag.trim_matches('"').to_owned();
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fulian-graph · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{STYLE_PATH}?v={style}">
<script defer src="{SCRIPT_PATH}?v={script}"></script>
</head>
<body>
<div id="graphiql"><noscript>GraphiQL needs JavaScript. The GraphQL endpoint is /graphql.</noscript></div>
</body>
</html>
"#,
        style = version(&STYLE_ASSET),
        script = version(&SCRIPT_ASSET),
    )
});

/// `GET /graphiql`: the IDE page, which talks to `/graphql` on the same origin.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        PAGE.as_str(),
    )
        .into_response()
}

/// `GET /graphiql/graphiql.js`.
pub async fn script(headers: HeaderMap) -> Response {
    SCRIPT_ASSET.respond(&headers)
}

/// `GET /graphiql/graphiql.css`.
pub async fn style(headers: HeaderMap) -> Response {
    STYLE_ASSET.respond(&headers)
}

/// FNV-1a over the bytes, as 16 hex digits: stable across builds, changes with the content.
fn fingerprint(bytes: &[u8]) -> String {
    let hash =
        bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}
