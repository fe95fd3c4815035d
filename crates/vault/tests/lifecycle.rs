//! The life of an enrollment in the vault: every move, the refused ones, images, retention,
//! remote wipe and what each leaves in the audit log.

use std::path::Path;

use ghidanh_bundle::{
    BundleId, EnrollmentId, Receipt, ReceiptId, RegistryKeys, RejectReason, Sha256, Verdict,
};
use ghidanh_record::EnrollmentInput;
use ghidanh_vault::{
    Approval, EnrollmentState as S, FingerPosition, KdfParams, MediaKind, Operator, Vault,
    VaultError,
};

const NAME: &str = "Phạm Thị Hồng Nhung";
const PASS: &str = "mật khẩu dài 123";
/// A marker inside the fake images, to find them in files if they leaked.
const IMAGE_MARK: &[u8] = b"JFIF-portrait-of-Pham-Thi-Hong-Nhung";

fn input() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: NAME.into(),
        date_of_birth: "1992-09-02".into(),
        personal_id: "001192004321".into(),
        ..Default::default()
    }
}

fn create(dir: &Path) -> (Vault, Operator) {
    Vault::create(
        dir,
        "Trần Văn Cảnh",
        PASS,
        KdfParams::insecure_fast_for_tests(),
    )
    .unwrap()
}

fn image(n: u8) -> Vec<u8> {
    let mut b = IMAGE_MARK.to_vec();
    b.extend(std::iter::repeat_n(n, 20_000));
    b
}

/// A draft moved to Sealed, with its bundle.
fn sealed(vault: &Vault, op: &Operator) -> (EnrollmentId, BundleId) {
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    vault.finalise(id).unwrap();
    vault.approve(id, Approval::NoReviewPolicy).unwrap();
    let b = BundleId::new();
    vault.seal(id, &input(), b, b"sealed bytes").unwrap();
    (id, b)
}

fn receipt(keys: &RegistryKeys, b: BundleId, verdict: Verdict) -> (Receipt, Vec<u8>) {
    let r = Receipt {
        receipt_id: ReceiptId::new(),
        issued_at: 1,
        registry_key_id: keys.public().key_id().clone(),
        submission_sha256: Sha256::of(b"sealed bytes"),
        bundle_id: Some(b),
        verdict,
    };
    let bytes = r.sign(keys);
    (r, bytes)
}

