//! Resumable uploads over real HTTP on loopback: pieces, offsets, conflicts, receipts,
//! idempotency, hostile headers, and a registry restarted mid-upload.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use ghidanh_bundle::{
    seal, DeviceKey, DeviceRegistration, Payload, Provisioning, Receipt, Sha256, Verdict,
};
use ghidanh_record::EnrollmentInput;
use ghidanh_registry::{app, init, provision_device, Registry, BUNDLE_BODY_LIMIT, CHECKPOINT};
use reqwest::StatusCode;

struct Server {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(dir: &Path) -> Server {
    let registry = Arc::new(Registry::open(dir).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app(registry)).await.unwrap();
    });
    Server { url, task }
}

struct Fixture {
    dir: tempfile::TempDir,
    provisioning: Provisioning,
    device: DeviceKey,
}

/// A registry with one registered device.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path()).unwrap();
    let (_, prov) = provision_device(dir.path(), "http://127.0.0.1:1", "Đội 3").unwrap();
    let provisioning = Provisioning::parse(&prov).unwrap();
    let device = DeviceKey::generate();
    let registry = Registry::open(dir.path()).unwrap();
    registry
        .register_device(&DeviceRegistration::sign(
            provisioning.device_id,
            &provisioning.token,
            &device,
        ))
        .unwrap();
    Fixture {
        dir,
        provisioning,
        device,
    }
}

impl Fixture {
    /// A valid sealed bundle of about 400 KB (a real portrait's size).
    fn bundle(&self) -> Vec<u8> {
        self.bundle_with_face(400_000)
    }

    /// A valid sealed bundle with a face image of `face` bytes.
    fn bundle_with_face(&self, face_len: usize) -> Vec<u8> {
        let mut p: Payload = ghidanh_bundle::testkit::sample_payload(self.provisioning.device_id);
        p.record = EnrollmentInput {
            birth_name: "Lê Thị Hoa".into(),
            date_of_birth: "2005-03-01".into(),
            sex: "female".into(),
            personal_id: "079305000001".into(),
            ..Default::default()
        };
        if let Some(face) = p.biometrics.face.as_mut() {
            face.image = [0xff, 0xd8, 0xff, 0xe0].repeat(face_len / 4);
        }
        seal(&p, &self.device, &self.provisioning.registry, 1_790_000_100).unwrap()
    }

    fn receipt(&self, bytes: &[u8]) -> Receipt {
        Receipt::verify(bytes, &self.provisioning.registry).unwrap()
    }
}

fn digest(bytes: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(Sha256::of(bytes).0);
    format!("sha-256=:{b64}:")
}

