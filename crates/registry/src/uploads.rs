//! Resumable uploads (draft-ietf-httpbis-resumable-upload): a bundle arrives in pieces and
//! the complete bytes go through exactly the same [`ingest`](crate::ingest) as a single POST.
//!
//! An upload is keyed by (bundle id, declared SHA-256): creating it again returns the
//! first one, so a kit that lost every answer still resumes where the registry is.
//!
//! Durability: a piece is written to the upload's part file without an fsync, and the
//! next piece is taken at the offset received so far. Every [`CHECKPOINT`] bytes the part
//! file is fsynced and then its offset committed: the durable offset. `HEAD` reports the
//! offset received while this process holds the upload (the bytes are in the part file; only
//! a power cut, which ends the process too, could lose them), so a kit whose link dropped
//! resumes where it was; after a registry restart it reports the durable offset, and the
//! upload resumes from its last checkpoint (from zero for a bundle under [`CHECKPOINT`]). The
//! bundle's durability is the blob's, written by ingest, whose commit also keeps the
//! upload's receipt. The upload's row itself is committed softly (`Store::soft`): a power
//! cut may forget an upload, and the kit creates it again.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use ghidanh_bundle::{BundleId, Envelope, Sha256};
use rand::RngCore;
use time::OffsetDateTime;

use crate::blobs;
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
    /// Where the kit resumes: bytes the registry holds (received by this process, or
    /// durable after a restart).
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

/// What an append led to.
#[derive(Debug, Clone)]
pub enum Appended {
    /// More bytes are expected.
    Partial(UploadState),
    /// The upload completed: the signed receipt, as a single POST would have answered.
    Complete {
        /// The signed receipt bytes.
        receipt: Vec<u8>,
        /// The upload's length.
        length: u64,
    },
}

/// Bytes an upload may receive past its durable offset before the part file is fsynced
/// and the offset committed: what a registry crash may cost a kit again, at most.
pub const CHECKPOINT: u64 = 1024 * 1024;

/// The uploads being appended to in this process: per upload, its row and the offset
/// received so far (written to the part file, not necessarily fsynced). Each upload has its
/// own lock, held through an append (and, for the last piece, through ingest): the appends
/// of one upload run one at a time, those of different uploads never wait for each other.
#[derive(Default)]
pub(crate) struct LiveUploads {
    map: Mutex<HashMap<String, Arc<Mutex<Option<Live>>>>>,
}

/// An upload as this process holds it; `None` in its slot until loaded from the store.
struct Live {
    row: UploadRow,
    /// Bytes in the part file; at least `row.offset`, the durable offset.
    received: u64,
}

