//! Keys, the signed and sealed bundle format, receipts, provisioning files and reference updates.
//!
//! Pure: this crate does no I/O and reads no clock (callers pass times in).
//! The byte layouts are specified in `schema/bundle.md`; each MUST there has its
//! check here, next to a reference to the section.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cbor;
mod envelope;
mod error;
mod frame;
mod ids;
mod keys;
mod payload;
mod provisioning;
mod receipt;
mod reference_update;
mod registration;
pub mod stick;
#[cfg(feature = "testkit")]
pub mod testkit;

#[cfg(feature = "testkit")]
pub use envelope::seal_with_rng;
pub use envelope::{seal, Envelope, Header, Verified};
pub use error::Error;
pub use ids::{Blake3, BundleId, DeviceId, EnrollmentId, OperatorId, ReceiptId, Sha256};
pub use keys::{
    DeviceKey, DevicePublicKey, KeyId, Keyring, Recipients, RegistryKeys, RegistryPublicKeys,
    RelayKeys, RelayPublicKey,
};
pub use payload::{
    AuditEntry, Biometrics, ExceptionReason, FaceFormat, FaceImage, Finger, FingerCapture,
    FingerFormat, FingerPosition, OperatorRef, Payload, MAX_AUDIT, MAX_FINGERS, MAX_IMAGE,
    MAX_PAYLOAD, PAYLOAD_VERSION,
};
pub use provisioning::Provisioning;
pub use receipt::{CustodyReceipt, Receipt, RejectReason, Verdict};
pub use reference_update::{ReferenceUpdate, MAX_REFERENCE_UPDATE, MAX_VERSION_LEN};
pub use registration::DeviceRegistration;