fn illegal(r: Result<(), VaultError>, from: S, to: S) {
    match r {
        Err(VaultError::IllegalTransition { from: f, to: t }) => {
            assert_eq!((f, t), (from, to))
        }
        other => panic!("expected {from} → {to} refused, got {other:?}"),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_whole_life_draft_to_purged_with_one_audit_entry_per_move() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let keys = RegistryKeys::generate();
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    vault.finalise(id).unwrap();
    assert_eq!(vault.list().unwrap()[0].state, S::Finalised);
    vault.send_back(id, "ảnh mờ, chụp lại").unwrap();
    let e = vault.list().unwrap().remove(0);
    assert_eq!(e.state, S::Draft);
    assert_eq!(e.review_comment.as_deref(), Some("ảnh mờ, chụp lại"));
    // Sent back, it is editable again.
    vault.save_draft(Some(id), op.id, &input()).unwrap();
    vault.finalise(id).unwrap();
    vault.approve(id, Approval::Supervisor).unwrap();
    let b = BundleId::new();
    vault.seal(id, &input(), b, b"sealed bytes").unwrap();
    vault.mark_uploading(b).unwrap();
    vault.record_custody(b, b"custody receipt").unwrap();
    // The relay carries it on: not due for upload any more.
    assert!(vault.due_uploads(i64::MAX).unwrap().is_empty());
    assert_eq!(vault.next_attempt_at().unwrap(), None);
    let (r, bytes) = receipt(&keys, b, Verdict::Accepted);
    vault.record_receipt(b, &bytes, &r).unwrap();
    let e = vault.list().unwrap().remove(0);
    assert_eq!(e.state, S::Accepted);
    assert_eq!(e.receipt_id, Some(r.receipt_id.to_string()));
    assert_eq!(vault.purge_due(i64::MAX).unwrap(), 1);
    let e = vault.list().unwrap().remove(0);
    assert_eq!(e.state, S::Purged);
    assert_eq!(e.receipt_id, Some(r.receipt_id.to_string()));
    assert_eq!(e.bundle_id, Some(b));

    let report = vault.report().unwrap();
    assert!(report.by_state.contains(&("purged", 1)));
    assert_eq!(vault.audit_verify().unwrap().entries, report.audit_entries);
    drop(vault);
    // Every move is on the chain, in order, and the chain verifies after a reopen.
    let (vault, _) = Vault::unlock(dir.path(), PASS).unwrap();
    vault.audit_verify().unwrap();
    let r = vault.report().unwrap();
    // created, draft, finalised, sent_back, draft, finalised, approved, sealed,
    // upload_attempted, custody_stored, receipt_stored, listed (once), purged, unlocked.
    assert_eq!(r.audit_entries, 14);
}

#[test]
fn illegal_moves_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let keys = RegistryKeys::generate();
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    illegal(
        vault.approve(id, Approval::NoReviewPolicy),
        S::Draft,
        S::Approved,
    );
    illegal(
        vault.seal(id, &input(), BundleId::new(), b"x"),
        S::Draft,
        S::Sealed,
    );
    illegal(vault.send_back(id, "?"), S::Draft, S::Draft);
    vault.finalise(id).unwrap();
    illegal(vault.finalise(id), S::Finalised, S::Finalised);
    illegal(
        vault.seal(id, &input(), BundleId::new(), b"x"),
        S::Finalised,
        S::Sealed,
    );
    // A finalised record is what was attested: no autosave over it.
    assert!(matches!(
        vault.save_draft(Some(id), op.id, &EnrollmentInput::default()),
        Err(VaultError::WrongState { .. })
    ));
    vault.approve(id, Approval::NoReviewPolicy).unwrap();
    illegal(vault.send_back(id, "?"), S::Approved, S::Draft);
    let b = BundleId::new();
    vault.seal(id, &input(), b, b"sealed bytes").unwrap();
    // Nothing was left behind by the refused seals: one bundle, one outbox row.
    assert_eq!(vault.outbox_links().unwrap().len(), 1);
    illegal(vault.discard_rejected(id), S::Sealed, S::Purged);
    let (r, bytes) = receipt(&keys, b, Verdict::Accepted);
    vault.record_receipt(b, &bytes, &r).unwrap();
    illegal(vault.record_custody(b, b"late"), S::Accepted, S::Custody);
    illegal(vault.mark_uploading(b), S::Accepted, S::Uploading);
    // The sweep, not the operator, purges accepted records.
    illegal(vault.discard_rejected(id), S::Accepted, S::Purged);
    assert_eq!(vault.list().unwrap()[0].state, S::Accepted);
    assert!(matches!(
        vault.finalise(EnrollmentId::new()),
        Err(VaultError::NotFound(_))
    ));
    vault.audit_verify().unwrap();
}

#[test]
fn the_table_of_moves_is_the_life_diagram_of_docs_enrollment_life() {
    let allowed: Vec<(S, S)> = S::ALL
        .iter()
        .flat_map(|&a| S::ALL.iter().map(move |&b| (a, b)))
        .filter(|(a, b)| a.can_become(*b))
        .collect();
    // Exactly the arrows of the diagram in docs/enrollment-life.md.
    let diagram = [
        (S::Draft, S::Finalised),
        (S::Finalised, S::Draft),
        (S::Finalised, S::Approved),
        (S::Approved, S::Sealed),
        (S::Sealed, S::Uploading),
        (S::Sealed, S::Custody),
        (S::Sealed, S::Accepted),
        (S::Sealed, S::Rejected),
        (S::Uploading, S::Sealed),
        (S::Uploading, S::Custody),
        (S::Uploading, S::Accepted),
        (S::Uploading, S::Rejected),
        (S::Custody, S::Sealed),
        (S::Custody, S::Accepted),
        (S::Custody, S::Rejected),
        (S::Accepted, S::Purged),
        (S::Rejected, S::Purged),
    ];
    assert_eq!(allowed, diagram);
}

#[test]
fn approval_by_supervisor_and_by_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let a = vault.save_draft(None, op.id, &input()).unwrap();
    let b = vault.save_draft(None, op.id, &input()).unwrap();
    vault.finalise(a).unwrap();
    vault.finalise(b).unwrap();
    // The creator of the vault is its supervisor.
    vault.approve(a, Approval::Supervisor).unwrap();
    vault.approve(b, Approval::NoReviewPolicy).unwrap();
    for e in vault.list().unwrap() {
        assert_eq!(e.state, S::Approved);
    }
}

