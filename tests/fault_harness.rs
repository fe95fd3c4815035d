//! The sync promise under faults: many real kits (`ghidanh kit-sim`, one process each: vault,
//! finalise and the background sync worker) send to the real registry through a
//! fault-injecting proxy (cut connections, stalls, answers cut short, duplicated requests)
//! while the registry is SIGKILLed and restarted at random moments. At the end the registry
//! holds exactly one enrollment per bundle, and every kit holds a verified accepted receipt
//! for every bundle it sealed, with no manual step.
//!
//! Sizes: `GHIDANH_HARNESS_KITS` (default 20) kits × `GHIDANH_HARNESS_BUNDLES` (default 100)
//! bundles each; `make soak` runs it ten times longer. Needs `cargo build -p ghidanh-cli` first.

#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ghidanh_tests::fault_proxy::{FaultPlan, FaultProxy};
use ghidanh_tests::process::free_ports;
use ghidanh_tests::registry::ghidanh_binary;
use ghidanh_tests::{ghidanh, RegistryData, RegistryProcess};
use rand::{Rng, SeedableRng};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundle_arrives_exactly_once_through_faults_and_registry_kills() -> Result<()> {
    let kits = env_usize("GHIDANH_HARNESS_KITS", 20);
    let per_kit = env_usize("GHIDANH_HARNESS_BUNDLES", 100);
    let seed: u64 = std::env::var("GHIDANH_HARNESS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    eprintln!("fault harness: {kits} kits x {per_kit} bundles, seed {seed}");

    let root = tempfile::tempdir()?;
    let [central_port, proxy_port] = free_ports()?;
    let central: SocketAddr = format!("127.0.0.1:{central_port}").parse()?;
    let proxy_addr: SocketAddr = format!("127.0.0.1:{proxy_port}").parse()?;
    let proxy_url = format!("http://{proxy_addr}");

    // The kits know only the proxy: every byte they send crosses the faulty link.
    let data = RegistryData::create(root.path(), &proxy_url)?;
    let mut provisioning = vec![data.provisioning.clone()];
    for i in 1..kits {
        let out = root.path().join(format!("device-{i}.gdprov"));
        ghidanh(&[
            "device",
            "provision",
            "--data",
            data.dir.to_str().context("path")?,
            "--url",
            &proxy_url,
            "--out",
            out.to_str().context("path")?,
            "--label",
            &format!("harness {i}"),
        ])?;
        provisioning.push(out);
    }
    let mut registry = Some(RegistryProcess::start(&data, &central.to_string())?);
    let proxy = FaultProxy::start(
        proxy_addr,
        central,
        FaultPlan {
            reset_per_mille: 8,
            stall_per_mille: 8,
            stall: Duration::from_millis(300),
            truncate_per_mille: 8,
            duplicate_per_mille: 30,
            bytes_per_sec: None,
            seed,
        },
    )
    .await?;

    let bin = ghidanh_binary()?;
    let mut children: Vec<Child> = Vec::new();
    for (i, prov) in provisioning.iter().enumerate() {
        let child = Command::new(&bin)
            .args(["kit-sim", "--provisioning"])
            .arg(prov)
            .arg("--dir")
            .arg(root.path().join(format!("kit-{i}")))
            .args([
                "--enrollments",
                &per_kit.to_string(),
                "--timeout-secs",
                "600",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("start kit-sim")?;
        children.push(child);
    }

    // SIGKILL the registry (first within 1.5 s, then every 2–5 s) until every kit is done,
    // restarting it on the same port.
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut kills = 0;
    let mut outputs: Vec<Option<std::process::Output>> = (0..kits).map(|_| None).collect();
    let started = Instant::now();
    let mut next_kill = Instant::now() + Duration::from_millis(rng.gen_range(500..1500));
    while outputs.iter().any(Option::is_none) {
        for (i, child) in children.iter_mut().enumerate() {
            if outputs[i].is_none() && child.try_wait()?.is_some() {
                let out =
                    std::mem::replace(child, Command::new("true").spawn().context("placeholder")?);
                outputs[i] = Some(out.wait_with_output()?);
            }
        }
        if started.elapsed() > Duration::from_secs(900) {
            for c in &mut children {
                let _ = c.kill();
            }
            bail!(
                "kits still running after 15 minutes; {}",
                proxy.stats.summary()
            );
        }
        if Instant::now() >= next_kill && outputs.iter().any(Option::is_none) {
            if let Some(r) = registry.take() {
                r.kill_hard();
            }
            kills += 1;
            tokio::time::sleep(Duration::from_millis(rng.gen_range(100..800))).await;
            registry = Some(RegistryProcess::start(&data, &central.to_string())?);
            next_kill = Instant::now() + Duration::from_millis(rng.gen_range(2000..5000));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut sealed = BTreeSet::new();
    for (i, out) in outputs.into_iter().enumerate() {
        let out = out.context("kit output")?;
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
    ensure!(
        sealed.len() == kits * per_kit,
        "{} bundles sealed",
        sealed.len()
    );

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
        at_registry == sealed,
        "the registry holds {} bundles, the kits sealed {}",
        at_registry.len(),
        sealed.len()
    );
    // The faults really happened (a harness that injects nothing proves nothing).
    let s = &proxy.stats;
    let summary = s.summary();
    ensure!(kills >= 1, "the registry was never killed");
    ensure!(s.resets.load(Ordering::Relaxed) > 0, "no cut: {summary}");
    ensure!(
        s.duplicates.load(Ordering::Relaxed) > 0,
        "no duplicate: {summary}"
    );
    eprintln!(
        "fault harness: {} bundles from {kits} kits in {:.0?}, {kills} registry kills; {summary}",
        sealed.len(),
        started.elapsed()
    );
    drop(registry);
    Ok(())
}
