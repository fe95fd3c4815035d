//! The real `ghidanh registry serve`, SIGKILLed in the middle of a resumable upload: after a
//! restart on the same data folder the upload resumes from the offset the registry had made
//! durable (its last checkpoint, `ghidanh_registry::CHECKPOINT`: never from zero once one
//! passed, never past what it holds), completes, and is one enrollment.
//! Needs `cargo build -p ghidanh-cli` first.

#![forbid(unsafe_code)]

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use base64::Engine;
use ghidanh_bundle::testkit::sample_payload;
use ghidanh_bundle::{seal, DeviceKey, DeviceRegistration, Provisioning, Receipt, Sha256, Verdict};
use ghidanh_tests::process::free_ports;
use ghidanh_tests::{RegistryData, RegistryProcess};

const PIECE: usize = 64 * 1024;
/// `ghidanh_registry::CHECKPOINT`: the registry fsyncs a part file and commits its offset
/// every this many bytes.
const CHECKPOINT: u64 = 1024 * 1024;

fn offset(resp: &reqwest::Response) -> Result<u64> {
    resp.headers()
        .get("upload-offset")
        .context("no Upload-Offset")?
        .to_str()?
        .parse()
        .context("Upload-Offset not a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_sigkilled_mid_upload_resumes_from_its_durable_offset() -> Result<()> {
    let root = tempfile::tempdir()?;
    let [port] = free_ports()?;
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://{listen}");
    let data = RegistryData::create(root.path(), &base)?;
    let prov = Provisioning::parse(&std::fs::read(&data.provisioning)?)?;
    let registry = RegistryProcess::start(&data, &listen)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;

    let key = DeviceKey::generate();
    let resp = http
        .post(format!("{base}/api/v1/devices/register"))
        .body(DeviceRegistration::sign(prov.device_id, &prov.token, &key))
        .send()
        .await?;
    ensure!(resp.status() == 200, "register: {}", resp.status());
    let payload = sample_payload(prov.device_id);
    let mut bundle = seal(&payload, &key, &prov.registry, 1_790_000_100)?;
    // Past a checkpoint and a few pieces more: the sample's images are tiny, so pad the
    // payload's face and seal again.
    let checkpoint = CHECKPOINT as usize;
    if bundle.len() < checkpoint + 4 * PIECE {
        let mut big = payload.clone();
        if let Some(face) = big.biometrics.face.as_mut() {
            face.image = vec![0xA5; checkpoint + 4 * PIECE];
        }
        bundle = seal(&big, &key, &prov.registry, 1_790_000_100)?;
    }
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::of(&bundle).0);

    let resp = http
        .post(format!("{base}/api/v1/uploads"))
        .header("upload-length", bundle.len())
        .header("upload-complete", "?0")
        .header("repr-digest", format!("sha-256=:{digest}:"))
        .header("ghidanh-bundle-id", payload.bundle_id.to_string())
        .send()
        .await?;
    ensure!(resp.status() == 201, "create: {}", resp.status());
    let location = resp
        .headers()
        .get("location")
        .context("no Location")?
        .to_str()?
        .to_owned();
    let path = location.strip_prefix(&base).unwrap_or(&location).to_owned();
    let url = format!("{base}{path}");

    // Pieces up to the checkpoint and two more, answered: durable up to the checkpoint.
    let mut at = 0usize;
    for _ in 0..checkpoint / PIECE + 2 {
        let resp = http
            .patch(&url)
            .header("content-type", "application/partial-upload")
            .header("upload-offset", at)
            .header("upload-complete", "?0")
            .body(bundle[at..at + PIECE].to_vec())
            .send()
            .await?;
        ensure!(resp.status() == 204, "append: {}", resp.status());
        at = usize::try_from(offset(&resp)?)?;
    }
    let acknowledged = checkpoint + 2 * PIECE;
    ensure!(at == acknowledged, "offset after the pieces: {at}");

    // A third piece in flight: headers and half its body written, then the registry dies.
    let mut sock = TcpStream::connect(&listen)?;
    write!(
        sock,
        "PATCH {path} HTTP/1.1\r\nHost: {listen}\r\nContent-Type: application/partial-upload\r\n\
         Upload-Offset: {at}\r\nUpload-Complete: ?0\r\nContent-Length: {PIECE}\r\n\r\n"
    )?;
    sock.write_all(&bundle[at..at + PIECE / 2])?;
    sock.flush()?;
    std::thread::sleep(Duration::from_millis(300));
    registry.kill_hard();
    drop(sock);

    let registry = RegistryProcess::start(&data, &listen)?;
    let resp = http.head(&url).send().await?;
    ensure!(
        resp.status().is_success(),
        "offset query: {}",
        resp.status()
    );
    let durable = usize::try_from(offset(&resp)?)?;
    ensure!(
        (checkpoint..=acknowledged).contains(&durable),
        "after the kill the registry holds {durable} bytes; it had checkpointed {checkpoint}, \
         acknowledged {acknowledged} and been sent {}",
        acknowledged + PIECE / 2
    );

    // The rest, from where the registry says it is.
    let mut at = durable;
    let receipt = loop {
        let end = bundle.len().min(at + PIECE);
        let last = end == bundle.len();
        let resp = http
            .patch(&url)
            .header("content-type", "application/partial-upload")
            .header("upload-offset", at)
            .header("upload-complete", if last { "?1" } else { "?0" })
            .body(bundle[at..end].to_vec())
            .send()
            .await?;
        if last {
            ensure!(resp.status() == 200, "last piece: {}", resp.status());
            break resp.bytes().await?.to_vec();
        }
        ensure!(resp.status() == 204, "append: {}", resp.status());
        at = usize::try_from(offset(&resp)?)?;
    };
    let receipt = Receipt::verify(&receipt, &prov.registry)?;
    ensure!(
        receipt.verdict == Verdict::Accepted,
        "{:?}",
        receipt.verdict
    );
    ensure!(
        receipt.submission_sha256 == Sha256::of(&bundle),
        "receipt for other bytes"
    );
    let accepted = data.accepted_bundles()?;
    ensure!(accepted.len() == 1, "{accepted:?}");
    ensure!(
        accepted[0]["bundleId"] == payload.bundle_id.to_string(),
        "{accepted:?}"
    );
    drop(registry);
    Ok(())
}
