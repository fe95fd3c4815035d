//! The USB path under faults, across processes: several kits with no network (`ghidanh
//! kit-sim --seal-only`: the real `Kit`) export onto one stick; the copy is damaged (one
//! bundle cut short mid-file, a byte flipped in another); the district relay imports it while
//! it runs (`ghidanh relay import --data RELAY`), the real relay process forwards to the real
//! central registry and is SIGKILLed mid-forwarding and restarted; the custody and then the
//! central receipts come home on the stick, the kits import them and re-export what is left
//! from their intact outboxes; the last trip is on a fresh stick, which carries only the
//! kits' custody receipts. No step but the operator's carry, import and re-export.
//!
//! At the end central holds exactly one enrollment per bundle, every kit holds the verified
//! accepted receipt central stored for every bundle it sealed, the relay holds nothing
//! un-forwarded, and importing twice (either way) changes nothing. Needs `cargo build -p
//! ghidanh-cli` first.

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ghidanh_tests::harness::HarnessSize;
use ghidanh_tests::process::free_ports;
use ghidanh_tests::registry::ghidanh_binary;
use ghidanh_tests::relay::{RelayData, RelayProcess};
use ghidanh_tests::{ghidanh, RegistryData, RegistryProcess};
use ghidanh_vault::{EnrollmentState, Vault};
use serde_json::Value;

/// `ghidanh kit-sim`'s operator passphrase (crates/cli/src/cmd/kit_sim.rs).
const KIT_PASS: &str = "kit-sim passphrase";
/// Where the kits were provisioned to send: nothing listens (the kits have no network).
const NO_NETWORK: &str = "http://127.0.0.1:9";

/// Runs `ghidanh ARGS` with the kits' passphrase; the output whatever the exit code.
fn run(args: &[&str]) -> Result<Output> {
    Command::new(ghidanh_binary()?)
        .args(args)
        .env("GHIDANH_PASSPHRASE", KIT_PASS)
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .context("running ghidanh")
}

fn s(p: &Path) -> Result<&str> {
    p.to_str().context("non-UTF-8 temp path")
}

fn json(o: &Output) -> Result<Value> {
    serde_json::from_slice(&o.stdout)
        .with_context(|| format!("not JSON: {}", String::from_utf8_lossy(&o.stdout)))
}

/// One line of a `--json` report: (file, outcome, detail).
type Line = (String, String, Option<String>);

/// The lines of a `--json` report.
fn lines(v: &Value) -> Result<Vec<Line>> {
    v["files"]
        .as_array()
        .context("no files")?
        .iter()
        .map(|f| {
            Ok((
                f["file"].as_str().context("file")?.to_owned(),
                f["outcome"].as_str().context("outcome")?.to_owned(),
                f["detail"].as_str().map(str::to_owned),
            ))
        })
        .collect()
}

/// How many lines had `outcome` (and, if given, `detail`).
fn count(lines: &[Line], outcome: &str, detail: Option<&str>) -> usize {
    lines
        .iter()
        .filter(|(_, o, d)| o == outcome && detail.is_none_or(|want| d.as_deref() == Some(want)))
        .count()
}

struct Kit {
    dir: PathBuf,
    bundles: Vec<String>,
}

impl Kit {
    fn vault(&self) -> PathBuf {
        self.dir.join("vault")
    }

    /// (bundle id → (state, receipt id)) from the kit's vault.
    fn states(&self) -> Result<BTreeMap<String, (EnrollmentState, Option<String>)>> {
        let (vault, _) = Vault::unlock(&self.vault(), KIT_PASS)?;
        let mut out = BTreeMap::new();
        for e in vault.list()? {
            let b = e
                .bundle_id
                .context("sealed without a bundle id")?
                .to_string();
            out.insert(b, (e.state, e.receipt_id));
        }
        Ok(out)
    }

    fn export(&self, stick: &Path) -> Result<Value> {
        let o = run(&[
            "export",
            "--to",
            s(stick)?,
            "--vault",
            s(&self.vault())?,
            "--json",
        ])?;
        ensure!(o.status.success(), "export: {o:?}");
        json(&o)
    }

