//! The kit's workflow on a real vault folder (no registry: uploads stay queued).

use ghidanh_bundle::testkit::young_child;
use std::time::Duration;

use ghidanh_bundle::{DeviceId, Envelope, Provisioning, RegistryKeys};
use ghidanh_kit::{
    EnrollmentInput, EnrollmentState, KdfParams, Kit, KitConfig, KitError, Lang, SessionState,
};
use ghidanh_sync::{Backoff, SyncConfig};

fn config(dir: &std::path::Path, provisioning: Option<std::path::PathBuf>) -> KitConfig {
    KitConfig {
        data_dir: dir.join("vault"),
        provisioning_file: provisioning,
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
        devices: Default::default(),
    }
}

// A child under 6: no biometrics are taken, so the kit seals without a capture (this test
// is about sync, not capture).
fn valid() -> EnrollmentInput {
    young_child("Nguyễn Văn An", 123456)
}

fn provisioning_file(dir: &std::path::Path, keys: &RegistryKeys) -> std::path::PathBuf {
    // Port 9 (discard) on loopback: nothing listens, uploads fail and stay queued.
    let p = Provisioning {
        registry_url: "http://127.0.0.1:9".into(),
        registry: keys.public().clone(),
        device_id: DeviceId::new(),
        token: zeroize::Zeroizing::new([3; 32]),
        issued_at: 0,
        label: "test".into(),
    };
    let path = dir.join("device.gdprov");
    std::fs::write(&path, p.sign(keys)).unwrap();
    path
}

#[test]
fn setup_then_lock_then_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let kit = Kit::new(config(dir.path(), None)).unwrap();
    assert_eq!(kit.status().unwrap().state, SessionState::NeedsSetup);
    let err = kit.create_operator("", "short", "other").unwrap_err();
    assert_eq!(err.code(), "invalidInput");
    let fields: Vec<String> = err
        .form_errors(Lang::Vi)
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["name", "passphrase", "passphraseConfirm"]);
    assert_eq!(kit.status().unwrap().state, SessionState::NeedsSetup);

    let st = kit
        .create_operator("Trần Văn Cảnh", "mật khẩu 123", "mật khẩu 123")
        .unwrap();
    assert_eq!(st.state, SessionState::Unlocked);
    assert_eq!(st.operator_name.as_deref(), Some("Trần Văn Cảnh"));
    assert!(matches!(
        kit.create_operator("x", "12345678", "12345678"),
        Err(KitError::AlreadySetUp)
    ));
    kit.set_language(Lang::En).unwrap();
    assert_eq!(kit.lock().unwrap().state, SessionState::Locked);
    assert!(matches!(kit.list(), Err(KitError::Locked)));

    let err = kit.unlock("sai mật khẩu").unwrap_err();
    assert_eq!(err.code(), "wrongPassphrase");
    assert_eq!(
        err.message(Lang::Vi),
        "Cụm mật khẩu không đúng. Vui lòng nhập lại."
    );
    assert_eq!(kit.status().unwrap().state, SessionState::Locked);

    // A new process (new Kit) finds the language chosen before.
    drop(kit);
    let kit = Kit::new(config(dir.path(), None)).unwrap();
    let st = kit.unlock("mật khẩu 123").unwrap();
    assert_eq!(st.language, Lang::En);
}

#[test]
fn drafts_save_while_invalid_and_finalise_only_when_valid() {
    let dir = tempfile::tempdir().unwrap();
    let keys = RegistryKeys::generate();
    let prov = provisioning_file(dir.path(), &keys);
    let kit = Kit::new(config(dir.path(), Some(prov))).unwrap();
    let st = kit
        .create_operator("Trần Văn Cảnh", "12345678", "12345678")
        .unwrap();
    assert!(st.device_id.is_some());
    assert_eq!(st.registry_url.as_deref(), Some("http://127.0.0.1:9"));

    let half = EnrollmentInput {
        birth_name: "Nguyễn Văn An".into(),
        ..Default::default()
    };
    let (id, errors) = kit.save_draft(None, &half).unwrap();
    assert_eq!(errors.len(), 3);
    let err = kit.finalise(id).unwrap_err();
    assert_eq!(err.code(), "invalidInput");
    assert_eq!(err.form_errors(Lang::En)[0].field, "dateOfBirth");
    // Nothing saved was lost.
    assert_eq!(kit.enrollment(id).unwrap().input, half);

    let (same, errors) = kit.save_draft(Some(id), &valid()).unwrap();
    assert_eq!(same, id);
    assert!(errors.is_empty());
    let sealed = kit.finalise(id).unwrap();
    assert!(matches!(
        sealed.state,
        EnrollmentState::Sealed | EnrollmentState::Uploading
    ));
    assert!(matches!(kit.finalise(id), Err(KitError::NotADraft)));
    assert!(matches!(
        kit.save_draft(Some(id), &half),
        Err(KitError::NotADraft)
    ));

    // The registry is down: after some retries the bundle is still there, waiting.
    std::thread::sleep(Duration::from_millis(500));
    let s = kit.enrollment(id).unwrap();
    assert!(matches!(
        s.state,
        EnrollmentState::Sealed | EnrollmentState::Uploading
    ));
    assert_eq!(s.receipt_id, None);

    // And what is queued opens, for the registry, to the normalised record.
    let bundle_id = s.bundle_id.unwrap();
    let vault_dir = dir.path().join("vault");
    drop(kit);
    let (vault, _) = ghidanh_vault::Vault::unlock(&vault_dir, "12345678").unwrap();
    let item = vault
        .due_uploads(i64::MAX)
        .unwrap()
        .into_iter()
        .find(|i| i.bundle_id == bundle_id)
        .unwrap();
    let payload = Envelope::parse(&item.bytes).unwrap().open(&keys).unwrap();
    assert_eq!(payload.record, valid());
    assert_eq!(payload.operator.name, "Trần Văn Cảnh");
    // It names every reference list this build validated against, with its version.
    let expected: std::collections::BTreeMap<String, String> =
        ghidanh_record::reference::versions()
            .iter()
            .map(|(name, version)| (name.to_owned(), version.to_owned()))
            .collect();
    assert_eq!(expected.len(), 6, "{expected:?}");
    assert_eq!(payload.reference_versions, expected);
}

#[test]
fn finalise_without_provisioning_is_refused_and_keeps_the_draft() {
    let dir = tempfile::tempdir().unwrap();
    let kit = Kit::new(config(dir.path(), None)).unwrap();
    kit.create_operator("Trần Văn Cảnh", "12345678", "12345678")
        .unwrap();
    let (id, _) = kit.save_draft(None, &valid()).unwrap();
    assert_eq!(kit.finalise(id).unwrap_err().code(), "notProvisioned");
    assert_eq!(kit.enrollment(id).unwrap().state, EnrollmentState::Draft);
}
