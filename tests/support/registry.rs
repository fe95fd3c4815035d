//! The real `ghidanh` registry as a separate process on loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;

use crate::paths;
use crate::process::{spawn_listening, ChildGuard};

/// Overrides the path of the `ghidanh` binary.
pub const ENV_GHIDANH_BIN: &str = "GHIDANH_BIN";

/// Absolute path of the `ghidanh` binary built next to the tests.
pub fn ghidanh_binary() -> Result<PathBuf> {
    let path = match std::env::var_os(ENV_GHIDANH_BIN).filter(|v| !v.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => paths::profile_dir()?.join("ghidanh"),
    };
    ensure!(
        path.is_file(),
        "{} not found: run `cargo build -p ghidanh-cli` first, or set {ENV_GHIDANH_BIN}",
        path.display()
    );
    Ok(std::path::absolute(&path)?)
}

/// Runs `ghidanh ARGS` to completion; fails with its stderr when it fails.
pub fn ghidanh(args: &[&str]) -> Result<String> {
    let out = Command::new(ghidanh_binary()?)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running ghidanh")?;
    if !out.status.success() {
        bail!(
            "ghidanh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A registry data folder with a provisioned device.
pub struct RegistryData {
    /// The registry's data folder.
    pub dir: PathBuf,
    /// The device's provisioning file.
    pub provisioning: PathBuf,
}

impl RegistryData {
    /// `ghidanh registry init` + `ghidanh device provision` for a registry at `url`.
    pub fn create(root: &Path, url: &str) -> Result<RegistryData> {
        let dir = root.join("registry");
        let provisioning = root.join("device.gdprov");
        let dir_s = dir.to_str().context("non-UTF-8 temp path")?;
        let prov_s = provisioning.to_str().context("non-UTF-8 temp path")?;
        ghidanh(&["registry", "init", "--data", dir_s])?;
        ghidanh(&[
            "device",
            "provision",
            "--data",
            dir_s,
            "--url",
            url,
            "--out",
            prov_s,
            "--label",
            "e2e",
        ])?;
        Ok(RegistryData { dir, provisioning })
    }

    /// The accepted bundles, from `ghidanh registry bundles --json`.
    pub fn accepted_bundles(&self) -> Result<Vec<Value>> {
        let out = ghidanh(&[
            "registry",
            "bundles",
            "--data",
            self.dir.to_str().context("non-UTF-8 path")?,
            "--json",
        ])?;
        out.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).with_context(|| format!("bad JSON line {l}")))
            .collect()
    }
}

/// A running `ghidanh registry serve`; killed on drop.
pub struct RegistryProcess {
    child: ChildGuard,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
}

impl RegistryProcess {
    /// Starts the registry on `listen` and waits until it prints its address.
    pub fn start(data: &RegistryData, listen: &str) -> Result<RegistryProcess> {
        let mut cmd = Command::new(ghidanh_binary()?);
        cmd.args(["registry", "serve", "--data"])
            .arg(&data.dir)
            .args(["--listen", listen]);
        let (child, url) = spawn_listening("registry", cmd)?;
        Ok(RegistryProcess { child, url })
    }

    /// SIGKILL, at once: the registry gets no chance to flush or finish anything.
    pub fn kill_hard(mut self) {
        self.child.kill_hard();
    }
}
