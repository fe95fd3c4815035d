//! Crash test (issue 4, "Proof"): a child process drives a real vault through random
//! operations and is killed with SIGKILL at a random moment; the vault must then open, pass
//! `PRAGMA integrity_check`, hold every operation the child acknowledged, and hold no
//! duplicated or half-written record.
//!
//! The child is this same test binary run again with `GHIDANH_CRASH_CHILD=1`, so the test
//! needs nothing but `cargo test`. Rounds: `GHIDANH_CRASH_ROUNDS` (default 200; `make soak`
//! runs 2000). A failing run prints its seed; `GHIDANH_CRASH_SEED=<seed>` replays the schedule
//! of kill delays and child seeds (the kill moment itself still depends on the machine).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ghidanh_bundle::{
    BundleId, EnrollmentId, Receipt, ReceiptId, RegistryKeys, RejectReason, Sha256, Verdict,
};
use ghidanh_record::EnrollmentInput;
use ghidanh_vault::{EnrollmentState, KdfParams, Vault};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PASS: &str = "mật khẩu dài 123";
const CHILD_ENV: &str = "GHIDANH_CRASH_CHILD";
/// A fresh vault every this many rounds keeps the per-round check (a full `list`) cheap
/// while still letting later rounds work on what earlier, killed rounds left behind.
const ROUNDS_PER_VAULT: u32 = 50;

/// The record at a given autosave version: deterministic, so the parent can tell a
/// complete write of version `v` from anything half-written.
fn input_at(version: u64) -> EnrollmentInput {
    EnrollmentInput {
        birth_name: format!("Nguyễn Thị Thuỳ Dương v{version}"),
        date_of_birth: "1990-04-30".into(),
        sex: "female".into(),
        personal_id: format!("079190{:06}", version % 1_000_000),
        place_of_birth: "Phường Bến Thành, Thành phố Hồ Chí Minh".into(),
        ..Default::default()
    }
}

fn version_of(input: &EnrollmentInput) -> Option<u64> {
    let v = input.birth_name.rsplit_once(" v")?.1.parse().ok()?;
    (*input == input_at(v)).then_some(v)
}

/// Fake sealed bytes derived from the bundle id, 1–9 KB, so the parent can check them.
fn bundle_bytes(bundle_id: BundleId, repeat: usize) -> Vec<u8> {
    bundle_id.to_string().into_bytes().repeat(repeat)
}

fn bundle_bytes_ok(bundle_id: BundleId, bytes: &[u8]) -> bool {
    let unit = bundle_id.to_string().into_bytes();
    !bytes.is_empty()
        && bytes.len().is_multiple_of(unit.len())
        && bytes.chunks(unit.len()).all(|c| c == unit.as_slice())
}

// ---- the child ----------------------------------------------------------------------------

