//! Where things are: the workspace, the app binary, tauri-driver, outputs.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Overrides the app binary the tests launch.
pub const ENV_APP_BIN: &str = "GHIDANH_APP_BIN";
/// Overrides the `tauri-driver` binary.
pub const ENV_TAURI_DRIVER: &str = "TAURI_DRIVER";

/// Root of the Cargo workspace (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate lives inside the workspace")
        .to_path_buf()
}

/// `<workspace>/target/e2e-screens`: screenshots, kept after the run.
pub fn screens_dir() -> PathBuf {
    workspace_root().join("target").join("e2e-screens")
}

/// `<workspace>/target/e2e-logs`: output of tauri-driver (which includes
/// WebKitWebDriver's and the app's) and of Xvfb, kept after the run.
pub fn logs_dir() -> PathBuf {
    workspace_root().join("target").join("e2e-logs")
}

/// The profile directory this test binary was built into, e.g.
/// `<target>/debug`. Derived from the running executable
/// (`<target>/debug/deps/app_e2e-<hash>`), so it follows `CARGO_TARGET_DIR`,
/// `build.target-dir` in a Cargo config, `--release` and `--target`.
pub fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the test executable")?;
    let deps = exe.parent().context("test executable has no parent dir")?;
    if deps.file_name() != Some(OsStr::new("deps")) {
        bail!(
            "cannot derive the target dir from {} (expected .../deps/...); set {ENV_APP_BIN}",
            exe.display()
        );
    }
    Ok(deps
        .parent()
        .context("deps dir has no parent")?
        .to_path_buf())
}

/// Absolute path of the `ghidanh-app` binary built next to the tests.
pub fn app_binary() -> Result<PathBuf> {
    let path = match std::env::var_os(ENV_APP_BIN).filter(|v| !v.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => profile_dir()?.join("ghidanh-app"),
    };
    if !path.is_file() {
        bail!(
            "app binary {} not found: run `cargo build -p ghidanh-app` first \
             (same CARGO_TARGET_DIR and profile as the tests), or set {ENV_APP_BIN}",
            path.display()
        );
    }
    std::path::absolute(&path).with_context(|| format!("absolute path of {}", path.display()))
}

/// `tauri-driver`: `$TAURI_DRIVER`, else `$PATH`, else `$CARGO_HOME/bin`.
pub fn tauri_driver() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(ENV_TAURI_DRIVER).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .map(|home| home.join("bin"));
    match find_executable("tauri-driver", cargo_bin.as_deref()) {
        Some(path) => Ok(path),
        None => bail!("tauri-driver not found: run scripts/install-tauri-driver.sh"),
    }
}

/// Finds `name` on `$PATH`, then in `extra`.
pub fn find_executable(name: &str, extra: Option<&Path>) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.map(Path::to_path_buf))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
