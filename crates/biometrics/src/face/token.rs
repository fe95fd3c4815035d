//! The token portrait: the frame cut and scaled to ISO/IEC 19794-5 token proportions
//! (width : height = 3 : 4, eyes a quarter of the width apart, eye line 40 % down from the
//! top), then JPEG-encoded within a size budget.
//!
//! The detector gives a box, not eye positions: the eyes are taken at 38 % down the box,
//! 40 % of its width apart (SeetaFace boxes run from the brows to the chin).

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{Rgb, RgbImage};

use super::detect::FaceBox;

/// Width of the token image, pixels (eye distance 90 px: over ISO's 60 px minimum).
pub const TOKEN_WIDTH: u32 = 360;
/// Height of the token image, pixels.
pub const TOKEN_HEIGHT: u32 = 480;

/// Cuts the token out of `frame` around `face`, filling what lies beyond the frame's edge
/// with the frame's mean colour.
pub fn token_image(frame: &RgbImage, face: &FaceBox) -> RgbImage {
    let eye_distance = 0.40 * f64::from(face.width);
    let eye_y = f64::from(face.y) + 0.38 * f64::from(face.height);
    let (cx, _) = face.centre();
    let width = eye_distance / 0.25;
    let height = width * 4.0 / 3.0;
    let left = (cx - width / 2.0).round() as i64;
    let top = (eye_y - 0.40 * height).round() as i64;
    let (cw, ch) = (
        width.round().max(1.0) as u32,
        height.round().max(1.0) as u32,
    );

    let mut cut = RgbImage::from_pixel(cw, ch, mean_colour(frame));
    let (fw, fh) = frame.dimensions();
    for y in 0..ch {
        let sy = top + i64::from(y);
        if sy < 0 || sy >= i64::from(fh) {
            continue;
        }
        for x in 0..cw {
            let sx = left + i64::from(x);
            if sx < 0 || sx >= i64::from(fw) {
                continue;
            }
            cut.put_pixel(x, y, *frame.get_pixel(sx as u32, sy as u32));
        }
    }
    image::imageops::resize(&cut, TOKEN_WIDTH, TOKEN_HEIGHT, FilterType::CatmullRom)
}

fn mean_colour(frame: &RgbImage) -> Rgb<u8> {
    let n = u64::from(frame.width()) * u64::from(frame.height());
    if n == 0 {
        return Rgb([255, 255, 255]);
    }
    let mut sum = [0u64; 3];
    for p in frame.pixels() {
        for (s, c) in sum.iter_mut().zip(p.0) {
            *s += u64::from(c);
        }
    }
    Rgb(sum.map(|s| (s / n) as u8))
}

/// The JPEG would not fit the budget even at the lowest quality tried.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// Over budget at every quality.
    #[error("the portrait does not fit {budget} bytes even at JPEG quality {quality}")]
    OverBudget {
        /// The budget, bytes.
        budget: usize,
        /// The lowest quality tried.
        quality: u8,
    },
    /// The encoder failed.
    #[error("JPEG encoding failed: {0}")]
    Image(#[from] image::ImageError),
}

/// JPEG qualities tried, best first; under 50 a face's detail is gone.
const QUALITIES: [u8; 5] = [90, 80, 70, 60, 50];

/// Encodes at the best quality that fits `budget` bytes.
pub fn encode_jpeg(img: &RgbImage, budget: usize) -> Result<Vec<u8>, EncodeError> {
    for q in QUALITIES {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, q).encode_image(img)?;
        if out.len() <= budget {
            return Ok(out);
        }
    }
    Err(EncodeError::OverBudget {
        budget,
        quality: QUALITIES[QUALITIES.len() - 1],
    })
}
