//! ISO/IEC 19794-5:2005 face image records: one facial record carrying one JPEG token image.
//!
//! Layout (big-endian): record header `"FAC\0"`, `"010\0"`, record length (u32), number of
//! facial images (u16); then per image a 20-byte facial information block (block length u32,
//! feature points u16, gender, eye colour, hair colour, feature mask u24, expression u16,
//! pose angles 3 × u8, pose uncertainties 3 × u8), feature points (8 bytes each), a 12-byte
//! image information block (face image type, image data type, width u16, height u16, colour
//! space, source type, device type u16, quality u16) and the image data.

/// Format identifier and version: "FAC", NUL, "010", NUL.
const MAGIC: &[u8; 8] = b"FAC\x00010\x00";
use crate::reader::{Cut, Reader};

/// Record header bytes.
const HEADER_LEN: usize = 14;
/// Facial information block bytes.
const FACIAL_INFO_LEN: usize = 20;
/// Image information block bytes.
const IMAGE_INFO_LEN: usize = 12;
/// Face image type "token frontal".
pub const TOKEN_FRONTAL: u8 = 2;
/// Image data type JPEG.
pub const JPEG: u8 = 0;
/// Colour space 24-bit RGB.
const RGB24: u8 = 1;
/// Source type "static photograph from a digital still camera".
const DIGITAL_STILL: u8 = 2;

/// A face record, as far as Ghi Danh writes and reads one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceRecord {
    /// Face image type (1 full frontal, 2 token frontal).
    pub image_type: u8,
    /// Width, pixels.
    pub width: u16,
    /// Height, pixels.
    pub height: u16,
    /// Quality 0–100 (the standard leaves the scale to the vendor).
    pub quality: u16,
    /// The JPEG bytes.
    pub jpeg: Vec<u8>,
}

/// Why bytes are not a face record; each names the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Fewer bytes than the part needs.
    #[error("face record: {part} is cut short")]
    Truncated {
        /// The part.
        part: &'static str,
    },
    /// The format identifier or version is not `FAC\0` `010\0`.
    #[error("face record: not an ISO/IEC 19794-5:2005 record (identifier or version)")]
    NotFaceRecord,
    /// The record length field disagrees with the bytes.
    #[error("face record: record length {declared} but {actual} bytes")]
    LengthMismatch {
        /// The length field.
        declared: u64,
        /// The bytes given.
        actual: u64,
    },
    /// Not exactly one facial image (Ghi Danh stores one portrait per record).
    #[error("face record: {0} facial images, expected 1")]
    ImageCount(u16),
    /// The facial block length disagrees with the record.
    #[error("face record: facial block length {0} does not fit the record")]
    BlockLength(u32),
    /// The image is not JPEG, or not of a known face image type.
    #[error("face record: unsupported {field} {value}")]
    Unsupported {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u16,
    },
    /// Width, height or image data is zero.
    #[error("face record: empty {0}")]
    Empty(&'static str),
}

impl From<Cut> for RecordError {
    fn from(Cut(part): Cut) -> Self {
        RecordError::Truncated { part }
    }
}

impl FaceRecord {
    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let block_len = FACIAL_INFO_LEN + IMAGE_INFO_LEN + self.jpeg.len();
        let total = HEADER_LEN + block_len;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(total as u32).to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        // Facial information: no feature points, everything else "unspecified" (0).
        out.extend_from_slice(&(block_len as u32).to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&[0; 3]); // gender, eye colour, hair colour
        out.extend_from_slice(&[0; 3]); // feature mask
        out.extend_from_slice(&0u16.to_be_bytes()); // expression
        out.extend_from_slice(&[0; 6]); // pose angles, uncertainties
                                        // Image information.
        out.push(self.image_type);
        out.push(JPEG);
        out.extend_from_slice(&self.width.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.push(RGB24);
        out.push(DIGITAL_STILL);
        out.extend_from_slice(&0u16.to_be_bytes()); // device type
        out.extend_from_slice(&self.quality.to_be_bytes());
        out.extend_from_slice(&self.jpeg);
        out
    }

