//! The sealed payload (spec § "Payload"): who captured whom, when, and the record.

use ghidanh_record::EnrollmentInput;
use serde::{Deserialize, Serialize};

use crate::frame::{decode_cbor, encode_cbor};
use crate::{BundleId, DeviceId, EnrollmentId, Error, OperatorId};

const VERSION: u64 = 1;

/// The operator who captured an enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRef {
    /// Operator account id on the kit.
    pub id: OperatorId,
    /// Operator's name as entered at account creation.
    pub name: String,
}

/// Everything sealed inside a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Same as the header's bundle id.
    pub bundle_id: BundleId,
    /// The enrollment.
    pub enrollment_id: EnrollmentId,
    /// Same as the header's device id.
    pub device_id: DeviceId,
    /// Who captured it.
    pub operator: OperatorRef,
    /// When the operator finalised it (Unix seconds).
    pub captured_at: u64,
    /// The record, normalised; the registry validates it again.
    pub record: EnrollmentInput,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorWire {
    #[serde(with = "serde_bytes")]
    id: [u8; 16],
    name: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadWire {
    v: u64,
    #[serde(with = "serde_bytes")]
    bundle_id: [u8; 16],
    #[serde(with = "serde_bytes")]
    enrollment_id: [u8; 16],
    #[serde(with = "serde_bytes")]
    device_id: [u8; 16],
    operator: OperatorWire,
    captured_at: u64,
    record: EnrollmentInput,
}

impl Payload {
    /// The CBOR plaintext.
    pub fn to_cbor(&self) -> Vec<u8> {
        encode_cbor(&PayloadWire {
            v: VERSION,
            bundle_id: self.bundle_id.to_bytes(),
            enrollment_id: self.enrollment_id.to_bytes(),
            device_id: self.device_id.to_bytes(),
            operator: OperatorWire {
                id: self.operator.id.to_bytes(),
                name: self.operator.name.clone(),
            },
            captured_at: self.captured_at,
            record: self.record.clone(),
        })
    }

    /// Decodes the CBOR plaintext.
    pub fn from_cbor(bytes: &[u8]) -> Result<Payload, Error> {
        let w: PayloadWire = decode_cbor(bytes, "payload")?;
        if w.v != VERSION {
            return Err(Error::UnsupportedVersion(w.v));
        }
        Ok(Payload {
            bundle_id: BundleId::from_bytes(w.bundle_id),
            enrollment_id: EnrollmentId::from_bytes(w.enrollment_id),
            device_id: DeviceId::from_bytes(w.device_id),
            operator: OperatorRef {
                id: OperatorId::from_bytes(w.operator.id),
                name: w.operator.name,
            },
            captured_at: w.captured_at,
            record: w.record,
        })
    }
}