    fn import_receipts(&self, stick: &Path) -> Result<Vec<Line>> {
        let o = run(&[
            "import-receipts",
            s(stick)?,
            "--vault",
            s(&self.vault())?,
            "--json",
        ])?;
        ensure!(o.status.success(), "import-receipts: {o:?}");
        let v = json(&o)?;
        ensure!(v["revoked"] == false, "{v}");
        lines(&v)
    }

    fn in_state(&self, want: EnrollmentState) -> Result<BTreeSet<String>> {
        Ok(self
            .states()?
            .into_iter()
            .filter(|(_, (st, _))| *st == want)
            .map(|(b, _)| b)
            .collect())
    }
}

struct Office {
    relay: RelayData,
}

impl Office {
    /// `ghidanh relay import STICK --data RELAY`: exit code and report lines.
    fn import(&self, stick: &Path) -> Result<(i32, Vec<Line>)> {
        let o = run(&[
            "relay",
            "import",
            s(stick)?,
            "--data",
            s(&self.relay.dir)?,
            "--upstream-keys",
            s(&self.relay.upstream_keys)?,
            "--json",
        ])?;
        let code = o.status.code().context("relay import killed")?;
        ensure!(code == 0 || code == 1, "relay import exit {code}: {o:?}");
        Ok((code, lines(&json(&o)?)?))
    }
}

/// The relay's `pending` (bundles without their central receipt), from its health route.
async fn pending(http: &reqwest::Client, relay_url: &str) -> Result<u64> {
    let v: Value = serde_json::from_str(
        &http
            .get(format!("{relay_url}/api/v1/health"))
            .send()
            .await?
            .text()
            .await?,
    )?;
    v["pending"].as_u64().with_context(|| format!("{v}"))
}

async fn wait_forwarded(http: &reqwest::Client, relay_url: &str) -> Result<()> {
    let start = Instant::now();
    loop {
        if pending(http, relay_url).await? == 0 {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("the relay still holds bundles after 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every file under `dir` with its bytes: the stick as a whole, to compare.
fn snapshot(dir: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path)?);
            }
        }
    }
    Ok(out)
}

fn bundle_path(stick: &Path, id: &str) -> PathBuf {
    stick.join(format!("ghidanh/bundles/{id}.gdbundle"))
}

