//! The outbox: sealed bundles waiting for a receipt.

use ghidanh_bundle::{BundleId, Receipt, Verdict};
use rusqlite::{params, OptionalExtension};

use crate::{db::now_ms, AuditAction, Vault, VaultError};

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
    /// Bundles without a receipt whose next attempt is due at `now_ms`, oldest first.
    pub fn due_uploads(&self, now_ms: i64) -> Result<Vec<OutboxItem>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT bundle_id, bytes, attempts FROM outbox
             WHERE receipt IS NULL AND next_attempt_at <= ?1 ORDER BY rowid",
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

    /// The sealed bytes of a bundle, delivered or not (removable-media export reads these).
    pub fn sealed_bundle(&self, bundle_id: BundleId) -> Result<Option<Vec<u8>>, VaultError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT bytes FROM outbox WHERE bundle_id = ?1",
                [bundle_id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// When the next upload attempt is due (Unix ms), if any bundle waits.
    pub fn next_attempt_at(&self) -> Result<Option<i64>, VaultError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT min(next_attempt_at) FROM outbox WHERE receipt IS NULL",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Marks a bundle as being sent.
    pub fn mark_uploading(&self, bundle_id: BundleId) -> Result<(), VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE enrollments SET state = 'uploading', updated_at = ?2
             WHERE bundle_id = ?1 AND state = 'sealed'",
            params![bundle_id.to_string(), now_ms()],
        )?;
        // Only a real transition is audited: a repeated call changes nothing.
        if changed == 1 {
            self.audit(&tx, AuditAction::UploadAttempted, &bundle_id.to_string())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a failed attempt (no receipt) and when to try again.
    pub fn upload_failed(
        &self,
        bundle_id: BundleId,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> Result<(), VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
             WHERE bundle_id = ?1 AND receipt IS NULL",
            params![bundle_id.to_string(), next_attempt_at_ms, error],
        )?;
        tx.execute(
            "UPDATE enrollments SET state = 'sealed', updated_at = ?2
             WHERE bundle_id = ?1 AND state = 'uploading'",
            params![bundle_id.to_string(), now_ms()],
        )?;
        self.audit(&tx, AuditAction::UploadFailed, &bundle_id.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a receipt the caller has verified and moves the enrollment to its final state.
    /// A second receipt for the same bundle changes nothing (the first one stands).
    pub fn record_receipt(
        &self,
        bundle_id: BundleId,
        receipt_bytes: &[u8],
        receipt: &Receipt,
    ) -> Result<(), VaultError> {
        let (state, receipt_id, reason) = match &receipt.verdict {
            Verdict::Accepted | Verdict::Duplicate { .. } => (
                "accepted",
                receipt.delivery_receipt_id().map(|r| r.to_string()),
                None,
            ),
            Verdict::Rejected(r) => ("rejected", None, Some(r.code())),
        };
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE outbox SET receipt = ?2 WHERE bundle_id = ?1 AND receipt IS NULL",
            params![bundle_id.to_string(), receipt_bytes],
        )?;
        if changed == 1 {
            tx.execute(
                "UPDATE enrollments SET state = ?2, receipt_id = ?3, reason = ?4, updated_at = ?5
                 WHERE bundle_id = ?1",
                params![bundle_id.to_string(), state, receipt_id, reason, now_ms()],
            )?;
            self.audit(&tx, AuditAction::ReceiptStored, &bundle_id.to_string())?;
        }
        tx.commit()?;
        Ok(())
    }
}
