//! No camera is attached where these tests run (CI, the developers' machines): V4L2 is tested
//! only for what happens without one.

use std::path::Path;

use ghidanh_camera::{list_cameras, list_cameras_in, open, CameraChoice, CameraError, V4l2Camera};

#[test]
fn no_cameras_listed_without_error() {
    // Without /dev/video* this must be empty; with a camera attached, every entry is a video node.
    for camera in list_cameras() {
        let name = camera
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        assert!(name.starts_with("video"), "{camera:?}");
    }
    if !Path::new("/dev/video0").exists() {
        assert_eq!(list_cameras(), []);
    }
}

#[test]
fn stray_files_named_like_cameras_are_not_cameras() {
    let Ok(dev) = tempfile::tempdir() else {
        panic!("tempdir")
    };
    for name in ["video0", "video1", "vbi0"] {
        assert!(std::fs::write(dev.path().join(name), b"").is_ok());
    }
    assert_eq!(list_cameras_in(dev.path()), []);
    assert_eq!(list_cameras_in(&dev.path().join("missing")), []);
}

#[test]
fn missing_device_is_a_clear_error() {
    let err = open(&CameraChoice::V4l2("/dev/video-ghidanh-none".into())).err();
    assert!(
        matches!(&err, Some(CameraError::NoDevice { path, reason })
            if path == Path::new("/dev/video-ghidanh-none") && reason == "no such device node"),
        "{err:?}"
    );
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(
        message,
        "no camera at /dev/video-ghidanh-none: no such device node"
    );
}

#[test]
fn a_file_that_is_no_device_is_a_clear_error() {
    let Ok(file) = tempfile::NamedTempFile::new() else {
        panic!("tempfile")
    };
    let err = V4l2Camera::open(file.path()).err();
    assert!(
        matches!(&err, Some(CameraError::NoDevice { reason, .. }) if reason == "not a V4L2 device"),
        "{err:?}"
    );
    // /dev/null answers no V4L2 ioctl either.
    let err = V4l2Camera::open(Path::new("/dev/null")).err();
    assert!(
        matches!(&err, Some(CameraError::NoDevice { reason, .. }) if reason == "not a V4L2 device"),
        "{err:?}"
    );
}
