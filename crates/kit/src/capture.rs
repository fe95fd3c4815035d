//! What the capture screens call: the portrait (camera preview, camera shot, imported file)
//! and the fingers (scanner capture, exceptions). Each keeps what it takes in the draft at
//! once, so a crash loses no capture; finalising seals what is kept (`crate::biometrics`).

use ghidanh_biometrics::face::FaceCheck;
use ghidanh_bundle::EnrollmentId;
use ghidanh_sbi::{FingerRequest, SbiError};
use ghidanh_vault::MediaKind;

use crate::biometrics::{self, finger_position, BiometricsSheet, FingerResult};
use crate::devices::{ScannerInfo, CAPTURE_TIMEOUT, REQUESTED_SCORE};
use crate::{Kit, KitError};

impl Kit {
    /// The capture sheet of a draft: what the age rule asks, what is kept.
    pub fn biometrics(&self, id: EnrollmentId) -> Result<BiometricsSheet, KitError> {
        let (vault, _) = self.vault()?;
        let draft = vault.enrollment(id)?;
        biometrics::sheet(&vault, id, &draft.input, crate::kit::today())
    }

    /// Checks a preview frame (encoded JPEG or PNG) without keeping anything.
    pub fn check_portrait(&self, frame: &[u8]) -> Result<FaceCheck, KitError> {
        self.vault()?;
        self.devices
            .with_pipeline(|p| biometrics::check_frame(p, frame))
    }

    /// Makes the portrait from an imported photo (or a camera frame) and keeps it; answers
    /// its score. A frame that fails a check is refused with what to fix.
    pub fn take_portrait(&self, id: EnrollmentId, frame: &[u8]) -> Result<u8, KitError> {
        let (vault, _) = self.vault()?;
        self.refuse_under_six(id, ghidanh_record::Field::Face)?;
        self.devices.with_pipeline(|p| {
            let _one_at_a_time = self.media_lock();
            biometrics::take_portrait(&vault, p, id, frame)
        })
    }

    /// Whether a camera is configured for the live preview.
    pub fn has_camera(&self) -> bool {
        self.devices.has_camera()
    }

    /// One camera frame and its check, for the live preview.
    pub fn camera_preview(&self) -> Result<(Vec<u8>, FaceCheck), KitError> {
        self.vault()?;
        let frame = self.devices.frame()?;
        let check = self
            .devices
            .with_pipeline(|p| biometrics::check_frame(p, &frame))?;
        Ok((frame, check))
    }

    /// Takes the portrait from the camera's next frame.
    pub fn take_portrait_from_camera(&self, id: EnrollmentId) -> Result<u8, KitError> {
        self.refuse_under_six(id, ghidanh_record::Field::Face)?;
        let frame = self.devices.frame()?;
        self.take_portrait(id, &frame)
    }

    /// The kept portrait's token image (JPEG), for display.
    pub fn portrait_jpeg(&self, id: EnrollmentId) -> Result<Option<Vec<u8>>, KitError> {
        let (vault, _) = self.vault()?;
        biometrics::portrait_jpeg(&vault, id)
    }

    /// Looks for a fingerprint scanner on the configured ports.
    pub fn find_scanner(&self) -> Result<Option<ScannerInfo>, KitError> {
        self.vault()?;
        self.block_on(self.devices.discover())
    }

    /// Captures one finger (ISO/IEC 19794-4 position 1–10) from the scanner and keeps it if
    /// it scores higher than the print already kept.
    pub fn capture_finger(&self, id: EnrollmentId, position: u8) -> Result<FingerResult, KitError> {
        let (vault, _) = self.vault()?;
        let position = finger_position(position)?;
        self.refuse_under_six(id, ghidanh_record::Field::Fingerprints)?;
        let request = FingerRequest {
            transaction_id: id.to_string(),
            position: position.get(),
            requested_score: REQUESTED_SCORE,
            timeout: CAPTURE_TIMEOUT,
        };
        let captured = self.block_on(async {
            let scanner = self.devices.scanner().await?;
            scanner
                .capture_finger(&request)
                .await
                .map_err(KitError::Scanner)
        })?;
        let captured = match captured {
            Ok(c) => c,
            Err(e) => {
                // Gone (unplugged, or another scanner took its place): look again next time.
                if matches!(
                    e,
                    KitError::Scanner(
                        SbiError::Unplugged | SbiError::Unreachable(_) | SbiError::WrongKey
                    )
                ) {
                    self.devices.forget_scanner();
                }
                return Err(e);
            }
        };
        // The client verified the signature with the key pinned at discovery.
        let _one_at_a_time = self.media_lock();
        biometrics::keep_finger(&vault, id, &captured.record, position)
    }

    /// Records why a finger cannot be captured (`missing`, `bandaged`, `unreadable`, or
    /// `other` with the operator's words), replacing any print kept for it.
    pub fn except_finger(
        &self,
        id: EnrollmentId,
        position: u8,
        reason: &str,
        detail: &str,
    ) -> Result<BiometricsSheet, KitError> {
        let (vault, _) = self.vault()?;
        let position = finger_position(position)?;
        self.refuse_under_six(id, ghidanh_record::Field::Fingerprints)?;
        let reason = biometrics::exception_reason(reason, detail)?;
        let _one_at_a_time = self.media_lock();
        biometrics::except_finger(&vault, id, position, &reason)?;
        self.biometrics(id)
    }

    /// Removes what is kept for a finger (a print or an exception entered by mistake).
    pub fn clear_finger(
        &self,
        id: EnrollmentId,
        position: u8,
    ) -> Result<BiometricsSheet, KitError> {
        let (vault, _) = self.vault()?;
        let position = finger_position(position)?;
        let _one_at_a_time = self.media_lock();
        vault.remove_media(id, MediaKind::Finger(position))?;
        self.biometrics(id)
    }

    /// Refuses a capture for a child under 6 (no biometrics may be taken), as soon as the
    /// date of birth says so: before the photo is taken, not at finalising.
    fn refuse_under_six(
        &self,
        id: EnrollmentId,
        field: ghidanh_record::Field,
    ) -> Result<(), KitError> {
        // The draft's date of birth decides; the kept images need not be read for it.
        let (vault, _) = self.vault()?;
        let input = vault.enrollment(id)?.input;
        let requirement = biometrics::requirement_of(&input, crate::kit::today());
        if requirement == Some(ghidanh_record::BiometricRequirement::None) {
            return Err(KitError::InvalidRecord(vec![
                ghidanh_record::FieldError::new(field, ghidanh_record::Rule::BiometricsUnderSix),
            ]));
        }
        Ok(())
    }
}

impl From<SbiError> for KitError {
    fn from(e: SbiError) -> Self {
        KitError::Scanner(e)
    }
}
