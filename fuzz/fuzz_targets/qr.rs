//! Card QR text: any bytes, read as UTF-8 the way a scanner's text would be.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(qr) = ghidanh_record::prefill::parse_qr(&text) {
        // Whatever was read must be printable: exercise every message too.
        for w in &qr.warnings {
            let _ = w.message(ghidanh_record::Lang::Vi);
        }
    }
});
