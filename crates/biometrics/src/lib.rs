//! Portrait and fingerprint capture: quality checks with reasons an operator can act on, the
//! ICAO token crop and the standard face record (ISO/IEC 19794-5), synthetic fingerprints and
//! their quality score, and ISO/IEC 19794-4 finger records. The scanner interface (MOSIP SBI)
//! is the `ghidanh-sbi` crate (docs/sbi.md).
//!
//! Nothing here knows the vault, the bundle or Tauri: images in, checked images and records out.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod face;
pub mod finger;
mod reader;
#[cfg(feature = "testing")]
pub mod testing;
