//! The test vectors of `schema/vectors/`: generated here from a fixed seed, regenerated and
//! compared byte for byte by `tests/vectors.rs`, and run through the API by the same test.
//!
//! Every key and the HPKE ephemeral key come from one ChaCha20 RNG seeded with
//! [`SEED`], so the files are reproducible. The keys are for tests only.

use std::collections::BTreeMap;

use rand_chacha::rand_core::{RngCore as RngCore06, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::hpke_trace::{self, Trace};
use crate::envelope::{aad, seal_plaintext, HPKE_INFO, MAGIC};
use crate::{
    frame, Biometrics, BundleId, CustodyReceipt, DeviceId, DeviceKey, EnrollmentId, Envelope,
    Error, Keyring, OperatorId, OperatorRef, Payload, Receipt, ReceiptId, ReferenceUpdate,
    RegistryKeys, RegistryPublicKeys, RelayKeys, RelayPublicKey, Sha256, Verdict,
};

/// The seed: ASCII "ghidanh/vectors/v1" padded with zeros to 32 bytes.
pub const SEED: [u8; 32] = *b"ghidanh/vectors/v1\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

/// The `created_at` of every vector bundle.
pub const CREATED_AT: u64 = 1_790_000_100;

/// Adapts the rand_core 0.6 ChaCha20 RNG to the rand_core 0.9 traits hpke takes.
#[derive(Clone)]
struct Rng09(ChaCha20Rng);

impl rand_core_09::RngCore for Rng09 {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill_bytes(dst)
    }
}

impl rand_core_09::CryptoRng for Rng09 {}

fn bytes32(rng: &mut Rng09) -> [u8; 32] {
    let mut b = [0u8; 32];
    rand_core_09::RngCore::fill_bytes(rng, &mut b);
    b
}

fn bytes16(rng: &mut Rng09) -> [u8; 16] {
    let mut b = [0u8; 16];
    rand_core_09::RngCore::fill_bytes(rng, &mut b);
    // Shape the random bytes as a UUIDv7 (version 7, RFC 9562 variant).
    b[6] = 0x70 | (b[6] & 0x0f);
    b[8] = 0x80 | (b[8] & 0x3f);
    b
}

/// One vector file: its name and text.
pub struct VectorFile {
    /// File name in `schema/vectors/`.
    pub name: String,
    /// The whole text.
    pub text: String,
}

struct Builder {
    name: &'static str,
    expect: &'static str,
    description: &'static str,
    lines: Vec<(&'static str, String)>,
}

impl Builder {
    fn new(name: &'static str, expect: &'static str, description: &'static str) -> Builder {
        Builder {
            name,
            expect,
            description,
            lines: Vec::new(),
        }
    }

    fn hex(mut self, key: &'static str, bytes: &[u8]) -> Builder {
        self.lines.push((key, hex::encode(bytes)));
        self
    }

    fn text(mut self, key: &'static str, value: &str) -> Builder {
        self.lines.push((key, value.to_owned()));
        self
    }

