//! Payload v2: every field round-trips; every limit and rule of spec § "Payload" is enforced.

use ghidanh_bundle::testkit::sample_payload;
use ghidanh_bundle::{
    DeviceId, Error, ExceptionReason, Finger, FingerCapture, FingerFormat, FingerPosition, Payload,
    MAX_IMAGE,
};

fn sample() -> Payload {
    sample_payload(DeviceId::new())
}

#[test]
fn every_field_round_trips() {
    let p = sample();
    let bytes = p.to_cbor().unwrap();
    let back = Payload::from_cbor(&bytes).unwrap();
    assert_eq!(back, p);
    assert_eq!(back.biometrics.fingers.len(), 10);
    assert_eq!(
        back.biometrics.fingers[9].capture,
        FingerCapture::Exception(ExceptionReason::Bandaged)
    );
    assert_eq!(back.reference_versions["communes"], "2025-07-01");
    assert_eq!(back.audit[1].action, "finalised");
    // Deterministic: the same payload always gives the same bytes.
    assert_eq!(back.to_cbor().unwrap(), bytes);
}

#[test]
fn other_exception_keeps_its_text() {
    let mut p = sample();
    p.biometrics.fingers[0].capture =
        FingerCapture::Exception(ExceptionReason::Other("sẹo bỏng".into()));
    let back = Payload::from_cbor(&p.to_cbor().unwrap()).unwrap();
    assert_eq!(
        back.biometrics.fingers[0].capture,
        FingerCapture::Exception(ExceptionReason::Other("sẹo bỏng".into()))
    );
}

#[test]
fn duplicate_finger_positions_are_refused() {
    let mut p = sample();
    p.biometrics.fingers[1].position = FingerPosition::RightThumb;
    let err = p.to_cbor().unwrap_err();
    assert_eq!(
        err,
        Error::Field {
            field: "fingers.position",
            rule: "duplicate position"
        }
    );
}

#[test]
fn more_than_ten_fingers_are_refused() {
    let mut p = sample();
    p.biometrics.fingers.push(Finger {
        position: FingerPosition::LeftLittle,
        capture: FingerCapture::Exception(ExceptionReason::Missing),
    });
    assert_eq!(
        p.to_cbor().unwrap_err(),
        Error::Field {
            field: "fingers",
            rule: "more than 10 entries"
        }
    );
}

#[test]
fn images_over_two_mib_and_quality_over_100_are_refused() {
    let mut p = sample();
    p.biometrics.fingers[0].capture = FingerCapture::Captured {
        format: FingerFormat::Png,
        image: vec![7; MAX_IMAGE + 1],
        quality: 50,
    };
    assert!(matches!(
        p.to_cbor(),
        Err(Error::Field {
            field: "fingers.captured.image",
            ..
        })
    ));
    let mut p = sample();
    if let Some(face) = p.biometrics.face.as_mut() {
        face.quality = 101;
    }
    assert!(matches!(
        p.to_cbor(),
        Err(Error::Field {
            field: "face.quality",
            ..
        })
    ));
    let mut p = sample();
    p.operator.name = "x".repeat(1025);
    assert!(matches!(
        p.to_cbor(),
        Err(Error::Field {
            field: "operator.name",
            ..
        })
    ));
}

#[test]
fn an_image_at_exactly_the_limit_is_accepted() {
    let mut p = sample();
    p.biometrics.fingers[0].capture = FingerCapture::Captured {
        format: FingerFormat::Iso19794_4,
        image: vec![7; MAX_IMAGE],
        quality: 100,
    };
    let back = Payload::from_cbor(&p.to_cbor().unwrap()).unwrap();
    assert_eq!(back, p);
}

