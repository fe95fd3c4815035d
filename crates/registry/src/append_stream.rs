//! A resumable upload's `PATCH` body, taken as a stream (central and relay alike): a kit
//! sends the rest of a bundle in one request, and an interruption anywhere in it still
//! leaves the upload at a durable offset to resume from.
//!
//! The bytes received are held in memory and go to the upload's part file, fsynced, and
//! their offset committed, whenever [`CHECKPOINT`] bytes are pending, and when the request
//! ends without completing the upload: the body ended (`Upload-Complete: ?0`), broke (a
//! reset, a truncated body), stalled past [`IDLE`], or was superseded by another request on
//! the same upload. So the offset the store holds, which `HEAD` reports, never counts a byte
//! that is not fsynced, and a registry killed mid-request resumes from its last sync. An
//! upload that completes in the request needs no part file at all: its bytes go straight to
//! ingest, whose blob write is the durable one (creating and deleting a part file per
//! bundle is what a small upload would otherwise pay, and file creation is not cheap).
//!
//! One request at a time per upload ([`AppendSlots`]); a newer `PATCH`, a `HEAD` or a
//! `DELETE` interrupts the one in progress (the draft: a server should end an ongoing
//! append before it answers an offset retrieval) and waits for its bytes to be synced.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use ghidanh_bundle::{BundleId, Envelope, Sha256};
use http_body_util::BodyExt;
use tokio::sync::Notify;

use crate::blobs::sync_dir;
use crate::uploads::{check_append, is_upload_id, read_part, CHECKPOINT};
use crate::{RegistryError, UploadError, UploadState};

/// How long a request body may send nothing before the append ends as interrupted: a link
/// that died without a reset must not hold the upload (and its bytes unsynced) for ever.
pub(crate) const IDLE: Duration = Duration::from_secs(30);

/// An upload as its store holds it: the offset is the durable one.
#[derive(Debug, Clone)]
pub(crate) struct StoredUpload {
    pub(crate) upload_id: String,
    pub(crate) bundle_id: BundleId,
    pub(crate) sha256: Sha256,
    pub(crate) length: u64,
    pub(crate) offset: u64,
    pub(crate) complete: bool,
}

impl StoredUpload {
    pub(crate) fn state(&self) -> UploadState {
        UploadState {
            upload_id: self.upload_id.clone(),
            length: self.length,
            offset: self.offset,
            complete: self.complete,
        }
    }

    /// Whether complete bytes are the ones declared at creation: their SHA-256, and (when
    /// they parse as a bundle) its bundle id.
    pub(crate) fn declared(&self, body: &[u8]) -> bool {
        let id = Envelope::parse(body).ok().map(|e| e.header().bundle_id);
        Sha256::of(body) == self.sha256 && id.is_none_or(|id| id == self.bundle_id)
    }
}

/// What the central registry and a relay each provide for [`append`]. Every method blocks
/// (it runs in `spawn_blocking`).
pub(crate) trait PartStore: Send + Sync + 'static {
    /// What a completed upload answers.
    type Done: Send + 'static;
    /// The appends in progress on this store's uploads.
    fn appends(&self) -> &AppendSlots;
    /// The upload's row (the id is well-formed).
    fn stored(&self, upload_id: &str) -> Result<StoredUpload, UploadError>;
    /// Where the upload's partial bytes are kept.
    fn part(&self, upload_id: &str) -> PathBuf;
    /// Records `offset` as durable; the bytes up to it are fsynced already.
    fn commit_offset(&self, upload_id: &str, offset: u64) -> Result<(), UploadError>;
    /// Takes the upload's complete bytes (exactly its declared length): checks them
    /// against the declaration and decides.
    fn complete(&self, upload: &StoredUpload, body: Vec<u8>) -> Result<Self::Done, UploadError>;
}

/// What an append led to.
pub(crate) enum StreamAppended<D> {
    /// The request ended with the upload still open, its bytes durable.
    Partial(UploadState),
    /// The upload completed, with what its store answered.
    Complete {
        /// The answer.
        done: D,
        /// The upload's length.
        length: u64,
    },
}

