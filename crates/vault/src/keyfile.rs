//! `vault.keys`: one wrap of the vault's data key per operator.
//!
//! `kek = Argon2id(passphrase, salt, m, t, p)`, `wrapped = XChaCha20-Poly1305(kek, nonce,
//! data_key, aad = "ghidanh/vault-key/v1" || operator_id)`. The file holds no secret in the clear.

use std::io::Write;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ghidanh_bundle::OperatorId;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::VaultError;

const AAD_PREFIX: &[u8] = b"ghidanh/vault-key/v1";

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for KdfParams {
    /// RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes): ≈160 ms per unlock
    /// on the 2-core reference machine (measured; docs/vault.md). Stored per wrap, so it can grow.
    fn default() -> Self {
        KdfParams {
            m_kib: 64 * 1024,
            t: 3,
            p: 4,
        }
    }
}

impl KdfParams {
    /// Cheap parameters for tests only.
    pub fn insecure_fast_for_tests() -> Self {
        KdfParams {
            m_kib: 256,
            t: 1,
            p: 1,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Wrap {
    operator_id: String,
    kdf: KdfParams,
    salt: String,
    nonce: String,
    wrapped: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct KeyFile {
    version: u32,
    wraps: Vec<Wrap>,
    /// SQLCipher's salt of the `vault.db` these wraps open (its first 16 bytes, public in the
    /// file anyway): it tells "these two files are not a pair" before any Argon2 work and
    /// whatever passphrase is typed. Absent in files written before it existed; added on the
    /// next write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    db_salt: Option<String>,
}

impl KeyFile {
    pub(crate) fn new(wraps: Vec<Wrap>) -> KeyFile {
        KeyFile {
            version: 1,
            wraps,
            db_salt: None,
        }
    }

    /// Records which database the wraps belong to.
    pub(crate) fn set_db_salt(&mut self, salt: [u8; 16]) {
        self.db_salt = Some(hex::encode(salt));
    }

    /// Whether a salt is recorded.
    pub(crate) fn has_db_salt(&self) -> bool {
        self.db_salt.is_some()
    }

    /// `false` only when both a salt is recorded and `db_head` (the first bytes of
    /// `vault.db`) is long enough to hold one, and they differ. A database still all in
    /// its WAL (empty main file) cannot be told apart here; SQLCipher's own check remains.
    pub(crate) fn pairs_with(&self, db_head: &[u8]) -> bool {
        match (&self.db_salt, db_head.get(..16)) {
            (Some(salt), Some(head)) => salt.eq_ignore_ascii_case(&hex::encode(head)),
            _ => true,
        }
    }
}

pub(crate) type DataKey = Zeroizing<[u8; 32]>;

pub(crate) fn new_data_key() -> DataKey {
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(key.as_mut());
    key
}

fn kek(passphrase: &str, salt: &[u8], kdf: KdfParams) -> Result<DataKey, VaultError> {
    let params = Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|_| VaultError::Crypto("Argon2 parameters"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|_| VaultError::Crypto("Argon2id"))?;
    Ok(out)
}

fn aad(operator_id: OperatorId) -> Vec<u8> {
    let mut aad = AAD_PREFIX.to_vec();
    aad.extend_from_slice(&operator_id.to_bytes());
    aad
}

pub(crate) fn wrap(
    data_key: &DataKey,
    operator_id: OperatorId,
    passphrase: &str,
    kdf: KdfParams,
) -> Result<Wrap, VaultError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let kek = kek(passphrase, &salt, kdf)?;
    let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
    let wrapped = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: data_key.as_ref(),
                aad: &aad(operator_id),
            },
        )
        .map_err(|_| VaultError::Crypto("wrap"))?;
    Ok(Wrap {
        operator_id: operator_id.to_string(),
        kdf,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        wrapped: hex::encode(wrapped),
    })
}

impl Wrap {
    /// The operator this wrap belongs to (checked when the file was read).
    pub(crate) fn operator_id(&self) -> Result<OperatorId, VaultError> {
        OperatorId::parse(&self.operator_id)
            .map_err(|_| VaultError::Corrupt("vault.keys names an operator id that does not parse"))
    }

