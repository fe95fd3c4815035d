//! Portrait and fingerprint capture: quality checks with reasons an operator can act on,
//! the standard records the registry keeps (ISO/IEC 19794-5 face, 19794-4 finger image),
//! and the scanner interface (a subset of MOSIP's SBI 2.0, docs/sbi.md).
//!
//! Nothing here knows the vault, the bundle or Tauri: images in, checked images and records out.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod face;
pub mod finger;
pub mod sbi;