fn bundle_id(bytes: &[u8]) -> String {
    ghidanh_bundle::Envelope::parse(bytes)
        .unwrap()
        .header()
        .bundle_id
        .to_string()
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn json(resp: reqwest::Response) -> serde_json::Value {
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

async fn create(http: &reqwest::Client, url: &str, bundle: &[u8]) -> reqwest::Response {
    http.post(format!("{url}/api/v1/uploads"))
        .header("Upload-Length", bundle.len())
        .header("Upload-Complete", "?0")
        .header("Repr-Digest", digest(bundle))
        .header("Ghidanh-Bundle-Id", bundle_id(bundle))
        .send()
        .await
        .unwrap()
}

async fn patch(
    http: &reqwest::Client,
    upload: &str,
    offset: u64,
    piece: &[u8],
    complete: bool,
) -> reqwest::Response {
    http.patch(upload)
        .header("Content-Type", "application/partial-upload")
        .header("Upload-Offset", offset)
        .header("Upload-Complete", if complete { "?1" } else { "?0" })
        .body(piece.to_vec())
        .send()
        .await
        .unwrap()
}

async fn offset_of(http: &reqwest::Client, upload: &str) -> (StatusCode, String, String) {
    let r = http.head(upload).send().await.unwrap();
    (
        r.status(),
        header(&r, "upload-offset"),
        header(&r, "upload-complete"),
    )
}

/// Creates the upload and returns its absolute URL.
async fn created(http: &reqwest::Client, url: &str, bundle: &[u8]) -> String {
    let r = create(http, url, bundle).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = header(&r, "location");
    assert!(location.starts_with("/api/v1/uploads/"), "{location}");
    format!("{url}{location}")
}

const PIECE: usize = 100_000;

#[tokio::test]
async fn pieces_with_offsets_complete_into_the_signed_receipt_and_creation_is_idempotent() {
    let f = fixture();
    let server = start(f.dir.path()).await;
    let http = reqwest::Client::new();
    let bundle = f.bundle();
    assert!(bundle.len() > 3 * PIECE, "{}", bundle.len());

    let r = create(&http, &server.url, &bundle).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(header(&r, "upload-offset"), "0");
    assert_eq!(header(&r, "upload-complete"), "?0");
    assert_eq!(header(&r, "upload-length"), bundle.len().to_string());
    assert_eq!(
        header(&r, "upload-limit"),
        format!("max-size={BUNDLE_BODY_LIMIT}")
    );
    let upload = format!("{}{}", server.url, header(&r, "location"));
    assert_eq!(
        offset_of(&http, &upload).await,
        (StatusCode::NO_CONTENT, "0".into(), "?0".into())
    );

    let mut at = 0;
    while bundle.len() - at > PIECE {
        let r = patch(&http, &upload, at as u64, &bundle[at..at + PIECE], false).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        at += PIECE;
        assert_eq!(header(&r, "upload-offset"), at.to_string());
        // Each request that leaves the upload open syncs what it brought: HEAD tells it.
        assert_eq!(offset_of(&http, &upload).await.1, at.to_string());
    }

    // An offset past what was received (a piece of a later attempt, or a hostile one) is
    // refused with where the registry really is.
    let ahead = at + PIECE;
    let r = patch(&http, &upload, ahead as u64, &bundle[..PIECE], false).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(header(&r, "upload-offset"), at.to_string());
    let body = json(r).await;
    assert_eq!(body["code"], "mismatching_upload_offset");
    assert_eq!(body["expectedOffset"], at as u64);
    assert_eq!(body["providedOffset"], ahead as u64);
    assert_eq!(offset_of(&http, &upload).await.1, at.to_string());
    // An older offset too: the registry holds every byte up to `at` durably, and nothing
    // it holds is written twice.
    let r = patch(&http, &upload, 0, &bundle[..PIECE], false).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(header(&r, "upload-offset"), at.to_string());
    assert_eq!(json(r).await["expectedOffset"], at as u64);

    // The registry says the receipt is not there yet.
    let r = http.get(&upload).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(json(r).await["code"], "upload_incomplete");

    let r = patch(&http, &upload, at as u64, &bundle[at..], true).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(&r, "content-type"),
        "application/vnd.ghidanh.receipt"
    );
    assert_eq!(header(&r, "upload-complete"), "?1");
    let receipt_bytes = r.bytes().await.unwrap().to_vec();
    let receipt = f.receipt(&receipt_bytes);
    assert_eq!(receipt.verdict, Verdict::Accepted);
    assert_eq!(receipt.submission_sha256, Sha256::of(&bundle));
    assert_eq!(
        offset_of(&http, &upload).await,
        (
            StatusCode::NO_CONTENT,
            bundle.len().to_string(),
            "?1".into()
        )
    );

    // The same bytes again: the same upload resource, complete, with the same receipt.
    let r = create(&http, &server.url, &bundle).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(format!("{}{}", server.url, header(&r, "location")), upload);
    assert_eq!(header(&r, "upload-complete"), "?1");
    let r = http.get(&upload).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().to_vec(), receipt_bytes);
    // Appending to a completed upload is a conflict that says it is complete.
    let r = patch(&http, &upload, bundle.len() as u64, &[], true).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(header(&r, "upload-complete"), "?1");

    // The single POST still works, and says duplicate of the upload's acceptance.
    let r = http
        .post(format!("{}/api/v1/bundles", server.url))
        .body(bundle.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let dup = f.receipt(&r.bytes().await.unwrap());
    assert_eq!(
        dup.verdict,
        Verdict::Duplicate {
            accepted_receipt_id: receipt.receipt_id
        }
    );
}

#[tokio::test]
async fn an_upload_of_bytes_already_posted_gets_the_duplicate_receipt() {
    let f = fixture();
    let server = start(f.dir.path()).await;
    let http = reqwest::Client::new();
    let bundle = f.bundle();
    let r = http
        .post(format!("{}/api/v1/bundles", server.url))
        .body(bundle.clone())
        .send()
        .await
        .unwrap();
    let first = f.receipt(&r.bytes().await.unwrap());
    assert_eq!(first.verdict, Verdict::Accepted);

    let upload = created(&http, &server.url, &bundle).await;
    let r = patch(&http, &upload, 0, &bundle, true).await;
    assert_eq!(r.status(), StatusCode::OK);
    let again = f.receipt(&r.bytes().await.unwrap());
    assert_eq!(again.submission_sha256, Sha256::of(&bundle));
    assert_eq!(
        again.verdict,
        Verdict::Duplicate {
            accepted_receipt_id: first.receipt_id
        }
    );
}

#[tokio::test]
async fn hostile_or_missing_headers_get_json_4xx_never_a_panic() {
    let f = fixture();
    let server = start(f.dir.path()).await;
    let http = reqwest::Client::new();
    let bundle = f.bundle();
    let url = &server.url;

    async fn expect(r: reqwest::Response, status: StatusCode, code: &str) -> serde_json::Value {
        assert_eq!(r.status(), status);
        let body = json(r).await;
        assert_eq!(body["code"], code, "{body}");
        body
    }
    let creation = |length: &str, digest_value: &str, id: &str| {
        let mut req = http.post(format!("{url}/api/v1/uploads"));
        if !length.is_empty() {
            req = req.header("Upload-Length", length);
        }
        if !digest_value.is_empty() {
            req = req.header("Repr-Digest", digest_value);
        }
        if !id.is_empty() {
            req = req.header("Ghidanh-Bundle-Id", id);
        }
        req.send()
    };
    let (d, id) = (digest(&bundle), bundle_id(&bundle));
    let missing = StatusCode::BAD_REQUEST;
    expect(
        creation("", &d, &id).await.unwrap(),
        missing,
        "missing_header",
    )
    .await;
    expect(
        creation("10", "", &id).await.unwrap(),
        missing,
        "missing_header",
    )
    .await;
    expect(
        creation("10", &d, "").await.unwrap(),
        missing,
        "missing_header",
    )
    .await;
    for bad in ["-1", "abc", "1.5", "99999999999999999999", "0x10", " "] {
        expect(
            creation(bad, &d, &id).await.unwrap(),
            missing,
            "invalid_header",
        )
        .await;
    }
    for bad in [
        "sha-256=abc",
        "sha-256=:AAAA:",
        "md5=:AAAA:",
        "sha-256=:!!:",
    ] {
        expect(
            creation("10", bad, &id).await.unwrap(),
            missing,
            "invalid_header",
        )
        .await;
    }
    expect(
        creation("10", &d, "not-an-id").await.unwrap(),
        missing,
        "invalid_header",
    )
    .await;
    let over = (BUNDLE_BODY_LIMIT + 1).to_string();
    let body = expect(
        creation(&over, &d, &id).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&BUNDLE_BODY_LIMIT.to_string()),
        "{body}"
    );

    let upload = created(&http, url, &bundle).await;
    let send = |offset: Option<&str>, complete: Option<&str>, ctype: &str, body: Vec<u8>| {
        let mut req = http.patch(&upload).header("Content-Type", ctype);
        if let Some(o) = offset {
            req = req.header("Upload-Offset", o);
        }
        if let Some(c) = complete {
            req = req.header("Upload-Complete", c);
        }
        req.body(body).send()
    };
    let pu = "application/partial-upload";
    let r = send(None, Some("?0"), pu, vec![1]).await.unwrap();
    expect(r, missing, "missing_header").await;
    let r = send(Some("0"), None, pu, vec![1]).await.unwrap();
    expect(r, missing, "missing_header").await;
    for bad in ["-5", "ten", "18446744073709551616", "1e3"] {
        let r = send(Some(bad), Some("?0"), pu, vec![1]).await.unwrap();
        expect(r, missing, "invalid_header").await;
    }
    let r = send(Some("0"), Some("yes"), pu, vec![1]).await.unwrap();
    expect(r, missing, "invalid_header").await;
    let r = send(Some("0"), Some("?0"), "application/octet-stream", vec![1])
        .await
        .unwrap();
    expect(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    // Never past the declared length, and never "complete" short of it.
    let mut longer = bundle.clone();
    longer.push(0);
    let r = send(Some("0"), Some("?0"), pu, longer).await.unwrap();
    expect(r, missing, "inconsistent_upload_length").await;
    let r = send(Some("0"), Some("?1"), pu, bundle[..10].to_vec())
        .await
        .unwrap();
    expect(r, missing, "inconsistent_upload_length").await;
    let r = send(Some("999999999999999"), Some("?0"), pu, vec![1])
        .await
        .unwrap();
    expect(r, StatusCode::CONFLICT, "mismatching_upload_offset").await;
    assert_eq!(offset_of(&http, &upload).await.1, "0");

    // Bytes that do not hash to the declared digest: refused, the upload is dropped.
    let mut forged = bundle.clone();
    forged[bundle.len() / 2] ^= 1;
    let r = send(Some("0"), Some("?1"), pu, forged).await.unwrap();
    expect(r, missing, "digest_mismatch").await;
    assert_eq!(offset_of(&http, &upload).await.0, StatusCode::NOT_FOUND);

    // Ids that are not ours never reach the file system.
    for bad in [
        "x",
        "..%2F..%2Fregistry.db",
        "0123456789abcdef0123456789ABCDEF",
    ] {
        let r = http
            .get(format!("{url}/api/v1/uploads/{bad}"))
            .send()
            .await
            .unwrap();
        expect(r, StatusCode::NOT_FOUND, "not_found").await;
    }

    // Cancelling removes the upload and its partial bytes.
    let upload = created(&http, url, &bundle).await;
    let r = patch(&http, &upload, 0, &bundle[..PIECE], false).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = http.delete(&upload).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset_of(&http, &upload).await.0, StatusCode::NOT_FOUND);
    let r = http.delete(&upload).send().await.unwrap();
    expect(r, StatusCode::NOT_FOUND, "not_found").await;
    let parts = std::fs::read_dir(f.dir.path().join("blobs/uploads"))
        .unwrap()
        .count();
    assert_eq!(parts, 0);
}

