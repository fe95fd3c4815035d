//! Resumable uploads (draft-ietf-httpbis-resumable-upload): a bundle arrives in pieces and
//! the complete bytes go through exactly the same [`ingest`](crate::ingest) as a single POST.
//!
//! An upload is keyed by (bundle id, declared SHA-256): creating it again returns the
//! first one, so a kit that lost every answer still resumes where the registry is.
//!
//! Durability: the bytes of a `PATCH` reach the upload's part file fsynced, and only then
//! is their offset committed (see [`crate::append_stream`]): every [`CHECKPOINT`] bytes,
//! and whenever a request ends without completing the upload. The offset `HEAD` reports is
//! that committed one, so it never counts a byte a crash could lose; a registry killed
//! mid-request resumes from its last sync. The bundle's durability is the blob's, written
//! by ingest, whose commit also keeps the upload's receipt. The upload's row and its offset
//! are committed softly (`Store::soft`): a power cut may forget an upload, or move its
//! offset back to an earlier one (whose bytes are fsynced too), and the kit resumes from
//! what the registry then says.

use std::fs::{self, File};
use std::io::Read;
use std::path::PathBuf;

use ghidanh_bundle::{BundleId, Sha256};
use rand::RngCore;
use time::OffsetDateTime;

use crate::append_stream::{AppendSlots, PartStore, StoredUpload};
use crate::config::BUNDLE_BODY_LIMIT;
use crate::registry::unix_now;
use crate::store::UploadRow;
use crate::{ingest, Registry, RegistryError};

/// Why an upload request is refused. Each maps to one HTTP status and error code.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No upload with this id (never created, cancelled, or refused after completion).
    #[error("no such upload")]
    NotFound,
    /// The declared length is over the bundle size limit.
    #[error("upload length {length} is over the limit of {limit} bytes")]
    TooLarge {
        /// Declared length.
        length: u64,
        /// The limit ([`BUNDLE_BODY_LIMIT`]).
        limit: u64,
    },
    /// The request's offset is not the upload's durable offset.
    #[error("offset {provided} does not match the upload offset {expected}")]
    OffsetMismatch {
        /// The upload's offset.
        expected: u64,
        /// The request's offset.
        provided: u64,
    },
    /// The upload already completed; its receipt is at `GET` on the upload.
    #[error("the upload is already complete")]
    AlreadyComplete {
        /// Its length.
        length: u64,
    },
    /// The piece would end past the declared length, or the upload was declared complete
    /// short of it, or created again with another length.
    #[error("inconsistent length: the upload is {length} bytes")]
    InconsistentLength {
        /// The declared length.
        length: u64,
    },
    /// The complete bytes do not hash to the declared SHA-256 or name another bundle: the
    /// upload is dropped and must start again.
    #[error("the uploaded bytes do not match the declared digest or bundle id")]
    DigestMismatch,
    /// The request's body was cut, stalled or superseded by a newer request on the upload;
    /// what it brought is durable up to `offset`, where the upload resumes.
    #[error("the append was interrupted; the upload holds {offset} bytes")]
    Interrupted {
        /// The upload's durable offset after the interruption.
        offset: u64,
    },
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadState {
    /// The upload's id (its resource is `/api/v1/uploads/{id}`).
    pub upload_id: String,
    /// Declared length in bytes.
    pub length: u64,
    /// Where the kit resumes: the bytes the registry holds durably.
    pub offset: u64,
    /// Whether the upload completed (its receipt is kept).
    pub complete: bool,
}

impl From<&UploadRow> for UploadState {
    fn from(r: &UploadRow) -> Self {
        UploadState {
            upload_id: r.upload_id.clone(),
            length: r.length,
            offset: r.offset,
            complete: r.receipt.is_some(),
        }
    }
}

/// Bytes an append may hold in memory before they are written to the part file, fsynced,
/// and their offset committed: what a registry crash mid-request may cost a kit again, at
/// most.
pub const CHECKPOINT: u64 = 1024 * 1024;

