//! What can go wrong getting a frame, each case naming the device, file or rule involved.

use std::io;
use std::path::PathBuf;

/// Why a camera, a frames directory or an imported file gave no frame.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// Nothing at that path, or it is not a V4L2 device.
    #[error("no camera at {}: {reason}", path.display())]
    NoDevice {
        /// The device path asked for.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// The device exists but this account may not open it.
    #[error("no permission to open {} (is the operator's account in the `video` group?)", path.display())]
    PermissionDenied {
        /// The device path.
        path: PathBuf,
    },
    /// Another program is capturing from the device.
    #[error("camera {} is in use by another program", path.display())]
    Busy {
        /// The device path.
        path: PathBuf,
    },
    /// The device cannot give frames in a way this crate reads.
    #[error("camera {} is not supported: {reason}", path.display())]
    Unsupported {
        /// The device path.
        path: PathBuf,
        /// What it lacks (capture, streaming, a JPEG or YUYV format).
        reason: String,
    },
    /// A frames directory that does not exist or holds no JPEG or PNG file.
    #[error("frames directory {}: {reason}", path.display())]
    FramesDir {
        /// The directory.
        path: PathBuf,
        /// Missing, not a directory, or no *.jpg/*.jpeg/*.png in it.
        reason: String,
    },
    /// Reading a device or a file failed.
    #[error("reading {}: {source}", path.display())]
    Io {
        /// The device or file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The bytes are neither JPEG nor PNG (sniffed from the bytes, whatever the file name says).
    #[error("not a JPEG or PNG image (rule: format; the file starts with {first_bytes})")]
    NotAnImage {
        /// The first bytes in hex, to tell an HEIC or a PDF from garbage.
        first_bytes: String,
    },
    /// The file is larger than [`crate::MAX_IMPORT_BYTES`].
    #[error("image of {bytes} bytes is over the limit of {limit} bytes (rule: file size)")]
    TooLarge {
        /// The file's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The image declares a side longer than [`crate::MAX_SIDE`] pixels.
    #[error("image of {width}×{height} px has a side over {limit} px (rule: dimensions)")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit per side.
        limit: u32,
    },
    /// A JPEG or PNG that does not decode (cut short, corrupt).
    #[error("{format} image does not decode (rule: integrity): {reason}")]
    Decode {
        /// "JPEG" or "PNG".
        format: &'static str,
        /// The decoder's words.
        reason: String,
    },
    /// The camera delivered frames flagged as corrupt several times in a row.
    #[error("camera {} delivered only damaged frames", path.display())]
    DamagedFrames {
        /// The device path.
        path: PathBuf,
    },
}