/// Per upload, the turn to append and the means to interrupt whoever has it.
#[derive(Default)]
pub(crate) struct AppendSlots {
    map: Mutex<HashMap<String, Arc<Slot>>>,
}

#[derive(Default)]
struct Slot {
    turn: tokio::sync::Mutex<()>,
    interrupt: Notify,
}

/// A hold on one upload's slot; the slot leaves the map with its last hold.
struct SlotRef<'a> {
    slots: &'a AppendSlots,
    upload_id: String,
    slot: Arc<Slot>,
}

impl Drop for SlotRef<'_> {
    fn drop(&mut self) {
        let mut map = self.slots.map.lock().unwrap_or_else(|p| p.into_inner());
        // Holds are taken under this lock: two references (the map's and ours) mean no one
        // else has the slot, and no one can take it before it is gone.
        if Arc::strong_count(&self.slot) == 2 {
            map.remove(&self.upload_id);
        }
    }
}

impl AppendSlots {
    fn slot(&self, upload_id: &str) -> SlotRef<'_> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let slot = Arc::clone(map.entry(upload_id.to_owned()).or_default());
        SlotRef {
            slots: self,
            upload_id: upload_id.to_owned(),
            slot,
        }
    }

    /// Ends the append in progress on the upload, if any, waits until its bytes are synced
    /// and its offset committed, then runs `f` before any other append begins.
    pub(crate) async fn quiesced<T>(
        &self,
        upload_id: &str,
        f: impl std::future::Future<Output = T>,
    ) -> T {
        let slot = self.slot(upload_id);
        slot.slot.interrupt.notify_waiters();
        let _turn = slot.slot.turn.lock().await;
        f.await
    }
}

async fn run<S: PartStore, T: Send + 'static>(
    store: &Arc<S>,
    f: impl FnOnce(&S) -> Result<T, UploadError> + Send + 'static,
) -> Result<T, UploadError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .unwrap_or(Err(UploadError::Registry(RegistryError::Task)))
}

/// How the body's stream ended.
enum Ended {
    /// All of it arrived.
    Whole,
    /// Cut, stalled or superseded: the request's answer will not matter to the kit, the
    /// durable offset will.
    Interrupted,
    /// More bytes than the upload has room for.
    TooLong,
}

/// Appends the request body `body` at `offset` to the upload (`complete`: the body ends
/// it). `declared`: the body's Content-Length, when sent, checked before a byte is read.
///
/// Runs as a task of its own: when a client's connection drops, hyper drops the request's
/// future, and the bytes received so far must still be synced and their offset committed
/// (otherwise a cut link would send the kit back to the last checkpoint, for a 400 KB
/// bundle to zero).
pub(crate) async fn append<S: PartStore>(
    store: Arc<S>,
    upload_id: String,
    offset: u64,
    complete: bool,
    declared: Option<u64>,
    body: Body,
) -> Result<StreamAppended<S::Done>, UploadError> {
    tokio::spawn(append_to_end(
        store, upload_id, offset, complete, declared, body,
    ))
    .await
    .unwrap_or(Err(UploadError::Registry(RegistryError::Task)))
}

