//! Fingerprints: synthetic images, quality, ISO/IEC 19794-4 records.
