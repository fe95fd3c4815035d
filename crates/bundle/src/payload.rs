//! The sealed payload (spec § "Payload"): who captured whom, when, the record, the biometrics,
//! the reference-data versions and an audit excerpt.
//!
//! Decoding is strict: deterministic CBOR, no unknown keys, every limit of spec § "Limits".

use std::collections::BTreeMap;

use ghidanh_record::EnrollmentInput;
use serde::{Deserialize, Serialize};

use crate::{cbor, BundleId, DeviceId, EnrollmentId, Error, OperatorId};

/// Payload format version (spec § "Payload": `v = 2`).
pub const PAYLOAD_VERSION: u64 = 2;
/// Largest image accepted, face or finger (spec § "Limits").
pub const MAX_IMAGE: usize = 2 * 1024 * 1024;
/// Most fingerprint entries (one per finger).
pub const MAX_FINGERS: usize = 10;
/// Most audit entries in the excerpt.
pub const MAX_AUDIT: usize = 256;
/// Most reference-data versions.
pub const MAX_REFERENCE_VERSIONS: usize = 64;
/// Longest short text (names, actions, versions, reasons), in bytes.
pub const MAX_TEXT: usize = 1024;
/// Largest image side in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// Largest plaintext accepted (spec § "Limits"): eleven full images and room for the rest.
pub const MAX_PAYLOAD: usize = 11 * MAX_IMAGE + 1024 * 1024;

/// The operator who captured an enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRef {
    /// Operator account id on the kit.
    pub id: OperatorId,
    /// Operator's name as entered at account creation.
    pub name: String,
}

/// Encoding of a face image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceFormat {
    /// JPEG (ISO/IEC 10918).
    Jpeg,
    /// PNG.
    Png,
    /// An ISO/IEC 19794-5 face record (a token image, JPEG inside): what the kit seals.
    #[serde(rename = "iso19794_5")]
    Iso19794_5,
}

/// The face photograph.
#[derive(Clone, PartialEq, Eq)]
pub struct FaceImage {
    /// Encoding of `image`.
    pub format: FaceFormat,
    /// The encoded image.
    pub image: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Capture quality score, 0–100.
    pub quality: u8,
}

impl std::fmt::Debug for FaceImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A face is personal data: only its size is printed.
        write!(
            f,
            "FaceImage({:?}, {} bytes, {}x{}, q{})",
            self.format,
            self.image.len(),
            self.width,
            self.height,
            self.quality
        )
    }
}

/// Finger positions, ISO/IEC 19794-4 codes 1 (right thumb) to 10 (left little).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // The names are the documentation.
pub enum FingerPosition {
    RightThumb = 1,
    RightIndex = 2,
    RightMiddle = 3,
    RightRing = 4,
    RightLittle = 5,
    LeftThumb = 6,
    LeftIndex = 7,
    LeftMiddle = 8,
    LeftRing = 9,
    LeftLittle = 10,
}

impl FingerPosition {
    /// All ten, in code order.
    pub const ALL: [FingerPosition; 10] = [
        FingerPosition::RightThumb,
        FingerPosition::RightIndex,
        FingerPosition::RightMiddle,
        FingerPosition::RightRing,
        FingerPosition::RightLittle,
        FingerPosition::LeftThumb,
        FingerPosition::LeftIndex,
        FingerPosition::LeftMiddle,
        FingerPosition::LeftRing,
        FingerPosition::LeftLittle,
    ];

    /// The ISO/IEC 19794-4 code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// From an ISO/IEC 19794-4 code (1–10).
    pub fn from_code(code: u8) -> Option<FingerPosition> {
        FingerPosition::ALL
            .get(usize::from(code).checked_sub(1)?)
            .copied()
    }
}

/// Encoding of a fingerprint image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FingerFormat {
    /// PNG, 500 ppi greyscale.
    Png,
    /// WSQ (FBI IAFIS-IC-0110).
    Wsq,
    /// An ISO/IEC 19794-4 finger image record.
    #[serde(rename = "iso19794_4")]
    Iso19794_4,
}

