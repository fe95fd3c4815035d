//! Registry mode `relay`: a district office that holds bundles on their way to the central
//! registry. It verifies the device signature and the ciphertext digest (it has no key to
//! open a bundle), keeps the exact bytes durably, answers with a custody receipt signed by
//! its own key, and forwards upstream in the background (`relay_forward.rs`).
//!
//! Data directory: `relay.key` (the relay's Ed25519 secret in hex, 0600), `relay.cert` (the
//! central registry's signature over the relay key: see [`RelayCertificate`]), `relay.db`
//! (what is held and the receipts), `held/<bundle_id>.gdb` (the bytes until the central
//! receipt is stored).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use ghidanh_bundle::{
    BundleId, CustodyReceipt, DeviceRegistration, Envelope, Receipt, ReceiptId, RegistryKeys,
    RegistryPublicKeys, RelayKeys, RelayPublicKey, Sha256,
};
use tokio::sync::Notify;
use zeroize::Zeroizing;

use crate::blobs::{sync_dir, write_durably};
use crate::registry::unix_now;
use crate::relay_store::RelayStore;
use crate::RegistryError;

/// The eight bytes a relay certificate starts with.
pub const RELAY_CERT_MAGIC: &[u8; 8] = b"GDRLYC01";
/// Length of a relay certificate: magic, relay public key, Ed25519 signature.
pub const RELAY_CERT_LEN: usize = 8 + 32 + 64;

/// The central registry's statement that a relay key may give custody receipts for it:
/// `"GDRLYC01" || relay_public (32) || signature (64)`, the signature by the registry's
/// Ed25519 signing key over the first 40 bytes. A kit accepts a custody receipt only from a
/// relay key certified by the registry key of its provisioning file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayCertificate {
    /// The certified relay key.
    pub relay: RelayPublicKey,
    bytes: Vec<u8>,
}

impl RelayCertificate {
    /// Signs `relay` with the registry's signing key (run offline on the central registry).
    pub fn sign(registry: &RegistryKeys, relay: &RelayPublicKey) -> RelayCertificate {
        let secret = registry.secret_bytes();
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&secret[..32]);
        let key = SigningKey::from_bytes(&seed);
        let mut bytes = Vec::with_capacity(RELAY_CERT_LEN);
        bytes.extend_from_slice(RELAY_CERT_MAGIC);
        bytes.extend_from_slice(&relay.to_bytes());
        let sig = key.sign(&bytes);
        bytes.extend_from_slice(&sig.to_bytes());
        RelayCertificate {
            relay: relay.clone(),
            bytes,
        }
    }

    /// Parses a certificate and checks it is signed by `registry`.
    pub fn verify(
        bytes: &[u8],
        registry: &RegistryPublicKeys,
    ) -> Result<RelayCertificate, RegistryError> {
        let bad = || RegistryError::Corrupt("relay certificate");
        if bytes.len() != RELAY_CERT_LEN || &bytes[..8] != RELAY_CERT_MAGIC {
            return Err(bad());
        }
        let key = VerifyingKey::from_bytes(&registry.signing_bytes()).map_err(|_| bad())?;
        let sig = Signature::from_slice(&bytes[40..]).map_err(|_| bad())?;
        key.verify_strict(&bytes[..40], &sig)
            .map_err(|_| RegistryError::Corrupt("relay certificate"))?;
        let mut relay = [0u8; 32];
        relay.copy_from_slice(&bytes[8..40]);
        let relay = RelayPublicKey::from_bytes(&relay)
            .map_err(|_| RegistryError::Corrupt("relay certificate"))?;
        Ok(RelayCertificate {
            relay,
            bytes: bytes.to_vec(),
        })
    }

    /// The certificate's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Where a relay forwards to.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Base URL of the central registry (or of the next relay up).
    pub url: String,
    /// Every public key the upstream registry signs receipts with (its whole keyring: a
    /// receipt is signed with the key the bundle was sealed to).
    pub keys: Vec<RegistryPublicKeys>,
}

