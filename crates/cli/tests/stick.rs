//! The USB path through the real binary: a kit that never reached the network exports onto a
//! "stick" (a folder), the registry imports it (registering the kit on the way) and writes
//! receipts back, the kit imports them. A damaged copy and an import run twice are handled.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ghidanh_bundle::testkit::sample_payload;
use ghidanh_bundle::{seal, BundleId, DeviceKey, Provisioning};
use ghidanh_vault::{Approval, EnrollmentState, KdfParams, Vault};

const PASS: &str = "mật khẩu của đội 3";

fn ghidanh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ghidanh"))
        .args(args)
        .env("GHIDANH_PASSPHRASE", PASS)
        .env("RUST_LOG", "off")
        .output()
        .unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

struct Field {
    _dir: tempfile::TempDir,
    registry: PathBuf,
    vault: PathBuf,
    stick: PathBuf,
    bundles: Vec<BundleId>,
}

/// A registry, and a provisioned kit with `n` sealed bundles that has never been online.
fn field(n: usize) -> Field {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry");
    assert!(ghidanh(&["registry", "init", "--data", p(&registry)])
        .status
        .success());
    let prov = dir.path().join("kit.prov");
    let o = ghidanh(&[
        "device",
        "provision",
        "--data",
        p(&registry),
        "--url",
        "http://127.0.0.1:9",
        "--out",
        p(&prov),
        "--label",
        "Đội 3",
    ]);
    assert!(o.status.success(), "{o:?}");
    let prov_bytes = std::fs::read(&prov).unwrap();
    let provisioning = Provisioning::parse(&prov_bytes).unwrap();

    let vault_dir = dir.path().join("vault");
    let (vault, op) = Vault::create(
        &vault_dir,
        "Trần Thị Bình",
        PASS,
        KdfParams::insecure_fast_for_tests(),
    )
    .unwrap();
    let key = DeviceKey::generate();
    vault.provision(&prov_bytes, &key).unwrap();
    let mut bundles = Vec::new();
    for _ in 0..n {
        let mut payload = sample_payload(provisioning.device_id);
        let id = vault.save_draft(None, op.id, &payload.record).unwrap();
        vault.finalise(id).unwrap();
        vault.approve(id, Approval::NoReviewPolicy).unwrap();
        payload.enrollment_id = id;
        payload.bundle_id = BundleId::new();
        let bytes = seal(&payload, &key, &provisioning.registry, 1_790_000_100).unwrap();
        vault
            .seal(id, &payload.record, payload.bundle_id, &bytes)
            .unwrap();
        bundles.push(payload.bundle_id);
    }
    drop(vault);
    Field {
        stick: dir.path().join("stick"),
        _dir: dir,
        registry,
        vault: vault_dir,
        bundles,
    }
}

fn states(f: &Field) -> Vec<EnrollmentState> {
    let (vault, _) = Vault::unlock(&f.vault, PASS).unwrap();
    let mut s: Vec<_> = vault.list().unwrap().into_iter().map(|e| e.state).collect();
    s.sort_by_key(|s| s.code());
    s
}

fn enrollments_at_registry(f: &Field) -> usize {
    let o = ghidanh(&["registry", "bundles", "--data", p(&f.registry)]);
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| f.bundles.iter().any(|b| l.contains(&b.to_string())))
        .count()
}

