//! A directory of image files served as a camera: the webcam's test double, and the demo's camera.

use std::fs;
use std::path::{Path, PathBuf};

use crate::image_check::probe;
use crate::{CameraError, Frame, FrameSource};

/// Image files (*.jpg, *.jpeg, *.png) from one directory, one per call, in name order, looping.
#[derive(Debug)]
pub struct FramesDir {
    dir: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
}

impl FramesDir {
    /// Lists the directory's images now; refuses a missing directory or one without images.
    pub fn open(dir: &Path) -> Result<FramesDir, CameraError> {
        let refuse = |reason: String| CameraError::FramesDir {
            path: dir.to_path_buf(),
            reason,
        };
        let entries = fs::read_dir(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => refuse("does not exist".into()),
            std::io::ErrorKind::NotADirectory => refuse("is not a directory".into()),
            _ => CameraError::Io {
                path: dir.to_path_buf(),
                source: e,
            },
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CameraError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            // The extension only picks candidates; the format itself is sniffed from the bytes.
            if has_image_extension(&path) && path.is_file() {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(refuse("holds no *.jpg, *.jpeg or *.png file".into()));
        }
        files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        Ok(FramesDir {
            dir: dir.to_path_buf(),
            files,
            next: 0,
        })
    }

    /// The files served, in the order they are served.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

impl FrameSource for FramesDir {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let path = &self.files[self.next];
        self.next = (self.next + 1) % self.files.len();
        // Read per call, not at open: a demo directory may hold many large frames.
        let bytes = fs::read(path).map_err(|source| CameraError::Io {
            path: path.clone(),
            source,
        })?;
        probe(bytes)
    }

    fn describe(&self) -> String {
        let n = self.files.len();
        let files = if n == 1 { "file" } else { "files" };
        format!("Frames from {} ({n} {files}, looping)", self.dir.display())
    }
}

fn has_image_extension(path: &Path) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    // Cameras and phones write upper-case names (IMG_0001.JPG).
    ["jpg", "jpeg", "png"]
        .iter()
        .any(|known| ext.eq_ignore_ascii_case(known))
}
