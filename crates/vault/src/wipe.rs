//! Remote wipe: destroying the vault when the registry revokes the device.
//!
//! Order matters. The key file goes first: once every wrap of the data key is overwritten and
//! removed, the database is ciphertext nobody can open, so a crash (or a thief pulling the
//! power) anywhere after that step loses nothing that should have survived. Deleting rows and
//! files afterwards only shrinks what an attacker could try to brute-force against the raw
//! 256-bit key. No `Wiped` audit entry can outlive the wipe: the log is inside the database
//! that is destroyed; a warning in the process log (no personal data) is all that remains.

use std::io::Write;
use std::path::Path;
use std::sync::MutexGuard;

use rand::RngCore;
use rusqlite::Connection;

use crate::{Vault, VaultError, DB_FILE, KEYS_FILE, UNLOCK_FAILURES_FILE};

impl Vault {
    /// Destroys the vault keys and every record, then the database files. Afterwards every
    /// call on this `Vault` returns [`VaultError::Wiped`] and `Vault::exists` is false.
    pub fn wipe(&self) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        // Step 1, the one that counts: without a wrap, the data key is unrecoverable. A temp
        // file left by a key-file write that crashed (`vault.keys.tmp`) holds wraps too.
        for name in files_starting_with(self.dir(), KEYS_FILE)? {
            destroy_key_file(&self.dir().join(name))?;
        }
        remove_if_present(&self.dir().join(UNLOCK_FAILURES_FILE))?;
        // Step 2: empty the tables inside the (now unreadable) database, so the pages are
        // zeroed by secure_delete even if the file later survives on a disk snapshot.
        if let Err(e) = delete_every_row(&mut conn) {
            tracing::warn!("vault wipe: rows not deleted before removing the files: {e}");
        }
        // Step 3: close the real connection by putting an in-memory one in its place; that
        // in-memory connection is also the mark that this vault is wiped (see `live_conn`).
        let real = std::mem::replace(&mut *conn, Connection::open_in_memory()?);
        if let Err((_, e)) = real.close() {
            tracing::warn!("vault wipe: database did not close cleanly: {e}");
        }
        for file in [DB_FILE, "vault.db-wal", "vault.db-shm", "vault.db-journal"] {
            remove_if_present(&self.dir().join(file))?;
        }
        // Whatever else of ours is left (temp files of an interrupted write).
        for name in files_starting_with(self.dir(), "vault.")? {
            remove_if_present(&self.dir().join(name))?;
        }
        sync_dir(self.dir());
        tracing::warn!("vault wiped: the registry revoked this device");
        Ok(())
    }

    /// The connection, or `Wiped` once [`Vault::wipe`] ran: a wiped vault must not touch the
    /// disk again (the files are gone; a write would recreate an empty database).
    pub(crate) fn live_conn(&self) -> Result<MutexGuard<'_, Connection>, VaultError> {
        let conn = self.conn();
        if is_wiped(&conn) {
            return Err(VaultError::Wiped);
        }
        Ok(conn)
    }
}

/// A wiped vault holds an in-memory connection in place of `vault.db`.
fn is_wiped(conn: &Connection) -> bool {
    conn.path().is_none_or(str::is_empty)
}

/// Overwrites the key file with random bytes of its length, flushes that to the disk, then
/// removes it: a file system that keeps the old blocks (no TRIM yet) holds noise, not wraps.
fn destroy_key_file(path: &Path) -> Result<(), VaultError> {
    let len = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(VaultError::io("read key file size", e)),
    };
    let mut noise = vec![0u8; usize::try_from(len).unwrap_or(4096).max(1)];
    rand::thread_rng().fill_bytes(&mut noise);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| VaultError::io("open key file to destroy it", e))?;
    f.write_all(&noise)
        .and_then(|()| f.sync_all())
        .map_err(|e| VaultError::io("overwrite key file", e))?;
    drop(f);
    std::fs::remove_file(path).map_err(|e| VaultError::io("remove key file", e))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Deletes every row of every table in one transaction. References are checked at commit
/// (deferred), when every table is empty, so the order of the tables does not matter.
fn delete_every_row(conn: &mut Connection) -> Result<(), VaultError> {
    let tx = conn.transaction()?;
    tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
    let tables: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?;
        let names = stmt.query_map([], |r| r.get(0))?;
        names.collect::<Result<_, _>>()?
    };
    for table in tables {
        // Names come from sqlite_master, not from outside; quoted all the same.
        tx.execute(
            &format!("DELETE FROM \"{}\"", table.replace('"', "\"\"")),
            [],
        )?;
    }
    tx.commit()?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Names of the files in `dir` that start with `prefix`.
fn files_starting_with(dir: &Path, prefix: &str) -> Result<Vec<std::ffi::OsString>, VaultError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| VaultError::io("list vault folder", e))? {
        let entry = entry.map_err(|e| VaultError::io("list vault folder", e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(prefix) && entry.path().is_file() {
            names.push(name);
        }
    }
    Ok(names)
}

fn remove_if_present(path: &Path) -> Result<(), VaultError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(VaultError::io("remove vault file", e)),
    }
}

/// Makes removals durable. Best effort: not every platform can open a folder to sync it.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        if let Err(e) = d.sync_all() {
            tracing::warn!("vault wipe: cannot sync the vault folder: {e}");
        }
    }
}