#[test]
fn a_kit_that_was_never_online_delivers_by_stick_and_learns_every_receipt() {
    let f = field(3);
    let o = ghidanh(&[
        "export",
        "--to",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let v = json(&o);
    assert_eq!(v["bundles"].as_array().unwrap().len(), 3);
    assert_eq!(
        v["registration"], true,
        "never registered: the registration travels"
    );
    // Nothing readable on the stick: no name from the records.
    for entry in walk(&f.stick) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == "Nguyễn".as_bytes()),
            "{entry:?}"
        );
    }

    let o = ghidanh(&[
        "relay",
        "import",
        p(&f.stick),
        "--data",
        p(&f.registry),
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let outcomes: Vec<String> = json(&o)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["outcome"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(outcomes, ["registered", "accepted", "accepted", "accepted"]);
    assert_eq!(enrollments_at_registry(&f), 3);

    // The same stick again: nothing is ingested twice.
    let o = ghidanh(&[
        "relay",
        "import",
        p(&f.stick),
        "--data",
        p(&f.registry),
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let again = json(&o)["files"].to_string();
    assert_eq!(again.matches("already_imported").count(), 3, "{again}");
    assert_eq!(enrollments_at_registry(&f), 3);

    let o = ghidanh(&[
        "import-receipts",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let v = json(&o);
    assert_eq!(v["revoked"], false);
    let recorded = v["files"].to_string();
    assert_eq!(recorded.matches("\"recorded\"").count(), 3, "{recorded}");
    assert_eq!(states(&f), vec![EnrollmentState::Accepted; 3]);
    // Importing the receipts twice changes nothing.
    let o = ghidanh(&[
        "import-receipts",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        json(&o)["files"].to_string().matches("not_waiting").count(),
        3
    );
    assert_eq!(states(&f), vec![EnrollmentState::Accepted; 3]);
    // And the kit now knows it is registered: the next export carries no registration.
    let o = ghidanh(&[
        "export",
        "--to",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert_eq!(json(&o)["registration"], false);
    assert_eq!(json(&o)["bundles"].as_array().unwrap().len(), 0);
}

#[test]
fn a_half_copied_stick_imports_the_good_files_and_reports_the_rest() {
    let f = field(3);
    assert!(
        ghidanh(&["export", "--to", p(&f.stick), "--vault", p(&f.vault)])
            .status
            .success()
    );
    let bundles = f.stick.join("ghidanh").join("bundles");
    // One bundle cut in the middle of its ciphertext, one gone.
    let cut = bundles.join(format!("{}.gdbundle", f.bundles[0]));
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(bundles.join(format!("{}.gdbundle", f.bundles[1]))).unwrap();

    let o = ghidanh(&["relay", "import", p(&f.stick), "--data", p(&f.registry)]);
    assert_eq!(o.status.code(), Some(1), "a problem file: exit 1");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.contains(&format!(
            "damaged            bundles/{}",
            cut.file_name().unwrap().to_string_lossy()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "missing            bundles/{}.gdbundle",
            f.bundles[1]
        )),
        "{text}"
    );
    assert!(
        text.contains("0 held, 0 already held, 1 accepted, 0 duplicate, 0 rejected, 0 already imported, 2 with a problem"),
        "{text}"
    );
    assert_eq!(enrollments_at_registry(&f), 1);
    // The damaged copy got no receipt: no refusal reaches the kit for it.
    let receipts = f.stick.join("ghidanh").join("receipts");
    assert!(!receipts
        .join(format!("{}.gdreceipt", f.bundles[0]))
        .exists());

    let o = ghidanh(&[
        "import-receipts",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let mut s = states(&f);
    s.dedup();
    assert_eq!(s, [EnrollmentState::Accepted, EnrollmentState::Sealed]);

    // The next stick carries the two still waiting, and they arrive.
    let stick2 = f.stick.with_file_name("stick2");
    let o = ghidanh(&[
        "export",
        "--to",
        p(&stick2),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert_eq!(json(&o)["bundles"].as_array().unwrap().len(), 2);
    let o = ghidanh(&["relay", "import", p(&stick2), "--data", p(&f.registry)]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(enrollments_at_registry(&f), 3);
    assert!(
        ghidanh(&["import-receipts", p(&stick2), "--vault", p(&f.vault)])
            .status
            .success()
    );
    assert_eq!(states(&f), vec![EnrollmentState::Accepted; 3]);
}

#[test]
fn a_receipt_from_another_registry_is_refused_and_nothing_changes() {
    let f = field(1);
    let other = field(1);
    assert!(
        ghidanh(&["export", "--to", p(&f.stick), "--vault", p(&f.vault)])
            .status
            .success()
    );
    // The stick goes to the wrong office: another registry, which does not know this kit.
    let o = ghidanh(&[
        "relay",
        "import",
        p(&f.stick),
        "--data",
        p(&other.registry),
        "--json",
    ]);
    let report = json(&o)["files"].to_string();
    assert!(report.contains("unusable"), "{report}");
    let o = ghidanh(&[
        "import-receipts",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(json(&o)["files"].to_string().contains("refused"));
    assert_eq!(states(&f), [EnrollmentState::Sealed]);
}

/// A relay certified by `f`'s registry: its data folder and its upstream keys file.
fn relay_for(f: &Field) -> (PathBuf, PathBuf) {
    let root = f.registry.parent().unwrap();
    let relay = root.join("relay");
    let o = ghidanh(&["registry", "init", "--mode", "relay", "--data", p(&relay)]);
    assert!(o.status.success(), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let key = out
        .lines()
        .find_map(|l| l.strip_prefix("relay key "))
        .unwrap()
        .trim()
        .to_owned();
    let o = ghidanh(&[
        "registry",
        "certify-relay",
        "--data",
        p(&f.registry),
        "--relay-key",
        &key,
        "--out",
        p(&relay.join("relay.cert")),
    ]);
    assert!(o.status.success(), "{o:?}");
    let o = ghidanh(&["registry", "public-keys", "--data", p(&f.registry)]);
    assert!(o.status.success(), "{o:?}");
    let keys = root.join("upstream.keys");
    std::fs::write(&keys, &o.stdout).unwrap();
    (relay, keys)
}

fn relay_import(f: &Field, relay: &Path, keys: &Path) -> Output {
    ghidanh(&[
        "relay",
        "import",
        p(&f.stick),
        "--data",
        p(relay),
        "--upstream-keys",
        p(keys),
        "--json",
    ])
}

fn outcomes(o: &Output) -> Vec<String> {
    json(o)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["outcome"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_relay_holds_a_stick_and_the_kit_records_its_certified_custody() {
    let f = field(2);
    let (relay, keys) = relay_for(&f);
    assert!(
        ghidanh(&["export", "--to", p(&f.stick), "--vault", p(&f.vault)])
            .status
            .success()
    );
    // A relay's folder needs the upstream keys (its certificate is checked with them).
    let o = ghidanh(&["relay", "import", p(&f.stick), "--data", p(&relay)]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--upstream-keys"));

    let o = relay_import(&f, &relay, &keys);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        outcomes(&o),
        ["held", "held", "held"],
        "registration, 2 bundles"
    );
    let root = f.stick.join("ghidanh");
    for b in &f.bundles {
        assert!(root.join(format!("receipts/{b}.gdcustody")).is_file());
        assert!(!root.join(format!("receipts/{b}.gdreceipt")).exists());
    }
    let certs: Vec<_> = std::fs::read_dir(root.join("relays")).unwrap().collect();
    assert_eq!(certs.len(), 1);
    // Held, not delivered: central knows nothing yet.
    assert_eq!(enrollments_at_registry(&f), 0);
    let before: Vec<_> = walk(&f.stick)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    // Again before the forwarder ran: nothing written, nothing held twice.
    let o = relay_import(&f, &relay, &keys);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(outcomes(&o), ["already_held"; 3]);
    let after: Vec<_> = walk(&f.stick)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    assert_eq!(before, after);

    // A custody receipt altered on the way is refused; the other is recorded.
    let bad = root.join(format!("receipts/{}.gdcustody", f.bundles[1]));
    let good_bytes = std::fs::read(&bad).unwrap();
    let mut altered = good_bytes.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    std::fs::write(&bad, &altered).unwrap();
    let o = ghidanh(&[
        "import-receipts",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    assert_eq!(v["files"][0]["outcome"], "recorded");
    assert_eq!(v["files"][0]["detail"], "custody");
    assert_eq!(v["files"][1]["outcome"], "refused");
    let mut s = states(&f);
    s.dedup();
    assert_eq!(s, [EnrollmentState::Custody, EnrollmentState::Sealed]);
    // Whole again: recorded; the first one is not waiting any more.
    std::fs::write(&bad, &good_bytes).unwrap();
    let o = ghidanh(&[
        "import-receipts",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let v = json(&o);
    assert_eq!(v["files"][0]["outcome"], "not_waiting");
    assert_eq!(v["files"][1]["detail"], "custody");
    assert_eq!(states(&f), vec![EnrollmentState::Custody; 2]);
    // In custody, nothing is exported again; the registration still is (custody proves
    // nothing about it).
    let o = ghidanh(&[
        "export",
        "--to",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert_eq!(json(&o)["bundles"].as_array().unwrap().len(), 0);
    assert_eq!(json(&o)["registration"], true);
}

#[test]
fn custody_from_a_relay_the_kits_registry_never_certified_is_refused() {
    let f = field(1);
    let other = field(1);
    // A relay certified by another registry.
    let (relay, keys) = relay_for(&other);
    assert!(
        ghidanh(&["export", "--to", p(&f.stick), "--vault", p(&f.vault)])
            .status
            .success()
    );
    let o = relay_import(&f, &relay, &keys);
    assert!(o.status.success(), "{o:?}");
    let o = ghidanh(&[
        "import-receipts",
        p(&f.stick),
        "--vault",
        p(&f.vault),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    assert_eq!(v["files"][0]["outcome"], "refused", "{v}");
    assert_eq!(states(&f), [EnrollmentState::Sealed]);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
