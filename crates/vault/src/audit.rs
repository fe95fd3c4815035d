//! The audit log: a hash chain of what happened to the vault, with checkpoints signed by the
//! device key, and the breach-notification report.
//!
//! Each entry's hash is SHA-256(prev_hash ‖ canonical encoding of the entry). The encoding
//! leaves `seq` out on purpose: the position of an entry is fixed by the `prev_hash` link, and
//! keeping `seq` out lets the walk tell a *moved* entry (intact, but linked to another
//! predecessor) from a *changed* one (its own hash no longer matches its content).
//!
//! Entries are appended by the caller inside the same SQLite transaction as the change they
//! describe, so after a crash the rows and the chain agree: both committed or neither.
//! Subjects are ids (enrollment, bundle) and counts only, never personal data.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{db::now_ms, Vault, VaultError};

/// A checkpoint is signed every this many entries (and when the vault closes), so that a
/// truncated tail or a rewritten chain is caught against the device key.
pub const CHECKPOINT_EVERY: i64 = 64;

/// The hash before the first entry.
const GENESIS: [u8; 32] = [0; 32];
/// Domain separation: these bytes can never be confused with another signed format.
const ENTRY_DOMAIN: &[u8] = b"ghidanh-audit-entry-v1";
const CHECKPOINT_DOMAIN: &[u8] = b"ghidanh-audit-checkpoint-v1";

/// What an audit entry records. A closed set: the stored code is parsed back strictly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// The vault was created with its first operator.
    VaultCreated,
    /// An operator unlocked the vault.
    Unlocked,
    /// Wrong passphrases since the last unlock (subject: their count). Written on the next
    /// successful unlock, since a failed unlock cannot open the database.
    UnlockFailed,
    /// A draft was created or saved.
    DraftSaved,
    /// A draft was sealed into a bundle and queued.
    Sealed,
    /// An upload of a bundle started.
    UploadAttempted,
    /// An upload failed and the bundle went back to the queue.
    UploadFailed,
    /// A verified receipt was stored.
    ReceiptStored,
    /// The device key and provisioning file were stored.
    DeviceProvisioned,
    /// A bundle was exported to removable media.
    Exported,
    /// Personal data of an enrollment was purged.
    Purged,
    /// An operator's passphrase was changed.
    PassphraseChanged,
    /// The vault was locked (on demand or after the idle time).
    Locked,
    /// An unlock was refused because wrong passphrases came too fast (subject: seconds to wait).
    UnlockDelayed,
    /// A supervisor added an operator (subject: the new operator's id).
    OperatorAdded,
    /// A supervisor reset an operator's passphrase (subject: that operator's id).
    PassphraseReset,
    /// The operator attested a record; it waits for approval.
    Finalised,
    /// A supervisor sent a finalised record back to draft with a comment.
    SentBack,
    /// A supervisor (or the no-review policy) approved a record.
    Approved,
    /// A relay's custody receipt was stored.
    CustodyStored,
    /// The relay no longer knew a bundle it had taken into custody: it is sent again.
    CustodyLost,
    /// Personal data of an enrollment was read for display or export (subject: its id).
    Read,
    /// A portrait or fingerprint image was stored (subject: enrollment id).
    MediaStored,
    /// A portrait, print or exception of a draft was removed.
    MediaRemoved,
    /// The registry confirmed the device registration.
    DeviceRegistered,
    /// The registry revoked the device and the vault destroyed its data.
    Wiped,
    /// An operator discarded a rejected enrollment (its data is purged).
    Discarded,
    /// A setting was changed (subject: `name=value`, e.g. `retention_days=30`).
    SettingChanged,
    /// The list of enrollments (names and states) was read, once per unlock (subject: how many).
    Listed,
}

