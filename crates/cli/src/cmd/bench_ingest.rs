//! `ghidanh bench ingest`: bundles per second and latency of a real registry on loopback
//! against writing the same bytes to files with the registry's own durability, as a ratio.
//!
//! Ours: a registry in a temporary folder (embedded SQLite + blob files), served in this
//! process on its own runtime at 127.0.0.1:0, fed by `ghidanh loadgen`'s devices over HTTP:
//! upload, verify, open, validate, store, sign, and the receipt verified by the device.
//! Twice, on fresh bundles: by resumable upload (the kit's way, the headline) and by one
//! `POST /api/v1/bundles` each (the same ingest without the per-piece durability).
//! Baseline: the same sealed bytes, the same concurrency, and per bundle exactly the
//! registry's fsyncs for a stored bundle: `blobs::write_durably` (temp file, write, fsync,
//! rename, fsync the folder) then one 4 KiB record appended to a journal and made durable
//! by an fdatasync, which is SQLite's commit in WAL mode with `synchronous=FULL`; with the
//! registry's group commit: one fdatasync makes every record appended before it durable,
//! and a writer whose record an earlier fdatasync covered does not sync again (one syncer
//! at a time, as SQLite has one writer). The disk is the same for both: the temporary folder. And, to tell the
//! registry's own cost from HTTP's and the client's, `Registry::ingest` called directly.
//! Each side runs in rounds of [`ROUND`] bundles, in turn, so a burst of other load on a
//! shared machine slows all sides alike.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use ghidanh_bundle::{Provisioning, Verdict};

use super::loadgen::{ms, quantile, Fleet, Pass, Report, Sealed, Upload};

/// Goal from issue 5: the registry ingests at least half the baseline's bundles per second.
const GOAL: f64 = 0.5;

/// Bundles per side per round.
const ROUND: usize = 50;

/// Bytes of the journal record the baseline commits per bundle: one SQLite page.
const JOURNAL_RECORD: usize = 4096;

pub struct Options {
    pub bundles: usize,
    pub devices: usize,
    pub concurrency: Option<usize>,
    pub size: usize,
    pub dir: Option<PathBuf>,
}

