//! The vault against real SQLCipher files on disk.

mod common;

use std::path::Path;

use common::{all_files as all_bytes, contains};

use ghidanh_bundle::{
    BundleId, DeviceKey, Receipt, ReceiptId, RegistryKeys, RejectReason, Sha256, Verdict,
};
use ghidanh_record::EnrollmentInput;
use ghidanh_vault::{Approval, EnrollmentState, KdfParams, Vault, VaultError};

const NAME: &str = "Nguyễn Thị Thuỳ Dương";
const ID_NUMBER: &str = "079190123456";
const OPERATOR: &str = "Trần Văn Cảnh";
const PASS: &str = "mật khẩu dài 123";

fn input() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: NAME.into(),
        date_of_birth: "1990-04-30".into(),
        sex: "female".into(),
        personal_id: ID_NUMBER.into(),
        ..Default::default()
    }
}

/// Draft → Finalised → Approved, ready to seal.
fn approve(vault: &Vault, id: ghidanh_bundle::EnrollmentId) {
    vault.finalise(id).unwrap();
    vault.approve(id, Approval::NoReviewPolicy).unwrap();
}

fn create(dir: &Path) -> (Vault, ghidanh_vault::Operator) {
    Vault::create(dir, OPERATOR, PASS, KdfParams::insecure_fast_for_tests()).unwrap()
}

#[test]
fn no_plaintext_in_any_vault_file_including_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    vault.save_draft(Some(id), op.id, &input()).unwrap();
    vault.set_setting("language", "vi").unwrap();
    // Keep the connection open so the WAL still holds the latest pages when we scan.
    let files = all_bytes(dir.path());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"vault.db"), "{names:?}");
    assert!(
        names.contains(&"vault.db-wal"),
        "WAL should exist: {names:?}"
    );
    assert!(files.iter().map(|(_, b)| b.len()).sum::<usize>() > 4096);
    for (file, bytes) in &files {
        for needle in [
            NAME,
            ID_NUMBER,
            OPERATOR,
            "Dương",
            "1990-04-30",
            PASS,
            "SQLite format",
        ] {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{file} holds {needle:?} in plaintext"
            );
        }
    }
    drop(vault);
    for (file, bytes) in all_bytes(dir.path()) {
        assert!(
            !contains(&bytes, ID_NUMBER.as_bytes()),
            "{file} after close"
        );
    }
}

#[test]
fn the_scan_would_find_plaintext_in_an_unencrypted_database() {
    // Proves the scan above can fail: the same value in plain SQLite is found.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
    conn.execute("INSERT INTO t VALUES (?1)", [ID_NUMBER])
        .unwrap();
    drop(conn);
    assert!(contains(
        &std::fs::read(&path).unwrap(),
        ID_NUMBER.as_bytes()
    ));
}

#[test]
fn reopens_with_the_passphrase_and_refuses_a_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    drop(vault);
    assert!(matches!(
        Vault::unlock(dir.path(), "wrong passphrase"),
        Err(VaultError::WrongPassphrase)
    ));
    let (vault, again) = Vault::unlock(dir.path(), PASS).unwrap();
    assert_eq!(again, op);
    assert_eq!(vault.enrollment(id).unwrap().input, input());
    assert!(matches!(
        Vault::create(dir.path(), "x", "y", KdfParams::insecure_fast_for_tests()),
        Err(VaultError::AlreadyExists)
    ));
}

