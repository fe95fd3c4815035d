//! An ISO/IEC 19794-4 finger image record, as it comes from a scanner or out of a bundle.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ghidanh_biometrics::finger::FingerImageRecord::parse(data);
});