impl LiveUploads {
    fn slot(&self, upload_id: &str) -> Arc<Mutex<Option<Live>>> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(upload_id.to_owned()).or_default())
    }

    /// The offset this process has received of an upload, if it holds it: bytes it wrote to
    /// the part file itself, readable there until the machine loses power, which also ends
    /// this process (and with it the entry).
    fn received(&self, upload_id: &str) -> Option<u64> {
        let slot = {
            let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            map.get(upload_id).cloned()?
        };
        let slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().map(|live| live.received)
    }

    /// Drops the upload from memory: done once it is complete, cancelled or unknown in
    /// the store (what the store says then is all there is to say).
    fn forget(&self, upload_id: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(upload_id);
    }
}

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
            drop(store);
            return Ok(self.resume_state(&row));
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

    /// The upload's state. Its offset is what this process received when it holds the
    /// upload (a kit whose link dropped resumes from there, not from the last checkpoint:
    /// a 400 KB bundle is below one), else the durable checkpoint (after a restart).
    pub fn upload_state(&self, upload_id: &str) -> Result<UploadState, UploadError> {
        let row = self.stored_upload(upload_id)?;
        Ok(self.resume_state(&row))
    }

    /// The state a kit resumes from: the received offset while this process holds the
    /// upload, else the durable one.
    fn resume_state(&self, row: &UploadRow) -> UploadState {
        let mut state = UploadState::from(row);
        if row.receipt.is_none() {
            if let Some(received) = self.live_uploads.received(&row.upload_id) {
                state.offset = received.max(row.offset);
            }
        }
        state
    }

    /// The signed receipt of a completed upload (`None` while it is incomplete).
    pub fn upload_receipt(&self, upload_id: &str) -> Result<Option<Vec<u8>>, UploadError> {
        Ok(self.stored_upload(upload_id)?.receipt)
    }

    /// Appends `bytes` at `offset` (the offset received so far, or any offset back to the
    /// durable one: a kit resuming after `HEAD`); with `complete`, the upload ends with them
    /// and goes through ingest.
    pub fn append_upload(
        &self,
        upload_id: &str,
        offset: u64,
        bytes: &[u8],
        complete: bool,
    ) -> Result<Appended, UploadError> {
        if !is_upload_id(upload_id) {
            return Err(UploadError::NotFound);
        }
        let slot = self.live_uploads.slot(upload_id);
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        let live = match slot.take() {
            Some(live) => live,
            None => match self.stored_upload(upload_id) {
                Ok(row) => Live {
                    received: row.offset,
                    row,
                },
                Err(e) => {
                    self.live_uploads.forget(upload_id);
                    return Err(e);
                }
            },
        };
        let live = slot.insert(live);
        let row = &live.row;
        if row.receipt.is_some() {
            self.live_uploads.forget(upload_id);
        }
        let end = check_append_within(
            row.receipt.is_some(),
            row.offset,
            live.received,
            row.length,
            offset,
            bytes.len(),
            complete,
        )?;
        let part = self.dir.upload_part(upload_id);
        let file = write_piece(&part, offset, bytes)?;
        live.received = end;
        if !complete {
            if end - live.row.offset >= CHECKPOINT {
                // The bytes first, then the offset that promises them.
                file.sync_all()
                    .map_err(|e| RegistryError::io("syncing", &part, e))?;
                if live.row.offset == 0 {
                    blobs::sync_dir(&self.dir.uploads())?;
                }
                self.lock().set_upload_offset(upload_id, end)?;
                live.row.offset = end;
            }
            return Ok(Appended::Partial(UploadState {
                offset: end,
                ..UploadState::from(&live.row)
            }));
        }
        drop(file);
        let (length, expected_sha, expected_id) = (row.length, row.sha256, row.bundle_id);
        let body = read_part(&part, length)?;
        let sha256 = Sha256::of(&body);
        let declared_id = Envelope::parse(&body).ok().map(|e| e.header().bundle_id);
        if sha256 != expected_sha || declared_id.is_some_and(|id| id != expected_id) {
            self.lock().delete_upload(upload_id)?;
            let _ = fs::remove_file(&part);
            *slot = None;
            self.live_uploads.forget(upload_id);
            return Err(UploadError::DigestMismatch);
        }
        // Ingest commits the receipt into the upload's row with its verdict.
        let submission = ingest::ingest(
            self,
            &body,
            Some(sha256),
            Some(upload_id),
            OffsetDateTime::now_utc(),
        )?;
        // The receipt is committed: the partial bytes are no longer needed (an accepted
        // bundle has its own blob by now).
        let _ = fs::remove_file(&part);
        *slot = None;
        self.live_uploads.forget(upload_id);
        Ok(Appended::Complete {
            receipt: submission.bytes,
            length,
        })
    }

    /// Cancels an upload: its row and partial bytes are removed.
    pub fn cancel_upload(&self, upload_id: &str) -> Result<(), UploadError> {
        if !is_upload_id(upload_id) {
            return Err(UploadError::NotFound);
        }
        let slot = self.live_uploads.slot(upload_id);
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        *slot = None;
        self.live_uploads.forget(upload_id);
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
    check_append_within(
        already_complete,
        durable_offset,
        durable_offset,
        length,
        offset,
        len,
        complete,
    )
}

/// [`check_append`] where the append may start anywhere from the durable offset to the
/// offset received so far (bytes in the part file, maybe not yet fsynced); a mismatch names
/// the received offset.
pub(crate) fn check_append_within(
    already_complete: bool,
    durable_offset: u64,
    received: u64,
    length: u64,
    offset: u64,
    len: usize,
    complete: bool,
) -> Result<u64, UploadError> {
    if already_complete {
        return Err(UploadError::AlreadyComplete { length });
    }
    if offset < durable_offset || offset > received {
        return Err(UploadError::OffsetMismatch {
            expected: received,
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

/// Writes `bytes` at `offset` and fsyncs. Bytes past `offset` (from a write whose offset
/// never committed, before a crash) are cut first.
pub(crate) fn write_at(
    part: &std::path::Path,
    offset: u64,
    bytes: &[u8],
) -> Result<(), RegistryError> {
    let mut file = OpenOptions::new()
        .write(true)
        .open(part)
        .map_err(|e| RegistryError::io("opening", part, e))?;
    file.set_len(offset)
        .and_then(|()| file.seek(SeekFrom::Start(offset)).map(|_| ()))
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .map_err(|e| RegistryError::io("writing", part, e))
}

/// Writes `bytes` at `offset` without an fsync, creating the part file if it is missing
/// (an upload's first piece); bytes past `offset` are cut first. Returns the file, for a
/// checkpoint's fsync.
fn write_piece(part: &std::path::Path, offset: u64, bytes: &[u8]) -> Result<File, RegistryError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(part)
        .map_err(|e| RegistryError::io("opening", part, e))?;
    file.set_len(offset)
        .and_then(|()| file.seek(SeekFrom::Start(offset)).map(|_| ()))
        .and_then(|()| file.write_all(bytes))
        .map_err(|e| RegistryError::io("writing", part, e))?;
    Ok(file)
}

/// The whole partial upload, which must hold exactly `length` bytes.
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
