//! What an operator can do with a bundle the real registry (in-process, on loopback) refused:
//! read why, discard it, or start a corrected enrollment from it.
//!
//! The kit validates before it seals, so it never sends a record the registry would refuse.
//! To get real refusals the test seals two bundles itself into the vault (with the device's own
//! key, as the kit does) while the kit is locked: one whose ID number has 11 digits (the registry
//! answers `invalid_record:personalId/notTwelveDigits`) and one with a flipped byte
//! (`ciphertext_mismatch`). The kit's sync worker uploads them and stores the signed receipts.

use ghidanh_bundle::testkit::young_child;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ghidanh_bundle::{seal, AuditEntry, Biometrics, BundleId, OperatorRef, Payload};
use ghidanh_kit::{
    EnrollmentId, EnrollmentInput, EnrollmentState as S, KdfParams, Kit, KitConfig, KitError, Lang,
    Rejection,
};
use ghidanh_registry::{app, init, provision_device, Registry};
use ghidanh_sync::{Backoff, SyncConfig};
use ghidanh_vault::{Approval, Vault};

const PASS: &str = "mật khẩu 123";

fn config(dir: &Path, provisioning: std::path::PathBuf) -> KitConfig {
    KitConfig {
        data_dir: dir.join("kit"),
        provisioning_file: Some(provisioning),
        kdf: KdfParams::insecure_fast_for_tests(),
        sync: SyncConfig {
            backoff: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(300),
            },
            request_timeout: Duration::from_secs(5),
            idle_poll: Duration::from_millis(100),
            budget: ghidanh_sync::Budget::UNLIMITED,
        },
        idle_lock: Duration::ZERO,
        devices: Default::default(),
    }
}

