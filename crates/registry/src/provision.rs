//! Provisioning devices (offline, by an administrator) and registering their keys (online).

use std::path::Path;

use ghidanh_bundle::{
    DeviceId, DeviceRegistration, Provisioning, Receipt, ReceiptId, RegistryKeys, RejectReason,
    Sha256, Verdict,
};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::config::DataDir;
use crate::store::{DeviceState, Store};
use crate::{keys_file, registry, RegistryError, Submission};

/// Issues a provisioning file for a new device: a fresh device id and a one-time token.
///
/// Only the token's SHA-256 is stored, so a copy of the database cannot register devices.
/// Returns the device id and the signed provisioning bytes (writing them is the caller's job).
pub fn provision_device(
    data_dir: &Path,
    registry_url: &str,
    label: &str,
) -> Result<(DeviceId, Vec<u8>), RegistryError> {
    if !(registry_url.starts_with("http://") || registry_url.starts_with("https://")) {
        return Err(RegistryError::InvalidUrl);
    }
    let dir = DataDir::new(data_dir);
    // New devices seal to the current key (spec § "Key ids and rotation").
    let ring = keys_file::read(&dir.key_file())?;
    let keys = ring.current();
    let store = Store::open(&dir.db())?;
    let device_id = DeviceId::new();
    let mut token = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(token.as_mut_slice());
    let now = registry::unix_now();
    store.insert_device(device_id, label, Sha256::of(token.as_slice()), now)?;
    let bytes = Provisioning {
        registry_url: registry_url.to_owned(),
        registry: keys.public().clone(),
        device_id,
        token,
        issued_at: now,
        label: label.to_owned(),
    }
    .sign(keys);
    Ok((device_id, bytes))
}

/// A device registration that succeeded (now or on an earlier, identical request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    /// The registered device.
    pub device_id: DeviceId,
}

/// Why a registration was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The bytes are not a registration signed by the key they carry.
    #[error("not a valid registration")]
    Malformed,
    /// No device with this id was provisioned.
    #[error("unknown device")]
    UnknownDevice,
    /// The token is wrong, or was already used to register another key.
    #[error("invalid or used token")]
    InvalidToken,
    /// The device is on the revocation list; the refusal is a signed `device_revoked`
    /// receipt about the registration bytes, on which the kit wipes its vault.
    #[error("device revoked")]
    DeviceRevoked(Box<Submission>),
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Binds a device's key to its id, consuming its one-time token.
///
/// Idempotent: the same device and key again succeeds, because a kit that lost the
/// first response retries.
pub(crate) fn register(
    store: &Store,
    keys: &RegistryKeys,
    bytes: &[u8],
    now: u64,
) -> Result<Registered, RegisterError> {
    let reg = DeviceRegistration::verify(bytes).map_err(|_| RegisterError::Malformed)?;
    let device = store
        .device(reg.device_id)?
        .ok_or(RegisterError::UnknownDevice)?;
    // Comparing digests, not tokens: timing reveals nothing useful about a SHA-256 preimage.
    if Sha256::of(reg.token.as_slice()) != device.token_sha256 {
        return Err(RegisterError::InvalidToken);
    }
    match device.state {
        DeviceState::Provisioned => {
            store.activate_device(reg.device_id, reg.device_key, now)?;
        }
        DeviceState::Active if device.key == Some(reg.device_key) => {}
        DeviceState::Active => return Err(RegisterError::InvalidToken),
        // After the token check: only the device's holder learns that it is revoked.
        DeviceState::Revoked => {
            tracing::warn!(device_id = %reg.device_id, "revoked device tried to register");
            return Err(RegisterError::DeviceRevoked(Box::new(refusal(
                keys, bytes, now,
            ))));
        }
    }
    Ok(Registered {
        device_id: reg.device_id,
    })
}

/// A signed `device_revoked` refusal of the submitted bytes (a registration has no bundle id).
fn refusal(keys: &RegistryKeys, submitted: &[u8], now: u64) -> Submission {
    let receipt = Receipt {
        receipt_id: ReceiptId::new(),
        issued_at: now,
        registry_key_id: keys.public().key_id().clone(),
        submission_sha256: Sha256::of(submitted),
        bundle_id: None,
        verdict: Verdict::Rejected(RejectReason::DeviceRevoked),
    };
    let bytes = receipt.sign(keys);
    Submission { receipt, bytes }
}

/// A device put on the revocation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The device.
    pub device_id: DeviceId,
    /// When it was first revoked (Unix seconds).
    pub revoked_at: u64,
    /// The reason given the first time, if any.
    pub reason: Option<String>,
    /// False when it was already revoked: nothing changed.
    pub newly: bool,
}

/// Revokes a device: from now on its registrations and bundles get a signed `device_revoked`
/// refusal, on which its kit destroys its vault. Idempotent; an unknown device is an error.
/// A running registry sees the revocation on the next request (it reads the store each time).
pub fn revoke_device(
    data_dir: &Path,
    device_id: DeviceId,
    reason: Option<&str>,
) -> Result<Revoked, RegistryError> {
    let mut store = Store::open(&DataDir::new(data_dir).db())?;
    let row = store
        .revoke_device(device_id, reason, registry::unix_now())?
        .ok_or(RegistryError::UnknownDevice(device_id))?;
    if row.newly {
        tracing::warn!(%device_id, "device revoked");
    }
    Ok(Revoked {
        device_id,
        revoked_at: row.revoked_at,
        reason: row.reason,
        newly: row.newly,
    })
}