    /// Parses a record Ghi Danh wrote (or any single-image JPEG 19794-5:2005 record).
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader::new(bytes);
        let id = r.take(8, "header")?;
        if id != MAGIC {
            return Err(RecordError::NotFaceRecord);
        }
        let declared = r.u32("record length")?;
        if u64::from(declared) != bytes.len() as u64 {
            return Err(RecordError::LengthMismatch {
                declared: u64::from(declared),
                actual: bytes.len() as u64,
            });
        }
        let count = r.u16("number of facial images")?;
        if count != 1 {
            return Err(RecordError::ImageCount(count));
        }
        let block_len = r.u32("facial block length")?;
        if u64::from(block_len) != (bytes.len() - HEADER_LEN) as u64 {
            return Err(RecordError::BlockLength(block_len));
        }
        let points = r.u16("number of feature points")?;
        r.take(14, "facial information")?;
        r.take(usize::from(points) * 8, "feature points")?;
        let image_type = r.u8("face image type")?;
        if !(1..=TOKEN_FRONTAL).contains(&image_type) {
            return Err(RecordError::Unsupported {
                field: "face image type",
                value: u16::from(image_type),
            });
        }
        let data_type = r.u8("image data type")?;
        if data_type != JPEG {
            return Err(RecordError::Unsupported {
                field: "image data type",
                value: u16::from(data_type),
            });
        }
        let width = r.u16("width")?;
        let height = r.u16("height")?;
        r.take(4, "image information")?;
        let quality = r.u16("quality")?;
        let jpeg = r.rest().to_vec();
        if width == 0 || height == 0 {
            return Err(RecordError::Empty("image size"));
        }
        if jpeg.is_empty() {
            return Err(RecordError::Empty("image data"));
        }
        Ok(FaceRecord {
            image_type,
            width,
            height,
            quality,
            jpeg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FaceRecord {
        FaceRecord {
            image_type: TOKEN_FRONTAL,
            width: 360,
            height: 480,
            quality: 87,
            jpeg: vec![0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9],
        }
    }

    #[test]
    fn a_record_reads_back_as_written_with_the_standard_layout() {
        let bytes = sample().encode();
        assert_eq!(&bytes[..8], b"FAC\x00010\x00");
        assert_eq!(
            u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            bytes.len()
        );
        assert_eq!(bytes.len(), 14 + 20 + 12 + 7);
        // Image information starts at 34: token frontal, JPEG, 360 x 480.
        assert_eq!(&bytes[34..40], &[2, 0, 0x01, 0x68, 0x01, 0xE0]);
        assert_eq!(FaceRecord::parse(&bytes), Ok(sample()));
    }

    #[test]
    fn every_cut_and_every_bad_header_is_an_error_naming_the_part() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(FaceRecord::parse(&bytes[..n]).is_err(), "cut at {n}");
        }
        let mut other = bytes.clone();
        other[0] = b'F' + 1;
        assert_eq!(FaceRecord::parse(&other), Err(RecordError::NotFaceRecord));
        let mut two = bytes.clone();
        two[13] = 2;
        assert_eq!(FaceRecord::parse(&two), Err(RecordError::ImageCount(2)));
        let mut jp2 = bytes.clone();
        jp2[35] = 1;
        assert_eq!(
            FaceRecord::parse(&jp2),
            Err(RecordError::Unsupported {
                field: "image data type",
                value: 1
            })
        );
        let mut points = bytes.clone();
        points[19] = 0xFF; // 255 feature points that are not there
        assert_eq!(
            FaceRecord::parse(&points),
            Err(RecordError::Truncated {
                part: "feature points"
            })
        );
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let base = sample().encode();
        for round in 0..2000 {
            let mut b = base.clone();
            for _ in 0..(round % 7 + 1) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state as usize) % b.len();
                b[i] = (state >> 32) as u8;
            }
            if let Ok(rec) = FaceRecord::parse(&b) {
                assert!(
                    rec.jpeg.len() + 46 <= b.len(),
                    "image data beyond the record"
                );
            }
        }
    }
}
