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
}

impl KeyFile {
    pub(crate) fn new(wraps: Vec<Wrap>) -> KeyFile {
        KeyFile { version: 1, wraps }
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

/// Tries every wrap; the first that opens names the operator.
pub(crate) fn unwrap_any(
    file: &KeyFile,
    passphrase: &str,
) -> Result<(OperatorId, DataKey), VaultError> {
    for w in &file.wraps {
        let (Ok(operator_id), Ok(salt), Ok(nonce), Ok(wrapped)) = (
            OperatorId::parse(&w.operator_id),
            hex::decode(&w.salt),
            hex::decode(&w.nonce),
            hex::decode(&w.wrapped),
        ) else {
            return Err(VaultError::Corrupt("key file entry"));
        };
        if nonce.len() != 24 {
            return Err(VaultError::Corrupt("key file nonce"));
        }
        let kek = kek(passphrase, &salt, w.kdf)?;
        let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
        if let Ok(plain) = cipher.decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &wrapped,
                aad: &aad(operator_id),
            },
        ) {
            let plain = Zeroizing::new(plain);
            let key: [u8; 32] = plain
                .as_slice()
                .try_into()
                .map_err(|_| VaultError::Corrupt("wrapped key length"))?;
            return Ok((operator_id, Zeroizing::new(key)));
        }
    }
    Err(VaultError::WrongPassphrase)
}

pub(crate) fn read(path: &Path) -> Result<KeyFile, VaultError> {
    let bytes = std::fs::read(path).map_err(|e| VaultError::io("read key file", e))?;
    let file: KeyFile =
        serde_json::from_slice(&bytes).map_err(|_| VaultError::Corrupt("key file"))?;
    if file.version != 1 {
        return Err(VaultError::Corrupt("key file version"));
    }
    Ok(file)
}

/// Writes atomically and durably: temp file, fsync, rename, fsync the folder.
pub(crate) fn write(path: &Path, file: &KeyFile) -> Result<(), VaultError> {
    let json = serde_json::to_vec_pretty(file).map_err(|_| VaultError::Corrupt("key file"))?;
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