/// Why a finger has no image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExceptionReason {
    /// Amputated or absent.
    Missing,
    /// Present but no usable image could be taken.
    Unreadable,
    /// Temporarily covered.
    Bandaged,
    /// Another reason, as the operator wrote it.
    Other(String),
}

/// What was captured for one finger.
#[derive(Clone, PartialEq, Eq)]
pub enum FingerCapture {
    /// An image.
    Captured {
        /// Encoding of `image`.
        format: FingerFormat,
        /// The encoded image.
        image: Vec<u8>,
        /// Quality score, 0–100 (NFIQ 2 scale).
        quality: u8,
    },
    /// No image, and why.
    Exception(ExceptionReason),
}

impl std::fmt::Debug for FingerCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FingerCapture::Captured {
                format,
                image,
                quality,
            } => write!(f, "Captured({format:?}, {} bytes, q{quality})", image.len()),
            FingerCapture::Exception(r) => write!(f, "Exception({r:?})"),
        }
    }
}

/// One finger's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finger {
    /// Which finger.
    pub position: FingerPosition,
    /// Its image or exception.
    pub capture: FingerCapture,
}

/// The biometrics of an enrollment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Biometrics {
    /// The face photograph, if taken (none under 6 years of age).
    pub face: Option<FaceImage>,
    /// Fingerprints and exceptions, at most one per position.
    pub fingers: Vec<Finger>,
}

impl Biometrics {
    /// What is present, for the record's age rule (`ghidanh_record::forbidden_biometrics`).
    pub fn taken(&self) -> ghidanh_record::BiometricsTaken {
        let captured = self
            .fingers
            .iter()
            .filter(|f| matches!(f.capture, FingerCapture::Captured { .. }))
            .count();
        ghidanh_record::BiometricsTaken {
            face: self.face.is_some(),
            fingers_captured: captured,
            fingers_excepted: self.fingers.len() - captured,
        }
    }
}

/// One line of the audit excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (Unix seconds).
    pub at: u64,
    /// What happened ("created", "finalised", …).
    pub action: String,
    /// Who did it.
    pub operator_id: OperatorId,
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
    /// When capture began (Unix seconds).
    pub captured_at: u64,
    /// When the operator finalised it (Unix seconds).
    pub finalised_at: u64,
    /// The record, normalised; the registry validates it again.
    pub record: EnrollmentInput,
    /// Face and fingerprints.
    pub biometrics: Biometrics,
    /// Reference-data versions the kit validated against (name → version).
    pub reference_versions: BTreeMap<String, String>,
    /// What happened to the enrollment on the kit.
    pub audit: Vec<AuditEntry>,
}

type Id16 = serde_bytes::ByteArray<16>;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorWire {
    id: Id16,
    name: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaceWire<B> {
    format: FaceFormat,
    image: B,
    width: u32,
    height: u32,
    quality: u8,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CapturedWire<B> {
    format: FingerFormat,
    image: B,
    quality: u8,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionWire {
    reason: String,
    #[serde(deserialize_with = "crate::cbor::nullable")]
    detail: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "B: Deserialize<'de>"))]
struct FingerWire<B> {
    position: u8,
    #[serde(deserialize_with = "crate::cbor::nullable")]
    captured: Option<CapturedWire<B>>,
    #[serde(deserialize_with = "crate::cbor::nullable")]
    exception: Option<ExceptionWire>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "B: Deserialize<'de>"))]
