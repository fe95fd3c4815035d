//! `ghidanh loadgen`: many simulated kit devices over HTTP against one registry.
//!
//! Each device acts from its provisioning file: it registers a key (derived from the file's
//! one-time token, so a second run with the same files registers the same key again), seals
//! real bundles to the registry key the file carries, uploads them the way the kit does
//! (`ghidanh_sync::Client`: resumable uploads) or in one `POST /api/v1/bundles`, and
//! verifies every receipt (signature with that registry key, SHA-256 of the bytes sent,
//! bundle id). All bundles are sealed before the clock starts: the figures are the
//! registry's and the network's, not the sealing's.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use ghidanh_bundle::{
    seal, AuditEntry, Biometrics, BundleId, DeviceKey, DeviceRegistration, EnrollmentId,
    FaceFormat, FaceImage, Finger, FingerCapture, FingerFormat, FingerPosition, OperatorId,
    OperatorRef, Payload, Provisioning, Receipt, ReceiptId, Sha256, Verdict,
};
use ghidanh_record::EnrollmentInput;
use ghidanh_sync::{Client, Registration};
use rand::{RngCore, SeedableRng};

/// A realistic bundle's biometrics: a 100 KiB face and ten 30 KiB fingerprints.
pub const DEFAULT_SIZE: usize = 100 * 1024 + 10 * 30 * 1024;

/// How long one request may take before it counts as an error.
const TIMEOUT: Duration = Duration::from_secs(120);

/// How bundles travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Upload {
    /// Resumable uploads in 64 KiB pieces, through the kit's own sync client.
    Resumable,
    /// One `POST /api/v1/bundles` per bundle.
    Post,
}

impl Upload {
    pub fn name(self) -> &'static str {
        match self {
            Upload::Resumable => "resumable",
            Upload::Post => "post",
        }
    }
}

