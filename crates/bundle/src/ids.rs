//! Identifiers: UUID newtypes (v7, so they sort by creation time) and digests.

use std::fmt;

use sha2::Digest;
use uuid::Uuid;

use crate::Error;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUIDv7).
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            /// From the 16 bytes of the wire form.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                $name(Uuid::from_bytes(bytes))
            }

            /// The 16 bytes of the wire form.
            pub fn to_bytes(self) -> [u8; 16] {
                self.0.into_bytes()
            }

            /// Parses the hyphenated text form.
            pub fn parse(s: &str) -> Result<Self, Error> {
                Uuid::try_parse(s.trim()).map($name).map_err(|_| Error::Field {
                    field: stringify!($name),
                    rule: "not a UUID",
                })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }
    };
}

uuid_id!(
    /// One bundle (one enrollment travels as one bundle).
    BundleId
);
uuid_id!(
    /// A kit device, assigned by the registry when it provisions the device.
    DeviceId
);
uuid_id!(
    /// One enrollment (one person at one capture session).
    EnrollmentId
);
uuid_id!(
    /// An operator account on a kit.
    OperatorId
);
uuid_id!(
    /// A receipt signed by the registry.
    ReceiptId
);

/// A BLAKE3-256 digest: what the envelope header commits the ciphertext with.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Blake3(pub [u8; 32]);

impl Blake3 {
    /// Digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Blake3 {
        Blake3(*blake3::hash(bytes).as_bytes())
    }

    /// Lower-case hex.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Blake3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blake3({})", self.to_hex())
    }
}

impl fmt::Display for Blake3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// Digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// Lower-case hex.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