    /// The data key if `passphrase` opens this wrap; `None` if it does not.
    fn open(&self, passphrase: &str) -> Result<Option<DataKey>, VaultError> {
        let operator_id = self.operator_id()?;
        let (Ok(salt), Ok(nonce), Ok(wrapped)) = (
            hex::decode(&self.salt),
            hex::decode(&self.nonce),
            hex::decode(&self.wrapped),
        ) else {
            return Err(VaultError::Corrupt(
                "vault.keys holds an entry that is not hex",
            ));
        };
        if nonce.len() != 24 {
            return Err(VaultError::Corrupt(
                "vault.keys holds a nonce of the wrong length",
            ));
        }
        let kek = kek(passphrase, &salt, self.kdf)?;
        let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
        let Ok(plain) = cipher.decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &wrapped,
                aad: &aad(operator_id),
            },
        ) else {
            return Ok(None);
        };
        let plain = Zeroizing::new(plain);
        let key: [u8; 32] = plain.as_slice().try_into().map_err(|_| {
            VaultError::Corrupt("vault.keys holds a wrapped key of the wrong length")
        })?;
        Ok(Some(Zeroizing::new(key)))
    }

    /// Refuses what would make Argon2 fail or allocate absurdly later, so that a damaged or
    /// hostile file is reported as damaged, not as a crypto failure or an out-of-memory.
    fn check(&self) -> Result<(), VaultError> {
        self.operator_id()?;
        let hex_len = |s: &str, n: usize| s.len() == 2 * n && hex::decode(s).is_ok();
        if !hex_len(&self.salt, 16) || !hex_len(&self.nonce, 24) || !hex_len(&self.wrapped, 48) {
            return Err(VaultError::Corrupt("vault.keys holds a malformed key wrap"));
        }
        let KdfParams { m_kib, t, p } = self.kdf;
        // Up to 1 GiB, 64 passes, 64 lanes: far above any default, below what would exhaust memory.
        if Params::new(m_kib, t, p, Some(32)).is_err() || m_kib > 1024 * 1024 || t > 64 || p > 64 {
            return Err(VaultError::Corrupt(
                "vault.keys holds Argon2 parameters out of range",
            ));
        }
        Ok(())
    }
}

impl KeyFile {
    /// The wrap of `operator`, if it has one.
    fn wrap_of(&self, operator: OperatorId) -> Option<&Wrap> {
        let id = operator.to_string();
        self.wraps.iter().find(|w| w.operator_id == id)
    }

    /// Opens the wrap of `operator` with `passphrase`: `None` if it does not open or the
    /// operator has no wrap.
    pub(crate) fn open_as(
        &self,
        operator: OperatorId,
        passphrase: &str,
    ) -> Result<Option<DataKey>, VaultError> {
        match self.wrap_of(operator) {
            Some(w) => w.open(passphrase),
            None => Ok(None),
        }
    }

    /// The first operator other than `except` whose wrap `passphrase` opens (one Argon2id
    /// derivation per wrap tried).
    pub(crate) fn opened_by(
        &self,
        passphrase: &str,
        except: Option<OperatorId>,
    ) -> Result<Option<OperatorId>, VaultError> {
        let except = except.map(|id| id.to_string());
        for w in &self.wraps {
            if except.as_deref() == Some(w.operator_id.as_str()) {
                continue;
            }
            if w.open(passphrase)?.is_some() {
                return Ok(Some(w.operator_id()?));
            }
        }
        Ok(None)
    }

    /// Puts `wrap` in place of its operator's wrap, or adds it.
    pub(crate) fn set(&mut self, wrap: Wrap) {
        match self
            .wraps
            .iter_mut()
            .find(|w| w.operator_id == wrap.operator_id)
        {
            Some(slot) => *slot = wrap,
            None => self.wraps.push(wrap),
        }
    }
}

/// Tries every wrap; the first that opens names the operator.
pub(crate) fn unwrap_any(
    file: &KeyFile,
    passphrase: &str,
) -> Result<(OperatorId, DataKey), VaultError> {
    for w in &file.wraps {
        if let Some(key) = w.open(passphrase)? {
            return Ok((w.operator_id()?, key));
        }
    }
    Err(VaultError::WrongPassphrase)
}

