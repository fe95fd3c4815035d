//! Portrait and fingerprint images, kept inside the encrypted database.
//!
//! Inside rather than as files next to it: SQLCipher then encrypts them with the same key and
//! the same care as the record (WAL and temp files included), a purge or a wipe removes them
//! in the same transaction as the rest, and a backup is one file. The price is a larger
//! database (a few hundred KB per enrollment), which SQLite handles as overflow pages.

use ghidanh_bundle::EnrollmentId;
use rusqlite::{params, OptionalExtension};

use crate::enrollments::require_draft;
use crate::{AuditAction, Vault, VaultError};

/// A finger position of ISO/IEC 19794-4 (1 = right thumb … 10 = left little finger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FingerPosition(u8);

impl FingerPosition {
    /// The position `n`, if it names one finger (1..=10); the standard's other codes (0 for
    /// unknown, 11.. for slaps) are not single-finger images.
    pub fn new(n: u8) -> Option<FingerPosition> {
        (1..=10).contains(&n).then_some(FingerPosition(n))
    }

    /// The ISO/IEC 19794-4 code.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// Which image of an enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// The face photo.
    Portrait,
    /// One fingerprint.
    Finger(FingerPosition),
}

impl MediaKind {
    /// The stored `kind` and `position` columns (a portrait has position 0).
    fn columns(self) -> (&'static str, u8) {
        match self {
            MediaKind::Portrait => ("portrait", 0),
            MediaKind::Finger(p) => ("finger", p.get()),
        }
    }
}

impl Vault {
    /// Stores an image of a draft, replacing the one of the same kind and position. Only
    /// while the record is editable: after finalising, the images are what was attested.
    pub fn store_media(
        &self,
        id: EnrollmentId,
        kind: MediaKind,
        format: &str,
        bytes: &[u8],
    ) -> Result<(), VaultError> {
        let (k, position) = kind.columns();
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        require_draft(&tx, id)?;
        tx.execute(
            "INSERT INTO media (enrollment_id, kind, position, format, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (enrollment_id, kind, position)
             DO UPDATE SET format = excluded.format, bytes = excluded.bytes",
            params![id.to_string(), k, position, format, bytes],
        )?;
        tx.execute(
            "UPDATE enrollments SET updated_at = ?2 WHERE id = ?1",
            params![id.to_string(), crate::db::now_ms()],
        )?;
        self.audit(&tx, AuditAction::MediaStored, &subject(id, kind))?;
        tx.commit()?;
        Ok(())
    }

    /// An image for display, as `(format, bytes)`; `None` when there is none (or it was
    /// purged). Audited as a read.
    pub fn media(
        &self,
        id: EnrollmentId,
        kind: MediaKind,
    ) -> Result<Option<(String, Vec<u8>)>, VaultError> {
        let (k, position) = kind.columns();
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let found: Option<(String, Vec<u8>)> = tx
            .query_row(
                "SELECT format, bytes FROM media
                 WHERE enrollment_id = ?1 AND kind = ?2 AND position = ?3",
                params![id.to_string(), k, position],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if found.is_some() {
            self.audit(&tx, AuditAction::Read, &subject(id, kind))?;
        }
        tx.commit()?;
        Ok(found)
    }
}

/// Ids and a finger number only: what was touched, never what it shows.
fn subject(id: EnrollmentId, kind: MediaKind) -> String {
    match kind {
        MediaKind::Portrait => format!("{id} portrait"),
        MediaKind::Finger(p) => format!("{id} finger {}", p.get()),
    }
}
