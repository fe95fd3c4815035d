//! The fingerprint scanner interface: a client of MOSIP's Secure Biometric Interface (SBI,
//! the subset in docs/sbi.md) and `sim`, a simulated scanner that speaks the same protocol.
//!
//! SBI is HTTP on 127.0.0.1, ports 4501–4600, with its own methods: `MOSIPDISC /device`
//! (discovery), `MOSIPDINFO /info` (device info, signed) and `RCAPTURE /capture` (one signed
//! capture). Ghi Danh signs with Ed25519 (JWS `EdDSA`) instead of RS256 and X.509; the kit
//! pins the device's key at first pairing.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod error;
pub mod jws;
pub mod sim;
mod wire;

pub use client::{
    parse_capture_response, parse_device_info, CapturedFinger, DeviceInfo, DeviceStatus,
    FingerRequest, SbiClient, DISCOVERY_TIMEOUT, KIT_PORTS, MAX_RESPONSE,
};
pub use error::{codes, SbiError};
pub use wire::{bio_sub_type, position_of, SPEC_VERSION};
