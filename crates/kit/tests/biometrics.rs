//! Capture into a draft and into the sealed bundle: a real photograph (scikit-image's, from
//! `make test-images`) for the portrait, the simulated SBI scanner over loopback for the
//! fingers, the real vault, and the bundle opened again with the registry's key.

use std::time::Duration;

use ghidanh_biometrics::face::FaceRecord;
use ghidanh_biometrics::finger::iso19794_4::FingerImageRecord;
use ghidanh_bundle::testkit::young_child;
use ghidanh_bundle::{
    DeviceId, Envelope, ExceptionReason, FaceFormat, FingerCapture, FingerFormat, Provisioning,
    RegistryKeys,
};
use ghidanh_kit::{
    DeviceConfig, EnrollmentInput, FingerEntry, KdfParams, Kit, KitConfig, KitError, Lang,
};
use ghidanh_sbi::sim::{SimConfig, SimQuality, SimStep};
use ghidanh_sync::{Backoff, SyncConfig};

struct Setup {
    kit: Kit,
    keys: RegistryKeys,
    dir: tempfile::TempDir,
    _sim: tokio::runtime::Runtime,
}

/// A kit provisioned for a registry that is never there (bundles stay queued), with the
/// simulated scanner following `script`.
fn setup(script: Vec<SimStep>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let keys = RegistryKeys::generate();
    let p = Provisioning {
        registry_url: "http://127.0.0.1:9".into(),
        registry: keys.public().clone(),
        device_id: DeviceId::new(),
        token: zeroize::Zeroizing::new([3; 32]),
        issued_at: 0,
        label: "test".into(),
    };
    let prov = dir.path().join("device.gdprov");
    std::fs::write(&prov, p.sign(&keys)).unwrap();
    let sim = tokio::runtime::Runtime::new().unwrap();
    let listener = sim
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = SimConfig {
        script,
        capture_delay: Duration::from_millis(10),
        no_finger_wait: Duration::from_millis(50),
        ..SimConfig::default()
    };
    sim.spawn(ghidanh_sbi::sim::serve(listener, config));
    let kit = Kit::new(KitConfig {
        data_dir: dir.path().join("vault"),
        provisioning_file: Some(prov),
        kdf: KdfParams::insecure_fast_for_tests(),
        sync: SyncConfig {
            backoff: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(200),
            },
            request_timeout: Duration::from_secs(2),
            idle_poll: Duration::from_millis(200),
            budget: ghidanh_sync::Budget::UNLIMITED,
        },
        idle_lock: Duration::ZERO,
        devices: DeviceConfig {
            scanner_ports: port..=port,
            camera: None,
        },
    })
    .unwrap();
    kit.create_operator("Trần Văn Cảnh", "12345678", "12345678")
        .unwrap();
    Setup {
        kit,
        keys,
        dir,
        _sim: sim,
    }
}

fn adult() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: "Nguyễn Văn An".into(),
        date_of_birth: "1990-05-17".into(),
        sex: "male".into(),
        personal_id: "001090123456".into(),
        ..Default::default()
    }
}

fn portrait() -> Vec<u8> {
    ghidanh_biometrics::testing::plain_backdrop_jpeg().unwrap_or_else(|e| panic!("{e}"))
}

fn rules(e: &KitError) -> Vec<(String, String)> {
    e.form_errors(Lang::En)
        .into_iter()
        .map(|f| (f.field, f.rule))
        .collect()
}

