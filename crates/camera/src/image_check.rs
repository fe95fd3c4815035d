//! Sniffing, size limits and decoding of JPEG and PNG bytes from outside (imports, frames dirs).

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

use crate::{CameraError, Frame, FrameFormat};

/// Largest file [`decode_import`] accepts: far above any portrait camera's JPEG (a 24 MP JPEG is ~12 MiB).
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;

/// Longest side, in pixels, of an image this crate accepts: bounds the memory a decode may take.
pub const MAX_SIDE: u32 = 10_000;

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// The format the bytes are in, from their magic number (never from a file name).
pub fn sniff_format(bytes: &[u8]) -> Option<FrameFormat> {
    if bytes.starts_with(JPEG_MAGIC) {
        Some(FrameFormat::Jpeg)
    } else if bytes.starts_with(PNG_MAGIC) {
        Some(FrameFormat::Png)
    } else {
        None
    }
}

/// A file from a separate camera, checked: JPEG or PNG by its bytes, within the size limits, and decoding whole.
///
/// The frame keeps the file's bytes as they came (the portrait pipeline decodes them again).
pub fn decode_import(bytes: &[u8]) -> Result<Frame, CameraError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(CameraError::TooLarge {
            bytes: bytes.len(),
            limit: MAX_IMPORT_BYTES,
        });
    }
    let frame = probe(bytes.to_vec())?;
    let complete = match frame.format {
        FrameFormat::Jpeg => jpeg_has_end(bytes),
        FrameFormat::Png => png_has_end(bytes),
    };
    if !complete {
        // The JPEG decoder pads a cut-off scan with grey and calls it success (and the PNG one
        // stops reading once it has the pixels): a file cut short is refused all the same.
        return Err(CameraError::Decode {
            format: frame.format.name(),
            reason: "the file ends before its end marker (cut short)".into(),
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(frame.format));
    reader.limits(limits());
    reader.decode().map_err(|e| CameraError::Decode {
        format: frame.format.name(),
        reason: e.to_string(),
    })?;
    Ok(frame)
}

/// Sniffs the format and reads the declared dimensions from the header only, within [`MAX_SIDE`].
pub(crate) fn probe(bytes: Vec<u8>) -> Result<Frame, CameraError> {
    let Some(format) = sniff_format(&bytes) else {
        return Err(CameraError::NotAnImage {
            first_bytes: first_bytes_hex(&bytes),
        });
    };
    // No dimension limits here: reading the header allocates nothing, and our own rule below
    // gives the clearer error.
    let reader = ImageReader::with_format(Cursor::new(&bytes), image_format(format));
    let (width, height) = reader.into_dimensions().map_err(|e| CameraError::Decode {
        format: format.name(),
        reason: e.to_string(),
    })?;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(CameraError::TooManyPixels {
            width,
            height,
            limit: MAX_SIDE,
        });
    }
    if width == 0 || height == 0 {
        return Err(CameraError::Decode {
            format: format.name(),
            reason: format!("declared size {width}×{height} is empty"),
        });
    }
    Ok(Frame {
        bytes,
        format,
        width,
        height,
    })
}

/// Whether an end-of-image marker follows the last start-of-scan.
///
/// Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so FF D9 after
/// the last FF DA can only be the real end of the image (an EXIF thumbnail's end comes earlier).
fn jpeg_has_end(bytes: &[u8]) -> bool {
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_sos {
        Some(at) => bytes[at..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

/// Whether the PNG's IEND chunk (empty, fixed CRC) is there.
fn png_has_end(bytes: &[u8]) -> bool {
    const IEND: &[u8] = &[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
    bytes.windows(IEND.len()).any(|w| w == IEND)
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits
}

fn image_format(format: FrameFormat) -> ImageFormat {
    match format {
        FrameFormat::Jpeg => ImageFormat::Jpeg,
        FrameFormat::Png => ImageFormat::Png,
    }
}

fn first_bytes_hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing (empty file)".into();
    }
    let hex: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    hex.join(" ")
}
