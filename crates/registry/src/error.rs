//! The registry's error type.
//!
//! Messages name paths and steps, never bundle contents: they end up in logs.

use std::path::PathBuf;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// `init` found an existing registry.
    #[error("{0} already holds a registry; refusing to overwrite its keys")]
    AlreadyInitialised(PathBuf),
    /// The data directory has no registry (run `init` first).
    #[error("{0} holds no registry (run `ghidanh registry init` first)")]
    NotInitialised(PathBuf),
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What we were doing.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The key file is not 64 secret bytes in hex.
    #[error("key file {path} is unreadable: {rule}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        rule: &'static str,
    },
    /// The embedded reference data is broken (a build problem, not a user one).
    #[error("reference data: {0}")]
    Reference(ghidanh_record::reference::ReferenceError),
    /// A reference update to publish is not newer than the one published (or embedded).
    #[error("{list}: version {version:?} is not newer than {current:?}")]
    NotNewer {
        /// The list.
        list: &'static str,
        /// The version refused.
        version: String,
        /// The version published, or embedded if none was.
        current: String,
    },
    /// A reference update cannot be signed as given (its version's shape, its size).
    #[error("{list}: cannot publish: {detail}")]
    BadPublication {
        /// The list.
        list: &'static str,
        /// Why.
        detail: String,
    },
    /// A stored reference update is damaged or not the registry's.
    #[error("reference update {path}: {rule}")]
    ReferenceFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        rule: &'static str,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The database was written by a newer registry.
    #[error("database schema version {found} is newer than this registry supports ({supported})")]
    SchemaTooNew {
        /// Version on disk.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The database holds a value this build cannot read.
    #[error("database holds a malformed {0}")]
    Corrupt(&'static str),
    /// A registry URL for a provisioning file is not http(s).
    #[error("registry URL must start with http:// or https://")]
    InvalidUrl,
    /// No device with this id was ever provisioned here.
    #[error("no device {0} was provisioned by this registry")]
    UnknownDevice(ghidanh_bundle::DeviceId),
    /// The transaction a submission's rows shared with others failed (group commit); the
    /// first error, as text.
    #[error("group commit: {0}")]
    GroupCommit(String),
    /// A blocking task panicked or was cancelled.
    #[error("background task failed")]
    Task,
}

impl RegistryError {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RegistryError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
