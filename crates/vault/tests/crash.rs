//! Crash test (issue 4, "Proof"): a child process drives a real vault through random
//! operations over the whole life of a record (autosave, images, finalise, send back, approve,
//! seal, upload, custody receipt, receipt, retention purge, discard) and is killed with SIGKILL
//! at a random moment; the vault must then open, pass `PRAGMA integrity_check` and the audit chain
//! check, and hold no duplicated or half-written record. The child announces each operation
//! (`try`) before the call and acknowledges it (`ack`) after: every enrollment must then be
//! exactly where the acknowledged operations left it, or where the one operation in flight
//! would have.
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
use ghidanh_vault::{Approval, EnrollmentState, FingerPosition, KdfParams, MediaKind, Vault};
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

/// Position 0 is the portrait, 1..=10 a finger.
fn media_kind(pos: u8) -> MediaKind {
    match FingerPosition::new(pos) {
        Some(p) => MediaKind::Finger(p),
        None => MediaKind::Portrait,
    }
}

/// A fake image of 20–40 KB (overflow pages), derived from what names it, so the parent can
/// tell a complete image from a half-written one.
fn photo_bytes(id: EnrollmentId, pos: u8, n: u32) -> Vec<u8> {
    format!("{id}/{pos}/{n};")
        .into_bytes()
        .repeat(400 + (n % 400) as usize)
}

/// Fake custody receipt bytes (the vault stores them as given; the caller verifies).
fn custody_bytes(bundle_id: BundleId) -> Vec<u8> {
    format!("custody {bundle_id}").into_bytes()
}

fn bundle_bytes_ok(bundle_id: BundleId, bytes: &[u8]) -> bool {
    let unit = bundle_id.to_string().into_bytes();
    !bytes.is_empty()
        && bytes.len().is_multiple_of(unit.len())
        && bytes.chunks(unit.len()).all(|c| c == unit.as_slice())
}

// ---- the child ----------------------------------------------------------------------------