pub fn run(o: Options) -> anyhow::Result<ExitCode> {
    if o.bundles == 0 || o.devices == 0 {
        bail!("--bundles and --devices must be at least 1");
    }
    let concurrency = o.concurrency.unwrap_or(o.devices).max(1);
    let parent = o.dir.clone().unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::Builder::new()
        .prefix("ghidanh-bench-ingest-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot make a temporary folder in {}", parent.display()))?;
    let data = tmp.path().join("registry");
    ghidanh_registry::init(&data).context("cannot create the registry")?;

    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("cannot listen on loopback")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let provisioning = (0..o.devices)
        .map(|i| {
            let (_, bytes) =
                ghidanh_registry::provision_device(&data, &url, &format!("bench device {i}"))?;
            Ok(Provisioning::parse(&bytes)?)
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .context("cannot provision the devices")?;

    // The registry on its own runtime, as in its own process: its threads are not the
    // load generator's.
    let registry = Arc::new(ghidanh_registry::Registry::open(&data)?);
    let in_process = registry.clone();
    let server = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("registry")
        .build()
        .context("cannot start the registry's runtime")?;
    server.spawn(async move {
        match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => {
                if let Err(e) = ghidanh_registry::serve_with(registry, l).await {
                    tracing::error!(error = %e, "the bench registry failed");
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot serve the bench registry"),
        }
    });

    let client = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("loadgen")
        .build()
        .context("cannot start the load generator's runtime")?;
    let (fleet, warmup, resumable, post, direct) = client.block_on(async {
        let fleet = Fleet::connect(&url, provisioning).await?;
        let seal = |n| fleet.seal_bundles(n, o.size).map(Arc::new);
        let sets = (
            seal(concurrency)?,
            seal(o.bundles)?,
            seal(o.bundles)?,
            seal(o.bundles)?,
        );
        anyhow::Ok((Arc::new(fleet), sets.0, sets.1, sets.2, sets.3))
    })?;
    let baseline_dir = tmp.path().join("baseline");
    std::fs::create_dir(&baseline_dir)?;
    let journal = Journal::open(&baseline_dir.join("journal"))?;
    // Connections, SQLite's cache, the folders: warm for the measured rounds.
    let warm = client.block_on(fleet.pass(warmup.clone(), concurrency, Upload::Resumable));
    let warm = Report::new(&warmup, warm, None);
    baseline(&baseline_dir, &journal, &warmup, concurrency)?;

    // Rounds of each side in turn: a burst of someone else's load on this shared machine
    // then slows every side alike instead of whichever ran during it.
    let (mut resumable_pass, mut post_pass) = (Pass::default(), Pass::default());
    let (mut direct_elapsed, mut direct_lat) = (Duration::ZERO, Vec::new());
    let (mut base_elapsed, mut base_lat) = (Duration::ZERO, Vec::new());
    let round = ROUND.max(concurrency);
    for first in (0..o.bundles).step_by(round) {
        let r = first..(first + round).min(o.bundles);
        resumable_pass.append(client.block_on(fleet.pass_range(
            resumable.clone(),
            r.clone(),
            concurrency,
            Upload::Resumable,
        )));
        post_pass.append(client.block_on(fleet.pass_range(
            post.clone(),
            r.clone(),
            concurrency,
            Upload::Post,
        )));
        // Where the time goes: the same ingest called directly, without HTTP or a client.
        let (elapsed, lat) = ingest_directly(&in_process, &direct[r.clone()], concurrency)?;
        direct_elapsed += elapsed;
        direct_lat.extend(lat);
        let (elapsed, lat) = baseline(&baseline_dir, &journal, &resumable[r], concurrency)?;
        base_elapsed += elapsed;
        base_lat.extend(lat);
    }
    drop(client);
    server.shutdown_timeout(Duration::from_secs(5));
    let ours = Report::new(&resumable, resumable_pass, None);
    let single = Report::new(&post, post_pass, None);
    for (what, r) in [("warm-up", &warm), ("resumable", &ours), ("post", &single)] {
        if !r.ok() {
            let c = &r.counts;
            bail!(
                "the registry did not accept every bundle ({what}): accepted {}, duplicate {}, \
                 rejected {}, errors {} ({:?})",
                c.accepted,
                c.duplicate,
                c.rejected,
                c.errors,
                c.reasons
            );
        }
    }
    base_lat.sort_unstable();
    direct_lat.sort_unstable();
    let direct_bps = direct.len() as f64 / direct_elapsed.as_secs_f64().max(1e-9);

    let bytes = ours.bytes / ours.bundles as u64;
    let base_bps = resumable.len() as f64 / base_elapsed.as_secs_f64().max(1e-9);
    let base_mbs = ours.bytes as f64 / base_elapsed.as_secs_f64().max(1e-9) / 1e6;
    let base_p99 = quantile(&base_lat, 0.99);
    let ratio = ours.bundles_per_sec() / base_bps;
    println!(
        "bench ingest: {} bundles of {bytes} bytes ({} of biometrics) per row from {} devices, \
         concurrency {concurrency}, registry at {url}, store in {}",
        ours.bundles,
        o.size,
        fleet.devices(),
        parent.display()
    );
    println!(
        "{:<52} {:>10} {:>8} {:>9} {:>9} {:>7} {:>9}",
        "side", "bundles/s", "MB/s", "p50 ms", "p99 ms", "ratio", "p99 ratio"
    );
    for (name, r) in [
        ("registry, resumable uploads (the kit's way)", &ours),
        ("registry, one POST per bundle", &single),
    ] {
        println!(
            "{:<52} {:>10.1} {:>8.1} {:>9.1} {:>9.1} {:>7.2} {:>9.2}",
            name,
            r.bundles_per_sec(),
            r.mb_per_sec(),
            ms(r.p50()),
            ms(r.p99()),
            r.bundles_per_sec() / base_bps,
            ms(r.p99()) / ms(base_p99).max(1e-9)
        );
    }
    println!(
        "{:<52} {:>10.1} {:>8.1} {:>9.1} {:>9.1} {:>7.2} {:>9.2}",
        "  of which: Registry::ingest in-process, no HTTP",
        direct_bps,
        ours.bytes as f64 / direct_elapsed.as_secs_f64().max(1e-9) / 1e6,
        ms(quantile(&direct_lat, 0.50)),
        ms(quantile(&direct_lat, 0.99)),
        direct_bps / base_bps,
        ms(quantile(&direct_lat, 0.99)) / ms(base_p99).max(1e-9)
    );
    println!(
        "{:<52} {:>10.1} {:>8.1} {:>9.1} {:>9.1} {:>7.2} {:>9.2}",
        "baseline: write_durably + journal fdatasync",
        base_bps,
        base_mbs,
        ms(quantile(&base_lat, 0.50)),
        ms(base_p99),
        1.0,
        1.0
    );
    println!("ingest_throughput ratio={ratio:.2} goal={GOAL}");
    Ok(ExitCode::SUCCESS)
}

/// Stores every bundle the baseline way, `concurrency` threads at a time; returns the
/// elapsed time and each bundle's latency.
fn baseline(
    dir: &Path,
    journal: &Journal,
    bundles: &[Sealed],
    concurrency: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let next = AtomicUsize::new(0);
    let record = [0x5au8; JOURNAL_RECORD];
    let start = Instant::now();
    let results = std::thread::scope(|s| {
        let workers: Vec<_> = (0..concurrency.clamp(1, bundles.len().max(1)))
            .map(|_| {
                s.spawn(|| -> std::io::Result<Vec<Duration>> {
                    let mut latencies = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(b) = bundles.get(i) else { break };
                        let at = Instant::now();
                        write_durably(&dir.join(format!("{}.gdb", b.bundle_id)), &b.bytes)?;
                        journal.commit(&record)?;
                        latencies.push(at.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("panicked")))
            })
            .collect::<std::io::Result<Vec<_>>>()
    });
    let elapsed = start.elapsed();
    let latencies = results
        .context("the baseline's writes failed")?
        .into_iter()
        .flatten()
        .collect();
    Ok((elapsed, latencies))
}

/// Calls `Registry::ingest` on every bundle, `concurrency` threads at a time; every
/// receipt must say `accepted`. Returns the elapsed time and each bundle's latency.
fn ingest_directly(
    registry: &ghidanh_registry::Registry,
    bundles: &[Sealed],
    concurrency: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let results = std::thread::scope(|s| {
        let workers: Vec<_> = (0..concurrency.clamp(1, bundles.len().max(1)))
            .map(|_| {
                s.spawn(|| -> anyhow::Result<Vec<Duration>> {
                    let mut latencies = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(b) = bundles.get(i) else { break };
                        let at = Instant::now();
                        let verdict = registry.ingest(&b.bytes)?.receipt.verdict;
                        if verdict != Verdict::Accepted {
                            bail!("bundle {} ingested in-process: {verdict:?}", b.bundle_id);
                        }
                        latencies.push(at.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| bail!("an ingest thread panicked"))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    });
    let elapsed = start.elapsed();
    Ok((elapsed, results?.into_iter().flatten().collect()))
}

/// The baseline's commit log, with group commit as the registry's store does it.
struct Journal {
    /// The file, and how many records were appended to it.
    appended: Mutex<(File, u64)>,
    /// How many records an fdatasync has made durable; held while syncing.
    synced: Mutex<u64>,
}

impl Journal {
    fn open(path: &Path) -> std::io::Result<Journal> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Journal {
            appended: Mutex::new((file, 0)),
            synced: Mutex::new(0),
        })
    }

    /// Appends `record` and returns once it is durable: synced by this call, or by one
    /// that began after it was appended.
    fn commit(&self, record: &[u8]) -> std::io::Result<()> {
        let mine = {
            let mut a = self.appended.lock().unwrap_or_else(|p| p.into_inner());
            a.0.write_all(record)?;
            a.1 += 1;
            a.1
        };
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        if *synced >= mine {
            return Ok(());
        }
        // Everything appended so far goes to the disk with this sync; appends go on meanwhile.
        let (file, upto) = {
            let a = self.appended.lock().unwrap_or_else(|p| p.into_inner());
            (a.0.try_clone()?, a.1)
        };
        file.sync_data()?;
        *synced = upto;
        Ok(())
    }
}

/// The registry's `blobs::write_durably`, step for step.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".0123456789abcdef.tmp");
    let tmp = dir.join(tmp_name);
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}
