//! A bundle as it arrives from a device or a relay: parse the envelope, then verify it.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ghidanh_bundle::Envelope::parse(data).and_then(|e| e.verify());
});
