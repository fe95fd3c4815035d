//! Provisioning devices (offline, by an administrator) and registering their keys (online).

use std::path::Path;

use ghidanh_bundle::{DeviceId, DeviceRegistration, Provisioning, Sha256};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::config::DataDir;
use crate::store::{DeviceState, Store};
use crate::{keys_file, registry, RegistryError};

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
    /// The token is wrong, or was already used to register another key, or the device is revoked.
    #[error("invalid or used token")]
    InvalidToken,
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Binds a device's key to its id, consuming its one-time token.
///
/// Idempotent: the same device and key again succeeds, because a kit that lost the
/// first response retries.
pub(crate) fn register(store: &Store, bytes: &[u8], now: u64) -> Result<Registered, RegisterError> {
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
        DeviceState::Active | DeviceState::Revoked => return Err(RegisterError::InvalidToken),
    }
    Ok(Registered {
        device_id: reg.device_id,
    })
}
