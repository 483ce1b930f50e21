//! An untrusted file as `fulian-graph import` reads a .xlsx file (no database): must never
//! panic, hang or use much memory, whatever the bytes, and must answer with the file's
//! problems (located by row and column where they have one), not with an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(error) = fulian_graph::import::parse_untrusted("xlsx", data) {
        panic!("not a list of the file's problems: {error:#}");
    }
});
