//! The kit's sync engine.
//!
//! A background task that, whenever the registry answers, registers the device once and
//! uploads every sealed bundle in the outbox, oldest first. It verifies each receipt's
//! signature and that it is about the bytes sent before the vault changes any state.
//! Failures back off exponentially with jitter; nothing here ever blocks the UI.
//! Down-sync: the device revocation (a verified `device_revoked` wipes the vault) and the
//! registry's signed reference updates ([`reference`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod backoff;
mod budget;
mod client;
mod error;
pub mod reference;
pub mod stick;
mod worker;

pub use backoff::Backoff;
pub use budget::{Budget, BUDGET_SPENT_SETTING, DAILY_ALLOWANCE_SETTING};
pub use client::{
    verify_relay_certificate, Client, OfferedUpdate, ReceiptLookup, Registration, UploadAnswer,
};
pub use error::SyncError;
pub use worker::{
    spawn, SyncActivity, SyncConfig, SyncHandle, SyncProblem, CUSTODY_PENDING_SETTING,
    LAST_CONTACT_SETTING,
};
