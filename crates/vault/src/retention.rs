//! Retention: what happens to personal data once the registry holds it.
//!
//! An accepted enrollment keeps its record, images and sealed bundle for the configured
//! number of days after its receipt (default 0: the next sweep), then is purged. A rejected
//! one is never purged by the sweep: an operator decides (`discard_rejected`). A purge keeps
//! the row (state `purged`, bundle and receipt ids, the reason), the receipt bytes and every
//! audit entry, so the kit can still prove what it delivered.

use ghidanh_bundle::EnrollmentId;
use ghidanh_record::EnrollmentInput;
use rusqlite::{params, Connection};

use crate::enrollments::{state_of, to_json, transition};
use crate::{db::now_ms, AuditAction, EnrollmentState, Vault, VaultError};

/// The settings key of the retention period, in days.
const RETENTION_KEY: &str = "retention_days";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl Vault {
    /// Days an accepted enrollment keeps its personal data after the receipt (default 0).
    pub fn retention_days(&self) -> Result<u32, VaultError> {
        let conn = self.live_conn()?;
        read_retention_days(&conn)
    }

    /// Sets the retention period in days; the change and its audit entry are one transaction.
    pub fn set_retention_days(&self, days: u32) -> Result<(), VaultError> {
        self.set_setting_audited(RETENTION_KEY, &days.to_string())
    }

    /// The retention sweep: every Accepted enrollment whose receipt is at least the retention
    /// period old at `now_ms` is purged, one transaction each (a crash mid-sweep leaves whole
    /// purges only). Returns how many were purged.
    pub fn purge_due(&self, now_ms: i64) -> Result<usize, VaultError> {
        let due: Vec<String> = {
            let conn = self.live_conn()?;
            let keep_ms = i64::from(read_retention_days(&conn)?).saturating_mul(DAY_MS);
            let mut stmt = conn.prepare(
                "SELECT id FROM enrollments
                 WHERE state = 'accepted' AND accepted_at IS NOT NULL AND accepted_at <= ?1
                 ORDER BY accepted_at",
            )?;
            let ids = stmt.query_map([now_ms.saturating_sub(keep_ms)], |r| r.get(0))?;
            ids.collect::<Result<_, _>>()?
        };
        let mut purged = 0;
        for id in due {
            let id = EnrollmentId::parse(&id).map_err(|_| VaultError::Corrupt("enrollment id"))?;
            let mut conn = self.live_conn()?;
            let tx = conn.transaction()?;
            // Checked again inside the transaction: another call may have moved it meanwhile.
            if state_of(&tx, id)? != EnrollmentState::Accepted {
                continue;
            }
            transition(&tx, id, EnrollmentState::Purged)?;
            purge_data(&tx, id)?;
            self.audit(&tx, AuditAction::Purged, &id.to_string())?;
            tx.commit()?;
            purged += 1;
        }
        Ok(purged)
    }

    /// An operator gives up on a rejected enrollment: Rejected → Purged, its personal data
    /// removed as by the sweep. Refused for any other state (the sweep alone purges accepted
    /// ones, after the retention period).
    pub fn discard_rejected(&self, id: EnrollmentId) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let from = state_of(&tx, id)?;
        if from != EnrollmentState::Rejected {
            return Err(VaultError::IllegalTransition {
                from,
                to: EnrollmentState::Purged,
            });
        }
        transition(&tx, id, EnrollmentState::Purged)?;
        purge_data(&tx, id)?;
        self.audit(&tx, AuditAction::Discarded, &id.to_string())?;
        tx.commit()?;
        Ok(())
    }
}

fn read_retention_days(conn: &Connection) -> Result<u32, VaultError> {
    use rusqlite::OptionalExtension;
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [RETENTION_KEY],
            |r| r.get(0),
        )
        .optional()?;
    match value {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| VaultError::Corrupt("retention setting")),
    }
}

