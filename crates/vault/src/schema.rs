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
    // 3: the full life of an enrollment (issue 4). SQLite cannot change a CHECK in place, so
    // `enrollments` is rebuilt (create, copy, drop, rename: the outbox's reference follows the
    // name). Roles let a supervisor add operators and reset their passphrases; `media` holds
    // portrait and fingerprint images inside the encrypted database, like everything else.
    "CREATE TABLE enrollments_v3 (
        id TEXT PRIMARY KEY,
        operator_id TEXT NOT NULL REFERENCES operators(id),
        input TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('draft','finalised','approved','sealed','uploading',
                                             'custody','accepted','rejected','purged')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        bundle_id TEXT UNIQUE,
        receipt_id TEXT,
        reason TEXT,
        approved_by TEXT REFERENCES operators(id),
        review_comment TEXT,
        accepted_at INTEGER,
        purged_at INTEGER
     );
     INSERT INTO enrollments_v3 (id, operator_id, input, state, created_at, updated_at,
                                 bundle_id, receipt_id, reason, accepted_at)
        SELECT id, operator_id, input, state, created_at, updated_at, bundle_id, receipt_id,
               reason, CASE state WHEN 'accepted' THEN updated_at END
        FROM enrollments;
     DROP TABLE enrollments;
     ALTER TABLE enrollments_v3 RENAME TO enrollments;
     CREATE INDEX enrollments_state ON enrollments(state);
     ALTER TABLE operators ADD COLUMN role TEXT NOT NULL DEFAULT 'operator'
        CHECK (role IN ('operator','supervisor'));
     UPDATE operators SET role = 'supervisor'
        WHERE id = (SELECT id FROM operators ORDER BY created_at, rowid LIMIT 1);
     CREATE TABLE media (
        enrollment_id TEXT NOT NULL REFERENCES enrollments(id),
        kind TEXT NOT NULL CHECK (kind IN ('portrait','finger')),
        position INTEGER NOT NULL,
        format TEXT NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (enrollment_id, kind, position)
     );",
];

/// Brings the schema to the newest version; refuses a database newer than this code.
pub(crate) fn migrate(conn: &Connection) -> Result<(), VaultError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let target = MIGRATIONS.len() as i64;
    if current > target {
        return Err(VaultError::Corrupt("vault was written by a newer Ghi Danh"));
    }
    if current == target {
        return Ok(());
    }
    // A table rebuild drops a table others refer to: references are checked once at the end
    // of each migration instead (SQLite's documented procedure; the pragma cannot change
    // inside a transaction).
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = run_from(conn, current as usize);
    conn.pragma_update(None, "foreign_keys", true)?;
    result
}

fn run_from(conn: &Connection, current: usize) -> Result<(), VaultError> {
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        let broken: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            // Dropping `tx` rolls the migration back; the old schema stays as it was.
            return Err(VaultError::Corrupt("a migration would break a reference"));
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
