//! The outbox: sealed bundles waiting for a receipt, and the receipts once they come.

use ghidanh_bundle::{BundleId, Receipt, Verdict};
use rusqlite::{params, OptionalExtension};

use crate::enrollments::{enrollment_of_bundle, state_of, transition};
use crate::{db::now_ms, AuditAction, EnrollmentState, Vault, VaultError};

/// A bundle due for upload.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    /// Its id.
    pub bundle_id: BundleId,
    /// The exact bytes to send (already signed and sealed).
    pub bytes: Vec<u8>,
    /// Uploads tried so far.
    pub attempts: u32,
}

impl Vault {
    /// Bundles without a receipt whose next attempt is due at `now_ms`, oldest first. A
    /// bundle in a relay's custody is not sent again: the relay carries it on.
    pub fn due_uploads(&self, now_ms: i64) -> Result<Vec<OutboxItem>, VaultError> {
        let conn = self.live_conn()?;
        let mut stmt = conn.prepare(
            "SELECT bundle_id, bytes, attempts FROM outbox
             WHERE receipt IS NULL AND custody IS NULL AND next_attempt_at <= ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([now_ms], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, u32>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (id, bytes, attempts) = r?;
            Ok(OutboxItem {
                bundle_id: BundleId::parse(&id).map_err(|_| VaultError::Corrupt("bundle id"))?,
                bytes,
                attempts,
            })
        })
        .collect()
    }

    /// The sealed bytes of a bundle, delivered or not, for export to removable media (audited
    /// as an export). `None` once purged: the bytes went with the personal data.
    pub fn sealed_bundle(&self, bundle_id: BundleId) -> Result<Option<Vec<u8>>, VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let bytes: Option<Vec<u8>> = tx
            .query_row(
                "SELECT bytes FROM outbox WHERE bundle_id = ?1",
                [bundle_id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .filter(|b: &Vec<u8>| !b.is_empty());
        if bytes.is_some() {
            self.audit(&tx, AuditAction::Exported, &bundle_id.to_string())?;
        }
        tx.commit()?;
        Ok(bytes)
    }

    /// The custody receipts of bundles a relay holds whose registry receipt has not come,
    /// oldest first: a kit carries them on a USB stick so the relay can answer with the
    /// registry's receipts (they hold ids and digests only, nothing of the person).
    pub fn custody_waiting(&self) -> Result<Vec<(BundleId, Vec<u8>)>, VaultError> {
        let conn = self.live_conn()?;
        let mut stmt = conn.prepare(
            "SELECT bundle_id, custody FROM outbox
             WHERE receipt IS NULL AND custody IS NOT NULL ORDER BY rowid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        rows.map(|r| {
            let (id, custody) = r?;
            Ok((
                BundleId::parse(&id).map_err(|_| VaultError::Corrupt("bundle id"))?,
                custody,
            ))
        })
        .collect()
    }

    /// When the next upload attempt is due (Unix ms), if any bundle waits.
    pub fn next_attempt_at(&self) -> Result<Option<i64>, VaultError> {
        Ok(self
            .live_conn()?
            .query_row(
                "SELECT min(next_attempt_at) FROM outbox WHERE receipt IS NULL AND custody IS NULL",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Marks a bundle as being sent: Sealed → Uploading. Already uploading: nothing changes.
    pub fn mark_uploading(&self, bundle_id: BundleId) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let id = enrollment_of_bundle(&tx, bundle_id)?;
        // Only a real transition is audited: a repeated call changes nothing.
        if state_of(&tx, id)? != EnrollmentState::Uploading {
            transition(&tx, id, EnrollmentState::Uploading)?;
            self.audit(&tx, AuditAction::UploadAttempted, &bundle_id.to_string())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a failed attempt (no receipt) and when to try again; an uploading bundle goes
    /// back to Sealed.
    pub fn upload_failed(
        &self,
        bundle_id: BundleId,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let id = enrollment_of_bundle(&tx, bundle_id)?;
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
             WHERE bundle_id = ?1 AND receipt IS NULL",
            params![bundle_id.to_string(), next_attempt_at_ms, error],
        )?;
        // After an unlock reset it to Sealed, or when a receipt won the race, it stays put.
        if state_of(&tx, id)? == EnrollmentState::Uploading {
            transition(&tx, id, EnrollmentState::Sealed)?;
        }
        self.audit(&tx, AuditAction::UploadFailed, &bundle_id.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a relay's custody receipt the caller has verified: Sealed | Uploading → Custody.
    /// The bundle is no longer due for upload. A second custody receipt changes nothing.
    pub fn record_custody(
        &self,
        bundle_id: BundleId,
        receipt_bytes: &[u8],
    ) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let id = enrollment_of_bundle(&tx, bundle_id)?;
        if state_of(&tx, id)? == EnrollmentState::Custody {
            return Ok(());
        }
        transition(&tx, id, EnrollmentState::Custody)?;
        tx.execute(
            "UPDATE outbox SET custody = ?2 WHERE bundle_id = ?1",
            params![bundle_id.to_string(), receipt_bytes],
        )?;
        self.audit(&tx, AuditAction::CustodyStored, &bundle_id.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// The relay that gave a custody receipt no longer knows the bundle (its store was lost
    /// or replaced): Custody → Sealed, due now, so it is sent again. The old custody receipt
    /// is dropped with the state; the registry's de-duplication makes a second arrival safe.
    pub fn custody_lost(&self, bundle_id: BundleId) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let id = enrollment_of_bundle(&tx, bundle_id)?;
        if state_of(&tx, id)? != EnrollmentState::Custody {
            return Ok(());
        }
        transition(&tx, id, EnrollmentState::Sealed)?;
        tx.execute(
            "UPDATE outbox SET custody = NULL, next_attempt_at = ?2 WHERE bundle_id = ?1",
            params![bundle_id.to_string(), now_ms()],
        )?;
        self.audit(&tx, AuditAction::CustodyLost, &bundle_id.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a receipt the caller has verified and moves the enrollment to Accepted or
    /// Rejected. A second receipt for the same bundle changes nothing (the first one stands).
    pub fn record_receipt(
        &self,
        bundle_id: BundleId,
        receipt_bytes: &[u8],
        receipt: &Receipt,
    ) -> Result<(), VaultError> {
        let (to, receipt_id, reason) = match &receipt.verdict {
            Verdict::Accepted | Verdict::Duplicate { .. } => (
                EnrollmentState::Accepted,
                receipt.delivery_receipt_id().map(|r| r.to_string()),
                None,
            ),
            Verdict::Rejected(r) => (EnrollmentState::Rejected, None, Some(r.code())),
        };
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let id = enrollment_of_bundle(&tx, bundle_id)?;
        let changed = tx.execute(
            "UPDATE outbox SET receipt = ?2 WHERE bundle_id = ?1 AND receipt IS NULL",
            params![bundle_id.to_string(), receipt_bytes],
        )?;
        if changed == 1 {
            transition(&tx, id, to)?;
            let accepted_at = (to == EnrollmentState::Accepted).then(now_ms);
            tx.execute(
                "UPDATE enrollments SET receipt_id = ?2, reason = ?3, accepted_at = ?4
                 WHERE id = ?1",
                params![id.to_string(), receipt_id, reason, accepted_at],
            )?;
            self.audit(&tx, AuditAction::ReceiptStored, &bundle_id.to_string())?;
        }
        tx.commit()?;
        Ok(())
    }
}
