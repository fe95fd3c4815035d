//! Reading a card's text (QR, MRZ) from a file or stdin, with the exit codes of the checking
//! commands: bytes that cannot be read are a usage problem (2); bytes that are not UTF-8 are
//! an invalid input (1), told in the operator's language like any other refusal.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use ghidanh_record::Lang;
use serde_json::json;

/// Reads at most `limit` bytes of `source` (`-` is stdin) as UTF-8, or says why not and gives
/// the exit code.
pub fn read_utf8(source: &Path, limit: u64, json: bool, lang: Lang) -> Result<String, ExitCode> {
    let mut bytes = Vec::new();
    let read = if source.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(source).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    if let Err(e) = read {
        eprintln!("error: cannot read {}: {e}", source.display());
        return Err(ExitCode::from(2));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let message = match lang {
            Lang::Vi => format!("Dữ liệu không phải văn bản UTF-8 (byte lỗi ở vị trí {at})."),
            Lang::En => format!("The input is not UTF-8 text (bad byte at offset {at})."),
        };
        if json {
            let out = json!({"valid": false, "error": {"code": "notUtf8", "message": message}});
            println!("{out}");
        } else {
            eprintln!("{message}");
        }
        ExitCode::FAILURE
    })
}