#[test]
fn a_custody_receipt_is_kept_once_and_a_rejected_bundle_waits_for_an_operator() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let keys = RegistryKeys::generate();
    let (id, b) = sealed(&vault, &op);
    vault.record_custody(b, b"custody one").unwrap();
    // A second custody receipt changes nothing.
    vault.record_custody(b, b"custody two").unwrap();
    assert_eq!(vault.list().unwrap()[0].state, S::Custody);
    let (r, bytes) = receipt(&keys, b, Verdict::Rejected(RejectReason::Malformed));
    vault.record_receipt(b, &bytes, &r).unwrap();
    let e = vault.list().unwrap().remove(0);
    assert_eq!(e.state, S::Rejected);
    assert!(e.reason.is_some());
    // The sweep leaves rejected ones alone, however old.
    assert_eq!(vault.purge_due(i64::MAX).unwrap(), 0);
    assert_eq!(vault.enrollment(id).unwrap().input, input());
    vault.discard_rejected(id).unwrap();
    let e = vault.enrollment(id).unwrap();
    assert_eq!(e.state, S::Purged);
    assert_eq!(e.input, EnrollmentInput::default());
    assert_eq!(e.reason, Some(RejectReason::Malformed.code().to_owned()));
    assert_eq!(vault.sealed_bundle(b).unwrap(), None);
    assert!(matches!(
        vault.record_custody(BundleId::new(), b"?"),
        Err(VaultError::NotFound(_))
    ));
}

#[test]
fn images_are_stored_replaced_read_and_kept_only_while_a_draft() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    let thumb = MediaKind::Finger(FingerPosition::new(1).unwrap());
    let index = MediaKind::Finger(FingerPosition::new(2).unwrap());
    assert_eq!(vault.media(id, MediaKind::Portrait).unwrap(), None);
    vault
        .store_media(id, MediaKind::Portrait, "jpeg", &image(1))
        .unwrap();
    vault.store_media(id, thumb, "wsq", &image(2)).unwrap();
    vault.store_media(id, index, "wsq", &image(3)).unwrap();
    // Same kind and position: replaced, not added.
    vault
        .store_media(id, MediaKind::Portrait, "png", &image(4))
        .unwrap();
    assert_eq!(
        vault.media(id, MediaKind::Portrait).unwrap(),
        Some(("png".to_owned(), image(4)))
    );
    assert_eq!(
        vault.media(id, thumb).unwrap(),
        Some(("wsq".to_owned(), image(2)))
    );
    assert_eq!(
        vault.media(id, index).unwrap(),
        Some(("wsq".to_owned(), image(3)))
    );
    let little = MediaKind::Finger(FingerPosition::new(10).unwrap());
    assert_eq!(vault.media(id, little).unwrap(), None);
    vault.finalise(id).unwrap();
    assert!(matches!(
        vault.store_media(id, MediaKind::Portrait, "jpeg", &image(5)),
        Err(VaultError::WrongState { .. })
    ));
    assert_eq!(
        vault.media(id, MediaKind::Portrait).unwrap().unwrap().1,
        image(4)
    );
}

#[test]
fn finger_positions_are_those_of_iso_19794_4_single_fingers() {
    assert!(FingerPosition::new(0).is_none());
    assert!(FingerPosition::new(11).is_none());
    assert!(FingerPosition::new(255).is_none());
    for n in 1..=10 {
        assert_eq!(FingerPosition::new(n).unwrap().get(), n);
    }
}

#[test]
fn images_are_not_in_plaintext_in_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    vault
        .store_media(id, MediaKind::Portrait, "jpeg", &image(7))
        .unwrap();
    // While open, the newest pages are in the WAL: scan it too.
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        scanned += bytes.len();
        assert!(!contains(&bytes, IMAGE_MARK), "{path:?} holds the image");
        assert!(
            !contains(&bytes, NAME.as_bytes()),
            "{path:?} holds the name"
        );
    }
    assert!(
        scanned > 20_000,
        "the image went somewhere: {scanned} bytes"
    );
}

#[test]
fn reads_and_exports_are_audited_and_the_list_once_per_session() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let (id, b) = sealed(&vault, &op);
    let entries = || vault.report().unwrap().audit_entries;
    let before = entries();
    vault.list().unwrap();
    assert_eq!(
        entries(),
        before + 1,
        "the session's first look at the list"
    );
    vault.list().unwrap();
    assert_eq!(
        entries(),
        before + 1,
        "the list is polled: once per session"
    );
    vault.enrollment(id).unwrap();
    assert_eq!(entries(), before + 2);
    assert_eq!(vault.sealed_bundle(b).unwrap().unwrap(), b"sealed bytes");
    assert_eq!(entries(), before + 3);
    vault.audit_verify().unwrap();
}

