//! The portrait: detection, checks with reasons, the ICAO token crop, the ISO/IEC 19794-5
//! record. [`PortraitPipeline::check`] runs on every preview frame; [`PortraitPipeline::take`]
//! once, on the frame the operator keeps.

mod checks;
mod detect;
pub mod iso19794_5;
mod token;

pub use checks::{laplacian_variance, FaceCheck, FaceIssue, FaceMetrics, SHARP_WIDTH};
pub use detect::{FaceBox, FaceDetector, ModelError};
pub use iso19794_5::{FaceRecord, RecordError};
pub use token::{encode_jpeg, token_image, EncodeError, TOKEN_HEIGHT, TOKEN_WIDTH};

use image::DynamicImage;

/// The default size budget of the portrait's JPEG: a chip card's DG2 holds ~15–20 KB; the
/// registry keeps a better copy, bounded so that a bundle stays near 400 KB.
pub const JPEG_BUDGET: usize = 60 * 1024;

/// A portrait ready for the bundle.
#[derive(Debug, Clone)]
pub struct Portrait {
    /// The token image, JPEG.
    pub jpeg: Vec<u8>,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Quality 0–100 of the frame it was cut from.
    pub quality: u8,
    /// The same image wrapped in an ISO/IEC 19794-5 record.
    pub record: Vec<u8>,
}

/// Why a frame could not become a portrait.
#[derive(Debug, thiserror::Error)]
pub enum PortraitError {
    /// The frame fails a check; the check says what to fix.
    #[error("the frame is not a usable portrait: {}", .0.issues.iter().map(|i| i.code()).collect::<Vec<_>>().join(", "))]
    Rejected(Box<FaceCheck>),
    /// Encoding failed.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// Detector plus checks, made once per capture screen.
pub struct PortraitPipeline {
    detector: FaceDetector,
}

impl PortraitPipeline {
    /// Loads the face model.
    pub fn new() -> Result<Self, ModelError> {
        Ok(PortraitPipeline {
            detector: FaceDetector::new()?,
        })
    }

    /// Checks one frame: faces, score, what to fix.
    pub fn check(&mut self, frame: &DynamicImage) -> FaceCheck {
        let gray = frame.to_luma8();
        let faces = self.detector.detect(&gray);
        checks::check(&gray, &faces)
    }

    /// Makes the portrait from a frame that passes every check.
    pub fn take(&mut self, frame: &DynamicImage, budget: usize) -> Result<Portrait, PortraitError> {
        let check = self.check(frame);
        let face = match (check.acceptable(), check.face) {
            (true, Some(face)) => face,
            _ => return Err(PortraitError::Rejected(Box::new(check))),
        };
        let token = token_image(&frame.to_rgb8(), &face);
        let jpeg = encode_jpeg(&token, budget)?;
        let record = FaceRecord {
            image_type: iso19794_5::TOKEN_FRONTAL,
            width: TOKEN_WIDTH as u16,
            height: TOKEN_HEIGHT as u16,
            quality: u16::from(check.score),
            jpeg: jpeg.clone(),
        }
        .encode();
        Ok(Portrait {
            jpeg,
            width: TOKEN_WIDTH,
            height: TOKEN_HEIGHT,
            quality: check.score,
            record,
        })
    }
}