/// The child's side: runs only when the parent set `GHIDANH_CRASH_CHILD`; a plain
/// `cargo test` passes it at once.
#[test]
fn crash_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let dir = PathBuf::from(std::env::var("GHIDANH_CRASH_DIR").unwrap());
    let seed: u64 = std::env::var("GHIDANH_CRASH_CHILD_SEED")
        .unwrap()
        .parse()
        .unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let (vault, op) = Vault::unlock(&dir, PASS).unwrap();
    let keys = RegistryKeys::generate();

    // What earlier rounds left: drafts to keep editing, bundles still waiting for a receipt.
    let mut drafts: Vec<(EnrollmentId, u64)> = Vec::new();
    let mut sealed: Vec<BundleId> = Vec::new();
    let mut uploading: Vec<BundleId> = Vec::new();
    for e in vault.list().unwrap() {
        match e.state {
            EnrollmentState::Draft => drafts.push((e.id, version_of(&e.input).unwrap())),
            // Unlock put any `uploading` row back to `sealed`.
            EnrollmentState::Sealed | EnrollmentState::Uploading => {
                sealed.push(e.bundle_id.unwrap())
            }
            // The child does not yet drive review, custody or purge (helpers extend it).
            _ => {}
        }
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // The acknowledgement is written only after the call returned Ok, in one write, flushed.
    let mut ack = |line: String| {
        out.write_all(format!("ack {line}\n").as_bytes()).unwrap();
        out.flush().unwrap();
    };
    // Bounded so a child whose parent died does not run forever.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match rng.gen_range(0..100) {
            0..=19 => {
                let id = vault.save_draft(None, op.id, &input_at(0)).unwrap();
                ack(format!("draft {id} 0"));
                drafts.push((id, 0));
            }
            20..=49 if !drafts.is_empty() => {
                let i = rng.gen_range(0..drafts.len());
                let (id, v) = drafts[i];
                vault.save_draft(Some(id), op.id, &input_at(v + 1)).unwrap();
                ack(format!("draft {id} {}", v + 1));
                drafts[i].1 = v + 1;
            }
            50..=64 if !drafts.is_empty() => {
                let (id, v) = drafts.swap_remove(rng.gen_range(0..drafts.len()));
                let bundle_id = BundleId::new();
                let bytes = bundle_bytes(bundle_id, rng.gen_range(30..250));
                vault.seal(id, &input_at(v), bundle_id, &bytes).unwrap();
                ack(format!("seal {id} {bundle_id}"));
                sealed.push(bundle_id);
            }
            65..=74 if !sealed.is_empty() => {
                let b = sealed.swap_remove(rng.gen_range(0..sealed.len()));
                vault.mark_uploading(b).unwrap();
                ack(format!("uploading {b}"));
                uploading.push(b);
            }
            75..=84 if !uploading.is_empty() => {
                let b = uploading.swap_remove(rng.gen_range(0..uploading.len()));
                vault.upload_failed(b, 0, "connection refused").unwrap();
                ack(format!("failed {b}"));
                sealed.push(b);
            }
            85..=99 if !sealed.is_empty() || !uploading.is_empty() => {
                let from_uploading = !uploading.is_empty() && (sealed.is_empty() || rng.gen());
                let list = if from_uploading {
                    &mut uploading
                } else {
                    &mut sealed
                };
                let b = list.swap_remove(rng.gen_range(0..list.len()));
                let receipt = Receipt {
                    receipt_id: ReceiptId::new(),
                    issued_at: 1,
                    registry_key_id: keys.public().key_id().clone(),
                    submission_sha256: Sha256::of(b.to_string().as_bytes()),
                    bundle_id: Some(b),
                    verdict: if rng.gen_bool(0.8) {
                        Verdict::Accepted
                    } else {
                        Verdict::Rejected(RejectReason::Malformed)
                    },
                };
                vault
                    .record_receipt(b, &receipt.sign(&keys), &receipt)
                    .unwrap();
                match receipt.verdict {
                    Verdict::Accepted => ack(format!("accepted {b} {}", receipt.receipt_id)),
                    _ => ack(format!("rejected {b}")),
                }
            }
            _ => {}
        }
    }
}

// ---- the parent ---------------------------------------------------------------------------

/// What the children acknowledged, over every round on one vault.
#[derive(Default)]
struct Acked {
    /// Enrollment → highest acknowledged autosave version.
    drafts: HashMap<EnrollmentId, u64>,
    /// Enrollment → its acknowledged bundle.
    seals: HashMap<EnrollmentId, BundleId>,
    /// Bundle → acknowledged failed attempts.
    failures: HashMap<BundleId, u32>,
    /// Bundle → `Some(receipt id)` when accepted, `None` when rejected.
    receipts: HashMap<BundleId, Option<String>>,
    /// Acknowledged operations by kind, to prove the run exercised each.
    kinds: BTreeMap<String, u64>,
}

