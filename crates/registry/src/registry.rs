//! A registry opened from its data directory: keys and store, shared by the HTTP handlers.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard};

use ghidanh_bundle::{
    BundleId, DeviceId, KeyId, Keyring, ReceiptId, RegistryKeys, RegistryPublicKeys,
};
use time::OffsetDateTime;

use crate::config::DataDir;
use crate::ingest::{self, Submission};
use crate::provision::{self, RegisterError, Registered};
use crate::store::{BundleRow, Store};
use crate::{keys_file, RegistryError};

/// Creates a registry in `data_dir`: the directory, fresh keys and an empty database.
///
/// Refuses if a registry is already there: new keys would orphan every bundle sealed to the old ones.
pub fn init(data_dir: &Path) -> Result<RegistryPublicKeys, RegistryError> {
    let dir = DataDir::new(data_dir);
    if dir.key_file().exists() || dir.db().exists() {
        return Err(RegistryError::AlreadyInitialised(data_dir.to_path_buf()));
    }
    std::fs::create_dir_all(dir.blobs())
        .map_err(|e| RegistryError::io("creating", dir.blobs(), e))?;
    let keys = RegistryKeys::generate();
    keys_file::create(&dir.key_file(), &keys)?;
    Store::create(&dir.db())?;
    Ok(keys.public().clone())
}

/// Adds a fresh registry key pair as the current one. Bundles sealed to older keys still open;
/// provisioning files issued from now on carry the new key. Returns the new public keys.
///
/// A running registry reads its keys at start: restart it to use the new key.
pub fn rotate_key(data_dir: &Path) -> Result<RegistryPublicKeys, RegistryError> {
    let ring = keys_file::rotate(&DataDir::new(data_dir).key_file())?;
    Ok(ring.current().public().clone())
}

/// Reads a registry key file (every key, the last one current), e.g. for
/// `ghidanh bundle open --key`.
pub fn read_keyring(key_file: &Path) -> Result<Keyring, RegistryError> {
    keys_file::read(key_file)
}

/// An accepted bundle as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBundle {
    /// The bundle.
    pub bundle_id: BundleId,
    /// The device that sent it.
    pub device_id: DeviceId,
    /// The receipt issued when it was accepted.
    pub receipt_id: ReceiptId,
    /// Always `"accepted"`: only accepted bundles are stored.
    pub verdict: &'static str,
    /// When it was received (Unix seconds).
    pub received_at: u64,
}

/// Lists the accepted bundles, oldest first.
pub fn list_bundles(data_dir: &Path) -> Result<Vec<StoredBundle>, RegistryError> {
    let store = Store::open(&DataDir::new(data_dir).db())?;
    Ok(store
        .accepted_bundles()?
        .into_iter()
        .map(|b| StoredBundle {
            bundle_id: b.bundle_id,
            device_id: b.device_id,
            receipt_id: b.receipt_id,
            verdict: "accepted",
            received_at: b.received_at,
        })
        .collect())
}

/// Read connections kept for reuse; more may be open at once, only this many are kept.
const READERS_KEPT: usize = 8;

/// A running registry: its keys and its store.
///
/// Writes to the store go through one connection under one lock ([`Registry::lock`]),
/// held only for the final checks and the commit: verifying, opening, validating and the
/// blob's fsync run outside it, concurrently (see `ingest`). Reads before that go through
/// a pool of read connections (SQLite in WAL mode: readers never wait for the writer).
/// Submissions of the same bundle id are taken one at a time ([`Registry::claim`]), so
/// two identical submissions racing each other give one acceptance and one duplicate.
/// Calls block; async callers run them in `spawn_blocking`.
pub struct Registry {
    pub(crate) dir: DataDir,
    pub(crate) keys: Keyring,
    store: Mutex<Store>,
    readers: Mutex<Vec<Store>>,
    claims: Mutex<HashSet<BundleId>>,
    claim_released: Condvar,
    /// Resumable-upload appends in progress, one per upload (`append_stream`).
    pub(crate) appends: crate::append_stream::AppendSlots,
    /// Accepted bundles waiting for the next group commit (see `ingest`).
    pub(crate) commit_queue: Mutex<Vec<ingest::Queued>>,
    /// The reference updates installed and served (`reference.rs`).
    pub(crate) reference: crate::reference::Published,
}

