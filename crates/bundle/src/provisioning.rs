//! Provisioning files (spec § "Provisioning"): what a kit needs to work for a registry,
//! signed by that registry. Can be carried offline (file, USB stick, later a QR code).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::frame;
use crate::{DeviceId, Error, RegistryKeys, RegistryPublicKeys};

/// The eight bytes every provisioning file starts with.
pub const MAGIC: &[u8; 8] = b"GDPROV01";
const VERSION: u64 = 1;

/// A device's provisioning: registry address and keys, the device id and a one-time token.
#[derive(Clone)]
pub struct Provisioning {
    /// Base URL of the registry (or relay) to sync with.
    pub registry_url: String,
    /// The registry's public keys.
    pub registry: RegistryPublicKeys,
    /// The id the registry assigned to this device.
    pub device_id: DeviceId,
    /// One-time token that lets the device register its key. Secret until used.
    pub token: Zeroizing<[u8; 32]>,
    /// When it was issued (Unix seconds).
    pub issued_at: u64,
    /// A human label ("Đội lưu động số 3").
    pub label: String,
}

impl std::fmt::Debug for Provisioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioning")
            .field("registry_url", &self.registry_url)
            .field("registry", &self.registry)
            .field("device_id", &self.device_id)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvisioningWire {
    v: u64,
    registry_url: String,
    #[serde(with = "serde_bytes")]
    registry_signing_key: [u8; 32],
    #[serde(with = "serde_bytes")]
    registry_seal_key: [u8; 32],
    #[serde(with = "serde_bytes")]
    device_id: [u8; 16],
    #[serde(with = "serde_bytes")]
    token: [u8; 32],
    issued_at: u64,
    label: String,
}

impl Provisioning {
    /// Signs the file with the registry key.
    pub fn sign(&self, keys: &RegistryKeys) -> Vec<u8> {
        let wire = ProvisioningWire {
            v: VERSION,
            registry_url: self.registry_url.clone(),
            registry_signing_key: keys.public().signing_bytes(),
            registry_seal_key: keys.public().seal_bytes(),
            device_id: self.device_id.to_bytes(),
            token: *self.token,
            issued_at: self.issued_at,
            label: self.label.clone(),
        };
        frame::write(MAGIC, &wire, keys.signing())
    }

    /// Parses a provisioning file and checks it is signed by the registry key it names.
    ///
    /// That proves integrity, not authority: the kit trusts the registry key on first use,
    /// as the operator who installs the file vouches for it.
    pub fn parse(bytes: &[u8]) -> Result<Provisioning, Error> {
        let frame = frame::split(bytes, MAGIC, "provisioning file")?;
        if !frame.trailer.is_empty() {
            return Err(Error::TrailingBytes(frame.trailer.len()));
        }
        let w: ProvisioningWire = frame.decode("provisioning file")?;
        if w.v != VERSION {
            return Err(Error::UnsupportedVersion(w.v));
        }
        let registry =
            RegistryPublicKeys::from_bytes(&w.registry_signing_key, &w.registry_seal_key)?;
        frame.verify(registry.verifying())?;
        if !(w.registry_url.starts_with("http://") || w.registry_url.starts_with("https://")) {
            return Err(Error::Field {
                field: "registry_url",
                rule: "must start with http:// or https://",
            });
        }
        Ok(Provisioning {
            registry_url: w.registry_url,
            registry,
            device_id: DeviceId::from_bytes(w.device_id),
            token: Zeroizing::new(w.token),
            issued_at: w.issued_at,
            label: w.label,
        })
    }
}
