//! MJPG frames made whole JPEG files: many webcams leave out the Huffman tables (DHT) and
//! expect the standard ones, which a JPEG decoder supplies only if told the file is MJPG.

use std::sync::OnceLock;

use image::{codecs::jpeg::JpegEncoder, RgbImage};

const DHT: u8 = 0xC4;
const SOS: u8 = 0xDA;

/// The frame as is if it carries Huffman tables, else with the standard ones inserted before its scan.
pub(crate) fn with_huffman_tables(frame: Vec<u8>) -> Vec<u8> {
    let Some((has_dht, sos)) = scan_headers(&frame) else {
        // Not a JPEG we can walk: left for the format check to refuse.
        return frame;
    };
    let tables = standard_tables();
    if has_dht || tables.is_empty() {
        return frame;
    }
    let mut whole = Vec::with_capacity(frame.len() + tables.len());
    whole.extend_from_slice(&frame[..sos]);
    whole.extend_from_slice(tables);
    whole.extend_from_slice(&frame[sos..]);
    whole
}

/// Walks the marker segments up to the first scan: (a DHT was seen, offset of the SOS marker).
fn scan_headers(jpeg: &[u8]) -> Option<(bool, usize)> {
    let mut at = 2; // after SOI
    let mut has_dht = false;
    loop {
        let marker = *jpeg.get(at..at + 2)?.get(1)?;
        if jpeg[at] != 0xFF {
            return None;
        }
        if marker == SOS {
            return Some((has_dht, at));
        }
        has_dht |= marker == DHT;
        let len = jpeg.get(at + 2..at + 4)?;
        at += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
}

/// The four DHT segments of ITU T.81 Annex K.3, as the `image` encoder writes them (it always
/// uses the standard tables), so no table is typed in by hand here.
fn standard_tables() -> &'static [u8] {
    static TABLES: OnceLock<Vec<u8>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut jpeg = Vec::new();
        if JpegEncoder::new(&mut jpeg)
            .encode_image(&RgbImage::new(8, 8))
            .is_err()
        {
            return Vec::new();
        }
        let mut tables = Vec::new();
        let mut at = 2;
        while let Some(&[0xFF, marker, hi, lo]) = jpeg.get(at..at + 4) {
            if marker == SOS {
                break;
            }
            let end = at + 2 + usize::from(u16::from_be_bytes([hi, lo]));
            if marker == DHT {
                tables.extend_from_slice(jpeg.get(at..end).unwrap_or_default());
            }
            at = end;
        }
        tables
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient_jpeg() -> Vec<u8> {
        let img = RgbImage::from_fn(32, 24, |x, y| {
            image::Rgb([(x * 8) as u8, (y * 10) as u8, 90])
        });
        let mut jpeg = Vec::new();
        assert!(JpegEncoder::new(&mut jpeg).encode_image(&img).is_ok());
        jpeg
    }

    /// The same JPEG as a webcam would send it: every DHT segment cut out.
    fn without_tables(jpeg: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        let mut at = 2;
        while let Some(&[0xFF, marker, hi, lo]) = jpeg.get(at..at + 4) {
            if marker == SOS {
                break;
            }
            let end = at + 2 + usize::from(u16::from_be_bytes([hi, lo]));
            if marker != DHT {
                out.extend_from_slice(&jpeg[at..end]);
            }
            at = end;
        }
        out.extend_from_slice(&jpeg[at..]);
        out
    }

    #[test]
    fn tables_put_back_give_the_encoder_s_file_byte_for_byte() {
        let jpeg = gradient_jpeg();
        let mjpg = without_tables(&jpeg);
        assert!(mjpg.len() + 400 < jpeg.len(), "no tables were cut");
        assert!(
            image::load_from_memory(&mjpg).is_err(),
            "decodes without tables"
        );
        assert_eq!(with_huffman_tables(mjpg), jpeg);
    }

    #[test]
    fn frames_with_tables_or_unreadable_left_alone() {
        let jpeg = gradient_jpeg();
        assert_eq!(with_huffman_tables(jpeg.clone()), jpeg);
        assert_eq!(with_huffman_tables(b"garbage".to_vec()), b"garbage");
        assert_eq!(with_huffman_tables(jpeg[..10].to_vec()), jpeg[..10]);
    }
}
