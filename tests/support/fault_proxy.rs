//! A fault-injecting TCP proxy for the sync tests: it sits on a link (kit → registry) and,
//! chunk by chunk, resets connections, stalls them, cuts answers short, replays a request on a
//! second connection (a duplicated request), or throttles to a 2G-like bandwidth.
//!
//! It knows nothing of HTTP, on purpose: the faults land anywhere in a request or an answer,
//! as a flaky link's do. Decisions come from a seeded RNG, so a failing run can be replayed.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How often each fault strikes, per chunk forwarded (in thousandths), and how hard.
#[derive(Debug, Clone, Copy)]
pub struct FaultPlan {
    /// Cut the connection (both sides closed mid-stream) before forwarding a chunk.
    pub reset_per_mille: u32,
    /// Hold a chunk for `stall` before forwarding it.
    pub stall_per_mille: u32,
    /// How long a stall lasts.
    pub stall: Duration,
    /// Forward only the first half of an answer's chunk, then close (a truncated body).
    pub truncate_per_mille: u32,
    /// Per connection: replay the client's first bytes on a second upstream connection once
    /// the first ends (the answer to the replay is thrown away).
    pub duplicate_per_mille: u32,
    /// Bandwidth each way, in bytes per second (`None`: as fast as loopback).
    pub bytes_per_sec: Option<u64>,
    /// Seed of the fault RNG.
    pub seed: u64,
}

impl FaultPlan {
    /// No faults at all.
    pub const CLEAN: FaultPlan = FaultPlan {
        reset_per_mille: 0,
        stall_per_mille: 0,
        stall: Duration::ZERO,
        truncate_per_mille: 0,
        duplicate_per_mille: 0,
        bytes_per_sec: None,
        seed: 0,
    };
}

/// What the proxy did, for the test to check that the faults really happened.
#[derive(Debug, Default)]
pub struct FaultStats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections cut.
    pub resets: AtomicU64,
    /// Chunks stalled.
    pub stalls: AtomicU64,
    /// Answers cut short.
    pub truncations: AtomicU64,
    /// Requests replayed.
    pub duplicates: AtomicU64,
    /// Connections that could not reach the upstream (it was down).
    pub upstream_down: AtomicU64,
    /// Bytes forwarded from the client towards the upstream (replays not counted).
    pub upstream_bytes: AtomicU64,
}

impl FaultStats {
    /// One line for a test's failure message.
    pub fn summary(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "connections {}, resets {}, stalls {}, truncations {}, duplicates {}, upstream down {}",
            g(&self.connections),
            g(&self.resets),
            g(&self.stalls),
            g(&self.truncations),
            g(&self.duplicates),
            g(&self.upstream_down)
        )
    }
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT` of the proxy.
    pub url: String,
    /// What it did so far.
    pub stats: Arc<FaultStats>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on `listen` and forwards every connection to `upstream` under `plan`.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr, plan: FaultPlan) -> Result<Self> {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("proxy cannot listen on {listen}"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let stats = Arc::new(FaultStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(plan.seed)));
        // A run with few connections (keep-alive, an upstream down most of the time) may roll
        // no replay at all; the first link that can replay owes one, so a test that asks for
        // duplicates always gets at least one.
        let owed = Arc::new(AtomicBool::new(plan.duplicate_per_mille > 0));
        let task = {
            let (stats, stop) = (stats.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((client, _)) = listener.accept().await else {
                        continue;
                    };
                    stats.connections.fetch_add(1, Ordering::Relaxed);
                    let (stats, rng, owed) = (stats.clone(), rng.clone(), owed.clone());
                    tokio::spawn(async move {
                        link(client, upstream, plan, stats, rng, owed).await;
                    });
                }
            })
        };
        Ok(FaultProxy {
            url,
            stats,
            stop,
            task,
        })
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.abort();
    }
}

fn roll(rng: &Mutex<StdRng>, per_mille: u32) -> bool {
    per_mille > 0
        && rng
            .lock()
            .map(|mut r| r.gen_range(0..1000) < per_mille)
            .unwrap_or(false)
}

/// The bytes of a connection's start kept for a replay.
const REPLAY_BYTES: usize = 256 * 1024;

async fn link(
    client: TcpStream,
    upstream: SocketAddr,
    plan: FaultPlan,
    stats: Arc<FaultStats>,
    rng: Arc<Mutex<StdRng>>,
    owed: Arc<AtomicBool>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        stats.upstream_down.fetch_add(1, Ordering::Relaxed);
        // Dropping `client` closes it: the kit sees the link die, as with the registry down.
        drop(client);
        return;
    };
    let took_owed = owed.swap(false, Ordering::Relaxed);
    let duplicate = took_owed || roll(&rng, plan.duplicate_per_mille);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let replay = Arc::new(Mutex::new(Vec::new()));
    let reset = Arc::new(AtomicBool::new(false));

    let up = {
        let (rng, stats, replay, reset) =
            (rng.clone(), stats.clone(), replay.clone(), reset.clone());
        async move {
            let mut buf = vec![0u8; 8 * 1024];
            loop {
                let n = match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if duplicate {
                    if let Ok(mut r) = replay.lock() {
                        let room = REPLAY_BYTES.saturating_sub(r.len());
                        r.extend_from_slice(&buf[..n.min(room)]);
                    }
                }
                pace(&plan, &rng, &stats, n).await;
                if roll(&rng, plan.reset_per_mille) {
                    stats.resets.fetch_add(1, Ordering::Relaxed);
                    reset.store(true, Ordering::Relaxed);
                    break;
                }
                if sw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                stats.upstream_bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
            let _ = sw.shutdown().await;
        }
    };
    let down = {
        let (rng, stats, reset) = (rng.clone(), stats.clone(), reset.clone());
        async move {
            let mut buf = vec![0u8; 8 * 1024];
            loop {
                if reset.load(Ordering::Relaxed) {
                    break;
                }
                let n = match sr.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if roll(&rng, plan.truncate_per_mille) {
                    stats.truncations.fetch_add(1, Ordering::Relaxed);
                    let _ = cw.write_all(&buf[..n / 2]).await;
                    break;
                }
                pace(&plan, &rng, &stats, n).await;
                if roll(&rng, plan.reset_per_mille) {
                    stats.resets.fetch_add(1, Ordering::Relaxed);
                    reset.store(true, Ordering::Relaxed);
                    break;
                }
                if cw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            let _ = cw.shutdown().await;
        }
    };
    tokio::join!(up, down);

    if duplicate {
        let bytes = replay.lock().map(|r| r.clone()).unwrap_or_default();
        let again = match bytes.is_empty() {
            true => None,
            false => TcpStream::connect(upstream).await.ok(),
        };
        if again.is_none() && took_owed {
            owed.store(true, Ordering::Relaxed);
        }
        if let Some(mut again) = again {
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
            let _ = again.write_all(&bytes).await;
            let _ = again.shutdown().await;
            let mut sink = vec![0u8; 8 * 1024];
            let drain = async {
                while let Ok(n) = again.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(10), drain).await;
        }
    }
}

/// Stalls and throttles before `n` bytes go on.
async fn pace(plan: &FaultPlan, rng: &Mutex<StdRng>, stats: &FaultStats, n: usize) {
    if roll(rng, plan.stall_per_mille) {
        stats.stalls.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(plan.stall).await;
    }
    if let Some(rate) = plan.bytes_per_sec.filter(|r| *r > 0) {
        tokio::time::sleep(Duration::from_secs_f64(n as f64 / rate as f64)).await;
    }
}
