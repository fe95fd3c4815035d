//! The central registry: receives sealed bundles from field kits, verifies, opens,
//! validates, de-duplicates and stores them, and signs a receipt for every submission.
//!
//! Entry points: [`init`] and [`provision_device`] (run by an administrator, offline),
//! [`serve`] / [`app`] (the HTTP API the kits' sync clients talk to), [`list_bundles`].
//! Storage is embedded: metadata in SQLite (`<data>/registry.db`), bundle blobs as files
//! (`<data>/blobs/<bundle_id>.gdb`), keys in `<data>/registry.key`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod append_stream;
mod blobs;
mod config;
mod error;
mod http;
mod import;
mod ingest;
mod keys_file;
mod provision;
mod reference;
mod registry;
mod relay;
mod relay_forward;
mod relay_store;
mod relay_uploads;
mod serve;
mod store;
#[cfg(test)]
mod test_support;
mod uploads;

pub use config::{BUNDLE_BODY_LIMIT, REGISTRATION_BODY_LIMIT};
pub use error::RegistryError;
pub use http::{app, relay_app, CUSTODY_CONTENT_TYPE, RELAY_CERT_HEADER, RELAY_ROUTES, ROUTES};
pub use import::{FileReport, Outcome, StickImport};
pub use ingest::Submission;
pub use provision::{provision_device, revoke_device, RegisterError, Registered, Revoked};
pub use reference::{publish_reference, Publication};
pub use registry::{init, list_bundles, read_keyring, rotate_key, Registry, StoredBundle};
pub use relay::{
    init_relay, is_relay_dir, read_upstream_keys, relay_public_key, upstream_keys_text,
    CentralReceipt, Relay, RelayAnswer, RelayCertificate, Upstream, RELAY_CERT_LEN,
    RELAY_CERT_MAGIC,
};
pub use relay_forward::{forward, ForwardConfig};
pub use serve::{serve, serve_relay, serve_with, shutdown_signal};
pub use uploads::{UploadError, UploadState, CHECKPOINT};
