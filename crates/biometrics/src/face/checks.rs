//! What makes a portrait usable, measured on the image: one face, centred, large enough,
//! well exposed, sharp, on an even background (ICAO 9303 part 3 / ISO/IEC 19794-5 in spirit).
//!
//! Each check gives a factor in 0–1 that falls continuously with its measure; the score is
//! 100 × their product, and a check below [`FLAG`] is reported as an issue the operator can
//! act on ("move closer", "more light"). The thresholds are this module's alone.

use ghidanh_record::Lang;
use image::imageops::FilterType;
use image::GrayImage;

use super::detect::FaceBox;

/// A factor under this is reported as an issue.
const FLAG: f64 = 0.5;

/// Something the operator must fix before the portrait is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "code", rename_all = "camelCase")]
pub enum FaceIssue {
    /// No face was found.
    NoFace,
    /// More than one face was found.
    SeveralFaces {
        /// How many.
        count: usize,
    },
    /// The face is far from the middle of the frame.
    OffCentre,
    /// The face is too small in the frame.
    TooSmall,
    /// The face is too dark.
    TooDark,
    /// The face is washed out.
    Overexposed,
    /// The face is not sharp.
    Blurred,
    /// The background behind the person is not plain.
    UnevenBackground,
}

impl FaceIssue {
    /// A stable machine code (also the UI's translation key).
    pub fn code(&self) -> &'static str {
        match self {
            FaceIssue::NoFace => "noFace",
            FaceIssue::SeveralFaces { .. } => "severalFaces",
            FaceIssue::OffCentre => "offCentre",
            FaceIssue::TooSmall => "tooSmall",
            FaceIssue::TooDark => "tooDark",
            FaceIssue::Overexposed => "overexposed",
            FaceIssue::Blurred => "blurred",
            FaceIssue::UnevenBackground => "unevenBackground",
        }
    }

    /// What the operator reads, and what to do about it.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (FaceIssue::NoFace, Lang::Vi) => {
                "Không thấy khuôn mặt: người được chụp nhìn thẳng vào máy ảnh.".into()
            }
            (FaceIssue::NoFace, Lang::En) => {
                "No face found: the person should look straight at the camera.".into()
            }
            (FaceIssue::SeveralFaces { count }, Lang::Vi) => {
                format!("Thấy {count} khuôn mặt: chỉ một người trong khung hình.")
            }
            (FaceIssue::SeveralFaces { count }, Lang::En) => {
                format!("{count} faces found: only one person in the frame.")
            }
            (FaceIssue::OffCentre, Lang::Vi) => "Khuôn mặt lệch khỏi giữa khung hình.".into(),
            (FaceIssue::OffCentre, Lang::En) => "The face is off-centre.".into(),
            (FaceIssue::TooSmall, Lang::Vi) => "Khuôn mặt quá nhỏ: đưa máy ảnh lại gần hơn.".into(),
            (FaceIssue::TooSmall, Lang::En) => {
                "The face is too small: move the camera closer.".into()
            }
            (FaceIssue::TooDark, Lang::Vi) => "Ảnh quá tối: thêm ánh sáng phía trước mặt.".into(),
            (FaceIssue::TooDark, Lang::En) => "Too dark: add light in front of the face.".into(),
            (FaceIssue::Overexposed, Lang::Vi) => {
                "Ảnh quá sáng: tránh đèn hoặc nắng chiếu thẳng.".into()
            }
            (FaceIssue::Overexposed, Lang::En) => {
                "Overexposed: avoid direct lamp or sunlight.".into()
            }
            (FaceIssue::Blurred, Lang::Vi) => "Ảnh bị mờ: giữ yên máy ảnh và chụp lại.".into(),
            (FaceIssue::Blurred, Lang::En) => "Blurred: hold the camera still and retake.".into(),
            (FaceIssue::UnevenBackground, Lang::Vi) => {
                "Phông nền không đều: chụp trước tường hoặc phông trơn.".into()
            }
            (FaceIssue::UnevenBackground, Lang::En) => {
                "Uneven background: use a plain wall or screen.".into()
            }
        }
    }
}

/// The measures behind the score, for the UI's detail view and for tuning.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceMetrics {
    /// Mean luminance of the face, 0–255.
    pub brightness: f64,
    /// Share of the face's pixels clipped to white (≥ 250).
    pub clipped: f64,
    /// Variance of the Laplacian of the face scaled to [`SHARP_WIDTH`] pixels wide.
    pub sharpness: f64,
    /// Distance of the face's centre from the frame's, as a share of the frame's width.
    pub offset: f64,
    /// The face's width as a share of the frame's.
    pub size: f64,
    /// Standard deviation of the luminance of the background above and beside the face.
    pub background_spread: f64,
}

/// The face is scaled to this width before its sharpness is measured, so a large and a
/// small photo of the same face measure alike.
pub const SHARP_WIDTH: u32 = 128;

/// The check of one frame: the face it found, the score and what to fix.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceCheck {
    /// The face the portrait would be cut around (the surest one).
    #[serde(skip)]
    pub face: Option<FaceBox>,
    /// Faces found.
    pub faces: usize,
    /// 0–100; 0 without exactly one face.
    pub score: u8,
    /// What to fix, most important first; empty when the portrait may be taken.
    pub issues: Vec<FaceIssue>,
    /// The measures, when there was a face to measure.
    pub metrics: Option<FaceMetrics>,
}

