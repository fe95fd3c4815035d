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
    // 4: a relay's custody receipt, kept beside the registry's receipt. A bundle in custody
    // is not uploaded again; the central receipt still comes through `receipt`.
    "ALTER TABLE outbox ADD COLUMN custody BLOB;",
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

/// Brings a fresh database to schema `version` exactly, no further: tests build a vault as an
/// older release left it, then open it with the current code.
#[cfg(test)]
pub(crate) fn migrate_to(conn: &Connection, version: usize) -> Result<(), VaultError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = run_range(conn, current as usize, version);
    conn.pragma_update(None, "foreign_keys", true)?;
    result
}

fn run_from(conn: &Connection, current: usize) -> Result<(), VaultError> {
    run_range(conn, current, MIGRATIONS.len())
}

fn run_range(conn: &Connection, current: usize, target: usize) -> Result<(), VaultError> {
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{audit, keyfile, AuditAction, EnrollmentState, KdfParams, Role, Vault};
    use ghidanh_bundle::{BundleId, EnrollmentId, OperatorId};
    use ghidanh_record::EnrollmentInput;
    use rusqlite::params;

    const PASS: &str = "mật khẩu cũ của bản 2";

    fn input(state: &str) -> EnrollmentInput {
        EnrollmentInput {
            birth_name: format!("Lê Văn Tám {state}"),
            personal_id: "079190123456".into(),
            ..Default::default()
        }
    }

    /// A vault folder as the release with schema 2 left it: every state that release knew,
    /// outbox rows (with and without receipts) and audit entries.
    fn version_2_vault(dir: &std::path::Path) -> Vec<(String, EnrollmentId, Option<BundleId>)> {
        let key = keyfile::new_data_key();
        let op = OperatorId::new();
        let conn = Connection::open(dir.join(crate::DB_FILE)).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA journal_mode = WAL;",
            hex::encode(key.as_ref())
        ))
        .unwrap();
        migrate_to(&conn, 2).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 2);
        conn.execute(
            "INSERT INTO operators (id, name, created_at) VALUES (?1, 'Trần Văn Cảnh', 1)",
            [op.to_string()],
        )
        .unwrap();
        let mut rows = Vec::new();
        for (i, state) in ["draft", "sealed", "uploading", "accepted", "rejected"]
            .into_iter()
            .enumerate()
        {
            let id = EnrollmentId::new();
            let bundle = (state != "draft").then(BundleId::new);
            conn.execute(
                "INSERT INTO enrollments (id, operator_id, input, state, created_at, updated_at,
                                          bundle_id, receipt_id, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)",
                params![
                    id.to_string(),
                    op.to_string(),
                    serde_json::to_string(&input(state)).unwrap(),
                    state,
                    1_000 + i as i64,
                    bundle.map(|b| b.to_string()),
                    (state == "accepted").then_some("receipt-1"),
                    (state == "rejected").then_some("malformed"),
                ],
            )
            .unwrap();
            if let Some(b) = bundle {
                let receipted = matches!(state, "accepted" | "rejected");
                conn.execute(
                    "INSERT INTO outbox (bundle_id, enrollment_id, bytes, next_attempt_at, receipt)
                     VALUES (?1, ?2, ?3, 0, ?4)",
                    params![
                        b.to_string(),
                        id.to_string(),
                        format!("sealed {state}").into_bytes(),
                        receipted.then(|| b"receipt".to_vec()),
                    ],
                )
                .unwrap();
            }
            audit::append(
                &conn,
                &op.to_string(),
                AuditAction::DraftSaved,
                &id.to_string(),
            )
            .unwrap();
            rows.push((state.to_owned(), id, bundle));
        }
        drop(conn);
        let wrap = keyfile::wrap(&key, op, PASS, KdfParams::insecure_fast_for_tests()).unwrap();
        keyfile::write(
            &dir.join(crate::KEYS_FILE),
            &keyfile::KeyFile::new(vec![wrap]),
        )
        .unwrap();
        rows
    }

    #[test]
    fn a_version_2_vault_opens_with_its_rows_states_and_outbox_links() {
        let dir = tempfile::tempdir().unwrap();
        let rows = version_2_vault(dir.path());
        let (vault, operator) = Vault::unlock(dir.path(), PASS).unwrap();
        // Migration 3 made the oldest account the supervisor.
        assert_eq!(operator.role, Role::Supervisor);
        let version: i64 = vault
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        assert_eq!(vault.integrity_check().unwrap(), "ok");
        assert_eq!(vault.audit_verify().unwrap().entries, 5 + 1);

        let list = vault.list().unwrap();
        assert_eq!(list.len(), rows.len());
        for (state, id, bundle) in &rows {
            let e = list.iter().find(|e| e.id == *id).unwrap();
            // An `uploading` row is a crash mid-upload: unlock puts it back in the queue.
            let expected = match state.as_str() {
                "uploading" => EnrollmentState::Sealed,
                s => EnrollmentState::parse(s).unwrap(),
            };
            assert_eq!(e.state, expected, "{state}");
            assert_eq!(e.input, input(state));
            assert_eq!(e.bundle_id, *bundle);
            assert_eq!(e.review_comment, None);
        }
        let accepted = &list.iter().find(|e| e.state == EnrollmentState::Accepted);
        assert_eq!(accepted.unwrap().receipt_id.as_deref(), Some("receipt-1"));
        let rejected = &list.iter().find(|e| e.state == EnrollmentState::Rejected);
        assert_eq!(rejected.unwrap().reason.as_deref(), Some("malformed"));

        let links = vault.outbox_links().unwrap();
        assert_eq!(links.len(), 4);
        assert!(links.iter().all(|l| l.enrollment_matches), "{links:?}");
        let mut due: Vec<Vec<u8>> = vault
            .due_uploads(i64::MAX)
            .unwrap()
            .into_iter()
            .map(|o| o.bytes)
            .collect();
        due.sort();
        assert_eq!(
            due,
            [b"sealed sealed".to_vec(), b"sealed uploading".to_vec()]
        );

        // The old accepted row got its acceptance time, so retention applies to it too.
        assert_eq!(vault.purge_due(i64::MAX).unwrap(), 1);
        let (_, accepted_id, _) = &rows[3];
        let e = vault.enrollment(*accepted_id).unwrap();
        assert_eq!(e.state, EnrollmentState::Purged);
        assert_eq!(e.input, EnrollmentInput::default());
        assert_eq!(e.receipt_id.as_deref(), Some("receipt-1"));
        // And the old draft lives on through the new life.
        let (_, draft, _) = &rows[0];
        vault.finalise(*draft).unwrap();
        assert_eq!(
            vault.enrollment(*draft).unwrap().state,
            EnrollmentState::Finalised
        );
    }
}
