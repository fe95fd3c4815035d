//! Deterministic CBOR (spec § "Deterministic CBOR"; RFC 8949 §4.2.1 core deterministic encoding).
//!
//! Every signed or sealed structure goes through this module, both ways:
//! - [`encode`] serialises through [`ciborium::Value`], sorts every map's keys by the bytewise
//!   order of their encodings (recursively), and writes definite lengths and shortest integer
//!   heads (ciborium always writes the shortest head). Floats and tags are refused: no structure
//!   of ours has them, and their canonical forms are a trap for other implementations.
//! - [`decode`] parses, refuses duplicate map keys, floats and tags, re-encodes and compares
//!   with the input byte for byte: any non-deterministic input (unsorted keys, long integer
//!   heads, indefinite lengths) is refused. Only then is the value turned into `T`. Input
//!   that is deterministic already is checked and parsed in one pass instead (`strict`),
//!   which accepts exactly what the longer way would, as the same value.

use ciborium::value::{Integer, Value};
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
    from_value(&decode_value(bytes, what)?, what)
}

/// The generic value of `bytes`, once they are known to be the deterministic encoding of it
/// (every rule of spec § "Deterministic CBOR" but unknown and missing keys, which only the
/// target type knows).
pub(crate) fn decode_value(bytes: &[u8], what: &'static str) -> Result<Value, Error> {
    // Deterministic input, all a conforming encoder sends, is read in one pass with each
    // string copied once. Anything else takes the general path below, whose errors (kind
    // and order) are what callers and tests rely on.
    match strict(bytes) {
        Some(value) => Ok(value),
        None => general(bytes, what),
    }
}

/// [`decode_value`] for any input: parse, check, re-encode and compare (spec § "Deterministic
/// CBOR", the simple conforming decoder).
fn general(bytes: &[u8], what: &'static str) -> Result<Value, Error> {
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
    Ok(value)
}

/// `T` from a value [`decode_value`] returned: unknown and missing keys refused here.
pub(crate) fn from_value<T: DeserializeOwned>(
    value: &Value,
    what: &'static str,
) -> Result<T, Error> {
    value.deserialized().map_err(|e| Error::Cbor {
        what,
        detail: value_error(&e),
    })
}

/// Deepest nesting [`strict`] follows (our structures nest five deep). Deeper input takes
/// the general path, whose parser has its own limit (256) and error.
const STRICT_DEPTH: usize = 32;

/// Reads `bytes` as one data item in exactly the deterministic encoding, in one pass, each
/// byte or text string copied once into its value. `None` for anything else: malformed or
/// cut input, trailing bytes, a float, a tag, `undefined` or another simple value, a head
/// longer than needed, an indefinite length, map keys out of order or repeated, nesting
/// deeper than [`STRICT_DEPTH`].
///
/// What it accepts, the general path of [`decode_value`] accepts too, as the same value:
/// ciborium parses it to the same tree; with no floats or tags `canonical` refuses nothing;
/// keys strictly ascending by their encodings (deterministic themselves, so equal to their
/// re-encodings) are distinct and already in the order it sorts them; and with every head
/// shortest and every length definite the re-encoding is the input, byte for byte.
fn strict(bytes: &[u8]) -> Option<Value> {
    let mut reader = Strict { rest: bytes };
    let value = reader.item(STRICT_DEPTH)?;
    reader.rest.is_empty().then_some(value)
}

struct Strict<'a> {
    /// What is still to read.
    rest: &'a [u8],
}