/// `ghidanh loadgen`.
#[derive(Args)]
pub struct LoadgenArgs {
    /// Registry base URL (default: the URL in the first provisioning file).
    #[arg(long)]
    url: Option<String>,
    /// A provisioning file, or a folder of them (every file in it): the devices to act as.
    #[arg(long)]
    provisioning: PathBuf,
    /// Bundles to send, spread round-robin over the devices.
    #[arg(long, default_value_t = 100)]
    bundles: usize,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Bytes of biometrics per bundle (a quarter face, the rest ten fingerprints), random.
    #[arg(long, default_value_t = DEFAULT_SIZE)]
    size: usize,
    /// How bundles travel.
    #[arg(long, value_enum, default_value_t = Upload::Resumable)]
    upload: Upload,
    /// Send every bundle a second time afterwards: each must be answered with its first
    /// acceptance (a verified `duplicate` naming it, or, by resumable upload, the completed
    /// upload's kept receipt), and nothing is stored twice.
    #[arg(long)]
    replay: bool,
    /// One JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

impl LoadgenArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if self.bundles == 0 {
            bail!("--bundles must be at least 1");
        }
        let provisioning = read_provisioning(&self.provisioning)?;
        let url = match self.url {
            Some(u) => u,
            None => provisioning[0].registry_url.clone(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let (fleet, bundles) = runtime.block_on(async {
            let fleet = Fleet::connect(&url, provisioning).await?;
            let bundles = fleet.seal_bundles(self.bundles, self.size)?;
            anyhow::Ok((fleet, bundles))
        })?;
        let fleet = Arc::new(fleet);
        let bundles = Arc::new(bundles);
        let (concurrency, upload) = (self.concurrency, self.upload);
        let first = runtime.block_on(fleet.pass(bundles.clone(), concurrency, upload));
        let replay = self
            .replay
            .then(|| runtime.block_on(fleet.pass(bundles.clone(), concurrency, upload)));
        let report = Report::new(&bundles, first, replay);
        if self.json {
            println!(
                "{}",
                report.json(&url, fleet.devices.len(), self.concurrency, self.upload)
            );
        } else {
            report.print(&url, fleet.devices.len(), self.concurrency, self.upload);
        }
        Ok(if report.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}

/// The provisioning files at `path`: the file itself, or every file in the folder (sorted).
pub fn read_provisioning(path: &Path) -> anyhow::Result<Vec<Provisioning>> {
    let files = if path.is_dir() {
        let mut files = Vec::new();
        for entry in
            std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?
        {
            let entry = entry.with_context(|| format!("cannot read {}", path.display()))?;
            if entry.file_type()?.is_file() {
                files.push(entry.path());
            }
        }
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut out: Vec<Provisioning> = Vec::new();
    for file in files {
        let bytes =
            std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let p = Provisioning::parse(&bytes)
            .map_err(|e| anyhow::anyhow!("{} is not a provisioning file: {e}", file.display()))?;
        if out.iter().any(|q| q.device_id == p.device_id) {
            bail!(
                "{} names device {} a second time",
                file.display(),
                p.device_id
            );
        }
        out.push(p);
    }
    if out.is_empty() {
        bail!("no provisioning file in {}", path.display());
    }
    Ok(out)
}

/// The key a simulated device registers: derived from its one-time token, so the same
/// provisioning file always means the same key (registration is idempotent for it). Fine
/// for a load generator; a real kit keeps a random key in its vault.
pub fn device_key(p: &Provisioning) -> DeviceKey {
    let mut input = b"ghidanh loadgen device key v1\0".to_vec();
    input.extend_from_slice(p.token.as_slice());
    DeviceKey::from_secret_bytes(&Sha256::of(&input).0)
}

struct Device {
    provisioning: Provisioning,
    key: DeviceKey,
    client: Client,
}

/// Registered devices and the means to send their bundles.
pub struct Fleet {
    base: String,
    devices: Vec<Device>,
    http: reqwest::Client,
}

/// One sealed bundle, ready to send.
pub struct Sealed {
    device: usize,
    pub bundle_id: BundleId,
    pub bytes: Vec<u8>,
}

/// What the registry answered for one bundle (receipts verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A verified `accepted` receipt.
    Accepted(ReceiptId),
    /// A verified `duplicate`, naming the first acceptance.
    Duplicate(ReceiptId),
    /// A verified `rejected`, with its reason code.
    Rejected(String),
    /// No verified receipt: transport, HTTP or verification failure.
    Error(String),
}

/// One pass over bundles.
#[derive(Default)]
pub struct Pass {
    /// By bundle index.
    pub outcomes: Vec<Outcome>,
    /// By bundle index: from the first byte sent to the verified receipt.
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl Pass {
    /// Adds the next bundles' pass: outcomes and latencies after these, times summed.
    pub fn append(&mut self, next: Pass) {
        self.outcomes.extend(next.outcomes);
        self.latencies.extend(next.latencies);
        self.elapsed += next.elapsed;
    }
}

impl Fleet {
    /// Registers every device at `url` (the key from [`device_key`]).
    pub async fn connect(url: &str, provisioning: Vec<Provisioning>) -> anyhow::Result<Fleet> {
        let base = url.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .context("cannot build the HTTP client")?;
        let mut devices = Vec::with_capacity(provisioning.len());
        for p in provisioning {
            let key = device_key(&p);
            let client = Client::new(&base, p.registry.clone(), TIMEOUT)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let registration = DeviceRegistration::sign(p.device_id, &p.token, &key);
            match client.register(registration).await {
                Ok(Registration::Registered) => {}
                Ok(Registration::Refused(code)) => {
                    bail!("{base} refused to register device {}: {code}", p.device_id)
                }
                Ok(Registration::Revoked) => bail!("device {} is revoked", p.device_id),
                Err(e) => bail!("cannot register device {} at {base}: {e}", p.device_id),
            }
            devices.push(Device {
                provisioning: p,
                key,
                client,
            });
        }
        Ok(Fleet {
            base,
            devices,
            http,
        })
    }

    /// Seals `n` bundles of `size` bytes of biometrics, round-robin over the devices.
    pub fn seal_bundles(&self, n: usize, size: usize) -> anyhow::Result<Vec<Sealed>> {
        let mut rng = rand::rngs::StdRng::from_entropy();
        let now = unix_now();
        (0..n)
            .map(|i| {
                let device = i % self.devices.len();
                let d = &self.devices[device];
                let payload = payload(d.provisioning.device_id, size, i, &mut rng);
                let bytes = seal(&payload, &d.key, &d.provisioning.registry, now)
                    .map_err(|e| anyhow::anyhow!("cannot seal bundle {i}: {e}"))?;
                Ok(Sealed {
                    device,
                    bundle_id: payload.bundle_id,
                    bytes,
                })
            })
            .collect()
    }

    /// Sends every bundle once, `concurrency` at a time.
    pub async fn pass(
        self: &Arc<Self>,
        bundles: Arc<Vec<Sealed>>,
        concurrency: usize,
        upload: Upload,
    ) -> Pass {
        let all = 0..bundles.len();
        self.pass_range(bundles, all, concurrency, upload).await
    }

    /// Sends the bundles of `range` once, `concurrency` at a time.
    pub async fn pass_range(
        self: &Arc<Self>,
        bundles: Arc<Vec<Sealed>>,
        range: Range<usize>,
        concurrency: usize,
        upload: Upload,
    ) -> Pass {
        let range = range.start.min(bundles.len())..range.end.min(bundles.len());
        let n = range.len();
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..concurrency.clamp(1, n.max(1)) {
            let (fleet, bundles, next) = (self.clone(), bundles.clone(), next.clone());
            let first = range.start;
            workers.spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let at = Instant::now();
                    let outcome = fleet.send(&bundles[first + i], upload).await;
                    done.push((i, outcome, at.elapsed()));
                }
                done
            });
        }
        let mut outcomes = vec![Outcome::Error("not sent".into()); n];
        let mut latencies = vec![Duration::ZERO; n];
        while let Some(joined) = workers.join_next().await {
            // A worker that panicked leaves its bundles as "not sent" errors.
            for (i, outcome, latency) in joined.unwrap_or_default() {
                outcomes[i] = outcome;
                latencies[i] = latency;
            }
        }
        Pass {
            outcomes,
            latencies,
            elapsed: start.elapsed(),
        }
    }

    async fn send(&self, b: &Sealed, upload: Upload) -> Outcome {
        let d = &self.devices[b.device];
        let receipt = match upload {
            Upload::Resumable => d
                .client
                .upload(&b.bytes)
                .await
                .map(|(r, _)| r)
                .map_err(|e| e.to_string()),
            Upload::Post => self.post(d, &b.bytes).await,
        };
        match receipt {
            Err(e) => Outcome::Error(e),
            Ok(r) if r.bundle_id != Some(b.bundle_id) => {
                Outcome::Error("receipt names another bundle".into())
            }
            Ok(r) => match r.verdict {
                Verdict::Accepted => Outcome::Accepted(r.receipt_id),
                Verdict::Duplicate {
                    accepted_receipt_id,
                } => Outcome::Duplicate(accepted_receipt_id),
                Verdict::Rejected(reason) => Outcome::Rejected(reason.code()),
            },
        }
    }

    /// One POST; the receipt verified with the device's registry key and about these bytes.
    async fn post(&self, d: &Device, bytes: &[u8]) -> Result<Receipt, String> {
        let resp = self
            .http
            .post(format!("{}/api/v1/bundles", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .map_err(|e| format!("registry unreachable: {e}"))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("registry unreachable: {e}"))?;
        if !status.is_success() {
            return Err(format!("registry answered HTTP {}", status.as_u16()));
        }
        let receipt = Receipt::verify(&body, &d.provisioning.registry)
            .map_err(|e| format!("receipt refused: {e}"))?;
        if receipt.submission_sha256 != Sha256::of(bytes) {
            return Err("receipt is for another submission".into());
        }
        Ok(receipt)
    }

    pub fn devices(&self) -> usize {
        self.devices.len()
    }
}

/// A valid adult record with a face and ten captured fingers of random bytes, `size` bytes
/// of images in all (a quarter face, the rest split over the fingers, as in `bench bundle`).
pub(crate) fn payload(
    device_id: ghidanh_bundle::DeviceId,
    size: usize,
    serial: usize,
    rng: &mut impl RngCore,
) -> Payload {
    let mut blob = |len: usize| {
        let mut v = vec![0u8; len];
        rng.fill_bytes(&mut v);
        v
    };
    let face = size / 4;
    let finger = (size - face) / FingerPosition::ALL.len();
    let operator = OperatorRef {
        id: OperatorId::new(),
        name: "Trần Thị Bình".into(),
    };
    Payload {
        bundle_id: BundleId::new(),
        enrollment_id: EnrollmentId::new(),
        device_id,
        captured_at: 1_790_000_000,
        finalised_at: 1_790_000_600,
        record: EnrollmentInput {
            birth_name: "Nguyễn Văn An".into(),
            date_of_birth: "1990-05-17".into(),
            sex: "male".into(),
            // Born 1990, male: province 001, century-sex 0, year 90, then a serial.
            personal_id: format!("0010901{:05}", serial % 100_000),
            ..Default::default()
        },
        biometrics: Biometrics {
            face: Some(FaceImage {
                format: FaceFormat::Jpeg,
                image: blob(face),
                width: 600,
                height: 800,
                quality: 85,
            }),
            fingers: FingerPosition::ALL
                .iter()
                .map(|&position| Finger {
                    position,
                    capture: FingerCapture::Captured {
                        format: FingerFormat::Wsq,
                        image: blob(finger),
                        quality: 70,
                    },
                })
                .collect(),
        },
        reference_versions: [
            ("communes", "2025-07-01"),
            ("legacy-provinces", "2008-08-01"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        audit: vec![AuditEntry {
            at: 1_790_000_600,
            action: "finalised".into(),
            operator_id: operator.id,
        }],
        operator,
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `q`-quantile of `sorted` (nearest rank), zero when empty.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Counts of one pass.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub accepted: usize,
    pub duplicate: usize,
    pub rejected: usize,
    pub errors: usize,
    /// Rejection reason codes and error messages, with how often each came.
    pub reasons: BTreeMap<String, usize>,
}

impl Counts {
    fn of(outcomes: &[Outcome]) -> Counts {
        let mut c = Counts::default();
        for o in outcomes {
            match o {
                Outcome::Accepted(_) => c.accepted += 1,
                Outcome::Duplicate(_) => c.duplicate += 1,
                Outcome::Rejected(code) => {
                    c.rejected += 1;
                    *c.reasons.entry(code.clone()).or_default() += 1;
                }
                Outcome::Error(e) => {
                    c.errors += 1;
                    *c.reasons.entry(e.clone()).or_default() += 1;
                }
            }
        }
        c
    }
}

/// Figures of a load run.
pub struct Report {
    pub bundles: usize,
    pub bytes: u64,
    pub counts: Counts,
    pub elapsed: Duration,
    /// Sorted.
    pub latencies: Vec<Duration>,
    /// Replayed bundles answered with their first acceptance (a `duplicate` naming it, or
    /// that very receipt again); and the replay's counts.
    pub replay: Option<(usize, Counts)>,
}

impl Report {
    pub fn new(bundles: &[Sealed], first: Pass, replay: Option<Pass>) -> Report {
        let mut latencies = first.latencies.clone();
        latencies.sort_unstable();
        let replay = replay.map(|r| {
            let named_first = r
                .outcomes
                .iter()
                .zip(&first.outcomes)
                .filter(|(again, once)| match (again, once) {
                    (Outcome::Duplicate(named), Outcome::Accepted(id)) => named == id,
                    // A completed resumable upload hands back its kept receipt.
                    (Outcome::Accepted(again), Outcome::Accepted(id)) => again == id,
                    _ => false,
                })
                .count();
            (named_first, Counts::of(&r.outcomes))
        });
        Report {
            bundles: bundles.len(),
            bytes: bundles.iter().map(|b| b.bytes.len() as u64).sum(),
            counts: Counts::of(&first.outcomes),
            elapsed: first.elapsed,
            latencies,
            replay,
        }
    }

    /// Every bundle got a verified `accepted` (and, replayed, that acceptance again).
    pub fn ok(&self) -> bool {
        self.counts.accepted == self.bundles
            && self.replay.as_ref().is_none_or(|(n, _)| *n == self.bundles)
    }

    pub fn bundles_per_sec(&self) -> f64 {
        self.bundles as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }

    pub fn p50(&self) -> Duration {
        quantile(&self.latencies, 0.50)
    }

    pub fn p99(&self) -> Duration {
        quantile(&self.latencies, 0.99)
    }

    fn print(&self, url: &str, devices: usize, concurrency: usize, upload: Upload) {
        let c = &self.counts;
        println!(
            "loadgen: {} bundles ({} bytes on average) from {devices} devices to {url}, \
             concurrency {concurrency}, {} uploads",
            self.bundles,
            self.bytes / self.bundles.max(1) as u64,
            upload.name()
        );
        println!(
            "accepted {}  duplicate {}  rejected {}  errors {}",
            c.accepted, c.duplicate, c.rejected, c.errors
        );
        for (reason, n) in &c.reasons {
            println!("  {n} x {reason}");
        }
        println!(
            "throughput {:.1} bundles/s  {:.1} MB/s  ({:.2} s)",
            self.bundles_per_sec(),
            self.mb_per_sec(),
            self.elapsed.as_secs_f64()
        );
        println!(
            "latency p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            ms(self.p50()),
            ms(self.p99()),
            ms(self.latencies.last().copied().unwrap_or_default())
        );
        if let Some((named_first, r)) = &self.replay {
            println!(
                "replay: {named_first} of {} answered with the first acceptance \
                 (duplicate {}, the same accepted receipt {})  rejected {}  errors {}",
                self.bundles, r.duplicate, r.accepted, r.rejected, r.errors
            );
        }
        println!(
            "{}",
            if self.ok() {
                "ok: every bundle has a verified accepted receipt"
            } else {
                "FAILED: not every bundle has a verified accepted receipt"
            }
        );
    }

    fn json(&self, url: &str, devices: usize, concurrency: usize, upload: Upload) -> String {
        let counts = |c: &Counts| {
            serde_json::json!({
                "accepted": c.accepted,
                "duplicate": c.duplicate,
                "rejected": c.rejected,
                "errors": c.errors,
                "reasons": c.reasons,
            })
        };
        let mut v = serde_json::json!({
            "url": url,
            "devices": devices,
            "concurrency": concurrency,
            "upload": upload.name(),
            "bundles": self.bundles,
            "bytes": self.bytes,
            "elapsedSecs": self.elapsed.as_secs_f64(),
            "bundlesPerSec": self.bundles_per_sec(),
            "mbPerSec": self.mb_per_sec(),
            "latencyMs": {
                "p50": ms(self.p50()),
                "p99": ms(self.p99()),
                "max": ms(self.latencies.last().copied().unwrap_or_default()),
            },
            "ok": self.ok(),
        });
        let first = counts(&self.counts);
        if let (Some(obj), Some(first)) = (v.as_object_mut(), first.as_object()) {
            obj.extend(first.clone());
            obj.insert(
                "replay".into(),
                match &self.replay {
                    Some((named_first, r)) => {
                        let mut r = counts(r);
                        r["firstAcceptance"] = (*named_first).into();
                        r
                    }
                    None => serde_json::Value::Null,
                },
            );
        }
        v.to_string()
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
