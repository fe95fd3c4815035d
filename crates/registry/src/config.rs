//! Where a registry keeps its files, and the limits it enforces.

use std::path::{Path, PathBuf};

use ghidanh_bundle::BundleId;

/// Largest bundle body accepted over HTTP: the format's 64 MiB ciphertext limit plus
/// room for the signed header (itself at most 16 KiB) and framing.
pub const BUNDLE_BODY_LIMIT: usize = 64 * 1024 * 1024 + 64 * 1024;

/// Largest registration body accepted over HTTP; a registration is a few hundred bytes.
pub const REGISTRATION_BODY_LIMIT: usize = 64 * 1024;

/// The layout of a registry data directory.
#[derive(Debug, Clone)]
pub(crate) struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub(crate) fn new(root: &Path) -> DataDir {
        DataDir {
            root: root.to_path_buf(),
        }
    }

    #[cfg(test)]
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.root.join("registry.db")
    }

    pub(crate) fn key_file(&self) -> PathBuf {
        self.root.join("registry.key")
    }

    pub(crate) fn blobs(&self) -> PathBuf {
        self.root.join("blobs")
    }

    /// Partial bytes of resumable uploads, beside the finished blobs.
    pub(crate) fn uploads(&self) -> PathBuf {
        self.blobs().join("uploads")
    }

    pub(crate) fn upload_part(&self, upload_id: &str) -> PathBuf {
        self.uploads().join(format!("{upload_id}.part"))
    }

    /// The published reference updates, the latest of each list.
    pub(crate) fn reference(&self) -> PathBuf {
        self.root.join("reference")
    }

    pub(crate) fn reference_update(&self, list: ghidanh_record::reference::List) -> PathBuf {
        self.reference().join(format!("{}.gdref", list.name()))
    }

    pub(crate) fn blob(&self, bundle_id: BundleId) -> PathBuf {
        self.blobs().join(format!("{bundle_id}.gdb"))
    }
}
