//! Operator accounts and their passphrases.
//!
//! Every account has one wrap of the same data key in `vault.keys`. A passphrase change or
//! reset writes a new wrap and never touches `vault.db`: the data key, and so every page of
//! the database, stays the same. A supervisor is signed in with a wrap that opens the data
//! key, so it can wrap that key again for another operator under a new passphrase: this is
//! the recovery path for a forgotten passphrase, and no data is lost by it.
//!
//! Crash order for every change here: the database row and its audit entry commit in one
//! transaction first, then `vault.keys` is replaced atomically. A crash in between leaves an
//! audited change whose wrap is not written yet (an operator who cannot sign in, or the old
//! passphrase still working), never a wrap without its audit entry or an account without a
//! row. See docs/vault.md.

use ghidanh_bundle::OperatorId;
use ghidanh_record::text::vietnamese_cmp;
use rusqlite::{params, Connection, OptionalExtension};

use crate::{db, keyfile, AuditAction, KdfParams, Operator, Role, Vault, VaultError, KEYS_FILE};

impl Vault {
    /// The signed-in operator.
    pub fn operator(&self) -> &Operator {
        &self.account
    }

    /// Every account on this device, in Vietnamese name order.
    pub fn operators(&self) -> Result<Vec<Operator>, VaultError> {
        let conn = self.live_conn()?;
        let mut stmt = conn.prepare("SELECT id, name, role FROM operators")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, role) = row?;
            out.push(Operator {
                id: OperatorId::parse(&id).map_err(|_| VaultError::Corrupt("operator id"))?,
                name,
                role: Role::parse(&role)?,
            });
        }
        out.sort_by(|a, b| {
            vietnamese_cmp(&a.name, &b.name).then_with(|| a.id.to_string().cmp(&b.id.to_string()))
        });
        Ok(out)
    }

    /// Adds an account with its own passphrase. Supervisor only.
    pub fn add_operator(
        &self,
        name: &str,
        passphrase: &str,
        role: Role,
        kdf: KdfParams,
    ) -> Result<Operator, VaultError> {
        // The lock is held to the end so two changes cannot interleave on `vault.keys`.
        let mut conn = self.live_conn()?;
        self.require_supervisor(&conn, "add an operator")?;
        let path = self.dir().join(KEYS_FILE);
        let mut file = keyfile::read(&path)?;
        if file.opened_by(passphrase, None)?.is_some() {
            return Err(VaultError::PassphraseInUse);
        }
        let operator = Operator {
            id: OperatorId::new(),
            name: name.to_owned(),
            role,
        };
        let wrap = keyfile::wrap(&self.data_key, operator.id, passphrase, kdf)?;
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
        self.audit(&tx, AuditAction::OperatorAdded, &operator.id.to_string())?;
        tx.commit()?;
        file.set(wrap);
        write_keys(&conn, &path, &mut file)?;
        tracing::debug!(?operator, "operator added");
        Ok(operator)
    }

    /// Changes the signed-in operator's own passphrase: `current` must open the own wrap.
    /// Re-wraps the data key; the database is not re-encrypted.
    pub fn change_passphrase(
        &self,
        current: &str,
        new: &str,
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let me = self.account.id;
        let path = self.dir().join(KEYS_FILE);
        let mut file = keyfile::read(&path)?;
        let Some(key) = file.open_as(me, current)? else {
            return Err(VaultError::WrongPassphrase);
        };
        if key != self.data_key {
            return Err(VaultError::Corrupt(
                "vault.keys was replaced while the vault was open",
            ));
        }
        if file.opened_by(new, Some(me))?.is_some() {
            return Err(VaultError::PassphraseInUse);
        }
        let wrap = keyfile::wrap(&self.data_key, me, new, kdf)?;
        let tx = conn.transaction()?;
        self.audit(&tx, AuditAction::PassphraseChanged, &me.to_string())?;
        tx.commit()?;
        file.set(wrap);
        write_keys(&conn, &path, &mut file)
    }

    /// Sets a new passphrase for another operator who forgot theirs. Supervisor only; the
    /// supervisor's own passphrase changes with [`Vault::change_passphrase`], which asks for
    /// the current one.
    pub fn reset_passphrase(
        &self,
        operator: OperatorId,
        new: &str,
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        self.require_supervisor(&conn, "reset a passphrase")?;
        if operator == self.account.id {
            // Without this, a walk-up at an unlocked supervisor session could take the account.
            return Err(VaultError::NotFound("another operator with this id"));
        }
        let exists: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM operators WHERE id = ?1",
                [operator.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_none() {
            return Err(VaultError::NotFound("operator"));
        }
        let path = self.dir().join(KEYS_FILE);
        let mut file = keyfile::read(&path)?;
        if file.opened_by(new, Some(operator))?.is_some() {
            return Err(VaultError::PassphraseInUse);
        }
        let wrap = keyfile::wrap(&self.data_key, operator, new, kdf)?;
        let tx = conn.transaction()?;
        self.audit(&tx, AuditAction::PassphraseReset, &operator.to_string())?;
        tx.commit()?;
        file.set(wrap);
        write_keys(&conn, &path, &mut file)
    }

    /// Refuses unless the signed-in account is a supervisor, read from the database so a role
    /// changed since unlock counts.
    fn require_supervisor(&self, conn: &Connection, what: &'static str) -> Result<(), VaultError> {
        let role: Option<String> = conn
            .query_row(
                "SELECT role FROM operators WHERE id = ?1",
                [&self.operator],
                |r| r.get(0),
            )
            .optional()?;
        let role = role.ok_or(VaultError::Corrupt(
            "the signed-in operator is missing from vault.db",
        ))?;
        match Role::parse(&role)? {
            Role::Supervisor => Ok(()),
            Role::Operator => Err(VaultError::NotSupervisor(what)),
        }
    }
}

