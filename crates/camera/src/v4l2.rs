//! Webcams through V4L2 (the `linuxvideo` crate): listing capture devices and streaming frames.
//!
//! `linuxvideo` speaks to the kernel with ioctls and mmap itself (its own `unsafe`, not ours):
//! no libv4l, no C headers or bindgen at build time.

use std::fs;
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use linuxvideo::format::{PixFormat, PixelFormat};
use linuxvideo::stream::ReadStream;
use linuxvideo::{BufType, CapabilityFlags, Device};

use crate::image_check::probe;
use crate::{mjpeg, yuyv, CameraError, Frame, FrameFormat, FrameSource};

/// The size asked of a webcam: enough for a 360×480 ISO token from a face a third of the frame wide.
pub const PREFERRED_SIZE: (u32, u32) = (1280, 720);

/// Quality of the JPEG made from a YUYV frame: the pipeline re-encodes the crop within its own budget.
const YUYV_JPEG_QUALITY: u8 = 90;

/// Dequeues tried before giving up on a camera that flags every buffer as damaged.
const DAMAGED_RETRIES: usize = 5;

/// One V4L2 video capture device as listed by [`list_cameras`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// Device node, e.g. `/dev/video0`.
    pub path: PathBuf,
    /// The driver's name for the card, e.g. "USB Camera".
    pub name: String,
    /// Driver, e.g. "uvcvideo".
    pub driver: String,
    /// Where it is plugged in, e.g. "usb-0000:00:14.0-1".
    pub bus: String,
}

/// V4L2 capture devices under `/dev/video*`, in number order; empty when there are none.
///
/// Never fails: a machine without cameras (CI) or without a readable `/dev` gets an empty list.
/// Nodes that cannot be opened (permission) or cannot capture video (a UVC camera's second,
/// metadata node) are left out.
pub fn list_cameras() -> Vec<CameraInfo> {
    list_cameras_in(Path::new("/dev"))
}

/// [`list_cameras`] over another directory than `/dev` (a container's device directory, a test's).
pub fn list_cameras_in(dev: &Path) -> Vec<CameraInfo> {
    let Ok(entries) = fs::read_dir(dev) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, CameraInfo)> = entries
        .flatten()
        .filter_map(|entry| {
            let number = video_number(&entry.file_name().to_string_lossy())?;
            // Only character devices: ioctls on a stray regular file named video0 are pointless.
            let is_char = entry.file_type().is_ok_and(|t| t.is_char_device());
            if !is_char {
                return None;
            }
            let path = entry.path();
            let device = Device::open(&path).ok()?;
            let caps = device.capabilities().ok()?;
            if !caps
                .device_capabilities()
                .contains(CapabilityFlags::VIDEO_CAPTURE)
            {
                return None;
            }
            Some((
                number,
                CameraInfo {
                    path,
                    name: caps.card().to_string(),
                    driver: caps.driver().to_string(),
                    bus: caps.bus_info().to_string(),
                },
            ))
        })
        .collect();
    found.sort_by_key(|(number, _)| *number);
    found.into_iter().map(|(_, info)| info).collect()
}

/// `video12` → 12; anything else (`vbi0`, `video0-meta`) → `None`.
fn video_number(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("video")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// How the camera's frames arrive, and so what becomes of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// MJPG or JPEG: each buffer is already a JPEG file.
    Jpeg,
    /// YUYV: converted to RGB and encoded as JPEG here.
    Yuyv,
}

/// A webcam streaming through V4L2, MJPG preferred at [`PREFERRED_SIZE`], YUYV otherwise.
pub struct V4l2Camera {
    path: PathBuf,
    name: String,
    stream: ReadStream,
    encoding: Encoding,
    fourcc: String,
    width: u32,
    height: u32,
    stride: usize,
}

