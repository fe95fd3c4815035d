/// Why a sync step failed. Transport failures are retried; the rest are reported.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No answer (connection refused, timeout, DNS): try again later.
    #[error("registry unreachable: {0}")]
    Unreachable(String),
    /// The registry answered with an HTTP error.
    #[error("registry answered HTTP {status} ({code})")]
    Http {
        /// HTTP status.
        status: u16,
        /// The `code` of the JSON error body, when there was one.
        code: String,
    },
    /// The registry's upload answers break the protocol (no offset, a foreign Location).
    #[error("registry broke the upload protocol: {0}")]
    Protocol(&'static str),
    /// The receipt does not parse or its signature does not verify.
    #[error("receipt refused: {0}")]
    BadReceipt(ghidanh_bundle::Error),
    /// A valid receipt about other bytes than the ones sent.
    #[error("receipt is for another submission")]
    ReceiptMismatch,
    /// The vault failed.
    #[error("vault: {0}")]
    Vault(#[from] ghidanh_vault::VaultError),
}

impl SyncError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Unreachable(_) => true,
            SyncError::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            // A receipt that fails to verify may be a proxy's error page: retry.
            SyncError::BadReceipt(_) | SyncError::ReceiptMismatch => true,
            // A proxy in the way, or a registry mid-upgrade: try again later.
            SyncError::Protocol(_) => true,
            SyncError::Vault(_) => false,
        }
    }
}
