//! Keys: the device's Ed25519 key, the registry's Ed25519 signing key and X25519 sealing key.

use std::fmt;

use ed25519_dalek::{SigningKey, VerifyingKey};
use hpke::{kem::X25519HkdfSha256, Deserializable, Kem as _, Serializable};
use rand::rngs::OsRng;
use rand_core_09::TryRngCore;
use zeroize::Zeroizing;

use crate::{Error, Sha256};

/// HPKE KEM private key type (RFC 9180 DHKEM(X25519, HKDF-SHA256)).
pub(crate) type KemPrivateKey = <X25519HkdfSha256 as hpke::Kem>::PrivateKey;
/// HPKE KEM public key type.
pub(crate) type KemPublicKey = <X25519HkdfSha256 as hpke::Kem>::PublicKey;

/// Names a registry key pair: `rk1-` + hex of the first 8 bytes of
/// SHA-256(signing public key || sealing public key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    fn derive(signing: &VerifyingKey, seal: &[u8; 32]) -> KeyId {
        let mut both = Vec::with_capacity(64);
        both.extend_from_slice(signing.as_bytes());
        both.extend_from_slice(seal);
        KeyId(format!("rk1-{}", hex::encode(&Sha256::of(&both).0[..8])))
    }

    fn derive_relay(signing: &VerifyingKey) -> KeyId {
        KeyId(format!(
            "rl1-{}",
            hex::encode(&Sha256::of(signing.as_bytes()).0[..8])
        ))
    }

    /// Wraps a key id read from the wire (compared, never trusted).
    pub fn from_wire(s: String) -> KeyId {
        KeyId(s)
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A device's Ed25519 signing key. Zeroed on drop; never printed.
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    /// A fresh key from the OS RNG.
    pub fn generate() -> DeviceKey {
        DeviceKey(SigningKey::generate(&mut OsRng))
    }

    /// From the 32 secret bytes kept in the vault.
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> DeviceKey {
        DeviceKey(SigningKey::from_bytes(bytes))
    }

    /// The 32 secret bytes, for the vault only.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> DevicePublicKey {
        DevicePublicKey(self.0.verifying_key())
    }

    pub(crate) fn signing(&self) -> &SigningKey {
        &self.0
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKey(public {})", self.public())
    }
}

/// A device's Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DevicePublicKey(pub(crate) VerifyingKey);

impl DevicePublicKey {
    /// From 32 bytes; refuses bytes that are not a curve point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<DevicePublicKey, Error> {
        VerifyingKey::from_bytes(bytes)
            .map(DevicePublicKey)
            .map_err(|_| Error::Field {
                field: "device_key",
                rule: "not an Ed25519 public key",
            })
    }

    /// The 32 bytes.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

impl fmt::Display for DevicePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for DevicePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DevicePublicKey({self})")
    }
}

/// The registry's secret keys: Ed25519 for signing receipts and provisioning files,
/// X25519 (HPKE) for opening bundles.
pub struct RegistryKeys {
    signing: SigningKey,
    seal_secret: KemPrivateKey,
    public: RegistryPublicKeys,
}

impl RegistryKeys {
    /// Fresh keys from the OS RNG.
    pub fn generate() -> RegistryKeys {
        let signing = SigningKey::generate(&mut OsRng);
        let (seal_secret, _) = X25519HkdfSha256::gen_keypair(&mut rand_core_09::OsRng.unwrap_err());
        RegistryKeys::from_parts(signing, seal_secret)
    }

    fn from_parts(signing: SigningKey, seal_secret: KemPrivateKey) -> RegistryKeys {
        let seal_public = X25519HkdfSha256::sk_to_pk(&seal_secret);
        let public = RegistryPublicKeys::new(signing.verifying_key(), seal_public);
        RegistryKeys {
            signing,
            seal_secret,
            public,
        }
    }

