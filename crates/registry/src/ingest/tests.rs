//! Every verdict of `ingest`, without HTTP.

use std::sync::Arc;

use ghidanh_bundle::{
    seal, DeviceId, DeviceKey, Envelope, Receipt, RegistryKeys, RejectReason, Sha256, Verdict,
};

use crate::test_support::{payload, Fixture};

/// Submits `bytes`, checks the receipt's signature, returns it.
fn submit(f: &Fixture, bytes: &[u8]) -> Receipt {
    let submission = f.registry.ingest(bytes).unwrap();
    let verified = Receipt::verify(&submission.bytes, f.registry.public_keys()).unwrap();
    assert_eq!(verified, submission.receipt);
    assert_eq!(verified.submission_sha256, Sha256::of(bytes));
    verified
}

fn rejected(f: &Fixture, bytes: &[u8]) -> String {
    match submit(f, bytes).verdict {
        Verdict::Rejected(reason) => reason.code(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn count(f: &Fixture, table: &str) -> i64 {
    f.registry.store().count(table)
}

#[test]
fn a_good_bundle_is_accepted_and_stored_with_its_blob() {
    let f = Fixture::new();
    let p = f.payload();
    let bytes = f.seal(&p);
    let r = submit(&f, &bytes);
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(r.bundle_id, Some(p.bundle_id));
    assert_eq!(&r.registry_key_id, f.registry.key_id());
    assert_eq!(count(&f, "bundles"), 1);
    assert_eq!(count(&f, "enrollments"), 1);
    assert_eq!(count(&f, "rejections"), 0);
    assert_eq!(
        std::fs::read(f.registry.dir().blob(p.bundle_id)).unwrap(),
        bytes
    );
    assert_eq!(
        f.registry.accepted_receipt(p.bundle_id).unwrap(),
        Some(r.receipt_id)
    );
}

#[test]
fn the_same_bytes_again_are_a_duplicate_of_the_first_receipt() {
    let f = Fixture::new();
    let bytes = f.seal(&f.payload());
    let first = submit(&f, &bytes);
    let again = submit(&f, &bytes);
    assert_eq!(
        again.verdict,
        Verdict::Duplicate {
            accepted_receipt_id: first.receipt_id
        }
    );
    assert_ne!(again.receipt_id, first.receipt_id);
    assert_eq!(again.delivery_receipt_id(), Some(first.receipt_id));
    assert_eq!(count(&f, "bundles"), 1);
    assert_eq!(count(&f, "enrollments"), 1);
    assert_eq!(count(&f, "rejections"), 0);
}

#[test]
fn the_same_bundle_id_with_other_bytes_is_a_conflict() {
    let f = Fixture::new();
    let p = f.payload();
    submit(&f, &f.seal(&p));
    // Sealing again draws a fresh HPKE key: same ids, other bytes.
    assert_eq!(rejected(&f, &f.seal(&p)), "bundle_id_conflict");
    assert_eq!(count(&f, "enrollments"), 1);
}

#[test]
fn the_same_enrollment_under_another_bundle_id_is_refused() {
    let f = Fixture::new();
    let p = f.payload();
    submit(&f, &f.seal(&p));
    let mut q = p.clone();
    q.bundle_id = ghidanh_bundle::BundleId::new();
    assert_eq!(rejected(&f, &f.seal(&q)), "enrollment_id_conflict");
    assert_eq!(count(&f, "enrollments"), 1);
}

#[test]
fn tampering_is_caught_where_it_happened() {
    let f = Fixture::new();
    let bytes = f.seal(&f.payload());
    let env = Envelope::parse(&bytes).unwrap();
    let ct_at = bytes.len() - env.ciphertext().len();
    let body_end = ct_at - 64;
    let hash = env.header().ciphertext_blake3.0;
    let hash_at = bytes.windows(32).position(|w| w == hash).unwrap();
    drop(env);
    let flip = |i: usize| {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        b
    };
    // A byte inside ct_blake3 decodes fine; the signature fails.
    assert_eq!(rejected(&f, &flip(hash_at + 31)), "bad_signature");
    // Keys sort by their encoding, so the header ends inside device_key: not the registered
    // key, or (for about half of all keys) not a curve point at all.
    let code = rejected(&f, &flip(body_end - 1));
    assert!(
        code == "device_key_mismatch" || code == "malformed",
        "{code}"
    );
    assert_eq!(rejected(&f, &flip(body_end + 10)), "bad_signature");
    assert_eq!(rejected(&f, &flip(ct_at + 5)), "ciphertext_mismatch");
    assert_eq!(rejected(&f, &flip(bytes.len() - 1)), "ciphertext_mismatch");
    // Every other flip is refused for some reason, never accepted.
    for i in (0..bytes.len()).step_by(7) {
        assert!(
            matches!(submit(&f, &flip(i)).verdict, Verdict::Rejected(_)),
            "flip at {i}"
        );
    }
    assert_eq!(count(&f, "bundles"), 0);
    // The untouched bundle is still accepted afterwards.
    assert_eq!(submit(&f, &bytes).verdict, Verdict::Accepted);
}

#[test]
fn a_device_that_is_unknown_or_not_yet_registered_is_refused() {
    let f = Fixture::new();
    let stranger = DeviceKey::generate();
    let p = payload(DeviceId::new());
    let bytes = seal(&p, &stranger, f.registry.public_keys(), 1).unwrap();
    let r = submit(&f, &bytes);
    assert_eq!(r.verdict, Verdict::Rejected(RejectReason::UnknownDevice));
    assert_eq!(r.bundle_id, Some(p.bundle_id));

    // Provisioned but never registered: not active, so still unknown.
    let (device_id, _) = crate::provision_device(f.registry.dir().root(), "http://x", "t").unwrap();
    let bytes = seal(&payload(device_id), &stranger, f.registry.public_keys(), 1).unwrap();
    assert_eq!(rejected(&f, &bytes), "unknown_device");
}

#[test]
fn another_key_for_a_registered_device_is_a_mismatch() {
    let f = Fixture::new();
    let bytes = seal(
        &f.payload(),
        &DeviceKey::generate(),
        f.registry.public_keys(),
        1,
    )
    .unwrap();
    assert_eq!(rejected(&f, &bytes), "device_key_mismatch");
}

#[test]
fn a_bundle_sealed_to_another_registry_is_a_wrong_recipient() {
    let f = Fixture::new();
    let other = RegistryKeys::generate();
    let bytes = seal(&f.payload(), &f.device, other.public(), 1).unwrap();
    assert_eq!(rejected(&f, &bytes), "wrong_recipient");
}

#[test]
fn an_invalid_record_is_refused_with_its_first_broken_rule() {
    let f = Fixture::new();
    let mut p = f.payload();
    p.record.personal_id = "12345".into();
    assert_eq!(
        rejected(&f, &f.seal(&p)),
        "invalid_record:personalId/notTwelveDigits"
    );
    let mut p = f.payload();
    p.record.date_of_birth = "2999-01-01".into();
    p.record.birth_name = String::new();
    assert_eq!(
        rejected(&f, &f.seal(&p)),
        "invalid_record:birthName/required"
    );
    assert_eq!(count(&f, "enrollments"), 0);
    assert!(!f.registry.dir().blob(p.bundle_id).exists());
}

#[test]
fn a_child_under_six_with_biometrics_is_refused_and_without_them_accepted() {
    let f = Fixture::new();
    // Born 2024 (century/sex digit 3: female, 2000s): under 6 on any day this test runs
    // before 2030, so no portrait and no finger may travel.
    let child = |p: &mut ghidanh_bundle::Payload| {
        p.record.birth_name = "Lê Thị Hoa".into();
        p.record.date_of_birth = "2024-03-01".into();
        p.record.sex = "female".into();
        p.record.personal_id = "079324000001".into();
        p.record.representative.name = "Lê Văn Bình".into();
        p.record.representative.relationship = "Cha".into();
    };
    let mut p = f.payload();
    child(&mut p);
    assert!(p.biometrics.face.is_some(), "the sample carries a face");
    assert_eq!(
        rejected(&f, &f.seal(&p)),
        "invalid_record:biometrics.face/biometricsUnderSix"
    );
    p.biometrics.face = None;
    assert_eq!(
        rejected(&f, &f.seal(&p)),
        "invalid_record:biometrics.fingers/biometricsUnderSix"
    );
    assert_eq!(count(&f, "enrollments"), 0);
    let mut p = f.payload();
    child(&mut p);
    p.biometrics = ghidanh_bundle::Biometrics::default();
    assert_eq!(submit(&f, &f.seal(&p)).verdict, Verdict::Accepted);
    assert_eq!(count(&f, "enrollments"), 1);
}

#[test]
fn an_adult_without_a_portrait_or_with_fingers_unaccounted_for_is_refused() {
    let f = Fixture::new();
    let mut p = f.payload();
    p.biometrics.face = None;
    assert_eq!(
        rejected(&f, &f.seal(&p)),
        "invalid_record:biometrics.face/required"
    );
    let mut p = f.payload();
    p.biometrics.fingers.pop();
    assert_eq!(
        rejected(&f, &f.seal(&p)),
        "invalid_record:biometrics.fingers/fingersIncomplete"
    );
    assert_eq!(count(&f, "enrollments"), 0);
    // Nine prints and one exception account for all ten.
    assert_eq!(submit(&f, &f.seal(&f.payload())).verdict, Verdict::Accepted);
}

#[test]
fn a_bundle_sealed_at_five_without_biometrics_is_accepted_after_the_sixth_birthday() {
    let f = Fixture::new();
    let now = time::OffsetDateTime::now_utc();
    // Six years and ten days old today; five when the kit finalised, thirty days ago.
    let born = now
        .date()
        .replace_year(now.year() - 6)
        .unwrap_or(now.date())
        - time::Duration::days(10);
    let mut p = f.payload();
    p.record.birth_name = "Lê Thị Hoa".into();
    p.record.date_of_birth = born.to_string();
    p.record.sex = "female".into();
    p.record.personal_id = format!("0793{:02}000001", born.year() % 100);
    p.record.representative.name = "Lê Văn Bình".into();
    p.record.representative.relationship = "Cha".into();
    p.biometrics = ghidanh_bundle::Biometrics::default();
    p.finalised_at = (now - time::Duration::days(30)).unix_timestamp() as u64;
    assert_eq!(submit(&f, &f.seal(&p)).verdict, Verdict::Accepted);
}

#[test]
fn a_biometric_that_claims_to_be_an_iso_record_must_read_as_one() {
    use ghidanh_biometrics::finger::iso19794_4::{CaptureTime, FingerImageRecord};
    use ghidanh_bundle::{FaceFormat, FingerCapture, FingerFormat};
    let f = Fixture::new();
    let mut p = f.payload();
    if let Some(face) = p.biometrics.face.as_mut() {
        face.format = FaceFormat::Iso19794_5;
    }
    assert_eq!(
        rejected(&f, &f.seal(&p)),
        "invalid_record:biometrics.face/notIsoRecord"
    );
    // A well-formed record of the left thumb in the right thumb's entry.
    let left_thumb = FingerImageRecord {
        position: 6,
        quality: 70,
        captured_at: CaptureTime {
            year: 2026,
            month: 12,
            day: 3,
            ..CaptureTime::default()
        },
        width: 1,
        height: 1,
        png: vec![0x89, b'P', b'N', b'G'],
    }
    .encode();
    let entry = |image: Vec<u8>| FingerCapture::Captured {
        format: FingerFormat::Iso19794_4,
        image,
        quality: 70,
    };
    let mut p = f.payload();
    p.biometrics.fingers[0].capture = entry(left_thumb.clone());
    assert_eq!(
        rejected(&f, &f.seal(&p)),
        "invalid_record:biometrics.fingers/notIsoRecord"
    );
    p.biometrics.fingers[0].capture = entry(left_thumb[..20].to_vec());
    assert_eq!(
        rejected(&f, &f.seal(&p)),
        "invalid_record:biometrics.fingers/notIsoRecord"
    );
    let mut p = f.payload();
    p.biometrics.fingers[5].capture = entry(left_thumb);
    assert_eq!(submit(&f, &f.seal(&p)).verdict, Verdict::Accepted);
}

#[test]
fn hostile_bytes_are_malformed_with_no_bundle_id() {
    let f = Fixture::new();
    let mut huge = b"GDBUNDL1".to_vec();
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    huge.extend_from_slice(&[0u8; 100]);
    let mut rng = rand::rngs::OsRng;
    let random: Vec<u8> = (0..500).map(|_| rand::Rng::gen::<u8>(&mut rng)).collect();
    for bytes in [&b""[..], b"GDBUNDL1", &huge, &random] {
        let r = submit(&f, bytes);
        assert_eq!(r.verdict, Verdict::Rejected(RejectReason::Malformed));
        assert_eq!(r.bundle_id, None);
    }
    assert_eq!(count(&f, "rejections"), 4);
}

#[test]
fn every_rejection_is_logged_with_its_reason() {
    let f = Fixture::new();
    rejected(&f, b"junk");
    let bytes = seal(
        &f.payload(),
        &DeviceKey::generate(),
        f.registry.public_keys(),
        1,
    )
    .unwrap();
    rejected(&f, &bytes);
    assert_eq!(
        f.registry.store().rejection_reasons(),
        vec!["malformed", "device_key_mismatch"]
    );
}

#[test]
fn racing_identical_submissions_store_one_enrollment() {
    let f = Arc::new(Fixture::new());
    let bytes = Arc::new(f.seal(&f.payload()));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (f, bytes) = (Arc::clone(&f), Arc::clone(&bytes));
            std::thread::spawn(move || f.registry.ingest(&bytes).unwrap().receipt.verdict)
        })
        .collect();
    let verdicts: Vec<Verdict> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let accepted = verdicts.iter().filter(|v| **v == Verdict::Accepted).count();
    let duplicates = verdicts
        .iter()
        .filter(|v| matches!(v, Verdict::Duplicate { .. }))
        .count();
    assert_eq!((accepted, duplicates), (1, 3));
    assert_eq!(count(&f, "enrollments"), 1);
}

#[test]
fn after_rotation_old_bundles_open_and_new_devices_get_the_new_key() {
    use crate::{init, provision_device, rotate_key, Registry};
    use ghidanh_bundle::{DeviceRegistration, Provisioning};

    let dir = tempfile::tempdir().unwrap();
    let old = init(dir.path()).unwrap();
    let (device_id, prov) = provision_device(dir.path(), "http://127.0.0.1:1", "old").unwrap();
    let prov = Provisioning::parse(&prov).unwrap();
    assert_eq!(prov.registry.key_id(), old.key_id());

    let new = rotate_key(dir.path()).unwrap();
    assert_ne!(new.key_id(), old.key_id());
    let (_, prov2) = provision_device(dir.path(), "http://127.0.0.1:1", "new").unwrap();
    assert_eq!(
        Provisioning::parse(&prov2).unwrap().registry.key_id(),
        new.key_id()
    );

    let registry = Registry::open(dir.path()).unwrap();
    assert_eq!(registry.key_id(), new.key_id());
    let device = DeviceKey::generate();
    registry
        .register_device(&DeviceRegistration::sign(device_id, &prov.token, &device))
        .unwrap();
    // A kit provisioned before the rotation seals to the old key ...
    let bytes = seal(&payload(device_id), &device, &prov.registry, 1_790_000_100).unwrap();
    let submission = registry.ingest(&bytes).unwrap();
    // ... and can verify the receipt with the only registry key it knows.
    let receipt = Receipt::verify(&submission.bytes, &prov.registry).unwrap();
    assert_eq!(receipt.verdict, Verdict::Accepted);
    assert_eq!(&receipt.registry_key_id, old.key_id());
}

#[test]
fn a_revoked_device_gets_a_signed_device_revoked_and_nothing_is_stored() {
    let f = Fixture::new();
    let bytes = f.seal(&f.payload());
    let revoked =
        crate::revoke_device(f.registry.dir().root(), f.device_id, Some("mất máy")).unwrap();
    assert!(revoked.newly);
    let r = submit(&f, &bytes);
    assert_eq!(r.verdict, Verdict::Rejected(RejectReason::DeviceRevoked));
    assert_eq!(
        r.bundle_id,
        Some(Envelope::parse(&bytes).unwrap().header().bundle_id)
    );
    assert_eq!(count(&f, "bundles"), 0);
    assert_eq!(count(&f, "enrollments"), 0);
    assert_eq!(f.registry.store().rejection_reasons(), ["device_revoked"]);

    // Only the holder of the device key hears it: a stranger's key or a broken signature
    // gets the usual refusal.
    let stranger = seal(
        &f.payload(),
        &DeviceKey::generate(),
        f.registry.public_keys(),
        1,
    )
    .unwrap();
    assert_eq!(rejected(&f, &stranger), "device_key_mismatch");
    let env = Envelope::parse(&bytes).unwrap();
    let hash = env.header().ciphertext_blake3.0;
    let hash_at = bytes.windows(32).position(|w| w == hash).unwrap();
    drop(env);
    let mut flipped = bytes.clone();
    flipped[hash_at + 31] ^= 0x01;
    assert_eq!(rejected(&f, &flipped), "bad_signature");

    // Revoking again changes nothing; an unknown device is an error.
    let again = crate::revoke_device(f.registry.dir().root(), f.device_id, None).unwrap();
    assert_eq!((again.newly, again.revoked_at), (false, revoked.revoked_at));
    assert_eq!(again.reason.as_deref(), Some("mất máy"));
    assert!(matches!(
        crate::revoke_device(f.registry.dir().root(), DeviceId::new(), None),
        Err(crate::RegistryError::UnknownDevice(_))
    ));
}

#[test]
fn a_device_revoked_before_it_registered_is_refused_with_a_signed_device_revoked() {
    use ghidanh_bundle::{DeviceRegistration, Provisioning};
    let f = Fixture::new();
    let root = f.registry.dir().root().to_owned();
    let (device_id, prov) = crate::provision_device(&root, "http://x", "t").unwrap();
    let prov = Provisioning::parse(&prov).unwrap();
    crate::revoke_device(&root, device_id, None).unwrap();
    let key = DeviceKey::generate();

    // A wrong token learns nothing.
    let wrong = DeviceRegistration::sign(device_id, &zeroize::Zeroizing::new([7u8; 32]), &key);
    assert!(matches!(
        f.registry.register_device(&wrong),
        Err(crate::RegisterError::InvalidToken)
    ));
    // The right one gets a refusal signed by the registry, about these very bytes.
    let reg = DeviceRegistration::sign(device_id, &prov.token, &key);
    let Err(crate::RegisterError::DeviceRevoked(refusal)) = f.registry.register_device(&reg) else {
        panic!("a revoked device registered");
    };
    let verified = Receipt::verify(&refusal.bytes, f.registry.public_keys()).unwrap();
    assert_eq!(
        verified.verdict,
        Verdict::Rejected(RejectReason::DeviceRevoked)
    );
    assert_eq!(verified.submission_sha256, Sha256::of(&reg));
    assert_eq!(verified.bundle_id, None);

    // Its bundles, signed by its own key (none was registered), are refused the same way.
    let bytes = seal(&payload(device_id), &key, f.registry.public_keys(), 1).unwrap();
    assert_eq!(rejected(&f, &bytes), "device_revoked");
}

#[test]
fn racing_submissions_store_each_bundle_once() {
    let f = Fixture::new();
    let same = f.seal(&f.payload());
    let others: Vec<Vec<u8>> = (0..6).map(|_| f.seal(&f.payload())).collect();
    // One enrollment under two bundle ids: a kit bug, at most one may be stored.
    let mut twin_a = f.payload();
    twin_a.record.personal_id = "001090100042".into();
    let mut twin_b = twin_a.clone();
    twin_b.bundle_id = ghidanh_bundle::BundleId::new();
    let twins = [f.seal(&twin_a), f.seal(&twin_b)];
    let submit = |bytes: &[u8]| f.registry.ingest(bytes).unwrap().receipt.verdict;
    let verdicts = std::thread::scope(|s| {
        let same: Vec<_> = (0..6).map(|_| s.spawn(|| submit(&same))).collect();
        let others: Vec<_> = others.iter().map(|b| s.spawn(|| submit(b))).collect();
        let twins: Vec<_> = twins.iter().map(|b| s.spawn(|| submit(b))).collect();
        let join = |v: Vec<std::thread::ScopedJoinHandle<'_, Verdict>>| -> Vec<Verdict> {
            v.into_iter().map(|h| h.join().unwrap()).collect()
        };
        (join(same), join(others), join(twins))
    });
    let (same, others, twins) = verdicts;
    let accepted = same.iter().filter(|v| **v == Verdict::Accepted).count();
    let duplicates = same
        .iter()
        .filter(|v| matches!(v, Verdict::Duplicate { .. }))
        .count();
    assert_eq!((accepted, duplicates), (1, 5), "{same:?}");
    assert!(others.iter().all(|v| *v == Verdict::Accepted), "{others:?}");
    let twin_accepted = twins.iter().filter(|v| **v == Verdict::Accepted).count();
    assert_eq!(twin_accepted, 1, "{twins:?}");
    assert!(twins.iter().any(|v| matches!(
        v,
        Verdict::Rejected(RejectReason::Other(code)) if code == "enrollment_id_conflict"
    )));
    assert_eq!(count(&f, "bundles"), 1 + 6 + 1);
    assert_eq!(count(&f, "enrollments"), 1 + 6 + 1);
    // The disk holds the stored bundles' blobs and nothing else (no temp files).
    let blobs = std::fs::read_dir(f.registry.dir().blobs())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
        .count();
    assert_eq!(blobs, 8);
}
