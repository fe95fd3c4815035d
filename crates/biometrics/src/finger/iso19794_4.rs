//! ISO/IEC 19794-4:2011 finger image records: one finger representation per record, the image
//! lossless as PNG (compression algorithm 6), 500 ppi.
//!
//! Layout (big-endian): general header `"FIR\0"`, `"020\0"`, record length (u32), number of
//! finger representations (u16), certification flag (u8), number of distinct positions (u8);
//! then the representation: length (u32), capture date-time (year u16, month, day, hour,
//! minute, second u8, millisecond u16), capture device technology (u8), vendor (u16) and type
//! (u16) ids, quality blocks (count u8, then score u8, algorithm vendor u16, algorithm u16
//! each), finger position (u8), representation number (u8), scale units (u8), capture and
//! image sampling rates (4 × u16), bit depth (u8), compression (u8), impression type (u8),
//! line lengths (2 × u16), image data length (u32) and the image data.

use crate::reader::{Cut, Reader};

/// Format identifier and version: "FIR", NUL, "020", NUL.
const MAGIC: &[u8; 8] = b"FIR\x00020\x00";
/// General header bytes.
const HEADER_LEN: usize = 16;
/// Representation bytes besides quality blocks and image data.
const REPRESENTATION_FIXED: usize = 41;
/// Compression algorithm PNG.
pub const PNG: u8 = 6;
/// Impression type "live-scan plain".
pub const LIVE_SCAN_PLAIN: u8 = 0;
/// Scale units: pixels per inch.
const PPI: u8 = 1;
/// 500 ppi, the resolution the registry expects.
pub const RESOLUTION: u16 = 500;
/// Quality algorithm vendor "unreported" (0) with our own algorithm id: Ghi Danh's score.
const QUALITY_ALGORITHM: u16 = 0x6744;

/// When a finger was captured (UTC), as the record spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaptureTime {
    /// Year.
    pub year: u16,
    /// Month 1–12.
    pub month: u8,
    /// Day 1–31.
    pub day: u8,
    /// Hour 0–23.
    pub hour: u8,
    /// Minute 0–59.
    pub minute: u8,
    /// Second 0–59.
    pub second: u8,
    /// Millisecond 0–999.
    pub millisecond: u16,
}

/// One finger image record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerImageRecord {
    /// Finger position 1–10 (1 right thumb … 10 left little).
    pub position: u8,
    /// Quality 0–100 (Ghi Danh's score, NFIQ 2 scale).
    pub quality: u8,
    /// When captured.
    pub captured_at: CaptureTime,
    /// Width, pixels (horizontal line length).
    pub width: u16,
    /// Height, pixels (vertical line length).
    pub height: u16,
    /// The PNG bytes.
    pub png: Vec<u8>,
}

/// Why bytes are not a finger image record Ghi Danh reads; each names the part or field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerRecordError {
    /// Fewer bytes than the part needs.
    #[error("finger record: {part} is cut short")]
    Truncated {
        /// The part.
        part: &'static str,
    },
    /// Not `FIR\0` `020\0`.
    #[error("finger record: not an ISO/IEC 19794-4:2011 record (identifier or version)")]
    NotFingerRecord,
    /// A length field disagrees with the bytes.
    #[error("finger record: {field} says {declared} bytes but {actual} are there")]
    LengthMismatch {
        /// The field.
        field: &'static str,
        /// Its value.
        declared: u64,
        /// The bytes there are.
        actual: u64,
    },
    /// A field outside what the standard or Ghi Danh allows.
    #[error("finger record: {field} {value} is not allowed")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u32,
    },
}

impl From<Cut> for FingerRecordError {
    fn from(Cut(part): Cut) -> Self {
        FingerRecordError::Truncated { part }
    }
}