/// Reads an upstream keys file: one line per key, `hex(signing (32) || seal (32))`, as
/// `ghidanh registry public-keys` prints them.
pub fn read_upstream_keys(path: &Path) -> Result<Vec<RegistryPublicKeys>, RegistryError> {
    let text = fs::read_to_string(path).map_err(|e| RegistryError::io("reading", path, e))?;
    let bad = |rule| RegistryError::KeyFile {
        path: path.to_path_buf(),
        rule,
    };
    let mut keys = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut b = [0u8; 64];
        hex::decode_to_slice(line, &mut b).map_err(|_| bad("a line is not 128 hex digits"))?;
        let mut signing = [0u8; 32];
        let mut seal = [0u8; 32];
        signing.copy_from_slice(&b[..32]);
        seal.copy_from_slice(&b[32..]);
        keys.push(
            RegistryPublicKeys::from_bytes(&signing, &seal)
                .map_err(|_| bad("not a registry public key pair"))?,
        );
    }
    if keys.is_empty() {
        return Err(bad("no key"));
    }
    Ok(keys)
}

/// The text of an upstream keys file for a keyring's public keys.
pub fn upstream_keys_text<'a>(keys: impl Iterator<Item = &'a RegistryPublicKeys>) -> String {
    keys.map(|k| {
        let mut b = k.signing_bytes().to_vec();
        b.extend_from_slice(&k.seal_bytes());
        format!("{}\n", hex::encode(b))
    })
    .collect()
}

fn key_file(dir: &Path) -> PathBuf {
    dir.join("relay.key")
}

fn cert_file(dir: &Path) -> PathBuf {
    dir.join("relay.cert")
}

fn held_dir(dir: &Path) -> PathBuf {
    dir.join("held")
}

fn held_blob(dir: &Path, bundle_id: BundleId) -> PathBuf {
    held_dir(dir).join(format!("{bundle_id}.gdb"))
}

/// Creates a relay in `data_dir`: a fresh relay key and an empty database. Returns the
/// public key, which the central registry certifies (`ghidanh registry certify-relay`).
pub fn init_relay(data_dir: &Path) -> Result<RelayPublicKey, RegistryError> {
    let path = key_file(data_dir);
    if path.exists() {
        return Err(RegistryError::AlreadyInitialised(data_dir.to_path_buf()));
    }
    fs::create_dir_all(held_dir(data_dir))
        .map_err(|e| RegistryError::io("creating", held_dir(data_dir), e))?;
    let keys = RelayKeys::generate();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| RegistryError::io("creating key file", &path, e))?;
    let text = Zeroizing::new(format!("{}\n", hex::encode(keys.secret_bytes().as_slice())));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| RegistryError::io("writing key file", &path, e))?;
    sync_dir(data_dir)?;
    RelayStore::open(&data_dir.join("relay.db"))?;
    Ok(keys.public())
}

/// Whether `data_dir` holds a relay (made by [`init_relay`]) rather than a central registry.
pub fn is_relay_dir(data_dir: &Path) -> bool {
    key_file(data_dir).is_file()
}

/// The relay's public key (for certification).
pub fn relay_public_key(data_dir: &Path) -> Result<RelayPublicKey, RegistryError> {
    Ok(read_relay_key(data_dir)?.public())
}

fn read_relay_key(data_dir: &Path) -> Result<RelayKeys, RegistryError> {
    let path = key_file(data_dir);
    let text = Zeroizing::new(fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            RegistryError::NotInitialised(data_dir.to_path_buf())
        } else {
            RegistryError::io("reading key file", &path, e)
        }
    })?);
    let mut secret = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), secret.as_mut_slice()).map_err(|_| {
        RegistryError::KeyFile {
            path: path.clone(),
            rule: "not 64 hex digits",
        }
    })?;
    Ok(RelayKeys::from_secret_bytes(&secret))
}

/// What the relay answers to a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayAnswer {
    /// It holds the bundle: the signed custody receipt (the same bytes every time).
    Custody(Vec<u8>),
    /// The central registry already answered: its signed receipt, as it gave it.
    Central(Vec<u8>),
    /// Not a bundle whose device signature and ciphertext digest verify (code for the JSON
    /// error): the relay cannot vouch for it and holds nothing.
    Refused(&'static str),
    /// Another bundle with this id is held.
    Conflict,
}

/// What became of a registration handed to [`Relay::hold_registration`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeldRegistration {
    /// Kept; the forwarder passes it upstream.
    New,
    /// The same bytes were kept before.
    Again,
    /// Not a registration signed by the key it registers.
    Refused(String),
}

