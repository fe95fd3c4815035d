//! Mode `relay` in process over loopback: a central registry and a relay in front of it.
//! Custody receipts (signed by a certified relay key, the same bytes every time), the
//! forwarder (exactly one enrollment at central, the central receipt verified and stored),
//! the receipt route on both, and refusals of bytes the relay cannot vouch for.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ghidanh_bundle::{
    seal, CustodyReceipt, DeviceKey, DeviceRegistration, Payload, Provisioning, Receipt, Sha256,
    Verdict,
};
use ghidanh_record::EnrollmentInput;
use ghidanh_registry::{
    app, forward, init, init_relay, list_bundles, provision_device, read_keyring, relay_app,
    ForwardConfig, Registry, Relay, RelayCertificate, Upstream, CUSTODY_CONTENT_TYPE,
    RELAY_CERT_HEADER,
};

struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn serve(router: axum::Router) -> (String, Task) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (url, Task(task))
}

struct World {
    central_dir: tempfile::TempDir,
    relay_dir: tempfile::TempDir,
    provisioning: Provisioning,
    device: DeviceKey,
}

fn world() -> World {
    let central_dir = tempfile::tempdir().unwrap();
    init(central_dir.path()).unwrap();
    let (_, prov) = provision_device(central_dir.path(), "http://127.0.0.1:1", "Đội 3").unwrap();
    let provisioning = Provisioning::parse(&prov).unwrap();
    let device = DeviceKey::generate();
    Registry::open(central_dir.path())
        .unwrap()
        .register_device(&DeviceRegistration::sign(
            provisioning.device_id,
            &provisioning.token,
            &device,
        ))
        .unwrap();
    let relay_dir = tempfile::tempdir().unwrap();
    let relay_key = init_relay(relay_dir.path()).unwrap();
    let ring = read_keyring(&central_dir.path().join("registry.key")).unwrap();
    let cert = RelayCertificate::sign(ring.current(), &relay_key);
    std::fs::write(relay_dir.path().join("relay.cert"), cert.bytes()).unwrap();
    World {
        central_dir,
        relay_dir,
        provisioning,
        device,
    }
}

impl World {
    fn bundle(&self) -> Vec<u8> {
        let mut p: Payload = ghidanh_bundle::testkit::sample_payload(self.provisioning.device_id);
        p.record = EnrollmentInput {
            birth_name: "Lê Thị Hoa".into(),
            date_of_birth: "2005-03-01".into(),
            sex: "female".into(),
            personal_id: "079305000001".into(),
            ..Default::default()
        };
        seal(&p, &self.device, &self.provisioning.registry, 1_790_000_100).unwrap()
    }

    fn relay(&self, upstream: &str) -> Arc<Relay> {
        Arc::new(
            Relay::open(
                self.relay_dir.path(),
                Upstream {
                    url: upstream.to_owned(),
                    keys: vec![self.provisioning.registry.clone()],
                },
            )
            .unwrap(),
        )
    }
}

fn fast() -> ForwardConfig {
    ForwardConfig {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
        timeout: Duration::from_secs(5),
        idle_poll: Duration::from_millis(200),
    }
}

async fn post(url: &str, body: &[u8]) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/api/v1/bundles"))
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

fn verify_custody(
    resp_headers: &reqwest::header::HeaderMap,
    bytes: &[u8],
    w: &World,
) -> CustodyReceipt {
    use base64::Engine as _;
    let cert = resp_headers
        .get(RELAY_CERT_HEADER)
        .unwrap()
        .to_str()
        .unwrap();
    let cert = base64::engine::general_purpose::STANDARD
        .decode(cert)
        .unwrap();
    let cert = RelayCertificate::verify(&cert, &w.provisioning.registry).unwrap();
    CustodyReceipt::verify(bytes, &cert.relay).unwrap()
}

