//! The bundle envelope (spec § "Bundle"): a signed header that commits to an HPKE ciphertext.

use hpke::{
    aead::ChaCha20Poly1305, kdf::HkdfSha256, kem::X25519HkdfSha256, Deserializable, OpModeR,
    OpModeS, Serializable,
};
use rand_core_09::TryRngCore;
use serde::{Deserialize, Serialize};

use crate::frame::{self, RawFrame};
use crate::Blake3;
use crate::{
    BundleId, DeviceId, DeviceKey, DevicePublicKey, Error, KeyId, Payload, Recipients,
    RegistryPublicKeys,
};

/// The eight bytes every bundle starts with.
pub const MAGIC: &[u8; 8] = b"GDBUNDL1";
/// HPKE `info` (spec § "Sealing").
pub(crate) const HPKE_INFO: &[u8] = b"ghidanh/bundle/v1";
/// Largest ciphertext accepted (spec: MUST reject larger).
pub const MAX_CIPHERTEXT: u64 = 64 * 1024 * 1024;
const VERSION: u64 = 1;

type Enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderWire {
    v: u64,
    #[serde(with = "serde_bytes")]
    bundle_id: [u8; 16],
    #[serde(with = "serde_bytes")]
    device_id: [u8; 16],
    #[serde(with = "serde_bytes")]
    device_key: [u8; 32],
    created_at: u64,
    recipient: String,
    #[serde(with = "serde_bytes")]
    enc: [u8; 32],
    ct_len: u64,
    #[serde(with = "serde_bytes")]
    ct_blake3: [u8; 32],
}

/// The signed, readable part of a bundle. Anyone on the path can read and check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The bundle's id.
    pub bundle_id: BundleId,
    /// The device that made it.
    pub device_id: DeviceId,
    /// The device's public key; the registry checks it is the one registered for `device_id`.
    pub device_key: DevicePublicKey,
    /// When it was sealed (Unix seconds, device clock).
    pub created_at: u64,
    /// The registry key it is sealed to.
    pub recipient: KeyId,
    /// Length of the ciphertext that follows.
    pub ciphertext_len: u64,
    /// BLAKE3 of the ciphertext that follows.
    pub ciphertext_blake3: Blake3,
    enc: [u8; 32],
}

impl Header {
    /// The HPKE encapsulated key (`enc`).
    pub fn enc(&self) -> [u8; 32] {
        self.enc
    }
}

/// Additional authenticated data for HPKE: binds the ciphertext to its bundle and device ids.
pub(crate) fn aad(bundle_id: BundleId, device_id: DeviceId) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&bundle_id.to_bytes());
    out[16..].copy_from_slice(&device_id.to_bytes());
    out
}

/// Seals `payload` to the registry and signs it with the device key: the bytes to send.
pub fn seal(
    payload: &Payload,
    device: &DeviceKey,
    registry: &RegistryPublicKeys,
    created_at: u64,
) -> Result<Vec<u8>, Error> {
    seal_inner(
        payload,
        device,
        registry,
        created_at,
        &mut rand_core_09::OsRng.unwrap_err(),
    )
}

/// [`seal`] with the HPKE ephemeral key drawn from `rng`: for reproducible test vectors only.
#[cfg(feature = "testkit")]
pub fn seal_with_rng<R: rand_core_09::CryptoRng + rand_core_09::RngCore>(
    payload: &Payload,
    device: &DeviceKey,
    registry: &RegistryPublicKeys,
    created_at: u64,
    rng: &mut R,
) -> Result<Vec<u8>, Error> {
    seal_inner(payload, device, registry, created_at, rng)
}

fn seal_inner<R: rand_core_09::CryptoRng + rand_core_09::RngCore>(
    payload: &Payload,
    device: &DeviceKey,
    registry: &RegistryPublicKeys,
    created_at: u64,
    rng: &mut R,
) -> Result<Vec<u8>, Error> {
    let plaintext = payload.to_cbor()?;
    seal_plaintext(
        &plaintext,
        payload.bundle_id,
        payload.device_id,
        device,
        registry,
        created_at,
        rng,
    )
}

/// Seals plaintext bytes as they are (the test vectors use it to seal a payload that is not
/// deterministic CBOR, which [`Payload::to_cbor`] never produces).
pub(crate) fn seal_plaintext<R: rand_core_09::CryptoRng + rand_core_09::RngCore>(
    plaintext: &[u8],
    bundle_id: BundleId,
    device_id: DeviceId,
    device: &DeviceKey,
    registry: &RegistryPublicKeys,
    created_at: u64,
    rng: &mut R,
) -> Result<Vec<u8>, Error> {
    // spec § "Sealing": enc, ct = HPKE SealBase(pkR, info, aad, plaintext), the single-shot
    // form spelled out so that the plaintext is encrypted in one buffer sized for the tag
    // (no second copy of a 400 KB payload).
    let (enc, mut ctx) = hpke::setup_sender::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256, _>(
        &OpModeS::Base,
        registry.seal(),
        HPKE_INFO,
        rng,
    )
    .map_err(|_| Error::SealFailed)?;
    let ct_len = plaintext.len() + 16;
    let header = |ct_blake3: [u8; 32]| HeaderWire {
        v: VERSION,
        bundle_id: bundle_id.to_bytes(),
        device_id: device_id.to_bytes(),
        device_key: device.public().to_bytes(),
        created_at,
        recipient: registry.key_id().as_str().to_owned(),
        enc: enc.to_bytes().into(),
        ct_len: ct_len as u64,
        ct_blake3,
    };
    // The signed frame has the same length whatever the digest (a fixed 32-byte string), so
    // the ciphertext is made in place after room for it: one buffer, no copy of the
    // ciphertext into the output (`ghidanh bench bundle` counts every pass over 400 KB).
    let frame_len = frame::len_of(&header([0; 32]));
    let mut out = Vec::with_capacity(frame_len + ct_len);
    out.resize(frame_len, 0);
    out.extend_from_slice(plaintext);
    let tag = ctx
        .seal_in_place_detached(&mut out[frame_len..], &aad(bundle_id, device_id))
        .map_err(|_| Error::SealFailed)?;
    out.extend_from_slice(&tag.to_bytes());
    let digest = Blake3::of(&out[frame_len..]);
    let signed = frame::write(MAGIC, &header(digest.0), device.signing());
    let Some(room) = out.get_mut(..signed.len()).filter(|r| r.len() == frame_len) else {
        return Err(Error::SealFailed);
    };
    room.copy_from_slice(&signed);
    Ok(out)
}

