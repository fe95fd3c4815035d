//! The parts of the sync fault harnesses (central only, and through the relay) that do not
//! depend on the route: how big a run is, provisioning and running the simulated kits
//! (`ghidanh kit-sim`, one process each), the fault plan of a link, and the final count at
//! the central registry.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use rand::Rng;

use crate::fault_proxy::FaultPlan;
use crate::registry::{ghidanh, ghidanh_binary, RegistryData};

/// How big a run is: `GHIDANH_HARNESS_KITS` (default 20) kits × `GHIDANH_HARNESS_BUNDLES`
/// (default 100) bundles each, faults and kills drawn from `GHIDANH_HARNESS_SEED` (random
/// unless set, and printed, so a failing run can be replayed).
#[derive(Debug, Clone, Copy)]
pub struct HarnessSize {
    /// Simulated kits, one process each.
    pub kits: usize,
    /// Bundles each kit seals.
    pub per_kit: usize,
    /// Seed of every random choice of the run.
    pub seed: u64,
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

impl HarnessSize {
    /// The size from the environment, with the defaults of `make test`.
    pub fn from_env() -> HarnessSize {
        HarnessSize {
            kits: env_parse("GHIDANH_HARNESS_KITS").unwrap_or(20),
            per_kit: env_parse("GHIDANH_HARNESS_BUNDLES").unwrap_or(100),
            seed: env_parse("GHIDANH_HARNESS_SEED").unwrap_or_else(|| rand::thread_rng().gen()),
        }
    }
}

/// The faults of one link: rare cuts, stalls and answers cut short, frequent duplicated
/// requests (the fault that tests "never counted twice" hardest).
pub fn link_faults(seed: u64) -> FaultPlan {
    FaultPlan {
        reset_per_mille: 8,
        stall_per_mille: 8,
        stall: Duration::from_millis(300),
        truncate_per_mille: 8,
        duplicate_per_mille: 30,
        bytes_per_sec: None,
        seed,
    }
}

/// Provisioning files for `count` devices of `data`'s registry, all sending to `url`: the
/// first is the one `RegistryData::create` made (which must name the same URL).
pub fn provision_kits(
    root: &Path,
    data: &RegistryData,
    url: &str,
    count: usize,
) -> Result<Vec<PathBuf>> {
    let mut provisioning = vec![data.provisioning.clone()];
    for i in 1..count {
        let out = root.join(format!("device-{i}.gdprov"));
        ghidanh(&[
            "device",
            "provision",
            "--data",
            data.dir.to_str().context("path")?,
            "--url",
            url,
            "--out",
            out.to_str().context("path")?,
            "--label",
            &format!("harness {i}"),
        ])?;
        provisioning.push(out);
    }
    Ok(provisioning)
}

/// The running simulated kits and, once each has exited, its output.
pub struct Kits {
    children: Vec<Option<Child>>,
    outputs: Vec<Option<Output>>,
}

impl Kits {
    /// Starts one `ghidanh kit-sim` per provisioning file, each sealing `per_kit` bundles in
    /// its own folder under `root` and waiting (at most `timeout`) for every receipt.
    pub fn start(
        root: &Path,
        provisioning: &[PathBuf],
        per_kit: usize,
        timeout: Duration,
    ) -> Result<Kits> {
        let bin = ghidanh_binary()?;
        let mut children = Vec::new();
        for (i, prov) in provisioning.iter().enumerate() {
            let child = Command::new(&bin)
                .args(["kit-sim", "--provisioning"])
                .arg(prov)
                .arg("--dir")
                .arg(root.join(format!("kit-{i}")))
                .args([
                    "--enrollments",
                    &per_kit.to_string(),
                    "--timeout-secs",
                    &timeout.as_secs().to_string(),
                ])
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .context("start kit-sim")?;
            children.push(Some(child));
        }
        let outputs = children.iter().map(|_| None).collect();
        Ok(Kits { children, outputs })
    }

    /// Collects the kits that have exited; true once all have.
    pub fn all_done(&mut self) -> Result<bool> {
        for (child, out) in self.children.iter_mut().zip(&mut self.outputs) {
            if let Some(c) = child {
                if c.try_wait()?.is_some() {
                    if let Some(c) = child.take() {
                        *out = Some(c.wait_with_output()?);
                    }
                }
            }
        }
        Ok(self.outputs.iter().all(Option::is_some))
    }

    /// How many kits are still running.
    pub fn running(&self) -> usize {
        self.children.iter().filter(|c| c.is_some()).count()
    }

    /// Checks that every kit exited cleanly with a verified accepted receipt for each of its
    /// `per_kit` bundles; returns every bundle id sealed (no id sealed by two kits).
    pub fn sealed(mut self, per_kit: usize) -> Result<BTreeSet<String>> {
        let mut sealed = BTreeSet::new();
        for (i, out) in std::mem::take(&mut self.outputs).into_iter().enumerate() {
            let out = out.context("a kit is still running")?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            ensure!(
                out.status.success(),
                "kit {i} did not finish ({}): {text} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_str(text.trim()).context("kit-sim JSON")?;
            ensure!(v["accepted"] == per_kit, "kit {i}: {v}");
            for b in v["bundles"].as_array().context("bundles")? {
                let b = b.as_str().context("bundle id")?.to_owned();
                ensure!(sealed.insert(b.clone()), "bundle {b} sealed by two kits");
            }
        }
        Ok(sealed)
    }
}

impl Drop for Kits {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The central registry holds exactly one accepted enrollment per sealed bundle, and nothing
/// else.
pub fn ensure_exactly_once(data: &RegistryData, sealed: &BTreeSet<String>) -> Result<()> {
    let stored = data.accepted_bundles()?;
    let at_registry: BTreeSet<String> = stored
        .iter()
        .filter_map(|b| b["bundleId"].as_str().map(str::to_owned))
        .collect();
    ensure!(
        stored.len() == at_registry.len(),
        "a bundle is stored twice: {} rows, {} ids",
        stored.len(),
        at_registry.len()
    );
    ensure!(
        &at_registry == sealed,
        "the registry holds {} bundles, the kits sealed {}",
        at_registry.len(),
        sealed.len()
    );
    Ok(())
}