async fn wait_receipt(url: &str, bundle_id: &str) -> Vec<u8> {
    for _ in 0..200 {
        let resp = reqwest::get(format!("{url}/api/v1/bundles/{bundle_id}/receipt"))
            .await
            .unwrap();
        if resp.status() == 200 {
            return resp.bytes().await.unwrap().to_vec();
        }
        assert_eq!(resp.status(), 202, "pending while held");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no central receipt");
}

fn central_count(dir: &Path) -> usize {
    list_bundles(dir).unwrap().len()
}

#[tokio::test]
async fn custody_then_forwarded_once_and_the_central_receipt_comes_back() {
    let w = world();
    let central = Arc::new(Registry::open(w.central_dir.path()).unwrap());
    let (central_url, _c) = serve(app(central)).await;
    // The relay serves before the forwarder runs: custody first, nothing at central.
    let relay = w.relay(&central_url);
    let (relay_url, _r) = serve(relay_app(relay.clone())).await;
    let bundle = w.bundle();
    let bundle_id = ghidanh_bundle::Envelope::parse(&bundle)
        .unwrap()
        .header()
        .bundle_id
        .to_string();

    let resp = post(&relay_url, &bundle).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        CUSTODY_CONTENT_TYPE
    );
    let headers = resp.headers().clone();
    let custody = resp.bytes().await.unwrap().to_vec();
    let c = verify_custody(&headers, &custody, &w);
    assert_eq!(c.submission_sha256, Sha256::of(&bundle));
    assert_eq!(c.bundle_id.to_string(), bundle_id);
    // A custody receipt is never the registry's verdict.
    assert!(Receipt::verify(&custody, &w.provisioning.registry).is_err());

    // Same bytes again: the very same custody receipt.
    let again = post(&relay_url, &bundle).await.bytes().await.unwrap();
    assert_eq!(again.as_ref(), custody.as_slice());
    let pending = reqwest::get(format!("{relay_url}/api/v1/bundles/{bundle_id}/receipt"))
        .await
        .unwrap();
    assert_eq!(pending.status(), 202);
    assert_eq!(central_count(w.central_dir.path()), 0);
    assert_eq!(relay.pending().unwrap(), 1);

    // The forwarder: the central receipt verified, stored, served; the held bytes gone.
    let _f = Task(tokio::spawn(forward(relay.clone(), fast())));
    let central_receipt = wait_receipt(&relay_url, &bundle_id).await;
    let r = Receipt::verify(&central_receipt, &w.provisioning.registry).unwrap();
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(r.submission_sha256, Sha256::of(&bundle));
    assert_eq!(relay.pending().unwrap(), 0);
    assert!(!w
        .relay_dir
        .path()
        .join("held")
        .join(format!("{bundle_id}.gdb"))
        .exists());
    // Central serves the same receipt on the same route.
    let from_central = reqwest::get(format!("{central_url}/api/v1/bundles/{bundle_id}/receipt"))
        .await
        .unwrap();
    assert_eq!(from_central.status(), 200);
    assert_eq!(
        from_central.bytes().await.unwrap().as_ref(),
        central_receipt.as_slice()
    );

    // The same bytes to the relay now: the central receipt; still one enrollment.
    let resp = post(&relay_url, &bundle).await;
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/vnd.ghidanh.receipt"
    );
    assert_eq!(
        resp.bytes().await.unwrap().as_ref(),
        central_receipt.as_slice()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(central_count(w.central_dir.path()), 1);
}