    /// From the 64 secret bytes (`signing secret || sealing secret`) stored by the registry.
    pub fn from_secret_bytes(bytes: &[u8; 64]) -> Result<RegistryKeys, Error> {
        let mut sign = [0u8; 32];
        sign.copy_from_slice(&bytes[..32]);
        let signing = SigningKey::from_bytes(&sign);
        zeroize::Zeroize::zeroize(&mut sign);
        let seal_secret = KemPrivateKey::from_bytes(&bytes[32..]).map_err(|_| Error::Field {
            field: "registry_seal_secret",
            rule: "not an X25519 secret key",
        })?;
        Ok(RegistryKeys::from_parts(signing, seal_secret))
    }

    /// The 64 secret bytes, for the registry's key file only.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 64]> {
        let mut out = Zeroizing::new([0u8; 64]);
        out[..32].copy_from_slice(&self.signing.to_bytes());
        out[32..].copy_from_slice(&self.seal_secret.to_bytes());
        out
    }

    /// The public halves and key id.
    pub fn public(&self) -> &RegistryPublicKeys {
        &self.public
    }

    pub(crate) fn signing(&self) -> &SigningKey {
        &self.signing
    }

    pub(crate) fn seal_secret(&self) -> &KemPrivateKey {
        &self.seal_secret
    }
}

impl fmt::Debug for RegistryKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistryKeys({})", self.public.key_id)
    }
}

/// What a kit knows of the registry: its verifying key, its sealing key and their id.
#[derive(Clone)]
pub struct RegistryPublicKeys {
    key_id: KeyId,
    signing: VerifyingKey,
    seal: KemPublicKey,
}

impl RegistryPublicKeys {
    fn new(signing: VerifyingKey, seal: KemPublicKey) -> RegistryPublicKeys {
        let seal_bytes: [u8; 32] = seal.to_bytes().into();
        RegistryPublicKeys {
            key_id: KeyId::derive(&signing, &seal_bytes),
            signing,
            seal,
        }
    }

    /// From the two 32-byte public keys.
    pub fn from_bytes(signing: &[u8; 32], seal: &[u8; 32]) -> Result<RegistryPublicKeys, Error> {
        let signing = VerifyingKey::from_bytes(signing).map_err(|_| Error::Field {
            field: "registry_signing_key",
            rule: "not an Ed25519 public key",
        })?;
        let seal = KemPublicKey::from_bytes(seal).map_err(|_| Error::Field {
            field: "registry_seal_key",
            rule: "not an X25519 public key",
        })?;
        Ok(RegistryPublicKeys::new(signing, seal))
    }

    /// The key id.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The Ed25519 verifying key, 32 bytes.
    pub fn signing_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The X25519 sealing key, 32 bytes.
    pub fn seal_bytes(&self) -> [u8; 32] {
        self.seal.to_bytes().into()
    }

    pub(crate) fn verifying(&self) -> &VerifyingKey {
        &self.signing
    }

    pub(crate) fn seal(&self) -> &KemPublicKey {
        &self.seal
    }
}

impl fmt::Debug for RegistryPublicKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistryPublicKeys({})", self.key_id)
    }
}

/// A relay's Ed25519 key (a district relay that holds bundles on their way to the registry).
/// It signs custody receipts only; it can never open a bundle.
pub struct RelayKeys(SigningKey);

impl RelayKeys {
    /// A fresh key from the OS RNG.
    pub fn generate() -> RelayKeys {
        RelayKeys(SigningKey::generate(&mut OsRng))
    }

    /// From the 32 secret bytes.
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> RelayKeys {
        RelayKeys(SigningKey::from_bytes(bytes))
    }

    /// The 32 secret bytes, for the relay's key file only.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half and its key id.
    pub fn public(&self) -> RelayPublicKey {
        RelayPublicKey::new(self.0.verifying_key())
    }

    pub(crate) fn signing(&self) -> &SigningKey {
        &self.0
    }
}

