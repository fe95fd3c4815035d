//! Fixtures for the unit tests: an initialised registry with one registered device.

use ghidanh_bundle::{seal, DeviceId, DeviceKey, DeviceRegistration, Payload, Provisioning};
use tempfile::TempDir;

use crate::{init, provision_device, Registry};

pub(crate) struct Fixture {
    pub(crate) registry: Registry,
    pub(crate) device: DeviceKey,
    pub(crate) device_id: DeviceId,
    _dir: TempDir,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path()).unwrap();
        let (device_id, prov) = provision_device(dir.path(), "http://127.0.0.1:1", "test").unwrap();
        let prov = Provisioning::parse(&prov).unwrap();
        let registry = Registry::open(dir.path()).unwrap();
        let device = DeviceKey::generate();
        registry
            .register_device(&DeviceRegistration::sign(device_id, &prov.token, &device))
            .unwrap();
        Fixture {
            registry,
            device,
            device_id,
            _dir: dir,
        }
    }

    /// A valid enrollment from the registered device.
    pub(crate) fn payload(&self) -> Payload {
        payload(self.device_id)
    }

    /// Seals `payload` with the registered device key to this registry.
    pub(crate) fn seal(&self, payload: &Payload) -> Vec<u8> {
        seal(
            payload,
            &self.device,
            self.registry.public_keys(),
            1_790_000_100,
        )
        .unwrap()
    }
}

pub(crate) fn payload(device_id: DeviceId) -> Payload {
    ghidanh_bundle::testkit::sample_payload(device_id)
}
