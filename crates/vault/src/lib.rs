//! The kit's encrypted local store.
//!
//! One SQLCipher database (`vault.db`) holds operators, drafts, the outbox of sealed
//! bundles, receipts and the device key. Its 256-bit data key is random and never stored
//! in the clear: `vault.keys` holds one wrap of it per operator, made with a key derived
//! from the operator's passphrase by Argon2id. See docs/ARCHITECTURE.md for why SQLCipher.
//!
//! **Invariant:** nothing this crate writes to disk holds plaintext personal data.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accounts;
mod attempts;
mod audit;
mod check;
mod db;
mod enrollments;
mod error;
mod keyfile;
mod media;
mod outbox;
mod retention;
mod schema;
mod wipe;

pub use audit::{AuditAction, AuditError, AuditReport, VaultReport, CHECKPOINT_EVERY};
pub use check::OutboxLink;
pub use enrollments::{EnrollmentState, EnrollmentSummary};
pub use error::VaultError;
pub use keyfile::KdfParams;
pub use outbox::OutboxItem;
pub use {
    enrollments::Approval,
    media::{FingerPosition, MediaKind, StoredMedia},
};

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use ghidanh_bundle::{DeviceKey, OperatorId, Provisioning};
use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

/// The database file inside the vault folder.
pub const DB_FILE: &str = "vault.db";
/// The key-wrap file inside the vault folder.
pub const KEYS_FILE: &str = "vault.keys";
/// Wrong passphrases since the last unlock: their count and the time of the last one (two
/// numbers, nothing else). A failed unlock cannot write into the database it failed to open,
/// so they wait here for the rate limit and become audit entries on the next successful unlock.
pub const UNLOCK_FAILURES_FILE: &str = "vault.unlock-failures";

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Enrolls people.
    Operator,
    /// Also adds operators, resets their passphrases and approves finalised records.
    Supervisor,
}

impl Role {
    /// The stored name.
    pub fn code(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supervisor => "supervisor",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<Role, VaultError> {
        match s {
            "operator" => Ok(Role::Operator),
            "supervisor" => Ok(Role::Supervisor),
            _ => Err(VaultError::Corrupt("operator role")),
        }
    }
}

/// The signed-in operator. Its `Debug` leaves the name out (personal data): `Operator { id:
/// …, role: Supervisor, .. }`.
#[derive(Clone, PartialEq, Eq)]
pub struct Operator {
    /// Account id.
    pub id: OperatorId,
    /// Name as entered.
    pub name: String,
    /// What the account may do.
    pub role: Role,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The device identity kept in the vault.
pub struct Device {
    /// The provisioning file as received (registry URL and keys, device id, token).
    pub provisioning: Provisioning,
    /// The device's signing key.
    pub key: DeviceKey,
    /// Whether the registry has confirmed the registration of `key`.
    pub registered: bool,
}

/// An open, unlocked vault. Cheap to share behind an `Arc`; every call is one transaction.
/// Dropping it (or [`Vault::lock`]) zeroises the data key and closes the database.
pub struct Vault {
    conn: Mutex<Connection>,
    dir: PathBuf,
    /// The signed-in operator's id as stored, named in every audit entry of this session.
    operator: String,
    /// The signed-in account.
    account: Operator,
    /// Kept while unlocked so a supervisor can wrap it for a new or reset passphrase;
    /// `Zeroizing` overwrites it when the vault is dropped or locked.
    data_key: keyfile::DataKey,
    /// Whether this session's first look at the list is audited yet: once per unlock, not
    /// once per refresh of a screen that polls it.
    listed: std::sync::atomic::AtomicBool,
}

impl Vault {
    /// Whether `dir` holds a vault (its key file exists).
    pub fn exists(dir: &Path) -> bool {
        dir.join(KEYS_FILE).is_file()
    }

