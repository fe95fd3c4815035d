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
";

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