/// Takes a random element out of `list`.
fn take<T>(rng: &mut StdRng, list: &mut Vec<T>) -> T {
    list.swap_remove(rng.gen_range(0..list.len()))
}

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

    // What earlier rounds left, by state; every operation picks from these.
    let mut drafts: Vec<(EnrollmentId, u64)> = Vec::new();
    let mut finalised: Vec<(EnrollmentId, u64)> = Vec::new();
    let mut approved: Vec<(EnrollmentId, u64)> = Vec::new();
    let mut sealed: Vec<BundleId> = Vec::new();
    let mut uploading: Vec<BundleId> = Vec::new();
    let mut custody: Vec<BundleId> = Vec::new();
    let mut accepted: Vec<BundleId> = Vec::new();
    let mut rejected: Vec<(EnrollmentId, BundleId)> = Vec::new();
    let mut ids: HashMap<BundleId, EnrollmentId> = HashMap::new();
    for e in vault.list().unwrap() {
        if let Some(b) = e.bundle_id {
            ids.insert(b, e.id);
        }
        let version = || version_of(&e.input).unwrap();
        match e.state {
            EnrollmentState::Draft => drafts.push((e.id, version())),
            EnrollmentState::Finalised => finalised.push((e.id, version())),
            EnrollmentState::Approved => approved.push((e.id, version())),
            // Unlock put any `uploading` row back to `sealed`.
            EnrollmentState::Sealed | EnrollmentState::Uploading => {
                sealed.push(e.bundle_id.unwrap())
            }
            EnrollmentState::Custody => custody.push(e.bundle_id.unwrap()),
            EnrollmentState::Accepted => accepted.push(e.bundle_id.unwrap()),
            EnrollmentState::Rejected => rejected.push((e.id, e.bundle_id.unwrap())),
            EnrollmentState::Purged => {}
        }
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // `try <op>` goes out before a call and `ack <op>` only after it returned Ok, each in one
    // write, flushed: the parent then knows the acknowledged operations and the one in flight.
    let mut say = |tag: &str, line: &str| {
        out.write_all(format!("{tag} {line}\n").as_bytes()).unwrap();
        out.flush().unwrap();
    };
    // The test harness printed `test crash_child ... ` without a newline: end that line so
    // the first `try`/`ack` starts a line of its own.
    say("ready", "");
    // Bounded so a child whose parent died does not run forever.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match rng.gen_range(0..100) {
            0..=11 => {
                say("try", "draft new");
                let id = vault.save_draft(None, op.id, &input_at(0)).unwrap();
                say("ack", &format!("draft {id} 0"));
                drafts.push((id, 0));
            }
            26..=29 if !drafts.is_empty() => {
                let (id, _) = drafts[rng.gen_range(0..drafts.len())];
                let pos: u8 = rng.gen_range(0..=10);
                let n: u32 = rng.gen();
                let line = format!("photo {id} {pos} {n}");
                say("try", &line);
                vault
                    .store_media(
                        id,
                        media_kind(pos),
                        &format!("jpeg-{n}"),
                        &photo_bytes(id, pos, n),
                    )
                    .unwrap();
                say("ack", &line);
            }
            12..=25 if !drafts.is_empty() => {
                let i = rng.gen_range(0..drafts.len());
                let (id, v) = drafts[i];
                let line = format!("draft {id} {}", v + 1);
                say("try", &line);
                vault.save_draft(Some(id), op.id, &input_at(v + 1)).unwrap();
                say("ack", &line);
                drafts[i].1 = v + 1;
            }
            30..=39 if !drafts.is_empty() => {
                let (id, v) = take(&mut rng, &mut drafts);
                let line = format!("finalised {id}");
                say("try", &line);
                vault.finalise(id).unwrap();
                say("ack", &line);
                finalised.push((id, v));
            }
            40..=41 if !finalised.is_empty() => {
                let (id, v) = take(&mut rng, &mut finalised);
                let line = format!("sentback {id}");
                say("try", &line);
                vault.send_back(id, "ảnh bị mờ, chụp lại").unwrap();
                say("ack", &line);
                drafts.push((id, v));
            }
            42..=49 if !finalised.is_empty() => {
                let (id, v) = take(&mut rng, &mut finalised);
                let how = if rng.gen() {
                    Approval::Supervisor
                } else {
                    Approval::NoReviewPolicy
                };
                let line = format!("approved {id}");
                say("try", &line);
                vault.approve(id, how).unwrap();
                say("ack", &line);
                approved.push((id, v));
            }
            50..=59 if !approved.is_empty() => {
                let (id, v) = take(&mut rng, &mut approved);
                let bundle_id = BundleId::new();
                let bytes = bundle_bytes(bundle_id, rng.gen_range(30..250));
                let line = format!("seal {id} {bundle_id}");
                say("try", &line);
                vault.seal(id, &input_at(v), bundle_id, &bytes).unwrap();
                say("ack", &line);
                sealed.push(bundle_id);
                ids.insert(bundle_id, id);
            }
            60..=65 if !sealed.is_empty() => {
                let b = take(&mut rng, &mut sealed);
                let line = format!("uploading {b}");
                say("try", &line);
                vault.mark_uploading(b).unwrap();
                say("ack", &line);
                uploading.push(b);
            }
            66..=70 if !uploading.is_empty() => {
                let b = take(&mut rng, &mut uploading);
                let line = format!("failed {b}");
                say("try", &line);
                vault.upload_failed(b, 0, "connection refused").unwrap();
                say("ack", &line);
                sealed.push(b);
            }
            71..=75 if !sealed.is_empty() || !uploading.is_empty() => {
                let from_uploading = !uploading.is_empty() && (sealed.is_empty() || rng.gen());
                let list = if from_uploading {
                    &mut uploading
                } else {
                    &mut sealed
                };
                let b = take(&mut rng, list);
                let line = format!("custody {b}");
                say("try", &line);
                vault.record_custody(b, &custody_bytes(b)).unwrap();
                say("ack", &line);
                custody.push(b);
            }
            76..=89 if !sealed.is_empty() || !uploading.is_empty() || !custody.is_empty() => {
                let list = match rng.gen_range(0..3) {
                    0 if !uploading.is_empty() => &mut uploading,
                    1 if !custody.is_empty() => &mut custody,
                    _ if !sealed.is_empty() => &mut sealed,
                    _ if !uploading.is_empty() => &mut uploading,
                    _ => &mut custody,
                };
                let b = take(&mut rng, list);
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
                let line = match receipt.verdict {
                    Verdict::Accepted => format!("accepted {b} {}", receipt.receipt_id),
                    _ => format!("rejected {b}"),
                };
                say("try", &line);
                vault
                    .record_receipt(b, &receipt.sign(&keys), &receipt)
                    .unwrap();
                say("ack", &line);
                if let Verdict::Accepted = receipt.verdict {
                    accepted.push(b);
                } else {
                    rejected.push((ids[&b], b));
                }
            }
            90..=94 if !accepted.is_empty() => {
                // Retention is 0 days: every accepted one is due, and the child knows them all.
                let names: Vec<String> = accepted.iter().map(|b| b.to_string()).collect();
                let line = format!("purged {}", names.join(" "));
                say("try", &line);
                let n = vault.purge_due(i64::MAX).unwrap();
                assert_eq!(n, accepted.len(), "purge_due purged another set");
                say("ack", &line);
                accepted.clear();
            }
            95..=99 if !rejected.is_empty() => {
                let (id, b) = take(&mut rng, &mut rejected);
                let line = format!("discarded {b}");
                say("try", &line);
                vault.discard_rejected(id).unwrap();
                say("ack", &line);
            }
            _ => {}
        }
    }
}

