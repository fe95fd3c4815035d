//! The biometrics of a draft: how the portrait, the prints and the exceptions are kept in the
//! vault, the capture sheet the app shows, and what finalising seals (with the age rule).
//!
//! One place for the stored formats: the vault's `media` rows hold, per enrollment, the
//! ISO/IEC 19794-5 face record (`iso19794_5`), an ISO/IEC 19794-4 finger image record per
//! finger (`iso19794_4`), or a finger's exception (`exception`: the reason's code, a newline,
//! the operator's words for "other"). Records, not bare images: the quality and the capture
//! time travel inside them, and what is sealed is exactly what was kept.

use ghidanh_biometrics::face::{FaceCheck, FaceRecord, PortraitError, PortraitPipeline};
use ghidanh_biometrics::finger::iso19794_4::FingerImageRecord;
use ghidanh_biometrics::finger::quality::{finger_quality, FingerQuality};
use ghidanh_bundle::{
    Biometrics, ExceptionReason, FaceFormat, FaceImage, Finger, FingerCapture, FingerFormat,
    FingerPosition as SealedPosition,
};
use ghidanh_record::{
    forbidden_biometrics, missing_biometrics, BiometricRequirement, EnrollmentInput, Field,
    PartialDate,
};
use ghidanh_vault::{FingerPosition, MediaKind, StoredMedia, Vault};
use image::DynamicImage;

use crate::{CaptureRule, KitError};

const FACE_FORMAT: &str = "iso19794_5";
const FINGER_FORMAT: &str = "iso19794_4";
const EXCEPTION_FORMAT: &str = "exception";

/// Longest "other" reason, bytes (the bundle's short-text limit, spec § "Limits").
const MAX_DETAIL: usize = 1024;

/// Below this score the app asks for another try (the print is still kept as the best so far).
pub const FINGER_RETRY_BELOW: u8 = 40;

/// Largest frame the kit decodes (a 24-megapixel camera's photo is ~6000 × 4000).
const MAX_FRAME_SIDE: u32 = 10_000;
/// Largest side of a finger image (a 500 ppi print is a few hundred pixels).
const MAX_FINGER_SIDE: u32 = 2_000;
/// Largest encoded frame accepted, bytes.
pub const MAX_FRAME_BYTES: usize = 20 * 1024 * 1024;

/// What one finger has on the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FingerEntry {
    /// A print is kept, with its score.
    Captured {
        /// 0–100.
        quality: u8,
    },
    /// No print, and why.
    Excepted(ExceptionReason),
}

/// The capture sheet of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BiometricsSheet {
    /// What the age rule asks for; `None` until the date of birth reads as a date.
    pub requirement: Option<BiometricRequirement>,
    /// The kept portrait's score, if one is kept.
    pub face: Option<u8>,
    /// The ten fingers in ISO/IEC 19794-4 order, each with what is kept (`None`: nothing yet).
    pub fingers: Fingers,
}

/// Each finger position (1–10) with what is kept for it.
pub type Fingers = Vec<(u8, Option<FingerEntry>)>;

/// What a capture of one finger did.
#[derive(Debug, Clone, PartialEq)]
pub struct FingerResult {
    /// ISO/IEC 19794-4 position.
    pub position: u8,
    /// This capture's score and what drags it down.
    pub quality: FingerQuality,
    /// Whether this capture is now the kept one (false: an earlier one scored higher).
    pub kept: bool,
    /// The score of the print kept for this finger.
    pub best: u8,
}

/// A finger position from the app's number.
pub fn finger_position(n: u8) -> Result<FingerPosition, KitError> {
    FingerPosition::new(n).ok_or(KitError::Capture(CaptureRule::UnknownFinger))
}

/// Removes every image and exception of a draft.
pub fn drop_all(vault: &Vault, id: ghidanh_bundle::EnrollmentId) -> Result<(), KitError> {
    for m in vault.all_media(id)? {
        vault.remove_media(id, m.kind)?;
    }
    Ok(())
}

/// What the age rule asks of a draft as typed so far.
pub fn requirement_of(input: &EnrollmentInput, today: time::Date) -> Option<BiometricRequirement> {
    PartialDate::parse(&input.date_of_birth, Field::DateOfBirth, today)
        .ok()
        .map(|d| BiometricRequirement::for_age(d.age_on(today)))
}