impl Acked {
    fn apply(&mut self, line: &str) {
        let parts: Vec<&str> = line.split(' ').collect();
        *self.kinds.entry(parts[1].to_owned()).or_default() += 1;
        let bundle = |s: &str| BundleId::parse(s).unwrap();
        match parts[1..] {
            ["draft", id, v] => {
                let v: u64 = v.parse().unwrap();
                let e = self
                    .drafts
                    .entry(EnrollmentId::parse(id).unwrap())
                    .or_default();
                *e = (*e).max(v);
            }
            ["seal", id, b] => {
                self.seals
                    .insert(EnrollmentId::parse(id).unwrap(), bundle(b));
            }
            ["uploading", _] => {}
            ["failed", b] => *self.failures.entry(bundle(b)).or_default() += 1,
            ["accepted", b, r] => {
                self.receipts.insert(bundle(b), Some(r.to_owned()));
            }
            ["rejected", b] => {
                self.receipts.insert(bundle(b), None);
            }
            _ => panic!("unknown acknowledgement {line:?}"),
        }
    }
}

/// Reopens the vault after a kill and checks everything the brief promises.
fn check(dir: &Path, acked: &Acked) -> Result<(), String> {
    let (vault, _) = Vault::unlock(dir, PASS).map_err(|e| format!("unlock: {e}"))?;
    let integrity = vault.integrity_check().map_err(|e| e.to_string())?;
    if integrity != "ok" {
        return Err(format!("integrity_check: {integrity}"));
    }
    let list = vault.list().map_err(|e| format!("list: {e}"))?;
    let by_id: HashMap<EnrollmentId, _> = list.iter().map(|e| (e.id, e)).collect();
    if by_id.len() != list.len() {
        return Err("an enrollment appears twice".into());
    }
    let links = vault.outbox_links().map_err(|e| e.to_string())?;
    let mut outbox_rows: HashMap<String, u32> = HashMap::new();
    for l in &links {
        if !l.enrollment_matches {
            return Err(format!("outbox row without its enrollment: {l:?}"));
        }
        *outbox_rows.entry(l.bundle_id.clone()).or_default() += 1;
    }
    let mut bundles = BTreeSet::new();
    for e in &list {
        if version_of(&e.input).is_none() {
            return Err(format!("{} holds a record no write produced", e.id));
        }
        match (e.state, e.bundle_id) {
            (EnrollmentState::Draft, None) => {}
            (EnrollmentState::Draft, Some(b)) => return Err(format!("draft {} has {b}", e.id)),
            (_, None) => return Err(format!("{} is {:?} without a bundle", e.id, e.state)),
            (_, Some(b)) => {
                if !bundles.insert(b) {
                    return Err(format!("bundle {b} on two enrollments"));
                }
                if outbox_rows.get(&b.to_string()) != Some(&1) {
                    return Err(format!(
                        "{} is {:?} but has no single outbox row",
                        e.id, e.state
                    ));
                }
            }
        }
    }
    if links.len() != bundles.len() {
        return Err("more outbox rows than sealed enrollments".into());
    }
    for (id, &v) in &acked.drafts {
        let e = by_id.get(id).ok_or(format!("acked draft {id} is gone"))?;
        let stored = version_of(&e.input).unwrap_or(0);
        if stored < v {
            return Err(format!("draft {id}: acked version {v}, found {stored}"));
        }
    }
    let attempts: HashMap<BundleId, u32> = vault
        .due_uploads(i64::MAX)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|o| (o.bundle_id, o.attempts))
        .collect();
    for (id, b) in &acked.seals {
        let e = by_id.get(id).ok_or(format!("acked seal {id} is gone"))?;
        if e.state == EnrollmentState::Draft || e.bundle_id != Some(*b) {
            return Err(format!("acked seal {id}/{b} found as {:?}", e.state));
        }
        let bytes = vault.sealed_bundle(*b).map_err(|e| e.to_string())?;
        if !bytes.is_some_and(|bytes| bundle_bytes_ok(*b, &bytes)) {
            return Err(format!("bundle {b}: sealed bytes missing or damaged"));
        }
    }
    for (b, &n) in &acked.failures {
        if let Some(&a) = attempts.get(b) {
            if a < n {
                return Err(format!("bundle {b}: {n} failures acked, {a} stored"));
            }
        }
    }
    let by_bundle: HashMap<BundleId, _> = list
        .iter()
        .filter_map(|e| Some((e.bundle_id?, e)))
        .collect();
    for (b, receipt) in &acked.receipts {
        let e = by_bundle
            .get(b)
            .ok_or(format!("receipted bundle {b} is gone"))?;
        let ok = match receipt {
            Some(r) => e.state == EnrollmentState::Accepted && e.receipt_id.as_ref() == Some(r),
            None => e.state == EnrollmentState::Rejected && e.reason.is_some(),
        };
        if !ok {
            return Err(format!("receipt for {b} acked, found {:?}", e.state));
        }
        if attempts.contains_key(b) {
            return Err(format!("receipted bundle {b} is still due for upload"));
        }
    }
    Ok(())
}