// ---- the parent ---------------------------------------------------------------------------

/// What the children acknowledged, over every round on one vault.
#[derive(Default, Clone)]
struct Acked {
    /// Enrollment → highest acknowledged autosave version.
    drafts: HashMap<EnrollmentId, u64>,
    /// Enrollment → the state its last acknowledged operation left it in.
    states: HashMap<EnrollmentId, EnrollmentState>,
    /// Enrollment → its acknowledged bundle.
    seals: HashMap<EnrollmentId, BundleId>,
    /// Bundle → its enrollment.
    enrollment_of: HashMap<BundleId, EnrollmentId>,
    /// Bundle → acknowledged failed attempts.
    failures: HashMap<BundleId, u32>,
    /// Bundle → `Some(receipt id)` when accepted, `None` when rejected.
    receipts: HashMap<BundleId, Option<String>>,
    /// Bundles sealed or purged since the last check: their bytes are read back once.
    fresh_seals: Vec<BundleId>,
    fresh_purges: Vec<BundleId>,
    /// (Enrollment, position) → the image number last acknowledged.
    photos: HashMap<(EnrollmentId, u8), u32>,
    /// Images stored since the last check: read back once.
    fresh_photos: BTreeSet<(EnrollmentId, u8)>,
    /// Acknowledged operations by kind, to prove the run exercised each.
    kinds: BTreeMap<String, u64>,
}

impl Acked {
    fn apply(&mut self, line: &str) {
        use EnrollmentState as S;
        let parts: Vec<&str> = line.split(' ').collect();
        *self.kinds.entry(parts[1].to_owned()).or_default() += 1;
        let bundle = |s: &str| BundleId::parse(s).unwrap();
        let id = |s: &str| EnrollmentId::parse(s).unwrap();
        match parts[1..] {
            ["draft", e, v] => {
                let v: u64 = v.parse().unwrap();
                let d = self.drafts.entry(id(e)).or_default();
                *d = (*d).max(v);
                self.states.insert(id(e), S::Draft);
            }
            ["photo", e, pos, n] => {
                let key = (id(e), pos.parse().unwrap());
                self.photos.insert(key, n.parse().unwrap());
                self.fresh_photos.insert(key);
            }
            ["finalised", e] => self.set(id(e), S::Finalised),
            ["sentback", e] => self.set(id(e), S::Draft),
            ["approved", e] => self.set(id(e), S::Approved),
            ["seal", e, b] => {
                self.seals.insert(id(e), bundle(b));
                self.enrollment_of.insert(bundle(b), id(e));
                self.fresh_seals.push(bundle(b));
                self.set(id(e), S::Sealed);
            }
            ["uploading", b] => self.set_bundle(bundle(b), S::Uploading),
            ["failed", b] => {
                *self.failures.entry(bundle(b)).or_default() += 1;
                self.set_bundle(bundle(b), S::Sealed);
            }
            ["custody", b] => self.set_bundle(bundle(b), S::Custody),
            ["accepted", b, r] => {
                self.receipts.insert(bundle(b), Some(r.to_owned()));
                self.set_bundle(bundle(b), S::Accepted);
            }
            ["rejected", b] => {
                self.receipts.insert(bundle(b), None);
                self.set_bundle(bundle(b), S::Rejected);
            }
            ["purged", ref bs @ ..] | ["discarded", ref bs @ ..] => {
                for b in bs {
                    self.set_bundle(bundle(b), S::Purged);
                    self.fresh_purges.push(bundle(b));
                }
            }
            _ => panic!("unknown acknowledgement {line:?}"),
        }
    }

    fn set(&mut self, id: EnrollmentId, state: EnrollmentState) {
        self.states.insert(id, state);
    }

    /// A bundle sealed in a round whose `seal` ack was lost to the kill is learnt here.
    fn set_bundle(&mut self, b: BundleId, state: EnrollmentState) {
        if let Some(&id) = self.enrollment_of.get(&b) {
            self.set(id, state);
        }
    }
}