impl FingerImageRecord {
    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let repr_len = REPRESENTATION_FIXED + 5 + self.png.len();
        let total = HEADER_LEN + repr_len;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(total as u32).to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.push(0); // no certification blocks
        out.push(1); // one distinct position
        out.extend_from_slice(&(repr_len as u32).to_be_bytes());
        let t = &self.captured_at;
        out.extend_from_slice(&t.year.to_be_bytes());
        out.extend_from_slice(&[t.month, t.day, t.hour, t.minute, t.second]);
        out.extend_from_slice(&t.millisecond.to_be_bytes());
        out.push(0); // capture device technology: unknown
        out.extend_from_slice(&0u16.to_be_bytes()); // vendor
        out.extend_from_slice(&0u16.to_be_bytes()); // type
        out.push(1); // one quality block
        out.push(self.quality);
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&QUALITY_ALGORITHM.to_be_bytes());
        out.push(self.position);
        out.push(1); // representation number
        out.push(PPI);
        for _ in 0..4 {
            out.extend_from_slice(&RESOLUTION.to_be_bytes());
        }
        out.push(8); // bit depth
        out.push(PNG);
        out.push(LIVE_SCAN_PLAIN);
        out.extend_from_slice(&self.width.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&(self.png.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.png);
        out
    }

    /// Parses a single-representation, PNG, 8-bit record.
    pub fn parse(bytes: &[u8]) -> Result<Self, FingerRecordError> {
        let mut r = Reader::new(bytes);
        if r.take(8, "general header")? != MAGIC {
            return Err(FingerRecordError::NotFingerRecord);
        }
        let total = r.u32("record length")?;
        length_is("record length", u64::from(total), bytes.len() as u64)?;
        let count = r.u16("number of finger representations")?;
        invalid_unless("number of finger representations", count.into(), count == 1)?;
        let cert = r.u8("certification flag")?;
        invalid_unless("certification flag", cert.into(), cert == 0)?;
        let positions = r.u8("number of distinct positions")?;
        invalid_unless(
            "number of distinct positions",
            positions.into(),
            positions == 1,
        )?;
        let repr_len = r.u32("representation length")?;
        length_is(
            "representation length",
            u64::from(repr_len),
            (bytes.len() - HEADER_LEN) as u64,
        )?;
        let captured_at = CaptureTime {
            year: r.u16("capture year")?,
            month: r.u8("capture month")?,
            day: r.u8("capture day")?,
            hour: r.u8("capture hour")?,
            minute: r.u8("capture minute")?,
            second: r.u8("capture second")?,
            millisecond: r.u16("capture millisecond")?,
        };
        let t = &captured_at;
        invalid_unless("capture month", t.month.into(), (1..=12).contains(&t.month))?;
        invalid_unless("capture day", t.day.into(), (1..=31).contains(&t.day))?;
        invalid_unless("capture hour", t.hour.into(), t.hour <= 23)?;
        invalid_unless("capture minute", t.minute.into(), t.minute <= 59)?;
        invalid_unless("capture second", t.second.into(), t.second <= 59)?;
        invalid_unless(
            "capture millisecond",
            t.millisecond.into(),
            t.millisecond <= 999,
        )?;
        r.take(5, "capture device")?;
        let blocks = r.u8("number of quality blocks")?;
        let mut quality = None;
        for _ in 0..blocks {
            let score = r.u8("quality score")?;
            r.take(4, "quality algorithm")?;
            // 255 is the standard's "failed to compute"; the first real score counts.
            if score <= 100 && quality.is_none() {
                quality = Some(score);
            }
        }
        let position = r.u8("finger position")?;
        invalid_unless(
            "finger position",
            position.into(),
            (1..=10).contains(&position),
        )?;
        r.take(2, "representation number and scale units")?;
        r.take(8, "sampling rates")?;
        let depth = r.u8("bit depth")?;
        invalid_unless("bit depth", depth.into(), depth == 8)?;
        let compression = r.u8("compression algorithm")?;
        invalid_unless(
            "compression algorithm",
            compression.into(),
            compression == PNG,
        )?;
        r.u8("impression type")?;
        let width = r.u16("horizontal line length")?;
        let height = r.u16("vertical line length")?;
        invalid_unless("horizontal line length", width.into(), width > 0)?;
        invalid_unless("vertical line length", height.into(), height > 0)?;
        let data_len = r.u32("image data length")?;
        let rest = bytes.len() - r.position();
        length_is("image data length", u64::from(data_len), rest as u64)?;
        invalid_unless("image data length", data_len, data_len > 0)?;
        Ok(FingerImageRecord {
            position,
            quality: quality.unwrap_or(0),
            captured_at,
            width,
            height,
            png: r.rest().to_vec(),
        })
    }
}

