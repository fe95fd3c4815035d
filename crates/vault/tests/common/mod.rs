//! Helpers shared by the vault's integration tests: reading every file of a vault folder
//! and looking for plaintext in it.
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;

/// Every file of the vault folder with all its bytes, by name.
pub fn all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            assert!(
                e.file_type().unwrap().is_file(),
                "unexpected non-file {:?} in the vault folder",
                e.file_name()
            );
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Every `window`-byte slice of `pattern`: a file holding any of them holds part of it.
pub struct Windows {
    len: usize,
    set: HashSet<Vec<u8>>,
}

impl Windows {
    /// All windows of `pattern` of `len` bytes.
    pub fn of(pattern: &[u8], len: usize) -> Windows {
        Windows {
            len,
            set: pattern.windows(len).map(<[u8]>::to_vec).collect(),
        }
    }

    /// The offset in `hay` of the first window of the pattern found there.
    pub fn find_in(&self, hay: &[u8]) -> Option<usize> {
        hay.windows(self.len).position(|w| self.set.contains(w))
    }
}

/// Deterministic bytes that do not occur by chance (xorshift64*; no dependency needed).
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
