//! YUYV (YUV 4:2:2, BT.601 limited range) to RGB, for webcams that offer no JPEG format.

use image::RgbImage;

/// Converts one YUYV frame to RGB; `None` if the buffer is shorter than the format says.
pub(crate) fn to_rgb(width: u32, height: u32, stride: usize, data: &[u8]) -> Option<RgbImage> {
    let row_bytes = usize::try_from(width).ok()?.checked_mul(2)?;
    let stride = stride.max(row_bytes);
    let rows = usize::try_from(height).ok()?;
    let needed = stride
        .checked_mul(rows.checked_sub(1)?)?
        .checked_add(row_bytes)?;
    if data.len() < needed || !width.is_multiple_of(2) {
        return None;
    }
    let mut rgb = Vec::with_capacity(row_bytes / 2 * 3 * rows);
    for row in data.chunks(stride).take(rows) {
        // Each 4 bytes Y0 U Y1 V carry two pixels sharing one colour.
        for quad in row[..row_bytes].chunks_exact(4) {
            let (y0, u, y1, v) = (quad[0], quad[1], quad[2], quad[3]);
            rgb.extend_from_slice(&pixel(y0, u, v));
            rgb.extend_from_slice(&pixel(y1, u, v));
        }
    }
    RgbImage::from_raw(width, height, rgb)
}

/// BT.601 limited range in integers (the ITU-R formula scaled by 256).
fn pixel(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = i32::from(y) - 16;
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    let clamp = |x: i32| (x >> 8).clamp(0, 255) as u8;
    [
        clamp(298 * c + 409 * e + 128),
        clamp(298 * c - 100 * d - 208 * e + 128),
        clamp(298 * c + 516 * d + 128),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_range_white_black_and_red() {
        assert_eq!(pixel(235, 128, 128), [255, 255, 255]);
        assert_eq!(pixel(16, 128, 128), [0, 0, 0]);
        // BT.601 red: Y 81, Cb 90, Cr 240.
        let [r, g, b] = pixel(81, 90, 240);
        assert!(r >= 250 && g <= 5 && b <= 5, "{r} {g} {b}");
    }

    #[test]
    fn two_pixels_per_quad_and_stride_padding_skipped() {
        // 2×2 frame, each row padded to 6 bytes by the driver.
        let data = [235, 128, 16, 128, 9, 9, 16, 128, 235, 128, 9, 9];
        let rgb = to_rgb(2, 2, 6, &data).map(|i| i.into_raw());
        assert_eq!(
            rgb,
            Some(vec![255, 255, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255])
        );
    }

    #[test]
    fn short_buffer_refused() {
        assert!(to_rgb(4, 2, 8, &[0; 15]).is_none());
        assert!(to_rgb(3, 1, 6, &[0; 6]).is_none());
    }
}