/// Writes `vault.keys`, recording the database salt if the file predates it.
fn write_keys(
    conn: &Connection,
    path: &std::path::Path,
    file: &mut keyfile::KeyFile,
) -> Result<(), VaultError> {
    if !file.has_db_salt() {
        file.set_db_salt(crate::db_salt(conn)?);
    }
    keyfile::write(path, file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attempts::{delay_secs, FREE_TRIES};
    use crate::UNLOCK_FAILURES_FILE;

    const PASS: &str = "mật khẩu giám sát";
    const OP_PASS: &str = "mật khẩu nhân viên";
    const T0: u64 = 1_800_000_000_000;

    fn fast() -> KdfParams {
        KdfParams::insecure_fast_for_tests()
    }

    /// `(action, subject)` of every audit entry, oldest first.
    fn audit_log(v: &Vault) -> Vec<(String, String)> {
        let conn = v.conn();
        let mut stmt = conn
            .prepare("SELECT action, subject FROM audit ORDER BY seq")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    fn actions(v: &Vault) -> Vec<String> {
        audit_log(v).into_iter().map(|(a, _)| a).collect()
    }

    #[test]
    fn wrong_passphrases_wait_a_growing_delay_without_argon2_then_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        drop(Vault::create(dir.path(), "Giám sát", PASS, fast()).unwrap());
        let mut now = T0;
        for _ in 0..FREE_TRIES {
            assert!(matches!(
                Vault::unlock_at(dir.path(), "sai", now),
                Err(VaultError::WrongPassphrase)
            ));
            now += 10;
        }
        // The fourth wrong passphrase is still tried (the free ones are used up now) …
        assert!(matches!(
            Vault::unlock_at(dir.path(), "sai", now),
            Err(VaultError::WrongPassphrase)
        ));
        let fourth = now;
        // … and from here even the right one waits 2 s.
        assert!(matches!(
            Vault::unlock_at(dir.path(), PASS, fourth),
            Err(VaultError::TooManyAttempts {
                retry_after_secs: 2
            })
        ));
        assert!(matches!(
            Vault::unlock_at(dir.path(), PASS, fourth + 1_500),
            Err(VaultError::TooManyAttempts {
                retry_after_secs: 1
            })
        ));
        // Refused without running Argon2: a key file that would fail to parse is not read.
        let keys = std::fs::read(dir.path().join(KEYS_FILE)).unwrap();
        std::fs::write(dir.path().join(KEYS_FILE), b"not read during the delay").unwrap();
        assert!(matches!(
            Vault::unlock_at(dir.path(), PASS, fourth + 1_999),
            Err(VaultError::TooManyAttempts { .. })
        ));
        std::fs::write(dir.path().join(KEYS_FILE), keys).unwrap();
        // A wrong one after the wait counts as the fifth: 4 s next.
        assert!(matches!(
            Vault::unlock_at(dir.path(), "sai", fourth + 2_000),
            Err(VaultError::WrongPassphrase)
        ));
        let fifth = fourth + 2_000;
        assert!(matches!(
            Vault::unlock_at(dir.path(), PASS, fifth + 3_999),
            Err(VaultError::TooManyAttempts {
                retry_after_secs: 1
            })
        ));
        let (v, _) = Vault::unlock_at(dir.path(), PASS, fifth + 4_000).unwrap();
        let log = audit_log(&v);
        assert_eq!(
            log[1..],
            [
                ("unlock_failed".to_owned(), "5".to_owned()),
                ("unlock_delayed".to_owned(), delay_secs(5).to_string()),
                ("unlocked".to_owned(), String::new()),
            ]
        );
        assert!(!dir.path().join(UNLOCK_FAILURES_FILE).exists());
        drop(v);
        // The count starts over: a wrong passphrase right after costs no wait.
        assert!(matches!(
            Vault::unlock_at(dir.path(), "sai", fifth + 4_001),
            Err(VaultError::WrongPassphrase)
        ));
        assert!(Vault::unlock_at(dir.path(), PASS, fifth + 4_002).is_ok());
    }

    #[test]
    fn the_delay_reaches_five_minutes_and_stays_there() {
        let dir = tempfile::tempdir().unwrap();
        drop(Vault::create(dir.path(), "Giám sát", PASS, fast()).unwrap());
        let mut now = T0;
        for _ in 0..20 {
            match Vault::unlock_at(dir.path(), "sai", now) {
                Err(VaultError::WrongPassphrase) => {}
                Err(VaultError::TooManyAttempts { retry_after_secs }) => {
                    now += retry_after_secs * 1000;
                    continue;
                }
                other => panic!("{:?}", other.map(|_| ())),
            }
        }
        let f = crate::attempts::read(dir.path());
        assert!(f.count >= 12, "{f:?}");
        assert!(matches!(
            Vault::unlock_at(dir.path(), PASS, f.last_ms),
            Err(VaultError::TooManyAttempts {
                retry_after_secs: 300
            })
        ));
        assert!(Vault::unlock_at(dir.path(), PASS, f.last_ms + 300_000).is_ok());
    }

    #[test]
    fn a_new_passphrase_wraps_the_same_data_key() {
        let dir = tempfile::tempdir().unwrap();
        let (v, me) = Vault::create(dir.path(), "Giám sát", PASS, fast()).unwrap();
        let op = v
            .add_operator("Nhân viên", OP_PASS, Role::Operator, fast())
            .unwrap();
        let key_before = *v.data_key;
        v.change_passphrase(PASS, "mới một", fast()).unwrap();
        v.reset_passphrase(op.id, "mới hai", fast()).unwrap();
        let file = keyfile::read(&dir.path().join(KEYS_FILE)).unwrap();
        assert_eq!(
            *file.open_as(me.id, "mới một").unwrap().unwrap(),
            key_before
        );
        assert_eq!(
            *file.open_as(op.id, "mới hai").unwrap().unwrap(),
            key_before
        );
        assert!(file.open_as(me.id, PASS).unwrap().is_none());
        assert_eq!(
            audit_log(&v)[1..],
            [
                ("operator_added".to_owned(), op.id.to_string()),
                ("passphrase_changed".to_owned(), me.id.to_string()),
                ("passphrase_reset".to_owned(), op.id.to_string()),
            ]
        );
    }

    #[test]
    fn lock_is_audited_and_signed() {
        let dir = tempfile::tempdir().unwrap();
        let (v, _) = Vault::create(dir.path(), "Giám sát", PASS, fast()).unwrap();
        v.lock().unwrap();
        let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
        assert_eq!(actions(&v), ["vault_created", "locked", "unlocked"]);
        // Without a device key there is nothing to sign with; the chain still verifies.
        assert_eq!(v.audit_verify().unwrap().entries, 3);
    }

    #[test]
    fn an_account_whose_wrap_was_never_written_is_harmless_and_a_reset_repairs_it() {
        // The crash between the committed row and the key file, made by hand.
        let dir = tempfile::tempdir().unwrap();
        let (v, _) = Vault::create(dir.path(), "Giám sát", PASS, fast()).unwrap();
        let orphan = OperatorId::new();
        v.conn()
            .execute(
                "INSERT INTO operators (id, name, created_at, role) VALUES (?1, 'Mồ Côi', 0, 'operator')",
                [orphan.to_string()],
            )
            .unwrap();
        drop(v);
        let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
        assert_eq!(v.operators().unwrap().len(), 2);
        v.reset_passphrase(orphan, OP_PASS, fast()).unwrap();
        drop(v);
        assert_eq!(Vault::unlock(dir.path(), OP_PASS).unwrap().1.id, orphan);
    }
}