#[test]
fn every_acknowledged_operation_survives_sigkill() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let rounds: u32 = std::env::var("GHIDANH_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("GHIDANH_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test: {rounds} rounds, GHIDANH_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut total: BTreeMap<String, u64> = BTreeMap::new();
    let mut tmp = None;
    let mut acked = Acked::default();
    let mut killed_mid_run = 0;

    for round in 0..rounds {
        if round % ROUNDS_PER_VAULT == 0 {
            for (k, n) in std::mem::take(&mut acked).kinds {
                *total.entry(k).or_default() += n;
            }
            let t = tempfile::tempdir().unwrap();
            drop(
                Vault::create(
                    t.path(),
                    "Trần Văn Cảnh",
                    PASS,
                    KdfParams::insecure_fast_for_tests(),
                )
                .unwrap(),
            );
            tmp = Some(t);
        }
        let dir = tmp.as_ref().unwrap().path();
        let delay = Duration::from_millis(rng.gen_range(5..=150));
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, "1")
            .env("GHIDANH_CRASH_DIR", dir)
            .env("GHIDANH_CRASH_CHILD_SEED", rng.gen::<u64>().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no SQLite shutdown.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        // A child that ended by itself failed (a panic) rather than being killed.
        assert!(
            status.code().is_none(),
            "round {round} (seed {seed}): child exited {status}\n{out}\n{err}"
        );
        // Only whole lines count: a line cut by the kill was never an acknowledgement.
        let complete = match out.rfind('\n') {
            Some(i) => &out[..=i],
            None => "",
        };
        let acks: Vec<&str> = complete.lines().filter(|l| l.starts_with("ack ")).collect();
        if !acks.is_empty() {
            killed_mid_run += 1;
        }
        for line in &acks {
            acked.apply(line);
        }
        if let Err(e) = check(dir, &acked) {
            panic!("round {round} (GHIDANH_CRASH_SEED={seed}, kill after {delay:?}): {e}");
        }
    }
    for (k, n) in acked.kinds {
        *total.entry(k).or_default() += n;
    }
    eprintln!(
        "crash test: {rounds} rounds in {:.1} s, {killed_mid_run} killed after acknowledging work, acks {total:?}",
        started.elapsed().as_secs_f64()
    );
    // The test proves something only if the kills landed while work was going on and
    // every kind of operation was acknowledged at some point.
    assert!(
        killed_mid_run * 2 >= rounds,
        "{killed_mid_run} of {rounds} rounds did work"
    );
    if rounds >= 50 {
        for kind in [
            "draft",
            "seal",
            "uploading",
            "failed",
            "accepted",
            "rejected",
        ] {
            assert!(
                total.get(kind).copied().unwrap_or(0) > 0,
                "no {kind} acknowledged: {total:?}"
            );
        }
    }
}
