//! Where portrait frames come from, behind one interface: a V4L2 webcam, a directory of frames
//! (the webcam's test double and the demo's camera), or a file imported from a separate camera.
//!
//! Every source yields encoded frames (JPEG or PNG bytes), which `ghidanh-biometrics`'s portrait
//! pipeline decodes. Choosing a source: [`CameraChoice::from_env_or_default`] (`GHIDANH_CAMERA`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod frames_dir;
mod image_check;
mod mjpeg;
mod v4l2;
mod yuyv;

use std::path::{Path, PathBuf};

pub use error::CameraError;
pub use frames_dir::FramesDir;
pub use image_check::{decode_import, sniff_format, MAX_IMPORT_BYTES, MAX_SIDE};
pub use v4l2::{list_cameras, list_cameras_in, CameraInfo, V4l2Camera, PREFERRED_SIZE};

/// The environment variable that picks the portrait source: `frames:/path` or `/dev/videoN`.
pub const CAMERA_ENV: &str = "GHIDANH_CAMERA";

/// A source of portrait frames.
pub trait FrameSource: Send {
    /// The next frame, encoded (JPEG or PNG bytes) — what the portrait pipeline decodes.
    fn next_frame(&mut self) -> Result<Frame, CameraError>;
    /// What this source is, for the operator, e.g. "USB Camera (/dev/video0) 1280×720 MJPG".
    fn describe(&self) -> String;
}

/// One encoded frame and the size its header declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// The encoding of `bytes`, sniffed from them.
    pub format: FrameFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// The encodings a frame comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameFormat {
    /// JPEG (JFIF, EXIF, or a webcam's MJPG frame).
    Jpeg,
    /// PNG.
    Png,
}

impl FrameFormat {
    /// "JPEG" or "PNG".
    pub fn name(self) -> &'static str {
        match self {
            FrameFormat::Jpeg => "JPEG",
            FrameFormat::Png => "PNG",
        }
    }
}

/// Which source to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraChoice {
    /// A V4L2 device node, e.g. `/dev/video0`.
    V4l2(PathBuf),
    /// A directory of frames served by [`FramesDir`].
    Frames(PathBuf),
}

impl CameraChoice {
    /// `GHIDANH_CAMERA` if set and not blank, else the first V4L2 camera; `None` if neither.
    pub fn from_env_or_default() -> Option<CameraChoice> {
        let set = std::env::var_os(CAMERA_ENV)
            .and_then(|v| v.into_string().ok())
            .and_then(|v| CameraChoice::parse(&v));
        set.or_else(|| {
            list_cameras()
                .into_iter()
                .next()
                .map(|c| CameraChoice::V4l2(c.path))
        })
    }

    /// Reads the `GHIDANH_CAMERA` syntax: `frames:/path` or a device path; `None` when blank.
    pub fn parse(value: &str) -> Option<CameraChoice> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        Some(match value.strip_prefix("frames:") {
            Some(dir) => CameraChoice::Frames(PathBuf::from(dir)),
            None => CameraChoice::V4l2(PathBuf::from(value)),
        })
    }

    /// The device node or directory chosen.
    pub fn path(&self) -> &Path {
        match self {
            CameraChoice::V4l2(p) | CameraChoice::Frames(p) => p,
        }
    }
}

/// Opens the chosen source.
pub fn open(which: &CameraChoice) -> Result<Box<dyn FrameSource>, CameraError> {
    Ok(match which {
        CameraChoice::V4l2(path) => Box::new(V4l2Camera::open(path)?),
        CameraChoice::Frames(dir) => Box::new(FramesDir::open(dir)?),
    })
}