/// Removes an enrollment's personal data inside `tx`: the record becomes an empty one, its
/// images and the comment go, the sealed bundle's bytes are emptied (the registry has them;
/// they are sealed to the registry and useless here). With secure_delete on, SQLite zeroes the
/// freed space, so the old values do not linger in free pages.
fn purge_data(tx: &Connection, id: EnrollmentId) -> Result<(), VaultError> {
    let empty = to_json(&EnrollmentInput::default())?;
    tx.execute(
        "UPDATE enrollments SET input = ?2, review_comment = NULL, purged_at = ?3 WHERE id = ?1",
        params![id.to_string(), empty, now_ms()],
    )?;
    tx.execute(
        "DELETE FROM media WHERE enrollment_id = ?1",
        [id.to_string()],
    )?;
    tx.execute(
        "UPDATE outbox SET bytes = x'' WHERE enrollment_id = ?1",
        [id.to_string()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Approval, KdfParams, MediaKind};
    use ghidanh_bundle::{BundleId, Receipt, ReceiptId, RegistryKeys, Sha256, Verdict};

    const NAME: &str = "Hoàng Thị Thanh Vân";
    const IMAGE_MARK: &[u8] = b"portrait-of-the-purged-person";

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    /// Runs a record through its life to Accepted in a vault whose connection is swapped for
    /// an unencrypted one (same pragmas as `db::open` but no key), so the file's pages can be
    /// searched for what a purge must remove. Returns whether the name and the image are
    /// still in `plain.db` before and after the purge, each after a WAL checkpoint.
    fn purge_and_scan(secure_delete: bool) -> [(bool, bool); 2] {
        let dir = tempfile::tempdir().unwrap();
        let (vault, op) = Vault::create(
            &dir.path().join("vault"),
            "Trần Văn Cảnh",
            "mật khẩu",
            KdfParams::insecure_fast_for_tests(),
        )
        .unwrap();
        let path = dir.path().join("plain.db");
        let plain = Connection::open(&path).unwrap();
        plain
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
                 PRAGMA secure_delete = {};",
                if secure_delete { "ON" } else { "OFF" }
            ))
            .unwrap();
        crate::schema::migrate(&plain).unwrap();
        plain
            .execute(
                "INSERT INTO operators (id, name, created_at, role) VALUES (?1, 'x', 0, 'supervisor')",
                [op.id.to_string()],
            )
            .unwrap();
        drop(std::mem::replace(&mut *vault.conn(), plain));

        let input = EnrollmentInput {
            birth_name: NAME.into(),
            ..Default::default()
        };
        let id = vault.save_draft(None, op.id, &input).unwrap();
        let mut image = IMAGE_MARK.to_vec();
        image.extend(std::iter::repeat_n(7u8, 30_000));
        vault
            .store_media(id, MediaKind::Portrait, "jpeg", &image)
            .unwrap();
        vault.finalise(id).unwrap();
        vault.approve(id, Approval::NoReviewPolicy).unwrap();
        let b = BundleId::new();
        vault
            .seal(id, &input, b, b"sealed to the registry")
            .unwrap();
        let keys = RegistryKeys::generate();
        let receipt = Receipt {
            receipt_id: ReceiptId::new(),
            issued_at: 1,
            registry_key_id: keys.public().key_id().clone(),
            submission_sha256: Sha256::of(b"sealed to the registry"),
            bundle_id: Some(b),
            verdict: Verdict::Accepted,
        };
        vault
            .record_receipt(b, &receipt.sign(&keys), &receipt)
            .unwrap();

        let scan = || {
            vault
                .conn()
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .unwrap();
            let bytes = std::fs::read(&path).unwrap();
            (
                contains(&bytes, NAME.as_bytes()),
                contains(&bytes, IMAGE_MARK),
            )
        };
        let before = scan();
        assert_eq!(vault.purge_due(i64::MAX).unwrap(), 1);
        let after = scan();
        assert_eq!(vault.enrollment(id).unwrap().state, EnrollmentState::Purged);
        [before, after]
    }

    #[test]
    fn a_purge_leaves_no_trace_of_the_person_in_the_file_pages() {
        let [before, after] = purge_and_scan(true);
        // The scan finds them while they are there...
        assert_eq!(before, (true, true));
        // ...and secure_delete zeroed the freed space: neither the name nor the image.
        assert_eq!(after, (false, false));
    }

    #[test]
    fn without_secure_delete_the_purged_bytes_would_linger() {
        // Why the vault turns secure_delete on: without it the same purge leaves the image
        // in free pages (SQLite only unlinks them).
        let [_, after] = purge_and_scan(false);
        assert!(after.0 || after.1, "{after:?}");
    }
}
