//! Harness for the end-to-end tests of the Ghi Danh desktop app.
//!
//! [`webdriver::AppSession::launch`] starts a display (Xvfb, unless `$DISPLAY`
//! is set), `tauri-driver` on free ports, and a WebDriver session that opens
//! the real `ghidanh-app` binary. Every process it starts is killed when the
//! session is dropped, also when the test panics.
//!
//! The app must be built first: `cargo build -p ghidanh-app` (or run
//! `scripts/e2e.sh`, which builds it and then runs the tests).

#![forbid(unsafe_code)]

pub mod capture;
pub mod fault_proxy;
pub mod harness;
pub mod kit;
pub mod paths;
pub mod process;
pub mod registry;
pub mod relay;
pub mod webdriver;

pub use registry::{ghidanh, RegistryData, RegistryProcess};
pub use webdriver::{AppSession, LaunchOptions};
