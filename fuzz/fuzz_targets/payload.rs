//! A payload as the registry decodes it after opening: arbitrary bytes as deterministic CBOR.
//! Whatever decodes MUST re-encode to the same bytes (the decoder accepts only the
//! deterministic encoding, and the encoder produces only it).
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = ghidanh_bundle::Payload::from_cbor(data) {
        assert_eq!(payload.to_cbor().ok().as_deref(), Some(data));
    }
});
