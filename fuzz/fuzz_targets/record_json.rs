//! Record JSON (what `ghidanh record validate` and the app's IPC read): any bytes.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = ghidanh_record::EnrollmentInput::from_json(data) {
        let today = time::macros::date!(2026 - 11 - 28);
        match ghidanh_record::ValidRecord::validate(&input, today) {
            // A valid record must survive its own normal form.
            Ok(record) => {
                let again = ghidanh_record::ValidRecord::validate(&record.to_input(), today);
                assert!(again.is_ok(), "normalised record no longer valid");
            }
            Err(errors) => {
                for e in &errors {
                    let _ = e.message(ghidanh_record::Lang::Vi);
                }
            }
        }
    }
});