#[test]
fn portrait_and_ten_fingers_travel_as_iso_records_in_the_sealed_bundle() {
    let s = setup(vec![
        SimStep::Capture(SimQuality::Good),
        // The retry of the right thumb is worse: the first print stays.
        SimStep::Capture(SimQuality::Poor),
    ]);
    let kit = &s.kit;
    let (id, _) = kit.save_draft(None, &adult()).unwrap();
    let sheet = kit.biometrics(id).unwrap();
    assert_eq!(sheet.face, None);
    assert!(sheet.fingers.iter().all(|(_, e)| e.is_none()));

    // Nothing captured: finalising names both missing parts, nothing is sealed.
    let err = kit.finalise(id).unwrap_err();
    assert_eq!(
        rules(&err),
        [
            ("biometrics.face".to_owned(), "required".to_owned()),
            (
                "biometrics.fingers".to_owned(),
                "fingersIncomplete".to_owned()
            ),
        ]
    );
    let vi: Vec<String> = err
        .form_errors(Lang::Vi)
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert!(
        vi[1].contains("phải đủ 10 ngón") && vi[1].contains("mới có 0"),
        "{vi:?}"
    );

    // A photograph without a person is refused with the reason; one with is kept.
    let brick = std::fs::read(ghidanh_biometrics::testing::images_dir().join("brick.png")).unwrap();
    match kit.take_portrait(id, &brick) {
        Err(KitError::PortraitRefused(check)) => {
            assert_eq!(check.issues[0].code(), "noFace");
        }
        other => panic!("brick.png: {other:?}"),
    }
    assert_eq!(kit.biometrics(id).unwrap().face, None);
    let score = kit.take_portrait(id, &portrait()).unwrap();
    assert!(score >= 80, "portrait score {score}");
    assert_eq!(kit.biometrics(id).unwrap().face, Some(score));
    let token = kit.portrait_jpeg(id).unwrap().unwrap();
    assert_eq!(&token[..2], &[0xff, 0xd8], "a JPEG");

    // Garbage is refused by rule, naming it; nothing kept is lost.
    let err = kit.take_portrait(id, b"not a photo").unwrap_err();
    assert_eq!(err.code(), "captureRefused");
    assert!(err.message(Lang::Vi).contains("không phải là ảnh"));
    assert_eq!(kit.biometrics(id).unwrap().face, Some(score));

    let scanner = kit.find_scanner().unwrap().expect("the simulator is found");
    assert_eq!(scanner.status, "ready");
    let first = kit.capture_finger(id, 1).unwrap();
    assert!(first.kept && first.quality.score >= 60, "{first:?}");
    let retry = kit.capture_finger(id, 1).unwrap();
    assert!(
        !retry.kept,
        "a worse retry replaced the better print: {retry:?}"
    );
    assert!(retry.quality.score < first.quality.score);
    assert_eq!(retry.best, first.quality.score);
    for position in 2..=9 {
        assert!(kit.capture_finger(id, position).unwrap().kept);
    }
    let sheet = kit.except_finger(id, 10, "bandaged", "").unwrap();
    assert_eq!(
        sheet.fingers[9].1,
        Some(FingerEntry::Excepted(ExceptionReason::Bandaged))
    );
    assert_eq!(
        sheet.fingers[0].1,
        Some(FingerEntry::Captured {
            quality: first.quality.score
        })
    );
    // "Other" needs the operator's words.
    assert_eq!(
        kit.except_finger(id, 10, "other", "  ").unwrap_err().code(),
        "captureRefused"
    );

    let sealed = kit.finalise(id).unwrap();
    let bundle_id = sealed.bundle_id.unwrap();
    drop(s.kit);
    let (vault, _) = ghidanh_vault::Vault::unlock(&s.dir.path().join("vault"), "12345678").unwrap();
    let item = vault
        .due_uploads(i64::MAX)
        .unwrap()
        .into_iter()
        .find(|i| i.bundle_id == bundle_id)
        .unwrap();
    let payload = Envelope::parse(&item.bytes).unwrap().open(&s.keys).unwrap();
    let face = payload.biometrics.face.expect("the portrait is sealed");
    assert_eq!(face.format, FaceFormat::Iso19794_5);
    let record = FaceRecord::parse(&face.image).unwrap();
    assert_eq!(record.jpeg, token);
    assert_eq!((face.width, face.height, face.quality), (360, 480, score));
    assert_eq!(payload.biometrics.fingers.len(), 10);
    for finger in &payload.biometrics.fingers {
        match &finger.capture {
            FingerCapture::Captured {
                format,
                image,
                quality,
            } => {
                assert_eq!(*format, FingerFormat::Iso19794_4);
                let r = FingerImageRecord::parse(image).unwrap();
                assert_eq!(r.position, finger.position.code());
                assert_eq!(r.quality, *quality);
            }
            FingerCapture::Exception(reason) => {
                assert_eq!(finger.position.code(), 10);
                assert_eq!(*reason, ExceptionReason::Bandaged);
            }
        }
    }
    let thumb = &payload.biometrics.fingers[0];
    assert!(
        matches!(thumb.capture, FingerCapture::Captured { quality, .. } if quality == first.quality.score)
    );
}