/// Decodes a frame (camera or imported file) with limits: the bytes decide the format, not
/// a file name, and a hostile header cannot make the kit allocate gigabytes.
pub fn decode_frame(bytes: &[u8]) -> Result<DynamicImage, KitError> {
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(KitError::Capture(CaptureRule::TooLarge));
    }
    let format =
        image::guess_format(bytes).map_err(|_| KitError::Capture(CaptureRule::NotAnImage))?;
    if !matches!(format, image::ImageFormat::Jpeg | image::ImageFormat::Png) {
        return Err(KitError::Capture(CaptureRule::NotJpegOrPng));
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_FRAME_SIDE);
    limits.max_image_height = Some(MAX_FRAME_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => KitError::Capture(CaptureRule::TooLarge),
        _ => KitError::Capture(CaptureRule::Unreadable),
    })
}

/// Checks a preview frame.
pub fn check_frame(pipeline: &mut PortraitPipeline, bytes: &[u8]) -> Result<FaceCheck, KitError> {
    Ok(pipeline.check(&decode_frame(bytes)?))
}

/// Makes the portrait from a frame and keeps it for the draft; answers its score.
pub fn take_portrait(
    vault: &Vault,
    pipeline: &mut PortraitPipeline,
    id: ghidanh_bundle::EnrollmentId,
    bytes: &[u8],
) -> Result<u8, KitError> {
    let frame = decode_frame(bytes)?;
    let portrait = match pipeline.take(&frame, ghidanh_biometrics::face::JPEG_BUDGET) {
        Ok(p) => p,
        Err(PortraitError::Rejected(check)) => return Err(KitError::PortraitRefused(check)),
        Err(PortraitError::Encode(e)) => return Err(KitError::Internal(e.to_string())),
    };
    vault.store_media(id, MediaKind::Portrait, FACE_FORMAT, &portrait.record)?;
    Ok(portrait.quality)
}

/// The kept portrait's token image (JPEG), for display.
pub fn portrait_jpeg(
    vault: &Vault,
    id: ghidanh_bundle::EnrollmentId,
) -> Result<Option<Vec<u8>>, KitError> {
    match vault.media(id, MediaKind::Portrait)? {
        Some((format, bytes)) if format == FACE_FORMAT => Ok(Some(face_record(&bytes)?.jpeg)),
        Some(_) => Err(KitError::VaultCorrupt("portrait format".into())),
        None => Ok(None),
    }
}

/// Keeps a finger's print if it scores higher than the one kept (a retry never loses a
/// better earlier print). The score is ours, from the image: a device's own score is not
/// comparable across devices.
pub fn keep_finger(
    vault: &Vault,
    id: ghidanh_bundle::EnrollmentId,
    record: &[u8],
    expected: FingerPosition,
) -> Result<FingerResult, KitError> {
    let parsed = FingerImageRecord::parse(record)
        .map_err(|_| KitError::Capture(CaptureRule::NotFingerRecord))?;
    if parsed.position != expected.get() {
        return Err(KitError::Capture(CaptureRule::WrongFinger));
    }
    // The scanner is outside bytes too: a hostile one must not make the kit allocate gigabytes.
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(&parsed.png), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_FINGER_SIDE);
    limits.max_image_height = Some(MAX_FINGER_SIDE);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|_| KitError::Capture(CaptureRule::NotFingerRecord))?
        .to_luma8();
    let quality = finger_quality(&image);
    let earlier = match vault.media(id, MediaKind::Finger(expected))? {
        Some((format, bytes)) if format == FINGER_FORMAT => Some(finger_record(&bytes)?.quality),
        _ => None,
    };
    let kept = earlier.is_none_or(|q| quality.score > q);
    if kept {
        // The record carries our score, so the sealed quality is the one the operator saw.
        let ours = FingerImageRecord {
            quality: quality.score,
            ..parsed
        };
        vault.store_media(
            id,
            MediaKind::Finger(expected),
            FINGER_FORMAT,
            &ours.encode(),
        )?;
    }
    let best = match earlier {
        Some(q) if !kept => q,
        _ => quality.score,
    };
    Ok(FingerResult {
        position: expected.get(),
        quality,
        kept,
        best,
    })
}

/// Records that a finger cannot be captured, replacing any print kept for it.
pub fn except_finger(
    vault: &Vault,
    id: ghidanh_bundle::EnrollmentId,
    position: FingerPosition,
    reason: &ExceptionReason,
) -> Result<(), KitError> {
    let mut bytes = reason.code().as_bytes().to_vec();
    if let ExceptionReason::Other(text) = reason {
        bytes.push(b'\n');
        bytes.extend_from_slice(text.as_bytes());
    }
    vault.store_media(id, MediaKind::Finger(position), EXCEPTION_FORMAT, &bytes)?;
    Ok(())
}