impl AuditAction {
    /// The stored name.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::VaultCreated => "vault_created",
            AuditAction::Unlocked => "unlocked",
            AuditAction::UnlockFailed => "unlock_failed",
            AuditAction::DraftSaved => "draft_saved",
            AuditAction::Sealed => "sealed",
            AuditAction::UploadAttempted => "upload_attempted",
            AuditAction::UploadFailed => "upload_failed",
            AuditAction::ReceiptStored => "receipt_stored",
            AuditAction::DeviceProvisioned => "device_provisioned",
            AuditAction::Exported => "exported",
            AuditAction::Purged => "purged",
            AuditAction::PassphraseChanged => "passphrase_changed",
            AuditAction::Locked => "locked",
            AuditAction::UnlockDelayed => "unlock_delayed",
            AuditAction::OperatorAdded => "operator_added",
            AuditAction::PassphraseReset => "passphrase_reset",
            AuditAction::Finalised => "finalised",
            AuditAction::SentBack => "sent_back",
            AuditAction::Approved => "approved",
            AuditAction::CustodyStored => "custody_stored",
            AuditAction::CustodyLost => "custody_lost",
            AuditAction::Read => "read",
            AuditAction::MediaStored => "media_stored",
            AuditAction::MediaRemoved => "media_removed",
            AuditAction::DeviceRegistered => "device_registered",
            AuditAction::Wiped => "wiped",
            AuditAction::Discarded => "discarded",
            AuditAction::SettingChanged => "setting_changed",
            AuditAction::Listed => "listed",
        }
    }

    /// Parses a stored name; `None` for anything outside the set.
    pub fn parse(s: &str) -> Option<AuditAction> {
        Some(match s {
            "vault_created" => AuditAction::VaultCreated,
            "unlocked" => AuditAction::Unlocked,
            "unlock_failed" => AuditAction::UnlockFailed,
            "draft_saved" => AuditAction::DraftSaved,
            "sealed" => AuditAction::Sealed,
            "upload_attempted" => AuditAction::UploadAttempted,
            "upload_failed" => AuditAction::UploadFailed,
            "receipt_stored" => AuditAction::ReceiptStored,
            "device_provisioned" => AuditAction::DeviceProvisioned,
            "exported" => AuditAction::Exported,
            "purged" => AuditAction::Purged,
            "passphrase_changed" => AuditAction::PassphraseChanged,
            "locked" => AuditAction::Locked,
            "unlock_delayed" => AuditAction::UnlockDelayed,
            "operator_added" => AuditAction::OperatorAdded,
            "passphrase_reset" => AuditAction::PassphraseReset,
            "finalised" => AuditAction::Finalised,
            "sent_back" => AuditAction::SentBack,
            "approved" => AuditAction::Approved,
            "custody_stored" => AuditAction::CustodyStored,
            "custody_lost" => AuditAction::CustodyLost,
            "read" => AuditAction::Read,
            "media_stored" => AuditAction::MediaStored,
            "media_removed" => AuditAction::MediaRemoved,
            "device_registered" => AuditAction::DeviceRegistered,
            "wiped" => AuditAction::Wiped,
            "discarded" => AuditAction::Discarded,
            "setting_changed" => AuditAction::SettingChanged,
            "listed" => AuditAction::Listed,
            _ => return None,
        })
    }
}

/// Why the chain does not verify. Each names the first entry (by `seq`) found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// An entry is missing: a gap in the sequence, or fewer entries than a checkpoint covers.
    #[error("audit entry {seq} is missing")]
    Missing {
        /// The first missing sequence number.
        seq: i64,
    },
    /// An entry's content no longer matches its hash.
    #[error("audit entry {seq} was changed")]
    Altered {
        /// The changed entry.
        seq: i64,
    },
    /// An intact entry does not follow the entry before it (moved, or its predecessor replaced).
    #[error("audit entry {seq} is out of order")]
    OutOfOrder {
        /// The entry whose link is wrong.
        seq: i64,
    },
    /// An entry holds an action outside the closed set.
    #[error("audit entry {seq} has an unknown action")]
    UnknownAction {
        /// The entry.
        seq: i64,
    },
    /// A checkpoint names a hash that is not the entry's.
    #[error("audit checkpoint {seq} does not match the chain")]
    CheckpointMismatch {
        /// The checkpoint's sequence number.
        seq: i64,
    },
    /// A checkpoint's signature does not verify with the device public key.
    #[error("audit checkpoint {seq} has a bad signature")]
    BadSignature {
        /// The checkpoint's sequence number.
        seq: i64,
    },
    /// Signed checkpoints exist but the vault holds no device key to check them.
    #[error("audit checkpoints exist but the device key is missing")]
    NoDeviceKey,
    /// The vault could not be read.
    #[error("cannot read the audit log: {0}")]
    Vault(String),
}

