//! The relay's SQLite metadata (`<data>/relay.db`): one row per bundle held, with its custody
//! receipt and, once known, the central registry's receipt.

use std::path::Path;

use ghidanh_bundle::{BundleId, Sha256};
use rusqlite::{params, Connection, OptionalExtension};

use crate::RegistryError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS held (
    bundle_id         TEXT PRIMARY KEY,
    submission_sha256 BLOB NOT NULL,
    size              INTEGER NOT NULL,
    custody           BLOB NOT NULL,
    received_at       INTEGER NOT NULL,
    -- The central registry's signed receipt, verified; NULL until forwarded.
    central           BLOB,
    forwarded_at      INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms   INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT
);
-- Resumable uploads to the relay, as on central: the partial file is fsynced before the
-- offset moves past it; `complete` once the whole bytes went through `Relay::submit`.
CREATE TABLE IF NOT EXISTS uploads (
    upload_id     TEXT PRIMARY KEY,
    bundle_id     TEXT NOT NULL,
    sha256        BLOB NOT NULL,
    upload_length INTEGER NOT NULL,
    upload_offset INTEGER NOT NULL,
    complete      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    UNIQUE (bundle_id, sha256)
);
-- Device registrations carried on a USB stick (`ghidanh relay import`): only the registry
-- can decide them, so the forwarder passes each upstream, before any bundle, since a bundle
-- of a device the registry does not know yet is refused for good (`unknown_device`).
CREATE TABLE IF NOT EXISTS registrations (
    sha256          BLOB PRIMARY KEY,
    device_id       TEXT NOT NULL,
    bytes           BLOB NOT NULL,
    received_at     INTEGER NOT NULL,
    -- The upstream's HTTP status once it answered (2xx registered, 4xx refused); NULL until.
    answer_status   INTEGER,
    answered_at     INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
";

/// A registration waiting to be passed upstream.
#[derive(Debug, Clone)]
pub(crate) struct RegistrationRow {
    pub(crate) sha256: Sha256,
    pub(crate) bytes: Vec<u8>,
    pub(crate) attempts: u32,
}

/// A resumable upload to the relay.
#[derive(Debug, Clone)]
pub(crate) struct RelayUploadRow {
    pub(crate) upload_id: String,
    pub(crate) bundle_id: BundleId,
    pub(crate) sha256: Sha256,
    pub(crate) length: u64,
    pub(crate) offset: u64,
    pub(crate) complete: bool,
}

/// A bundle the relay holds.
#[derive(Debug, Clone)]
pub(crate) struct HeldRow {
    pub(crate) bundle_id: BundleId,
    pub(crate) submission_sha256: Sha256,
    pub(crate) custody: Vec<u8>,
    pub(crate) central: Option<Vec<u8>>,
    pub(crate) attempts: u32,
}

pub(crate) struct RelayStore {
    conn: Connection,
}

impl RelayStore {
    pub(crate) fn open(path: &Path) -> Result<RelayStore, RegistryError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a custody receipt promises the bundle is kept.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(RelayStore { conn })
    }

    pub(crate) fn held(&self, bundle_id: BundleId) -> Result<Option<HeldRow>, RegistryError> {
        self.conn
            .query_row(
                "SELECT bundle_id, submission_sha256, custody, central, attempts
                 FROM held WHERE bundle_id = ?1",
                [bundle_id.to_string()],
                row,
            )
            .optional()?
            .transpose()
    }

    pub(crate) fn insert(
        &self,
        bundle_id: BundleId,
        sha256: Sha256,
        size: u64,
        custody: &[u8],
        now: u64,
    ) -> Result<(), RegistryError> {
        self.conn.execute(
            "INSERT INTO held (bundle_id, submission_sha256, size, custody, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                bundle_id.to_string(),
                sha256.0.as_slice(),
                size as i64,
                custody,
                now as i64
            ],
        )?;
        Ok(())
    }

    /// Bundles without a central receipt whose next attempt is due, oldest first.
    pub(crate) fn due(&self, now_ms: i64) -> Result<Vec<HeldRow>, RegistryError> {
        let mut stmt = self.conn.prepare(
            "SELECT bundle_id, submission_sha256, custody, central, attempts FROM held
             WHERE central IS NULL AND next_attempt_ms <= ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([now_ms], row)?;
        rows.map(|r| r?).collect()
    }

    /// When the next forwarding attempt is due (Unix ms), if anything waits.
    pub(crate) fn next_due_ms(&self) -> Result<Option<i64>, RegistryError> {
        Ok(self.conn.query_row(
            "SELECT min(next_attempt_ms) FROM held WHERE central IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// How many bundles still wait for their central receipt.
    pub(crate) fn pending(&self) -> Result<u64, RegistryError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM held WHERE central IS NULL", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    pub(crate) fn set_central(
        &self,
        bundle_id: BundleId,
        central: &[u8],
        now: u64,
    ) -> Result<(), RegistryError> {
        self.conn.execute(
            "UPDATE held SET central = ?2, forwarded_at = ?3, last_error = NULL
             WHERE bundle_id = ?1 AND central IS NULL",
            params![bundle_id.to_string(), central, now as i64],
        )?;
        Ok(())
    }

    pub(crate) fn failed(
        &self,
        bundle_id: BundleId,
        next_ms: i64,
        error: &str,
    ) -> Result<(), RegistryError> {
        self.conn.execute(
            "UPDATE held SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3
             WHERE bundle_id = ?1",
            params![bundle_id.to_string(), next_ms, error],
        )?;
        Ok(())
    }
}

impl RelayStore {
    /// Keeps a registration to pass upstream; the same bytes again change nothing. Returns
    /// whether it is new.
    pub(crate) fn insert_registration(
        &self,
        sha256: Sha256,
        device_id: &str,
        bytes: &[u8],
        now: u64,
    ) -> Result<bool, RegistryError> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO registrations (sha256, device_id, bytes, received_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![sha256.0.as_slice(), device_id, bytes, now as i64],
        )?;
        Ok(n == 1)
    }

    /// Registrations the upstream has not answered whose next attempt is due, oldest first.
    pub(crate) fn due_registrations(
        &self,
        now_ms: i64,
    ) -> Result<Vec<RegistrationRow>, RegistryError> {
        let mut stmt = self.conn.prepare(
            "SELECT sha256, bytes, attempts FROM registrations
             WHERE answer_status IS NULL AND next_attempt_ms <= ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([now_ms], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, u32>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (sha, bytes, attempts) = r?;
            Ok(RegistrationRow {
                sha256: Sha256(
                    sha.try_into()
                        .map_err(|_| RegistryError::Corrupt("registration digest"))?,
                ),
                bytes,
                attempts,
            })
        })
        .collect()
    }

    /// How many registrations the upstream has not answered yet.
    pub(crate) fn unanswered_registrations(&self) -> Result<u64, RegistryError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM registrations WHERE answer_status IS NULL",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// When the next registration attempt is due (Unix ms), if one waits.
    pub(crate) fn next_registration_ms(&self) -> Result<Option<i64>, RegistryError> {
        Ok(self.conn.query_row(
            "SELECT min(next_attempt_ms) FROM registrations WHERE answer_status IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    pub(crate) fn registration_answered(
        &self,
        sha256: Sha256,
        status: u16,
        now: u64,
    ) -> Result<(), RegistryError> {
        self.conn.execute(
            "UPDATE registrations SET answer_status = ?2, answered_at = ?3, last_error = NULL
             WHERE sha256 = ?1",
            params![sha256.0.as_slice(), status, now as i64],
        )?;
        Ok(())
    }

    pub(crate) fn registration_failed(
        &self,
        sha256: Sha256,
        next_ms: i64,
        error: &str,
    ) -> Result<(), RegistryError> {
        self.conn.execute(
            "UPDATE registrations SET attempts = attempts + 1, next_attempt_ms = ?2,
             last_error = ?3 WHERE sha256 = ?1",
            params![sha256.0.as_slice(), next_ms, error],
        )?;
        Ok(())
    }

    pub(crate) fn upload(&self, upload_id: &str) -> Result<Option<RelayUploadRow>, RegistryError> {
        self.conn
            .query_row(
                "SELECT upload_id, bundle_id, sha256, upload_length, upload_offset, complete
                 FROM uploads WHERE upload_id = ?1",
                [upload_id],
                upload_row,
            )
            .optional()?
            .transpose()
    }

    pub(crate) fn upload_by_key(
        &self,
        bundle_id: BundleId,
        sha256: Sha256,
    ) -> Result<Option<RelayUploadRow>, RegistryError> {
        self.conn
            .query_row(
                "SELECT upload_id, bundle_id, sha256, upload_length, upload_offset, complete
                 FROM uploads WHERE bundle_id = ?1 AND sha256 = ?2",
                params![bundle_id.to_string(), sha256.0.as_slice()],
                upload_row,
            )
            .optional()?
            .transpose()
    }

    pub(crate) fn insert_upload(
        &self,
        row: &RelayUploadRow,
        now: u64,
    ) -> Result<(), RegistryError> {
        self.conn.execute(
            "INSERT INTO uploads (upload_id, bundle_id, sha256, upload_length, upload_offset,
                                  complete, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
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
    }

    pub(crate) fn set_upload_offset(
        &self,
        upload_id: &str,
        offset: u64,
    ) -> Result<(), RegistryError> {
        self.conn.execute(
            "UPDATE uploads SET upload_offset = ?2 WHERE upload_id = ?1",
            params![upload_id, offset as i64],
        )?;
        Ok(())
    }

    pub(crate) fn complete_upload(&self, upload_id: &str) -> Result<(), RegistryError> {
        self.conn.execute(
            "UPDATE uploads SET complete = 1, upload_offset = upload_length WHERE upload_id = ?1",
            [upload_id],
        )?;
        Ok(())
    }

    pub(crate) fn delete_upload(&self, upload_id: &str) -> Result<(), RegistryError> {
        self.conn
            .execute("DELETE FROM uploads WHERE upload_id = ?1", [upload_id])?;
        Ok(())
    }
}

fn upload_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<RelayUploadRow, RegistryError>> {
    let upload_id: String = r.get(0)?;
    let id: String = r.get(1)?;
    let sha: Vec<u8> = r.get(2)?;
    let length: i64 = r.get(3)?;
    let offset: i64 = r.get(4)?;
    let complete: bool = r.get(5)?;
    Ok((|| {
        Ok(RelayUploadRow {
            upload_id,
            bundle_id: BundleId::parse(&id).map_err(|_| RegistryError::Corrupt("bundle id"))?,
            sha256: Sha256(
                sha.try_into()
                    .map_err(|_| RegistryError::Corrupt("upload digest"))?,
            ),
            length: u64::try_from(length).map_err(|_| RegistryError::Corrupt("upload length"))?,
            offset: u64::try_from(offset).map_err(|_| RegistryError::Corrupt("upload offset"))?,
            complete,
        })
    })())
}

type Row = Result<HeldRow, RegistryError>;

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let id: String = r.get(0)?;
    let sha: Vec<u8> = r.get(1)?;
    let custody: Vec<u8> = r.get(2)?;
    let central: Option<Vec<u8>> = r.get(3)?;
    let attempts: u32 = r.get(4)?;
    Ok((|| {
        Ok(HeldRow {
            bundle_id: BundleId::parse(&id).map_err(|_| RegistryError::Corrupt("bundle id"))?,
            submission_sha256: Sha256(
                sha.try_into()
                    .map_err(|_| RegistryError::Corrupt("submission hash"))?,
            ),
            custody,
            central,
            attempts,
        })
    })())
}
