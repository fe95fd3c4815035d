//! A provisioning file as a kit reads it at first start.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ghidanh_bundle::Provisioning::parse(data);
});
