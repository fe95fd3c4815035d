//! HPKE base-mode sealing (RFC 9180, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20-Poly1305) recomputed step by step, so that the test vectors can print every
//! intermediate value a stranger needs to debug their own opener.
//!
//! Independent of the `hpke` crate on purpose: [`trace`] derives the same `enc` and the same
//! ciphertext from the same ephemeral randomness, and the vector tests check both agree.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use hkdf::Hkdf;
use sha2::Sha256;

/// RFC 9180 identifiers of the suite (§7.1, §7.2, §7.3).
const KEM_ID: u16 = 0x0020;
const KDF_ID: u16 = 0x0001;
const AEAD_ID: u16 = 0x0003;

/// Every value RFC 9180 computes on the way from the ephemeral randomness to the ciphertext.
pub struct Trace {
    /// The 32 random bytes `DeriveKeyPair` takes (`ikmE`).
    pub ikm_e: [u8; 32],
    /// The ephemeral secret key `skE`.
    pub sk_e: [u8; 32],
    /// `enc` = `pkE`, the ephemeral public key.
    pub enc: [u8; 32],
    /// `dh` = X25519(skE, pkR).
    pub dh: [u8; 32],
    /// `kem_context` = enc || pkR.
    pub kem_context: Vec<u8>,
    /// The KEM's `shared_secret`.
    pub shared_secret: [u8; 32],
    /// `key_schedule_context` = mode || psk_id_hash || info_hash.
    pub key_schedule_context: Vec<u8>,
    /// The key schedule's `secret`.
    pub secret: [u8; 32],
    /// The AEAD key.
    pub key: [u8; 32],
    /// The AEAD base nonce (the first and only message uses it as is: sequence number 0).
    pub base_nonce: [u8; 12],
    /// ChaCha20-Poly1305(key, base_nonce, aad, plaintext): ciphertext || tag.
    pub ciphertext: Vec<u8>,
}

fn labeled_extract(suite: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; 32] {
    let labeled = [b"HPKE-v1".as_slice(), suite, label, ikm].concat();
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), &labeled);
    prk.into()
}

fn labeled_expand<const L: usize>(
    suite: &[u8],
    prk: &[u8; 32],
    label: &[u8],
    info: &[u8],
) -> [u8; L] {
    let labeled = [
        &(L as u16).to_be_bytes(),
        b"HPKE-v1".as_slice(),
        suite,
        label,
        info,
    ]
    .concat();
    let mut out = [0u8; L];
    // A 32-byte PRK is always valid and L is far below 255 * 32.
    if let Ok(hk) = Hkdf::<Sha256>::from_prk(prk) {
        let _ = hk.expand(&labeled, &mut out);
    }
    out
}

/// Seals `plaintext` to `pk_r` with the ephemeral randomness `ikm_e`, recording each step.
pub fn trace(ikm_e: [u8; 32], pk_r: &[u8; 32], info: &[u8], aad: &[u8], plaintext: &[u8]) -> Trace {
    let kem_suite = [b"KEM".as_slice(), &KEM_ID.to_be_bytes()].concat();
    let hpke_suite = [
        b"HPKE".as_slice(),
        &KEM_ID.to_be_bytes(),
        &KDF_ID.to_be_bytes(),
        &AEAD_ID.to_be_bytes(),
    ]
    .concat();

    // §7.1.3 DeriveKeyPair for X25519: the secret is one LabeledExpand, used as is.
    let dkp_prk = labeled_extract(&kem_suite, b"", b"dkp_prk", &ikm_e);
    let sk_e: [u8; 32] = labeled_expand(&kem_suite, &dkp_prk, b"sk", b"");
    let secret_e = x25519_dalek::StaticSecret::from(sk_e);
    let enc = x25519_dalek::PublicKey::from(&secret_e).to_bytes();
    // §4.1 Encap.
    let dh = secret_e
        .diffie_hellman(&x25519_dalek::PublicKey::from(*pk_r))
        .to_bytes();
    let kem_context = [enc.as_slice(), pk_r].concat();
    let eae_prk = labeled_extract(&kem_suite, b"", b"eae_prk", &dh);
    let shared_secret: [u8; 32] =
        labeled_expand(&kem_suite, &eae_prk, b"shared_secret", &kem_context);
    // §5.1 KeySchedule, mode_base (0x00), no PSK.
    let psk_id_hash = labeled_extract(&hpke_suite, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(&hpke_suite, b"", b"info_hash", info);
    let key_schedule_context = [[0u8].as_slice(), &psk_id_hash, &info_hash].concat();
    let secret = labeled_extract(&hpke_suite, &shared_secret, b"secret", b"");
    let key: [u8; 32] = labeled_expand(&hpke_suite, &secret, b"key", &key_schedule_context);
    let base_nonce: [u8; 12] =
        labeled_expand(&hpke_suite, &secret, b"base_nonce", &key_schedule_context);

    let mut ciphertext = plaintext.to_vec();
    let aead = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
    match aead.encrypt_in_place_detached(&base_nonce.into(), aad, &mut ciphertext) {
        Ok(tag) => ciphertext.extend_from_slice(&tag),
        // Only for a plaintext over 256 GiB; an empty ciphertext fails the vector tests.
        Err(_) => ciphertext.clear(),
    }
    Trace {
        ikm_e,
        sk_e,
        enc,
        dh,
        kem_context,
        shared_secret,
        key_schedule_context,
        secret,
        key,
        base_nonce,
        ciphertext,
    }
}
