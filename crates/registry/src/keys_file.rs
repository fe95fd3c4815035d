//! The registry's key file, mode 0600: one line per key pair, each the 64 secret bytes
//! (`signing || sealing`) in hex, oldest first; the last line is the current key.
//! The one-line file of the walking skeleton is the same format with a single key.
//!
//! The keys sit on the server's disk, protected only by file permissions. Keeping them in
//! an HSM or a cloud KMS, so that a copied disk does not leak them, is future work.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use ghidanh_bundle::{Keyring, RegistryKeys};
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
    file.write_all(text_of(std::iter::once(keys)).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| RegistryError::io("writing key file", path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

fn text_of<'a>(keys: impl Iterator<Item = &'a RegistryKeys>) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    for k in keys {
        text.push_str(&Zeroizing::new(hex::encode(k.secret_bytes().as_slice())));
        text.push('\n');
    }
    text
}

/// Adds a fresh key pair as the current key, keeping every older one so that bundles sealed
/// to them still open. Writes a new file and renames it over the old one, so a crash leaves
/// either the old keyring or the new one, never half of it.
pub(crate) fn rotate(path: &Path) -> Result<Keyring, RegistryError> {
    let mut ring = read(path)?;
    ring.rotate(RegistryKeys::generate())
        .map_err(|_| RegistryError::KeyFile {
            path: path.to_path_buf(),
            rule: "fresh key collides with a held key",
        })?;
    let tmp = path.with_extension("key.new");
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&tmp)
        .map_err(|e| RegistryError::io("creating key file", &tmp, e))?;
    file.write_all(text_of(ring.keys()).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| RegistryError::io("writing key file", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| RegistryError::io("replacing key file", path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(ring)
}

/// Reads the key file: every key, the last one current.
pub(crate) fn read(path: &Path) -> Result<Keyring, RegistryError> {
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
    let mut keys = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut secret = Zeroizing::new([0u8; 64]);
        hex::decode_to_slice(line, secret.as_mut_slice())
            .map_err(|_| bad("a line is not 128 hex digits"))?;
        keys.push(
            RegistryKeys::from_secret_bytes(&secret).map_err(|_| bad("not a registry key pair"))?,
        );
    }
    Keyring::from_keys(keys).map_err(|_| bad("no key, or the same key twice"))
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
            read(&path).unwrap().current().public().key_id(),
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

    #[test]
    fn rotation_keeps_old_keys_and_the_one_key_file_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.key");
        let first = RegistryKeys::generate();
        // The walking skeleton's file: one line of 128 hex digits.
        fs::write(
            &path,
            format!("{}\n", hex::encode(first.secret_bytes().as_slice())),
        )
        .unwrap();
        let ring = rotate(&path).unwrap();
        let ids: Vec<_> = ring.keys().map(|k| k.public().key_id().clone()).collect();
        assert_eq!(ids.len(), 2);
        assert_eq!(&ids[0], first.public().key_id());
        let again = read(&path).unwrap();
        assert_eq!(
            again.current().public().key_id(),
            ring.current().public().key_id()
        );
        assert_ne!(again.current().public().key_id(), first.public().key_id());
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
