//! Resumable uploads to a relay: the same protocol as central (`uploads.rs`), pieces
//! fsynced before the durable offset moves, an upload keyed by (bundle id, digest); the
//! complete bytes go through [`Relay::submit`], so the answer is the custody receipt (or the
//! central receipt once known) that a single POST would have had.

use std::fs::{self, File};
use std::path::PathBuf;

use ghidanh_bundle::{BundleId, Envelope, Sha256};
use rand::RngCore;

use crate::blobs::sync_dir;
use crate::config::BUNDLE_BODY_LIMIT;
use crate::registry::unix_now;
use crate::relay::{Relay, RelayAnswer};
use crate::relay_store::{RelayStore, RelayUploadRow};
use crate::uploads::{check_append, is_upload_id, read_part, write_at};
use crate::{RegistryError, UploadError, UploadState};

/// What a relay upload's append led to.
pub(crate) enum RelayAppended {
    Partial(UploadState),
    Complete(RelayAnswer),
}

fn state(r: &RelayUploadRow) -> UploadState {
    UploadState {
        upload_id: r.upload_id.clone(),
        length: r.length,
        offset: r.offset,
        complete: r.complete,
    }
}

impl Relay {
    fn uploads_dir(&self) -> PathBuf {
        self.dir.join("uploads")
    }

    fn part(&self, upload_id: &str) -> PathBuf {
        self.uploads_dir().join(format!("{upload_id}.part"))
    }

    fn upload_row(
        &self,
        store: &RelayStore,
        upload_id: &str,
    ) -> Result<RelayUploadRow, UploadError> {
        if !is_upload_id(upload_id) {
            return Err(UploadError::NotFound);
        }
        store.upload(upload_id)?.ok_or(UploadError::NotFound)
    }

    pub(crate) fn create_upload(
        &self,
        bundle_id: BundleId,
        sha256: Sha256,
        length: u64,
    ) -> Result<UploadState, UploadError> {
        let limit = BUNDLE_BODY_LIMIT as u64;
        if length > limit {
            return Err(UploadError::TooLarge { length, limit });
        }
        let store = self.lock();
        if let Some(row) = store.upload_by_key(bundle_id, sha256)? {
            if row.length != length {
                return Err(UploadError::InconsistentLength { length: row.length });
            }
            return Ok(state(&row));
        }
        let mut id = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut id);
        let row = RelayUploadRow {
            upload_id: hex::encode(id),
            bundle_id,
            sha256,
            length,
            offset: 0,
            complete: false,
        };
        let dir = self.uploads_dir();
        fs::create_dir_all(&dir).map_err(|e| RegistryError::io("creating", &dir, e))?;
        let part = self.part(&row.upload_id);
        File::create(&part)
            .and_then(|f| f.sync_all())
            .map_err(|e| RegistryError::io("creating", &part, e))?;
        sync_dir(&dir)?;
        store.insert_upload(&row, unix_now())?;
        Ok(state(&row))
    }

    pub(crate) fn upload_state(&self, upload_id: &str) -> Result<UploadState, UploadError> {
        Ok(state(&self.upload_row(&self.lock(), upload_id)?))
    }

    /// The answer of a completed upload (`None` while incomplete).
    pub(crate) fn upload_answer(
        &self,
        upload_id: &str,
    ) -> Result<Option<RelayAnswer>, UploadError> {
        let store = self.lock();
        let row = self.upload_row(&store, upload_id)?;
        if !row.complete {
            return Ok(None);
        }
        let held = store.held(row.bundle_id)?.ok_or(RegistryError::Corrupt(
            "completed upload without its held bundle",
        ))?;
        Ok(Some(match held.central {
            Some(c) => RelayAnswer::Central(c),
            None => RelayAnswer::Custody(held.custody),
        }))
    }

    pub(crate) fn append_upload(
        &self,
        upload_id: &str,
        offset: u64,
        bytes: &[u8],
        complete: bool,
    ) -> Result<RelayAppended, UploadError> {
        let body = {
            let store = self.lock();
            let row = self.upload_row(&store, upload_id)?;
            let end = check_append(
                row.complete,
                row.offset,
                row.length,
                offset,
                bytes.len(),
                complete,
            )?;
            let part = self.part(upload_id);
            if !bytes.is_empty() {
                write_at(&part, offset, bytes)?;
                store.set_upload_offset(upload_id, end)?;
            }
            if !complete {
                return Ok(RelayAppended::Partial(UploadState {
                    offset: end,
                    ..state(&row)
                }));
            }
            let body = read_part(&part, row.length)?;
            let declared = Envelope::parse(&body).ok().map(|e| e.header().bundle_id);
            if Sha256::of(&body) != row.sha256 || declared.is_some_and(|id| id != row.bundle_id) {
                store.delete_upload(upload_id)?;
                let _ = fs::remove_file(&part);
                return Err(UploadError::DigestMismatch);
            }
            body
        };
        // `submit` takes the store's lock itself; an upload completed twice at once gives
        // the same answer both times (it is idempotent on the bytes).
        let answer = self.submit(&body)?;
        let store = self.lock();
        match answer {
            RelayAnswer::Custody(_) | RelayAnswer::Central(_) => {
                store.complete_upload(upload_id)?
            }
            // Nothing held: the upload goes, as after a digest mismatch.
            RelayAnswer::Refused(_) | RelayAnswer::Conflict => store.delete_upload(upload_id)?,
        }
        let _ = fs::remove_file(self.part(upload_id));
        Ok(RelayAppended::Complete(answer))
    }

    pub(crate) fn cancel_upload(&self, upload_id: &str) -> Result<(), UploadError> {
        let store = self.lock();
        let row = self.upload_row(&store, upload_id)?;
        store.delete_upload(&row.upload_id)?;
        let _ = fs::remove_file(self.part(upload_id));
        Ok(())
    }
}