/// Whether `s` can be an upload id (32 lower-case hex digits); anything else names no
/// upload and never reaches the file system.
pub(crate) fn is_upload_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Registry {
    /// Creates the upload of `length` bytes of `bundle_id` hashing to `sha256`, or returns
    /// the one already created for them.
    pub fn create_upload(
        &self,
        bundle_id: BundleId,
        sha256: Sha256,
        length: u64,
    ) -> Result<UploadState, UploadError> {
        let limit = BUNDLE_BODY_LIMIT as u64;
        if length > limit {
            return Err(UploadError::TooLarge { length, limit });
        }
        let dir = self.dir.uploads();
        fs::create_dir_all(&dir).map_err(|e| RegistryError::io("creating", &dir, e))?;
        let store = self.lock();
        if let Some(row) = store.upload_by_key(bundle_id, sha256)? {
            if row.length != length {
                return Err(UploadError::InconsistentLength { length: row.length });
            }
            return Ok(UploadState::from(&row));
        }
        let mut id = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut id);
        let row = UploadRow {
            upload_id: hex::encode(id),
            bundle_id,
            sha256,
            length,
            offset: 0,
            receipt: None,
        };
        // The part file comes with the first piece: a missing one holds zero bytes.
        store.insert_upload(&row, unix_now())?;
        tracing::info!(upload_id = %row.upload_id, %bundle_id, length, "upload created");
        Ok(UploadState::from(&row))
    }

    /// The upload's state; its offset is the durable one (see the module's doc).
    pub fn upload_state(&self, upload_id: &str) -> Result<UploadState, UploadError> {
        Ok(UploadState::from(&self.stored_upload(upload_id)?))
    }

    /// The signed receipt of a completed upload (`None` while it is incomplete).
    pub fn upload_receipt(&self, upload_id: &str) -> Result<Option<Vec<u8>>, UploadError> {
        Ok(self.stored_upload(upload_id)?.receipt)
    }

    /// Cancels an upload: its row and partial bytes are removed.
    pub fn cancel_upload(&self, upload_id: &str) -> Result<(), UploadError> {
        if !is_upload_id(upload_id) {
            return Err(UploadError::NotFound);
        }
        let row = self.stored_upload(upload_id)?;
        self.lock().delete_upload(&row.upload_id)?;
        let _ = fs::remove_file(self.dir.upload_part(upload_id));
        Ok(())
    }

    /// The upload's row as stored (its offset the durable one).
    fn stored_upload(&self, upload_id: &str) -> Result<UploadRow, UploadError> {
        if !is_upload_id(upload_id) {
            return Err(UploadError::NotFound);
        }
        self.read(|s| s.upload(upload_id))?
            .ok_or(UploadError::NotFound)
    }
}

impl PartStore for Registry {
    /// The signed receipt, as a single POST would have answered.
    type Done = Vec<u8>;

    fn appends(&self) -> &AppendSlots {
        &self.appends
    }

    fn stored(&self, upload_id: &str) -> Result<StoredUpload, UploadError> {
        let row = self.stored_upload(upload_id)?;
        Ok(StoredUpload {
            complete: row.receipt.is_some(),
            upload_id: row.upload_id,
            bundle_id: row.bundle_id,
            sha256: row.sha256,
            length: row.length,
            offset: row.offset,
        })
    }

    fn part(&self, upload_id: &str) -> PathBuf {
        self.dir.upload_part(upload_id)
    }

    fn commit_offset(&self, upload_id: &str, offset: u64) -> Result<(), UploadError> {
        Ok(self.lock().set_upload_offset(upload_id, offset)?)
    }

    fn complete(&self, upload: &StoredUpload, body: Vec<u8>) -> Result<Vec<u8>, UploadError> {
        let part = self.dir.upload_part(&upload.upload_id);
        if !upload.declared(&body) {
            self.lock().delete_upload(&upload.upload_id)?;
            let _ = fs::remove_file(&part);
            return Err(UploadError::DigestMismatch);
        }
        // Ingest commits the receipt into the upload's row with its verdict.
        let submission = ingest::ingest(
            self,
            &body,
            Some(upload.sha256),
            Some(&upload.upload_id),
            OffsetDateTime::now_utc(),
        )?;
        // The receipt is committed: partial bytes, if a request synced any, are no longer
        // needed (an accepted bundle has its own blob by now). Usually there are none.
        let _ = fs::remove_file(&part);
        Ok(submission.bytes)
    }
}

/// The draft's rules for one append (central and relay alike): not after completion, only at
/// the durable offset, never past the declared length, and "complete" only at its end.
/// Returns the offset after the append.
pub(crate) fn check_append(
    already_complete: bool,
    durable_offset: u64,
    length: u64,
    offset: u64,
    len: usize,
    complete: bool,
) -> Result<u64, UploadError> {
    if already_complete {
        return Err(UploadError::AlreadyComplete { length });
    }
    if offset != durable_offset {
        return Err(UploadError::OffsetMismatch {
            expected: durable_offset,
            provided: offset,
        });
    }
    let end = offset
        .checked_add(len as u64)
        .filter(|end| *end <= length)
        .ok_or(UploadError::InconsistentLength { length })?;
    if complete && end != length {
        return Err(UploadError::InconsistentLength { length });
    }
    Ok(end)
}

/// The first `length` bytes of a partial upload, which must hold at least that many.
pub(crate) fn read_part(part: &std::path::Path, length: u64) -> Result<Vec<u8>, RegistryError> {
    let mut body = Vec::new();
    File::open(part)
        .and_then(|f| f.take(length).read_to_end(&mut body))
        .map_err(|e| RegistryError::io("reading", part, e))?;
    if body.len() as u64 != length {
        return Err(RegistryError::Corrupt(
            "partial upload shorter than its offset",
        ));
    }
    Ok(body)
}
