//! The JSON of SBI as Ghi Danh reads it: finger names, the capture hash, and field readers
//! that name the field they refuse.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::SbiError;

/// The SBI version whose field names Ghi Danh follows (MOSIP SBI 1.0 devices send "0.9.5").
pub const SPEC_VERSION: &str = "0.9.5";

/// SBI's `bioSubType` for ISO/IEC 19794-4 finger positions 1–10, in position order.
const FINGERS: [&str; 10] = [
    "Right Thumb",
    "Right IndexFinger",
    "Right MiddleFinger",
    "Right RingFinger",
    "Right LittleFinger",
    "Left Thumb",
    "Left IndexFinger",
    "Left MiddleFinger",
    "Left RingFinger",
    "Left LittleFinger",
];

/// SBI's `bioSubType` of an ISO/IEC 19794-4 finger position (1 right thumb … 10 left little).
pub fn bio_sub_type(position: u8) -> Option<&'static str> {
    FINGERS.get(usize::from(position).checked_sub(1)?).copied()
}

/// The ISO/IEC 19794-4 finger position of an SBI `bioSubType`.
pub fn position_of(bio_sub_type: &str) -> Option<u8> {
    FINGERS
        .iter()
        .position(|f| *f == bio_sub_type)
        .and_then(|i| u8::try_from(i + 1).ok())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(bytes))
}

/// MOSIP's capture `hash`: SHA-256 (upper-case hex) over the previous hash (for the first
/// capture, the hash of nothing) followed by the hash of the biometric bytes.
pub(crate) fn capture_hash(previous: &str, bio_value: &[u8]) -> String {
    let previous = match previous {
        "" => sha256_hex(b""),
        p => p.to_owned(),
    };
    sha256_hex(format!("{previous}{}", sha256_hex(bio_value)).as_bytes())
}

/// `value` as an object.
pub(crate) fn object<'a>(
    field: &'static str,
    value: &'a Value,
) -> Result<&'a Map<String, Value>, SbiError> {
    value
        .as_object()
        .ok_or_else(|| SbiError::bad(field, "not a JSON object"))
}

/// The string at `key` (reported as `field`).
pub(crate) fn string<'a>(
    field: &'static str,
    object: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a str, SbiError> {
    match object.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(SbiError::bad(field, "not a string")),
        None => Err(SbiError::bad(field, "missing")),
    }
}

/// A score 0–100 at `key`, a string (SBI writes "80" or "80.5") or a number; rounded.
pub(crate) fn score(
    field: &'static str,
    object: &Map<String, Value>,
    key: &str,
) -> Result<u8, SbiError> {
    let n = match object.get(key) {
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| SbiError::bad(field, "not a number"))?,
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| SbiError::bad(field, "not a number"))?,
        Some(_) => return Err(SbiError::bad(field, "not a number")),
        None => return Err(SbiError::bad(field, "missing")),
    };
    if !(0.0..=100.0).contains(&n) {
        return Err(SbiError::bad(field, format!("{n} is not within 0–100")));
    }
    Ok(n.round() as u8)
}

/// The `error` object of an answer: `Ok(())` for code "0", else the error it names.
pub(crate) fn check_error(
    field: &'static str,
    object: &Map<String, Value>,
) -> Result<(), SbiError> {
    let error = self::object(field, object.get("error").unwrap_or(&Value::Null))?;
    let code = match error.get("errorCode") {
        Some(Value::String(s)) => s.clone(),
        // Some devices send the code as a number.
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(SbiError::bad(field, "errorCode missing or not a string")),
    };
    if code == crate::codes::SUCCESS {
        return Ok(());
    }
    let info = error
        .get("errorInfo")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // The info is the device's text: keep it short in errors and logs.
    Err(SbiError::from_code(
        &code,
        &info.chars().take(200).collect::<String>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finger_names_round_trip_and_refuse_what_is_not_a_finger() {
        assert_eq!(bio_sub_type(1), Some("Right Thumb"));
        assert_eq!(bio_sub_type(7), Some("Left IndexFinger"));
        assert_eq!(bio_sub_type(10), Some("Left LittleFinger"));
        assert_eq!((bio_sub_type(0), bio_sub_type(11)), (None, None));
        for p in 1..=10 {
            assert_eq!(position_of(bio_sub_type(p).unwrap()), Some(p));
        }
        assert_eq!(position_of("UNKNOWN"), None);
    }

    #[test]
    fn the_hash_chains_like_mosip() {
        let empty = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        let expected = sha256_hex(format!("{empty}{}", sha256_hex(b"abc")).as_bytes());
        assert_eq!(capture_hash("", b"abc"), expected);
        assert_ne!(capture_hash(&expected, b"abc"), expected);
    }

    #[test]
    fn scores_accept_strings_and_numbers_within_range_only() {
        let o: Map<String, Value> =
            serde_json::from_str(r#"{"a":"80.4","b":71,"c":"x","d":101,"e":true,"f":"-1"}"#)
                .unwrap();
        assert_eq!(score("a", &o, "a").unwrap(), 80);
        assert_eq!(score("b", &o, "b").unwrap(), 71);
        for k in ["c", "d", "e", "f", "missing"] {
            assert!(matches!(
                score("s", &o, k),
                Err(SbiError::BadResponse { field: "s", .. })
            ));
        }
    }
}
