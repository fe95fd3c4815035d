//! Round trips and hostile input for every format of the crate.

use ghidanh_bundle::{
    seal, BundleId, DeviceId, DeviceKey, DeviceRegistration, Envelope, Error, Payload,
    Provisioning, Receipt, ReceiptId, RegistryKeys, RejectReason, Sha256, Verdict,
};
use rand::{Rng, SeedableRng};

fn payload(device_id: DeviceId) -> Payload {
    ghidanh_bundle::testkit::sample_payload(device_id)
}

struct Fixture {
    registry: RegistryKeys,
    device: DeviceKey,
    payload: Payload,
    bytes: Vec<u8>,
}

fn fixture() -> Fixture {
    let registry = RegistryKeys::generate();
    let device = DeviceKey::generate();
    let payload = payload(DeviceId::new());
    let bytes = seal(&payload, &device, registry.public(), 1_790_000_100).unwrap();
    Fixture {
        registry,
        device,
        payload,
        bytes,
    }
}

#[test]
fn sealed_bundle_opens_to_the_same_payload() {
    let f = fixture();
    let env = Envelope::parse(&f.bytes).unwrap();
    assert_eq!(env.header().bundle_id, f.payload.bundle_id);
    assert_eq!(env.header().device_id, f.payload.device_id);
    assert_eq!(env.header().device_key, f.device.public());
    assert_eq!(env.header().created_at, 1_790_000_100);
    assert_eq!(&env.header().recipient, f.registry.public().key_id());
    env.verify().unwrap();
    assert_eq!(env.open(&f.registry).unwrap(), f.payload);
}

#[test]
fn the_name_and_id_number_are_not_in_the_sent_bytes() {
    let f = fixture();
    let hay = String::from_utf8_lossy(&f.bytes);
    assert!(!hay.contains("Nguyễn"));
    assert!(!hay.contains("001090123456"));
    assert!(!f.bytes.windows(12).any(|w| w == "001090123456".as_bytes()));
}

#[test]
fn every_flipped_byte_is_caught() {
    let f = fixture();
    for i in 0..f.bytes.len() {
        let mut bad = f.bytes.clone();
        bad[i] ^= 0x01;
        let result = Envelope::parse(&bad).and_then(|e| e.open(&f.registry));
        assert!(
            result.is_err(),
            "flip at byte {i} of {} went unnoticed",
            f.bytes.len()
        );
    }
}

#[test]
fn a_flipped_ciphertext_byte_is_a_ciphertext_mismatch_and_a_flipped_signature_a_bad_signature() {
    let f = fixture();
    let mut bad = f.bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x80;
    assert_eq!(
        Envelope::parse(&bad).unwrap().verify(),
        Err(Error::CiphertextMismatch("BLAKE3"))
    );
    let env = Envelope::parse(&f.bytes).unwrap();
    let sig_at = f.bytes.len() - env.ciphertext().len() - 1;
    let mut bad = f.bytes.clone();
    bad[sig_at] ^= 0x01;
    assert_eq!(
        Envelope::parse(&bad).unwrap().verify(),
        Err(Error::BadSignature)
    );
}

#[test]
fn truncations_are_errors_not_panics() {
    let f = fixture();
    for n in 0..f.bytes.len() {
        let r = Envelope::parse(&f.bytes[..n]).and_then(|e| e.verify());
        assert!(r.is_err(), "prefix of {n} bytes accepted");
    }
}

#[test]
fn hostile_headers_are_refused_with_a_reason() {
    assert_eq!(Envelope::parse(b"").err(), Some(Error::Truncated("bundle")));
    assert_eq!(
        Envelope::parse(b"NOTABUNDLE123456").err(),
        Some(Error::BadMagic("bundle"))
    );
    let mut huge = b"GDBUNDL1".to_vec();
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        Envelope::parse(&huge).err(),
        Some(Error::BodyTooLong { .. })
    ));
    // A valid frame whose body is CBOR of the wrong shape.
    let mut junk = b"GDBUNDL1".to_vec();
    junk.extend_from_slice(&3u32.to_be_bytes());
    junk.extend_from_slice(&[0x83, 0x01, 0x02, 0x03]);
    junk.truncate(12 + 3);
    junk.extend_from_slice(&[0u8; 64]);
    assert!(matches!(
        Envelope::parse(&junk).err(),
        Some(Error::Cbor { .. })
    ));
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let f = fixture();
    for _ in 0..2000 {
        let len = rng.gen_range(0..400);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        if rng.gen_bool(0.5) && bytes.len() >= 12 {
            bytes[..8].copy_from_slice(b"GDBUNDL1");
        }
        assert!(Envelope::parse(&bytes)
            .and_then(|e| e.open(&f.registry))
            .is_err());
        assert!(Receipt::verify(&bytes, f.registry.public()).is_err());
        assert!(Provisioning::parse(&bytes).is_err());
        assert!(DeviceRegistration::verify(&bytes).is_err());
    }
}

#[test]
fn another_registry_cannot_open() {
    let f = fixture();
    let other = RegistryKeys::generate();
    assert!(matches!(
        Envelope::parse(&f.bytes).unwrap().open(&other),
        Err(Error::WrongRecipient { .. })
    ));
}

#[test]
fn registry_keys_survive_their_byte_form() {
    let keys = RegistryKeys::generate();
    let again = RegistryKeys::from_secret_bytes(&keys.secret_bytes()).unwrap();
    assert_eq!(again.public().key_id(), keys.public().key_id());
    assert!(keys.public().key_id().as_str().starts_with("rk1-"));
    let f = fixture();
    let restored = RegistryKeys::from_secret_bytes(&f.registry.secret_bytes()).unwrap();
    assert_eq!(
        Envelope::parse(&f.bytes).unwrap().open(&restored).unwrap(),
        f.payload
    );
}

