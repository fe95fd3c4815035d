//! The registry's metadata in SQLite: devices, accepted bundles, enrollments, rejections.
//!
//! Plain SQLite (the bundled SQLCipher with no key set): the registry's disk protection is
//! the server's job. Bundle blobs live beside it as files (see `blobs`).

use std::path::Path;

use ghidanh_bundle::{BundleId, DeviceId, DevicePublicKey, ReceiptId, Sha256};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use crate::RegistryError;

/// Migrations, in order; `PRAGMA user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE devices (
    device_id      TEXT PRIMARY KEY,
    label          TEXT NOT NULL,
    token_sha256   BLOB NOT NULL,
    device_key     BLOB,
    state          TEXT NOT NULL CHECK (state IN ('provisioned', 'active', 'revoked')),
    provisioned_at INTEGER NOT NULL,
    registered_at  INTEGER
);
CREATE TABLE bundles (
    bundle_id         TEXT PRIMARY KEY,
    device_id         TEXT NOT NULL REFERENCES devices(device_id),
    submission_sha256 BLOB NOT NULL,
    size              INTEGER NOT NULL,
    receipt_id        TEXT NOT NULL UNIQUE,
    receipt           BLOB NOT NULL,
    received_at       INTEGER NOT NULL
);
CREATE TABLE enrollments (
    enrollment_id TEXT PRIMARY KEY,
    bundle_id     TEXT NOT NULL UNIQUE REFERENCES bundles(bundle_id),
    device_id     TEXT NOT NULL REFERENCES devices(device_id),
    operator_id   TEXT NOT NULL,
    personal_id   TEXT NOT NULL,
    record_json   TEXT NOT NULL,
    captured_at   INTEGER NOT NULL
);
CREATE INDEX enrollments_personal_id ON enrollments(personal_id);
CREATE TABLE rejections (
    id                INTEGER PRIMARY KEY,
    submission_sha256 BLOB NOT NULL,
    bundle_id         TEXT,
    device_id         TEXT,
    reason            TEXT NOT NULL,
    receipt_id        TEXT NOT NULL,
    received_at       INTEGER NOT NULL
);
"#,
    r#"
-- The revocation list: a revoked device's registrations and bundles are refused with a
-- signed `device_revoked`, on which its kit wipes its vault. One row per device, never
-- removed (revoking again changes nothing); `devices.state` says 'revoked' as well.
CREATE TABLE revocations (
    device_id  TEXT PRIMARY KEY REFERENCES devices(device_id),
    revoked_at INTEGER NOT NULL,
    reason     TEXT
);
"#,
    r#"
-- Resumable uploads (schema/openapi.yaml): one row per (bundle id, declared SHA-256), so
-- creating the same upload again finds the first one. `upload_offset` is the durable
-- offset: the partial file is fsynced before it grows. `receipt` is set once the upload
-- completed and went through ingest; the partial file is gone by then.
CREATE TABLE uploads (
    upload_id     TEXT PRIMARY KEY,
    bundle_id     TEXT NOT NULL,
    sha256        BLOB NOT NULL,
    upload_length INTEGER NOT NULL,
    upload_offset INTEGER NOT NULL,
    receipt       BLOB,
    created_at    INTEGER NOT NULL,
    UNIQUE (bundle_id, sha256)
);
"#,
];

/// A device as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceRow {
    pub(crate) token_sha256: Sha256,
    pub(crate) key: Option<DevicePublicKey>,
    pub(crate) state: DeviceState,
}

/// Where a device is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceState {
    /// A provisioning file was issued; the device has not registered its key yet.
    Provisioned,
    /// Registered: its bundles are accepted.
    Active,
    /// Refused from now on.
    Revoked,
}

impl DeviceState {
    fn code(self) -> &'static str {
        match self {
            DeviceState::Provisioned => "provisioned",
            DeviceState::Active => "active",
            DeviceState::Revoked => "revoked",
        }
    }

    fn parse(s: &str) -> Option<DeviceState> {
        match s {
            "provisioned" => Some(DeviceState::Provisioned),
            "active" => Some(DeviceState::Active),
            "revoked" => Some(DeviceState::Revoked),
            _ => None,
        }
    }
}

