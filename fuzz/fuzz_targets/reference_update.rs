//! A reference update as it arrives at a kit: verified against one fixed registry key.
#![no_main]
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use ghidanh_bundle::{ReferenceUpdate, RegistryKeys, MAX_VERSION_LEN};
use ghidanh_record::reference::MAX_LIST_BYTES;
use libfuzzer_sys::fuzz_target;

/// A fixed key, so that a crash reproduces from its input alone.
fn keys() -> Option<&'static RegistryKeys> {
    static KEYS: OnceLock<Option<RegistryKeys>> = OnceLock::new();
    KEYS.get_or_init(|| RegistryKeys::from_secret_bytes(&[7; 64]).ok())
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    if let Some(keys) = keys() {
        if let Ok(update) = ReferenceUpdate::verify(data, keys.public()) {
            // What verifies is within the limits a kit relies on, and signs back to itself.
            assert!(update.tsv.len() <= MAX_LIST_BYTES);
            assert!(!update.version.is_empty() && update.version.len() <= MAX_VERSION_LEN);
            assert_eq!(update.sign(keys).ok().as_deref(), Some(data));
        }
    }
});
