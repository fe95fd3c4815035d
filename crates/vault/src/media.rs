//! Portrait and fingerprint images, kept inside the encrypted database.
