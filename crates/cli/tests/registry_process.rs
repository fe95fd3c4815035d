//! The `ghidanh` binary across processes: init, provision, serve on a free port, register a
//! device and send bundles over real HTTP, list what was stored, inspect files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ghidanh_bundle::{
    seal, DeviceId, DeviceKey, DeviceRegistration, Payload, Provisioning, Receipt, RejectReason,
    Verdict,
};

const BIN: &str = env!("CARGO_BIN_EXE_ghidanh");

fn ghidanh(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A running `ghidanh registry serve`, killed when dropped (also when a test panics).
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(BIN)
            .args(["registry", "serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keeps draining stdout after the first line so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server printed no line within 30 s");
        server.url = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        assert!(!server.url.ends_with(":0"), "{}", server.url);
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Setup {
    dir: tempfile::TempDir,
    provisioning: Provisioning,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("registry");
        let o = ghidanh(&["registry", "init", "--data", data.to_str().unwrap()]);
        assert!(o.status.success(), "{o:?}");
        assert!(stdout(&o).contains("rk1-"), "{}", stdout(&o));
        let prov = dir.path().join("kit.prov");
        let o = ghidanh(&[
            "device",
            "provision",
            "--data",
            data.to_str().unwrap(),
            "--url",
            "http://127.0.0.1:8640",
            "--out",
            prov.to_str().unwrap(),
            "--label",
            "Đội 3",
        ]);
        assert!(o.status.success(), "{o:?}");
        let provisioning = Provisioning::parse(&std::fs::read(&prov).unwrap()).unwrap();
        assert_eq!(
            stdout(&o).trim(),
            format!("device {}", provisioning.device_id)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&prov).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Setup { dir, provisioning }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("registry")
    }

    fn listed_receipt_ids(&self) -> Vec<String> {
        let o = ghidanh(&[
            "registry",
            "bundles",
            "--data",
            self.data().to_str().unwrap(),
            "--json",
        ]);
        assert!(o.status.success(), "{o:?}");
        stdout(&o)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["receiptId"].as_str().unwrap().to_owned()
            })
            .collect()
    }
}

fn payload(device_id: DeviceId) -> Payload {
    ghidanh_bundle::testkit::sample_payload(device_id)
}

async fn post(client: &reqwest::Client, url: String, body: Vec<u8>) -> reqwest::Response {
    client
        .post(url)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn submit(client: &reqwest::Client, server: &Server, s: &Setup, body: Vec<u8>) -> Receipt {
    let res = post(client, format!("{}/api/v1/bundles", server.url), body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/vnd.ghidanh.receipt"
    );
    let bytes = res.bytes().await.unwrap();
    Receipt::verify(&bytes, &s.provisioning.registry).unwrap()
}

#[tokio::test]
async fn a_kit_registers_and_delivers_bundles_to_a_served_registry() {
    let s = Setup::new();
    let server = Server::start(&s.data());
    let client = reqwest::Client::new();

    let health = client
        .get(format!("{}/api/v1/health", server.url))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let health: serde_json::Value = serde_json::from_slice(&health).unwrap();
    assert_eq!(health["keyId"], s.provisioning.registry.key_id().as_str());

    let key = DeviceKey::generate();
    let reg = DeviceRegistration::sign(s.provisioning.device_id, &s.provisioning.token, &key);
    let res = post(
        &client,
        format!("{}/api/v1/devices/register", server.url),
        reg,
    )
    .await;
    assert_eq!(res.status(), 200);

    let bytes = seal(
        &payload(s.provisioning.device_id),
        &key,
        &s.provisioning.registry,
        1_790_000_100,
    )
    .unwrap();
    let first = submit(&client, &server, &s, bytes.clone()).await;
    assert_eq!(first.verdict, Verdict::Accepted);
    assert_eq!(s.listed_receipt_ids(), vec![first.receipt_id.to_string()]);

    let again = submit(&client, &server, &s, bytes.clone()).await;
    assert_eq!(
        again.verdict,
        Verdict::Duplicate {
            accepted_receipt_id: first.receipt_id
        }
    );
    assert_eq!(s.listed_receipt_ids(), vec![first.receipt_id.to_string()]);

    let mut tampered = bytes.clone();
    let middle = tampered.len() - 40;
    tampered[middle] ^= 0x01;
    let r = submit(&client, &server, &s, tampered).await;
    assert!(
        matches!(
            r.verdict,
            Verdict::Rejected(RejectReason::BadSignature | RejectReason::CiphertextMismatch)
        ),
        "{:?}",
        r.verdict
    );

    let stranger = seal(
        &payload(DeviceId::new()),
        &DeviceKey::generate(),
        &s.provisioning.registry,
        1,
    )
    .unwrap();
    let r = submit(&client, &server, &s, stranger).await;
    assert_eq!(r.verdict, Verdict::Rejected(RejectReason::UnknownDevice));
    assert_eq!(s.listed_receipt_ids().len(), 1);
}

#[test]
fn bundle_inspect_tells_good_from_tampered_from_junk() {
    let s = Setup::new();
    let key = DeviceKey::generate();
    let bytes = seal(
        &payload(s.provisioning.device_id),
        &key,
        &s.provisioning.registry,
        0,
    )
    .unwrap();
    let good = s.dir.path().join("good.gdb");
    std::fs::write(&good, &bytes).unwrap();
    let mut bad_bytes = bytes.clone();
    let last = bad_bytes.len() - 1;
    bad_bytes[last] ^= 0x01;
    let bad = s.dir.path().join("bad.gdb");
    std::fs::write(&bad, &bad_bytes).unwrap();
    let junk = s.dir.path().join("kit.prov");

    let o = ghidanh(&["bundle", "inspect", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = stdout(&o);
    assert!(
        text.contains(&s.provisioning.device_id.to_string()),
        "{text}"
    );
    assert!(text.contains("1970-01-01T00:00:00Z"), "{text}");
    assert!(
        text.contains(s.provisioning.registry.key_id().as_str()),
        "{text}"
    );

    let o = ghidanh(&["bundle", "inspect", bad.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["signatureValid"], true);
    assert_eq!(v["ciphertextValid"], false);
    assert_eq!(v["valid"], false);

    // Not a bundle at all (a provisioning file): an invalid bundle, exit 1, not a usage error.
    let o = ghidanh(&["bundle", "inspect", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrong magic bytes"));
}

#[test]
fn revoke_device_revokes_once_refuses_unknown_devices_and_says_what_it_did() {
    let s = Setup::new();
    let data = s.data();
    let data = data.to_str().unwrap();
    let device = s.provisioning.device_id.to_string();
    let revoke = |device: &str, reason: Option<&str>| {
        let mut args = vec![
            "registry",
            "revoke-device",
            "--data",
            data,
            "--device",
            device,
        ];
        if let Some(r) = reason {
            args.extend(["--reason", r]);
        }
        ghidanh(&args)
    };
    let o = revoke(&device, Some("máy bị mất"));
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o).trim(), format!("device {device} revoked"));
    let o = revoke(&device, None);
    assert!(o.status.success(), "{o:?}");
    assert!(
        stdout(&o).starts_with(&format!("device {device} was already revoked at 20")),
        "{}",
        stdout(&o)
    );
    let stranger = DeviceId::new().to_string();
    let o = revoke(&stranger, None);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&stranger) && err.contains("no device"),
        "{err}"
    );
    let o = revoke("not-an-id", None);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a device id"));
}