/// Reopens the vault after a kill and checks everything the brief promises.
fn check(dir: &Path, acked: &mut Acked, in_flight: Option<&str>) -> Result<(), String> {
    use EnrollmentState as S;
    let (vault, _) = Vault::unlock(dir, PASS).map_err(|e| format!("unlock: {e}"))?;
    let integrity = vault.integrity_check().map_err(|e| e.to_string())?;
    if integrity != "ok" {
        return Err(format!("integrity_check: {integrity}"));
    }
    vault
        .audit_verify()
        .map_err(|e| format!("audit chain: {e:?}"))?;
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
        // A purged record is the empty one; anything else is exactly one complete write.
        let whole = if e.state == S::Purged {
            e.input == EnrollmentInput::default()
        } else {
            version_of(&e.input).is_some()
        };
        if !whole {
            return Err(format!(
                "{} ({}) holds a record no write produced",
                e.id, e.state
            ));
        }
        match (e.state, e.bundle_id) {
            (S::Draft | S::Finalised | S::Approved, None) => {}
            (S::Draft | S::Finalised | S::Approved, Some(b)) => {
                return Err(format!("{} is {} with {b}", e.id, e.state))
            }
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
                // Learn the bundles whose `seal` ack the kill cut off.
                acked.enrollment_of.entry(b).or_insert(e.id);
            }
        }
    }
    if links.len() != bundles.len() {
        return Err("more outbox rows than sealed enrollments".into());
    }
    // Every enrollment is exactly where the acknowledged operations left it, or where the
    // one operation in flight at the kill would have (it may or may not have committed).
    let mut alt = acked.clone();
    let mut new_draft_in_flight = false;
    match in_flight {
        Some("draft new") => new_draft_in_flight = true,
        Some(line) => alt.apply(&format!("ack {line}")),
        None => {}
    }
    // Unlock puts `uploading` back to `sealed`.
    let after_unlock = |s: EnrollmentState| if s == S::Uploading { S::Sealed } else { s };
    for e in &list {
        let was = acked.states.get(&e.id).copied().map(after_unlock);
        let would = alt.states.get(&e.id).copied().map(after_unlock);
        match (was, would) {
            (None, None) if new_draft_in_flight && e.state == S::Draft => {
                new_draft_in_flight = false
            }
            (None, None) => return Err(format!("{} ({}) appeared unasked", e.id, e.state)),
            _ if Some(e.state) == was || Some(e.state) == would => {}
            _ => {
                return Err(format!(
                    "{}: acknowledged {was:?}, in flight {would:?}, found {}",
                    e.id, e.state
                ))
            }
        }
        if matches!(e.state, S::Draft | S::Finalised | S::Approved) {
            let found = version_of(&e.input).unwrap_or(0);
            let acked_v = acked.drafts.get(&e.id).copied().unwrap_or(0);
            let alt_v = alt.drafts.get(&e.id).copied().unwrap_or(0);
            if found != acked_v && found != alt_v {
                return Err(format!(
                    "draft {}: acknowledged version {acked_v}, found {found}",
                    e.id
                ));
            }
        }
    }
    if let Some(id) = acked.states.keys().find(|id| !by_id.contains_key(id)) {
        return Err(format!("acknowledged enrollment {id} is gone"));
    }
    let due: HashMap<BundleId, (u32, Vec<u8>)> = vault
        .due_uploads(i64::MAX)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|o| (o.bundle_id, (o.attempts, o.bytes)))
        .collect();
    for (b, (_, bytes)) in &due {
        if !bundle_bytes_ok(*b, bytes) {
            return Err(format!("bundle {b}: queued bytes damaged"));
        }
    }
    for (id, b) in &acked.seals {
        let e = by_id.get(id).ok_or(format!("acked seal {id} is gone"))?;
        if e.bundle_id != Some(*b) {
            return Err(format!("acked seal {id}/{b} found as {:?}", e.state));
        }
    }
    // Read back (an audited export) only what changed since the last check: the rest was
    // read then and no operation writes sealed bytes again.
    for b in std::mem::take(&mut acked.fresh_seals) {
        let purged = acked
            .enrollment_of
            .get(&b)
            .and_then(|id| by_id.get(id))
            .is_some_and(|e| e.state == S::Purged);
        let bytes = vault.sealed_bundle(b).map_err(|e| e.to_string())?;
        if !purged && !bytes.is_some_and(|bytes| bundle_bytes_ok(b, &bytes)) {
            return Err(format!("bundle {b}: sealed bytes missing or damaged"));
        }
    }
    let fresh_purges = std::mem::take(&mut acked.fresh_purges);
    for &b in &fresh_purges {
        if vault.sealed_bundle(b).map_err(|e| e.to_string())?.is_some() {
            return Err(format!("purged bundle {b} still has its sealed bytes"));
        }
    }
    // Images: each is one complete write, the acknowledged one or the one in flight.
    acked.fresh_photos.clear();
    for &(e, pos) in &alt.fresh_photos {
        let found = vault
            .media(e, media_kind(pos))
            .map_err(|err| err.to_string())?;
        let purged = by_id.get(&e).is_some_and(|s| s.state == S::Purged);
        let expected = [acked.photos.get(&(e, pos)), alt.photos.get(&(e, pos))];
        match found {
            None if purged || expected[0].is_none() => {}
            None => return Err(format!("image {e}/{pos} acknowledged, not found")),
            Some(_) if purged => return Err(format!("image {e}/{pos} outlived the purge")),
            Some((format, bytes)) => {
                let n: u32 = format
                    .strip_prefix("jpeg-")
                    .and_then(|n| n.parse().ok())
                    .ok_or(format!("image {e}/{pos}: format {format:?}"))?;
                if bytes != photo_bytes(e, pos, n) {
                    return Err(format!("image {e}/{pos} is half-written"));
                }
                if !expected.contains(&Some(&n)) {
                    return Err(format!("image {e}/{pos}: found {n}, acked {expected:?}"));
                }
            }
        }
    }
    for b in &fresh_purges {
        let Some(e) = acked.enrollment_of.get(b) else {
            continue;
        };
        for pos in 0..=10 {
            if acked.photos.contains_key(&(*e, pos))
                && vault
                    .media(*e, media_kind(pos))
                    .map_err(|err| err.to_string())?
                    .is_some()
            {
                return Err(format!("image {e}/{pos} outlived the purge"));
            }
        }
    }
    for (b, &n) in &acked.failures {
        if let Some(&(a, _)) = due.get(b) {
            if a < n {
                return Err(format!("bundle {b}: {n} failures acked, {a} stored"));
            }
        }
    }
    let by_bundle: HashMap<BundleId, _> = list
        .iter()
        .filter_map(|e| Some((e.bundle_id?, e)))
        .collect();
    for (b, e) in &by_bundle {
        if e.state == S::Custody && due.contains_key(b) {
            return Err(format!("bundle {b} in custody is still due for upload"));
        }
    }
    for (b, receipt) in &acked.receipts {
        let e = by_bundle
            .get(b)
            .ok_or(format!("receipted bundle {b} is gone"))?;
        // Purged keeps the receipt id and the reason: only personal data goes.
        let ok = match receipt {
            Some(r) => {
                matches!(e.state, S::Accepted | S::Purged) && e.receipt_id.as_ref() == Some(r)
            }
            None => matches!(e.state, S::Rejected | S::Purged) && e.reason.is_some(),
        };
        if !ok {
            return Err(format!("receipt for {b} acked, found {:?}", e.state));
        }
        if due.contains_key(b) {
            return Err(format!("receipted bundle {b} is still due for upload"));
        }
    }
    // The next child starts from what is on disk, the operation in flight included.
    for e in &list {
        acked.states.insert(e.id, e.state);
        if let Some(v) = version_of(&e.input) {
            acked.drafts.insert(e.id, v);
        }
        if let Some(b) = e.bundle_id {
            acked.enrollment_of.insert(b, e.id);
            acked.seals.insert(e.id, b);
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
        // A `try` not followed by its `ack` is the operation the kill interrupted.
        let in_flight = complete.lines().last().and_then(|l| l.strip_prefix("try "));
        if !acks.is_empty() {
            killed_mid_run += 1;
        }
        for line in &acks {
            acked.apply(line);
        }
        if let Err(e) = check(dir, &mut acked, in_flight) {
            let tail: Vec<&str> = out.lines().rev().take(4).collect();
            panic!(
                "round {round} (GHIDANH_CRASH_SEED={seed}, kill after {delay:?}): {e}\n\
                 last lines of the child, newest first: {tail:#?}"
            );
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
            "photo",
            "finalised",
            "sentback",
            "approved",
            "seal",
            "uploading",
            "failed",
            "custody",
            "accepted",
            "rejected",
            "purged",
            "discarded",
        ] {
            assert!(
                total.get(kind).copied().unwrap_or(0) > 0,
                "no {kind} acknowledged: {total:?}"
            );
        }
    }
}