/// The first accepted submission of a bundle id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BundleRow {
    pub(crate) submission_sha256: Sha256,
    pub(crate) receipt_id: ReceiptId,
}

/// Everything stored for an accepted bundle.
pub(crate) struct AcceptedRow {
    pub(crate) bundle_id: BundleId,
    pub(crate) device_id: DeviceId,
    pub(crate) submission_sha256: Sha256,
    pub(crate) size: u64,
    pub(crate) receipt_id: ReceiptId,
    pub(crate) receipt: Vec<u8>,
    pub(crate) received_at: u64,
    pub(crate) enrollment_id: String,
    pub(crate) operator_id: String,
    pub(crate) personal_id: String,
    pub(crate) record_json: String,
    pub(crate) captured_at: u64,
    /// The resumable upload that brought the bundle, if one did: its row keeps the receipt.
    pub(crate) upload_id: Option<String>,
}

/// What [`Store::insert_accepted_group`] did with one row.
pub(crate) enum Grouped<T> {
    /// Committed.
    Stored,
    /// Not stored: the check said why.
    Refused(T),
    /// Not stored: inserting it failed (the others may be stored).
    Failed(RegistryError),
}

/// A device's entry in the revocation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RevocationRow {
    pub(crate) revoked_at: u64,
    pub(crate) reason: Option<String>,
    /// False when the device was already revoked (nothing changed).
    pub(crate) newly: bool,
}

/// A refused submission, for the rejections log.
pub(crate) struct RejectionRow {
    pub(crate) submission_sha256: Sha256,
    pub(crate) bundle_id: Option<BundleId>,
    pub(crate) device_id: Option<DeviceId>,
    pub(crate) reason: String,
    pub(crate) receipt_id: ReceiptId,
    pub(crate) received_at: u64,
}

/// A resumable upload as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadRow {
    pub(crate) upload_id: String,
    pub(crate) bundle_id: BundleId,
    pub(crate) sha256: Sha256,
    pub(crate) length: u64,
    pub(crate) offset: u64,
    /// The signed receipt, once the upload completed.
    pub(crate) receipt: Option<Vec<u8>>,
}

/// An accepted bundle, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedBundle {
    pub(crate) bundle_id: BundleId,
    pub(crate) device_id: DeviceId,
    pub(crate) receipt_id: ReceiptId,
    pub(crate) received_at: u64,
}

/// An open registry database.
pub(crate) struct Store {
    conn: Connection,
}

impl Store {
    /// Creates the database; fails if it exists.
    pub(crate) fn create(path: &Path) -> Result<Store, RegistryError> {
        if path.exists() {
            return Err(RegistryError::AlreadyInitialised(
                path.parent().unwrap_or(path).to_path_buf(),
            ));
        }
        Store::setup(Connection::open(path)?)
    }

