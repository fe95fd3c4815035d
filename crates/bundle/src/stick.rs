//! Removable media (spec § "Removable media"): the layout of a USB stick that carries sealed
//! bundles from a kit to a registry (central or relay) and receipts (a relay's custody
//! receipts with its certificate, the registry's receipts) back, and the manifest a kit signs
//! to say what it put there.
//!
//! Nothing on a stick is readable: bundles are sealed, receipts and the manifest hold ids and
//! digests only. The manifest lets the importer tell "missing" and "damaged" from "never
//! there"; each bundle still verifies on its own, so a stick whose manifest was lost still
//! delivers every intact bundle.

use serde::{Deserialize, Serialize};

use crate::frame;
use crate::{BundleId, DeviceId, DeviceKey, DevicePublicKey, Error, KeyId, Sha256};

/// The eight bytes every manifest starts with.
pub const MAGIC: &[u8; 8] = b"GDSTICK1";
const VERSION: u64 = 1;
/// Most entries one manifest lists (a kit's whole outbox after weeks offline fits).
pub const MAX_ENTRIES: usize = 100_000;

/// The folder on the stick that holds everything of Ghi Danh.
pub const ROOT: &str = "ghidanh";
/// Sealed bundles, one file each: `<bundle id>.gdbundle`.
pub const BUNDLES: &str = "bundles";
/// Receipts written back by the importer: `<bundle id>.gdreceipt`.
pub const RECEIPTS: &str = "receipts";
/// Per-device files: `<device id>.gdmanifest` and `<device id>.gdregistration`.
pub const DEVICES: &str = "devices";
/// Relay certificates written by a relay's importer: `<relay key id>.gdrelaycert`, so a kit
/// can check the custody receipts beside them with no network.
pub const RELAYS: &str = "relays";

/// File name of a bundle on the stick.
pub fn bundle_file(id: BundleId) -> String {
    format!("{id}.gdbundle")
}

/// File name of a receipt on the stick.
pub fn receipt_file(id: BundleId) -> String {
    format!("{id}.gdreceipt")
}

/// File name of a relay's custody receipt on the stick (in [`RECEIPTS`]).
pub fn custody_file(id: BundleId) -> String {
    format!("{id}.gdcustody")
}

/// File name of a relay certificate on the stick (in [`RELAYS`]).
pub fn relay_cert_file(relay: &KeyId) -> String {
    format!("{relay}.gdrelaycert")
}

/// File name of a device's manifest.
pub fn manifest_file(id: DeviceId) -> String {
    format!("{id}.gdmanifest")
}

/// File name of a device's registration request (for a kit that never reached the registry).
pub fn registration_file(id: DeviceId) -> String {
    format!("{id}.gdregistration")
}

/// One bundle a kit put on the stick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The bundle.
    pub bundle_id: BundleId,
    /// SHA-256 of its exact bytes.
    pub sha256: Sha256,
    /// Its length in bytes.
    pub len: u64,
}