impl From<VaultError> for AuditError {
    fn from(e: VaultError) -> Self {
        AuditError::Vault(e.to_string())
    }
}

impl From<rusqlite::Error> for AuditError {
    fn from(e: rusqlite::Error) -> Self {
        AuditError::Vault(e.to_string())
    }
}

/// What a successful walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries in the chain.
    pub entries: i64,
    /// Signed checkpoints checked.
    pub checkpoints: i64,
    /// The newest checkpoint's sequence number, if any.
    pub last_checkpoint: Option<i64>,
    /// Entries after the newest checkpoint: only the chain vouches for these.
    pub unsigned_tail: i64,
}

/// What a lost device held, for a breach notification: counts and dates, no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultReport {
    /// Enrollments per state code (`draft`, `sealed`, …), every known state listed.
    pub by_state: Vec<(&'static str, i64)>,
    /// Enrollments in total.
    pub enrollments: i64,
    /// When the first enrollment was started, Unix ms.
    pub first_enrollment_ms: Option<i64>,
    /// When the last enrollment was started, Unix ms.
    pub last_enrollment_ms: Option<i64>,
    /// Entries in the audit log.
    pub audit_entries: i64,
    /// The device id, once provisioned (not personal data: it names the laptop).
    pub device_id: Option<String>,
}

/// The bytes hashed after `prev_hash`: each field length-prefixed, so no two entries share an
/// encoding.
fn encode(at_ms: i64, operator: &str, action: &str, subject: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + operator.len() + action.len() + subject.len());
    out.extend_from_slice(ENTRY_DOMAIN);
    out.extend_from_slice(&at_ms.to_be_bytes());
    for field in [operator, action, subject] {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

fn entry_hash(prev: &[u8], at_ms: i64, operator: &str, action: &str, subject: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(encode(at_ms, operator, action, subject));
    h.finalize().into()
}

fn checkpoint_message(seq: i64, hash: &[u8]) -> Vec<u8> {
    let mut m = CHECKPOINT_DOMAIN.to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

fn last_entry(conn: &Connection) -> Result<Option<(i64, Vec<u8>)>, VaultError> {
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

fn device_signing_key(conn: &Connection) -> Result<Option<SigningKey>, VaultError> {
    let key: Option<Zeroizing<Vec<u8>>> = conn
        .query_row("SELECT signing_key FROM device WHERE id = 1", [], |r| {
            Ok(Zeroizing::new(r.get(0)?))
        })
        .optional()?;
    let Some(key) = key else { return Ok(None) };
    let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
        key.as_slice()
            .try_into()
            .map_err(|_| VaultError::Corrupt("stored device key"))?,
    );
    Ok(Some(SigningKey::from_bytes(&bytes)))
}

/// Appends one entry; `conn` is the transaction of the change it records.
pub(crate) fn append(
    conn: &Connection,
    operator: &str,
    action: AuditAction,
    subject: &str,
) -> Result<(), VaultError> {
    let (seq, prev) = match last_entry(conn)? {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_vec()),
    };
    let at = now_ms();
    let hash = entry_hash(&prev, at, operator, action.code(), subject);
    conn.execute(
        "INSERT INTO audit (seq, at_ms, operator_id, action, subject, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            seq,
            at,
            operator,
            action.code(),
            subject,
            prev,
            hash.as_slice()
        ],
    )?;
    if seq % CHECKPOINT_EVERY == 0 {
        checkpoint(conn)?;
    }
    Ok(())
}

