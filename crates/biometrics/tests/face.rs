//! The portrait checks on real photographs shipped by a Debian package (scikit-image's
//! `python3-skimage`, extracted by `make test-images`) and on synthetic degradations of them.
//! Each degradation must raise its own issue, and the clean composite none: removing a check
//! fails a test here.

use ghidanh_biometrics::face::{FaceBox, FaceIssue, FaceRecord, PortraitPipeline, JPEG_BUDGET};
use ghidanh_biometrics::testing;
use image::{DynamicImage, GenericImageView, Rgb, RgbImage};

fn load(name: &str) -> DynamicImage {
    testing::load(name).unwrap_or_else(|e| panic!("{e}"))
}

fn pipeline() -> PortraitPipeline {
    match PortraitPipeline::new() {
        Ok(p) => p,
        Err(e) => panic!("face model: {e}"),
    }
}

fn codes(issues: &[FaceIssue]) -> Vec<&'static str> {
    issues.iter().map(|i| i.code()).collect()
}

fn composite(p: &mut PortraitPipeline) -> (RgbImage, FaceBox) {
    testing::plain_backdrop_portrait(p).unwrap_or_else(|e| panic!("{e}"))
}

fn map(img: &RgbImage, f: impl Fn(u8) -> u8) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0 = p.0.map(&f);
    }
    out
}

fn dynamic(img: RgbImage) -> DynamicImage {
    DynamicImage::ImageRgb8(img)
}

#[test]
fn the_real_photograph_has_one_face_and_its_busy_background_is_flagged() {
    let mut p = pipeline();
    let check = p.check(&load("astronaut.png"));
    assert_eq!(check.faces, 1, "{check:?}");
    assert!(
        codes(&check.issues).contains(&"unevenBackground"),
        "{check:?}"
    );
}

#[test]
fn a_photograph_without_a_person_has_no_face() {
    let mut p = pipeline();
    for name in ["brick.png", "coffee.png"] {
        let check = p.check(&load(name));
        assert_eq!(codes(&check.issues), ["noFace"], "{name}: {check:?}");
        assert_eq!(check.score, 0);
    }
}

#[test]
fn the_plain_backdrop_portrait_passes_and_becomes_a_token_record_within_budget() {
    let mut p = pipeline();
    let (good, _) = composite(&mut p);
    let check = p.check(&dynamic(good.clone()));
    assert!(check.acceptable(), "{check:?}");
    assert!(check.score >= 80, "{check:?}");

    let portrait = match p.take(&dynamic(good), JPEG_BUDGET) {
        Ok(portrait) => portrait,
        Err(e) => panic!("{e}"),
    };
    assert!(portrait.jpeg.len() <= JPEG_BUDGET);
    assert_eq!((portrait.width, portrait.height), (360, 480));
    let record = match FaceRecord::parse(&portrait.record) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(record.jpeg, portrait.jpeg);
    assert_eq!(u16::from(portrait.quality), record.quality);
    let decoded = match image::load_from_memory(&record.jpeg) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(decoded.dimensions(), (360, 480));
    // The token is cut around the face: it is found again, large and centred.
    let again = p.check(&decoded);
    assert_eq!(again.faces, 1, "{again:?}");
    let metrics = again.metrics.map(|m| (m.offset, m.size));
    assert!(
        matches!(metrics, Some((o, s)) if o < 0.08 && s > 0.3),
        "{again:?}"
    );
}

#[test]
fn each_degradation_raises_its_own_issue() {
    let mut p = pipeline();
    let (good, face) = composite(&mut p);
    let (w, h) = good.dimensions();

    let dark = map(&good, |v| (f32::from(v) * 0.25) as u8);
    let bright = map(&good, |v| (f32::from(v) * 1.1 + 75.0).min(255.0) as u8);
    let blurred = image::imageops::blur(&good, 5.0);

    let mut shifted = RgbImage::from_pixel(w * 2, h, Rgb([205, 205, 200]));
    image::imageops::overlay(&mut shifted, &good, 0, 0);

    let small_face =
        image::imageops::resize(&good, w / 3, h / 3, image::imageops::FilterType::Triangle);
    let mut small = RgbImage::from_pixel(w, h, Rgb([205, 205, 200]));
    image::imageops::overlay(&mut small, &small_face, i64::from(w / 3), i64::from(h / 3));

    let mut two = RgbImage::from_pixel(w * 2, h, Rgb([205, 205, 200]));
    image::imageops::overlay(&mut two, &good, 0, 0);
    image::imageops::overlay(&mut two, &good, i64::from(w), 0);

    let mut busy = good.clone();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let top_band = face.height; // well above the pasted head
    for y in 0..top_band.min(h) {
        for x in 0..w {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if (x / 16 + y / 16) % 2 == 0 {
                busy.put_pixel(x, y, Rgb([(state % 200) as u8 + 30, 40, 60]));
            }
        }
    }

    let cases: [(&str, RgbImage, &str); 7] = [
        ("dark", dark, "tooDark"),
        ("overexposed", bright, "overexposed"),
        ("blurred", blurred, "blurred"),
        ("shifted", shifted, "offCentre"),
        ("small", small, "tooSmall"),
        ("two faces", two, "severalFaces"),
        ("busy backdrop", busy, "unevenBackground"),
    ];
    let good_score = p.check(&dynamic(good)).score;
    for (name, img, expected) in cases {
        let check = p.check(&dynamic(img.clone()));
        eprintln!("{name}: {check:?}");
        assert!(
            codes(&check.issues).contains(&expected),
            "{name}: expected {expected}, got {check:?}"
        );
        assert!(
            check.score < good_score,
            "{name}: score {} not under {good_score}",
            check.score
        );
        assert!(
            p.take(&dynamic(img), JPEG_BUDGET).is_err(),
            "{name} was taken"
        );
    }
}

#[test]
fn issues_read_in_vietnamese_and_english() {
    use ghidanh_record::Lang;
    let issue = FaceIssue::SeveralFaces { count: 2 };
    assert_eq!(
        issue.message(Lang::Vi),
        "Thấy 2 khuôn mặt: chỉ một người trong khung hình."
    );
    assert_eq!(
        issue.message(Lang::En),
        "2 faces found: only one person in the frame."
    );
}
