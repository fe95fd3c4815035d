//! Test material from real photographs (feature `testing`; never in a release): scikit-image's
//! data images as Debian ships them (`make test-images`), and the portrait an operator is
//! asked for, composed from one of them.

use std::path::PathBuf;

use image::{DynamicImage, Rgb, RgbImage};

use crate::face::{FaceBox, PortraitPipeline};

/// Where the test photographs are: `GHIDANH_TEST_IMAGES`, else where `make test-images`
/// unpacks them under the workspace's `target/`.
pub fn images_dir() -> PathBuf {
    match std::env::var_os("GHIDANH_TEST_IMAGES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/test-images/usr/lib/python3/dist-packages/skimage/data"),
    }
}

/// A test photograph by name; the error points at `make test-images`.
pub fn load(name: &str) -> Result<DynamicImage, String> {
    let path = images_dir().join(name);
    image::open(&path).map_err(|e| {
        format!(
            "test image {} missing or unreadable ({e}): run `make test-images` first",
            path.display()
        )
    })
}

/// The astronaut's head and shoulders pasted centred on a plain light-grey backdrop: the
/// portrait an operator is asked for; with the face box found in the original photograph.
pub fn plain_backdrop_portrait(p: &mut PortraitPipeline) -> Result<(RgbImage, FaceBox), String> {
    let photo = load("astronaut.png")?;
    let check = p.check(&photo);
    let Some(face) = check.face else {
        return Err(format!("no face in astronaut.png: {check:?}"));
    };
    let rgb = photo.to_rgb8();
    let margin = face.width / 6;
    let x0 = face.x.saturating_sub(margin);
    let y0 = face.y.saturating_sub(face.height / 5);
    let w = (face.width + 2 * margin).min(rgb.width() - x0);
    let h = rgb.height() - y0;
    let head = image::imageops::crop_imm(&rgb, x0, y0, w, h).to_image();
    let (cw, ch) = (face.width * 3, face.width * 4);
    let mut canvas = RgbImage::from_pixel(cw, ch, Rgb([205, 205, 200]));
    let left = (cw - w) / 2;
    let top = ch / 3 - (face.y - y0) - face.height / 2;
    image::imageops::overlay(&mut canvas, &head, i64::from(left), i64::from(top));
    Ok((canvas, face))
}

/// [`plain_backdrop_portrait`] encoded as a JPEG file's bytes, as a camera would give it.
pub fn plain_backdrop_jpeg() -> Result<Vec<u8>, String> {
    let mut p = PortraitPipeline::new().map_err(|e| e.to_string())?;
    let (img, _) = plain_backdrop_portrait(&mut p)?;
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
        .encode_image(&img)
        .map_err(|e| e.to_string())?;
    Ok(out)
}
