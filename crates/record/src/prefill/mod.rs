//! Prefill from an existing card: the QR code on its front and the MRZ on its back.
//!
//! Both are outside input read by a camera or a scanner: the parsers never panic, bound what
//! they read, and say precisely what they could not read. Nothing here is a validated record:
//! the operator checks the prefilled form and [`crate::ValidRecord`] decides.

mod mrz;
mod qr;

pub use mrz::{check_digit, parse_mrz, parse_mrz_at, MrzData, MrzError, MrzField};
pub use qr::{parse_qr, OldIdNumber, QrData, QrError, QrField, QrWarning, MAX_QR_BYTES};