#[test]
fn nothing_is_taken_from_a_child_under_six_and_the_child_seals_without() {
    let s = setup(Vec::new());
    // Before the date of birth is typed the kit cannot tell: a finger is recorded.
    let child = young_child("Lê Thị Hoa", 1);
    let undated = EnrollmentInput {
        date_of_birth: String::new(),
        ..child.clone()
    };
    let (id, _) = s.kit.save_draft(None, &undated).unwrap();
    assert_eq!(s.kit.biometrics(id).unwrap().requirement, None);
    s.kit.except_finger(id, 1, "missing", "").unwrap();
    s.kit.save_draft(Some(id), &child).unwrap();
    let sheet = s.kit.biometrics(id).unwrap();
    assert_eq!(
        sheet.requirement,
        Some(ghidanh_kit::BiometricRequirement::None)
    );
    let under_six = |field: &str| vec![(field.to_owned(), "biometricsUnderSix".to_owned())];
    let err = s.kit.take_portrait(id, &portrait()).unwrap_err();
    assert_eq!(rules(&err), under_six("biometrics.face"));
    for err in [
        s.kit.capture_finger(id, 1).unwrap_err(),
        s.kit.except_finger(id, 2, "missing", "").unwrap_err(),
    ] {
        assert_eq!(rules(&err), under_six("biometrics.fingers"));
    }
    // Finalising drops what was recorded before the date said "under 6", and seals none.
    let bundle_id = s.kit.finalise(id).unwrap().bundle_id.unwrap();
    drop(s.kit);
    let (vault, _) = ghidanh_vault::Vault::unlock(&s.dir.path().join("vault"), "12345678").unwrap();
    assert!(vault.all_media(id).unwrap().is_empty());
    let item = vault
        .due_uploads(i64::MAX)
        .unwrap()
        .into_iter()
        .find(|i| i.bundle_id == bundle_id)
        .unwrap();
    let payload = Envelope::parse(&item.bytes).unwrap().open(&s.keys).unwrap();
    assert_eq!(payload.biometrics, ghidanh_bundle::Biometrics::default());
}

#[test]
fn a_scanner_that_fails_like_a_device_gives_the_operator_a_reason_and_keeps_nothing() {
    let s = setup(vec![SimStep::NoFinger, SimStep::Busy, SimStep::Unplugged]);
    let (id, _) = s.kit.save_draft(None, &adult()).unwrap();
    for (code, words) in [
        ("scanner", "Không thấy ngón tay"),
        ("scanner", "đang bận"),
        ("scanner", "ngắt kết nối"),
    ] {
        let err = s.kit.capture_finger(id, 2).unwrap_err();
        assert_eq!(err.code(), code);
        let vi = err.message(Lang::Vi);
        assert!(vi.contains(words), "{vi:?} lacks {words:?}");
    }
    assert!(s.kit.biometrics(id).unwrap().fingers[1].1.is_none());
    // Unplugged and gone: nothing answers any more.
    assert_eq!(s.kit.capture_finger(id, 2).unwrap_err().code(), "noScanner");
}