impl<'a> Strict<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    fn take_array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// An item's head: major type and argument. spec rules 1 and 2: `None` for a head
    /// longer than its argument needs, and for an indefinite length (or a reserved one).
    fn head(&mut self) -> Option<(u8, u64)> {
        let [initial] = self.take_array::<1>()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let arg = match info {
            0..=23 => u64::from(info),
            24 => u64::from(u8::from_be_bytes(self.take_array()?)),
            25 => u64::from(u16::from_be_bytes(self.take_array()?)),
            26 => u64::from(u32::from_be_bytes(self.take_array()?)),
            27 => u64::from_be_bytes(self.take_array()?),
            _ => return None,
        };
        let shortest = match info {
            24 => arg >= 24,
            25 => arg > 0xff,
            26 => arg > 0xffff,
            27 => arg > 0xffff_ffff,
            _ => true,
        };
        shortest.then_some((major, arg))
    }

    fn item(&mut self, depth: usize) -> Option<Value> {
        let (major, arg) = self.head()?;
        Some(match major {
            0 => Value::Integer(arg.into()),
            1 => Value::Integer(Integer::try_from(-1 - i128::from(arg)).ok()?),
            2 => Value::Bytes(self.take(usize::try_from(arg).ok()?)?.to_vec()),
            3 => {
                let text = self.take(usize::try_from(arg).ok()?)?;
                Value::Text(std::str::from_utf8(text).ok()?.to_owned())
            }
            4 => {
                let depth = depth.checked_sub(1)?;
                let count = usize::try_from(arg).ok()?;
                // Every item takes a byte at least: a count cannot reserve more than is left.
                let mut items = Vec::with_capacity(count.min(self.rest.len()));
                for _ in 0..count {
                    items.push(self.item(depth)?);
                }
                Value::Array(items)
            }
            5 => {
                let depth = depth.checked_sub(1)?;
                let count = usize::try_from(arg).ok()?;
                let mut entries = Vec::with_capacity(count.min(self.rest.len() / 2));
                let mut previous: Option<&[u8]> = None;
                for _ in 0..count {
                    let at = self.rest;
                    let key = self.item(depth)?;
                    let encoded = at.get(..at.len() - self.rest.len())?;
                    // spec rules 3 and 5: each key's encoding sorts strictly after the one
                    // before, so the keys are in order and none repeats.
                    if previous.is_some_and(|p| p >= encoded) {
                        return None;
                    }
                    previous = Some(encoded);
                    entries.push((key, self.item(depth)?));
                }
                Value::Map(entries)
            }
            // false, true, null. An argument from a longer head is 24 or more, so floats
            // (and the simple values after 23) never land here; spec rule 4 refuses tags (6).
            7 => match arg {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::Null,
                _ => return None,
            },
            _ => return None,
        })
    }
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

    use proptest::prelude::*;

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

    /// What `decode_value` answers through the one-pass reader must be what the general
    /// path answers: the same value, or (when the reader declines) the general path's own
    /// verdict, which only deterministic input deeper than STRICT_DEPTH could make `Ok`.
    fn same_as_general(bytes: &[u8]) -> Result<(), TestCaseError> {
        let general = general(bytes, "t");
        match strict(bytes) {
            Some(value) => prop_assert_eq!(general, Ok(value)),
            None => prop_assert!(general.is_err(), "declined {}", hex::encode(bytes)),
        }
        Ok(())
    }

    /// Values of the subset and outside it (floats, tags), nested a few deep; maps may
    /// repeat keys, and their raw encoding need not be sorted.
    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<u64>().prop_map(|n| Value::Integer(n.into())),
            any::<i64>().prop_map(|n| Value::Integer(n.into())),
            (0u64..30).prop_map(|n| Value::Integer(n.into())),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
            "[a-c]{0,3}|.{0,30}".prop_map(Value::Text),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
            Just(Value::Float(1.5)),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((inner.clone(), inner.clone()), 0..6)
                    .prop_map(Value::Map),
                (0u64..300, inner).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
            ]
        })
    }

    fn raw(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(value, &mut out).unwrap();
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn strict_agrees_with_the_general_path(
            value in any_value(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
            cut in any::<prop::sample::Index>(),
        ) {
            // Deterministic encodings are read in one pass, to the value they encode.
            if let Ok(bytes) = encode(&value) {
                prop_assert!(strict(&bytes).is_some(), "{}", hex::encode(&bytes));
                same_as_general(&bytes)?;
            }
            let mut bytes = raw(&value);
            same_as_general(&bytes)?;
            same_as_general(&bytes[..cut.index(bytes.len() + 1)])?;
            if !bytes.is_empty() {
                for (at, byte) in edits {
                    let at = at.index(bytes.len());
                    bytes[at] = byte;
                }
            }
            same_as_general(&bytes)?;
        }

        #[test]
        fn strict_agrees_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            same_as_general(&bytes)?;
        }
    }

    #[test]
    fn strict_declines_what_only_the_general_path_may_judge() {
        for input in [
            "a2616202616101",   // unsorted keys
            "a261611801616202", // 1 as 0x18 01
            "bf616101616202ff", // indefinite-length map
            "a2616101616102",   // duplicate key
            "a16161f93c00",     // a float
            "c100",             // a tag
            "f7",               // undefined
            "f818",             // simple value 24, a long head for nothing
            "a1616101",         // {"a": 1} is fine...
        ] {
            let bytes = hex::decode(input).unwrap();
            assert_eq!(strict(&bytes).is_some(), input == "a1616101", "{input}");
        }
        // Integers at the ends of both ranges read as the general path reads them.
        for input in [
            "1bffffffffffffffff",
            "3bffffffffffffffff",
            "3b8000000000000000",
            "37",
        ] {
            let bytes = hex::decode(input).unwrap();
            assert!(strict(&bytes).is_some(), "{input}");
            assert_eq!(strict(&bytes), general(&bytes, "t").ok(), "{input}");
        }
        // Nesting past STRICT_DEPTH goes the general way, which still accepts it.
        let deep = [vec![0x81; STRICT_DEPTH + 1], vec![0x00]].concat();
        assert!(strict(&deep).is_none());
        assert!(decode_value(&deep, "t").is_ok());
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