    /// Creates a vault with its first operator. Refuses if one exists.
    pub fn create(
        dir: &Path,
        operator_name: &str,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<(Vault, Operator), VaultError> {
        if Vault::exists(dir) {
            return Err(VaultError::AlreadyExists);
        }
        std::fs::create_dir_all(dir).map_err(|e| VaultError::io("create vault folder", e))?;
        // A database without a key file is debris of a create that crashed: start over.
        for leftover in [DB_FILE, "vault.db-wal", "vault.db-shm", "vault.db-journal"] {
            let p = dir.join(leftover);
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| VaultError::io("remove debris", e))?;
            }
        }
        let data_key = keyfile::new_data_key();
        let operator = Operator {
            id: OperatorId::new(),
            name: operator_name.to_owned(),
            // The first account is the team's supervisor: it provisions the device.
            role: Role::Supervisor,
        };
        let mut conn = db::open(&dir.join(DB_FILE), &data_key)?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO operators (id, name, created_at, role) VALUES (?1, ?2, ?3, ?4)",
            params![
                operator.id.to_string(),
                operator.name,
                db::now_ms(),
                operator.role.code()
            ],
        )?;
        audit::append(&tx, &operator.id.to_string(), AuditAction::VaultCreated, "")?;
        tx.commit()?;
        // The key file is written last: its presence is what makes the vault exist.
        let wrap = keyfile::wrap(&data_key, operator.id, passphrase, kdf)?;
        let mut file = keyfile::KeyFile::new(vec![wrap]);
        file.set_db_salt(db_salt(&conn)?);
        keyfile::write(&dir.join(KEYS_FILE), &file)?;
        tracing::debug!(?operator, "vault created");
        Ok((
            Vault {
                conn: Mutex::new(conn),
                dir: dir.to_owned(),
                operator: operator.id.to_string(),
                account: operator.clone(),
                data_key,
                listed: Default::default(),
            },
            operator,
        ))
    }

    /// Opens the vault with an operator's passphrase; the wrap it opens names the operator.
    /// After three wrong passphrases in a row, each further try waits a growing delay
    /// (`TooManyAttempts`), refused before any Argon2id work (docs/vault.md).
    pub fn unlock(dir: &Path, passphrase: &str) -> Result<(Vault, Operator), VaultError> {
        Vault::unlock_at(dir, passphrase, attempts::now_ms())
    }

