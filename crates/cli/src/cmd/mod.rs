//! One module per command group.

pub mod bundle;
pub mod device;
pub mod registry;
