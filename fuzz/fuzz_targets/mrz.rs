//! MRZ text from a scanner or OCR: any bytes, read as UTF-8.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = ghidanh_record::prefill::parse_mrz(&text) {
        let _ = e.message(ghidanh_record::Lang::Vi);
    }
});