/// What one kit put on a stick, signed with its device key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The kit.
    pub device_id: DeviceId,
    /// The key that signed this manifest (the importer checks it is the registered one).
    pub device_key: DevicePublicKey,
    /// When it was written (Unix seconds, device clock).
    pub created_at: u64,
    /// The bundles, in the order written.
    pub entries: Vec<ManifestEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyWire {
    v: u64,
    #[serde(with = "serde_bytes")]
    device_id: [u8; 16],
    #[serde(with = "serde_bytes")]
    device_key: [u8; 32],
    created_at: u64,
    count: u64,
    /// SHA-256 of the trailer (the entries): the frame body stays small and fixed.
    #[serde(with = "serde_bytes")]
    entries_sha256: [u8; 32],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryWire {
    #[serde(with = "serde_bytes")]
    bundle_id: [u8; 16],
    #[serde(with = "serde_bytes")]
    sha256: [u8; 32],
    len: u64,
}

impl Manifest {
    /// Signs the manifest with the device key: the bytes to write.
    pub fn sign(
        device_id: DeviceId,
        entries: &[ManifestEntry],
        created_at: u64,
        key: &DeviceKey,
    ) -> Vec<u8> {
        let wire: Vec<EntryWire> = entries
            .iter()
            .map(|e| EntryWire {
                bundle_id: e.bundle_id.to_bytes(),
                sha256: e.sha256.0,
                len: e.len,
            })
            .collect();
        let trailer = frame::encode_cbor(&wire);
        let body = BodyWire {
            v: VERSION,
            device_id: device_id.to_bytes(),
            device_key: key.public().to_bytes(),
            created_at,
            count: entries.len() as u64,
            entries_sha256: Sha256::of(&trailer).0,
        };
        let mut out = frame::write(MAGIC, &body, key.signing());
        out.extend_from_slice(&trailer);
        out
    }

    /// Parses a manifest and checks it is signed by the key it names and that the entries
    /// are the ones it commits to.
    pub fn verify(bytes: &[u8]) -> Result<Manifest, Error> {
        let frame = frame::split(bytes, MAGIC, "manifest")?;
        let body: BodyWire = frame.decode("manifest")?;
        if body.v != VERSION {
            return Err(Error::UnsupportedVersion(body.v));
        }
        let device_key = DevicePublicKey::from_bytes(&body.device_key)?;
        frame.verify(&device_key.0)?;
        if body.count > MAX_ENTRIES as u64 {
            return Err(Error::Field {
                field: "count",
                rule: "more than 100000 entries",
            });
        }
        if Sha256::of(frame.trailer).0 != body.entries_sha256 {
            return Err(Error::CiphertextMismatch("manifest entries"));
        }
        let wire: Vec<EntryWire> = frame::decode_cbor(frame.trailer, "manifest entries")?;
        if wire.len() as u64 != body.count {
            return Err(Error::Field {
                field: "count",
                rule: "differs from the number of entries",
            });
        }
        Ok(Manifest {
            device_id: DeviceId::from_bytes(body.device_id),
            device_key,
            created_at: body.created_at,
            entries: wire
                .into_iter()
                .map(|e| ManifestEntry {
                    bundle_id: BundleId::from_bytes(e.bundle_id),
                    sha256: Sha256(e.sha256),
                    len: e.len,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize) -> Vec<ManifestEntry> {
        (0..n)
            .map(|i| ManifestEntry {
                bundle_id: BundleId::new(),
                sha256: Sha256::of(&i.to_be_bytes()),
                len: 400_000 + i as u64,
            })
            .collect()
    }

    #[test]
    fn a_signed_manifest_verifies_to_what_was_signed() {
        let key = DeviceKey::generate();
        let device = DeviceId::new();
        let list = entries(500);
        let bytes = Manifest::sign(device, &list, 1_790_000_000, &key);
        let m = Manifest::verify(&bytes).unwrap();
        assert_eq!(m.device_id, device);
        assert_eq!(m.device_key, key.public());
        assert_eq!(m.created_at, 1_790_000_000);
        assert_eq!(m.entries, list);
    }

    #[test]
    fn every_flipped_byte_and_every_cut_is_an_error_not_a_panic() {
        let key = DeviceKey::generate();
        let bytes = Manifest::sign(DeviceId::new(), &entries(3), 1, &key);
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            assert!(Manifest::verify(&bad).is_err(), "flip at {i}");
        }
        for cut in 0..bytes.len() {
            assert!(Manifest::verify(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Manifest::verify(&longer).is_err());
    }

    #[test]
    fn a_manifest_signed_by_another_key_than_it_names_is_refused() {
        let (a, b) = (DeviceKey::generate(), DeviceKey::generate());
        let bytes = Manifest::sign(DeviceId::new(), &entries(1), 1, &a);
        let len = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        let body = &bytes[12..12 + len];
        let resigned = [
            frame::write_raw(MAGIC, body, b.signing()),
            bytes[12 + len + 64..].to_vec(),
        ]
        .concat();
        assert_eq!(Manifest::verify(&resigned), Err(Error::BadSignature));
    }
}
