//! Deterministic CBOR (spec § "Deterministic CBOR"; RFC 8949 §4.2.1 core deterministic encoding).
//!
//! Every signed or sealed structure goes through this module, both ways:
//! - [`encode`] serialises through [`ciborium::Value`], sorts every map's keys by the bytewise
//!   order of their encodings (recursively), and writes definite lengths and shortest integer
//!   heads (ciborium always writes the shortest head). Floats and tags are refused: no structure
//!   of ours has them, and their canonical forms are a trap for other implementations.
//! - [`decode`] parses, refuses duplicate map keys, floats and tags, re-encodes and compares
//!   with the input byte for byte: any non-deterministic input (unsorted keys, long integer
//!   heads, indefinite lengths) is refused. Only then is the value turned into `T`.

use ciborium::Value;
use serde::{de::DeserializeOwned, Serialize};

use crate::Error;

/// Encodes `value` deterministically.
///
/// Fails only for a value outside the subset (a float or a tag), a programming error for
/// every structure this crate defines.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    let value = Value::serialized(value).map_err(|e| Error::Cbor {
        what: "encoding",
        detail: e.to_string(),
    })?;
    let value = canonical(value, "encoding")?;
    write_value(&value)
}

/// Decodes `bytes` as `T`, refusing anything that is not the deterministic encoding
/// of a value: spec § "Deterministic CBOR" MUST reject.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, Error> {
    let mut reader = bytes;
    let value: Value = ciborium::from_reader(&mut reader).map_err(|e| Error::Cbor {
        what,
        detail: cbor_error_kind(&e),
    })?;
    // spec § "Deterministic CBOR": MUST reject trailing bytes.
    if !reader.is_empty() {
        return Err(Error::TrailingBytes(reader.len()));
    }
    // spec § "Deterministic CBOR": MUST reject duplicate keys, floats, tags.
    let value = canonical(value, what)?;
    // spec § "Deterministic CBOR": MUST reject input that differs from its re-encoding.
    // Compared while writing: no second copy of a payload's images.
    let mut cmp = CompareWriter {
        expected: bytes,
        equal: true,
    };
    ciborium::into_writer(&value, &mut cmp).map_err(|e| Error::Cbor {
        what,
        detail: e.to_string(),
    })?;
    if !cmp.equal || !cmp.expected.is_empty() {
        return Err(Error::NotDeterministic(what));
    }
    value.deserialized().map_err(|e| Error::Cbor {
        what,
        detail: value_error(&e),
    })
}

/// A writer that checks the bytes written are exactly `expected`, in order.
struct CompareWriter<'a> {
    /// What is still expected.
    expected: &'a [u8],
    equal: bool,
}

impl std::io::Write for CompareWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.expected.split_at_checked(buf.len()) {
            Some((head, rest)) if self.equal && head == buf => self.expected = rest,
            _ => self.equal = false,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes the encoding of `value` will take, roughly (at most 9 bytes of head per item):
/// sizing the output once spares the copies of a growing vector.
fn size_hint(value: &Value) -> usize {
    9 + match value {
        Value::Bytes(b) => b.len(),
        Value::Text(t) => t.len(),
        Value::Array(items) => items.iter().map(size_hint).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| size_hint(k) + size_hint(v))
            .sum(),
        _ => 0,
    }
}

/// Deserialises an `Option` whose key MUST be present (as a value or `null`): serde lets a
/// plain `Option` field go missing, which would give one value two encodings.
/// spec § "Deterministic CBOR": a decoder MUST reject missing keys.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d)
}

fn write_value(value: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(size_hint(value));
    ciborium::into_writer(value, &mut out).map_err(|e| Error::Cbor {
        what: "encoding",
        detail: e.to_string(),
    })?;
    Ok(out)
}

