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
    /// SQLite failed (other than disk full or read-only, which have their own variants).
    #[error("database: {0}")]
    Sqlite(rusqlite::Error),
    /// A cryptographic primitive failed (not a wrong passphrase).
    #[error("crypto: {0}")]
    Crypto(&'static str),
}

/// What a database failure was doing, as the app shows it: SQLite does not say whether it
/// was reading or writing, and every vault call that can fail this way is a change.
const DB_WRITE: &str = "write to the vault database";
/// Opening needs to write too: SQLCipher's WAL keeps a `-shm` file beside the database.
const DB_OPEN: &str = "open the vault database";

// errno values, Linux and the BSDs alike (used when the kind alone does not tell).
const EFBIG: i32 = 27;
const ENOSPC: i32 = 28;
const EROFS: i32 = 30;

impl VaultError {
    /// The one conversion point for file-system errors: a full disk or a read-only file
    /// system gets its own variant, so the app can say so instead of "I/O error".
    pub(crate) fn io(what: &'static str, source: std::io::Error) -> VaultError {
        match classify_io(&source) {
            Some(Fault::Full) => VaultError::DiskFull(what),
            Some(Fault::ReadOnly) => VaultError::ReadOnly(what),
            None => VaultError::Io { what, source },
        }
    }

    /// A failure to open or first read `path`. SQLite reports a WAL database on a read-only
    /// file system as plain `SQLITE_CANTOPEN` (it cannot make the `-shm` file) with an
    /// unrelated errno, so the file itself is asked: opening it for writing (no create, no
    /// truncate: nothing changes) fails with EROFS exactly when the file system is read-only.
    pub(crate) fn open_failure(path: &std::path::Path, e: rusqlite::Error) -> VaultError {
        let cannot_open = matches!(
            &e,
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::CannotOpen
        );
        let classified = VaultError::from(e);
        if cannot_open && matches!(classified, VaultError::Sqlite(_)) {
            if let Err(probe) = std::fs::OpenOptions::new().write(true).open(path) {
                if let Some(fault) = classify_io(&probe) {
                    return match fault {
                        Fault::Full => VaultError::DiskFull(DB_OPEN),
                        Fault::ReadOnly => VaultError::ReadOnly(DB_OPEN),
                    };
                }
            }
        }
        classified
    }
}

/// The I/O faults the app explains to the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Full,
    ReadOnly,
}

fn classify_io(e: &std::io::Error) -> Option<Fault> {
    use std::io::ErrorKind;
    match e.kind() {
        // FileTooLarge (EFBIG) is the file-size-limit flavour of a full disk: a process
        // under RLIMIT_FSIZE (or a file system's own per-file cap) cannot grow the file.
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge => {
            Some(Fault::Full)
        }
        ErrorKind::ReadOnlyFilesystem => Some(Fault::ReadOnly),
        _ => match e.raw_os_error() {
            Some(ENOSPC | EFBIG) => Some(Fault::Full),
            Some(EROFS) => Some(Fault::ReadOnly),
            _ => None,
        },
    }
}

impl From<rusqlite::Error> for VaultError {
    fn from(e: rusqlite::Error) -> VaultError {
        use rusqlite::{ffi, ErrorCode};
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                // SQLITE_FULL: the disk, or the file-size limit (a write that crossed it).
                ErrorCode::DiskFull => VaultError::DiskFull(DB_WRITE),
                // Every SQLITE_READONLY_* extended code (read-only file, directory, moved
                // file, recovery needed on a read-only WAL) has this primary code.
                ErrorCode::ReadOnly => VaultError::ReadOnly(DB_WRITE),
                // A refused open or write: the errno says whether the disk was the cause.
                ErrorCode::CannotOpen => errno_fault(e),
                ErrorCode::SystemIoFailure
                    if matches!(
                        f.extended_code,
                        ffi::SQLITE_IOERR_WRITE
                            | ffi::SQLITE_IOERR_TRUNCATE
                            | ffi::SQLITE_IOERR_SHMSIZE
                            | ffi::SQLITE_IOERR_SHMOPEN
                    ) =>
                {
                    errno_fault(e)
                }
                _ => VaultError::Sqlite(e),
            },
            _ => VaultError::Sqlite(e),
        }
    }
}

/// SQLite keeps the errno of a failed open or write to itself (SQLITE_FULL only comes from
/// a write that ran out part-way; a write refused outright with ENOSPC, EFBIG or EROFS is a
/// plain I/O error). The thread's errno still holds it when the call returns: nothing after
/// the failure makes another failing system call. Only the extended codes of opening,
/// writing and growing a file get here, so a stale errno cannot relabel anything else.
fn errno_fault(e: rusqlite::Error) -> VaultError {
    match classify_io(&std::io::Error::last_os_error()) {
        Some(Fault::Full) => VaultError::DiskFull(DB_WRITE),
        Some(Fault::ReadOnly) => VaultError::ReadOnly(DB_WRITE),
        None => VaultError::Sqlite(e),
    }
}
