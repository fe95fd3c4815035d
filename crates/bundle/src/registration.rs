//! Device registration (spec § "Registration"): the device proves it holds its key and
//! its one-time token, and the registry binds the key to the device id.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::frame;
use crate::{DeviceId, DeviceKey, DevicePublicKey, Error};

/// The eight bytes every registration starts with.
pub const MAGIC: &[u8; 8] = b"GDREGI01";
const VERSION: u64 = 1;

/// A registration request, signed by the device key it registers.
pub struct DeviceRegistration {
    /// The device id from the provisioning file.
    pub device_id: DeviceId,
    /// The device's public key.
    pub device_key: DevicePublicKey,
    /// The one-time token from the provisioning file.
    pub token: Zeroizing<[u8; 32]>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrationWire {
    v: u64,
    #[serde(with = "serde_bytes")]
    device_id: [u8; 16],
    #[serde(with = "serde_bytes")]
    device_key: [u8; 32],
    #[serde(with = "serde_bytes")]
    token: [u8; 32],
}

impl DeviceRegistration {
    /// Builds and signs a registration: the bytes to send.
    pub fn sign(device_id: DeviceId, token: &[u8; 32], key: &DeviceKey) -> Vec<u8> {
        let wire = RegistrationWire {
            v: VERSION,
            device_id: device_id.to_bytes(),
            device_key: key.public().to_bytes(),
            token: *token,
        };
        frame::write(MAGIC, &wire, key.signing())
    }

    /// Parses a registration and checks it is signed by the key it registers.
    pub fn verify(bytes: &[u8]) -> Result<DeviceRegistration, Error> {
        let frame = frame::split(bytes, MAGIC, "registration")?;
        if !frame.trailer.is_empty() {
            return Err(Error::TrailingBytes(frame.trailer.len()));
        }
        let w: RegistrationWire = frame.decode("registration")?;
        if w.v != VERSION {
            return Err(Error::UnsupportedVersion(w.v));
        }
        let device_key = DevicePublicKey::from_bytes(&w.device_key)?;
        frame.verify(&device_key.0)?;
        Ok(DeviceRegistration {
            device_id: DeviceId::from_bytes(w.device_id),
            device_key,
            token: Zeroizing::new(w.token),
        })
    }
}
