//! The signed frame shared by bundles, receipts and provisioning files (spec § "Signed frames"):
//!
//! ```text
//! magic (8) || body_len (u32, big-endian) || body (CBOR, body_len bytes) || signature (64) || trailer
//! ```
//! The Ed25519 signature covers `magic || body_len || body`, exactly the bytes that are sent.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{de::DeserializeOwned, Serialize};

use crate::Error;

/// Largest CBOR body accepted in any frame (spec: MUST reject longer).
pub const MAX_BODY: usize = 16 * 1024;
const SIG_LEN: usize = 64;

/// A frame split into its parts, signature not yet checked.
pub struct RawFrame<'a> {
    /// `magic || body_len || body`: the signed bytes.
    pub signed: &'a [u8],
    /// The CBOR body.
    pub body: &'a [u8],
    /// The signature.
    pub signature: Signature,
    /// Whatever follows the signature.
    pub trailer: &'a [u8],
}

impl RawFrame<'_> {
    /// Checks the signature against `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), Error> {
        key.verify(self.signed, &self.signature)
            .map_err(|_| Error::BadSignature)
    }

    /// Decodes the body.
    pub fn decode<T: DeserializeOwned>(&self, what: &'static str) -> Result<T, Error> {
        decode_cbor(self.body, what)
    }
}

/// Splits `bytes` into a frame with the given magic.
pub fn split<'a>(
    bytes: &'a [u8],
    magic: &[u8; 8],
    what: &'static str,
) -> Result<RawFrame<'a>, Error> {
    if bytes.len() < 12 {
        return Err(Error::Truncated(what));
    }
    if &bytes[..8] != magic {
        return Err(Error::BadMagic(what));
    }
    let len = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    if len > MAX_BODY {
        return Err(Error::BodyTooLong {
            what,
            len,
            max: MAX_BODY,
        });
    }
    let body_end = 12 + len;
    let sig_end = body_end + SIG_LEN;
    if bytes.len() < sig_end {
        return Err(Error::Truncated(what));
    }
    let sig_bytes: [u8; SIG_LEN] = bytes[body_end..sig_end]
        .try_into()
        .map_err(|_| Error::Truncated(what))?;
    Ok(RawFrame {
        signed: &bytes[..body_end],
        body: &bytes[12..body_end],
        signature: Signature::from_bytes(&sig_bytes),
        trailer: &bytes[sig_end..],
    })
}

/// Encodes `body` as CBOR and signs it into a frame (no trailer).
pub fn write<T: Serialize>(magic: &[u8; 8], body: &T, key: &SigningKey) -> Vec<u8> {
    write_raw(magic, &encode_cbor(body), key)
}

/// The length of the frame `write` makes for `body`, without signing it.
pub fn len_of<T: Serialize>(body: &T) -> usize {
    12 + encode_cbor(body).len() + SIG_LEN
}

/// Signs already-encoded body bytes into a frame (no trailer).
pub fn write_raw(magic: &[u8; 8], body: &[u8], key: &SigningKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + body.len() + SIG_LEN);
    out.extend_from_slice(magic);
    // Bodies we write are small, fixed structures: far under MAX_BODY.
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    let sig = key.sign(&out);
    out.extend_from_slice(&sig.to_bytes());
    out
}

/// Encodes a fixed internal structure deterministically (spec § "Deterministic CBOR").
pub fn encode_cbor<T: Serialize>(value: &T) -> Vec<u8> {
    match crate::cbor::encode(value) {
        Ok(bytes) => bytes,
        // Only reachable with a float or tag in a frame body, a programming error.
        Err(e) => unreachable!("CBOR encoding of an internal structure failed: {e}"),
    }
}

/// Decodes deterministic CBOR (spec § "Deterministic CBOR").
pub fn decode_cbor<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, Error> {
    crate::cbor::decode(bytes, what)
}
