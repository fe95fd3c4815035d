//! The scanner interface: a subset of MOSIP SBI 2.0 (docs/sbi.md): client and simulated device.
