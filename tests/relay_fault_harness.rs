//! The sync promise through the district relay, under faults: many real kits (`ghidanh
//! kit-sim`) send to a real relay (`registry serve --mode relay`) through one fault-injecting
//! proxy, and the relay forwards to the real central registry through another, while the
//! relay and central are each SIGKILLed and restarted at random moments. At the end central
//! holds exactly one enrollment per bundle, every kit holds a verified accepted receipt for
//! every bundle it sealed (custody from the relay first, then central's receipt through it),
//! the relay holds nothing un-forwarded, and no step was manual.
//!
//! Sizes as in `fault_harness.rs` (`GHIDANH_HARNESS_KITS`, `GHIDANH_HARNESS_BUNDLES`,
//! `GHIDANH_HARNESS_SEED`). Needs `cargo build -p ghidanh-cli` first.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ghidanh_tests::fault_proxy::{FaultProxy, FaultStats};
use ghidanh_tests::harness::{ensure_exactly_once, link_faults, provision_kits, HarnessSize, Kits};
use ghidanh_tests::process::free_ports;
use ghidanh_tests::relay::{RelayData, RelayProcess};
use ghidanh_tests::{RegistryData, RegistryProcess};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// When each of relay and central is next SIGKILLed: every 2–5 s, independently.
fn next_kill(rng: &mut StdRng) -> Instant {
    Instant::now() + Duration::from_millis(rng.gen_range(2000..5000))
}

fn ensure_faults_happened(link: &str, s: &FaultStats) -> Result<()> {
    let summary = s.summary();
    ensure!(
        s.resets.load(Ordering::Relaxed) > 0,
        "{link}: no cut: {summary}"
    );
    ensure!(
        s.duplicates.load(Ordering::Relaxed) > 0,
        "{link}: no duplicate: {summary}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundle_through_the_relay_arrives_exactly_once_through_faults_and_kills_of_relay_and_central(
) -> Result<()> {
    let HarnessSize {
        kits,
        per_kit,
        seed,
    } = HarnessSize::from_env();
    eprintln!("relay fault harness: {kits} kits x {per_kit} bundles, seed {seed}");

    let root = tempfile::tempdir()?;
    let [central_port, relay_port, kit_link_port, upstream_link_port] = free_ports()?;
    let addr = |port: u16| -> Result<SocketAddr> { Ok(format!("127.0.0.1:{port}").parse()?) };
    let (central, relay_addr) = (addr(central_port)?, addr(relay_port)?);
    let (kit_link, upstream_link) = (addr(kit_link_port)?, addr(upstream_link_port)?);
    let kit_url = format!("http://{kit_link}");

    // Kits know only their link to the relay; the relay knows only its link to central.
    let data = RegistryData::create(root.path(), &kit_url)?;
    let relay_data = RelayData::create(root.path(), &data)?;
    let provisioning = provision_kits(root.path(), &data, &kit_url, kits)?;
    let upstream_url = format!("http://{upstream_link}");
    let start_relay = || RelayProcess::start(&relay_data, &relay_addr.to_string(), &upstream_url);
    let mut central_proc = Some(RegistryProcess::start(&data, &central.to_string())?);
    let mut relay_proc = Some(start_relay()?);
    let kit_proxy = FaultProxy::start(kit_link, relay_addr, link_faults(seed)).await?;
    let upstream_proxy =
        FaultProxy::start(upstream_link, central, link_faults(seed.wrapping_add(1))).await?;
    let mut kit_sims = Kits::start(
        root.path(),
        &provisioning,
        per_kit,
        Duration::from_secs(600),
    )?;

    let mut rng = StdRng::seed_from_u64(seed);
    let (mut relay_kills, mut central_kills) = (0, 0);
    let started = Instant::now();
    let mut kill_relay_at = Instant::now() + Duration::from_millis(rng.gen_range(500..1500));
    let mut kill_central_at = next_kill(&mut rng);
    while !kit_sims.all_done()? {
        if started.elapsed() > Duration::from_secs(900) {
            bail!(
                "{} kits still running after 15 minutes; kit link {}; upstream link {}",
                kit_sims.running(),
                kit_proxy.stats.summary(),
                upstream_proxy.stats.summary()
            );
        }
        if Instant::now() >= kill_relay_at {
            if let Some(r) = relay_proc.take() {
                r.kill_hard();
            }
            relay_kills += 1;
            tokio::time::sleep(Duration::from_millis(rng.gen_range(100..800))).await;
            relay_proc = Some(start_relay()?);
            kill_relay_at = next_kill(&mut rng);
        }
        if Instant::now() >= kill_central_at {
            if let Some(c) = central_proc.take() {
                c.kill_hard();
            }
            central_kills += 1;
            tokio::time::sleep(Duration::from_millis(rng.gen_range(100..800))).await;
            central_proc = Some(RegistryProcess::start(&data, &central.to_string())?);
            kill_central_at = next_kill(&mut rng);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let sealed = kit_sims.sealed(per_kit)?;
    ensure!(
        sealed.len() == kits * per_kit,
        "{} bundles sealed",
        sealed.len()
    );
    ensure_exactly_once(&data, &sealed)?;
    // A kit holds central's receipt only once the relay stored it, and the relay lets the
    // bytes go in the same commit: nothing may be left waiting there.
    let health: serde_json::Value = serde_json::from_slice(
        &reqwest::get(format!("http://{relay_addr}/api/v1/health"))
            .await?
            .bytes()
            .await?,
    )?;
    ensure!(
        health["pending"].as_u64().context("pending")? == 0,
        "the relay still holds bundles: {health}"
    );
    ensure!(
        relay_kills >= 1 && central_kills >= 1,
        "a process was never killed"
    );
    ensure_faults_happened("kit link", &kit_proxy.stats)?;
    ensure_faults_happened("upstream link", &upstream_proxy.stats)?;
    eprintln!(
        "relay fault harness: {} bundles from {kits} kits in {:.0?}, {relay_kills} relay kills, \
         {central_kills} central kills; kit link {}; upstream link {}",
        sealed.len(),
        started.elapsed(),
        kit_proxy.stats.summary(),
        upstream_proxy.stats.summary()
    );
    drop((relay_proc, central_proc));
    Ok(())
}