    /// [`Vault::unlock`] at a given time (Unix ms), so tests need not sleep through delays.
    pub(crate) fn unlock_at(
        dir: &Path,
        passphrase: &str,
        now_ms: u64,
    ) -> Result<(Vault, Operator), VaultError> {
        if !Vault::exists(dir) {
            return Err(VaultError::NotFound("vault"));
        }
        let failures = attempts::read(dir);
        if let Some(retry_after_secs) = failures.wait_at(now_ms) {
            return Err(VaultError::TooManyAttempts { retry_after_secs });
        }
        let file = keyfile::read(&dir.join(KEYS_FILE))?;
        // Before Argon2 and before counting a failure: a foreign key file is not a wrong guess.
        if !file.pairs_with(&db_head(dir)?) {
            return Err(VaultError::Corrupt(
                "vault.keys and vault.db come from different vaults (or the start of vault.db \
                 is damaged)",
            ));
        }
        let (operator_id, data_key) = match keyfile::unwrap_any(&file, passphrase) {
            Ok(k) => k,
            Err(VaultError::WrongPassphrase) => {
                attempts::record_failure(dir, now_ms);
                return Err(VaultError::WrongPassphrase);
            }
            Err(e) => return Err(e),
        };
        let mut conn = open_existing(dir, &data_key)?;
        let op = operator_id.to_string();
        // Before any write: no audit entry for an account the database does not know.
        let row: Option<(String, String)> = conn
            .query_row(
                "SELECT name, role FROM operators WHERE id = ?1",
                [&op],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (name, role) = row.ok_or(VaultError::Corrupt(
            "vault.keys names an operator that vault.db does not have",
        ))?;
        let operator = Operator {
            id: operator_id,
            name,
            role: Role::parse(&role)?,
        };
        let tx = conn.transaction()?;
        // A crash mid-upload leaves rows in `uploading`; they go back to the queue.
        tx.execute(
            "UPDATE enrollments SET state = 'sealed' WHERE state = 'uploading'",
            [],
        )?;
        if failures.count > 0 {
            audit::append(
                &tx,
                &op,
                AuditAction::UnlockFailed,
                &failures.count.to_string(),
            )?;
        }
        let delay = attempts::delay_secs(failures.count);
        if delay > 0 {
            // The longest wait imposed since the last unlock (the delay only grows).
            audit::append(&tx, &op, AuditAction::UnlockDelayed, &delay.to_string())?;
        }
        audit::append(&tx, &op, AuditAction::Unlocked, "")?;
        tx.commit()?;
        if failures.count > 0 {
            // After the commit: a crash in between counts these failures twice, never zero times.
            attempts::clear(dir);
        }
        tracing::debug!(?operator, "vault unlocked");
        Ok((
            Vault {
                conn: Mutex::new(conn),
                dir: dir.to_owned(),
                operator: op,
                account: operator.clone(),
                data_key,
                listed: Default::default(),
            },
            operator,
        ))
    }

    /// Appends an audit entry for this session's operator inside `tx`, the transaction of
    /// the change it records.
    pub(crate) fn audit(
        &self,
        tx: &Connection,
        action: AuditAction,
        subject: &str,
    ) -> Result<(), VaultError> {
        audit::append(tx, &self.operator, action, subject)
    }

    /// Locks the vault on demand: an audit entry `Locked`, a signed checkpoint over it, then
    /// the data key is zeroised and the database closed. The `Vault` is consumed, so nothing
    /// can use it afterwards; opening again needs a passphrase ([`Vault::unlock`]).
    ///
    /// ```no_run
    /// # fn f(vault: ghidanh_vault::Vault) -> Result<(), ghidanh_vault::VaultError> {
    /// vault.lock()?;
    /// # Ok(()) }
    /// ```
    /// The same with a use after the lock does not compile:
    /// ```compile_fail,E0382
    /// # fn f(vault: ghidanh_vault::Vault) -> Result<(), ghidanh_vault::VaultError> {
    /// vault.lock()?;
    /// let _ = vault.operator();
    /// # Ok(()) }
    /// ```
    pub fn lock(self) -> Result<(), VaultError> {
        {
            let mut conn = match self.live_conn() {
                Ok(c) => c,
                // A wiped vault has nothing left to lock.
                Err(VaultError::Wiped) => return Ok(()),
                Err(e) => return Err(e),
            };
            let tx = conn.transaction()?;
            self.audit(&tx, AuditAction::Locked, "")?;
            tx.commit()?;
        }
        self.close()
    }

    /// Closes the vault without an audit entry (the app quitting), signing a checkpoint over
    /// the newest audit entry when a device key exists. Dropping the vault does the same but
    /// can only log a failure. The data key is zeroised as the `Vault` drops.
    pub fn close(self) -> Result<(), VaultError> {
        match self.live_conn() {
            Ok(conn) => audit::checkpoint(&conn),
            // A wiped vault has no chain left to sign.
            Err(VaultError::Wiped) => Ok(()),
            Err(e) => Err(e),
        }
        // `Drop` runs next and finds the newest entry already signed (INSERT OR IGNORE).
    }

    /// The vault folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A poisoned lock means a panic mid-call; SQLite rolled the transaction back, so the
        // connection is still consistent and can be used.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The device identity, once provisioned.
    pub fn device(&self) -> Result<Option<Device>, VaultError> {
        let conn = self.live_conn()?;
        let row: Option<(Vec<u8>, Zeroizing<Vec<u8>>, bool)> = conn
            .query_row(
                "SELECT provisioning, signing_key, registered FROM device WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, Zeroizing::new(r.get(1)?), r.get(2)?)),
            )
            .optional()?;
        let Some((prov, key, registered)) = row else {
            return Ok(None);
        };
        let provisioning = Provisioning::parse(&prov)
            .map_err(|_| VaultError::Corrupt("stored provisioning file"))?;
        let key: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Corrupt("stored device key"))?;
        let key = DeviceKey::from_secret_bytes(&Zeroizing::new(key));
        Ok(Some(Device {
            provisioning,
            key,
            registered,
        }))
    }

