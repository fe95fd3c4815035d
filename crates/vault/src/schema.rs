//! Schema migrations, one transaction each, keyed on `PRAGMA user_version`.

use rusqlite::Connection;

use crate::VaultError;

const MIGRATIONS: &[&str] = &[
    // 1: the walking skeleton.
    "CREATE TABLE operators (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
     );
     CREATE TABLE device (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        provisioning BLOB NOT NULL,
        signing_key BLOB NOT NULL,
        registered INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE enrollments (
        id TEXT PRIMARY KEY,
        operator_id TEXT NOT NULL REFERENCES operators(id),
        input TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('draft','sealed','uploading','accepted','rejected')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        bundle_id TEXT UNIQUE,
        receipt_id TEXT,
        reason TEXT
     );
     CREATE TABLE outbox (
        bundle_id TEXT PRIMARY KEY,
        enrollment_id TEXT NOT NULL UNIQUE REFERENCES enrollments(id),
        bytes BLOB NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        receipt BLOB
     );",
    // 2: the audit log (issue 4). `seq` is dense from 1 so a deleted entry leaves a gap;
    // hashes are 32-byte SHA-256, signatures 64-byte Ed25519 (checked by `audit_verify`).
    "CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        operator_id TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL
     );
     CREATE TABLE audit_checkpoint (
        seq INTEGER PRIMARY KEY,
        hash BLOB NOT NULL,
        signature BLOB NOT NULL
     );",
];

/// Brings the schema to the newest version; refuses a database newer than this code.
pub(crate) fn migrate(conn: &Connection) -> Result<(), VaultError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let target = MIGRATIONS.len() as i64;
    if current > target {
        return Err(VaultError::Corrupt("vault was written by a newer Ghi Danh"));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