    /// Opens an existing database (a missing one means the registry was never initialised).
    pub(crate) fn open(path: &Path) -> Result<Store, RegistryError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| {
            if path.exists() {
                RegistryError::Db(e)
            } else {
                RegistryError::NotInitialised(path.parent().unwrap_or(path).to_path_buf())
            }
        })?;
        Store::setup(conn)
    }

    fn setup(mut conn: Connection) -> Result<Store, RegistryError> {
        // WAL: readers (the listing command) never block ingestion. FULL sync: a receipt
        // promises the bundle is stored, so every commit must reach the disk.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(Store { conn })
    }

    pub(crate) fn insert_device(
        &self,
        device_id: DeviceId,
        label: &str,
        token_sha256: Sha256,
        now: u64,
    ) -> Result<(), RegistryError> {
        self.conn.execute(
            "INSERT INTO devices (device_id, label, token_sha256, state, provisioned_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                device_id.to_string(),
                label,
                token_sha256.0.as_slice(),
                DeviceState::Provisioned.code(),
                now as i64
            ],
        )?;
        Ok(())
    }

    pub(crate) fn device(&self, device_id: DeviceId) -> Result<Option<DeviceRow>, RegistryError> {
        let row = self
            .conn
            .query_row(
                "SELECT token_sha256, device_key, state FROM devices WHERE device_id = ?1",
                [device_id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, Option<Vec<u8>>>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((token, key, state)) = row else {
            return Ok(None);
        };
        let token_sha256 = Sha256(
            token
                .try_into()
                .map_err(|_| RegistryError::Corrupt("device token hash"))?,
        );
        let key = match key {
            None => None,
            Some(k) => {
                let bytes: [u8; 32] = k
                    .try_into()
                    .map_err(|_| RegistryError::Corrupt("device key"))?;
                Some(
                    DevicePublicKey::from_bytes(&bytes)
                        .map_err(|_| RegistryError::Corrupt("device key"))?,
                )
            }
        };
        let state = DeviceState::parse(&state).ok_or(RegistryError::Corrupt("device state"))?;
        Ok(Some(DeviceRow {
            token_sha256,
            key,
            state,
        }))
    }

    /// Binds `key` to a provisioned device and makes it active.
    pub(crate) fn activate_device(
        &self,
        device_id: DeviceId,
        key: DevicePublicKey,
        now: u64,
    ) -> Result<(), RegistryError> {
        self.conn.execute(
            "UPDATE devices SET device_key = ?2, state = ?3, registered_at = ?4
             WHERE device_id = ?1 AND state = ?5",
            params![
                device_id.to_string(),
                key.to_bytes().as_slice(),
                DeviceState::Active.code(),
                now as i64,
                DeviceState::Provisioned.code()
            ],
        )?;
        Ok(())
    }

    /// Puts a device on the revocation list. Idempotent: revoking again returns the first
    /// revocation unchanged. `None` when no such device was provisioned.
    pub(crate) fn revoke_device(
        &mut self,
        device_id: DeviceId,
        reason: Option<&str>,
        now: u64,
    ) -> Result<Option<RevocationRow>, RegistryError> {
        let tx = self.conn.transaction()?;
        let id = device_id.to_string();
        let known = tx
            .query_row("SELECT 1 FROM devices WHERE device_id = ?1", [&id], |_| {
                Ok(())
            })
            .optional()?
            .is_some();
        if !known {
            return Ok(None);
        }
        let newly = tx.execute(
            "INSERT INTO revocations (device_id, revoked_at, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT (device_id) DO NOTHING",
            params![id, now as i64, reason],
        )? == 1;
        tx.execute(
            "UPDATE devices SET state = ?2 WHERE device_id = ?1",
            params![id, DeviceState::Revoked.code()],
        )?;
        let (revoked_at, reason) = tx.query_row(
            "SELECT revoked_at, reason FROM revocations WHERE device_id = ?1",
            [&id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?)),
        )?;
        tx.commit()?;
        Ok(Some(RevocationRow {
            revoked_at: u64::try_from(revoked_at).map_err(|_| RegistryError::Corrupt("time"))?,
            reason,
            newly,
        }))
    }

    pub(crate) fn bundle(&self, bundle_id: BundleId) -> Result<Option<BundleRow>, RegistryError> {
        let row = self
            .conn
            .query_row(
                "SELECT submission_sha256, receipt_id FROM bundles WHERE bundle_id = ?1",
                [bundle_id.to_string()],
                |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()?;
        let Some((hash, receipt_id)) = row else {
            return Ok(None);
        };
        Ok(Some(BundleRow {
            submission_sha256: Sha256(
                hash.try_into()
                    .map_err(|_| RegistryError::Corrupt("submission hash"))?,
            ),
            receipt_id: ReceiptId::parse(&receipt_id)
                .map_err(|_| RegistryError::Corrupt("receipt id"))?,
        }))
    }

    /// The signed receipt of an accepted bundle, as it was sent.
    pub(crate) fn accepted_receipt_bytes(
        &self,
        bundle_id: BundleId,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        Ok(self
            .conn
            .query_row(
                "SELECT receipt FROM bundles WHERE bundle_id = ?1",
                [bundle_id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Whether an enrollment id is already stored (under any bundle).
    pub(crate) fn has_enrollment(&self, enrollment_id: &str) -> Result<bool, RegistryError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM enrollments WHERE enrollment_id = ?1",
                [enrollment_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Stores accepted bundles and their enrollments in one transaction, so one fsync makes
    /// them all durable (group commit), each with the receipt of the resumable upload that
    /// brought it, if one did. `check` runs first for each row, in order, seeing the rows
    /// before it: `Some` refuses that row. A row that fails to insert is rolled back alone
    /// (a savepoint per row). `Err` when the transaction itself fails: nothing is stored.
    /// The blobs must already be on disk: a committed row always has its file.
    pub(crate) fn insert_accepted_group<T>(
        &self,
        rows: &[&AcceptedRow],
        mut check: impl FnMut(&Store, &AcceptedRow) -> Result<Option<T>, RegistryError>,
    ) -> Result<Vec<Grouped<T>>, RegistryError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let done = (|| {
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                self.conn.execute_batch("SAVEPOINT accepted")?;
                let one = (|| {
                    if let Some(refusal) = check(self, row)? {
                        return Ok(Some(refusal));
                    }
                    insert_accepted_in(&self.conn, row)?;
                    if let Some(upload_id) = &row.upload_id {
                        complete_upload_in(&self.conn, upload_id, &row.receipt)?;
                    }
                    Ok(None)
                })();
                out.push(match one {
                    Ok(None) => {
                        self.conn.execute_batch("RELEASE accepted")?;
                        Grouped::Stored
                    }
                    Ok(Some(refusal)) => {
                        self.conn.execute_batch("RELEASE accepted")?;
                        Grouped::Refused(refusal)
                    }
                    Err(e) => {
                        self.conn
                            .execute_batch("ROLLBACK TO accepted; RELEASE accepted")?;
                        Grouped::Failed(e)
                    }
                });
            }
            self.conn.execute_batch("COMMIT")?;
            Ok(out)
        })();
        if done.is_err() && !self.conn.is_autocommit() {
            // Best effort: the error to report is the first one.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        done
    }

    /// Logs a refusal, with the receipt of the resumable upload that brought it, if one
    /// did, in one transaction.
    pub(crate) fn insert_rejection(
        &mut self,
        row: &RejectionRow,
        upload: Option<(&str, &[u8])>,
    ) -> Result<(), RegistryError> {
        let tx = self.conn.transaction()?;
        insert_rejection_in(&tx, row)?;
        if let Some((upload_id, receipt)) = upload {
            complete_upload_in(&tx, upload_id, receipt)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `f` with commits that are not forced to the disk (`synchronous=NORMAL`): they
    /// survive the process being killed, and the next durable commit makes them durable
    /// too (it syncs the WAL they are in), but a power cut before that may undo them. For
    /// what the registry can lose and recover from: an upload's row and its offset.
    fn soft<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = f(&self.conn);
        // Every other commit must reach the disk: back to FULL, or fail loudly.
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        result
    }
}

fn insert_rejection_in(tx: &Transaction<'_>, row: &RejectionRow) -> Result<(), RegistryError> {
    tx.execute(
        "INSERT INTO rejections
               (submission_sha256, bundle_id, device_id, reason, receipt_id, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            row.submission_sha256.0.as_slice(),
            row.bundle_id.map(|b| b.to_string()),
            row.device_id.map(|d| d.to_string()),
            row.reason,
            row.receipt_id.to_string(),
            row.received_at as i64
        ],
    )?;
    Ok(())
}

fn complete_upload_in(
    tx: &Connection,
    upload_id: &str,
    receipt: &[u8],
) -> Result<(), RegistryError> {
    tx.execute(
        "UPDATE uploads SET receipt = ?2, upload_offset = upload_length WHERE upload_id = ?1",
        params![upload_id, receipt],
    )?;
    Ok(())
}

impl Store {
    pub(crate) fn accepted_bundles(&self) -> Result<Vec<ListedBundle>, RegistryError> {
        let mut stmt = self.conn.prepare(
            "SELECT bundle_id, device_id, receipt_id, received_at FROM bundles
             ORDER BY received_at, bundle_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (bundle_id, device_id, receipt_id, received_at) = row?;
            out.push(ListedBundle {
                bundle_id: BundleId::parse(&bundle_id)
                    .map_err(|_| RegistryError::Corrupt("bundle id"))?,
                device_id: DeviceId::parse(&device_id)
                    .map_err(|_| RegistryError::Corrupt("device id"))?,
                receipt_id: ReceiptId::parse(&receipt_id)
                    .map_err(|_| RegistryError::Corrupt("receipt id"))?,
                received_at: u64::try_from(received_at)
                    .map_err(|_| RegistryError::Corrupt("time"))?,
            });
        }
        Ok(out)
    }

    /// The upload with this id.
    pub(crate) fn upload(&self, upload_id: &str) -> Result<Option<UploadRow>, RegistryError> {
        self.upload_where("upload_id = ?1", params![upload_id])
    }

    /// The upload of these bytes of this bundle, if one was created.
    pub(crate) fn upload_by_key(
        &self,
        bundle_id: BundleId,
        sha256: Sha256,
    ) -> Result<Option<UploadRow>, RegistryError> {
        self.upload_where(
            "bundle_id = ?1 AND sha256 = ?2",
            params![bundle_id.to_string(), sha256.0.as_slice()],
        )
    }

    fn upload_where(
        &self,
        condition: &str,
        args: impl rusqlite::Params,
    ) -> Result<Option<UploadRow>, RegistryError> {
        let sql = format!(
            "SELECT upload_id, bundle_id, sha256, upload_length, upload_offset, receipt
             FROM uploads WHERE {condition}"
        );
        let row = self
            .conn
            .query_row(&sql, args, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<Vec<u8>>>(5)?,
                ))
            })
            .optional()?;
        let Some((upload_id, bundle_id, sha256, length, offset, receipt)) = row else {
            return Ok(None);
        };
        Ok(Some(UploadRow {
            upload_id,
            bundle_id: BundleId::parse(&bundle_id)
                .map_err(|_| RegistryError::Corrupt("upload bundle id"))?,
            sha256: Sha256(
                sha256
                    .try_into()
                    .map_err(|_| RegistryError::Corrupt("upload hash"))?,
            ),
            length: u64::try_from(length).map_err(|_| RegistryError::Corrupt("upload length"))?,
            offset: u64::try_from(offset).map_err(|_| RegistryError::Corrupt("upload offset"))?,
            receipt,
        }))
    }

    /// Creates an upload's row, softly (see `soft`): after a power cut the upload may be
    /// unknown, and the kit creates it again.
    pub(crate) fn insert_upload(&self, row: &UploadRow, now: u64) -> Result<(), RegistryError> {
        self.soft(|conn| {
            conn.execute(
                "INSERT INTO uploads
               (upload_id, bundle_id, sha256, upload_length, upload_offset, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    row.upload_id,
                    row.bundle_id.to_string(),
                    row.sha256.0.as_slice(),
                    row.length as i64,
                    row.offset as i64,
                    now as i64
                ],
            )?;
            Ok(())
        })
    }

    /// Moves an upload's durable offset, softly (see `soft`): its bytes are fsynced first,
    /// so the offset is never past them; a power cut may only move it back.
    pub(crate) fn set_upload_offset(
        &self,
        upload_id: &str,
        offset: u64,
    ) -> Result<(), RegistryError> {
        self.soft(|conn| {
            conn.execute(
                "UPDATE uploads SET upload_offset = ?2 WHERE upload_id = ?1",
                params![upload_id, offset as i64],
            )?;
            Ok(())
        })
    }

    /// Keeps the receipt of a completed upload whose bytes stored nothing (a duplicate).
    pub(crate) fn complete_upload(
        &mut self,
        upload_id: &str,
        receipt: &[u8],
    ) -> Result<(), RegistryError> {
        let tx = self.conn.transaction()?;
        complete_upload_in(&tx, upload_id, receipt)?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn delete_upload(&self, upload_id: &str) -> Result<(), RegistryError> {
        self.conn
            .execute("DELETE FROM uploads WHERE upload_id = ?1", [upload_id])?;
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn count(&self, table: &str) -> i64 {
        // Test-only; `table` is a literal from the test.
        self.conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap_or(-1)
    }

    #[cfg(test)]
    pub(crate) fn rejection_reasons(&self) -> Vec<String> {
        let mut stmt = self
            .conn
            .prepare("SELECT reason FROM rejections ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

fn insert_accepted_in(tx: &Connection, row: &AcceptedRow) -> Result<(), RegistryError> {
    tx.execute(
        "INSERT INTO bundles
           (bundle_id, device_id, submission_sha256, size, receipt_id, receipt, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            row.bundle_id.to_string(),
            row.device_id.to_string(),
            row.submission_sha256.0.as_slice(),
            row.size as i64,
            row.receipt_id.to_string(),
            row.receipt,
            row.received_at as i64
        ],
    )?;
    tx.execute(
        "INSERT INTO enrollments
           (enrollment_id, bundle_id, device_id, operator_id, personal_id, record_json, captured_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            row.enrollment_id,
            row.bundle_id.to_string(),
            row.device_id.to_string(),
            row.operator_id,
            row.personal_id,
            row.record_json,
            row.captured_at as i64
        ],
    )?;
    Ok(())
}

/// Runs the missing migrations in one transaction, so a failure leaves the old schema intact.
fn migrate(conn: &mut Connection) -> Result<(), RegistryError> {
    migrate_with(conn, MIGRATIONS)
}

fn migrate_with(conn: &mut Connection, migrations: &[&str]) -> Result<(), RegistryError> {
    let supported = migrations.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > supported {
        return Err(RegistryError::SchemaTooNew { found, supported });
    }
    if found == supported {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for sql in &migrations[found as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_gets_the_current_schema_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.db");
        let store = Store::create(&path).unwrap();
        assert_eq!(store.count("bundles"), 0);
        drop(store);
        let store = Store::open(&path).unwrap();
        let v: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        assert!(matches!(
            Store::create(&path),
            Err(RegistryError::AlreadyInitialised(_))
        ));
    }

    #[test]
    fn a_database_from_a_newer_registry_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.db");
        drop(Store::create(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            Store::open(&path),
            Err(RegistryError::SchemaTooNew { found: 99, .. })
        ));
    }

    #[test]
    fn a_failing_migration_leaves_the_old_schema_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        let v1 = "CREATE TABLE a (x INTEGER);";
        migrate_with(&mut conn, &[v1]).unwrap();
        conn.execute("INSERT INTO a VALUES (1)", []).unwrap();
        let broken = ["CREATE TABLE b (y INTEGER);", "THIS IS NOT SQL;"].concat();
        assert!(migrate_with(&mut conn, &[v1, &broken]).is_err());
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
        let b_exists: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b_exists, 0);
        let x: i64 = conn.query_row("SELECT x FROM a", [], |r| r.get(0)).unwrap();
        assert_eq!(x, 1);
    }

    #[test]
    fn revoking_is_idempotent_and_an_unknown_device_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(&dir.path().join("registry.db")).unwrap();
        let device = DeviceId::new();
        store
            .insert_device(device, "Đội 3", Sha256::of(b"token"), 100)
            .unwrap();
        assert_eq!(
            store.revoke_device(DeviceId::new(), None, 200).unwrap(),
            None
        );
        assert_eq!(store.count("revocations"), 0);

        let first = store
            .revoke_device(device, Some("máy bị mất"), 200)
            .unwrap();
        assert_eq!(
            first,
            Some(RevocationRow {
                revoked_at: 200,
                reason: Some("máy bị mất".into()),
                newly: true
            })
        );
        assert_eq!(
            store.device(device).unwrap().unwrap().state,
            DeviceState::Revoked
        );
        // Again, later, with another reason: the first revocation stands.
        let again = store
            .revoke_device(device, Some("khác"), 300)
            .unwrap()
            .unwrap();
        assert_eq!((again.revoked_at, again.newly), (200, false));
        assert_eq!(again.reason.as_deref(), Some("máy bị mất"));
        assert_eq!(store.count("revocations"), 1);
    }

    #[test]
    fn a_schema_1_database_gains_the_revocation_list_and_keeps_its_devices() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate_with(&mut conn, &MIGRATIONS[..1]).unwrap();
        let device = DeviceId::new();
        conn.execute(
            "INSERT INTO devices (device_id, label, token_sha256, state, provisioned_at)
             VALUES (?1, 'Đội 3', zeroblob(32), 'provisioned', 1)",
            [device.to_string()],
        )
        .unwrap();
        drop(conn);
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.count("revocations"), 0);
        assert!(store.revoke_device(device, None, 5).unwrap().unwrap().newly);
    }

    #[test]
    fn a_missing_database_is_not_created_by_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.db");
        assert!(matches!(
            Store::open(&path),
            Err(RegistryError::NotInitialised(_))
        ));
        assert!(!path.exists());
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.db");
        std::fs::write(
            &path,
            b"this is not a database at all, not even close........",
        )
        .unwrap();
        assert!(Store::open(&path).is_err());
    }
}
