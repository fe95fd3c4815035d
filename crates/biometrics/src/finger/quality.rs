//! A fingerprint quality score 0–100 in the spirit of NFIQ 2: per 16 × 16 block, the
//! orientation certainty of the gradient (how well one ridge direction explains it) and the
//! ridge clarity (the local grey-level gradient: steep ridge–valley edges), averaged over the blocks the finger touches, times the share
//! of the image the finger covers.

use image::GrayImage;

/// Block side, pixels (about two ridge periods at 500 dpi).
const BLOCK: u32 = 16;
/// A block whose grey levels spread less than this is background, not finger.
const FOREGROUND_STD: f64 = 12.0;
/// Root-mean-square grey-level gradient (central differences) of a crisp, well-pressed
/// ridge pattern; blur and faint contact lower it first.
const CLEAR_GRADIENT: f64 = 60.0;

/// A score and what drags it down.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FingerQuality {
    /// 0–100, NFIQ 2's scale (higher is better).
    pub score: u8,
    /// Share of blocks the finger touches.
    pub coverage: f64,
    /// Mean orientation certainty over those blocks, 0–1.
    pub certainty: f64,
    /// Mean ridge clarity over those blocks, 0–1.
    pub clarity: f64,
    /// What the operator can do something about.
    pub issues: Vec<FingerIssue>,
}

/// Why a print is poor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FingerIssue {
    /// Too little of the finger touches the glass: press flatter.
    SmallContact,
    /// Ridges faint: press harder, or moisten a dry finger.
    LowContrast,
    /// Ridge directions unclear: clean the glass, hold still.
    UnclearRidges,
}

impl FingerIssue {
    /// A stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            FingerIssue::SmallContact => "smallContact",
            FingerIssue::LowContrast => "lowContrast",
            FingerIssue::UnclearRidges => "unclearRidges",
        }
    }

    /// What the operator reads, and what to do about it.
    pub fn message(self, lang: ghidanh_record::Lang) -> String {
        let vi = lang == ghidanh_record::Lang::Vi;
        let (v, e) = match self {
            FingerIssue::SmallContact => (
                "Ngón tay chạm ít vào mặt kính: đặt ngón phẳng, phủ kín mặt kính.",
                "Too little of the finger touches the glass: lay it flat over the glass.",
            ),
            FingerIssue::LowContrast => (
                "Vân tay mờ: ấn mạnh hơn, hoặc làm ẩm nhẹ ngón tay khô.",
                "The ridges are faint: press harder, or moisten a dry finger slightly.",
            ),
            FingerIssue::UnclearRidges => (
                "Đường vân không rõ: lau mặt kính, giữ yên ngón tay.",
                "The ridge directions are unclear: clean the glass and hold the finger still.",
            ),
        };
        if vi { v } else { e }.to_owned()
    }
}

fn ramp(value: f64, good: f64, bad: f64) -> f64 {
    ((value - bad) / (good - bad)).clamp(0.0, 1.0)
}

/// Scores one finger image.
pub fn finger_quality(img: &GrayImage) -> FingerQuality {
    let (w, h) = img.dimensions();
    let (bw, bh) = (w / BLOCK, h / BLOCK);
    let at = |x: u32, y: u32| f64::from(img.get_pixel(x, y).0[0]);
    let (mut fg, mut total) = (0usize, 0usize);
    let (mut certainty_sum, mut clarity_sum) = (0.0, 0.0);
    for by in 0..bh {
        for bx in 0..bw {
            total += 1;
            let (x0, y0) = (bx * BLOCK, by * BLOCK);
            let (mut sum, mut sum2) = (0.0, 0.0);
            let (mut gxx, mut gyy, mut gxy) = (0.0, 0.0, 0.0);
            for y in y0..y0 + BLOCK {
                for x in x0..x0 + BLOCK {
                    let v = at(x, y);
                    sum += v;
                    sum2 += v * v;
                    if x > 0 && y > 0 && x + 1 < w && y + 1 < h {
                        let gx = at(x + 1, y) - at(x - 1, y);
                        let gy = at(x, y + 1) - at(x, y - 1);
                        gxx += gx * gx;
                        gyy += gy * gy;
                        gxy += gx * gy;
                    }
                }
            }
            let n = f64::from(BLOCK * BLOCK);
            let std = (sum2 / n - (sum / n).powi(2)).max(0.0).sqrt();
            if std < FOREGROUND_STD {
                continue;
            }
            fg += 1;
            let energy = gxx + gyy;
            let certainty = if energy > 0.0 {
                ((gxx - gyy).powi(2) + 4.0 * gxy * gxy).sqrt() / energy
            } else {
                0.0
            };
            certainty_sum += certainty;
            let gradient = (energy / n).sqrt();
            clarity_sum += (gradient / CLEAR_GRADIENT).min(1.0);
        }
    }
    let coverage = if total == 0 {
        0.0
    } else {
        fg as f64 / total as f64
    };
    let (certainty, clarity) = if fg == 0 {
        (0.0, 0.0)
    } else {
        (certainty_sum / fg as f64, clarity_sum / fg as f64)
    };
    let coverage_factor = ramp(coverage, 0.55, 0.10);
    let score = (100.0 * coverage_factor * certainty * clarity)
        .round()
        .clamp(0.0, 100.0) as u8;
    let mut issues = Vec::new();
    if coverage_factor < 0.5 {
        issues.push(FingerIssue::SmallContact);
    }
    if clarity < 0.5 {
        issues.push(FingerIssue::LowContrast);
    }
    if certainty < 0.5 {
        issues.push(FingerIssue::UnclearRidges);
    }
    FingerQuality {
        score,
        coverage,
        certainty,
        clarity,
        issues,
    }
}
