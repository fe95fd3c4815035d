//! `ghidanh bundle verify | open` and `ghidanh registry rotate-key`, through the real binary.

use std::path::Path;
use std::process::{Command, Output};

use ghidanh_bundle::testkit::sample_payload;
use ghidanh_bundle::{seal, DeviceId, DeviceKey, RegistryKeys};

const BIN: &str = env!("CARGO_BIN_EXE_ghidanh");

fn ghidanh(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A registry made by `ghidanh registry init`, and a bundle sealed to its current key.
fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = dir.join("registry");
    assert!(ghidanh(&["registry", "init", "--data", p(&data)])
        .status
        .success());
    let key = data.join("registry.key");
    let ring = ghidanh_registry::read_keyring(&key).unwrap();
    let bytes = seal(
        &sample_payload(DeviceId::new()),
        &DeviceKey::generate(),
        ring.current().public(),
        1_790_000_100,
    )
    .unwrap();
    let file = dir.join("one.bundle");
    std::fs::write(&file, bytes).unwrap();
    (data, file)
}

#[test]
fn verify_exits_0_1_2_and_reports_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (_, file) = setup(dir.path());
    let o = ghidanh(&["bundle", "verify", p(&file), "--json"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json(&o)["valid"], true);

    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let bad = dir.path().join("bad.bundle");
    std::fs::write(&bad, &bytes).unwrap();
    let o = ghidanh(&["bundle", "verify", p(&bad), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"], "ciphertext_mismatch");
    let o = ghidanh(&["bundle", "verify", p(&bad)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("NOT VALID"));

    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"GDBUNDL1\xff\xff\xff\xff").unwrap();
    // Malformed bytes are an invalid bundle (1), for every subcommand; a missing file is usage (2).
    let o = ghidanh(&["bundle", "verify", p(&junk), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"], "body_too_long");
    assert_eq!(json(&o)["valid"], false);
    let o = ghidanh(&["bundle", "inspect", p(&junk), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"], "body_too_long");
    let key = dir.path().join("any.key");
    std::fs::write(
        &key,
        hex::encode(RegistryKeys::generate().secret_bytes().as_slice()),
    )
    .unwrap();
    let o = ghidanh(&["bundle", "open", p(&junk), "--key", p(&key), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["opened"], false);
    assert_eq!(json(&o)["error"], "body_too_long");
    let o = ghidanh(&["bundle", "verify", p(&dir.path().join("missing"))]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn open_prints_the_payload_with_images_as_size_and_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (data, file) = setup(dir.path());
    let key = data.join("registry.key");
    let o = ghidanh(&["bundle", "open", p(&file), "--key", p(&key), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["record"]["birthName"], "Nguyễn Văn An");
    assert_eq!(v["operator"]["name"], "Trần Thị Bình");
    let face = &v["biometrics"]["face"];
    assert_eq!(face["format"], "jpeg");
    assert_eq!(face["image"]["bytes"], 64);
    assert_eq!(face["image"]["sha256"].as_str().unwrap().len(), 64);
    let fingers = v["biometrics"]["fingers"].as_array().unwrap();
    assert_eq!(fingers.len(), 10);
    assert_eq!(fingers[0]["position"], 1);
    assert_eq!(fingers[0]["image"]["bytes"], 48);
    assert_eq!(fingers[9]["exception"], "bandaged");
    assert_eq!(v["referenceVersions"]["communes"], "2025-07-01");
    assert_eq!(v["audit"][1]["action"], "finalised");
    // No raw image bytes: the face's bytes would show up as a JSON array of numbers.
    assert!(!String::from_utf8_lossy(&o.stdout).contains("[255,216"));
}

#[test]
fn open_with_another_key_fails_and_rotation_keeps_old_bundles_open() {
    let dir = tempfile::tempdir().unwrap();
    let (data, file) = setup(dir.path());
    let key = data.join("registry.key");

    let other = dir.path().join("other.key");
    let k = RegistryKeys::generate();
    std::fs::write(&other, hex::encode(k.secret_bytes().as_slice())).unwrap();
    let o = ghidanh(&["bundle", "open", p(&file), "--key", p(&other), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"], "wrong_recipient");
    let o = ghidanh(&[
        "bundle",
        "open",
        p(&file),
        "--key",
        p(&dir.path().join("nokey")),
    ]);
    assert_eq!(o.status.code(), Some(2));

    let before = ghidanh_registry::read_keyring(&key).unwrap();
    let o = ghidanh(&["registry", "rotate-key", "--data", p(&data)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = ghidanh_registry::read_keyring(&key).unwrap();
    assert_ne!(
        after.current().public().key_id(),
        before.current().public().key_id()
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains(after.current().public().key_id().as_str()));
    let o = ghidanh(&["bundle", "open", p(&file), "--key", p(&key), "--json"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        json(&o)["recipientKeyId"],
        before.current().public().key_id().as_str()
    );
}
