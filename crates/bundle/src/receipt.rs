//! Receipts (spec § "Receipt"): the registry's signed verdict on one submission, or a relay's
//! signed statement that it holds a bundle (custody).
//!
//! Both share one wire format; in Rust they are two types, so that a custody receipt can never
//! be taken for the registry's final verdict.

use ghidanh_record::Lang;
use serde::{Deserialize, Serialize};

use crate::frame;
use crate::{
    BundleId, Error, KeyId, ReceiptId, RegistryKeys, RegistryPublicKeys, RelayKeys, RelayPublicKey,
    Sha256,
};

/// The eight bytes every receipt starts with.
pub const MAGIC: &[u8; 8] = b"GDRCPT01";
const VERSION: u64 = 1;

/// Why the registry refused a bundle. The code is machine-readable and stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    /// The bytes are not a well-formed bundle.
    Malformed,
    /// The bundle names a device the registry has not registered.
    UnknownDevice,
    /// The registry revoked this device: a kit that verifies this refusal wipes its vault.
    DeviceRevoked,
    /// The header's device key is not the one registered for the device.
    DeviceKeyMismatch,
    /// The device signature does not verify.
    BadSignature,
    /// The ciphertext is not the one the signed header commits to.
    CiphertextMismatch,
    /// Sealed to a key this registry does not hold.
    WrongRecipient,
    /// The payload cannot be opened or decoded.
    CannotOpen,
    /// A bundle with this id but other bytes was already received.
    BundleIdConflict,
    /// The record breaks a validation rule.
    InvalidRecord {
        /// The field, as `record` names it.
        field: String,
        /// The rule, as `record` names it.
        rule: String,
    },
    /// A code this version does not know (from a newer registry).
    Other(String),
}

impl RejectReason {
    /// The stable code, e.g. `bad_signature` or `invalid_record:personalId/notTwelveDigits`.
    pub fn code(&self) -> String {
        match self {
            RejectReason::Malformed => "malformed".into(),
            RejectReason::UnknownDevice => "unknown_device".into(),
            RejectReason::DeviceRevoked => "device_revoked".into(),
            RejectReason::DeviceKeyMismatch => "device_key_mismatch".into(),
            RejectReason::BadSignature => "bad_signature".into(),
            RejectReason::CiphertextMismatch => "ciphertext_mismatch".into(),
            RejectReason::WrongRecipient => "wrong_recipient".into(),
            RejectReason::CannotOpen => "cannot_open".into(),
            RejectReason::BundleIdConflict => "bundle_id_conflict".into(),
            RejectReason::InvalidRecord { field, rule } => format!("invalid_record:{field}/{rule}"),
            RejectReason::Other(code) => code.clone(),
        }
    }

    /// Parses a code; unknown codes are kept as [`RejectReason::Other`].
    pub fn parse(code: &str) -> RejectReason {
        match code {
            "malformed" => RejectReason::Malformed,
            "unknown_device" => RejectReason::UnknownDevice,
            "device_revoked" => RejectReason::DeviceRevoked,
            "device_key_mismatch" => RejectReason::DeviceKeyMismatch,
            "bad_signature" => RejectReason::BadSignature,
            "ciphertext_mismatch" => RejectReason::CiphertextMismatch,
            "wrong_recipient" => RejectReason::WrongRecipient,
            "cannot_open" => RejectReason::CannotOpen,
            "bundle_id_conflict" => RejectReason::BundleIdConflict,
            other => match other
                .strip_prefix("invalid_record:")
                .and_then(|r| r.split_once('/'))
            {
                Some((field, rule)) => RejectReason::InvalidRecord {
                    field: field.into(),
                    rule: rule.into(),
                },
                None => RejectReason::Other(other.into()),
            },
        }
    }