/// Replaces the first occurrence of `from` with `to` (same length) in the encoded payload.
fn patch(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
    let mut out = bytes.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

#[test]
fn wrong_version_unknown_position_and_bad_reason_are_refused() {
    let bytes = sample().to_cbor().unwrap();
    // "v": 2 is the key 0x61 'v' followed by 0x02.
    let v1 = patch(&bytes, b"\x61v\x02", b"\x61v\x01");
    assert_eq!(Payload::from_cbor(&v1), Err(Error::UnsupportedVersion(1)));
    // position 1 → 11.
    let pos = patch(&bytes, b"\x68position\x01", b"\x68position\x0b");
    assert!(matches!(
        Payload::from_cbor(&pos),
        Err(Error::Field {
            field: "fingers.position",
            ..
        })
    ));
    let reason = patch(&bytes, b"bandaged", b"bandagee");
    assert!(matches!(
        Payload::from_cbor(&reason),
        Err(Error::Field {
            field: "exception",
            ..
        })
    ));
}

#[test]
fn truncations_and_appended_bytes_are_errors_not_panics() {
    let bytes = sample().to_cbor().unwrap();
    for n in 0..bytes.len() {
        assert!(Payload::from_cbor(&bytes[..n]).is_err(), "prefix {n}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(Payload::from_cbor(&longer), Err(Error::TrailingBytes(1)));
}

#[test]
fn a_record_with_a_key_left_out_is_not_deterministic() {
    use ciborium::Value;
    let bytes = sample().to_cbor().unwrap();
    let mut value: Value = ciborium::from_reader(bytes.as_slice()).unwrap();
    // Drop the record's "otherName" key: the record type would default it, giving another encoding.
    if let Value::Map(top) = &mut value {
        for (k, v) in top.iter_mut() {
            if k == &Value::Text("record".into()) {
                if let Value::Map(rec) = v {
                    rec.retain(|(k, _)| k != &Value::Text("otherName".into()));
                }
            }
        }
    }
    let mut shorter = Vec::new();
    ciborium::into_writer(&value, &mut shorter).unwrap();
    assert!(shorter.len() < bytes.len());
    assert_eq!(
        Payload::from_cbor(&shorter),
        Err(Error::NotDeterministic("record"))
    );
}

#[test]
fn a_missing_nullable_key_is_refused_not_read_as_null() {
    use ciborium::Value;
    let mut p = sample();
    p.biometrics.face = None;
    let bytes = p.to_cbor().unwrap();
    let mut value: Value = ciborium::from_reader(bytes.as_slice()).unwrap();
    // Remove "face": null from biometrics; the result is deterministic CBOR, but not a payload.
    if let Value::Map(top) = &mut value {
        for (k, v) in top.iter_mut() {
            if k == &Value::Text("biometrics".into()) {
                if let Value::Map(bio) = v {
                    bio.retain(|(k, _)| k != &Value::Text("face".into()));
                }
            }
        }
    }
    let mut shorter = Vec::new();
    ciborium::into_writer(&value, &mut shorter).unwrap();
    assert_eq!(shorter.len(), bytes.len() - 6); // 0x64 "face" 0xf6
    match Payload::from_cbor(&shorter) {
        Err(Error::Cbor { detail, .. }) => assert!(detail.contains("face"), "{detail}"),
        other => panic!("expected a missing-field error, got {other:?}"),
    }
}

#[test]
fn a_plaintext_over_the_payload_limit_is_refused_before_decoding() {
    use ghidanh_bundle::MAX_PAYLOAD;
    // One byte over: refused on its length alone, whatever the bytes.
    let over = vec![0u8; MAX_PAYLOAD + 1];
    assert!(matches!(
        Payload::from_cbor(&over),
        Err(Error::BodyTooLong { what: "payload", len, max }) if len == MAX_PAYLOAD + 1 && max == MAX_PAYLOAD
    ));
    // At the limit the length passes and the decoder speaks: 0x00 is CBOR 0, then trailing bytes.
    let at = vec![0u8; MAX_PAYLOAD];
    let err = Payload::from_cbor(&at).unwrap_err();
    assert!(!matches!(err, Error::BodyTooLong { .. }), "{err:?}");
}