/// Signs the newest entry with the device key, if there is a key and the entry is not signed yet.
pub(crate) fn checkpoint(conn: &Connection) -> Result<(), VaultError> {
    let Some((seq, hash)) = last_entry(conn)? else {
        return Ok(());
    };
    let Some(key) = device_signing_key(conn)? else {
        return Ok(());
    };
    let sig = key.sign(&checkpoint_message(seq, &hash));
    conn.execute(
        "INSERT OR IGNORE INTO audit_checkpoint (seq, hash, signature) VALUES (?1, ?2, ?3)",
        params![seq, hash, sig.to_bytes().as_slice()],
    )?;
    Ok(())
}

type EntryRow = (i64, i64, String, String, String, Vec<u8>, Vec<u8>);

impl Vault {
    /// Walks the audit chain from the first entry and checks every signed checkpoint with the
    /// device public key. The first fault found is returned.
    pub fn audit_verify(&self) -> Result<AuditReport, AuditError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, at_ms, operator_id, action, subject, prev_hash, hash
             FROM audit ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
        let mut running = GENESIS.to_vec();
        let mut expected_seq = 1;
        let mut hashes = Vec::new();
        for row in rows {
            let (seq, at, operator, action, subject, prev, hash): EntryRow = row?;
            if seq != expected_seq {
                return Err(AuditError::Missing { seq: expected_seq });
            }
            if entry_hash(&prev, at, &operator, &action, &subject).as_slice() != hash.as_slice() {
                return Err(AuditError::Altered { seq });
            }
            if prev != running {
                return Err(AuditError::OutOfOrder { seq });
            }
            if AuditAction::parse(&action).is_none() {
                return Err(AuditError::UnknownAction { seq });
            }
            running = hash.clone();
            hashes.push(hash);
            expected_seq += 1;
        }
        let entries = expected_seq - 1;

        let mut stmt =
            conn.prepare("SELECT seq, hash, signature FROM audit_checkpoint ORDER BY seq")?;
        let checkpoints = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let public = match device_signing_key(&conn)? {
            Some(k) => Some(k.verifying_key()),
            None if checkpoints.is_empty() => None,
            None => return Err(AuditError::NoDeviceKey),
        };
        for (seq, hash, sig) in &checkpoints {
            let seq = *seq;
            verify_checkpoint(public.as_ref(), seq, hash, sig)?;
            // A checkpoint beyond the chain's end means entries were cut off the tail.
            let stored = usize::try_from(seq - 1)
                .ok()
                .and_then(|i| hashes.get(i))
                .ok_or(AuditError::Missing { seq: entries + 1 })?;
            if stored != hash {
                return Err(AuditError::CheckpointMismatch { seq });
            }
        }
        let last_checkpoint = checkpoints.last().map(|c| c.0);
        Ok(AuditReport {
            entries,
            checkpoints: checkpoints.len() as i64,
            last_checkpoint,
            unsigned_tail: entries - last_checkpoint.unwrap_or(0),
        })
    }

    /// What the vault holds, for a breach notification: counts by state, the date range of
    /// enrollments, the number of audit entries. No names, ids of people or records.
    pub fn report(&self) -> Result<VaultReport, VaultError> {
        use crate::EnrollmentState as S;
        let conn = self.live_conn()?;
        let mut by_state = Vec::new();
        let mut total = 0;
        for s in S::ALL {
            let n: i64 = conn.query_row(
                "SELECT count(*) FROM enrollments WHERE state = ?1",
                [s.code()],
                |r| r.get(0),
            )?;
            total += n;
            by_state.push((s.code(), n));
        }
        let (first, last): (Option<i64>, Option<i64>) = conn.query_row(
            "SELECT min(created_at), max(created_at) FROM enrollments",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let audit_entries: i64 = conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?;
        drop(conn);
        let device_id = self.device()?.map(|d| d.provisioning.device_id.to_string());
        Ok(VaultReport {
            by_state,
            enrollments: total,
            first_enrollment_ms: first,
            last_enrollment_ms: last,
            audit_entries,
            device_id,
        })
    }

    /// Runs raw SQL on the open database. Only for tests that damage the audit log on purpose.
    #[cfg(any(test, feature = "testkit"))]
    #[doc(hidden)]
    pub fn testkit_execute(&self, sql: &str) -> Result<(), VaultError> {
        self.conn().execute_batch(sql)?;
        Ok(())
    }
}