    /// What the operator reads.
    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        let text = match self {
            RejectReason::Malformed if vi => "gói dữ liệu bị hỏng",
            RejectReason::Malformed => "the bundle is malformed",
            RejectReason::UnknownDevice if vi => "máy chưa được đăng ký với trung tâm",
            RejectReason::UnknownDevice => "this device is not registered with the registry",
            RejectReason::DeviceRevoked if vi => "máy đã bị thu hồi; dữ liệu trên máy đã bị xóa",
            RejectReason::DeviceRevoked => "this device was revoked; its data was wiped",
            RejectReason::DeviceKeyMismatch if vi => "khóa của máy không khớp với khóa đã đăng ký",
            RejectReason::DeviceKeyMismatch => "the device key differs from the registered one",
            RejectReason::BadSignature if vi => "chữ ký của máy không hợp lệ",
            RejectReason::BadSignature => "the device signature does not verify",
            RejectReason::CiphertextMismatch if vi => "dữ liệu mã hóa đã bị thay đổi",
            RejectReason::CiphertextMismatch => "the sealed data was altered",
            RejectReason::WrongRecipient if vi => "gói được niêm phong cho khóa khác",
            RejectReason::WrongRecipient => "sealed to another registry key",
            RejectReason::CannotOpen if vi => "trung tâm không mở được gói",
            RejectReason::CannotOpen => "the registry cannot open the bundle",
            RejectReason::BundleIdConflict if vi => "mã gói đã được dùng cho dữ liệu khác",
            RejectReason::BundleIdConflict => "the bundle id was already used for other data",
            RejectReason::InvalidRecord { field, rule } => {
                return if vi {
                    format!("hồ sơ không hợp lệ ({field}: {rule})")
                } else {
                    format!("the record is invalid ({field}: {rule})")
                }
            }
            RejectReason::Other(code) => return code.clone(),
        };
        text.to_owned()
    }
}

/// The registry's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Stored; this receipt is the proof.
    Accepted,
    /// Already stored earlier under `accepted_receipt_id`; nothing new was stored.
    Duplicate {
        /// The receipt of the first, accepted submission.
        accepted_receipt_id: ReceiptId,
    },
    /// Refused.
    Rejected(RejectReason),
}

/// A signed receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// This receipt's id.
    pub receipt_id: ReceiptId,
    /// When the registry issued it (Unix seconds).
    pub issued_at: u64,
    /// The registry key that signed it (wire key `key_id`).
    pub registry_key_id: KeyId,
    /// SHA-256 of the exact bytes submitted: ties the receipt to what the kit sent.
    pub submission_sha256: Sha256,
    /// The bundle id, when the header could be read.
    pub bundle_id: Option<BundleId>,
    /// The verdict.
    pub verdict: Verdict,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptWire {
    v: u64,
    #[serde(with = "serde_bytes")]
    receipt_id: [u8; 16],
    issued_at: u64,
    key_id: String,
    #[serde(with = "serde_bytes")]
    submission_sha256: [u8; 32],
    #[serde(deserialize_with = "crate::cbor::nullable")]
    bundle_id: Option<serde_bytes::ByteArray<16>>,
    verdict: String,
    #[serde(deserialize_with = "crate::cbor::nullable")]
    reason: Option<String>,
    #[serde(deserialize_with = "crate::cbor::nullable")]
    accepted_receipt_id: Option<serde_bytes::ByteArray<16>>,
}

impl Receipt {
    /// The id a kit should show as proof of delivery: this receipt's for `accepted`,
    /// the first acceptance's for `duplicate`, none for `rejected`.
    pub fn delivery_receipt_id(&self) -> Option<ReceiptId> {
        match &self.verdict {
            Verdict::Accepted => Some(self.receipt_id),
            Verdict::Duplicate {
                accepted_receipt_id,
            } => Some(*accepted_receipt_id),
            Verdict::Rejected(_) => None,
        }
    }

    /// Signs the receipt with the registry key: the bytes to send.
    pub fn sign(&self, keys: &RegistryKeys) -> Vec<u8> {
        let (verdict, reason, accepted) = match &self.verdict {
            Verdict::Accepted => ("accepted", None, None),
            Verdict::Duplicate {
                accepted_receipt_id,
            } => (
                "duplicate",
                None,
                Some(serde_bytes::ByteArray::new(accepted_receipt_id.to_bytes())),
            ),
            Verdict::Rejected(r) => ("rejected", Some(r.code()), None),
        };
        let wire = ReceiptWire {
            v: VERSION,
            receipt_id: self.receipt_id.to_bytes(),
            issued_at: self.issued_at,
            key_id: self.registry_key_id.as_str().to_owned(),
            submission_sha256: self.submission_sha256.0,
            bundle_id: self
                .bundle_id
                .map(|b| serde_bytes::ByteArray::new(b.to_bytes())),
            verdict: verdict.to_owned(),
            reason,
            accepted_receipt_id: accepted,
        };
        frame::write(MAGIC, &wire, keys.signing())
    }