// A child under 6: no biometrics are taken, so the kit seals without a capture (this test
// is about sync, not capture).
// An ID number of 12 digits keeps its last six; any other is kept as typed (refused).
fn person(name: &str, personal_id: &str) -> EnrollmentInput {
    match personal_id.get(6..).and_then(|s| s.parse().ok()) {
        Some(serial) if personal_id.len() == 12 => young_child(name, serial),
        _ => EnrollmentInput {
            personal_id: personal_id.into(),
            ..young_child(name, 0)
        },
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Seals `input` as the kit's finalise does, but without validating it, and queues it;
/// `tamper` flips the last byte of the sealed bundle.
fn seal_unchecked(
    vault: &Vault,
    operator: &ghidanh_kit::Operator,
    input: &EnrollmentInput,
    tamper: bool,
) -> EnrollmentId {
    let device = vault.device().unwrap().expect("provisioned");
    let id = vault.save_draft(None, operator.id, input).unwrap();
    vault.finalise(id).unwrap();
    vault.approve(id, Approval::NoReviewPolicy).unwrap();
    let now = now_secs();
    let payload = Payload {
        bundle_id: BundleId::new(),
        enrollment_id: id,
        device_id: device.provisioning.device_id,
        operator: OperatorRef {
            id: operator.id,
            name: operator.name.clone(),
        },
        captured_at: now,
        finalised_at: now,
        record: input.clone(),
        biometrics: Biometrics::default(),
        reference_versions: ghidanh_record::reference::versions()
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
        audit: vec![AuditEntry {
            at: now,
            action: "finalised".into(),
            operator_id: operator.id,
        }],
    };
    let mut bytes = seal(&payload, &device.key, &device.provisioning.registry, now).unwrap();
    if tamper {
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
    }
    vault.seal(id, input, payload.bundle_id, &bytes).unwrap();
    id
}

fn wait_state(kit: &Kit, id: EnrollmentId, state: S) {
    let start = Instant::now();
    loop {
        let now = kit
            .list()
            .unwrap()
            .into_iter()
            .find(|e| e.id == id)
            .unwrap()
            .state;
        if now == state {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{id}: still {now:?}, waiting for {state:?}"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn summary(kit: &Kit, id: EnrollmentId) -> ghidanh_kit::EnrollmentSummary {
    kit.list()
        .unwrap()
        .into_iter()
        .find(|e| e.id == id)
        .unwrap()
}

/// Audit entries in the vault, read with the kit locked (the vault opened on its own).
fn audit_entries(dir: &Path) -> i64 {
    let (vault, _) = Vault::unlock(&dir.join("kit"), PASS).unwrap();
    vault.audit_verify().expect("the audit chain verifies");
    let n = vault.report().unwrap().audit_entries;
    vault.lock().unwrap();
    n
}

#[test]
fn a_refused_record_is_explained_then_discarded_or_redone_as_a_new_draft() {
    let root = tempfile::tempdir().unwrap();
    let registry_dir = root.path().join("registry");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    init(&registry_dir).unwrap();
    let (_, prov) = provision_device(&registry_dir, &format!("http://{addr}"), "Đội 3").unwrap();
    let prov_path = root.path().join("device.gdprov");
    std::fs::write(&prov_path, prov).unwrap();
    let registry = Arc::new(Registry::open(&registry_dir).unwrap());
    rt.spawn(async move { axum::serve(listener, app(registry)).await.unwrap() });

    let kit = Kit::new(config(root.path(), prov_path)).unwrap();
    kit.create_operator("Trần Văn Cảnh", PASS, PASS).unwrap();
    // Accepted records keep their data across the sign-ins below.
    kit.set_retention_days("30").unwrap();
    // A valid record through the kit: accepted (and not rejected: nothing to discard).
    let (accepted, _) = kit
        .save_draft(None, &person("Nguyễn Thị Hoa", "036187004512"))
        .unwrap();
    kit.finalise(accepted).unwrap();
    wait_state(&kit, accepted, S::Accepted);
    kit.lock().unwrap();

    // Three bundles the registry will refuse, sealed past the kit's validation.
    let (vault, op) = Vault::unlock(&root.path().join("kit"), PASS).unwrap();
    let eleven = person("Hoàng Thị Lan", "03618700451");
    let to_discard = seal_unchecked(&vault, &op, &eleven, false);
    let to_redo = seal_unchecked(&vault, &op, &person("Lê Thị Mai", "03618700452"), false);
    let tampered = seal_unchecked(&vault, &op, &person("Phạm Thị Ngọc", "036187004513"), true);
    vault.lock().unwrap();

    kit.unlock(PASS).unwrap();
    for id in [to_discard, to_redo, tampered] {
        wait_state(&kit, id, S::Rejected);
    }

    // The row says why in words, and what can be done.
    let refused = summary(&kit, to_discard);
    assert_eq!(
        refused.reason.as_deref(),
        Some("invalid_record:personalId/notTwelveDigits")
    );
    let r = Rejection::of(&refused, Lang::Vi).unwrap();
    assert!(r.correctable && !r.discarded, "{r:?}");
    assert!(
        r.message
            .starts_with("Trung tâm từ chối: hồ sơ chưa đúng — Số định danh"),
        "{}",
        r.message
    );
    assert!(r.message.contains("12 chữ số"), "{}", r.message);
    let r = Rejection::of(&summary(&kit, tampered), Lang::En).unwrap();
    assert_eq!(r.code, "ciphertext_mismatch");
    assert!(!r.correctable, "{r:?}");
    assert!(
        r.advice.as_deref().unwrap().contains("technical support"),
        "{r:?}"
    );

    // Only a rejected enrollment can be discarded or redone; a refused one changes nothing.
    let (draft, _) = kit
        .save_draft(None, &person("Vũ Thị Oanh", "036187004514"))
        .unwrap();
    for id in [draft, accepted] {
        let e = kit.discard_rejected(id).unwrap_err();
        assert!(matches!(e, KitError::NotRejected), "{e:?}");
        assert_eq!(e.code(), "notRejected");
        assert!(e
            .message(Lang::Vi)
            .starts_with("Chỉ hồ sơ bị trung tâm từ chối"));
        assert!(matches!(kit.redo_rejected(id), Err(KitError::NotRejected)));
    }
    assert_eq!(summary(&kit, draft).state, S::Draft);
    assert_eq!(summary(&kit, accepted).state, S::Accepted);
    assert!(matches!(
        kit.discard_rejected(EnrollmentId::new()),
        Err(KitError::NotFound)
    ));
    // A refusal about the bundle's bytes is not corrected by editing the record.
    let e = kit.redo_rejected(tampered).unwrap_err();
    assert_eq!(e.code(), "notCorrectable");
    assert_eq!(summary(&kit, tampered).state, S::Rejected);

    // Discard: the personal data goes; the row, its bundle id and reason, the outbox row (and
    // its receipt) and the audit chain stay, with exactly one more entry.
    let bundle = summary(&kit, to_discard).bundle_id.unwrap();
    kit.lock().unwrap();
    let before = audit_entries(root.path());
    kit.unlock(PASS).unwrap();
    kit.discard_rejected(to_discard).unwrap();
    kit.lock().unwrap();
    let after = audit_entries(root.path());
    kit.unlock(PASS).unwrap();
    kit.lock().unwrap();
    let idle = audit_entries(root.path());
    // Each measure includes a lock and an unlock of the kit and of the vault alone; the
    // discard is the one entry the first cycle has and the second does not.
    assert_eq!(
        (after - before) - (idle - after),
        1,
        "{before} {after} {idle}"
    );

    let (vault, _) = Vault::unlock(&root.path().join("kit"), PASS).unwrap();
    let link = vault
        .outbox_links()
        .unwrap()
        .into_iter()
        .find(|l| l.bundle_id == bundle.to_string())
        .expect("the outbox row stays");
    assert!(link.enrollment_matches, "{link:?}");
    assert_eq!(
        vault.sealed_bundle(bundle).unwrap(),
        None,
        "bundle bytes purged"
    );
    vault.lock().unwrap();

    kit.unlock(PASS).unwrap();
    let gone = summary(&kit, to_discard);
    assert_eq!(gone.state, S::Purged);
    assert_eq!(gone.input, EnrollmentInput::default());
    assert_eq!(gone.bundle_id, Some(bundle));
    assert_eq!(
        gone.reason.as_deref(),
        Some("invalid_record:personalId/notTwelveDigits")
    );
    let r = Rejection::of(&gone, Lang::Vi).unwrap();
    assert!(r.discarded && !r.correctable && r.advice.is_none(), "{r:?}");
    assert!(r.message.contains("(personalId: notTwelveDigits)"), "{r:?}");
    // Twice: the second is refused.
    assert!(matches!(
        kit.discard_rejected(to_discard),
        Err(KitError::NotRejected)
    ));

    // Redo: a new draft with the record as sealed, the rejected one discarded.
    let sealed_input = kit.enrollment(to_redo).unwrap().input;
    let new = kit.redo_rejected(to_redo).unwrap();
    assert_ne!(new, to_redo);
    let d = kit.enrollment(new).unwrap();
    assert_eq!((d.state, d.bundle_id), (S::Draft, None));
    assert_eq!(d.input, sealed_input);
    let old = summary(&kit, to_redo);
    assert_eq!(old.state, S::Purged);
    assert_eq!(old.input, EnrollmentInput::default());
    assert!(matches!(
        kit.redo_rejected(to_redo),
        Err(KitError::NotRejected)
    ));
    // The kit shows the problem on the new draft; corrected, the registry accepts it.
    let mut fixed = d.input.clone();
    let (_, problems) = kit.save_draft(Some(new), &fixed).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    fixed.personal_id = young_child("Lê Thị Mai", 4520).personal_id;
    let (_, problems) = kit.save_draft(Some(new), &fixed).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    kit.finalise(new).unwrap();
    wait_state(&kit, new, S::Accepted);

    // The tampered one can still be discarded.
    kit.discard_rejected(tampered).unwrap();
    assert_eq!(summary(&kit, tampered).state, S::Purged);
    // The panel counts them as discarded, not as delivered.
    let s = kit.sync_status().unwrap();
    assert_eq!((s.delivered, s.rejected, s.discarded), (2, 0, 3), "{s:?}");
    rt.shutdown_background();
}
