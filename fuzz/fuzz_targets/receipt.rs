//! A receipt as it arrives at a device: verified against one fixed registry key.
#![no_main]
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use ghidanh_bundle::{Receipt, RegistryKeys};
use libfuzzer_sys::fuzz_target;

/// A fixed key, so that a crash reproduces from its input alone.
fn keys() -> Option<&'static RegistryKeys> {
    static KEYS: OnceLock<Option<RegistryKeys>> = OnceLock::new();
    KEYS.get_or_init(|| RegistryKeys::from_secret_bytes(&[7; 64]).ok())
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    if let Some(keys) = keys() {
        let _ = Receipt::verify(data, keys.public());
    }
});