#[tokio::test]
async fn a_registry_restarted_mid_upload_resumes_from_its_durable_offset() {
    let f = fixture();
    let http = reqwest::Client::new();
    // Past one checkpoint's worth, in pieces: each answered piece is fsynced and its offset
    // committed.
    let bundle = f.bundle_with_face(CHECKPOINT as usize + 3 * PIECE);
    let first = start(f.dir.path()).await;
    let upload = created(&http, &first.url, &bundle).await;
    let path = upload.trim_start_matches(&first.url).to_owned();
    let mut at = 0;
    while at < CHECKPOINT as usize + PIECE {
        let r = patch(&http, &upload, at as u64, &bundle[at..at + PIECE], false).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        at += PIECE;
        assert_eq!(offset_of(&http, &upload).await.1, at.to_string());
    }
    drop(first);
    // A crash after bytes reached the file but before their offset committed leaves them
    // past the durable offset (here some garbage): the next bytes must overwrite them, not
    // follow them.
    let upload_id = path.rsplit('/').next().unwrap();
    let part = f.dir.path().join(format!("blobs/uploads/{upload_id}.part"));
    assert_eq!(std::fs::read(&part).unwrap(), bundle[..at]);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&part)
        .unwrap();
    std::io::Write::write_all(&mut file, &[0xAA; 5000]).unwrap();
    drop(file);

    let second = start(f.dir.path()).await;
    let http = reqwest::Client::new();
    let upload = format!("{}{}", second.url, path);
    let (status, offset, complete) = offset_of(&http, &upload).await;
    assert_eq!((status, complete.as_str()), (StatusCode::NO_CONTENT, "?0"));
    assert_eq!(offset, at.to_string());
    // Creation after the restart finds the same upload at the same offset.
    let r = create(&http, &second.url, &bundle).await;
    assert_eq!(header(&r, "location"), path);
    assert_eq!(header(&r, "upload-offset"), at.to_string());
    // The last piece is not taken twice over.
    let back = at - PIECE;
    let r = patch(&http, &upload, back as u64, &bundle[back..at], false).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(header(&r, "upload-offset"), at.to_string());

    let r = patch(&http, &upload, at as u64, &bundle[at..], true).await;
    assert_eq!(r.status(), StatusCode::OK);
    let receipt = f.receipt(&r.bytes().await.unwrap());
    assert_eq!(receipt.verdict, Verdict::Accepted);
    assert_eq!(receipt.submission_sha256, Sha256::of(&bundle));
    assert!(!part.exists(), "the part file outlived its upload");
}

