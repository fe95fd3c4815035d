//! ghidanh-camera's integration tests: one binary, a module per source.

mod choice;
mod frames_dir;
mod import;
mod v4l2;

use image::{codecs::jpeg::JpegEncoder, ImageFormat, RgbImage};

/// A `width`×`height` gradient whose first pixel is `tag`, so files can be told apart.
fn picture(width: u32, height: u32, tag: u8) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        if x == 0 && y == 0 {
            image::Rgb([tag, tag, tag])
        } else {
            image::Rgb([(x * 7) as u8, (y * 5) as u8, 128])
        }
    })
}

fn png_bytes(width: u32, height: u32, tag: u8) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let result = picture(width, height, tag).write_to(&mut out, ImageFormat::Png);
    assert!(result.is_ok(), "{result:?}");
    out.into_inner()
}

fn jpeg_bytes(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let result =
        JpegEncoder::new_with_quality(&mut out, 90).encode_image(&picture(width, height, 0));
    assert!(result.is_ok(), "{result:?}");
    out
}
