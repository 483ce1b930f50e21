//! A GraphQL request as untrusted bytes, decoded the way `/graphql` decodes it: the first byte
//! picks a POST body (JSON) or a GET query string, the rest is the body or the query string.
//! Then the document checks (text nesting, parse, linear measure). Must never panic, hang or
//! use much memory, and must answer 200 (would run) or 400 (refused), nothing else.
#![no_main]

use std::sync::LazyLock;

use fulian_graph::http::HttpSettings;
use fulian_graph::http::document::DocumentLimits;
use libfuzzer_sys::fuzz_target;

static LIMITS: LazyLock<DocumentLimits> = LazyLock::new(|| HttpSettings::default().document_limits());

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let status = if selector & 1 == 0 {
        fulian_graph::http::decode_untrusted(Some(rest), "", &LIMITS)
    } else {
        fulian_graph::http::decode_untrusted(None, &String::from_utf8_lossy(rest), &LIMITS)
    };
    assert!(status == 200 || status == 400, "unexpected status {status}");
});
