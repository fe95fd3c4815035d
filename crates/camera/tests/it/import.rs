use ghidanh_camera::{
    decode_import, sniff_format, CameraError, FrameFormat, MAX_IMPORT_BYTES, MAX_SIDE,
};

use crate::{jpeg_bytes, png_bytes};

#[test]
fn good_jpeg_and_png_come_back_as_they_were() {
    let jpeg = jpeg_bytes(64, 48);
    let frame = decode_import(&jpeg).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (frame.format, frame.width, frame.height),
        (FrameFormat::Jpeg, 64, 48)
    );
    assert_eq!(frame.bytes, jpeg);

    let png = png_bytes(33, 17, 3);
    let frame = decode_import(&png).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (frame.format, frame.width, frame.height),
        (FrameFormat::Png, 33, 17)
    );
    assert_eq!(frame.bytes, png);
}

#[test]
fn format_is_sniffed_from_the_bytes() {
    assert_eq!(sniff_format(&jpeg_bytes(8, 8)), Some(FrameFormat::Jpeg));
    assert_eq!(sniff_format(&png_bytes(8, 8, 0)), Some(FrameFormat::Png));
    assert_eq!(sniff_format(b"GIF89a"), None);
    assert_eq!(sniff_format(&[0xFF, 0xD8]), None);
    assert_eq!(sniff_format(&[]), None);
}

/// What `decode_import` says of hostile or broken bytes: the variant, and the rule in the message.
fn check_refused(bytes: &[u8], matches: impl Fn(&CameraError) -> bool, rule: &str) {
    match decode_import(bytes) {
        Ok(frame) => panic!(
            "accepted {}×{} {:?}",
            frame.width, frame.height, frame.format
        ),
        Err(e) => {
            assert!(matches(&e), "wrong error: {e:?}");
            assert!(e.to_string().contains(rule), "{e} does not name {rule}");
        }
    }
}

#[test]
fn garbage_refused_naming_the_rule() {
    check_refused(
        &[],
        |e| matches!(e, CameraError::NotAnImage { first_bytes } if first_bytes.contains("empty")),
        "rule: format",
    );
    // "%PDF-1.7": a scan sent instead of a photo.
    check_refused(
        b"%PDF-1.7 ...",
        |e| matches!(e, CameraError::NotAnImage { first_bytes } if first_bytes == "25 50 44 46 2d 31 2e 37"),
        "rule: format",
    );
    // Deterministic noise (an LCG), after a JPEG magic so the decoder has to look at it.
    let mut state = 0x2545_F491_u32;
    let mut noise = vec![0xFF, 0xD8, 0xFF];
    noise.extend((0..4096).map(|_| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 24) as u8
    }));
    check_refused(
        &noise,
        |e| matches!(e, CameraError::Decode { format: "JPEG", .. }),
        "rule: integrity",
    );
    let mut png_noise = png_bytes(4, 4, 0)[..8].to_vec();
    png_noise.extend_from_slice(&noise);
    check_refused(
        &png_noise,
        |e| matches!(e, CameraError::Decode { format: "PNG", .. }),
        "rule: integrity",
    );
}

#[test]
fn truncated_files_refused() {
    let jpeg = jpeg_bytes(64, 64);
    for keep in [jpeg.len() - 2, jpeg.len() / 2, 200] {
        check_refused(
            &jpeg[..keep],
            |e| matches!(e, CameraError::Decode { format: "JPEG", .. }),
            "rule: integrity",
        );
    }
    let png = png_bytes(64, 64, 0);
    for keep in [png.len() - 4, png.len() / 2, 40] {
        check_refused(
            &png[..keep],
            |e| matches!(e, CameraError::Decode { format: "PNG", .. }),
            "rule: integrity",
        );
    }
}

#[test]
fn oversized_file_refused_before_any_decoding() {
    let mut big = jpeg_bytes(8, 8);
    big.resize(MAX_IMPORT_BYTES + 1, 0);
    check_refused(
        &big,
        |e| matches!(e, CameraError::TooLarge { bytes, limit } if *bytes == MAX_IMPORT_BYTES + 1 && *limit == MAX_IMPORT_BYTES),
        "rule: file size",
    );
}

#[test]
fn huge_declared_jpeg_size_refused_from_the_header() {
    // A small JPEG whose frame header claims 60000 × 40000 pixels (2.4 Gpx, ~7 GB decoded).
    let mut jpeg = jpeg_bytes(16, 16);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]);
    let Some(sof) = sof else {
        panic!("no SOF0 in our own JPEG")
    };
    jpeg[sof + 5..sof + 7].copy_from_slice(&40_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    check_refused(
        &jpeg,
        |e| matches!(e, CameraError::TooManyPixels { width: 60_000, height: 40_000, limit } if *limit == MAX_SIDE),
        "rule: dimensions",
    );
}

#[test]
fn huge_declared_png_size_refused_from_the_header() {
    let mut png = png_bytes(16, 16, 0);
    // IHDR starts at 8: length (4), "IHDR" (4), width (4), height (4), 5 more bytes, CRC (4).
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&3u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    check_refused(
        &png,
        |e| {
            matches!(
                e,
                CameraError::TooManyPixels {
                    width: 100_000,
                    height: 3,
                    ..
                }
            )
        },
        "rule: dimensions",
    );

    // Just at the limit per side is still within the rule (it then fails as data, not as size).
    png[16..20].copy_from_slice(&MAX_SIDE.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    check_refused(
        &png,
        |e| matches!(e, CameraError::Decode { format: "PNG", .. }),
        "rule: integrity",
    );
}

/// CRC-32 (ISO 3309, as PNG chunks use), bit by bit: the test must not trust the code it tests.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