#[tokio::test]
async fn the_relay_refuses_what_it_cannot_vouch_for_and_keeps_forwarding_after_a_restart() {
    let w = world();
    // Upstream down: the relay still gives custody and keeps the bytes.
    let relay = w.relay("http://127.0.0.1:9");
    let (relay_url, r) = serve(relay_app(relay.clone())).await;
    let f = Task(tokio::spawn(forward(relay.clone(), fast())));

    let bundle = w.bundle();
    let mut tampered = bundle.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let resp = post(&relay_url, &tampered).await;
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], "ciphertext_mismatch");
    assert_eq!(post(&relay_url, b"not a bundle").await.status(), 422);

    let resp = post(&relay_url, &bundle).await;
    assert_eq!(resp.status(), 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(relay.pending().unwrap(), 1);
    drop(f);
    drop(r);
    drop(relay);

    // Restarted with the central registry up: it forwards what it held.
    let central = Arc::new(Registry::open(w.central_dir.path()).unwrap());
    let (central_url, _c) = serve(app(central)).await;
    let relay = w.relay(&central_url);
    let (relay_url, _r) = serve(relay_app(relay.clone())).await;
    let _f = Task(tokio::spawn(forward(relay.clone(), fast())));
    let bundle_id = ghidanh_bundle::Envelope::parse(&bundle)
        .unwrap()
        .header()
        .bundle_id
        .to_string();
    let receipt = wait_receipt(&relay_url, &bundle_id).await;
    assert_eq!(
        Receipt::verify(&receipt, &w.provisioning.registry)
            .unwrap()
            .verdict,
        Verdict::Accepted
    );
    assert_eq!(central_count(w.central_dir.path()), 1);
    let unknown = reqwest::get(format!(
        "{relay_url}/api/v1/bundles/{}/receipt",
        ghidanh_bundle::BundleId::new()
    ))
    .await
    .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_resumable_upload_to_the_relay_resumes_and_ends_in_the_custody_receipt() {
    use base64::Engine as _;
    let w = world();
    let relay = w.relay("http://127.0.0.1:9");
    let (url, _r) = serve(relay_app(relay.clone())).await;
    let bundle = w.bundle();
    let bundle_id = ghidanh_bundle::Envelope::parse(&bundle)
        .unwrap()
        .header()
        .bundle_id
        .to_string();
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::of(&bundle).0);
    let http = reqwest::Client::new();
    let create = || {
        http.post(format!("{url}/api/v1/uploads"))
            .header("upload-length", bundle.len())
            .header("repr-digest", format!("sha-256=:{digest}:"))
            .header("ghidanh-bundle-id", &bundle_id)
            .send()
    };
    let resp = create().await.unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let half = bundle.len() / 2;
    let resp = http
        .patch(format!("{url}{location}"))
        .header("content-type", "application/partial-upload")
        .header("upload-offset", 0)
        .header("upload-complete", "?0")
        .body(bundle[..half].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    // Created again (a kit that lost every answer): the same upload at its durable offset.
    let resp = create().await.unwrap();
    assert_eq!(resp.headers()["location"].to_str().unwrap(), location);
    assert_eq!(
        resp.headers()["upload-offset"].to_str().unwrap(),
        half.to_string()
    );
    let head = http.head(format!("{url}{location}")).send().await.unwrap();
    assert_eq!(
        head.headers()["upload-offset"].to_str().unwrap(),
        half.to_string()
    );
    // A wrong offset: 409 with the real one.
    let resp = http
        .patch(format!("{url}{location}"))
        .header("content-type", "application/partial-upload")
        .header("upload-offset", 1)
        .header("upload-complete", "?1")
        .body(bundle[1..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let resp = http
        .patch(format!("{url}{location}"))
        .header("content-type", "application/partial-upload")
        .header("upload-offset", half)
        .header("upload-complete", "?1")
        .body(bundle[half..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        CUSTODY_CONTENT_TYPE
    );
    let headers = resp.headers().clone();
    let custody = resp.bytes().await.unwrap().to_vec();
    let c = verify_custody(&headers, &custody, &w);
    assert_eq!(c.submission_sha256, Sha256::of(&bundle));
    // GET on the completed upload and the single POST give the very same custody receipt.
    let again = http.get(format!("{url}{location}")).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.bytes().await.unwrap().as_ref(), custody.as_slice());
    assert_eq!(
        post(&url, &bundle).await.bytes().await.unwrap().as_ref(),
        custody.as_slice()
    );
    assert_eq!(relay.pending().unwrap(), 1);
}

#[test]
fn every_relay_route_is_documented_in_the_openapi_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/openapi.yaml");
    let spec: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (route, methods) in ghidanh_registry::RELAY_ROUTES {
        let item = &spec["paths"][*route];
        assert!(item.is_mapping(), "{route} undocumented");
        for m in *methods {
            assert!(
                item[m.to_lowercase().as_str()].is_mapping(),
                "{m} {route} undocumented"
            );
        }
    }
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(CUSTODY_CONTENT_TYPE) && text.contains("Ghidanh-Relay-Certificate"));
}

#[tokio::test]
async fn a_forward_whose_answer_was_lost_gets_the_duplicate_and_central_stays_at_one() {
    let w = world();
    let central = Arc::new(Registry::open(w.central_dir.path()).unwrap());
    let bundle = w.bundle();
    // As if the relay's first forward reached central and the relay died before storing the
    // answer: central already accepted these bytes.
    let first = central.ingest(&bundle).unwrap();
    assert_eq!(first.receipt.verdict, Verdict::Accepted);
    let (central_url, _c) = serve(app(central)).await;
    let relay = w.relay(&central_url);
    let (relay_url, _r) = serve(relay_app(relay.clone())).await;
    assert_eq!(post(&relay_url, &bundle).await.status(), 200);
    let health: serde_json::Value = serde_json::from_slice(
        &reqwest::get(format!("{relay_url}/api/v1/health"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(health["mode"], "relay");
    assert_eq!(health["pending"], 1);
    let _f = Task(tokio::spawn(forward(relay.clone(), fast())));
    let bundle_id = ghidanh_bundle::Envelope::parse(&bundle)
        .unwrap()
        .header()
        .bundle_id
        .to_string();
    let receipt = wait_receipt(&relay_url, &bundle_id).await;
    let r = Receipt::verify(&receipt, &w.provisioning.registry).unwrap();
    assert_eq!(
        r.verdict,
        Verdict::Duplicate {
            accepted_receipt_id: first.receipt.receipt_id
        }
    );
    assert_eq!(r.delivery_receipt_id(), Some(first.receipt.receipt_id));
    assert_eq!(central_count(w.central_dir.path()), 1);
    assert_eq!(relay.pending().unwrap(), 0);
}

#[tokio::test]
async fn the_relay_passes_reference_requests_upstream_and_the_answers_back_as_they_are() {
    let w = world();
    // A superset of the built-in religions: other tests in this binary are not affected by
    // this process installing it.
    let religions = include_str!("../../../schema/reference/religions.tsv")
        .replace("# version: ghidanh-ref-1", "# version: ghidanh-ref-2")
        + "90\tĐạo thử nghiệm\n";
    ghidanh_registry::publish_reference(
        w.central_dir.path(),
        &[ghidanh_registry::Publication {
            list: ghidanh_record::reference::List::Religions,
            version: "ghidanh-ref-2".into(),
            tsv: religions,
        }],
    )
    .unwrap();
    let central = Arc::new(Registry::open(w.central_dir.path()).unwrap());
    let (central_url, _c) = serve(app(central)).await;
    let (relay_url, _r) = serve(relay_app(w.relay(&central_url))).await;
    let query = format!(
        "/api/v1/reference?have=religions:ghidanh-ref-1&key_id={}",
        w.provisioning.registry.key_id()
    );
    let http = reqwest::Client::new();
    let direct = http
        .get(format!("{central_url}{query}"))
        .send()
        .await
        .unwrap();
    let via = http
        .get(format!("{relay_url}{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(via.status(), 200);
    let (direct, via) = (direct.bytes().await.unwrap(), via.bytes().await.unwrap());
    assert_eq!(direct, via);
    let body: serde_json::Value = serde_json::from_slice(&via).unwrap();
    assert_eq!(body["updates"][0]["list"], "religions");
    // The query reaches upstream: nothing newer than ghidanh-ref-2.
    let none = http
        .get(format!(
            "{relay_url}/api/v1/reference?have=religions:ghidanh-ref-2"
        ))
        .send()
        .await
        .unwrap();
    let none: serde_json::Value = serde_json::from_slice(&none.bytes().await.unwrap()).unwrap();
    assert_eq!(none["updates"].as_array().unwrap().len(), 0);

    // Upstream gone (nothing listens on port 1): 502 upstream_unreachable.
    drop(_r);
    let (lonely_url, _l) = serve(relay_app(w.relay("http://127.0.0.1:1"))).await;
    let resp = http
        .get(format!("{lonely_url}/api/v1/reference"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
}

#[tokio::test]
async fn a_stick_at_the_relay_passes_the_registration_upstream_before_the_bundle() {
    use ghidanh_bundle::stick;
    use ghidanh_registry::Outcome;

    let w = world();
    // A second kit, provisioned but never online: its registration travels on the stick.
    let (_, prov) = provision_device(w.central_dir.path(), "http://127.0.0.1:1", "Đội 4").unwrap();
    let provisioning = Provisioning::parse(&prov).unwrap();
    let device = DeviceKey::generate();
    let kit = World {
        central_dir: tempfile::tempdir().unwrap(),
        relay_dir: tempfile::tempdir().unwrap(),
        provisioning: provisioning.clone(),
        device,
    };
    let bundle = kit.bundle();
    let bundle_id = ghidanh_bundle::Envelope::parse(&bundle)
        .unwrap()
        .header()
        .bundle_id;
    let usb = tempfile::tempdir().unwrap();
    let root = usb.path().join(stick::ROOT);
    std::fs::create_dir_all(root.join(stick::DEVICES)).unwrap();
    std::fs::create_dir_all(root.join(stick::BUNDLES)).unwrap();
    std::fs::write(
        root.join(stick::DEVICES)
            .join(stick::registration_file(provisioning.device_id)),
        DeviceRegistration::sign(provisioning.device_id, &provisioning.token, &kit.device),
    )
    .unwrap();
    std::fs::write(
        root.join(stick::BUNDLES)
            .join(stick::bundle_file(bundle_id)),
        &bundle,
    )
    .unwrap();

    // Central is down at first: the forwarder can pass neither, and sends no bundle before
    // the registration is answered (it would be refused for good as unknown_device).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let central_url = format!("http://127.0.0.1:{port}");
    let relay = w.relay(&central_url);
    let report = relay.import_stick(usb.path()).unwrap();
    let outcomes: Vec<_> = report.files.iter().map(|f| f.outcome.clone()).collect();
    assert_eq!(outcomes, [Outcome::Held, Outcome::Held]);
    let custody = std::fs::read(
        root.join(stick::RECEIPTS)
            .join(stick::custody_file(bundle_id)),
    )
    .unwrap();
    let cert = std::fs::read(
        root.join(stick::RELAYS)
            .join(stick::relay_cert_file(relay.public_key().key_id())),
    )
    .unwrap();
    let cert = RelayCertificate::verify(&cert, &provisioning.registry).unwrap();
    let c = CustodyReceipt::verify(&custody, &cert.relay).unwrap();
    assert_eq!(c.submission_sha256, Sha256::of(&bundle));
    let _f = Task(tokio::spawn(forward(relay.clone(), fast())));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(relay.pending().unwrap(), 1);

    // Central comes up: registration, then the bundle, accepted.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let central = Arc::new(Registry::open(w.central_dir.path()).unwrap());
    let _c = Task(tokio::spawn(async move {
        axum::serve(listener, app(central)).await.unwrap();
    }));
    for _ in 0..200 {
        if relay.pending().unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(relay.pending().unwrap(), 0);
    assert_eq!(central_count(w.central_dir.path()), 1);

    // The next import writes the central receipt; the one after changes nothing.
    let report = relay.import_stick(usb.path()).unwrap();
    let outcomes: Vec<_> = report.files.iter().map(|f| f.outcome.clone()).collect();
    assert_eq!(outcomes, [Outcome::AlreadyHeld, Outcome::Accepted]);
    let receipt = std::fs::read(
        root.join(stick::RECEIPTS)
            .join(stick::receipt_file(bundle_id)),
    )
    .unwrap();
    let r = Receipt::verify(&receipt, &provisioning.registry).unwrap();
    assert_eq!(r.verdict, Verdict::Accepted);
    let report = relay.import_stick(usb.path()).unwrap();
    let outcomes: Vec<_> = report.files.iter().map(|f| f.outcome.clone()).collect();
    assert_eq!(outcomes, [Outcome::AlreadyHeld, Outcome::AlreadyImported]);
    assert_eq!(central_count(w.central_dir.path()), 1);
}