struct BiometricsWire<B> {
    #[serde(deserialize_with = "crate::cbor::nullable")]
    face: Option<FaceWire<B>>,
    fingers: Vec<FingerWire<B>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditWire {
    at: u64,
    action: String,
    operator_id: Id16,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// `B` is the image type: borrowed bytes to encode (no copy of the images), owned to decode.
struct PayloadWire<B> {
    v: u64,
    bundle_id: Id16,
    enrollment_id: Id16,
    device_id: Id16,
    operator: OperatorWire,
    captured_at: u64,
    finalised_at: u64,
    // Kept generic here: the record's own type fills defaults for missing keys, so its
    // re-encoding is compared with what arrived (spec § "Payload": record is canonical).
    record: ciborium::Value,
    biometrics: BiometricsWire<B>,
    reference_versions: BTreeMap<String, String>,
    audit: Vec<AuditWire>,
}

fn field(field: &'static str, rule: &'static str) -> Error {
    Error::Field { field, rule }
}

fn check_text(s: &str, name: &'static str) -> Result<(), Error> {
    // spec § "Limits": text fields MUST be at most 1024 bytes.
    if s.len() > MAX_TEXT {
        return Err(field(name, "longer than 1024 bytes"));
    }
    Ok(())
}

fn check_image(image: &[u8], name: &'static str) -> Result<(), Error> {
    // spec § "Limits": images MUST be 1 byte to 2 MiB.
    if image.is_empty() || image.len() > MAX_IMAGE {
        return Err(field(name, "image empty or over 2 MiB"));
    }
    Ok(())
}

fn check_quality(q: u8, name: &'static str) -> Result<(), Error> {
    // spec § "Payload": quality MUST be 0–100.
    if q > 100 {
        return Err(field(name, "quality over 100"));
    }
    Ok(())
}

/// The record from its generic CBOR value. spec § "Payload": a decoder MUST reject a record
/// that is not exactly the encoding of its decoded form (a missing key the record type
/// would default, for one), so that one payload has one encoding.
fn record_from_value(value: ciborium::Value) -> Result<EnrollmentInput, Error> {
    let arrived = cbor::encode(&value)?;
    let record: EnrollmentInput = value.deserialized().map_err(|e| Error::Cbor {
        what: "record",
        detail: cbor::value_error(&e),
    })?;
    if cbor::encode(&record)? != arrived {
        return Err(Error::NotDeterministic("record"));
    }
    Ok(record)
}

/// The entry of a map value under a text key (keys are distinct once decoded).
fn entry<'v>(map: &'v mut ciborium::Value, key: &str) -> Option<&'v mut ciborium::Value> {
    match map {
        ciborium::Value::Map(entries) => entries
            .iter_mut()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// A byte string moved out of its place, an empty one left there.
fn take_bytes(value: Option<&mut ciborium::Value>) -> Option<Vec<u8>> {
    match value {
        Some(ciborium::Value::Bytes(bytes)) => Some(std::mem::take(bytes)),
        _ => None,
    }
}

/// Moves the images out of a payload's value: the face's (`biometrics.face.image`) and each
/// finger entry's (`biometrics.fingers[i].captured.image`), in entry order; `None` where that
/// place holds no byte string (the payload then fails to deserialise, or has no image there).
fn take_images(payload: &mut ciborium::Value) -> (Option<Vec<u8>>, Vec<Option<Vec<u8>>>) {
    let Some(biometrics) = entry(payload, "biometrics") else {
        return (None, Vec::new());
    };
    let face = take_bytes(entry(biometrics, "face").and_then(|f| entry(f, "image")));
    let fingers = match entry(biometrics, "fingers") {
        Some(ciborium::Value::Array(entries)) => entries
            .iter_mut()
            .map(|f| take_bytes(entry(f, "captured").and_then(|c| entry(c, "image"))))
            .collect(),
        _ => Vec::new(),
    };
    (face, fingers)
}

/// The image [`take_images`] moved out of the place a deserialised image came from. An image
/// deserialises only from a byte string, so it is there; if not, the payload is refused
/// rather than given an image that did not arrive.
fn put_back(image: Option<Vec<u8>>) -> Result<Vec<u8>, Error> {
    image.ok_or(Error::Cbor {
        what: "payload",
        detail: "an image out of place".into(),
    })
}

impl ExceptionReason {
    fn to_wire(&self) -> ExceptionWire {
        let (reason, detail) = match self {
            ExceptionReason::Missing => ("missing", None),
            ExceptionReason::Unreadable => ("unreadable", None),
            ExceptionReason::Bandaged => ("bandaged", None),
            ExceptionReason::Other(text) => ("other", Some(text.clone())),
        };
        ExceptionWire {
            reason: reason.to_owned(),
            detail,
        }
    }

    fn from_wire(w: ExceptionWire) -> Result<ExceptionReason, Error> {
        // spec § "Payload": `detail` MUST be present for "other" and only for it.
        Ok(match (w.reason.as_str(), w.detail) {
            ("missing", None) => ExceptionReason::Missing,
            ("unreadable", None) => ExceptionReason::Unreadable,
            ("bandaged", None) => ExceptionReason::Bandaged,
            ("other", Some(text)) => ExceptionReason::Other(text),
            _ => return Err(field("exception", "unknown reason or misplaced detail")),
        })
    }

    /// The stable code: `missing`, `unreadable`, `bandaged` or `other`.
    pub fn code(&self) -> &'static str {
        match self {
            ExceptionReason::Missing => "missing",
            ExceptionReason::Unreadable => "unreadable",
            ExceptionReason::Bandaged => "bandaged",
            ExceptionReason::Other(_) => "other",
        }
    }
}

impl Payload {
    /// The CBOR plaintext (deterministic encoding).
    ///
    /// Checks the same limits a decoder checks, so that a kit never seals what the registry
    /// would refuse.
    pub fn to_cbor(&self) -> Result<Vec<u8>, Error> {
        self.check()?;
        let wire = PayloadWire {
            v: PAYLOAD_VERSION,
            bundle_id: Id16::new(self.bundle_id.to_bytes()),
            enrollment_id: Id16::new(self.enrollment_id.to_bytes()),
            device_id: Id16::new(self.device_id.to_bytes()),
            operator: OperatorWire {
                id: Id16::new(self.operator.id.to_bytes()),
                name: self.operator.name.clone(),
            },
            captured_at: self.captured_at,
            finalised_at: self.finalised_at,
            record: ciborium::Value::serialized(&self.record).map_err(|e| Error::Cbor {
                what: "record",
                detail: e.to_string(),
            })?,
            biometrics: BiometricsWire {
                face: self.biometrics.face.as_ref().map(|f| FaceWire {
                    format: f.format,
                    image: serde_bytes::Bytes::new(&f.image),
                    width: f.width,
                    height: f.height,
                    quality: f.quality,
                }),
                fingers: self
                    .biometrics
                    .fingers
                    .iter()
                    .map(|f| match &f.capture {
                        FingerCapture::Captured {
                            format,
                            image,
                            quality,
                        } => FingerWire {
                            position: f.position.code(),
                            captured: Some(CapturedWire {
                                format: *format,
                                image: serde_bytes::Bytes::new(image),
                                quality: *quality,
                            }),
                            exception: None,
                        },
                        FingerCapture::Exception(r) => FingerWire {
                            position: f.position.code(),
                            captured: None,
                            exception: Some(r.to_wire()),
                        },
                    })
                    .collect(),
            },
            reference_versions: self.reference_versions.clone(),
            audit: self
                .audit
                .iter()
                .map(|a| AuditWire {
                    at: a.at,
                    action: a.action.clone(),
                    operator_id: Id16::new(a.operator_id.to_bytes()),
                })
                .collect(),
        };
        cbor::encode(&wire)
    }