async fn append_to_end<S: PartStore>(
    store: Arc<S>,
    upload_id: String,
    offset: u64,
    complete: bool,
    declared: Option<u64>,
    mut body: Body,
) -> Result<StreamAppended<S::Done>, UploadError> {
    if !is_upload_id(&upload_id) {
        return Err(UploadError::NotFound);
    }
    let slot = store.appends().slot(&upload_id);
    // A newer request supersedes an older one still running (its link is most likely gone);
    // this one's own interruption is armed only after, so it does not end itself.
    slot.slot.interrupt.notify_waiters();
    let interrupted = slot.slot.interrupt.notified();
    tokio::pin!(interrupted);
    interrupted.as_mut().enable();
    let _turn = slot.slot.turn.lock().await;

    let id = upload_id.clone();
    let upload = run(&store, move |s| s.stored(&id)).await?;
    // With a Content-Length, every rule is checked before the body is read; without one,
    // the offset now, the length as the bytes arrive.
    let len = usize::try_from(declared.unwrap_or(0)).unwrap_or(usize::MAX);
    check_append(
        upload.complete,
        upload.offset,
        upload.length,
        offset,
        len,
        complete && declared.is_some(),
    )?;
    let room = upload.length - offset;
    let part = store.part(&upload_id);
    // `synced`: bytes in the part file, fsynced, their offset committed; `pending`: bytes
    // after them, in memory.
    let mut synced = offset;
    let mut pending: Vec<u8> =
        Vec::with_capacity(usize::try_from(declared.unwrap_or(room).min(CHECKPOINT)).unwrap_or(0));
    let ended = loop {
        let frame = tokio::select! {
            biased;
            () = &mut interrupted => break Ended::Interrupted,
            frame = tokio::time::timeout(IDLE, body.frame()) => frame,
        };
        let data = match frame {
            Err(_) | Ok(Some(Err(_))) => break Ended::Interrupted,
            Ok(None) => break Ended::Whole,
            Ok(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => data,
                // Trailers: nothing to store.
                Err(_) => continue,
            },
        };
        let received = synced - offset + pending.len() as u64;
        let fits = usize::try_from(room - received).unwrap_or(usize::MAX);
        if data.len() > fits {
            pending.extend_from_slice(&data[..fits]);
            break Ended::TooLong;
        }
        pending.extend_from_slice(&data);
        if pending.len() as u64 >= CHECKPOINT {
            synced = sync(
                &store,
                &upload_id,
                &part,
                synced,
                std::mem::take(&mut pending),
            )
            .await?;
        }
    };
    let end = synced + pending.len() as u64;
    if matches!(ended, Ended::Whole) && complete && end == upload.length {
        let (part, prefix, length) = (part.clone(), synced, upload.length);
        let done = run(&store, move |s| {
            // All of it in this request (the usual case): the bytes as they came, no copy.
            let body = if prefix > 0 {
                let mut body = read_part(&part, prefix)?;
                body.extend_from_slice(&pending);
                body
            } else {
                pending
            };
            s.complete(&upload, body)
        })
        .await?;
        return Ok(StreamAppended::Complete { done, length });
    }
    // Whatever else happened, the bytes received are kept, durably, as after a cut link.
    let synced = sync(&store, &upload_id, &part, synced, pending).await?;
    match ended {
        Ended::Whole if complete => Err(UploadError::InconsistentLength {
            length: upload.length,
        }),
        Ended::Whole => Ok(StreamAppended::Partial(UploadState {
            offset: synced,
            ..upload.state()
        })),
        Ended::TooLong => Err(UploadError::InconsistentLength {
            length: upload.length,
        }),
        Ended::Interrupted => Err(UploadError::Interrupted { offset: synced }),
    }
}

/// Writes `bytes` at `at` in the part file, fsyncs it, then commits the offset after them
/// (the bytes first, then the offset that promises them). Returns that offset.
async fn sync<S: PartStore>(
    store: &Arc<S>,
    upload_id: &str,
    part: &Path,
    at: u64,
    bytes: Vec<u8>,
) -> Result<u64, UploadError> {
    if bytes.is_empty() {
        return Ok(at);
    }
    let end = at + bytes.len() as u64;
    let (id, part) = (upload_id.to_owned(), part.to_path_buf());
    run(store, move |s| {
        write_synced(&part, at, &bytes)?;
        s.commit_offset(&id, end)
    })
    .await?;
    Ok(end)
}

/// Writes `bytes` at `offset` and fsyncs, creating the part file if it is missing (then its
/// directory entry is synced too: an offset must never promise bytes of a file a power cut
/// can lose). Bytes past `offset` (from a write whose offset never committed, before a
/// crash) are cut first.
fn write_synced(part: &Path, offset: u64, bytes: &[u8]) -> Result<(), RegistryError> {
    let created = !part.exists();
    let mut file: File = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(part)
        .map_err(|e| RegistryError::io("opening", part, e))?;
    file.set_len(offset)
        .and_then(|()| file.seek(SeekFrom::Start(offset)).map(|_| ()))
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .map_err(|e| RegistryError::io("writing", part, e))?;
    if created {
        if let Some(dir) = part.parent() {
            sync_dir(dir)?;
        }
    }
    Ok(())
}