/// The right to ingest one bundle id: while it is held, no other submission of that id
/// in this process gets past its duplicate check. Released on drop.
pub(crate) struct Claim<'a> {
    registry: &'a Registry,
    bundle_id: BundleId,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut claims = self
            .registry
            .claims
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        claims.remove(&self.bundle_id);
        self.registry.claim_released.notify_all();
    }
}

impl Registry {
    /// Opens the registry in `data_dir` (made by [`init`]).
    pub fn open(data_dir: &Path) -> Result<Registry, RegistryError> {
        // Records are validated against the embedded reference tables: never serve on broken ones.
        ghidanh_record::reference::check().map_err(RegistryError::Reference)?;
        let dir = DataDir::new(data_dir);
        let keys = keys_file::read(&dir.key_file())?;
        let store = Store::open(&dir.db())?;
        // Validate with the published reference updates from the first bundle on.
        let reference = crate::reference::Published::default();
        reference.refresh(&dir, &keys)?;
        Ok(Registry {
            dir,
            keys,
            store: Mutex::new(store),
            readers: Mutex::new(Vec::new()),
            claims: Mutex::new(HashSet::new()),
            claim_released: Condvar::new(),
            appends: Default::default(),
            commit_queue: Mutex::new(Vec::new()),
            reference,
        })
    }

    /// The registry's current key id.
    pub fn key_id(&self) -> &KeyId {
        self.keys.current().public().key_id()
    }

    /// The registry's current public keys.
    pub fn public_keys(&self) -> &RegistryPublicKeys {
        self.keys.current().public()
    }

    /// Decides on a submitted bundle, stores it if accepted, and returns the signed receipt.
    ///
    /// Only a failure of the registry itself is an `Err`; every refusal is a rejected receipt.
    pub fn ingest(&self, body: &[u8]) -> Result<Submission, RegistryError> {
        ingest::ingest(self, body, None, None, OffsetDateTime::now_utc())
    }

    /// Registers a device key with its one-time token.
    pub fn register_device(&self, bytes: &[u8]) -> Result<Registered, RegisterError> {
        // Signed with the current key: a registration carries no recipient to choose by.
        provision::register(&self.lock(), self.keys.current(), bytes, unix_now())
    }

    /// The receipt id of an accepted bundle, if it is stored.
    pub fn accepted_receipt(
        &self,
        bundle_id: BundleId,
    ) -> Result<Option<ReceiptId>, RegistryError> {
        Ok(self
            .read(|s| s.bundle(bundle_id))?
            .map(|BundleRow { receipt_id, .. }| receipt_id))
    }

    /// The signed receipt of an accepted bundle (what `GET /api/v1/bundles/{id}/receipt`
    /// answers), if it is stored.
    pub fn accepted_receipt_bytes(
        &self,
        bundle_id: BundleId,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        self.read(|s| s.accepted_receipt_bytes(bundle_id))
    }

    /// The write connection. Held only for short checks and commits.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave the store half-written (SQLite
        // transactions roll back), so a poisoned lock is safe to keep using.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on a read connection from the pool (opened if none is free): it sees every
    /// committed write and never waits for the writer's lock.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let kept = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let store = match kept {
            Some(s) => s,
            None => Store::open(&self.dir.db())?,
        };
        let result = f(&store);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READERS_KEPT {
            pool.push(store);
        }
        result
    }

    /// Waits until no other submission of `bundle_id` is being ingested, then claims it.
    pub(crate) fn claim(&self, bundle_id: BundleId) -> Claim<'_> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        while claims.contains(&bundle_id) {
            claims = self
                .claim_released
                .wait(claims)
                .unwrap_or_else(|p| p.into_inner());
        }
        claims.insert(bundle_id);
        Claim {
            registry: self,
            bundle_id,
        }
    }

    #[cfg(test)]
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.lock()
    }

    #[cfg(test)]
    pub(crate) fn dir(&self) -> &DataDir {
        &self.dir
    }
}

/// Seconds since the Unix epoch, by the server clock.
pub(crate) fn unix_now() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0)
}
