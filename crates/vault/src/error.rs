/// What went wrong in the vault. Messages never hold personal data or key material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// No key wrap opens with this passphrase.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The vault (or an item in it) already exists.
    #[error("already exists")]
    AlreadyExists,
    /// Something is not there.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// An enrollment is not in the state the operation needs.
    #[error("enrollment is {actual}, not {expected}")]
    WrongState {
        /// The state needed.
        expected: &'static str,
        /// The state found.
        actual: String,
    },
    /// A move the enrollment life does not allow (see `EnrollmentState::can_become`).
    #[error("an enrollment cannot go from {from} to {to}")]
    IllegalTransition {
        /// The state it is in.
        from: crate::EnrollmentState,
        /// The state asked for.
        to: crate::EnrollmentState,
    },
    /// Wrong passphrases came too fast: unlocking waits (growing delay per failure).
    #[error("too many wrong passphrases; try again in {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds until the next try is allowed.
        retry_after_secs: u64,
    },
    /// Another account already opens with this passphrase (unlock names the operator by the
    /// passphrase, so two accounts cannot share one).
    #[error("passphrase already used by another account")]
    PassphraseInUse,
    /// Only a supervisor may do this (add an operator, reset a passphrase, approve).
    #[error("only a supervisor may {0}")]
    NotSupervisor(&'static str),
    /// The disk is full: nothing of this change was written, everything before it is kept.
    #[error("disk full while trying to {0}")]
    DiskFull(&'static str),
    /// The file system is read-only: nothing of this change was written.
    #[error("read-only file system while trying to {0}")]
    ReadOnly(&'static str),
    /// The registry revoked this device and the vault destroyed its data.
    #[error("this device was revoked and its vault wiped")]
    Wiped,
    /// A file of the vault is damaged.
    #[error("vault is damaged: {0}")]
    Corrupt(&'static str),
    /// The provisioning file does not parse or verify.
    #[error("provisioning file refused: {0}")]
    Provisioning(ghidanh_bundle::Error),
    /// A file-system operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A cryptographic primitive failed (not a wrong passphrase).
    #[error("crypto: {0}")]
    Crypto(&'static str),
}

impl VaultError {
    pub(crate) fn io(what: &'static str, source: std::io::Error) -> VaultError {
        VaultError::Io { what, source }
    }
}
