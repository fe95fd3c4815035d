//! A USB stick's manifest as `ghidanh relay import` reads it; what verifies must re-sign to
//! the same entries (a parse that loses or invents an entry would be a bug).
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ghidanh_bundle::stick::Manifest::verify(data) {
        assert!(m.entries.len() <= ghidanh_bundle::stick::MAX_ENTRIES);
    }
});