impl std::fmt::Debug for V4l2Camera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl V4l2Camera {
    /// Opens the device, negotiates a format and starts streaming.
    pub fn open(path: &Path) -> Result<V4l2Camera, CameraError> {
        let device = Device::open(path).map_err(|e| device_error(path, e))?;
        let caps = device.capabilities().map_err(|e| device_error(path, e))?;
        let flags = caps.device_capabilities();
        if !flags.contains(CapabilityFlags::VIDEO_CAPTURE) {
            return Err(CameraError::Unsupported {
                path: path.to_path_buf(),
                reason: "it does not capture video (a metadata or output node?)".into(),
            });
        }
        if !flags.contains(CapabilityFlags::STREAMING) {
            return Err(CameraError::Unsupported {
                path: path.to_path_buf(),
                reason: "it has no streaming I/O".into(),
            });
        }
        let name = caps.card().to_string();

        let offered = device
            .formats(BufType::VIDEO_CAPTURE)
            .map(|f| f.map(|f| f.pixel_format()))
            .collect::<io::Result<Vec<_>>>()
            .map_err(|e| device_error(path, e))?;
        let wanted = [PixelFormat::MJPG, PixelFormat::JPEG, PixelFormat::YUYV]
            .into_iter()
            .find(|f| offered.contains(f))
            .ok_or_else(|| CameraError::Unsupported {
                path: path.to_path_buf(),
                reason: format!(
                    "it offers {}, none of MJPG, JPEG or YUYV",
                    offered
                        .iter()
                        .map(|f| fourcc(*f))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;

        let (w, h) = PREFERRED_SIZE;
        let capture = device
            .video_capture(PixFormat::new(w, h, wanted))
            .map_err(|e| device_error(path, e))?;
        // The driver may pick another size or even another format than asked.
        let format = capture.format();
        let (pixel_format, width, height) =
            (format.pixel_format(), format.width(), format.height());
        let stride = usize::try_from(format.bytes_per_line()).unwrap_or(0);
        let encoding = match pixel_format {
            f if f == PixelFormat::MJPG || f == PixelFormat::JPEG => Encoding::Jpeg,
            f if f == PixelFormat::YUYV => Encoding::Yuyv,
            other => {
                return Err(CameraError::Unsupported {
                    path: path.to_path_buf(),
                    reason: format!("the driver switched to {}", fourcc(other)),
                })
            }
        };
        let stream = capture.into_stream().map_err(|e| device_error(path, e))?;
        Ok(V4l2Camera {
            path: path.to_path_buf(),
            name,
            stream,
            encoding,
            fourcc: fourcc(pixel_format),
            width,
            height,
            stride,
        })
    }

    /// The width and height the driver agreed to.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

impl FrameSource for V4l2Camera {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        for _ in 0..DAMAGED_RETRIES {
            let raw = self
                .stream
                .dequeue(|buf| Ok((!buf.is_error()).then(|| buf.to_vec())))
                .map_err(|e| device_error(&self.path, e))?;
            let Some(raw) = raw else { continue };
            return match self.encoding {
                Encoding::Jpeg => probe(mjpeg::with_huffman_tables(raw)),
                Encoding::Yuyv => self.yuyv_frame(&raw),
            };
        }
        Err(CameraError::DamagedFrames {
            path: self.path.clone(),
        })
    }

    fn describe(&self) -> String {
        format!(
            "{} ({}) {}×{} {}",
            self.name,
            self.path.display(),
            self.width,
            self.height,
            self.fourcc
        )
    }
}

impl V4l2Camera {
    fn yuyv_frame(&self, raw: &[u8]) -> Result<Frame, CameraError> {
        let rgb = yuyv::to_rgb(self.width, self.height, self.stride, raw).ok_or_else(|| {
            CameraError::Decode {
                format: "YUYV",
                reason: format!(
                    "a buffer of {} bytes is short for {}×{}",
                    raw.len(),
                    self.width,
                    self.height
                ),
            }
        })?;
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, YUYV_JPEG_QUALITY)
            .encode_image(&rgb)
            .map_err(|e| CameraError::Decode {
                format: "JPEG",
                reason: e.to_string(),
            })?;
        Ok(Frame {
            bytes,
            format: FrameFormat::Jpeg,
            width: self.width,
            height: self.height,
        })
    }
}

/// The kernel's answer in the words an operator can act on.
fn device_error(path: &Path, e: io::Error) -> CameraError {
    let path = path.to_path_buf();
    match e.kind() {
        ErrorKind::NotFound => CameraError::NoDevice {
            path,
            reason: "no such device node".into(),
        },
        ErrorKind::PermissionDenied => CameraError::PermissionDenied { path },
        ErrorKind::ResourceBusy => CameraError::Busy { path },
        // ENOTTY: the node answers no V4L2 ioctl (a regular file, another kind of device).
        _ if e.raw_os_error() == Some(25) => CameraError::NoDevice {
            path,
            reason: "not a V4L2 device".into(),
        },
        _ => CameraError::Io { path, source: e },
    }
}

fn fourcc(format: PixelFormat) -> String {
    String::from_utf8_lossy(&format.as_fourcc())
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_nodes_by_number_only() {
        assert_eq!(video_number("video0"), Some(0));
        assert_eq!(video_number("video12"), Some(12));
        assert_eq!(video_number("video"), None);
        assert_eq!(video_number("vbi0"), None);
        assert_eq!(video_number("video0-meta"), None);
    }
}
