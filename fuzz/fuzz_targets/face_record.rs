//! An ISO/IEC 19794-5 face record, as a registry or an auditor reads one out of a bundle.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ghidanh_biometrics::face::FaceRecord::parse(data);
});
