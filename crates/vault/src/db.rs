//! Opening the SQLCipher database with the raw data key.

use std::path::Path;

use rusqlite::Connection;
use zeroize::Zeroizing;

use crate::keyfile::DataKey;
use crate::{schema, VaultError};

/// Opens (or creates) the database, keys it and brings its schema up to date.
pub(crate) fn open(path: &Path, data_key: &DataKey) -> Result<Connection, VaultError> {
    let conn = Connection::open(path)?;
    // A raw 256-bit key (x'…') skips SQLCipher's own PBKDF2: Argon2id already did the work.
    let pragma = Zeroizing::new(format!(
        "PRAGMA key = \"x'{}'\";",
        hex::encode(data_key.as_ref())
    ));
    conn.execute_batch(&pragma)?;
    // The first read fails if the key is wrong or the file is not ours.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| match VaultError::open_failure(path, e) {
        // A full or read-only file system is not a wrong key (WAL needs its -shm file).
        fault @ (VaultError::DiskFull(_) | VaultError::ReadOnly(_)) => fault,
        _ => VaultError::Corrupt("database does not open with the vault key"),
    })?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON;",
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    schema::migrate(&conn)?;
    Ok(conn)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