    fn build(self) -> VectorFile {
        let mut text = format!(
            "expect: {}\ndescription: {}\n",
            self.expect, self.description
        );
        for (k, v) in self.lines {
            text.push_str(k);
            text.push_str(": ");
            text.push_str(&v);
            text.push('\n');
        }
        VectorFile {
            name: format!("{}.txt", self.name),
            text,
        }
    }
}

/// Splits a bundle into header body and the rest, re-signs a changed header body.
fn resign(bundle: &[u8], device: &DeviceKey, edit: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let len = u32::from_be_bytes([bundle[8], bundle[9], bundle[10], bundle[11]]) as usize;
    let body = edit(&bundle[12..12 + len]);
    let mut out = frame::write_raw(MAGIC, &body, device.signing());
    out.extend_from_slice(&bundle[12 + len + 64..]);
    out
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    match hay.windows(from.len()).position(|w| w == from) {
        Some(at) => [&hay[..at], to, &hay[at + from.len()..]].concat(),
        // The generator's own inputs always contain `from`; an empty result fails the tests.
        None => Vec::new(),
    }
}

/// Generates every vector, in a fixed order.
pub fn generate() -> Vec<VectorFile> {
    let mut rng = Rng09(ChaCha20Rng::from_seed(SEED));
    let reg_sign = bytes32(&mut rng);
    let reg_seal = bytes32(&mut rng);
    let mut reg_secret = [0u8; 64];
    reg_secret[..32].copy_from_slice(&reg_sign);
    reg_secret[32..].copy_from_slice(&reg_seal);
    let mut other_secret = [0u8; 64];
    other_secret[..32].copy_from_slice(&bytes32(&mut rng));
    other_secret[32..].copy_from_slice(&bytes32(&mut rng));
    let device_secret = bytes32(&mut rng);
    // Fixed inputs, so an X25519 secret is never rejected (any 32 bytes are a valid scalar).
    let (Ok(registry), Ok(other)) = (
        RegistryKeys::from_secret_bytes(&reg_secret),
        RegistryKeys::from_secret_bytes(&other_secret),
    ) else {
        return Vec::new();
    };
    let device = DeviceKey::from_secret_bytes(&device_secret);
    let device_id = DeviceId::from_bytes(bytes16(&mut rng));
    let operator = OperatorRef {
        id: OperatorId::from_bytes(bytes16(&mut rng)),
        name: "Trần Thị Bình".into(),
    };

    let payload = |rng: &mut Rng09, biometrics: Biometrics| Payload {
        bundle_id: BundleId::from_bytes(bytes16(rng)),
        enrollment_id: EnrollmentId::from_bytes(bytes16(rng)),
        device_id,
        operator: operator.clone(),
        captured_at: 1_790_000_000,
        finalised_at: 1_790_000_060,
        record: super::sample_record(),
        biometrics,
        reference_versions: BTreeMap::from([(
            "legacy-provinces".to_owned(),
            "2008-08-01".to_owned(),
        )]),
        audit: vec![crate::AuditEntry {
            at: 1_790_000_060,
            action: "finalised".into(),
            operator_id: operator.id,
        }],
    };

    let keys = |b: Builder| {
        b.hex("registry_signing_secret", &reg_sign)
            .hex("registry_seal_secret", &reg_seal)
            .hex(
                "registry_signing_public",
                &registry.public().signing_bytes(),
            )
            .hex("registry_seal_public", &registry.public().seal_bytes())
            .text("registry_key_id", registry.public().key_id().as_str())
            .hex("device_secret", &device_secret)
            .hex("device_public", &device.public().to_bytes())
    };

    // Seals with the vector RNG and recomputes the same sealing step by step from the same
    // ephemeral randomness (the first 32 bytes hpke draws): a bundle whose trace disagrees
    // with what the `hpke` crate made comes out empty, and the vector tests fail.
    let sealed = |rng: &mut Rng09, plaintext: &[u8], p: &Payload, to: &RegistryKeys| {
        let ikm_e = bytes32(&mut rng.clone());
        let trace = hpke_trace::trace(
            ikm_e,
            &to.public().seal_bytes(),
            HPKE_INFO,
            &aad(p.bundle_id, p.device_id),
            plaintext,
        );
        let bundle = seal_plaintext(
            plaintext,
            p.bundle_id,
            p.device_id,
            &device,
            to.public(),
            CREATED_AT,
            rng,
        )
        .unwrap_or_default();
        let agrees = Envelope::parse(&bundle).is_ok_and(|env| {
            env.header().enc() == trace.enc && env.ciphertext() == trace.ciphertext.as_slice()
        });
        (if agrees { bundle } else { Vec::new() }, trace)
    };
    let full = |b: Builder, plaintext: &[u8], p: &Payload, (bundle, t): &(Vec<u8>, Trace)| {
        let (header, signature) = match Envelope::parse(bundle) {
            Ok(env) => (env.header_body().to_vec(), signature_of(bundle)),
            Err(_) => Default::default(),
        };
        keys(b)
            .hex("payload_cbor", plaintext)
            .hex("aad", &aad(p.bundle_id, p.device_id))
            .text("hpke_info", "ghidanh/bundle/v1")
            .hex("hpke_ikm_e", &t.ikm_e)
            .hex("hpke_sk_e", &t.sk_e)
            .hex("hpke_dh", &t.dh)
            .hex("hpke_kem_context", &t.kem_context)
            .hex("hpke_shared_secret", &t.shared_secret)
            .hex("hpke_key_schedule_context", &t.key_schedule_context)
            .hex("hpke_secret", &t.secret)
            .hex("hpke_key", &t.key)
            .hex("hpke_base_nonce", &t.base_nonce)
            .hex("enc", &t.enc)
            .hex("ciphertext", &t.ciphertext)
            .hex("ct_blake3", blake3::hash(&t.ciphertext).as_bytes())
            .hex("header_cbor", &header)
            .hex(
                "signed",
                bundle.get(..12 + header.len()).unwrap_or_default(),
            )
            .hex("signature", &signature)
            .hex("bundle", bundle)
            .build()
    };

    let mut out = Vec::new();

    let p_min = payload(&mut rng, Biometrics::default());
    let pt_min = p_min.to_cbor().unwrap_or_default();
    let s_min = sealed(&mut rng, &pt_min, &p_min, &registry);
    let b_min = s_min.0.clone();
    out.push(full(
        Builder::new(
            "01-ok-minimal",
            "ok",
            "a bundle with no biometrics; opens to payload_cbor",
        ),
        &pt_min,
        &p_min,
        &s_min,
    ));

    let p_full = payload(&mut rng, super::sample_biometrics());
    let pt_full = p_full.to_cbor().unwrap_or_default();
    let s_full = sealed(&mut rng, &pt_full, &p_full, &registry);
    out.push(full(
        Builder::new(
            "02-ok-biometrics",
            "ok",
            "a face, nine fingers and one exception (left little, bandaged)",
        ),
        &pt_full,
        &p_full,
        &s_full,
    ));

    // The last byte of ct_blake3 in the header: still decodes, the signature fails.
    let mut flipped = b_min.clone();
    if let Some(at) = find(&b_min, &sha_of_ct(&b_min)) {
        flipped[at + 31] ^= 0x01;
    }
    out.push(
        keys(Builder::new(
            "03-flipped-header-byte",
            "bad_signature",
            "01-ok-minimal with the last byte of ct_blake3 flipped",
        ))
        .hex("bundle", &flipped)
        .build(),
    );

    let mut flipped = b_min.clone();
    if let Some(last) = flipped.last_mut() {
        *last ^= 0x01;
    }
    out.push(
        keys(Builder::new(
            "04-flipped-ciphertext-byte",
            "ciphertext_mismatch",
            "01-ok-minimal with the last ciphertext byte flipped",
        ))
        .hex("bundle", &flipped)
        .build(),
    );

    let p_other = payload(&mut rng, Biometrics::default());
    let pt_other = p_other.to_cbor().unwrap_or_default();
    let s_other = sealed(&mut rng, &pt_other, &p_other, &other);
    out.push(full(
        Builder::new(
            "05-wrong-key-id",
            "wrong_recipient",
            "sealed to another registry key (recipient names it); verifies, cannot be opened",
        )
        .text("recipient_key_id", other.public().key_id().as_str())
        .hex("recipient_seal_public", &other.public().seal_bytes()),
        &pt_other,
        &p_other,
        &s_other,
    ));

    // created_at written with an 8-byte head (0x1b) instead of 4 (0x1a), re-signed.
    let long = CREATED_AT.to_be_bytes();
    let short = (CREATED_AT as u32).to_be_bytes();
    let b_long = resign(&b_min, &device, |h| {
        replace(
            h,
            &[b"\x6acreated_at\x1a".as_slice(), &short].concat(),
            &[b"\x6acreated_at\x1b".as_slice(), &long].concat(),
        )
    });
    out.push(
        keys(Builder::new(
            "06-header-not-deterministic",
            "not_deterministic",
            "header with created_at in a long integer head, validly re-signed",
        ))
        .hex("bundle", &b_long)
        .build(),
    );

    // "v": 1 twice (map of 10 entries), re-signed.
    let b_dup = resign(&b_min, &device, |h| {
        let mut h = replace(h, b"\x61v\x01", b"\x61v\x01\x61v\x01");
        if let Some(first) = h.first_mut() {
            *first = 0xaa;
        }
        h
    });
    out.push(
        keys(Builder::new(
            "07-header-duplicate-key",
            "duplicate_key",
            "header with the key v twice, validly re-signed",
        ))
        .hex("bundle", &b_dup)
        .build(),
    );

    // A payload whose v is written as 0x18 0x02: sealed and signed correctly, refused on open.
    let pt_bad = replace(&pt_min, b"\x61v\x02", b"\x61v\x18\x02");
    let s_bad = sealed(&mut rng, &pt_bad, &p_min, &registry);
    out.push(full(
        Builder::new(
            "08-payload-not-deterministic",
            "not_deterministic",
            "verifies; the payload's v is in a long integer head, so opening refuses it",
        ),
        &pt_bad,
        &p_min,
        &s_bad,
    ));

    let cut = &b_min[..40];
    out.push(
        keys(Builder::new(
            "09-truncated",
            "truncated",
            "01-ok-minimal cut to its first 40 bytes",
        ))
        .hex("bundle", cut)
        .build(),
    );

    let mut huge = b_min.clone();
    huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    out.push(
        keys(Builder::new(
            "10-oversized-length",
            "body_too_long",
            "01-ok-minimal with body_len = 0xffffffff",
        ))
        .hex("bundle", &huge)
        .build(),
    );
    // "v": 2 in the header, validly re-signed: a version this format does not define.
    let b_v2 = resign(&b_min, &device, |h| replace(h, b"\x61v\x01", b"\x61v\x02"));
    out.push(
        keys(Builder::new(
            "11-wrong-version",
            "unsupported_version",
            "header with v = 2, validly re-signed",
        ))
        .hex("bundle", &b_v2)
        .build(),
    );

    // Receipts: the registry's verdict on 01-ok-minimal, and a relay's custody of it.
    let relay = RelayKeys::from_secret_bytes(&bytes32(&mut rng));
    let accepted = Receipt {
        receipt_id: ReceiptId::from_bytes(bytes16(&mut rng)),
        issued_at: CREATED_AT + 5,
        registry_key_id: registry.public().key_id().clone(),
        submission_sha256: Sha256::of(&b_min),
        bundle_id: Some(p_min.bundle_id),
        verdict: Verdict::Accepted,
    }
    .sign(&registry);
    let receipt_file = |b: Builder, bytes: &[u8]| {
        let len = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        keys(b)
            .hex("relay_public", &relay.public().to_bytes())
            .text("relay_key_id", relay.public().key_id().as_str())
            .hex("body_cbor", bytes.get(12..12 + len).unwrap_or_default())
            .hex("receipt", bytes)
            .build()
    };
    out.push(receipt_file(
        Builder::new(
            "12-receipt-accepted",
            "ok",
            "the registry's accepted receipt for 01-ok-minimal; verify with registry_signing_public",
        )
        .text("kind", "receipt"),
        &accepted,
    ));
    let custody = CustodyReceipt {
        receipt_id: ReceiptId::from_bytes(bytes16(&mut rng)),
        issued_at: CREATED_AT + 3,
        relay_key_id: relay.public().key_id().clone(),
        submission_sha256: Sha256::of(&b_min),
        bundle_id: p_min.bundle_id,
    }
    .sign(&relay);
    out.push(receipt_file(
        Builder::new(
            "13-receipt-custody",
            "ok",
            "a relay's custody receipt for 01-ok-minimal; verify with relay_public",
        )
        .text("kind", "custody"),
        &custody,
    ));
    let mut flipped = accepted.clone();
    if let Some(b) = flipped.get_mut(20) {
        *b ^= 0x01;
    }
    out.push(receipt_file(
        Builder::new(
            "14-receipt-flipped-byte",
            "bad_signature",
            "12-receipt-accepted with body byte 8 flipped",
        )
        .text("kind", "receipt"),
        &flipped,
    ));

    // The remaining named failures (spec § "Failure codes"), each on 01-ok-minimal.
    let mut wrong_magic = b_min.clone();
    wrong_magic[7] = b'9';
    out.push(
        keys(Builder::new(
            "15-bad-magic",
            "bad_magic",
            "01-ok-minimal with the magic GDBUNDL9",
        ))
        .hex("bundle", &wrong_magic)
        .build(),
    );

    // The tag's last byte flipped, the header's digest recomputed and re-signed: every
    // check a relay can make passes; only the registry's AEAD open fails.
    let mut bad_tag = b_min.clone();
    if let Some(last) = bad_tag.last_mut() {
        *last ^= 0x01;
    }
    let new_digest = match Envelope::parse(&bad_tag) {
        Ok(env) => *blake3::hash(env.ciphertext()).as_bytes(),
        Err(_) => [0; 32],
    };
    let old_digest = sha_of_ct(&b_min);
    let b_tag = resign(&bad_tag, &device, |h| replace(h, &old_digest, &new_digest));
    out.push(
        keys(Builder::new(
            "16-open-failed",
            "open_failed",
            "01-ok-minimal with the tag's last byte flipped, ct_blake3 recomputed, re-signed",
        ))
        .hex("bundle", &b_tag)
        .build(),
    );

    // A header body that is not CBOR at all (a map head, then nothing), validly signed.
    let b_cbor = resign(&b_min, &device, |_| vec![0xa9, 0x61]);
    out.push(
        keys(Builder::new(
            "17-header-malformed-cbor",
            "malformed_cbor",
            "a header body of the two bytes a9 61 (a map that ends early), validly signed",
        ))
        .hex("bundle", &b_cbor)
        .build(),
    );

    // A payload followed by one stray byte: sealed and signed correctly, refused on open.
    let pt_trailing = [pt_min.as_slice(), &[0x00]].concat();
    let s_trailing = sealed(&mut rng, &pt_trailing, &p_min, &registry);
    out.push(full(
        Builder::new(
            "18-payload-trailing-bytes",
            "trailing_bytes",
            "verifies; the payload is followed by a 00 byte, so opening refuses it",
        ),
        &pt_trailing,
        &p_min,
        &s_trailing,
    ));

    // A header naming another bundle id than the payload inside it.
    let mut p_moved = p_min.clone();
    p_moved.bundle_id = BundleId::from_bytes(bytes16(&mut rng));
    let s_moved = sealed(&mut rng, &pt_min, &p_moved, &registry);
    out.push(full(
        Builder::new(
            "19-payload-bad-field",
            "bad_field",
            "verifies and opens; the payload's bundle_id is not the header's, so it is refused",
        ),
        &pt_min,
        &p_moved,
        &s_moved,
    ));

    // A reference update (spec § "Reference updates"): a short religions list, and the same
    // with one byte of its text changed after signing.
    let update = ReferenceUpdate {
        list: ghidanh_record::reference::List::Religions,
        version: "ghidanh-ref-2".into(),
        issued_at: CREATED_AT + 10,
        tsv: REFERENCE_TSV.into(),
    }
    .sign(&registry)
    .unwrap_or_default();
    let update_file = |b: Builder, bytes: &[u8]| {
        let len = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        keys(b)
            .text("kind", "reference")
            .hex("body_cbor", bytes.get(12..12 + len).unwrap_or_default())
            .hex("tsv", bytes.get(12 + len + 64..).unwrap_or_default())
            .hex("update", bytes)
            .build()
    };
    out.push(update_file(
        Builder::new(
            "20-reference-update",
            "ok",
            "a signed religions list; verify update with registry_signing_public",
        ),
        &update,
    ));
    let mut altered = update.clone();
    if let Some(b) = altered.iter().rposition(|b| *b == b'0') {
        altered[b] = b'9';
    }
    out.push(update_file(
        Builder::new(
            "21-reference-altered-list",
            "ciphertext_mismatch",
            "20-reference-update with a digit of the list changed after signing",
        ),
        &altered,
    ));
    out
}

/// The list text of the reference update vectors: a religions file of two rows.
const REFERENCE_TSV: &str =
    "# version: ghidanh-ref-2\n# columns: code\tname\n00\tKhông\n01\tPhật giáo\n";

/// The 64 signature bytes that follow a frame's body.
fn signature_of(frame: &[u8]) -> Vec<u8> {
    let len = u32::from_be_bytes([frame[8], frame[9], frame[10], frame[11]]) as usize;
    frame
        .get(12 + len..12 + len + 64)
        .unwrap_or_default()
        .to_vec()
}

fn sha_of_ct(bundle: &[u8]) -> [u8; 32] {
    match Envelope::parse(bundle) {
        Ok(env) => env.header().ciphertext_blake3.0,
        Err(_) => [0; 32],
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A vector file read back: its `key: value` lines.
pub struct Vector {
    /// The file's lines, in order.
    pub fields: BTreeMap<String, String>,
}

impl Vector {
    /// Parses the `key: value` lines of a vector file.
    pub fn parse(text: &str) -> Vector {
        Vector {
            fields: text
                .lines()
                .filter_map(|l| l.split_once(": "))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// A hex field's bytes (empty if absent or not hex).
    pub fn bytes(&self, key: &str) -> Vec<u8> {
        self.fields
            .get(key)
            .and_then(|v| hex::decode(v).ok())
            .unwrap_or_default()
    }

    /// Runs the vector through parse → verify → open with the registry key it carries;
    /// returns `ok` with the opened payload's CBOR, or the error code.
    pub fn run(&self) -> Result<Vec<u8>, &'static str> {
        match self.fields.get("kind").map(String::as_str) {
            Some("receipt") => {
                let (Ok(signing), Ok(seal)) = (
                    <[u8; 32]>::try_from(self.bytes("registry_signing_public")),
                    <[u8; 32]>::try_from(self.bytes("registry_seal_public")),
                ) else {
                    return Err("bad_vector");
                };
                let registry =
                    RegistryPublicKeys::from_bytes(&signing, &seal).map_err(|e| e.code())?;
                let bytes = self.bytes("receipt");
                Receipt::verify(&bytes, &registry).map_err(|e| e.code())?;
                return Ok(self.bytes("body_cbor"));
            }
            Some("reference") => {
                let (Ok(signing), Ok(seal)) = (
                    <[u8; 32]>::try_from(self.bytes("registry_signing_public")),
                    <[u8; 32]>::try_from(self.bytes("registry_seal_public")),
                ) else {
                    return Err("bad_vector");
                };
                let registry =
                    RegistryPublicKeys::from_bytes(&signing, &seal).map_err(|e| e.code())?;
                ReferenceUpdate::verify(&self.bytes("update"), &registry).map_err(|e| e.code())?;
                return Ok(self.bytes("body_cbor"));
            }
            Some("custody") => {
                let relay =
                    <[u8; 32]>::try_from(self.bytes("relay_public")).map_err(|_| "bad_vector")?;
                let relay = RelayPublicKey::from_bytes(&relay).map_err(|e| e.code())?;
                CustodyReceipt::verify(&self.bytes("receipt"), &relay).map_err(|e| e.code())?;
                return Ok(self.bytes("body_cbor"));
            }
            _ => {}
        }
        let secret: Vec<u8> = [
            self.bytes("registry_signing_secret"),
            self.bytes("registry_seal_secret"),
        ]
        .concat();
        let secret: [u8; 64] = secret.try_into().map_err(|_| "bad_vector")?;
        let keys = RegistryKeys::from_secret_bytes(&secret).map_err(|e| e.code())?;
        let ring = Keyring::new(keys);
        let bundle = self.bytes("bundle");
        let run = || -> Result<Vec<u8>, Error> {
            let env = Envelope::parse(&bundle)?;
            env.verify()?;
            env.open(&ring)?.to_cbor()
        };
        run().map_err(|e| e.code())
    }
}
