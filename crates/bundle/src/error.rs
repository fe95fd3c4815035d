/// Why bytes from outside were refused, or a cryptographic step failed.
///
/// Messages never contain the bytes themselves: they may hold personal data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// Fewer bytes than the layout needs.
    #[error("truncated: {0}")]
    Truncated(&'static str),
    /// The first eight bytes are not the expected magic.
    #[error("not a {0}: wrong magic bytes")]
    BadMagic(&'static str),
    /// The body length field is over the limit.
    #[error("{what} body of {len} bytes is over the {max}-byte limit")]
    BodyTooLong {
        /// Which structure.
        what: &'static str,
        /// Length read.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// Bytes after the end of a structure that has no trailer.
    #[error("{0} bytes after the end of the structure")]
    TrailingBytes(usize),
    /// The CBOR body did not decode into the expected structure.
    #[error("malformed CBOR in {what}: {detail}")]
    Cbor {
        /// Which structure.
        what: &'static str,
        /// The decoder's complaint (about structure, never about values).
        detail: String,
    },
    /// The CBOR is valid but not in deterministic encoding (spec § "Deterministic CBOR").
    #[error("{0} is not in deterministic CBOR encoding")]
    NotDeterministic(&'static str),
    /// A CBOR map has the same key twice.
    #[error("duplicate map key in {0}")]
    DuplicateKey(&'static str),
    /// A field has the wrong size or value.
    #[error("field {field}: {rule}")]
    Field {
        /// Field name as in the spec.
        field: &'static str,
        /// Rule broken.
        rule: &'static str,
    },
    /// A version this implementation does not know.
    #[error("unsupported version {0}")]
    UnsupportedVersion(u64),
    /// The Ed25519 signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The ciphertext's length or hash differs from what the signed header says.
    #[error("ciphertext does not match the signed header ({0})")]
    CiphertextMismatch(&'static str),
    /// The bundle is sealed to another registry key.
    #[error("sealed to key {found}, not to {expected}")]
    WrongRecipient {
        /// Key id in the header.
        found: String,
        /// Our key id.
        expected: String,
    },
    /// HPKE open failed (wrong key or altered ciphertext).
    #[error("cannot open the sealed payload")]
    OpenFailed,
    /// HPKE seal failed.
    #[error("cannot seal the payload")]
    SealFailed,
}

impl Error {
    /// A stable, machine-readable code for the error (the `expect:` values of
    /// `schema/vectors/` and the `error` field of `ghidanh bundle … --json`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Truncated(_) => "truncated",
            Error::BadMagic(_) => "bad_magic",
            Error::BodyTooLong { .. } => "body_too_long",
            Error::TrailingBytes(_) => "trailing_bytes",
            Error::Cbor { .. } => "malformed_cbor",
            Error::NotDeterministic(_) => "not_deterministic",
            Error::DuplicateKey(_) => "duplicate_key",
            Error::Field { .. } => "bad_field",
            Error::UnsupportedVersion(_) => "unsupported_version",
            Error::BadSignature => "bad_signature",
            Error::CiphertextMismatch(_) => "ciphertext_mismatch",
            Error::WrongRecipient { .. } => "wrong_recipient",
            Error::OpenFailed => "open_failed",
            Error::SealFailed => "seal_failed",
        }
    }
}
