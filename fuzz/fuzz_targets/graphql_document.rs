//! Arbitrary query text through the document checks a request goes through before anything
//! else walks it: `check_text` (nesting, before the recursive parser), the parser, and
//! `check_document` (the linear measure), then what the handlers do with a measured document
//! (`root_fields`, `operation_type`). Run with the server's default limits and with tight ones,
//! so both accepted and refused documents are explored. Must never panic, overflow the stack or
//! take long (libFuzzer's `-timeout`).
#![no_main]

use std::sync::LazyLock;

use async_graphql::parser::types::DocumentOperations;
use fulian_graph::http::HttpSettings;
use fulian_graph::http::document::{DocumentLimits, check_document, check_text, operation_type, root_fields};
use libfuzzer_sys::fuzz_target;

static DEFAULT: LazyLock<DocumentLimits> = LazyLock::new(|| HttpSettings::default().document_limits());

const TIGHT: DocumentLimits = DocumentLimits {
    max_bytes: 2_000,
    max_text_nesting: 6,
    max_nodes: 40,
    max_depth: 3,
    max_aliases: 3,
    max_root_fields: 3,
    max_directives: 2,
};

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    for limits in [&*DEFAULT, &TIGHT] {
        measure(&query, limits);
    }
});

fn measure(query: &str, limits: &DocumentLimits) {
    if check_text(query, limits).is_err() {
        return;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else { return };
    // The request may name any operation, or none.
    let first_name = match &document.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(operations) => operations.keys().next().map(|name| name.to_string()),
    };
    for name in [None, first_name.as_deref(), Some("NoSuchOperation")] {
        if check_document(&document, name, limits).is_ok() {
            // What the handlers walk after the measure: the operation's root fields, bounded.
            let fields = root_fields(&document, name);
            assert!(fields.len() <= limits.max_root_fields, "{} root fields passed the measure", fields.len());
            let _ = operation_type(&document, name);
        }
    }
}