/// What the relay knows of a bundle's central receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CentralReceipt {
    /// The central registry's receipt.
    Known(Vec<u8>),
    /// Held; not forwarded yet.
    Pending,
    /// Not held here.
    Unknown,
}

/// A running relay: its key, its certificate, its store and where it forwards.
pub struct Relay {
    pub(crate) dir: PathBuf,
    keys: RelayKeys,
    cert: RelayCertificate,
    pub(crate) upstream: Upstream,
    store: Mutex<RelayStore>,
    /// Woken when a new bundle is held.
    pub(crate) wake: Notify,
    /// Resumable-upload appends in progress, one per upload (`append_stream`).
    pub(crate) appends: crate::append_stream::AppendSlots,
}

impl Relay {
    /// Opens the relay in `data_dir` (made by [`init_relay`], with `relay.cert` installed).
    /// The certificate must verify with one of the upstream keys and name this relay's key.
    pub fn open(data_dir: &Path, upstream: Upstream) -> Result<Relay, RegistryError> {
        let keys = read_relay_key(data_dir)?;
        let path = cert_file(data_dir);
        let bytes = fs::read(&path).map_err(|e| RegistryError::io("reading", &path, e))?;
        let cert = upstream
            .keys
            .iter()
            .find_map(|k| RelayCertificate::verify(&bytes, k).ok())
            .filter(|c| c.relay == keys.public())
            .ok_or(RegistryError::Corrupt(
                "relay certificate (not signed by an upstream key for this relay's key)",
            ))?;
        fs::create_dir_all(held_dir(data_dir))
            .map_err(|e| RegistryError::io("creating", held_dir(data_dir), e))?;
        let store = RelayStore::open(&data_dir.join("relay.db"))?;
        Ok(Relay {
            dir: data_dir.to_path_buf(),
            keys,
            cert,
            upstream,
            store: Mutex::new(store),
            wake: Notify::new(),
            appends: Default::default(),
        })
    }

    /// The relay's public key.
    pub fn public_key(&self) -> RelayPublicKey {
        self.keys.public()
    }

    /// The certificate sent with every custody receipt.
    pub fn certificate(&self) -> &RelayCertificate {
        &self.cert
    }

    /// Verifies a bundle, keeps it durably, and answers (see [`RelayAnswer`]).
    pub fn submit(&self, body: &[u8]) -> Result<RelayAnswer, RegistryError> {
        let Ok(envelope) = Envelope::parse(body) else {
            return Ok(RelayAnswer::Refused("malformed"));
        };
        if let Err(e) = envelope.verify() {
            return Ok(RelayAnswer::Refused(match e.code() {
                "ciphertext_mismatch" => "ciphertext_mismatch",
                "bad_signature" => "bad_signature",
                _ => "malformed",
            }));
        }
        let bundle_id = envelope.header().bundle_id;
        let sha = Sha256::of(body);
        let store = self.lock();
        if let Some(held) = store.held(bundle_id)? {
            if held.submission_sha256 != sha {
                return Ok(RelayAnswer::Conflict);
            }
            return Ok(match held.central {
                Some(central) => RelayAnswer::Central(central),
                None => RelayAnswer::Custody(held.custody),
            });
        }
        // The bytes first, then the row: a row always has its bytes.
        write_durably(&held_blob(&self.dir, bundle_id), body)?;
        let now = unix_now();
        let custody = CustodyReceipt {
            receipt_id: ReceiptId::new(),
            issued_at: now,
            relay_key_id: self.keys.public().key_id().clone(),
            submission_sha256: sha,
            bundle_id,
        }
        .sign(&self.keys);
        store.insert(bundle_id, sha, body.len() as u64, &custody, now)?;
        drop(store);
        tracing::info!(%bundle_id, "bundle held (custody)");
        self.wake.notify_one();
        Ok(RelayAnswer::Custody(custody))
    }

    /// Keeps a device registration carried on a USB stick for the forwarder, which passes it
    /// upstream before any bundle (only the registry can decide it). A frame that is not a
    /// registration signed by the key it registers is refused, as the registry would.
    pub(crate) fn hold_registration(
        &self,
        bytes: &[u8],
    ) -> Result<HeldRegistration, RegistryError> {
        let registration = match DeviceRegistration::verify(bytes) {
            Ok(r) => r,
            Err(e) => return Ok(HeldRegistration::Refused(e.to_string())),
        };
        let device = registration.device_id.to_string();
        let new = self
            .lock()
            .insert_registration(Sha256::of(bytes), &device, bytes, unix_now())?;
        if new {
            tracing::info!(device_id = %device, "registration held for upstream");
            self.wake.notify_one();
        }
        Ok(if new {
            HeldRegistration::New
        } else {
            HeldRegistration::Again
        })
    }

