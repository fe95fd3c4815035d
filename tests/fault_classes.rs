//! One focused test per fault class of the sync harness: real kits (`ghidanh kit-sim`) send
//! to the real registry (`ghidanh registry serve`) through the fault-injecting proxy with
//! only that fault switched on, often. Each ends with exactly one enrollment per bundle at
//! the registry and an accepted receipt in every kit, and checks that the fault struck.
//! The slow link is tested with a 400 KB bundle that must resume, not restart. Registry and
//! relay kills have their own tests (`registry_kill.rs`, `relay_process.rs`).
//! Needs `cargo build -p ghidanh-cli` first.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Result};
use ghidanh_bundle::testkit::sample_payload;
use ghidanh_bundle::{seal, DeviceKey, DeviceRegistration, Provisioning, Sha256, Verdict};
use ghidanh_sync::{Client, Registration};
use ghidanh_tests::fault_proxy::{FaultPlan, FaultProxy, FaultStats};
use ghidanh_tests::harness::{ensure_exactly_once, provision_kits, Kits};
use ghidanh_tests::process::free_ports;
use ghidanh_tests::{RegistryData, RegistryProcess};

const KITS: usize = 2;
const PER_KIT: usize = 10;

/// Two kits × ten bundles through a link with `plan`; returns what the proxy did.
async fn through(plan: FaultPlan, struck: fn(&FaultStats) -> &AtomicU64) -> Result<String> {
    let root = tempfile::tempdir()?;
    let [central_port, proxy_port] = free_ports()?;
    let central: SocketAddr = format!("127.0.0.1:{central_port}").parse()?;
    let proxy_addr: SocketAddr = format!("127.0.0.1:{proxy_port}").parse()?;
    let proxy_url = format!("http://{proxy_addr}");
    let data = RegistryData::create(root.path(), &proxy_url)?;
    let provisioning = provision_kits(root.path(), &data, &proxy_url, KITS)?;
    let _registry = RegistryProcess::start(&data, &central.to_string())?;
    let proxy = FaultProxy::start(proxy_addr, central, plan).await?;
    let mut kits = Kits::start(
        root.path(),
        &provisioning,
        PER_KIT,
        Duration::from_secs(120),
    )?;
    let started = Instant::now();
    while !kits.all_done()? {
        if started.elapsed() > Duration::from_secs(150) {
            bail!("kits still running: {}", proxy.stats.summary());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sealed = kits.sealed(PER_KIT)?;
    ensure!(sealed.len() == KITS * PER_KIT, "{} sealed", sealed.len());
    ensure_exactly_once(&data, &sealed)?;
    let summary = proxy.stats.summary();
    ensure!(
        struck(&proxy.stats).load(Ordering::Relaxed) > 0,
        "the fault never struck: {summary}"
    );
    Ok(summary)
}

fn only(seed: u64) -> FaultPlan {
    FaultPlan {
        seed,
        ..FaultPlan::CLEAN
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_in_the_middle() -> Result<()> {
    let plan = FaultPlan {
        reset_per_mille: 60,
        ..only(11)
    };
    eprintln!("resets: {}", through(plan, |s| &s.resets).await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalls_longer_than_a_second() -> Result<()> {
    let plan = FaultPlan {
        stall_per_mille: 60,
        stall: Duration::from_millis(1200),
        ..only(12)
    };
    eprintln!("stalls: {}", through(plan, |s| &s.stalls).await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_cut_short() -> Result<()> {
    // The registry has decided (and stored) but the kit gets half a receipt: it must send
    // again and get the same answer or a duplicate naming the first, never a second row.
    let plan = FaultPlan {
        truncate_per_mille: 150,
        ..only(13)
    };
    eprintln!("truncations: {}", through(plan, |s| &s.truncations).await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_sent_twice() -> Result<()> {
    let plan = FaultPlan {
        duplicate_per_mille: 1000,
        ..only(14)
    };
    eprintln!("duplicates: {}", through(plan, |s| &s.duplicates).await?);
    Ok(())
}

/// A 400 KB bundle over a slow link (128 KB/s) that is cut now and then: each cut costs at
/// most the bytes in flight that had not reached the registry, because the registry syncs
/// what a cut request brought and the upload resumes from its offset. Started over from
/// zero, the bytes sent would grow by a whole bundle per cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_kb_bundle_on_a_slow_cut_link_resumes_instead_of_restarting() -> Result<()> {
    let root = tempfile::tempdir()?;
    let [central_port, proxy_port] = free_ports()?;
    let central: SocketAddr = format!("127.0.0.1:{central_port}").parse()?;
    let proxy_addr: SocketAddr = format!("127.0.0.1:{proxy_port}").parse()?;
    let proxy_url = format!("http://{proxy_addr}");
    let data = RegistryData::create(root.path(), &proxy_url)?;
    let prov = Provisioning::parse(&std::fs::read(&data.provisioning)?)?;
    let _registry = RegistryProcess::start(&data, &central.to_string())?;
    let proxy = FaultProxy::start(
        proxy_addr,
        central,
        FaultPlan {
            // About one cut every 130 KB: a bundle started over from zero each time would
            // hardly ever get through whole.
            reset_per_mille: 60,
            bytes_per_sec: Some(128 * 1024),
            ..only(15)
        },
    )
    .await?;
    let client = Client::new(&proxy_url, prov.registry.clone(), Duration::from_secs(30))?;

    let key = DeviceKey::generate();
    let registration = DeviceRegistration::sign(prov.device_id, &prov.token, &key);
    let mut registered = false;
    for _ in 0..20 {
        if let Ok(Registration::Registered) = client.register(registration.clone()).await {
            registered = true;
            break;
        }
    }
    ensure!(registered, "never registered: {}", proxy.stats.summary());
    let mut payload = sample_payload(prov.device_id);
    if let Some(face) = payload.biometrics.face.as_mut() {
        face.image = vec![0xA5; 400 * 1024];
    }
    let bundle = seal(&payload, &key, &prov.registry, 1_790_000_100)?;
    ensure!(bundle.len() > 400 * 1024);
    let before = proxy.stats.upstream_bytes.load(Ordering::Relaxed);
    let resets_before = proxy.stats.resets.load(Ordering::Relaxed);

    let mut tries = 0;
    let receipt = loop {
        tries += 1;
        match client.upload(&bundle).await {
            Ok((receipt, _)) => break receipt,
            // As the sync worker does: every failure is tried again later. (A request cut
            // in its body may get the registry's 400 for the short body back.)
            Err(_) if tries < 40 => continue,
            Err(e) => bail!("upload failed for good after {tries} tries: {e}"),
        }
    };
    ensure!(
        receipt.verdict == Verdict::Accepted,
        "{:?}",
        receipt.verdict
    );
    ensure!(receipt.submission_sha256 == Sha256::of(&bundle));
    let sent = proxy.stats.upstream_bytes.load(Ordering::Relaxed) - before;
    let cuts = proxy.stats.resets.load(Ordering::Relaxed) - resets_before;
    ensure!(
        cuts > 0,
        "the link was never cut: {}",
        proxy.stats.summary()
    );
    // Each cut may lose what was in flight (the proxy's chunk, socket buffers: well under
    // 64 KiB) plus the requests' headers; nothing more.
    let bound = bundle.len() as u64 + cuts * (64 * 1024 + 4096) + 16 * 1024;
    ensure!(
        sent <= bound,
        "{sent} bytes sent for a {} byte bundle with {cuts} cuts (bound {bound}): restarted?",
        bundle.len()
    );
    let stored = data.accepted_bundles()?;
    ensure!(stored.len() == 1, "the registry holds {}", stored.len());
    eprintln!(
        "slow link: {} bytes bundle, {sent} bytes sent, {cuts} cuts, {tries} tries",
        bundle.len()
    );
    Ok(())
}