/// Sorts map keys by their encodings, recursively; refuses duplicates, floats and tags.
fn canonical(value: Value, what: &'static str) -> Result<Value, Error> {
    Ok(match value {
        Value::Map(entries) => {
            let mut keyed = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let k = canonical(k, what)?;
                let v = canonical(v, what)?;
                keyed.push((write_value(&k)?, k, v));
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            if keyed.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(Error::DuplicateKey(what));
            }
            Value::Map(keyed.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| canonical(v, what))
                .collect::<Result<_, _>>()?,
        ),
        Value::Float(_) => {
            return Err(Error::Cbor {
                what,
                detail: "floats are not allowed".into(),
            })
        }
        Value::Tag(..) => {
            return Err(Error::Cbor {
                what,
                detail: "tags are not allowed".into(),
            })
        }
        other => other,
    })
}

/// The message of an error from turning a generic value into a structure, values redacted.
pub(crate) fn value_error(e: &ciborium::value::Error) -> String {
    match e {
        ciborium::value::Error::Custom(msg) => redact_quoted(msg),
    }
}

fn cbor_error_kind<T: std::fmt::Debug>(e: &ciborium::de::Error<T>) -> String {
    match e {
        ciborium::de::Error::Io(_) => "unexpected end of input".to_owned(),
        ciborium::de::Error::Syntax(at) => format!("syntax error at byte {at}"),
        ciborium::de::Error::Semantic(_, msg) => redact_quoted(msg),
        ciborium::de::Error::RecursionLimitExceeded => "nested too deeply".to_owned(),
    }
}

/// Serde's messages quote offending values (`invalid type: string "Nguyễn"`); those may be
/// personal data, so everything inside double quotes is dropped. Field names use backticks and stay.
fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut inside = false;
    for c in msg.chars() {
        if c == '"' {
            if !inside {
                out.push_str("\"…\"");
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "Nguyễn Văn An", expected u64"#),
            r#"invalid type: string "…", expected u64"#
        );
        assert_eq!(
            redact_quoted("missing field `bundle_id`"),
            "missing field `bundle_id`"
        );
    }

    #[test]
    fn keys_sort_by_encoding_shorter_first() {
        let mut m = BTreeMap::new();
        m.insert("bb".to_owned(), 1u64);
        m.insert("a".to_owned(), 2u64);
        m.insert("c".to_owned(), 500u64);
        // {"a": 2, "c": 500, "bb": 1}: one-byte keys before two-byte keys; 500 as 0x19 01f4.
        assert_eq!(
            hex::encode(encode(&m).unwrap()),
            "a361610261631901f462626201"
        );
    }

    #[test]
    fn round_trip_and_rejections() {
        let good = hex::decode("a2616101616202").unwrap(); // {"a":1,"b":2}
        let m: BTreeMap<String, u64> = decode(&good, "t").unwrap();
        assert_eq!(m.get("b"), Some(&2));
        // Unsorted keys.
        let unsorted = hex::decode("a2616202616101").unwrap();
        assert_eq!(
            decode::<BTreeMap<String, u64>>(&unsorted, "t"),
            Err(Error::NotDeterministic("t"))
        );
        // Long integer head: 1 written as 0x18 01.
        let long = hex::decode("a261611801616202").unwrap();
        assert_eq!(
            decode::<BTreeMap<String, u64>>(&long, "t"),
            Err(Error::NotDeterministic("t"))
        );
        // Indefinite-length map.
        let indef = hex::decode("bf616101616202ff").unwrap();
        assert_eq!(
            decode::<BTreeMap<String, u64>>(&indef, "t"),
            Err(Error::NotDeterministic("t"))
        );
        // Duplicate key.
        let dup = hex::decode("a2616101616102").unwrap();
        assert_eq!(
            decode::<BTreeMap<String, u64>>(&dup, "t"),
            Err(Error::DuplicateKey("t"))
        );
        // A float.
        let float = hex::decode("a16161f93c00").unwrap();
        assert!(matches!(
            decode::<BTreeMap<String, u64>>(&float, "t"),
            Err(Error::Cbor { .. })
        ));
        // Trailing byte.
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            decode::<BTreeMap<String, u64>>(&trailing, "t"),
            Err(Error::TrailingBytes(1))
        );
    }
}