    /// Decodes the CBOR plaintext, checking every rule of spec § "Payload" and § "Limits".
    pub fn from_cbor(bytes: &[u8]) -> Result<Payload, Error> {
        // spec § "Limits": a plaintext over MAX_PAYLOAD MUST be rejected before decoding.
        if bytes.len() > MAX_PAYLOAD {
            return Err(Error::BodyTooLong {
                what: "payload",
                len: bytes.len(),
                max: MAX_PAYLOAD,
            });
        }
        let mut value = cbor::decode_value(bytes, "payload")?;
        // The images leave the tree by move before the rest is deserialised from it, which
        // would copy them: their places keep empty byte strings, so that what deserialises
        // (and every error) is what it would have been with them.
        let (face_image, finger_images) = take_images(&mut value);
        let w: PayloadWire<serde_bytes::ByteBuf> = cbor::from_value(&value, "payload")?;
        // spec § "Payload": `v` MUST be 2.
        if w.v != PAYLOAD_VERSION {
            return Err(Error::UnsupportedVersion(w.v));
        }
        let record = record_from_value(w.record)?;
        // spec § "Limits": at most 10 finger entries (checked before building anything).
        if w.biometrics.fingers.len() > MAX_FINGERS {
            return Err(field("fingers", "more than 10 entries"));
        }
        let face = match w.biometrics.face {
            None => None,
            Some(f) => Some(FaceImage {
                format: f.format,
                image: put_back(face_image)?,
                width: f.width,
                height: f.height,
                quality: f.quality,
            }),
        };
        let mut finger_images = finger_images.into_iter();
        let mut fingers = Vec::with_capacity(w.biometrics.fingers.len());
        for f in w.biometrics.fingers {
            // The entries deserialised from the array the images were taken from, one each.
            let image = finger_images.next().flatten();
            let position = FingerPosition::from_code(f.position)
                .ok_or_else(|| field("fingers.position", "not an ISO/IEC 19794-4 code 1–10"))?;
            // spec § "Payload": exactly one of `captured` and `exception` is non-null.
            let capture = match (f.captured, f.exception) {
                (Some(c), None) => FingerCapture::Captured {
                    format: c.format,
                    image: put_back(image)?,
                    quality: c.quality,
                },
                (None, Some(e)) => FingerCapture::Exception(ExceptionReason::from_wire(e)?),
                _ => {
                    return Err(field(
                        "fingers",
                        "exactly one of captured and exception must be set",
                    ))
                }
            };
            fingers.push(Finger { position, capture });
        }
        let payload = Payload {
            bundle_id: BundleId::from_bytes(w.bundle_id.into_array()),
            enrollment_id: EnrollmentId::from_bytes(w.enrollment_id.into_array()),
            device_id: DeviceId::from_bytes(w.device_id.into_array()),
            operator: OperatorRef {
                id: OperatorId::from_bytes(w.operator.id.into_array()),
                name: w.operator.name,
            },
            captured_at: w.captured_at,
            finalised_at: w.finalised_at,
            record,
            biometrics: Biometrics { face, fingers },
            reference_versions: w.reference_versions,
            audit: w
                .audit
                .into_iter()
                .map(|a| AuditEntry {
                    at: a.at,
                    action: a.action,
                    operator_id: OperatorId::from_bytes(a.operator_id.into_array()),
                })
                .collect(),
        };
        payload.check()?;
        Ok(payload)
    }

