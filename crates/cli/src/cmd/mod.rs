//! One module per command group.

pub mod bench;
pub mod bench_biometrics;
pub mod bench_ingest;
pub mod bench_vault;
pub mod bundle;
pub mod device;
pub mod id;
pub mod kit_sim;
pub mod loadgen;
pub mod mrz;
pub mod name;
pub mod qr;
pub mod record;
pub mod registry;
pub mod sbi_sim;
pub mod stick;
pub mod text_input;
pub mod vault;