    /// Stores the provisioning file and a newly made device key. Only once.
    pub fn provision(&self, provisioning_bytes: &[u8], key: &DeviceKey) -> Result<(), VaultError> {
        Provisioning::parse(provisioning_bytes).map_err(VaultError::Provisioning)?;
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "INSERT OR IGNORE INTO device (id, provisioning, signing_key, registered) VALUES (1, ?1, ?2, 0)",
            params![provisioning_bytes, key.secret_bytes().as_slice()],
        )?;
        if changed == 0 {
            return Err(VaultError::AlreadyExists);
        }
        let subject = Provisioning::parse(provisioning_bytes)
            .map(|p| p.device_id.to_string())
            .map_err(VaultError::Provisioning)?;
        audit::append(
            &tx,
            &self.operator,
            AuditAction::DeviceProvisioned,
            &subject,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records that the registry confirmed the device registration.
    pub fn mark_registered(&self) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE device SET registered = 1 WHERE id = 1 AND registered = 0",
            [],
        )?;
        // Only the first confirmation is an event; later contacts change nothing.
        if changed == 1 {
            self.audit(&tx, AuditAction::DeviceRegistered, "")?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A setting (language and the like); `None` when unset.
    pub fn setting(&self, key: &str) -> Result<Option<String>, VaultError> {
        Ok(self
            .live_conn()?
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Sets a supervisor's setting and records the change in the audit log
    /// (`setting_changed`, subject `key=value`), in one transaction.
    pub fn set_setting_audited(&self, key: &str, value: &str) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        self.audit(&tx, AuditAction::SettingChanged, &format!("{key}={value}"))?;
        tx.commit()?;
        Ok(())
    }

    /// Rewrites a setting from its current value in one immediate transaction, so two
    /// processes on the same vault (the app's sync worker and `ghidanh import-receipts`)
    /// never lose each other's change to a list kept in one setting.
    pub fn update_setting(
        &self,
        key: &str,
        f: impl FnOnce(Option<&str>) -> String,
    ) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current: Option<String> = tx
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?;
        let next = f(current.as_deref());
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, next],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sets a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), VaultError> {
        self.live_conn()?.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

impl Drop for Vault {
    fn drop(&mut self) {
        // Lock and close both end here: sign the tail so a later truncation is detectable.
        let Ok(conn) = self.live_conn() else {
            return; // wiped: nothing left to sign
        };
        if let Err(e) = audit::checkpoint(&conn) {
            tracing::warn!("cannot sign an audit checkpoint on close: {e}");
        }
    }
}

/// SQLCipher's salt of the open database (the first 16 bytes of `vault.db`).
pub(crate) fn db_salt(conn: &Connection) -> Result<[u8; 16], VaultError> {
    let hex_salt: String = conn.query_row("PRAGMA cipher_salt", [], |r| r.get(0))?;
    hex::decode(hex_salt)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or(VaultError::Crypto("SQLCipher salt"))
}

/// The first 16 bytes of `vault.db`, fewer if it is shorter or missing (checked later).
fn db_head(dir: &Path) -> Result<Vec<u8>, VaultError> {
    use std::io::Read;
    let mut head = Vec::with_capacity(16);
    match std::fs::File::open(dir.join(DB_FILE)) {
        Ok(f) => {
            f.take(16)
                .read_to_end(&mut head)
                .map_err(|e| VaultError::io("read vault.db", e))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(VaultError::io("read vault.db", e)),
    }
    Ok(head)
}

/// Opens `vault.db` with the data key from `vault.keys`, refusing to create a new database
/// in place of a missing one, and naming the file in every way it can fail.
fn open_existing(dir: &Path, data_key: &keyfile::DataKey) -> Result<Connection, VaultError> {
    let path = dir.join(DB_FILE);
    let len = match std::fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(VaultError::Corrupt(
                "vault.db is missing (only vault.keys is there)",
            ))
        }
        Err(e) => return Err(VaultError::io("read vault.db", e)),
    };
    // Empty with no WAL: SQLCipher would quietly start a new, empty database here.
    if len == 0 && !dir.join("vault.db-wal").is_file() {
        return Err(VaultError::Corrupt("vault.db is empty"));
    }
    db::open(&path, data_key).map_err(|e| match e {
        VaultError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            ) =>
        {
            VaultError::Corrupt("vault.db is damaged (truncated or overwritten?)")
        }
        // SQLCipher cannot tell a wrong key from a damaged first page: both fail its HMAC.
        VaultError::Corrupt("database does not open with the vault key") => VaultError::Corrupt(
            "vault.db does not open with the key in vault.keys: the two files come from \
             different vaults, or vault.db is damaged",
        ),
        e => e,
    })
}
