//! Tauri commands of the capture screens: the portrait (preview, camera shot, imported file)
//! and the fingers. Thin adapters like `commands`: images cross as base64 text.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ghidanh_kit::{
    BiometricRequirement, BiometricsSheet, ExceptionReason, FaceCheck, FingerEntry, FingerResult,
    KitError, Lang, ScannerInfo, FINGER_RETRY_BELOW,
};
use serde::Serialize;
use tauri::State;

use crate::commands::{parse_id, polled, with_kit, CmdResult};
use crate::AppState;

/// One thing to fix, in the operator's language.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IssueDto {
    code: &'static str,
    message: String,
}

/// A portrait check: the score and what to fix (empty: the photo may be taken).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FaceCheckDto {
    score: u8,
    faces: usize,
    issues: Vec<IssueDto>,
}

impl FaceCheckDto {
    fn new(check: &FaceCheck, lang: Lang) -> Self {
        FaceCheckDto {
            score: check.score,
            faces: check.faces,
            issues: check
                .issues
                .iter()
                .map(|i| IssueDto {
                    code: i.code(),
                    message: i.message(lang),
                })
                .collect(),
        }
    }
}

/// One camera frame (JPEG or PNG, base64) and its check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PreviewDto {
    frame: String,
    check: FaceCheckDto,
}

/// One finger on the sheet.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FingerDto {
    position: u8,
    /// `missing` (nothing yet), `captured` or `excepted`.
    state: &'static str,
    quality: Option<u8>,
    reason: Option<&'static str>,
    detail: Option<String>,
}

/// The capture sheet of a draft.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SheetDto {
    /// `none` (under 6), `withRepresentative`, `full`, or null while the date of birth is unknown.
    requirement: Option<&'static str>,
    face_quality: Option<u8>,
    fingers: Vec<FingerDto>,
    has_camera: bool,
    retry_below: u8,
}

impl SheetDto {
    fn new(sheet: BiometricsSheet, has_camera: bool) -> Self {
        SheetDto {
            requirement: sheet.requirement.map(BiometricRequirement::code),
            face_quality: sheet.face,
            fingers: sheet
                .fingers
                .into_iter()
                .map(|(position, entry)| match entry {
                    None => FingerDto {
                        position,
                        state: "missing",
                        quality: None,
                        reason: None,
                        detail: None,
                    },
                    Some(FingerEntry::Captured { quality }) => FingerDto {
                        position,
                        state: "captured",
                        quality: Some(quality),
                        reason: None,
                        detail: None,
                    },
                    Some(FingerEntry::Excepted(reason)) => FingerDto {
                        position,
                        state: "excepted",
                        quality: None,
                        reason: Some(reason.code()),
                        detail: match reason {
                            ExceptionReason::Other(text) => Some(text),
                            _ => None,
                        },
                    },
                })
                .collect(),
            has_camera,
            retry_below: FINGER_RETRY_BELOW,
        }
    }
}

/// What one finger capture did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FingerResultDto {
    position: u8,
    score: u8,
    issues: Vec<IssueDto>,
    kept: bool,
    best: u8,
}

impl FingerResultDto {
    fn new(r: FingerResult, lang: Lang) -> Self {
        FingerResultDto {
            position: r.position,
            score: r.quality.score,
            issues: r
                .quality
                .issues
                .iter()
                .map(|i| IssueDto {
                    code: i.code(),
                    message: i.message(lang),
                })
                .collect(),
            kept: r.kept,
            best: r.best,
        }
    }
}

/// The scanner the kit found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScannerDto {
    make_model: String,
    serial: String,
    status: &'static str,
}

impl From<ScannerInfo> for ScannerDto {
    fn from(s: ScannerInfo) -> Self {
        ScannerDto {
            make_model: s.make_model,
            serial: s.serial,
            status: s.status,
        }
    }
}

