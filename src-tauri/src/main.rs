//! Ghi Danh desktop app entry point. Everything lives in the library so that
//! tests and future mobile targets can reuse it.

// Hide the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
#![forbid(unsafe_code)]

fn main() {
    ghidanh_app::run();
}