/// Sends a PATCH of the whole bundle on a raw connection, declared with its full
/// Content-Length, and closes the connection after `sent` body bytes.
async fn patch_cut(url: &str, path: &str, bundle: &[u8], sent: usize) {
    use tokio::io::AsyncWriteExt;
    let addr = url.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/partial-upload\r\n\
         Upload-Offset: 0\r\nUpload-Complete: ?1\r\nContent-Length: {}\r\n\r\n",
        bundle.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&bundle[..sent]).await.unwrap();
    sock.flush().await.unwrap();
    // As on a real link, the bytes arrive before the link goes (a FIN right behind them lets
    // hyper drop what it buffered but had not handed on yet: those were never received).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Whatever the registry answers, the link is gone before the body is whole.
    sock.shutdown().await.unwrap();
    drop(sock);
}

#[tokio::test]
async fn a_patch_cut_after_n_bytes_leaves_a_durable_offset_of_at_most_n_and_resumes() {
    let f = fixture();
    let server = start(f.dir.path()).await;
    let http = reqwest::Client::new();
    let bundle = f.bundle();
    let upload = created(&http, &server.url, &bundle).await;
    let path = upload.trim_start_matches(&server.url).to_owned();
    let upload_id = path.rsplit('/').next().unwrap().to_owned();
    let part = f.dir.path().join(format!("blobs/uploads/{upload_id}.part"));

    // One whole bundle in one request, cut a little past its middle.
    let n = bundle.len() / 2 + 12_345;
    patch_cut(&server.url, &path, &bundle, n).await;
    let (status, offset, complete) = offset_of(&http, &upload).await;
    assert_eq!((status, complete.as_str()), (StatusCode::NO_CONTENT, "?0"));
    let offset: usize = offset.parse().unwrap();
    assert!(offset <= n, "HEAD says {offset} of the {n} bytes sent");
    // The bytes that arrived before the cut are kept: the kit resumes, not from zero.
    assert!(offset > 0, "nothing of the {n} bytes was kept");
    // What HEAD says is exactly what the part file holds, and it is the bundle's bytes.
    let held = std::fs::read(&part).unwrap_or_default();
    assert_eq!(held.len(), offset);
    assert!(held == bundle[..offset], "the part file holds other bytes");
    // The offset is the one committed: a registry started afresh on the folder says it too.
    drop(server);
    let server = start(f.dir.path()).await;
    let upload = format!("{}{}", server.url, path);
    assert_eq!(offset_of(&http, &upload).await.1, offset.to_string());

    // A second cut, from there: the offset only moves forward, over synced bytes.
    let rest = &bundle[offset..];
    let m = rest.len() / 3;
    {
        use tokio::io::AsyncWriteExt;
        let addr = server.url.trim_start_matches("http://");
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/partial-upload\r\n\
             Upload-Offset: {offset}\r\nUpload-Complete: ?1\r\nContent-Length: {}\r\n\r\n",
            rest.len()
        );
        sock.write_all(head.as_bytes()).await.unwrap();
        sock.write_all(&rest[..m]).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        sock.shutdown().await.unwrap();
    }
    let second: usize = offset_of(&http, &upload).await.1.parse().unwrap();
    assert!((offset..=offset + m).contains(&second), "{second}");
    assert!(std::fs::read(&part).unwrap() == bundle[..second]);

    // The rest completes the upload into the receipt of exactly these bytes.
    let r = patch(&http, &upload, second as u64, &bundle[second..], true).await;
    assert_eq!(r.status(), StatusCode::OK);
    let receipt = f.receipt(&r.bytes().await.unwrap());
    assert_eq!(receipt.verdict, Verdict::Accepted);
    assert_eq!(receipt.submission_sha256, Sha256::of(&bundle));
    assert!(!part.exists(), "the part file outlived its upload");
    let bundle_id = ghidanh_bundle::Envelope::parse(&bundle)
        .unwrap()
        .header()
        .bundle_id;
    let stored = std::fs::read(f.dir.path().join(format!("blobs/{bundle_id}.gdb"))).unwrap();
    assert!(stored == bundle, "the stored blob is not the bundle sent");
}