    /// Checks the rules of spec § "Payload" and § "Limits" that the types cannot express.
    pub fn check(&self) -> Result<(), Error> {
        check_text(&self.operator.name, "operator.name")?;
        if let Some(f) = &self.biometrics.face {
            check_image(&f.image, "face.image")?;
            check_quality(f.quality, "face.quality")?;
            // spec § "Limits": width and height MUST be 1–16384.
            if !(1..=MAX_SIDE).contains(&f.width) || !(1..=MAX_SIDE).contains(&f.height) {
                return Err(field("face", "width or height outside 1–16384"));
            }
        }
        // spec § "Limits": at most 10 finger entries.
        if self.biometrics.fingers.len() > MAX_FINGERS {
            return Err(field("fingers", "more than 10 entries"));
        }
        let mut seen = [false; 11];
        for f in &self.biometrics.fingers {
            // spec § "Payload": at most one entry per position.
            let slot = &mut seen[usize::from(f.position.code())];
            if *slot {
                return Err(field("fingers.position", "duplicate position"));
            }
            *slot = true;
            match &f.capture {
                FingerCapture::Captured { image, quality, .. } => {
                    check_image(image, "fingers.captured.image")?;
                    check_quality(*quality, "fingers.captured.quality")?;
                }
                FingerCapture::Exception(ExceptionReason::Other(text)) => {
                    check_text(text, "exception.detail")?;
                }
                FingerCapture::Exception(_) => {}
            }
        }
        // spec § "Limits": reference versions and audit bounded.
        if self.reference_versions.len() > MAX_REFERENCE_VERSIONS {
            return Err(field("reference_versions", "more than 64 entries"));
        }
        for (name, version) in &self.reference_versions {
            check_text(name, "reference_versions")?;
            check_text(version, "reference_versions")?;
        }
        if self.audit.len() > MAX_AUDIT {
            return Err(field("audit", "more than 256 entries"));
        }
        for a in &self.audit {
            check_text(&a.action, "audit.action")?;
        }
        Ok(())
    }
}