/// Reads and checks `vault.keys`. Every way it can be wrong is a `Corrupt` naming the file.
pub(crate) fn read(path: &Path) -> Result<KeyFile, VaultError> {
    let bytes = std::fs::read(path).map_err(|e| VaultError::io("read vault.keys", e))?;
    if bytes.is_empty() {
        return Err(VaultError::Corrupt("vault.keys is empty"));
    }
    // The version first, on its own: a newer layout must say "unknown version", not "damaged".
    #[derive(Deserialize)]
    struct Versioned {
        version: u32,
    }
    let Versioned { version } = serde_json::from_slice(&bytes).map_err(|_| {
        VaultError::Corrupt("vault.keys is not a key file (truncated or overwritten?)")
    })?;
    if version != 1 {
        return Err(VaultError::Corrupt(
            "vault.keys has a version this app does not know (made by a newer app?)",
        ));
    }
    let file: KeyFile = serde_json::from_slice(&bytes).map_err(|_| {
        VaultError::Corrupt("vault.keys is not a key file (truncated or overwritten?)")
    })?;
    if let Some(salt) = &file.db_salt {
        if salt.len() != 32 || hex::decode(salt).is_err() {
            return Err(VaultError::Corrupt(
                "vault.keys holds a malformed database salt",
            ));
        }
    }
    if file.wraps.is_empty() {
        return Err(VaultError::Corrupt("vault.keys holds no key wrap"));
    }
    for w in &file.wraps {
        w.check()?;
    }
    Ok(file)
}

/// Writes atomically and durably: temp file, fsync, rename, fsync the folder. A crash leaves
/// the old file or the new one, never a mix.
pub(crate) fn write(path: &Path, file: &KeyFile) -> Result<(), VaultError> {
    let json = serde_json::to_vec_pretty(file).map_err(|_| VaultError::Corrupt("vault.keys"))?;
    let tmp = path.with_extension("keys.tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| VaultError::io("write key file", e))?;
    f.write_all(&json)
        .and_then(|_| f.sync_all())
        .map_err(|e| VaultError::io("write key file", e))?;
    std::fs::rename(&tmp, path).map_err(|e| VaultError::io("rename key file", e))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| VaultError::io("sync vault folder", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(kdf: KdfParams) -> Vec<u8> {
        let key = new_data_key();
        let mut w = wrap(
            &key,
            OperatorId::new(),
            "p",
            KdfParams::insecure_fast_for_tests(),
        )
        .unwrap();
        w.kdf = kdf;
        serde_json::to_vec(&KeyFile::new(vec![w])).unwrap()
    }

    #[test]
    fn hostile_argon2_parameters_are_refused_when_read_not_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.keys");
        for kdf in [
            KdfParams {
                m_kib: u32::MAX,
                t: 1,
                p: 1,
            },
            KdfParams {
                m_kib: 2 * 1024 * 1024,
                t: 3,
                p: 4,
            },
            KdfParams {
                m_kib: 65536,
                t: 1_000_000,
                p: 4,
            },
            KdfParams {
                m_kib: 65536,
                t: 3,
                p: 0,
            },
            KdfParams {
                m_kib: 1,
                t: 3,
                p: 4,
            },
        ] {
            std::fs::write(&path, file_with(kdf)).unwrap();
            assert!(
                matches!(read(&path), Err(VaultError::Corrupt(m)) if m.contains("Argon2")),
                "{kdf:?}"
            );
        }
        std::fs::write(&path, file_with(KdfParams::default())).unwrap();
        assert!(read(&path).is_ok());
    }

    #[test]
    fn the_salt_check_pairs_only_the_recorded_database() {
        let mut f = KeyFile::new(Vec::new());
        assert!(
            f.pairs_with(&[7; 16]),
            "no salt recorded: SQLCipher decides"
        );
        f.set_db_salt([7; 16]);
        assert!(f.pairs_with(&[7; 20]));
        assert!(!f.pairs_with(&[8; 16]));
        assert!(
            f.pairs_with(&[]),
            "an empty vault.db (all in the WAL) is left to SQLCipher"
        );
    }
}