fn decode(image: &str) -> Result<Vec<u8>, KitError> {
    // A data URL from a FileReader, or bare base64.
    let data = image.split_once("base64,").map_or(image, |(_, d)| d);
    B64.decode(data.trim())
        .map_err(|_| KitError::Capture(ghidanh_kit::CaptureRule::NotAnImage))
}

fn sheet(kit: &ghidanh_kit::Kit, id: &str) -> Result<SheetDto, KitError> {
    Ok(SheetDto::new(
        kit.biometrics(parse_id(id)?)?,
        kit.has_camera(),
    ))
}

/// The capture sheet of a draft.
#[tauri::command]
pub async fn biometrics(state: State<'_, AppState>, id: String) -> CmdResult<SheetDto> {
    polled(state, move |kit, _| sheet(kit, &id)).await
}

/// Checks a photo without keeping it.
#[tauri::command]
pub async fn check_portrait(state: State<'_, AppState>, image: String) -> CmdResult<FaceCheckDto> {
    with_kit(state, move |kit, lang| {
        Ok(FaceCheckDto::new(
            &kit.check_portrait(&decode(&image)?)?,
            lang,
        ))
    })
    .await
}

/// Keeps an imported photo as the portrait; refused with what to fix if a check fails.
#[tauri::command]
pub async fn import_portrait(
    state: State<'_, AppState>,
    id: String,
    image: String,
) -> CmdResult<SheetDto> {
    with_kit(state, move |kit, _| {
        kit.take_portrait(parse_id(&id)?, &decode(&image)?)?;
        sheet(kit, &id)
    })
    .await
}

/// One camera frame and its check (polled by the live preview).
#[tauri::command]
pub async fn camera_preview(state: State<'_, AppState>) -> CmdResult<PreviewDto> {
    polled(state, |kit, lang| {
        let (frame, check) = kit.camera_preview()?;
        Ok(PreviewDto {
            frame: B64.encode(frame),
            check: FaceCheckDto::new(&check, lang),
        })
    })
    .await
}

/// Takes the portrait from the camera.
#[tauri::command]
pub async fn take_portrait_from_camera(
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<SheetDto> {
    with_kit(state, move |kit, _| {
        kit.take_portrait_from_camera(parse_id(&id)?)?;
        sheet(kit, &id)
    })
    .await
}

/// The kept portrait's token image (JPEG, base64), or null.
#[tauri::command]
pub async fn portrait_image(state: State<'_, AppState>, id: String) -> CmdResult<Option<String>> {
    polled(state, move |kit, _| {
        Ok(kit.portrait_jpeg(parse_id(&id)?)?.map(|j| B64.encode(j)))
    })
    .await
}

/// Looks for a fingerprint scanner; null when none answers.
#[tauri::command]
pub async fn find_scanner(state: State<'_, AppState>) -> CmdResult<Option<ScannerDto>> {
    with_kit(state, |kit, _| Ok(kit.find_scanner()?.map(Into::into))).await
}

/// Captures one finger from the scanner; the better of this and the kept print is kept.
#[tauri::command]
pub async fn capture_finger(
    state: State<'_, AppState>,
    id: String,
    position: u8,
) -> CmdResult<FingerResultDto> {
    with_kit(state, move |kit, lang| {
        Ok(FingerResultDto::new(
            kit.capture_finger(parse_id(&id)?, position)?,
            lang,
        ))
    })
    .await
}

/// Records why a finger cannot be captured.
#[tauri::command]
pub async fn except_finger(
    state: State<'_, AppState>,
    id: String,
    position: u8,
    reason: String,
    detail: String,
) -> CmdResult<SheetDto> {
    with_kit(state, move |kit, _| {
        kit.except_finger(parse_id(&id)?, position, &reason, &detail)?;
        sheet(kit, &id)
    })
    .await
}

/// Removes what is kept for a finger.
#[tauri::command]
pub async fn clear_finger(
    state: State<'_, AppState>,
    id: String,
    position: u8,
) -> CmdResult<SheetDto> {
    with_kit(state, move |kit, _| {
        kit.clear_finger(parse_id(&id)?, position)?;
        sheet(kit, &id)
    })
    .await
}