impl fmt::Debug for RelayKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayKeys({})", self.public().key_id)
    }
}

/// A relay's public key and its id: `rl1-` + hex of the first 8 bytes of SHA-256(public key).
#[derive(Clone, PartialEq, Eq)]
pub struct RelayPublicKey {
    key_id: KeyId,
    key: VerifyingKey,
}

impl RelayPublicKey {
    fn new(key: VerifyingKey) -> RelayPublicKey {
        RelayPublicKey {
            key_id: KeyId::derive_relay(&key),
            key,
        }
    }

    /// From the 32-byte public key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<RelayPublicKey, Error> {
        VerifyingKey::from_bytes(bytes)
            .map(RelayPublicKey::new)
            .map_err(|_| Error::Field {
                field: "relay_key",
                rule: "not an Ed25519 public key",
            })
    }

    /// The 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key id.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    pub(crate) fn verifying(&self) -> &VerifyingKey {
        &self.key
    }
}

impl fmt::Debug for RelayPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayPublicKey({})", self.key_id)
    }
}

/// Where an opener finds the secret key a bundle names (spec § "Key ids and rotation").
pub trait Recipients {
    /// The keys whose id is `id`, if held.
    fn recipient(&self, id: &KeyId) -> Option<&RegistryKeys>;
    /// The ids held, for error messages.
    fn key_ids(&self) -> Vec<KeyId>;
}

impl Recipients for RegistryKeys {
    fn recipient(&self, id: &KeyId) -> Option<&RegistryKeys> {
        (self.public.key_id() == id).then_some(self)
    }

    fn key_ids(&self) -> Vec<KeyId> {
        vec![self.public.key_id().clone()]
    }
}

/// The registry's keys over time: every key it ever sealed to, one of them current.
///
/// Devices seal to the current key (the one in new provisioning files); bundles sealed to an
/// older key still open, because the opener picks the key by the header's recipient key id.
pub struct Keyring {
    /// Earlier keys, oldest first.
    older: Vec<RegistryKeys>,
    /// The key devices seal to now.
    current: RegistryKeys,
}

impl Keyring {
    /// A keyring of one key.
    pub fn new(current: RegistryKeys) -> Keyring {
        Keyring {
            older: Vec::new(),
            current,
        }
    }

    /// From keys oldest first, the last one current. Refuses an empty list and a key held twice.
    pub fn from_keys(keys: Vec<RegistryKeys>) -> Result<Keyring, Error> {
        let mut keys = keys.into_iter();
        let Some(first) = keys.next() else {
            return Err(Error::Field {
                field: "keyring",
                rule: "holds no key",
            });
        };
        let mut ring = Keyring::new(first);
        for k in keys {
            ring.rotate(k)?;
        }
        Ok(ring)
    }

    /// The key devices seal to now.
    pub fn current(&self) -> &RegistryKeys {
        &self.current
    }

    /// Makes `keys` the current key; the others stay for opening. Refuses a key already held.
    pub fn rotate(&mut self, keys: RegistryKeys) -> Result<(), Error> {
        if self.recipient(keys.public.key_id()).is_some() {
            return Err(Error::Field {
                field: "keyring",
                rule: "holds the same key twice",
            });
        }
        let old = std::mem::replace(&mut self.current, keys);
        self.older.push(old);
        Ok(())
    }

    /// All keys, oldest first (the last is current).
    pub fn keys(&self) -> impl Iterator<Item = &RegistryKeys> {
        self.older.iter().chain(std::iter::once(&self.current))
    }
}

impl Recipients for Keyring {
    fn recipient(&self, id: &KeyId) -> Option<&RegistryKeys> {
        self.keys().find(|k| k.public.key_id() == id)
    }

    fn key_ids(&self) -> Vec<KeyId> {
        self.keys().map(|k| k.public.key_id().clone()).collect()
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Keyring(current {}, {} older)",
            self.current.public.key_id,
            self.older.len()
        )
    }
}
