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

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Result};
use ghidanh_tests::fault_proxy::FaultProxy;
use ghidanh_tests::harness::{ensure_exactly_once, link_faults, provision_kits, HarnessSize, Kits};
use ghidanh_tests::process::free_ports;
use ghidanh_tests::{RegistryData, RegistryProcess};
use rand::{Rng, SeedableRng};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundle_arrives_exactly_once_through_faults_and_registry_kills() -> Result<()> {
    let size = HarnessSize::from_env();
    let HarnessSize {
        kits,
        per_kit,
        seed,
    } = size;
    eprintln!("fault harness: {kits} kits x {per_kit} bundles, seed {seed}");

    let root = tempfile::tempdir()?;
    let [central_port, proxy_port] = free_ports()?;
    let central: SocketAddr = format!("127.0.0.1:{central_port}").parse()?;
    let proxy_addr: SocketAddr = format!("127.0.0.1:{proxy_port}").parse()?;
    let proxy_url = format!("http://{proxy_addr}");

    // The kits know only the proxy: every byte they send crosses the faulty link.
    let data = RegistryData::create(root.path(), &proxy_url)?;
    let provisioning = provision_kits(root.path(), &data, &proxy_url, kits)?;
    let mut registry = Some(RegistryProcess::start(&data, &central.to_string())?);
    let proxy = FaultProxy::start(proxy_addr, central, link_faults(seed)).await?;
    let mut kit_sims = Kits::start(
        root.path(),
        &provisioning,
        per_kit,
        Duration::from_secs(600),
    )?;

    // SIGKILL the registry (first within 1.5 s, then every 2–5 s) until every kit is done,
    // restarting it on the same port.
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut kills = 0;
    let started = Instant::now();
    let mut next_kill = Instant::now() + Duration::from_millis(rng.gen_range(500..1500));
    while !kit_sims.all_done()? {
        if started.elapsed() > Duration::from_secs(900) {
            bail!(
                "{} kits still running after 15 minutes; {}",
                kit_sims.running(),
                proxy.stats.summary()
            );
        }
        if Instant::now() >= next_kill {
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

    let sealed = kit_sims.sealed(per_kit)?;
    ensure!(
        sealed.len() == kits * per_kit,
        "{} bundles sealed",
        sealed.len()
    );
    ensure_exactly_once(&data, &sealed)?;
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