/// An exception reason from the app's code and the operator's words (for `other`), checked.
pub fn exception_reason(code: &str, detail: &str) -> Result<ExceptionReason, KitError> {
    let detail = detail.trim();
    match code {
        "missing" => Ok(ExceptionReason::Missing),
        "unreadable" => Ok(ExceptionReason::Unreadable),
        "bandaged" => Ok(ExceptionReason::Bandaged),
        "other" if detail.is_empty() => Err(KitError::Capture(CaptureRule::DetailRequired)),
        "other" if detail.len() > MAX_DETAIL => Err(KitError::Capture(CaptureRule::DetailTooLong)),
        "other" => Ok(ExceptionReason::Other(detail.to_owned())),
        _ => Err(KitError::Capture(CaptureRule::UnknownReason)),
    }
}

fn read_exception(bytes: &[u8]) -> Result<ExceptionReason, KitError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| KitError::VaultCorrupt("exception".into()))?;
    let (code, detail) = text.split_once('\n').unwrap_or((text, ""));
    exception_reason(code, detail).map_err(|_| KitError::VaultCorrupt("exception".into()))
}

fn face_record(bytes: &[u8]) -> Result<FaceRecord, KitError> {
    FaceRecord::parse(bytes).map_err(|e| KitError::VaultCorrupt(e.to_string()))
}

fn finger_record(bytes: &[u8]) -> Result<FingerImageRecord, KitError> {
    FingerImageRecord::parse(bytes).map_err(|e| KitError::VaultCorrupt(e.to_string()))
}

/// Reads what is kept for a draft.
fn entries(media: &[StoredMedia]) -> Result<(Option<u8>, Fingers), KitError> {
    let mut face = None;
    let mut fingers: Fingers = (1..=10).map(|p| (p, None)).collect();
    for m in media {
        match (m.kind, m.format.as_str()) {
            (MediaKind::Portrait, FACE_FORMAT) => face = Some(face_quality(&m.bytes)?),
            (MediaKind::Finger(p), FINGER_FORMAT) => {
                fingers[usize::from(p.get() - 1)].1 = Some(FingerEntry::Captured {
                    quality: finger_record(&m.bytes)?.quality,
                })
            }
            (MediaKind::Finger(p), EXCEPTION_FORMAT) => {
                fingers[usize::from(p.get() - 1)].1 =
                    Some(FingerEntry::Excepted(read_exception(&m.bytes)?))
            }
            _ => return Err(KitError::VaultCorrupt("media format".into())),
        }
    }
    Ok((face, fingers))
}

fn face_quality(bytes: &[u8]) -> Result<u8, KitError> {
    Ok(u8::try_from(face_record(bytes)?.quality.min(100)).unwrap_or(100))
}

/// The capture sheet of a draft.
pub fn sheet(
    vault: &Vault,
    id: ghidanh_bundle::EnrollmentId,
    input: &EnrollmentInput,
    today: time::Date,
) -> Result<BiometricsSheet, KitError> {
    let (face, fingers) = entries(&vault.all_media(id)?)?;
    Ok(BiometricsSheet {
        requirement: requirement_of(input, today),
        face,
        fingers,
    })
}

/// What finalising seals: every kept record, after the age rule (none under 6; from 6 the
/// portrait and ten fingers, each a print or an exception). Errors name the field.
pub fn sealed(
    vault: &Vault,
    id: ghidanh_bundle::EnrollmentId,
    requirement: BiometricRequirement,
) -> Result<Biometrics, KitError> {
    let mut biometrics = Biometrics::default();
    for m in vault.all_media(id)? {
        match (m.kind, m.format.as_str()) {
            (MediaKind::Portrait, FACE_FORMAT) => {
                let record = face_record(&m.bytes)?;
                biometrics.face = Some(FaceImage {
                    format: FaceFormat::Iso19794_5,
                    width: u32::from(record.width),
                    height: u32::from(record.height),
                    quality: u8::try_from(record.quality.min(100)).unwrap_or(100),
                    image: m.bytes,
                });
            }
            (MediaKind::Finger(p), format) => {
                let position = SealedPosition::from_code(p.get())
                    .ok_or_else(|| KitError::VaultCorrupt("finger position".into()))?;
                let capture = match format {
                    FINGER_FORMAT => FingerCapture::Captured {
                        format: FingerFormat::Iso19794_4,
                        quality: finger_record(&m.bytes)?.quality,
                        image: m.bytes,
                    },
                    EXCEPTION_FORMAT => FingerCapture::Exception(read_exception(&m.bytes)?),
                    _ => return Err(KitError::VaultCorrupt("media format".into())),
                };
                biometrics.fingers.push(Finger { position, capture });
            }
            _ => return Err(KitError::VaultCorrupt("media format".into())),
        }
    }
    let taken = biometrics.taken();
    let mut errors = forbidden_biometrics(requirement, &taken);
    errors.extend(missing_biometrics(requirement, &taken));
    if errors.is_empty() {
        Ok(biometrics)
    } else {
        Err(KitError::InvalidRecord(errors))
    }
}