#[test]
fn retention_waits_the_configured_days_after_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let keys = RegistryKeys::generate();
    assert_eq!(vault.retention_days().unwrap(), 0);
    vault.set_retention_days(30).unwrap();
    assert_eq!(vault.retention_days().unwrap(), 30);
    let (id, b) = sealed(&vault, &op);
    vault
        .store_media(id, MediaKind::Portrait, "jpeg", &image(1))
        .unwrap_err(); // sealed: no more images (checked here only as a guard)
    let (r, bytes) = receipt(&keys, b, Verdict::Accepted);
    let t0 = now_ms();
    vault.record_receipt(b, &bytes, &r).unwrap();
    let t1 = now_ms();
    let day = 24 * 60 * 60 * 1000;
    // Before the period ends, nothing goes.
    assert_eq!(vault.purge_due(t0 + 29 * day).unwrap(), 0);
    assert_eq!(vault.enrollment(id).unwrap().state, S::Accepted);
    assert_eq!(vault.purge_due(t1 + 30 * day).unwrap(), 1);
    let e = vault.enrollment(id).unwrap();
    assert_eq!(e.state, S::Purged);
    assert_eq!(e.input, EnrollmentInput::default());
    assert_eq!(e.receipt_id, Some(r.receipt_id.to_string()));
    assert_eq!(vault.sealed_bundle(b).unwrap(), None);
    // A second sweep finds nothing; the audit chain still verifies.
    assert_eq!(vault.purge_due(i64::MAX).unwrap(), 0);
    vault.audit_verify().unwrap();
}

#[test]
fn purge_removes_the_images() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let keys = RegistryKeys::generate();
    let id = vault.save_draft(None, op.id, &input()).unwrap();
    vault
        .store_media(id, MediaKind::Portrait, "jpeg", &image(1))
        .unwrap();
    vault.finalise(id).unwrap();
    vault.approve(id, Approval::NoReviewPolicy).unwrap();
    let b = BundleId::new();
    vault.seal(id, &input(), b, b"sealed bytes").unwrap();
    let (r, bytes) = receipt(&keys, b, Verdict::Accepted);
    vault.record_receipt(b, &bytes, &r).unwrap();
    assert!(vault.media(id, MediaKind::Portrait).unwrap().is_some());
    assert_eq!(vault.purge_due(i64::MAX).unwrap(), 1);
    assert_eq!(vault.media(id, MediaKind::Portrait).unwrap(), None);
}

#[test]
fn wipe_destroys_keys_and_files_and_refuses_every_later_call() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, op) = create(dir.path());
    let (id, b) = sealed(&vault, &op);
    // Debris of a key-file write that crashed holds wraps as well.
    std::fs::copy(
        dir.path().join("vault.keys"),
        dir.path().join("vault.keys.tmp"),
    )
    .unwrap();
    vault.wipe().unwrap();
    assert!(!Vault::exists(dir.path()));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(matches!(vault.list(), Err(VaultError::Wiped)));
    assert!(matches!(vault.enrollment(id), Err(VaultError::Wiped)));
    assert!(matches!(
        vault.save_draft(None, op.id, &input()),
        Err(VaultError::Wiped)
    ));
    assert!(matches!(vault.sealed_bundle(b), Err(VaultError::Wiped)));
    assert!(matches!(vault.due_uploads(0), Err(VaultError::Wiped)));
    assert!(matches!(vault.purge_due(0), Err(VaultError::Wiped)));
    assert!(matches!(vault.report(), Err(VaultError::Wiped)));
    assert!(matches!(vault.integrity_check(), Err(VaultError::Wiped)));
    assert!(matches!(vault.wipe(), Err(VaultError::Wiped)));
    assert!(matches!(vault.device(), Err(VaultError::Wiped)));
    assert!(matches!(vault.setting("language"), Err(VaultError::Wiped)));
    assert!(matches!(
        vault.set_setting("language", "vi"),
        Err(VaultError::Wiped)
    ));
    assert!(matches!(vault.mark_registered(), Err(VaultError::Wiped)));
    assert!(matches!(vault.operators(), Err(VaultError::Wiped)));
    // Nothing was recreated on disk by those calls, nor by dropping the vault.
    drop(vault);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(matches!(
        Vault::unlock(dir.path(), PASS),
        Err(VaultError::NotFound(_))
    ));
}

#[test]
fn wipe_overwrites_the_key_wraps_in_place_before_removing_them() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let (vault, _) = create(dir.path());
    // A second name for the same inode sees what happened to the file's blocks after the
    // vault's name is gone: a plain remove would leave the wraps readable here.
    let link = elsewhere.path().join("keys-link");
    std::fs::hard_link(dir.path().join("vault.keys"), &link).unwrap();
    let before = std::fs::read(&link).unwrap();
    assert!(contains(&before, b"wrap"), "the key file names its wraps");
    vault.wipe().unwrap();
    let after = std::fs::read(&link).unwrap();
    assert_eq!(after.len(), before.len());
    assert_ne!(after, before);
    assert!(!contains(&after, b"wrap"));
    // Random, not a constant fill.
    assert!(
        after
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 64
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
