//! Fingerprints: synthetic images for the simulated scanner and for tests, and a quality
//! score in the spirit of NFIQ 2 (docs/biometrics.md § Fingerprint).

pub mod iso19794_4;
pub mod quality;
pub mod synth;

pub use iso19794_4::{CaptureTime, FingerImageRecord, FingerRecordError};
pub use quality::{finger_quality, FingerQuality};
pub use synth::{synthesize, Degradation, FingerSpec, PatternClass};