    /// The upstream keys a central receipt verifies with: the receipt, parsed, if one does.
    pub(crate) fn verify_central(&self, bytes: &[u8]) -> Option<Receipt> {
        self.upstream
            .keys
            .iter()
            .find_map(|k| Receipt::verify(bytes, k).ok())
    }

    /// The central receipt of a bundle, as far as the relay knows.
    pub fn central_receipt(&self, bundle_id: BundleId) -> Result<CentralReceipt, RegistryError> {
        Ok(match self.lock().held(bundle_id)? {
            Some(h) => match h.central {
                Some(c) => CentralReceipt::Known(c),
                None => CentralReceipt::Pending,
            },
            None => CentralReceipt::Unknown,
        })
    }

    /// How many bundles still wait for their central receipt.
    pub fn pending(&self) -> Result<u64, RegistryError> {
        self.lock().pending()
    }

    pub(crate) fn held_bytes(&self, bundle_id: BundleId) -> Result<Vec<u8>, RegistryError> {
        let path = held_blob(&self.dir, bundle_id);
        fs::read(&path).map_err(|e| RegistryError::io("reading", &path, e))
    }

    /// Stores the verified central receipt; the held bytes are no longer needed after.
    pub(crate) fn forwarded(
        &self,
        bundle_id: BundleId,
        central: &[u8],
    ) -> Result<(), RegistryError> {
        self.lock().set_central(bundle_id, central, unix_now())?;
        // The receipt is committed (FULL sync): only now may the bytes go.
        let _ = fs::remove_file(held_blob(&self.dir, bundle_id));
        Ok(())
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, RelayStore> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_verifies_only_with_its_registry_and_unaltered() {
        let registry = RegistryKeys::generate();
        let relay = RelayKeys::generate().public();
        let cert = RelayCertificate::sign(&registry, &relay);
        assert_eq!(cert.bytes().len(), RELAY_CERT_LEN);
        let ok = RelayCertificate::verify(cert.bytes(), registry.public()).unwrap();
        assert_eq!(ok.relay, relay);
        let other = RegistryKeys::generate();
        assert!(RelayCertificate::verify(cert.bytes(), other.public()).is_err());
        for i in [0, 8, 39, 40, RELAY_CERT_LEN - 1] {
            let mut bad = cert.bytes().to_vec();
            bad[i] ^= 1;
            assert!(
                RelayCertificate::verify(&bad, registry.public()).is_err(),
                "byte {i}"
            );
        }
        assert!(RelayCertificate::verify(&cert.bytes()[..100], registry.public()).is_err());
    }

    #[test]
    fn a_relay_does_not_open_with_a_certificate_of_another_key_or_registry() {
        let dir = tempfile::tempdir().unwrap();
        let key = init_relay(dir.path()).unwrap();
        assert!(matches!(
            init_relay(dir.path()),
            Err(RegistryError::AlreadyInitialised(_))
        ));
        let registry = RegistryKeys::generate();
        let upstream = || Upstream {
            url: "http://127.0.0.1:1".into(),
            keys: vec![registry.public().clone()],
        };
        // No certificate yet.
        assert!(Relay::open(dir.path(), upstream()).is_err());
        let stranger = RelayKeys::generate().public();
        let cert = RelayCertificate::sign(&registry, &stranger);
        fs::write(dir.path().join("relay.cert"), cert.bytes()).unwrap();
        assert!(Relay::open(dir.path(), upstream()).is_err());
        let cert = RelayCertificate::sign(&RegistryKeys::generate(), &key);
        fs::write(dir.path().join("relay.cert"), cert.bytes()).unwrap();
        assert!(Relay::open(dir.path(), upstream()).is_err());
        let cert = RelayCertificate::sign(&registry, &key);
        fs::write(dir.path().join("relay.cert"), cert.bytes()).unwrap();
        let relay = Relay::open(dir.path(), upstream()).unwrap();
        assert_eq!(relay.public_key(), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("relay.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
