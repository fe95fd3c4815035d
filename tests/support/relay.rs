//! A district relay for the cross-process tests: `ghidanh registry init --mode relay`,
//! certified by a central registry, and `serve --mode relay` on loopback.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::process::{spawn_listening, ChildGuard};
use crate::registry::{ghidanh, ghidanh_binary, RegistryData};

/// A relay's data folder, certified by the central registry, and its upstream keys file.
pub struct RelayData {
    /// The relay's data folder.
    pub dir: PathBuf,
    /// The central registry's public keys, as the relay verifies its receipts with.
    pub upstream_keys: PathBuf,
}

impl RelayData {
    /// `registry init --mode relay`, certified by `central`, with its upstream keys file.
    pub fn create(root: &Path, central: &RegistryData) -> Result<RelayData> {
        let dir = root.join("relay");
        let dir_s = dir.to_str().context("non-UTF-8 temp path")?;
        let central_s = central.dir.to_str().context("non-UTF-8 temp path")?;
        let out = ghidanh(&["registry", "init", "--mode", "relay", "--data", dir_s])?;
        let key = out
            .lines()
            .find_map(|l| l.strip_prefix("relay key "))
            .with_context(|| format!("no relay key in {out}"))?
            .trim()
            .to_owned();
        let cert = dir.join("relay.cert");
        ghidanh(&[
            "registry",
            "certify-relay",
            "--data",
            central_s,
            "--relay-key",
            &key,
            "--out",
            cert.to_str().context("non-UTF-8 temp path")?,
        ])?;
        let upstream_keys = root.join("upstream.keys");
        std::fs::write(
            &upstream_keys,
            ghidanh(&["registry", "public-keys", "--data", central_s])?,
        )?;
        Ok(RelayData { dir, upstream_keys })
    }
}

/// A running `ghidanh registry serve --mode relay`; killed on drop.
pub struct RelayProcess {
    child: ChildGuard,
}

impl RelayProcess {
    /// Starts the relay on `listen`, forwarding to `upstream`, and waits until it listens.
    pub fn start(data: &RelayData, listen: &str, upstream: &str) -> Result<RelayProcess> {
        let mut cmd = Command::new(ghidanh_binary()?);
        cmd.args(["registry", "serve", "--mode", "relay", "--data"])
            .arg(&data.dir)
            .args([
                "--listen",
                listen,
                "--upstream",
                upstream,
                "--upstream-keys",
            ])
            .arg(&data.upstream_keys)
            .args(["--forward-initial-ms", "100", "--forward-max-ms", "400"])
            // A `relay import` (another process) holds bundles: forward them within 200 ms.
            .args(["--forward-poll-ms", "200"]);
        let (child, _) = spawn_listening("relay", cmd)?;
        Ok(RelayProcess { child })
    }

    /// SIGKILL, at once.
    pub fn kill_hard(mut self) {
        self.child.kill_hard();
    }
}