fn receipt_path(stick: &Path, id: &str, ext: &str) -> PathBuf {
    stick.join(format!("ghidanh/receipts/{id}.{ext}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kits_with_no_network_deliver_by_a_damaged_stick_through_a_killed_relay_exactly_once(
) -> Result<()> {
    let started = Instant::now();
    let root = tempfile::tempdir()?;
    let [central_port, relay_port] = free_ports::<2>()?;
    let central_listen = format!("127.0.0.1:{central_port}");
    let relay_listen = format!("127.0.0.1:{relay_port}");
    let central_url = format!("http://{central_listen}");
    let relay_url = format!("http://{relay_listen}");
    let http = reqwest::Client::new();

    let data = RegistryData::create(root.path(), NO_NETWORK)?;
    let office = Office {
        relay: RelayData::create(root.path(), &data)?,
    };
    let _central = RegistryProcess::start(&data, &central_listen)?;

    // Sizes as in the network harnesses (`GHIDANH_HARNESS_KITS` × `GHIDANH_HARNESS_BUNDLES`).
    let HarnessSize {
        kits: kits_n,
        per_kit,
        ..
    } = HarnessSize::from_env();
    ensure!(
        kits_n >= 2 && per_kit >= 6,
        "the stick harness needs 2 kits x 6 bundles at least"
    );
    // 1. Kits in the field: provisioned, never online, each seals per_kit enrollments.
    let mut children = Vec::new();
    for i in 0..kits_n {
        let prov = root.path().join(format!("kit-{i}.gdprov"));
        ghidanh(&[
            "device",
            "provision",
            "--data",
            s(&data.dir)?,
            "--url",
            NO_NETWORK,
            "--out",
            s(&prov)?,
            "--label",
            &format!("Đội {i}"),
        ])?;
        let dir = root.path().join(format!("kit-{i}"));
        let child = Command::new(ghidanh_binary()?)
            .args(["kit-sim", "--seal-only", "--provisioning"])
            .arg(&prov)
            .arg("--dir")
            .arg(&dir)
            .args(["--enrollments", &per_kit.to_string()])
            .env("RUST_LOG", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        children.push((dir, child));
    }
    let mut kits = Vec::new();
    for (dir, child) in children {
        let out = child.wait_with_output()?;
        ensure!(out.status.success(), "kit-sim: {out:?}");
        let v: Value = serde_json::from_slice(&out.stdout)?;
        let bundles: Vec<String> = v["bundles"]
            .as_array()
            .context("bundles")?
            .iter()
            .filter_map(|b| b.as_str().map(str::to_owned))
            .collect();
        ensure!(bundles.len() == per_kit, "{v}");
        kits.push(Kit { dir, bundles });
    }
    let sealed: BTreeSet<String> = kits.iter().flat_map(|k| k.bundles.clone()).collect();
    ensure!(sealed.len() == kits_n * per_kit, "a bundle id sealed twice");

    // 2. Every kit exports onto the same stick; the copy is damaged on the way.
    let stick = root.path().join("stick");
    for k in &kits {
        let v = k.export(&stick)?;
        ensure!(
            v["bundles"].as_array().map(Vec::len) == Some(per_kit),
            "{v}"
        );
        ensure!(
            v["registration"] == true,
            "never online: the registration travels"
        );
    }
    let cut = kits[0].bundles[3].clone();
    let flipped = kits[1].bundles[5].clone();
    let cut_path = bundle_path(&stick, &cut);
    let whole = std::fs::read(&cut_path)?;
    std::fs::write(&cut_path, &whole[..whole.len() / 2])?;
    let flip_path = bundle_path(&stick, &flipped);
    let mut bytes = std::fs::read(&flip_path)?;
    let at = bytes.len() - 100;
    bytes[at] ^= 0x20;
    std::fs::write(&flip_path, &bytes)?;
    let damaged: BTreeSet<String> = [cut.clone(), flipped.clone()].into();
    let good = kits_n * per_kit - damaged.len();

    // 3. The office imports (its relay is not running yet, so the kill below surely comes
    // mid-forwarding; later imports run beside the live relay): a per-file report, exit 1
    // for the damage, the good files held all the same.
    let (code, report) = office.import(&stick)?;
    ensure!(
        code == 1,
        "damaged files must make the exit code 1: {report:?}"
    );
    ensure!(count(&report, "held", None) == good + kits_n, "{report:?}");
    for id in &damaged {
        let file = format!("bundles/{id}.gdbundle");
        let line = report
            .iter()
            .find(|(f, _, _)| *f == file)
            .with_context(|| format!("{file} not reported"))?;
        ensure!(
            line.1 == "damaged" && line.2.as_deref().is_some_and(|d| !d.is_empty()),
            "{line:?}"
        );
        ensure!(!receipt_path(&stick, id, "gdcustody").exists());
    }
    ensure!(count(&report, "damaged", None) == 2, "{report:?}");
    // Each named with the rule it broke: the cut one is shorter than its signed header
    // says, the flipped one's ciphertext no longer has the signed BLAKE3 digest.
    for (id, rule) in [(&cut, "(length)"), (&flipped, "(BLAKE3)")] {
        let file = format!("bundles/{id}.gdbundle");
        ensure!(
            report
                .iter()
                .any(|(f, _, d)| *f == file && d.as_deref().is_some_and(|d| d.contains(rule))),
            "{file} not reported with {rule}: {report:?}"
        );
    }
    for id in sealed.difference(&damaged) {
        ensure!(
            receipt_path(&stick, id, "gdcustody").is_file(),
            "no custody for {id}"
        );
        ensure!(!receipt_path(&stick, id, "gdreceipt").exists());
    }
    let certs = std::fs::read_dir(stick.join("ghidanh/relays"))?.count();
    ensure!(certs == 1, "{certs} relay certificates on the stick");

    // 4. The relay starts and forwards (registrations first, then bundles); it is SIGKILLed
    // mid-way and restarted on the same port.
    let mut relay = Some(RelayProcess::start(
        &office.relay,
        &relay_listen,
        &central_url,
    )?);
    let kill_deadline = Instant::now() + Duration::from_secs(30);
    let at_kill = loop {
        let p = pending(&http, &relay_url).await?;
        // Half-way: some bundles at central, some only at the relay.
        if p <= good as u64 / 2 {
            break p;
        }
        ensure!(Instant::now() < kill_deadline, "the relay forwards nothing");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    if let Some(r) = relay.take() {
        r.kill_hard();
    }
    ensure!(
        at_kill > 0,
        "the relay was not killed mid-forwarding (everything was forwarded already)"
    );
    relay = Some(RelayProcess::start(
        &office.relay,
        &relay_listen,
        &central_url,
    )?);
    wait_forwarded(&http, &relay_url).await?;

    // 5. The stick comes home: custody for the good bundles; the damaged ones stay queued
    // and are exported again from the kits' intact outboxes.
    for k in &kits {
        let lines = k.import_receipts(&stick)?;
        let mine_good = k.bundles.iter().filter(|b| !damaged.contains(*b)).count();
        ensure!(
            count(&lines, "recorded", Some("custody")) == mine_good,
            "{lines:?}"
        );
        ensure!(count(&lines, "refused", None) == 0, "{lines:?}");
        let custody = k.in_state(EnrollmentState::Custody)?;
        ensure!(custody.len() == mine_good, "{custody:?}");
        let again = k.export(&stick)?;
        let again: BTreeSet<String> = again["bundles"]
            .as_array()
            .context("bundles")?
            .iter()
            .filter_map(|b| b.as_str().map(str::to_owned))
            .collect();
        let want: BTreeSet<String> = k
            .bundles
            .iter()
            .filter(|b| damaged.contains(*b))
            .cloned()
            .collect();
        ensure!(again == want, "re-exported {again:?}, wanted {want:?}");
    }
    ensure!(
        std::fs::read(&cut_path)? == whole,
        "the cut bundle is whole again"
    );

    // 6. Second trip: the damaged two are held now; the forwarded ones get central receipts.
    let (code, report) = office.import(&stick)?;
    ensure!(code == 0, "{report:?}");
    ensure!(count(&report, "held", None) == 2, "{report:?}");
    ensure!(count(&report, "accepted", None) == good, "{report:?}");
    ensure!(count(&report, "already_held", None) == kits_n, "{report:?}");
    wait_forwarded(&http, &relay_url).await?;
    for k in &kits {
        let lines = k.import_receipts(&stick)?;
        let mine_damaged = k.bundles.iter().filter(|b| damaged.contains(*b)).count();
        ensure!(
            count(&lines, "recorded", Some("accepted")) == per_kit - mine_damaged,
            "{lines:?}"
        );
        ensure!(
            count(&lines, "recorded", Some("custody")) == mine_damaged,
            "{lines:?}"
        );
    }

    // 7. Third trip, on a fresh stick: no bundle is queued any more; the two still in the
    // relay's custody travel as their custody receipts, and the relay answers them with the
    // central receipts.
    let stick2 = root.path().join("stick2");
    for k in &kits {
        let v = k.export(&stick2)?;
        ensure!(v["bundles"].as_array().map(Vec::len) == Some(0), "{v}");
        let custody: BTreeSet<String> = v["custody"]
            .as_array()
            .context("custody")?
            .iter()
            .filter_map(|b| b.as_str().map(str::to_owned))
            .collect();
        let want: BTreeSet<String> = k
            .bundles
            .iter()
            .filter(|b| damaged.contains(*b))
            .cloned()
            .collect();
        ensure!(
            custody == want,
            "custody exported {custody:?}, wanted {want:?}"
        );
    }
    let (code, report) = office.import(&stick2)?;
    ensure!(code == 0, "{report:?}");
    ensure!(count(&report, "accepted", None) == 2, "{report:?}");
    for id in &damaged {
        ensure!(receipt_path(&stick2, id, "gdreceipt").is_file());
    }
    for k in &kits {
        let lines = k.import_receipts(&stick2)?;
        let mine_damaged = k.bundles.iter().filter(|b| damaged.contains(*b)).count();
        ensure!(
            count(&lines, "recorded", Some("accepted")) == mine_damaged,
            "{lines:?}"
        );
    }
    // The first stick, once more at the office, gets those two central receipts too; at
    // home they change nothing (recorded already).
    let (code, report) = office.import(&stick)?;
    ensure!(code == 0, "{report:?}");
    ensure!(count(&report, "accepted", None) == 2, "{report:?}");
    ensure!(
        count(&report, "already_imported", None) == good,
        "{report:?}"
    );
    for k in &kits {
        let lines = k.import_receipts(&stick)?;
        ensure!(count(&lines, "recorded", None) == 0, "{lines:?}");
    }

    // 8. Importing twice changes nothing: not the sticks, not central, not a kit.
    let sticks_before = (snapshot(&stick)?, snapshot(&stick2)?);
    let central_before = data.accepted_bundles()?;
    let kits_before: Vec<_> = kits.iter().map(Kit::states).collect::<Result<_>>()?;
    let (code, report) = office.import(&stick)?;
    ensure!(code == 0, "{report:?}");
    ensure!(
        count(&report, "already_imported", None) == kits_n * per_kit,
        "{report:?}"
    );
    let (code, report) = office.import(&stick2)?;
    ensure!(code == 0, "{report:?}");
    ensure!(
        report
            .iter()
            .all(|(_, o, _)| o == "already_held" || o == "already_imported"),
        "{report:?}"
    );
    for k in &kits {
        for st in [&stick, &stick2] {
            let lines = k.import_receipts(st)?;
            ensure!(
                lines.iter().all(|(_, o, _)| o == "not_waiting"),
                "{lines:?}"
            );
        }
    }
    ensure!(
        (snapshot(&stick)?, snapshot(&stick2)?) == sticks_before,
        "a second import changed a stick"
    );
    ensure!(data.accepted_bundles()? == central_before);
    let kits_after: Vec<_> = kits.iter().map(Kit::states).collect::<Result<_>>()?;
    ensure!(kits_after == kits_before, "a second import changed a kit");

    // 9. The promise: one enrollment per bundle at central, each kit's verified receipt for
    // every bundle is the one central stored, nothing left at the relay.
    let stored = data.accepted_bundles()?;
    let mut at_central: BTreeMap<String, String> = BTreeMap::new();
    for b in &stored {
        let id = b["bundleId"].as_str().context("bundleId")?.to_owned();
        let receipt = b["receiptId"].as_str().context("receiptId")?.to_owned();
        ensure!(
            at_central.insert(id.clone(), receipt).is_none(),
            "{id} stored twice"
        );
    }
    ensure!(
        at_central.keys().cloned().collect::<BTreeSet<_>>() == sealed,
        "central holds {} bundles, the kits sealed {}",
        at_central.len(),
        sealed.len()
    );
    for k in &kits {
        for (bundle, (state, receipt)) in k.states()? {
            ensure!(state == EnrollmentState::Accepted, "{bundle}: {state:?}");
            ensure!(
                receipt.as_ref() == at_central.get(&bundle),
                "{bundle}: kit shows {receipt:?}, central stored {:?}",
                at_central.get(&bundle)
            );
        }
    }
    ensure!(pending(&http, &relay_url).await? == 0);
    let held = std::fs::read_dir(office.relay.dir.join("held"))?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "gdb"))
        .count();
    ensure!(held == 0, "the relay still keeps {held} bundles' bytes");
    eprintln!(
        "stick harness: {} bundles from {kits_n} kits, 2 damaged on the stick, relay killed with {at_kill} pending, {:.1?}",
        sealed.len(),
        started.elapsed()
    );
    drop(relay);
    Ok(())
}
