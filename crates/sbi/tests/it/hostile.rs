//! The capture parser against malformed and hostile answers: every one refused, naming why.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ghidanh_sbi::sim::device_key;
use ghidanh_sbi::{jws, parse_capture_response, parse_device_info, SbiError, MAX_RESPONSE};
use serde_json::{json, Value};
use sha2::Digest;

use crate::support::{finger, quick, start};

fn key() -> [u8; 32] {
    *device_key(1).verifying_key().as_bytes()
}

/// A real answer from the simulator, and its JWS payload.
async fn real() -> (Vec<u8>, Value) {
    let sim = start(quick()).await;
    let bytes = sim.raw_capture(&finger("tx-1", 2)).await;
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let data = v["biometrics"][0]["data"].as_str().unwrap();
    let payload = URL_SAFE_NO_PAD
        .decode(data.split('.').nth(1).unwrap())
        .unwrap();
    (bytes, serde_json::from_slice(&payload).unwrap())
}

/// The answer with its payload edited and signed again by the device's own key.
fn resigned(answer: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(answer).unwrap();
    let data = v["biometrics"][0]["data"].as_str().unwrap().to_owned();
    let mut payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(data.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    edit(&mut payload);
    v["biometrics"][0]["data"] = jws::sign(&device_key(1), payload.to_string().as_bytes()).into();
    v.to_string().into_bytes()
}

fn edited(answer: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(answer).unwrap();
    edit(&mut v);
    v.to_string().into_bytes()
}

fn field_of(r: Result<ghidanh_sbi::CapturedFinger, SbiError>) -> &'static str {
    match r {
        Err(SbiError::BadResponse { field, .. }) => field,
        other => panic!("expected BadResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn the_real_answer_parses_and_its_parts_are_checked() {
    let (answer, payload) = real().await;
    let req = finger("tx-1", 2);
    let got = parse_capture_response(&answer, &req, &key()).unwrap();
    assert_eq!(got.position, 2);
    assert_eq!(payload["bioSubType"], "Right IndexFinger");
    assert_eq!(payload["env"], "Developer");
    assert_eq!(payload["qualityScore"], got.device_quality.to_string());
    assert_eq!(URL_SAFE_NO_PAD.encode(&got.record), payload["bioValue"]);
}

#[tokio::test]
async fn malformed_json_and_wrong_types_name_the_field() {
    let (answer, _) = real().await;
    let req = finger("tx-1", 2);
    let k = key();
    for n in [0, 1, 10, answer.len() / 2, answer.len() - 1] {
        assert_eq!(
            field_of(parse_capture_response(&answer[..n], &req, &k)),
            "body",
            "cut at {n}"
        );
    }
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"[]".to_vec(), "body"),
        (b"{}".to_vec(), "biometrics"),
        (br#"{"biometrics":{}}"#.to_vec(), "biometrics"),
        (br#"{"biometrics":[]}"#.to_vec(), "biometrics"),
        (
            edited(&answer, |v| {
                let one = v["biometrics"][0].clone();
                v["biometrics"] = json!([one.clone(), one]);
            }),
            "biometrics",
        ),
        (br#"{"biometrics":[7]}"#.to_vec(), "biometrics[0]"),
        (
            edited(&answer, |v| v["biometrics"][0]["error"] = json!("0")),
            "biometrics[0].error",
        ),
        (
            edited(&answer, |v| v["biometrics"][0]["data"] = json!(42)),
            "biometrics[0].data",
        ),
        (
            edited(&answer, |v| v["biometrics"][0]["data"] = json!("a.b")),
            "biometrics[0].data",
        ),
        (
            edited(&answer, |v| v["biometrics"][0]["data"] = json!("%%.%%.%%")),
            "biometrics[0].data",
        ),
        (
            edited(&answer, |v| v["biometrics"][0]["hash"] = json!("00")),
            "biometrics[0].hash",
        ),
        (
            edited(&answer, |v| {
                v["biometrics"][0].as_object_mut().unwrap().remove("hash");
            }),
            "biometrics[0].hash",
        ),
        (
            resigned(&answer, |p| p["qualityScore"] = json!({"x": 1})),
            "qualityScore",
        ),
        (
            resigned(&answer, |p| p["qualityScore"] = json!("150")),
            "qualityScore",
        ),
        (
            resigned(&answer, |p| p["bioValue"] = json!("not base64!")),
            "bioValue",
        ),
        (
            resigned(&answer, |p| p["bioType"] = json!("Iris")),
            "bioType",
        ),
        (
            resigned(&answer, |p| p["purpose"] = json!("Auth")),
            "purpose",
        ),
        (
            resigned(&answer, |p| p["transactionId"] = json!(5)),
            "transactionId",
        ),
        (
            resigned(&answer, |p| {
                p.as_object_mut().unwrap().remove("deviceCode");
            }),
            "deviceCode",
        ),
        (
            resigned(&answer, |p| p["digitalId"] = json!("x")),
            "digitalId",
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            field_of(parse_capture_response(&bytes, &req, &k)),
            want,
            "{}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
        );
    }
}

#[tokio::test]
async fn a_bio_value_that_is_not_a_record_is_refused_with_the_records_reason() {
    let (answer, _) = real().await;
    let req = finger("tx-1", 2);
    // A valid signature and a hash that agrees, over bytes that are no ISO record.
    let junk = b"FIR\x00020\x00garbage".to_vec();
    let mut v: Value = serde_json::from_slice(&resigned(&answer, |p| {
        p["bioValue"] = json!(URL_SAFE_NO_PAD.encode(&junk));
    }))
    .unwrap();
    // The same MOSIP chain as the device: H(H("") || H(bioValue)), upper-case hex.
    let h = |b: &[u8]| hex::encode_upper(sha2::Sha256::digest(b));
    let sim_hash = h(format!("{}{}", h(b""), h(&junk)).as_bytes());
    v["biometrics"][0]["hash"] = json!(sim_hash);
    match parse_capture_response(v.to_string().as_bytes(), &req, &key()) {
        Err(SbiError::BadResponse {
            field: "bioValue",
            reason,
        }) => {
            assert!(reason.starts_with("finger record:"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tampering_another_key_and_another_capture_are_refused() {
    let (answer, _) = real().await;
    let req = finger("tx-1", 2);
    let k = key();
    // One flipped character of the signature.
    let tampered = edited(&answer, |v| {
        let data = v["biometrics"][0]["data"].as_str().unwrap().to_owned();
        let (head, sig) = data.rsplit_once('.').unwrap();
        let mut sig = sig.to_owned().into_bytes();
        sig[5] = if sig[5] == b'A' { b'B' } else { b'A' };
        v["biometrics"][0]["data"] = json!(format!("{head}.{}", String::from_utf8(sig).unwrap()));
    });
    assert!(matches!(
        parse_capture_response(&tampered, &req, &k),
        Err(SbiError::BadSignature)
    ));
    // The payload of another capture under this one's signature.
    let swapped_payload = edited(&answer, |v| {
        let data = v["biometrics"][0]["data"].as_str().unwrap().to_owned();
        let parts: Vec<&str> = data.split('.').collect();
        let other: Value = json!({"transactionId": "tx-2"});
        let p = URL_SAFE_NO_PAD.encode(other.to_string());
        v["biometrics"][0]["data"] = json!(format!("{}.{p}.{}", parts[0], parts[2]));
    });
    assert!(matches!(
        parse_capture_response(&swapped_payload, &req, &k),
        Err(SbiError::BadSignature)
    ));
    // Well signed by another device.
    let other = *device_key(2).verifying_key().as_bytes();
    assert!(matches!(
        parse_capture_response(&answer, &req, &other),
        Err(SbiError::WrongKey)
    ));
    // Validly signed, but for another transaction, or another finger.
    match parse_capture_response(&answer, &finger("tx-2", 2), &k) {
        Err(SbiError::Mismatch {
            field,
            expected,
            got,
        }) => {
            assert_eq!(
                (field, expected.as_str(), got.as_str()),
                ("transactionId", "tx-2", "tx-1")
            )
        }
        other => panic!("{other:?}"),
    }
    match parse_capture_response(&answer, &finger("tx-1", 7), &k) {
        Err(SbiError::Mismatch {
            field,
            expected,
            got,
        }) => assert_eq!(
            (field, expected.as_str(), got.as_str()),
            ("bioSubType", "Left IndexFinger", "Right IndexFinger")
        ),
        other => panic!("{other:?}"),
    }
    // The signed name says index finger, the record inside says thumb.
    let lying = resigned(&answer, |p| p["bioSubType"] = json!("Right Thumb"));
    match parse_capture_response(&lying, &finger("tx-1", 1), &k) {
        Err(SbiError::Mismatch { field, .. }) => assert_eq!(field, "bioValue.position"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn device_errors_become_their_sbi_errors() {
    let req = finger("tx-1", 2);
    let answer = |code: &str| {
        json!({"biometrics": [{"specVersion": "0.9.5", "data": "", "hash": "",
            "error": {"errorCode": code, "errorInfo": "x"}}]})
        .to_string()
    };
    let k = key();
    assert!(matches!(
        parse_capture_response(answer("101").as_bytes(), &req, &k),
        Err(SbiError::NoFinger)
    ));
    assert!(matches!(
        parse_capture_response(answer("502").as_bytes(), &req, &k),
        Err(SbiError::Timeout)
    ));
    assert!(matches!(
        parse_capture_response(answer("501").as_bytes(), &req, &k),
        Err(SbiError::Busy)
    ));
    match parse_capture_response(answer("105").as_bytes(), &req, &k) {
        Err(SbiError::Device { code, info }) => {
            assert_eq!((code.as_str(), info.as_str()), ("105", "x"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn huge_answers_are_refused_before_parsing() {
    let huge = vec![b' '; MAX_RESPONSE + 1];
    assert_eq!(
        field_of(parse_capture_response(&huge, &finger("t", 1), &key())),
        "body"
    );
    assert!(matches!(
        parse_device_info(&huge, None),
        Err(SbiError::BadResponse { field: "body", .. })
    ));
}

#[test]
fn device_info_that_is_malformed_names_the_field() {
    let k = device_key(1);
    let info = |descriptor: Value| {
        json!([{"deviceInfo": jws::sign(&k, descriptor.to_string().as_bytes()),
                "error": {"errorCode": "0", "errorInfo": "Success"}}])
        .to_string()
    };
    let digital = jws::sign(
        &k,
        json!({"serialNo": "1", "make": "M", "model": "X", "type": "Finger"})
            .to_string()
            .as_bytes(),
    );
    let good = json!({"deviceId": "1", "deviceStatus": "Ready", "deviceCode": "C",
        "purpose": "Registration", "digitalId": digital});
    let parsed = parse_device_info(info(good.clone()).as_bytes(), None).unwrap();
    assert_eq!(
        (parsed.make_model.as_str(), parsed.serial.as_str()),
        ("M X", "1")
    );
    let mut cases: Vec<(String, &str)> = vec![
        ("{".into(), "body"),
        ("{}".into(), "body"),
        ("[]".into(), "body"),
        ("[1]".into(), "deviceInfo"),
        (
            r#"[{"deviceInfo":"a.b.c","error":{"errorCode":"0"}}]"#.into(),
            "deviceInfo",
        ),
        (r#"[{"error":{"errorCode":"0"}}]"#.into(), "deviceInfo"),
    ];
    for (key, value, field) in [
        ("deviceStatus", json!("Sleeping"), "deviceStatus"),
        ("deviceStatus", json!(1), "deviceStatus"),
        ("purpose", json!("Auth"), "purpose"),
        ("deviceCode", json!(null), "deviceCode"),
        ("digitalId", json!("x.y.z"), "digitalId"),
    ] {
        let mut d = good.clone();
        d[key] = value;
        cases.push((info(d), field));
    }
    for (bytes, want) in cases {
        match parse_device_info(bytes.as_bytes(), None) {
            Err(SbiError::BadResponse { field, .. }) => assert_eq!(field, want, "{bytes}"),
            other => panic!("{bytes}: {other:?}"),
        }
    }
    // The digital id signed by another key than the device info.
    let mut d = good;
    d["digitalId"] = json!(jws::sign(&device_key(3), b"{}"));
    assert!(matches!(
        parse_device_info(info(d).as_bytes(), None),
        Err(SbiError::WrongKey)
    ));
}

#[test]
fn the_fuzz_seed_is_a_real_answer_the_fuzz_target_accepts() {
    // fuzz/fuzz_targets/sbi_capture.rs reads with exactly this request and key.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/seeds/sbi_capture/real_answer.json"
    );
    let bytes = std::fs::read(path).unwrap();
    let got = parse_capture_response(&bytes, &finger("fuzz-tx", 2), &key()).unwrap();
    assert_eq!(got.position, 2);
    assert!(got.device_quality > 60, "{}", got.device_quality);
}
