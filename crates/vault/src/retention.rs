//! Retention: purging personal data once the registry holds it.
