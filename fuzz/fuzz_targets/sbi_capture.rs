//! A scanner's RCAPTURE answer (MOSIP SBI), as the kit reads it off loopback HTTP.
#![no_main]
#![forbid(unsafe_code)]

use std::time::Duration;

use ghidanh_biometrics::finger::FingerImageRecord;
use ghidanh_record::Lang;
use ghidanh_sbi::{parse_capture_response, FingerRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The simulator's device (seed 1) answering transaction "fuzz-tx", finger 2, as the seed
    // in fuzz/seeds/sbi_capture/ does: a crash reproduces from its input alone.
    let key = *ghidanh_sbi::sim::device_key(1).verifying_key().as_bytes();
    let req = FingerRequest {
        transaction_id: "fuzz-tx".into(),
        position: 2,
        requested_score: 40,
        timeout: Duration::from_secs(5),
    };
    match parse_capture_response(data, &req, &key) {
        Ok(finger) => {
            assert_eq!(finger.position, 2);
            assert_eq!(finger.device_key, key);
            assert!(finger.device_quality <= 100);
            let record = FingerImageRecord::parse(&finger.record).expect("verified record parses");
            assert_eq!(record.position, 2);
        }
        Err(e) => {
            assert!(!e.message(Lang::Vi).is_empty());
            assert!(!e.to_string().is_empty());
        }
    }
});