impl FaceCheck {
    /// The portrait may be taken.
    pub fn acceptable(&self) -> bool {
        self.issues.is_empty()
    }
}

/// Falls linearly from 1 at `good` to 0 at `bad` (either side of `good`).
fn ramp(value: f64, good: f64, bad: f64) -> f64 {
    if good == bad {
        return if value == good { 1.0 } else { 0.0 };
    }
    ((value - bad) / (good - bad)).clamp(0.0, 1.0)
}

/// Checks one frame given the faces found in it.
pub fn check(gray: &GrayImage, faces: &[FaceBox]) -> FaceCheck {
    let Some(face) = faces.first().copied() else {
        return FaceCheck {
            face: None,
            faces: 0,
            score: 0,
            issues: vec![FaceIssue::NoFace],
            metrics: None,
        };
    };
    let metrics = measure(gray, &face);
    let factors = [
        (
            FaceIssue::TooDark,
            ramp(metrics.brightness, 90.0, 35.0).min(1.0),
        ),
        (
            FaceIssue::Overexposed,
            ramp(metrics.brightness, 185.0, 235.0).min(ramp(metrics.clipped, 0.05, 0.30)),
        ),
        (FaceIssue::Blurred, ramp(metrics.sharpness, 120.0, 25.0)),
        (FaceIssue::OffCentre, ramp(metrics.offset, 0.08, 0.25)),
        (FaceIssue::TooSmall, ramp(metrics.size, 0.30, 0.12)),
        (
            FaceIssue::UnevenBackground,
            ramp(metrics.background_spread, 22.0, 60.0),
        ),
    ];
    let mut issues = Vec::new();
    if faces.len() > 1 {
        issues.push(FaceIssue::SeveralFaces { count: faces.len() });
    }
    let mut product = 1.0;
    for (issue, factor) in factors {
        product *= 0.25 + 0.75 * factor;
        if factor < FLAG {
            issues.push(issue);
        }
    }
    let score = if faces.len() > 1 {
        0
    } else {
        (100.0 * product).round().clamp(0.0, 100.0) as u8
    };
    FaceCheck {
        face: Some(face),
        faces: faces.len(),
        score,
        issues,
        metrics: Some(metrics),
    }
}

fn measure(gray: &GrayImage, face: &FaceBox) -> FaceMetrics {
    let (w, h) = gray.dimensions();
    let patch = image::imageops::crop_imm(gray, face.x, face.y, face.width, face.height).to_image();
    let n = f64::from(patch.width() * patch.height()).max(1.0);
    let brightness = patch.pixels().map(|p| f64::from(p.0[0])).sum::<f64>() / n;
    let clipped = patch.pixels().filter(|p| p.0[0] >= 250).count() as f64 / n;

    let scaled_h = (u64::from(face.height) * u64::from(SHARP_WIDTH) / u64::from(face.width.max(1)))
        .clamp(8, 4096) as u32;
    let scaled = image::imageops::resize(&patch, SHARP_WIDTH, scaled_h, FilterType::Triangle);
    let sharpness = laplacian_variance(&scaled);

    let (cx, _) = face.centre();
    let offset = (cx - f64::from(w) / 2.0).abs() / f64::from(w.max(1));
    let size = f64::from(face.width) / f64::from(w.max(1));
    let background_spread = background_spread(gray, face, h);
    FaceMetrics {
        brightness,
        clipped,
        sharpness,
        offset,
        size,
        background_spread,
    }
}

/// Variance of the 4-neighbour Laplacian: large on crisp edges, small once blurred.
pub fn laplacian_variance(img: &GrayImage) -> f64 {
    let (w, h) = img.dimensions();
    if w < 3 || h < 3 {
        return 0.0;
    }
    let at = |x: u32, y: u32| f64::from(img.get_pixel(x, y).0[0]);
    let (mut sum, mut sum2, mut n) = (0.0, 0.0, 0.0);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let l = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * at(x, y);
            sum += l;
            sum2 += l * l;
            n += 1.0;
        }
    }
    let mean = sum / n;
    sum2 / n - mean * mean
}

/// Spread of the luminance around the head: the strips left and right of the face and the
/// band above it, where a plain background should be. The person's shoulders, below the
/// face, are not background.
fn background_spread(gray: &GrayImage, face: &FaceBox, h: u32) -> f64 {
    let (w, _) = gray.dimensions();
    let margin = face.width / 4;
    let bottom = (face.y + face.height).min(h);
    let left_end = face.x.saturating_sub(margin);
    let right_start = (face.x + face.width + margin).min(w);
    let top_end = face.y.saturating_sub(face.height / 4);
    let (mut sum, mut sum2, mut n) = (0.0, 0.0, 0.0);
    let mut add = |x: u32, y: u32| {
        let v = f64::from(gray.get_pixel(x, y).0[0]);
        sum += v;
        sum2 += v * v;
        n += 1.0;
    };
    // Every other pixel: the spread of a strip needs no more.
    for y in (0..bottom).step_by(2) {
        for x in (0..w).step_by(2) {
            if y < top_end || x < left_end || x >= right_start {
                add(x, y);
            }
        }
    }
    if n < 16.0 {
        // No background in the frame at all: the face fills it, nothing to judge.
        return 0.0;
    }
    let mean = sum / n;
    (sum2 / n - mean * mean).max(0.0).sqrt()
}