fn length_is(field: &'static str, declared: u64, actual: u64) -> Result<(), FingerRecordError> {
    match declared == actual {
        true => Ok(()),
        false => Err(FingerRecordError::LengthMismatch {
            field,
            declared,
            actual,
        }),
    }
}

fn invalid_unless(field: &'static str, value: u32, ok: bool) -> Result<(), FingerRecordError> {
    match ok {
        true => Ok(()),
        false => Err(FingerRecordError::Invalid { field, value }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FingerImageRecord {
        FingerImageRecord {
            position: 7,
            quality: 64,
            captured_at: CaptureTime {
                year: 2026,
                month: 12,
                day: 2,
                hour: 9,
                minute: 30,
                second: 5,
                millisecond: 250,
            },
            width: 256,
            height: 320,
            png: vec![0x89, b'P', b'N', b'G', 1, 2, 3],
        }
    }

    #[test]
    fn a_record_reads_back_as_written_with_the_standard_layout() {
        let bytes = sample().encode();
        assert_eq!(&bytes[..8], b"FIR\x00020\x00");
        assert_eq!(bytes.len(), 16 + 41 + 5 + 7);
        assert_eq!(&bytes[8..12], &(bytes.len() as u32).to_be_bytes());
        // Capture date-time right after the representation length: 2026-12-02 09:30:05.250.
        assert_eq!(&bytes[20..29], &[0x07, 0xEA, 12, 2, 9, 30, 5, 0x00, 0xFA]);
        // Quality block: one, score 64.
        assert_eq!(&bytes[34..36], &[1, 64]);
        // Position, then compression PNG after the four 500 ppi rates and the bit depth.
        assert_eq!(bytes[40], 7);
        assert_eq!(
            &bytes[43..51],
            &[0x01, 0xF4, 0x01, 0xF4, 0x01, 0xF4, 0x01, 0xF4]
        );
        assert_eq!(&bytes[51..54], &[8, 6, 0]);
        assert_eq!(FingerImageRecord::parse(&bytes), Ok(sample()));
    }

    #[test]
    fn every_cut_and_every_bad_field_is_an_error_naming_it() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(FingerImageRecord::parse(&bytes[..n]).is_err(), "cut at {n}");
        }
        let set = |i: usize, v: u8| {
            let mut b = bytes.clone();
            b[i] = v;
            FingerImageRecord::parse(&b)
        };
        assert_eq!(set(0, b'X'), Err(FingerRecordError::NotFingerRecord));
        assert_eq!(
            set(40, 11),
            Err(FingerRecordError::Invalid {
                field: "finger position",
                value: 11
            })
        );
        assert_eq!(
            set(52, 2),
            Err(FingerRecordError::Invalid {
                field: "compression algorithm",
                value: 2
            })
        );
        assert_eq!(
            set(22, 13),
            Err(FingerRecordError::Invalid {
                field: "capture month",
                value: 13
            })
        );
        assert_eq!(
            set(14, 1),
            Err(FingerRecordError::Invalid {
                field: "certification flag",
                value: 1
            })
        );
        assert!(matches!(
            set(61, 0xFF),
            Err(FingerRecordError::LengthMismatch {
                field: "image data length",
                ..
            })
        ));
    }

    #[test]
    fn hostile_bytes_never_panic_and_never_read_past_the_record() {
        let mut state = 0xD1B5_4A32_D192_ED03u64;
        let base = sample().encode();
        for round in 0..3000 {
            let mut b = base.clone();
            for _ in 0..(round % 5 + 1) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state as usize) % b.len();
                b[i] = (state >> 40) as u8;
            }
            if let Ok(rec) = FingerImageRecord::parse(&b) {
                assert_eq!(rec.png.len() + 62, b.len());
            }
        }
    }
}
