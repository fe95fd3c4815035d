//! Durable file writes for bundle blobs.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use rand::RngCore;

use crate::RegistryError;

/// Writes `bytes` to `path` so that, once this returns, the file survives a power cut:
/// temp file, fsync, rename over the final name, fsync the directory (the rename is
/// only durable once the directory entry is). The temp file's name is random: two writers
/// of one path never share a temp file, and the last rename wins whole.
pub(crate) fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let dir = path.parent().ok_or_else(|| {
        RegistryError::io(
            "no parent directory for",
            path,
            std::io::ErrorKind::InvalidInput.into(),
        )
    })?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    let mut nonce = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut nonce);
    tmp_name.push(format!(".{}.tmp", hex::encode(nonce)));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = File::create(&tmp).map_err(|e| RegistryError::io("creating", &tmp, e))?;
        file.write_all(bytes)
            .map_err(|e| RegistryError::io("writing", &tmp, e))?;
        file.sync_all()
            .map_err(|e| RegistryError::io("syncing", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| RegistryError::io("renaming into", path, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        // Best effort: a stray temp file is harmless but untidy.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Makes a directory's entries (new or renamed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), RegistryError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| RegistryError::io("syncing directory", dir, e))
}
