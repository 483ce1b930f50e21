//! An untrusted file as `fulian-graph import` reads a .json file (no database): must never
//! panic, hang or use much memory, whatever the bytes, and must answer with the file's
//! problems (located by line and character, or by path), not with an error, except for
//! bytes that are not UTF-8 (refused as unreadable text, as the import command does).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(error) = fulian_graph::import::parse_untrusted("json", data) {
        assert!(std::str::from_utf8(data).is_err(), "not a list of the file's problems: {error:#}");
    }
});
