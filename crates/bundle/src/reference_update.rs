//! Reference updates (spec § "Reference updates"): a newer release of one reference list
//! (`schema/reference/*.tsv`), signed by the registry, that kits install so that every record
//! is validated against the same lists on both sides.
//!
//! A signed frame with magic `GDREFU01` (never a receipt's, a bundle's or a provisioning
//! file's, so one can never be taken for another) whose body commits to the list's text, the
//! trailer, by length and SHA-256, as a bundle's header commits to its ciphertext.

use ghidanh_record::reference::{List, MAX_LIST_BYTES};
use serde::{Deserialize, Serialize};

use crate::frame;
use crate::{Error, RegistryKeys, RegistryPublicKeys, Sha256};

/// The eight bytes every reference update starts with.
pub const MAGIC: &[u8; 8] = b"GDREFU01";
const VERSION: u64 = 1;
/// The longest version string, in bytes.
pub const MAX_VERSION_LEN: usize = 64;
/// The longest reference update, in bytes: the frame and the largest list text.
pub const MAX_REFERENCE_UPDATE: usize = 12 + frame::MAX_BODY + 64 + MAX_LIST_BYTES;

/// One list's new release, as the registry publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceUpdate {
    /// Which list it replaces.
    pub list: List,
    /// Its version: 1 to [`MAX_VERSION_LEN`] ASCII letters, digits, `.`, `_` or `-`; also the
    /// text's `# version:` line (checked when installing, by `ghidanh_record::reference`).
    pub version: String,
    /// When the registry published it (Unix seconds).
    pub issued_at: u64,
    /// The whole list file, as `schema/reference/*.tsv`; at most [`MAX_LIST_BYTES`] bytes.
    pub tsv: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceUpdateWire {
    v: u64,
    list: String,
    key_id: String,
    tsv_len: u64,
    version: String,
    issued_at: u64,
    #[serde(with = "serde_bytes")]
    tsv_sha256: [u8; 32],
}

/// spec § "Reference updates": the version's shape, so it fits a query string and a log line.
fn check_version(version: &str) -> Result<(), Error> {
    let ok = !version.is_empty()
        && version.len() <= MAX_VERSION_LEN
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::Field {
            field: "version",
            rule: "1 to 64 ASCII letters, digits, '.', '_' or '-'",
        })
    }
}

fn check_len(len: u64) -> Result<(), Error> {
    if len > MAX_LIST_BYTES as u64 {
        return Err(Error::Field {
            field: "tsv_len",
            rule: "over the 1048576-byte limit",
        });
    }
    Ok(())
}

impl ReferenceUpdate {
    /// Signs the update with the registry key: the bytes to publish. Refuses what a verifier
    /// would refuse (a malformed version, an oversized text).
    pub fn sign(&self, keys: &RegistryKeys) -> Result<Vec<u8>, Error> {
        check_version(&self.version)?;
        check_len(self.tsv.len() as u64)?;
        let wire = ReferenceUpdateWire {
            v: VERSION,
            list: self.list.name().to_owned(),
            key_id: keys.public().key_id().as_str().to_owned(),
            tsv_len: self.tsv.len() as u64,
            version: self.version.clone(),
            issued_at: self.issued_at,
            tsv_sha256: Sha256::of(self.tsv.as_bytes()).0,
        };
        let mut out = frame::write(MAGIC, &wire, keys.signing());
        out.extend_from_slice(self.tsv.as_bytes());
        Ok(out)
    }

