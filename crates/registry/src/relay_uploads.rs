//! Resumable uploads to a relay: the same protocol as central (`uploads.rs`), the same
//! streamed appends (`append_stream.rs`: bytes fsynced before the durable offset moves), an
//! upload keyed by (bundle id, digest); the complete bytes go through [`Relay::submit`], so
//! the answer is the custody receipt (or the central receipt once known) that a single POST
//! would have had.

use std::fs;
use std::path::PathBuf;

use ghidanh_bundle::{BundleId, Sha256};
use rand::RngCore;

use crate::append_stream::{AppendSlots, PartStore, StoredUpload};
use crate::config::BUNDLE_BODY_LIMIT;
use crate::registry::unix_now;
use crate::relay::{Relay, RelayAnswer};
use crate::relay_store::{RelayStore, RelayUploadRow};
use crate::uploads::is_upload_id;
use crate::{RegistryError, UploadError, UploadState};

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
        // The part file comes with the first bytes synced: a missing one holds zero bytes.
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

    pub(crate) fn cancel_upload(&self, upload_id: &str) -> Result<(), UploadError> {
        let store = self.lock();
        let row = self.upload_row(&store, upload_id)?;
        store.delete_upload(&row.upload_id)?;
        let _ = fs::remove_file(self.part(upload_id));
        Ok(())
    }
}

impl PartStore for Relay {
    type Done = RelayAnswer;

    fn appends(&self) -> &AppendSlots {
        &self.appends
    }

    fn stored(&self, upload_id: &str) -> Result<StoredUpload, UploadError> {
        let row = self.upload_row(&self.lock(), upload_id)?;
        Ok(StoredUpload {
            upload_id: row.upload_id,
            bundle_id: row.bundle_id,
            sha256: row.sha256,
            length: row.length,
            offset: row.offset,
            complete: row.complete,
        })
    }

    fn part(&self, upload_id: &str) -> PathBuf {
        Relay::part(self, upload_id)
    }

    fn commit_offset(&self, upload_id: &str, offset: u64) -> Result<(), UploadError> {
        Ok(self.lock().set_upload_offset(upload_id, offset)?)
    }

    fn complete(&self, upload: &StoredUpload, body: Vec<u8>) -> Result<RelayAnswer, UploadError> {
        let id = &upload.upload_id;
        if !upload.declared(&body) {
            self.lock().delete_upload(id)?;
            let _ = fs::remove_file(self.part(id));
            return Err(UploadError::DigestMismatch);
        }
        // `submit` takes the store's lock itself; an upload completed twice at once gives
        // the same answer both times (it is idempotent on the bytes).
        let answer = self.submit(&body)?;
        let store = self.lock();
        match answer {
            RelayAnswer::Custody(_) | RelayAnswer::Central(_) => store.complete_upload(id)?,
            // Nothing held: the upload goes, as after a digest mismatch.
            RelayAnswer::Refused(_) | RelayAnswer::Conflict => store.delete_upload(id)?,
        }
        let _ = fs::remove_file(self.part(id));
        Ok(answer)
    }
}