#[test]
fn a_sealed_enrollment_is_immutable_and_moves_through_its_states() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    let bundle_id = BundleId::new();
    approve(&vault, id);
    vault
        .seal(id, &input(), bundle_id, b"sealed bytes")
        .unwrap();
    assert!(matches!(
        vault.save_draft(Some(id), op.id, &EnrollmentInput::default()),
        Err(VaultError::WrongState { .. })
    ));
    assert!(matches!(
        vault.seal(id, &input(), BundleId::new(), b"again"),
        Err(VaultError::IllegalTransition {
            from: EnrollmentState::Sealed,
            to: EnrollmentState::Sealed
        })
    ));
    let due = vault.due_uploads(i64::MAX).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].bytes, b"sealed bytes");
    vault.mark_uploading(bundle_id).unwrap();
    assert_eq!(
        vault.enrollment(id).unwrap().state,
        EnrollmentState::Uploading
    );
    vault
        .upload_failed(bundle_id, 5_000, "connection refused")
        .unwrap();
    assert_eq!(vault.enrollment(id).unwrap().state, EnrollmentState::Sealed);
    assert!(vault.due_uploads(4_999).unwrap().is_empty());
    assert_eq!(vault.due_uploads(5_000).unwrap()[0].attempts, 1);
    assert_eq!(vault.next_attempt_at().unwrap(), Some(5_000));

    let keys = RegistryKeys::generate();
    let receipt = Receipt {
        receipt_id: ReceiptId::new(),
        issued_at: 1,
        registry_key_id: keys.public().key_id().clone(),
        submission_sha256: Sha256::of(b"sealed bytes"),
        bundle_id: Some(bundle_id),
        verdict: Verdict::Accepted,
    };
    vault
        .record_receipt(bundle_id, &receipt.sign(&keys), &receipt)
        .unwrap();
    let s = vault.enrollment(id).unwrap();
    assert_eq!(s.state, EnrollmentState::Accepted);
    assert_eq!(s.receipt_id, Some(receipt.receipt_id.to_string()));
    assert!(vault.due_uploads(i64::MAX).unwrap().is_empty());
    assert_eq!(vault.next_attempt_at().unwrap(), None);

    // A later, different receipt for the same bundle does not overwrite the first.
    let late = Receipt {
        verdict: Verdict::Rejected(RejectReason::Malformed),
        receipt_id: ReceiptId::new(),
        ..receipt.clone()
    };
    vault
        .record_receipt(bundle_id, &late.sign(&keys), &late)
        .unwrap();
    assert_eq!(
        vault.enrollment(id).unwrap().receipt_id,
        Some(receipt.receipt_id.to_string())
    );
}

#[test]
fn uploading_goes_back_to_sealed_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    let bundle_id = BundleId::new();
    approve(&vault, id);
    vault.seal(id, &input(), bundle_id, b"x").unwrap();
    vault.mark_uploading(bundle_id).unwrap();
    drop(vault);
    let (vault, _) = Vault::unlock(dir.path(), PASS).unwrap();
    assert_eq!(vault.enrollment(id).unwrap().state, EnrollmentState::Sealed);
}

#[test]
fn device_key_and_provisioning_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, _) = create(dir.path());
    assert!(vault.device().unwrap().is_none());
    let keys = RegistryKeys::generate();
    let prov = ghidanh_bundle::Provisioning {
        registry_url: "http://127.0.0.1:1".into(),
        registry: keys.public().clone(),
        device_id: ghidanh_bundle::DeviceId::new(),
        token: zeroize::Zeroizing::new([1; 32]),
        issued_at: 0,
        label: "demo".into(),
    };
    let key = DeviceKey::generate();
    vault.provision(&prov.sign(&keys), &key).unwrap();
    assert!(vault.provision(&prov.sign(&keys), &key).is_err());
    let before = vault.audit_verify().unwrap().entries;
    vault.mark_registered().unwrap();
    vault.mark_registered().unwrap();
    // The first confirmation is an audited event; a repeated one changes nothing.
    assert_eq!(vault.audit_verify().unwrap().entries, before + 1);
    let d = vault.device().unwrap().unwrap();
    assert_eq!(d.key.public(), key.public());
    assert_eq!(d.provisioning.device_id, prov.device_id);
    assert!(d.registered);
    assert!(matches!(
        vault.provision(b"garbage", &key),
        Err(VaultError::Provisioning(_))
    ));
}

#[test]
fn a_damaged_key_file_is_reported_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    drop(create(dir.path()));
    std::fs::write(dir.path().join("vault.keys"), b"{not json").unwrap();
    assert!(matches!(
        Vault::unlock(dir.path(), PASS),
        Err(VaultError::Corrupt(_))
    ));
}