    /// Parses a receipt and checks the registry's signature. Nothing in it may be used before this.
    pub fn verify(bytes: &[u8], registry: &RegistryPublicKeys) -> Result<Receipt, Error> {
        let frame = frame::split(bytes, MAGIC, "receipt")?;
        if !frame.trailer.is_empty() {
            return Err(Error::TrailingBytes(frame.trailer.len()));
        }
        frame.verify(registry.verifying())?;
        let w: ReceiptWire = frame.decode("receipt")?;
        if w.v != VERSION {
            return Err(Error::UnsupportedVersion(w.v));
        }
        let verdict = match (w.verdict.as_str(), w.reason, w.accepted_receipt_id) {
            ("accepted", None, None) => Verdict::Accepted,
            ("duplicate", None, Some(id)) => Verdict::Duplicate {
                accepted_receipt_id: ReceiptId::from_bytes(id.into_array()),
            },
            ("rejected", Some(reason), None) => Verdict::Rejected(RejectReason::parse(&reason)),
            // spec § "Receipt": a custody receipt is never a registry verdict.
            ("custody", _, _) => {
                return Err(Error::Field {
                    field: "verdict",
                    rule: "custody receipt where a registry verdict is expected",
                })
            }
            _ => {
                return Err(Error::Field {
                    field: "verdict",
                    rule: "unknown verdict or inconsistent reason/accepted_receipt_id",
                })
            }
        };
        Ok(Receipt {
            receipt_id: ReceiptId::from_bytes(w.receipt_id),
            issued_at: w.issued_at,
            registry_key_id: KeyId::from_wire(w.key_id),
            submission_sha256: Sha256(w.submission_sha256),
            bundle_id: w.bundle_id.map(|b| BundleId::from_bytes(b.into_array())),
            verdict,
        })
    }
}

/// A relay's signed statement that it holds a bundle and will forward it (verdict `custody`).
///
/// It is not a delivery: the kit keeps the bundle queued until the registry's own receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyReceipt {
    /// This receipt's id.
    pub receipt_id: ReceiptId,
    /// When the relay issued it (Unix seconds).
    pub issued_at: u64,
    /// The relay key that signed it.
    pub relay_key_id: KeyId,
    /// SHA-256 of the exact bytes submitted.
    pub submission_sha256: Sha256,
    /// The bundle the relay holds (it verified the header before signing).
    pub bundle_id: BundleId,
}

impl CustodyReceipt {
    /// Signs the custody receipt with the relay key: the bytes to send.
    pub fn sign(&self, relay: &RelayKeys) -> Vec<u8> {
        let wire = ReceiptWire {
            v: VERSION,
            receipt_id: self.receipt_id.to_bytes(),
            issued_at: self.issued_at,
            key_id: self.relay_key_id.as_str().to_owned(),
            submission_sha256: self.submission_sha256.0,
            bundle_id: Some(serde_bytes::ByteArray::new(self.bundle_id.to_bytes())),
            verdict: "custody".to_owned(),
            reason: None,
            accepted_receipt_id: None,
        };
        frame::write(MAGIC, &wire, relay.signing())
    }

    /// Parses a custody receipt and checks the relay's signature.
    pub fn verify(bytes: &[u8], relay: &RelayPublicKey) -> Result<CustodyReceipt, Error> {
        let frame = frame::split(bytes, MAGIC, "receipt")?;
        // spec § "Signed frames": MUST reject a trailer on anything but a bundle.
        if !frame.trailer.is_empty() {
            return Err(Error::TrailingBytes(frame.trailer.len()));
        }
        frame.verify(relay.verifying())?;
        let w: ReceiptWire = frame.decode("receipt")?;
        // spec § "Signed frames": MUST reject other versions.
        if w.v != VERSION {
            return Err(Error::UnsupportedVersion(w.v));
        }
        // spec § "Receipt": custody has a bundle id and neither reason nor accepted id.
        match (
            w.verdict.as_str(),
            w.bundle_id,
            w.reason,
            w.accepted_receipt_id,
        ) {
            ("custody", Some(bundle_id), None, None) => Ok(CustodyReceipt {
                receipt_id: ReceiptId::from_bytes(w.receipt_id),
                issued_at: w.issued_at,
                relay_key_id: KeyId::from_wire(w.key_id),
                submission_sha256: Sha256(w.submission_sha256),
                bundle_id: BundleId::from_bytes(bundle_id.into_array()),
            }),
            _ => Err(Error::Field {
                field: "verdict",
                rule: "not a custody receipt, or inconsistent fields",
            }),
        }
    }
}