fn verify_checkpoint(
    public: Option<&VerifyingKey>,
    seq: i64,
    hash: &[u8],
    sig: &[u8],
) -> Result<(), AuditError> {
    let bad = AuditError::BadSignature { seq };
    let public = public.ok_or(AuditError::NoDeviceKey)?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| bad.clone())?;
    public
        .verify(&checkpoint_message(seq, hash), &Signature::from_bytes(&sig))
        .map_err(|_| bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KdfParams;
    use ghidanh_bundle::{BundleId, DeviceId, DeviceKey, Provisioning, RegistryKeys};
    use ghidanh_record::EnrollmentInput;

    const PASS: &str = "mật khẩu kiểm toán";
    const NAME: &str = "Nguyễn Thị Thuỳ Dương";

    fn input() -> EnrollmentInput {
        EnrollmentInput {
            birth_name: NAME.into(),
            personal_id: "079190123456".into(),
            ..Default::default()
        }
    }

    /// A vault with a created entry, an unlock and `drafts` saved drafts.
    fn vault_with(dir: &std::path::Path, drafts: usize) -> Vault {
        let (v, op) = Vault::create(
            dir,
            "Trần Văn Cảnh",
            PASS,
            KdfParams::insecure_fast_for_tests(),
        )
        .unwrap();
        for _ in 0..drafts {
            v.save_draft(None, op.id, &input()).unwrap();
        }
        v
    }

    fn provision(v: &Vault) -> DeviceKey {
        let keys = RegistryKeys::generate();
        let prov = Provisioning {
            registry_url: "http://127.0.0.1:1".into(),
            registry: keys.public().clone(),
            device_id: DeviceId::new(),
            token: Zeroizing::new([1; 32]),
            issued_at: 0,
            label: "kit".into(),
        };
        let key = DeviceKey::generate();
        v.provision(&prov.sign(&keys), &key).unwrap();
        key
    }

    fn actions(v: &Vault) -> Vec<String> {
        let conn = v.conn();
        let mut stmt = conn
            .prepare("SELECT action FROM audit ORDER BY seq")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn every_mutation_appends_one_entry_and_the_chain_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 1);
        let id = v.list().unwrap()[0].id;
        let bundle = BundleId::new();
        v.finalise(id).unwrap();
        v.approve(id, crate::Approval::NoReviewPolicy).unwrap();
        v.seal(id, &input(), bundle, b"sealed").unwrap();
        v.mark_uploading(bundle).unwrap();
        v.mark_uploading(bundle).unwrap(); // no transition: no entry
        v.upload_failed(bundle, 0, "offline").unwrap();
        v.set_retention_days(30).unwrap();
        v.list().unwrap(); // the session's second look at the list: not audited again
        assert_eq!(
            actions(&v),
            [
                "vault_created",
                "draft_saved",
                "listed",
                "finalised",
                "approved",
                "sealed",
                "upload_attempted",
                "upload_failed",
                "setting_changed"
            ]
        );
        let report = v.audit_verify().unwrap();
        assert_eq!(report.entries, 9);
        assert_eq!(report.checkpoints, 0);
    }

    #[test]
    fn a_deleted_entry_is_reported_missing() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 3);
        v.testkit_execute("DELETE FROM audit WHERE seq = 2")
            .unwrap();
        assert_eq!(v.audit_verify(), Err(AuditError::Missing { seq: 2 }));
    }

    #[test]
    fn a_changed_entry_is_reported_altered() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 3);
        v.testkit_execute("UPDATE audit SET action = 'sealed' WHERE seq = 3")
            .unwrap();
        assert_eq!(v.audit_verify(), Err(AuditError::Altered { seq: 3 }));
    }

    #[test]
    fn a_changed_entry_with_a_recomputed_hash_breaks_the_next_link() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 3);
        // The forger recomputes entry 2's hash: entry 3 still names the old one.
        let (at, op, prev): (i64, String, Vec<u8>) = v
            .conn()
            .query_row(
                "SELECT at_ms, operator_id, prev_hash FROM audit WHERE seq = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let forged = entry_hash(&prev, at, &op, "draft_saved", "someone-else");
        v.testkit_execute(&format!(
            "UPDATE audit SET subject = 'someone-else', hash = x'{}' WHERE seq = 2",
            hex::encode(forged)
        ))
        .unwrap();
        assert_eq!(v.audit_verify(), Err(AuditError::OutOfOrder { seq: 3 }));
    }

    #[test]
    fn swapped_entries_are_reported_out_of_order() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 3);
        v.testkit_execute(
            "UPDATE audit SET seq = -2 WHERE seq = 2;
             UPDATE audit SET seq = 2 WHERE seq = 3;
             UPDATE audit SET seq = 3 WHERE seq = -2;",
        )
        .unwrap();
        assert_eq!(v.audit_verify(), Err(AuditError::OutOfOrder { seq: 2 }));
    }

    #[test]
    fn an_unknown_action_is_refused_even_when_hashed_correctly() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 0);
        append(&v.conn(), "x", AuditAction::Sealed, "b").unwrap();
        let (at, prev): (i64, Vec<u8>) = v
            .conn()
            .query_row(
                "SELECT at_ms, prev_hash FROM audit WHERE seq = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let h = entry_hash(&prev, at, "x", "teleported", "b");
        v.testkit_execute(&format!(
            "UPDATE audit SET action = 'teleported', hash = x'{}' WHERE seq = 2",
            hex::encode(h)
        ))
        .unwrap();
        assert_eq!(v.audit_verify(), Err(AuditError::UnknownAction { seq: 2 }));
    }

    #[test]
    fn checkpoints_are_signed_every_n_entries_and_on_close() {
        let dir = tempfile::tempdir().unwrap();
        let (v, op) =
            Vault::create(dir.path(), "op", PASS, KdfParams::insecure_fast_for_tests()).unwrap();
        let key = provision(&v);
        // Entries 1 (created) and 2 (provisioned); fill up to one past the first checkpoint.
        for _ in 0..(CHECKPOINT_EVERY - 1) {
            v.save_draft(None, op.id, &input()).unwrap();
        }
        let r = v.audit_verify().unwrap();
        assert_eq!(r.last_checkpoint, Some(CHECKPOINT_EVERY));
        assert_eq!(r.entries, CHECKPOINT_EVERY + 1);
        assert_eq!(r.unsigned_tail, 1);
        v.close().unwrap();
        let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
        let r = v.audit_verify().unwrap();
        // The close signed entry 65; the unlock added entry 66, not yet signed.
        assert_eq!(r.checkpoints, 2);
        assert_eq!(r.last_checkpoint, Some(CHECKPOINT_EVERY + 1));
        assert_eq!(r.unsigned_tail, 1);
        let sig: Vec<u8> = v
            .conn()
            .query_row(
                "SELECT signature FROM audit_checkpoint WHERE seq = ?1",
                [CHECKPOINT_EVERY + 1],
                |r| r.get(0),
            )
            .unwrap();
        let hash: Vec<u8> = v
            .conn()
            .query_row(
                "SELECT hash FROM audit WHERE seq = ?1",
                [CHECKPOINT_EVERY + 1],
                |r| r.get(0),
            )
            .unwrap();
        let sig = Signature::from_slice(&sig).unwrap();
        let public = VerifyingKey::from_bytes(&key.public().to_bytes()).unwrap();
        assert!(public
            .verify(&checkpoint_message(CHECKPOINT_EVERY + 1, &hash), &sig)
            .is_ok());
    }

    #[test]
    fn a_truncated_tail_is_caught_by_the_signed_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 2);
        provision(&v);
        v.close().unwrap();
        let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
        // created, 2 drafts, provisioned = 4, signed on close; then unlocked = 5.
        v.testkit_execute("DELETE FROM audit WHERE seq >= 4")
            .unwrap();
        assert_eq!(v.audit_verify(), Err(AuditError::Missing { seq: 4 }));
    }

    #[test]
    fn a_forged_checkpoint_signature_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 1);
        provision(&v);
        v.close().unwrap();
        let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
        v.testkit_execute("UPDATE audit_checkpoint SET signature = zeroblob(64)")
            .unwrap();
        assert_eq!(v.audit_verify(), Err(AuditError::BadSignature { seq: 3 }));
    }

    #[test]
    fn a_rewritten_chain_does_not_match_its_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 1);
        provision(&v);
        v.close().unwrap();
        let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
        // The whole chain rebuilt from a changed entry 2 is self-consistent, but entry 3's
        // hash is no longer the one the device signed.
        let rows: Vec<(i64, i64, String, String, String)> = {
            let conn = v.conn();
            let mut stmt = conn
                .prepare("SELECT seq, at_ms, operator_id, action, subject FROM audit ORDER BY seq")
                .unwrap();
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        let mut prev = GENESIS.to_vec();
        for (seq, at, op, action, mut subject) in rows {
            if seq == 2 {
                subject = "forged".into();
            }
            let h = entry_hash(&prev, at, &op, &action, &subject);
            v.testkit_execute(&format!(
                "UPDATE audit SET subject = '{subject}', prev_hash = x'{}', hash = x'{}' WHERE seq = {seq}",
                hex::encode(&prev),
                hex::encode(h)
            ))
            .unwrap();
            prev = h.to_vec();
        }
        assert_eq!(
            v.audit_verify(),
            Err(AuditError::CheckpointMismatch { seq: 3 })
        );
    }

    #[test]
    fn failed_unlocks_are_audited_on_the_next_unlock() {
        let dir = tempfile::tempdir().unwrap();
        drop(vault_with(dir.path(), 0));
        for _ in 0..3 {
            assert!(matches!(
                Vault::unlock(dir.path(), "sai"),
                Err(VaultError::WrongPassphrase)
            ));
        }
        let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
        assert_eq!(actions(&v), ["vault_created", "unlock_failed", "unlocked"]);
        let subject: String = v
            .conn()
            .query_row("SELECT subject FROM audit WHERE seq = 2", [], |r| r.get(0))
            .unwrap();
        assert_eq!(subject, "3");
        assert!(!dir.path().join(crate::UNLOCK_FAILURES_FILE).exists());
        drop(v);
        let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
        assert_eq!(
            actions(&v).iter().filter(|a| *a == "unlock_failed").count(),
            1
        );
    }

    #[test]
    fn the_report_counts_without_personal_data() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with(dir.path(), 2);
        let id = v.list().unwrap()[0].id;
        v.finalise(id).unwrap();
        v.approve(id, crate::Approval::NoReviewPolicy).unwrap();
        v.seal(id, &input(), BundleId::new(), b"x").unwrap();
        let r = v.report().unwrap();
        assert_eq!(r.enrollments, 2);
        assert!(r.by_state.contains(&("draft", 1)));
        assert!(r.by_state.contains(&("sealed", 1)));
        assert!(r.by_state.contains(&("accepted", 0)));
        // created, 2 drafts, listed, finalised, approved, sealed.
        assert_eq!(r.audit_entries, 7);
        let (first, last) = (
            r.first_enrollment_ms.unwrap(),
            r.last_enrollment_ms.unwrap(),
        );
        assert!(first <= last && first > 1_600_000_000_000);
        assert!(!format!("{r:?}").contains("Nguyễn"));
    }
}