    /// Parses an update and checks it is signed by `registry`, in the order of the spec.
    /// Nothing in it may be used before this.
    pub fn verify(bytes: &[u8], registry: &RegistryPublicKeys) -> Result<ReferenceUpdate, Error> {
        // spec § "Signed frames": length, magic, body limit; the trailer is the list's text.
        let frame = frame::split(bytes, MAGIC, "reference update")?;
        frame.verify(registry.verifying())?;
        let w: ReferenceUpdateWire = frame.decode("reference update")?;
        if w.v != VERSION {
            return Err(Error::UnsupportedVersion(w.v));
        }
        // spec § "Reference updates": signed by the key it names.
        if w.key_id != registry.key_id().as_str() {
            return Err(Error::Field {
                field: "key_id",
                rule: "not the key that verifies the update",
            });
        }
        let list = List::parse(&w.list).ok_or(Error::Field {
            field: "list",
            rule: "not one of provinces, communes, ethnic-groups, religions, countries",
        })?;
        check_version(&w.version)?;
        check_len(w.tsv_len)?;
        if frame.trailer.len() as u64 != w.tsv_len {
            return Err(Error::CiphertextMismatch("tsv_len"));
        }
        if Sha256::of(frame.trailer).0 != w.tsv_sha256 {
            return Err(Error::CiphertextMismatch("tsv_sha256"));
        }
        let tsv = std::str::from_utf8(frame.trailer).map_err(|_| Error::Field {
            field: "tsv",
            rule: "not UTF-8",
        })?;
        Ok(ReferenceUpdate {
            list,
            version: w.version,
            issued_at: w.issued_at,
            tsv: tsv.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{receipt, Receipt, ReceiptId, Verdict};

    const TSV: &str = "# version: ghidanh-ref-2\n# columns: code\tname\n00\tKhông\n01\tPhật giáo\n";

    fn update() -> ReferenceUpdate {
        ReferenceUpdate {
            list: List::Religions,
            version: "ghidanh-ref-2".into(),
            issued_at: 1_790_000_000,
            tsv: TSV.into(),
        }
    }

    fn wire(keys: &RegistryKeys) -> ReferenceUpdateWire {
        ReferenceUpdateWire {
            v: VERSION,
            list: "religions".into(),
            key_id: keys.public().key_id().as_str().to_owned(),
            tsv_len: TSV.len() as u64,
            version: "ghidanh-ref-2".into(),
            issued_at: 1_790_000_000,
            tsv_sha256: Sha256::of(TSV.as_bytes()).0,
        }
    }

    /// A validly signed frame of `w` with `trailer`: what a registry key holder could make.
    fn signed(keys: &RegistryKeys, w: &ReferenceUpdateWire, trailer: &[u8]) -> Vec<u8> {
        let mut out = frame::write(MAGIC, w, keys.signing());
        out.extend_from_slice(trailer);
        out
    }

    fn code(bytes: &[u8], keys: &RegistryKeys) -> &'static str {
        match ReferenceUpdate::verify(bytes, keys.public()) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn a_signed_update_verifies_to_what_was_signed() {
        let keys = RegistryKeys::generate();
        let bytes = update().sign(&keys).unwrap();
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(ReferenceUpdate::verify(&bytes, keys.public()), Ok(update()));
        // Ed25519 is deterministic: the same update signs to the same bytes.
        assert_eq!(update().sign(&keys).unwrap(), bytes);
    }

    #[test]
    fn another_key_is_refused() {
        let (keys, other) = (RegistryKeys::generate(), RegistryKeys::generate());
        let bytes = update().sign(&keys).unwrap();
        assert_eq!(code(&bytes, &other), "bad_signature");
        // Signed by the other key but naming the first: refused for the name too.
        let mut w = wire(&other);
        w.key_id = keys.public().key_id().as_str().to_owned();
        assert_eq!(
            code(&signed(&other, &w, TSV.as_bytes()), &other),
            "bad_field"
        );
    }

    #[test]
    fn every_truncation_is_refused() {
        let keys = RegistryKeys::generate();
        let bytes = update().sign(&keys).unwrap();
        for len in 0..bytes.len() {
            let got = code(&bytes[..len], &keys);
            assert!(
                ["truncated", "ciphertext_mismatch"].contains(&got),
                "{len}: {got}"
            );
        }
        let longer = [bytes.as_slice(), b"\n"].concat();
        assert_eq!(code(&longer, &keys), "ciphertext_mismatch");
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let keys = RegistryKeys::generate();
        let bytes = update().sign(&keys).unwrap();
        for i in 0..bytes.len() {
            for bit in [0x01, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= bit;
                let got = code(&b, &keys);
                assert_ne!(got, "ok", "byte {i} bit {bit:#x}");
                let want: &[&str] = if i < 8 {
                    &["bad_magic"]
                } else if i < 12 {
                    &["truncated", "body_too_long", "bad_signature"]
                } else {
                    &["bad_signature", "ciphertext_mismatch"]
                };
                assert!(want.contains(&got), "byte {i} bit {bit:#x}: {got}");
            }
        }
    }

    #[test]
    fn other_frames_and_oversized_input_are_refused_before_any_signature_check() {
        let keys = RegistryKeys::generate();
        let receipt = Receipt {
            receipt_id: ReceiptId::new(),
            issued_at: 1,
            registry_key_id: keys.public().key_id().clone(),
            submission_sha256: Sha256::of(b"x"),
            bundle_id: None,
            verdict: Verdict::Accepted,
        }
        .sign(&keys);
        assert_eq!(&receipt[..8], receipt::MAGIC);
        assert_eq!(code(&receipt, &keys), "bad_magic");
        // And an update is never a receipt.
        let bytes = update().sign(&keys).unwrap();
        assert_eq!(
            Receipt::verify(&bytes, keys.public()).map_err(|e| e.code()),
            Err("bad_magic")
        );
        let mut huge = bytes.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(code(&huge, &keys), "body_too_long");
    }

    #[test]
    fn signed_but_malformed_bodies_are_refused_by_field() {
        let keys = RegistryKeys::generate();
        let tsv = TSV.as_bytes();
        type Edit = fn(&mut ReferenceUpdateWire);
        let cases: [(&str, Edit); 8] = [
            ("unsupported_version", |w| w.v = 2),
            ("bad_field", |w| w.list = "legacy-provinces".into()),
            ("bad_field", |w| w.version = "2026 01".into()),
            ("bad_field", |w| w.version = String::new()),
            ("bad_field", |w| w.version = "v".repeat(65)),
            ("bad_field", |w| w.tsv_len = 1 << 21),
            ("ciphertext_mismatch", |w| w.tsv_len += 1),
            ("ciphertext_mismatch", |w| w.tsv_sha256[0] ^= 1),
        ];
        for (want, edit) in cases {
            let mut w = wire(&keys);
            edit(&mut w);
            assert_eq!(code(&signed(&keys, &w, tsv), &keys), want);
        }
        // Not UTF-8, yet committed to correctly.
        let latin1 = b"# version: ghidanh-ref-2\n00\tKh\xf4ng\n";
        let mut w = wire(&keys);
        w.tsv_len = latin1.len() as u64;
        w.tsv_sha256 = Sha256::of(latin1).0;
        assert_eq!(code(&signed(&keys, &w, latin1), &keys), "bad_field");
        // A body that is not CBOR at all.
        let junk = frame::write_raw(MAGIC, &[0xa9, 0x61], keys.signing());
        assert_eq!(code(&junk, &keys), "malformed_cbor");
        // A map with a key more than the spec's.
        #[derive(Serialize)]
        struct Extra {
            v: u64,
            list: String,
            extra: u64,
            key_id: String,
            tsv_len: u64,
            version: String,
            issued_at: u64,
            #[serde(with = "serde_bytes")]
            tsv_sha256: [u8; 32],
        }
        let w = wire(&keys);
        let extra = Extra {
            v: w.v,
            list: w.list,
            extra: 1,
            key_id: w.key_id,
            tsv_len: w.tsv_len,
            version: w.version,
            issued_at: w.issued_at,
            tsv_sha256: w.tsv_sha256,
        };
        let mut bytes = frame::write(MAGIC, &extra, keys.signing());
        bytes.extend_from_slice(tsv);
        assert_eq!(code(&bytes, &keys), "malformed_cbor");
    }

    #[test]
    fn signing_refuses_what_verifying_would() {
        let keys = RegistryKeys::generate();
        let mut u = update();
        u.version = "ghidanh ref 2".into();
        assert_eq!(u.sign(&keys).map_err(|e| e.code()), Err("bad_field"));
        let mut u = update();
        u.tsv = "#".repeat(MAX_LIST_BYTES + 1);
        assert_eq!(u.sign(&keys).map_err(|e| e.code()), Err("bad_field"));
    }
}
