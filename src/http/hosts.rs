//! The names this server answers to. A page on another site can make a browser resolve its
//! own domain to this server's address (DNS rebinding); the browser then sends that domain as
//! `Host` and as `Origin`, so the request looks same-origin. With `FULIAN_ALLOWED_HOSTS` set,
//! a request naming any other host is refused before it reaches a route.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Host names requests may name: exact names, `.example.cn` for a domain and its subdomains,
/// or `*` for any. Empty: any host (the default, for a server that is not exposed).
#[derive(Clone, Debug, Default)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// Reads the setting: a port is ignored (`fulian.example.cn:8443`), and `*.example.cn` is
    /// read as `.example.cn`.
    pub fn new(names: &[String]) -> Self {
        Self(
            names
                .iter()
                .map(|n| {
                    let n = n.trim();
                    let n = if n == "*" { n } else { strip_port(n) };
                    let n = n.strip_prefix('*').filter(|rest| rest.starts_with('.')).unwrap_or(n);
                    n.trim_end_matches('.').to_ascii_lowercase()
                })
                .filter(|n| !n.is_empty())
                .collect(),
        )
    }

    /// Whether a request naming `host` (with or without a port) is answered. Addresses
    /// (`10.0.0.7:8080`, `[::1]`) and `localhost` always are: probes and scrapers use them,
    /// and no other site can make a browser send them for its own pages.
    pub fn allows(&self, host: &str) -> bool {
        if self.0.is_empty() || self.0.iter().any(|n| n == "*") {
            return true;
        }
        let name = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok() {
            return true;
        }
        self.0.iter().any(|allowed| match allowed.strip_prefix('.') {
            Some(domain) => name == domain || name.strip_suffix(allowed.as_str()).is_some_and(|sub| !sub.is_empty()),
            None => *allowed == name,
        })
    }
}

fn strip_port(host: &str) -> &str {
    let digits = |port: &str| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    if host.starts_with('[') {
        // An IPv6 literal, then nothing or a port: anything else is not a host name at all.
        return match host.split_once(']') {
            Some((address, "")) => &host[..=address.len()],
            Some((address, rest)) if rest.strip_prefix(':').is_some_and(digits) => &host[..=address.len()],
            _ => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && digits(port) => name,
        _ => host,
    }
}

/// Refuses requests for hosts not allowed (421 Misdirected Request, a GraphQL-shaped error).
pub async fn check(allowed: std::sync::Arc<AllowedHosts>, request: Request, next: Next) -> Response {
    if allowed.0.is_empty() {
        return next.run(request).await;
    }
    // The URI's host (absolute form, HTTP/2), else the one Host header; none, several, or one
    // that is not text name no host this server answers for.
    let mut headers = request.headers().get_all(header::HOST).iter();
    let header = match (headers.next(), headers.next()) {
        (Some(h), None) => Some(h.to_str().map(str::to_owned).unwrap_or_else(|_| "(not text)".to_owned())),
        (None, _) => None,
        (Some(_), Some(_)) => Some("(several Host headers)".to_owned()),
    };
    let host = request.uri().host().map(str::to_owned).or(header).unwrap_or_else(|| "(none)".to_owned());
    match host {
        host if !allowed.allows(&host) => {
            let body = serde_json::json!({ "errors": [{
                "message": format!("this server does not answer for the host {host:?} (not in FULIAN_ALLOWED_HOSTS)"),
                "extensions": { "code": "HOST_NOT_ALLOWED" },
            }]});
            let mut response = (StatusCode::MISDIRECTED_REQUEST, body.to_string()).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_domains_addresses_and_ports() {
        let allowed = AllowedHosts::new(&["fulian.example.cn".into(), ".gov.example".into()]);
        for host in
            ["fulian.example.cn", "FULIAN.example.cn:443", "fulian.example.cn.", "gov.example", "a.b.gov.example:8080"]
        {
            assert!(allowed.allows(host), "{host}");
        }
        for host in ["127.0.0.1:8080", "10.1.2.3", "[::1]:8080", "[2001:db8::1]", "localhost:8080"] {
            assert!(allowed.allows(host), "{host}");
        }
        for host in [
            "evil.example",
            "fulian.example.cn.evil.example",
            "xgov.example",
            "fulian.example.cnx",
            "127.0.0.1.evil.example",
        ] {
            assert!(!allowed.allows(host), "{host}");
        }
        assert!(AllowedHosts::new(&[]).allows("evil.example"), "unset: any host");
        let spelled = AllowedHosts::new(&["fulian.example.cn:8443".into(), "*.gov.example".into()]);
        assert!(spelled.allows("fulian.example.cn") && spelled.allows("a.gov.example:443"));
        assert!(!spelled.allows("evil.example"));
        assert!(AllowedHosts::new(&["*".into()]).allows("evil.example"));
    }
}
