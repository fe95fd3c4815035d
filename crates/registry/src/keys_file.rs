//! The registry's key file: the 64 secret bytes (`signing || sealing`) in hex, mode 0600.
//!
//! The keys sit on the server's disk, protected only by file permissions. Keeping them in
//! an HSM or a cloud KMS, so that a copied disk does not leak them, is future work.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use ghidanh_bundle::RegistryKeys;
use zeroize::Zeroizing;

use crate::blobs::sync_dir;
use crate::RegistryError;

/// Writes a new key file; refuses to overwrite one (that would orphan every sealed bundle).
pub(crate) fn create(path: &Path, keys: &RegistryKeys) -> Result<(), RegistryError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            RegistryError::AlreadyInitialised(path.to_path_buf())
        } else {
            RegistryError::io("creating key file", path, e)
        }
    })?;
    let mut text = Zeroizing::new(hex::encode(keys.secret_bytes().as_slice()));
    text.push('\n');
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| RegistryError::io("writing key file", path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Reads the key file.
pub(crate) fn read(path: &Path) -> Result<RegistryKeys, RegistryError> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            RegistryError::NotInitialised(path.parent().unwrap_or(path).to_path_buf())
        } else {
            RegistryError::io("reading key file", path, e)
        }
    })?);
    let bad = |rule| RegistryError::KeyFile {
        path: path.to_path_buf(),
        rule,
    };
    let mut secret = Zeroizing::new([0u8; 64]);
    hex::decode_to_slice(text.trim(), secret.as_mut_slice())
        .map_err(|_| bad("not 128 hex digits"))?;
    RegistryKeys::from_secret_bytes(&secret).map_err(|_| bad("not a registry key pair"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_the_file_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.key");
        let keys = RegistryKeys::generate();
        create(&path, &keys).unwrap();
        assert_eq!(
            read(&path).unwrap().public().key_id(),
            keys.public().key_id()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            create(&path, &RegistryKeys::generate()),
            Err(RegistryError::AlreadyInitialised(_))
        ));
    }

    #[test]
    fn a_damaged_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.key");
        fs::write(&path, "abcd\n").unwrap();
        assert!(matches!(read(&path), Err(RegistryError::KeyFile { .. })));
    }
}