/// A bundle read from bytes: header decoded, nothing verified yet.
pub struct Envelope<'a> {
    header: Header,
    frame: RawFrame<'a>,
}

impl<'a> Envelope<'a> {
    /// Splits and decodes the header. Checks structure only: call [`Envelope::verify`] next.
    pub fn parse(bytes: &'a [u8]) -> Result<Envelope<'a>, Error> {
        let frame = frame::split(bytes, MAGIC, "bundle")?;
        let wire: HeaderWire = frame.decode("bundle header")?;
        if wire.v != VERSION {
            return Err(Error::UnsupportedVersion(wire.v));
        }
        if wire.ct_len > MAX_CIPHERTEXT {
            return Err(Error::Field {
                field: "ct_len",
                rule: "over the 64 MiB limit",
            });
        }
        let header = Header {
            bundle_id: BundleId::from_bytes(wire.bundle_id),
            device_id: DeviceId::from_bytes(wire.device_id),
            device_key: DevicePublicKey::from_bytes(&wire.device_key)?,
            created_at: wire.created_at,
            recipient: KeyId::from_wire(wire.recipient),
            ciphertext_len: wire.ct_len,
            ciphertext_blake3: Blake3(wire.ct_blake3),
            enc: wire.enc,
        };
        Ok(Envelope { header, frame })
    }

    /// The header (unverified until [`Envelope::verify`] returns `Ok`).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The header's CBOR bytes exactly as received (what the signature covers, after
    /// `magic || body_len`).
    pub fn header_body(&self) -> &'a [u8] {
        self.frame.body
    }

    /// The ciphertext bytes that follow the signature.
    pub fn ciphertext(&self) -> &'a [u8] {
        self.frame.trailer
    }

    /// Checks the device signature over the header, then that the ciphertext is the one
    /// the header commits to (length, then BLAKE3).
    pub fn verify(&self) -> Result<(), Error> {
        self.verified().map(|_| ())
    }

    /// [`Envelope::verify`], returning the proof that it passed: a caller that looks at
    /// other things between verifying and opening (the registry's duplicate check) opens
    /// with [`Verified::open`] without checking the signature and BLAKE3 a second time.
    pub fn verified(&self) -> Result<Verified<'_, 'a>, Error> {
        self.frame.verify(&self.header.device_key.0)?;
        if self.ciphertext().len() as u64 != self.header.ciphertext_len {
            return Err(Error::CiphertextMismatch("length"));
        }
        if Blake3::of(self.ciphertext()) != self.header.ciphertext_blake3 {
            return Err(Error::CiphertextMismatch("BLAKE3"));
        }
        Ok(Verified(self))
    }

    /// Verifies, then opens the payload with the registry key the header names
    /// (a single [`crate::RegistryKeys`] or a [`crate::Keyring`]).
    pub fn open<K: Recipients + ?Sized>(&self, keys: &K) -> Result<Payload, Error> {
        self.verified()?.open(keys)
    }
}

/// An envelope whose signature and ciphertext digest have been checked: only
/// [`Envelope::verified`] makes one.
pub struct Verified<'e, 'a>(&'e Envelope<'a>);

impl Verified<'_, '_> {
    /// Opens the payload with the registry key the header names (a single
    /// [`crate::RegistryKeys`] or a [`crate::Keyring`]).
    pub fn open<K: Recipients + ?Sized>(&self, keys: &K) -> Result<Payload, Error> {
        let envelope = self.0;
        let header = &envelope.header;
        // spec § "Sealing": the opener MUST reject a recipient that is not one of its key ids.
        let Some(keys) = keys.recipient(&header.recipient) else {
            return Err(Error::WrongRecipient {
                found: header.recipient.to_string(),
                expected: keys
                    .key_ids()
                    .iter()
                    .map(KeyId::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let enc = Enc::from_bytes(&header.enc).map_err(|_| Error::OpenFailed)?;
        let plaintext = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            keys.seal_secret(),
            &enc,
            HPKE_INFO,
            envelope.ciphertext(),
            &aad(header.bundle_id, header.device_id),
        )
        .map_err(|_| Error::OpenFailed)?;
        let payload = Payload::from_cbor(&plaintext)?;
        if payload.bundle_id != header.bundle_id || payload.device_id != header.device_id {
            return Err(Error::Field {
                field: "payload",
                rule: "bundle_id or device_id differs from the header",
            });
        }
        Ok(payload)
    }
}
