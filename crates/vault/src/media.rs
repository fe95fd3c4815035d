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

impl Vault {
    /// Removes an image (or a finger's exception) of a draft; nothing happens if there is none.
    pub fn remove_media(&self, id: EnrollmentId, kind: MediaKind) -> Result<(), VaultError> {
        let (k, position) = kind.columns();
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        require_draft(&tx, id)?;
        let removed = tx.execute(
            "DELETE FROM media WHERE enrollment_id = ?1 AND kind = ?2 AND position = ?3",
            params![id.to_string(), k, position],
        )?;
        if removed > 0 {
            self.audit(&tx, AuditAction::MediaRemoved, &subject(id, kind))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every image of an enrollment, as `(kind, format, bytes)`, portrait first then fingers
    /// by position: what finalising seals. Audited as one read.
    pub fn all_media(&self, id: EnrollmentId) -> Result<Vec<StoredMedia>, VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let found = {
            let mut stmt = tx.prepare(
                "SELECT kind, position, format, bytes FROM media WHERE enrollment_id = ?1
                 ORDER BY kind DESC, position",
            )?;
            let rows = stmt.query_map([id.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u8>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                ))
            })?;
            let mut found = Vec::new();
            for row in rows {
                let (kind, position, format, bytes) = row?;
                let kind = match (kind.as_str(), FingerPosition::new(position)) {
                    ("portrait", _) => MediaKind::Portrait,
                    ("finger", Some(p)) => MediaKind::Finger(p),
                    _ => return Err(VaultError::Corrupt("media kind")),
                };
                found.push(StoredMedia {
                    kind,
                    format,
                    bytes,
                });
            }
            found
        };
        if !found.is_empty() {
            self.audit(&tx, AuditAction::Read, &format!("{id} media"))?;
        }
        tx.commit()?;
        Ok(found)
    }

    /// Copies every image of `from` to the draft `to` (a correction of a refused record keeps
    /// the person's photo and prints: they may be far away by the time the refusal comes).
    pub fn copy_media(&self, from: EnrollmentId, to: EnrollmentId) -> Result<usize, VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        require_draft(&tx, to)?;
        let copied = tx.execute(
            "INSERT OR REPLACE INTO media (enrollment_id, kind, position, format, bytes)
             SELECT ?2, kind, position, format, bytes FROM media WHERE enrollment_id = ?1",
            params![from.to_string(), to.to_string()],
        )?;
        if copied > 0 {
            self.audit(
                &tx,
                AuditAction::MediaStored,
                &format!("{to} media from {from}"),
            )?;
        }
        tx.commit()?;
        Ok(copied)
    }
}

/// One stored image (or a finger's exception) of an enrollment.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredMedia {
    /// Which one.
    pub kind: MediaKind,
    /// How `bytes` are encoded (the kit's words: `iso19794_5`, `iso19794_4`, `exception`…).
    pub format: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for StoredMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Images are personal data: only their size is printed.
        write!(
            f,
            "StoredMedia({:?}, {}, {} bytes)",
            self.kind,
            self.format,
            self.bytes.len()
        )
    }
}

/// Ids and a finger number only: what was touched, never what it shows.
fn subject(id: EnrollmentId, kind: MediaKind) -> String {
    match kind {
        MediaKind::Portrait => format!("{id} portrait"),
        MediaKind::Finger(p) => format!("{id} finger {}", p.get()),
    }
}
