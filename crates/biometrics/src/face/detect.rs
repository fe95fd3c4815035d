//! Finding faces: SeetaFace's funnel-structured cascade (the `rustface` crate), with its model
//! compiled in.

use image::GrayImage;
use rustface::{Detector, ImageData};

/// The SeetaFace frontal model, as shipped in the `rustface` crate package.
const MODEL: &[u8] = include_bytes!("../../model/seeta_fd_frontal_v1.0.bin");

/// A face found in an image, in that image's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// The cascade's confidence (higher is surer).
    pub score: f64,
}

impl FaceBox {
    /// The centre, in pixels.
    pub fn centre(&self) -> (f64, f64) {
        (
            f64::from(self.x) + f64::from(self.width) / 2.0,
            f64::from(self.y) + f64::from(self.height) / 2.0,
        )
    }
}

/// Why no detector could be made.
#[derive(Debug, thiserror::Error)]
#[error("the face model compiled into the program cannot be read: {0}")]
pub struct ModelError(#[from] std::io::Error);

/// A face detector, made once and reused: reading the model takes a few milliseconds.
pub struct FaceDetector {
    inner: Box<dyn Detector>,
}

/// Faces below this width (pixels, after the detector's own downscaling) are not looked for.
const MIN_FACE: u32 = 40;

impl FaceDetector {
    /// Loads the compiled-in model.
    pub fn new() -> Result<Self, ModelError> {
        let model = rustface::read_model(MODEL)?;
        let mut inner = rustface::create_detector_with_model(model);
        inner.set_min_face_size(MIN_FACE);
        // SeetaFace's own example values: few false faces on portraits, a fast scan.
        inner.set_score_thresh(2.0);
        inner.set_pyramid_scale_factor(0.8);
        inner.set_slide_window_step(4, 4);
        Ok(FaceDetector { inner })
    }

    /// Every face in a grayscale image, surest first.
    pub fn detect(&mut self, gray: &GrayImage) -> Vec<FaceBox> {
        let (w, h) = gray.dimensions();
        if w < MIN_FACE || h < MIN_FACE {
            return Vec::new();
        }
        let data = ImageData::new(gray.as_raw(), w, h);
        let mut faces: Vec<FaceBox> = self
            .inner
            .detect(&data)
            .into_iter()
            .map(|f| {
                let b = f.bbox();
                // The cascade may place a box partly outside the image: clip it.
                let x = b.x().max(0) as u32;
                let y = b.y().max(0) as u32;
                let right = (i64::from(b.x()) + i64::from(b.width())).clamp(0, i64::from(w)) as u32;
                let bottom =
                    (i64::from(b.y()) + i64::from(b.height())).clamp(0, i64::from(h)) as u32;
                FaceBox {
                    x: x.min(w),
                    y: y.min(h),
                    width: right.saturating_sub(x),
                    height: bottom.saturating_sub(y),
                    score: f.score(),
                }
            })
            .filter(|f| f.width > 0 && f.height > 0)
            .collect();
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        faces
    }
}