fn receipt(verdict: Verdict, keys: &RegistryKeys) -> Receipt {
    Receipt {
        receipt_id: ReceiptId::new(),
        issued_at: 1_790_000_200,
        registry_key_id: keys.public().key_id().clone(),
        submission_sha256: Sha256::of(b"submitted"),
        bundle_id: Some(BundleId::new()),
        verdict,
    }
}

#[test]
fn receipts_round_trip_and_resist_tampering() {
    let keys = RegistryKeys::generate();
    for verdict in [
        Verdict::Accepted,
        Verdict::Duplicate {
            accepted_receipt_id: ReceiptId::new(),
        },
        Verdict::Rejected(RejectReason::BadSignature),
        Verdict::Rejected(RejectReason::InvalidRecord {
            field: "personalId".into(),
            rule: "notTwelveDigits".into(),
        }),
    ] {
        let r = receipt(verdict, &keys);
        let bytes = r.sign(&keys);
        assert_eq!(Receipt::verify(&bytes, keys.public()).unwrap(), r);
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x04;
            assert!(Receipt::verify(&bad, keys.public()).is_err(), "flip at {i}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            Receipt::verify(&longer, keys.public()),
            Err(Error::TrailingBytes(1))
        );
        let other = RegistryKeys::generate();
        assert_eq!(
            Receipt::verify(&bytes, other.public()),
            Err(Error::BadSignature)
        );
    }
}

#[test]
fn delivery_receipt_id_is_the_first_acceptance() {
    let keys = RegistryKeys::generate();
    let first = ReceiptId::new();
    let dup = receipt(
        Verdict::Duplicate {
            accepted_receipt_id: first,
        },
        &keys,
    );
    assert_eq!(dup.delivery_receipt_id(), Some(first));
    let acc = receipt(Verdict::Accepted, &keys);
    assert_eq!(acc.delivery_receipt_id(), Some(acc.receipt_id));
    let rej = receipt(Verdict::Rejected(RejectReason::UnknownDevice), &keys);
    assert_eq!(rej.delivery_receipt_id(), None);
}

#[test]
fn reject_reason_codes_round_trip() {
    for r in [
        RejectReason::Malformed,
        RejectReason::UnknownDevice,
        RejectReason::DeviceKeyMismatch,
        RejectReason::BadSignature,
        RejectReason::CiphertextMismatch,
        RejectReason::WrongRecipient,
        RejectReason::CannotOpen,
        RejectReason::BundleIdConflict,
        RejectReason::DeviceRevoked,
        RejectReason::InvalidRecord {
            field: "sex".into(),
            rule: "required".into(),
        },
        RejectReason::Other("future_reason".into()),
    ] {
        assert_eq!(RejectReason::parse(&r.code()), r);
    }
}

#[test]
fn provisioning_round_trips_and_is_signed() {
    let keys = RegistryKeys::generate();
    let p = Provisioning {
        registry_url: "http://127.0.0.1:8640".into(),
        registry: keys.public().clone(),
        device_id: DeviceId::new(),
        token: zeroize::Zeroizing::new([7u8; 32]),
        issued_at: 1_790_000_000,
        label: "Đội lưu động số 3".into(),
    };
    let bytes = p.sign(&keys);
    let back = Provisioning::parse(&bytes).unwrap();
    assert_eq!(back.registry_url, p.registry_url);
    assert_eq!(back.device_id, p.device_id);
    assert_eq!(*back.token, [7u8; 32]);
    assert_eq!(back.label, p.label);
    assert_eq!(back.registry.key_id(), keys.public().key_id());
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x10;
        assert!(Provisioning::parse(&bad).is_err(), "flip at {i}");
    }
}

#[test]
fn registration_is_signed_by_the_key_it_registers() {
    let device = DeviceKey::generate();
    let id = DeviceId::new();
    let bytes = DeviceRegistration::sign(id, &[9u8; 32], &device);
    let reg = DeviceRegistration::verify(&bytes).unwrap();
    assert_eq!(reg.device_id, id);
    assert_eq!(reg.device_key, device.public());
    assert_eq!(*reg.token, [9u8; 32]);
    let mut bad = bytes.clone();
    bad[20] ^= 1;
    assert!(DeviceRegistration::verify(&bad).is_err());
}

#[test]
fn debug_output_holds_no_secrets_or_personal_data() {
    let f = fixture();
    let dbg = format!("{:?} {:?} {:?}", f.device, f.registry, f.payload.bundle_id);
    assert!(!dbg.contains(&hex::encode(*f.device.secret_bytes())));
    let env = Envelope::parse(&f.bytes).unwrap();
    let hdr = format!("{:?}", env.header());
    assert!(!hdr.contains("Nguyễn"));
}

#[test]
fn device_revoked_has_a_stable_code_and_messages_in_both_languages() {
    let r = RejectReason::parse("device_revoked");
    assert_eq!(r, RejectReason::DeviceRevoked);
    assert_eq!(r.code(), "device_revoked");
    assert_eq!(
        r.message(ghidanh_record::Lang::Vi),
        "máy đã bị thu hồi; dữ liệu trên máy đã bị xóa"
    );
    assert_eq!(
        r.message(ghidanh_record::Lang::En),
        "this device was revoked; its data was wiped"
    );
}
