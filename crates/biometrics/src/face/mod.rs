//! The portrait: detection, checks, ICAO token crop, ISO/IEC 19794-5 record.
