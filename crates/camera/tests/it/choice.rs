use std::path::PathBuf;

use ghidanh_camera::CameraChoice;

fn check(value: &str, expected: Option<CameraChoice>) {
    assert_eq!(
        CameraChoice::parse(value),
        expected,
        "GHIDANH_CAMERA={value:?}"
    );
}

#[test]
fn env_syntax() {
    check(
        "frames:/srv/demo",
        Some(CameraChoice::Frames(PathBuf::from("/srv/demo"))),
    );
    check(
        "frames:relative/dir",
        Some(CameraChoice::Frames(PathBuf::from("relative/dir"))),
    );
    check(
        "/dev/video2",
        Some(CameraChoice::V4l2(PathBuf::from("/dev/video2"))),
    );
    check(
        "  /dev/video0\n",
        Some(CameraChoice::V4l2(PathBuf::from("/dev/video0"))),
    );
    check("", None);
    check("   ", None);
    // A mistyped frames: with no path still says "frames", so opening it names the problem.
    check("frames:", Some(CameraChoice::Frames(PathBuf::new())));
}

#[test]
fn default_without_env_is_the_first_camera_or_none() {
    // The variable is not set in CI; if it is here, the choice must be what it says.
    let expected = match std::env::var("GHIDANH_CAMERA") {
        Ok(v) => CameraChoice::parse(&v).or_else(first_camera),
        Err(_) => first_camera(),
    };
    assert_eq!(CameraChoice::from_env_or_default(), expected);
}

fn first_camera() -> Option<CameraChoice> {
    ghidanh_camera::list_cameras()
        .into_iter()
        .next()
        .map(|c| CameraChoice::V4l2(c.path))
}
