use std::fs;
use std::path::Path;

use ghidanh_camera::{open, CameraChoice, CameraError, FrameFormat, FrameSource, FramesDir};

use crate::{jpeg_bytes, png_bytes};

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let result = fs::write(dir.join(name), bytes);
    assert!(result.is_ok(), "{result:?}");
}

fn tempdir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    }
}

#[test]
fn serves_in_name_order_and_loops() {
    let dir = tempdir();
    // Written out of order, with sizes that tell them apart.
    write(dir.path(), "frame-2.png", &png_bytes(20, 10, 2));
    write(dir.path(), "frame-1.jpg", &jpeg_bytes(10, 10));
    write(dir.path(), "frame-3.JPEG", &jpeg_bytes(30, 10));
    write(dir.path(), "notes.txt", b"not a frame");

    let frames = FramesDir::open(dir.path());
    let mut frames = match frames {
        Ok(f) => f,
        Err(e) => panic!("open: {e}"),
    };
    let names: Vec<_> = frames
        .files()
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["frame-1.jpg", "frame-2.png", "frame-3.JPEG"]);
    assert!(
        frames.describe().contains("3 files"),
        "{}",
        frames.describe()
    );

    let served: Vec<_> = (0..7)
        .map(|_| frames.next_frame().map(|f| (f.width, f.format)))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("next_frame: {e}"));
    let one_round = [
        (10, FrameFormat::Jpeg),
        (20, FrameFormat::Png),
        (30, FrameFormat::Jpeg),
    ];
    let expected: Vec<_> = one_round.iter().cycle().take(7).copied().collect();
    assert_eq!(served, expected);
}

#[test]
fn frame_bytes_are_the_file_and_format_is_sniffed_not_named() {
    let dir = tempdir();
    let png = png_bytes(12, 8, 9);
    // A PNG behind a .jpg name, as a careless export would write it.
    write(dir.path(), "a.jpg", &png);
    let frame = FramesDir::open(dir.path()).and_then(|mut f| f.next_frame());
    let frame = frame.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(frame.format, FrameFormat::Png);
    assert_eq!((frame.width, frame.height), (12, 8));
    assert_eq!(frame.bytes, png);
}

#[test]
fn a_garbage_file_errors_on_its_turn_and_the_loop_goes_on() {
    let dir = tempdir();
    write(dir.path(), "1.png", &png_bytes(5, 5, 1));
    write(dir.path(), "2.jpg", b"GIF89a not really");
    let mut frames = FramesDir::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert!(frames.next_frame().is_ok());
    let err = frames.next_frame().err();
    assert!(
        matches!(&err, Some(CameraError::NotAnImage { first_bytes }) if first_bytes.starts_with("47 49 46")),
        "{err:?}"
    );
    assert_eq!(frames.next_frame().map(|f| f.width).ok(), Some(5));
}

#[test]
fn empty_and_missing_directories_refused_by_name() {
    let dir = tempdir();
    write(dir.path(), "readme.md", b"no frames here");
    let empty = FramesDir::open(dir.path()).err();
    assert!(
        matches!(&empty, Some(CameraError::FramesDir { path, reason })
            if path == dir.path() && reason.contains("no *.jpg")),
        "{empty:?}"
    );
    let message = empty.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );

    let missing = dir.path().join("nope");
    let err = open(&CameraChoice::Frames(missing.clone())).err();
    assert!(
        matches!(&err, Some(CameraError::FramesDir { path, reason })
            if *path == missing && reason == "does not exist"),
        "{err:?}"
    );

    let file = dir.path().join("readme.md");
    let err = FramesDir::open(&file).err();
    assert!(
        matches!(&err, Some(CameraError::FramesDir { reason, .. }) if reason == "is not a directory"),
        "{err:?}"
    );
}

#[test]
fn open_through_the_choice_gives_the_same_source() {
    let dir = tempdir();
    write(dir.path(), "only.png", &png_bytes(7, 3, 0));
    let mut source =
        open(&CameraChoice::Frames(dir.path().to_path_buf())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        source.describe(),
        format!("Frames from {} (1 file, looping)", dir.path().display())
    );
    let sizes: Vec<_> = (0..2)
        .filter_map(|_| source.next_frame().ok())
        .map(|f| (f.width, f.height))
        .collect();
    assert_eq!(sizes, [(7, 3), (7, 3)]);
}
