//! The client against the real registry behind a proxy that cuts the connection in the
//! middle of the upload's body: the upload must resume from the registry's durable offset,
//! not from zero, and send only the rest.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::{self, Next};
use ghidanh_bundle::{seal, DeviceKey, DeviceRegistration, Provisioning, Sha256, Verdict};
use ghidanh_record::EnrollmentInput;
use ghidanh_registry::{app, init, provision_device, Registry};
use ghidanh_sync::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A unit of bytes for the sizes below (what the client once sent per request).
const PIECE: usize = 64 * 1024;

/// What the registry saw: method and `Upload-Offset` of every upload request.
type Seen = Arc<Mutex<Vec<(String, Option<u64>)>>>;

async fn registry_behind_a_recorder(dir: &std::path::Path, seen: Seen) -> SocketAddr {
    let registry = Arc::new(Registry::open(dir).unwrap());
    let router = app(registry).layer(middleware::from_fn(move |req: Request, next: Next| {
        let seen = seen.clone();
        async move {
            if req.uri().path().starts_with("/api/v1/uploads") {
                let offset = req
                    .headers()
                    .get("upload-offset")
                    .and_then(|v| v.to_str().ok()?.parse().ok());
                seen.lock()
                    .unwrap()
                    .push((req.method().to_string(), offset));
            }
            next.run(req).await
        }
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Bytes the proxy forwarded towards the registry, and whether it cut a connection.
#[derive(Default)]
struct Proxy {
    forwarded: AtomicUsize,
    cut: AtomicBool,
}

/// Forwards every connection to `target`; the first one is cut after `cut_after` bytes
/// from the client.
async fn proxy(target: SocketAddr, cut_after: usize) -> (String, Arc<Proxy>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Proxy::default());
    let st = state.clone();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let limit = if first { Some(cut_after) } else { None };
            first = false;
            tokio::spawn(forward(client, target, limit, st.clone()));
        }
    });
    (url, state)
}

async fn forward(client: TcpStream, target: SocketAddr, limit: Option<usize>, state: Arc<Proxy>) {
    let server = TcpStream::connect(target).await.unwrap();
    let (mut client_rd, mut client_wr) = client.into_split();
    let (mut server_rd, mut server_wr) = server.into_split();
    let upstream = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut sent = 0usize;
        loop {
            let n = match client_rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let n = match limit {
                Some(limit) if sent + n >= limit => {
                    let rest = limit - sent;
                    let _ = server_wr.write_all(&buf[..rest]).await;
                    state.forwarded.fetch_add(rest, Ordering::SeqCst);
                    state.cut.store(true, Ordering::SeqCst);
                    // As on a real link, the bytes arrive before the link goes (a reset right
                    // behind them lets hyper drop what it buffered but had not handed on).
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    return;
                }
                _ => n,
            };
            if server_wr.write_all(&buf[..n]).await.is_err() {
                return;
            }
            sent += n;
            state.forwarded.fetch_add(n, Ordering::SeqCst);
        }
    };
    let downstream = async {
        let _ = tokio::io::copy(&mut server_rd, &mut client_wr).await;
    };
    // Whichever ends first ends the connection: both halves drop here.
    tokio::select! {
        () = upstream => {},
        () = downstream => {},
    }
}

#[tokio::test]
async fn a_connection_cut_mid_upload_resumes_from_the_registry_offset() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path()).unwrap();
    let (_, prov) = provision_device(dir.path(), "http://127.0.0.1:1", "Đội 3").unwrap();
    let prov = Provisioning::parse(&prov).unwrap();
    let device = DeviceKey::generate();
    Registry::open(dir.path())
        .unwrap()
        .register_device(&DeviceRegistration::sign(
            prov.device_id,
            &prov.token,
            &device,
        ))
        .unwrap();
    let mut payload = ghidanh_bundle::testkit::sample_payload(prov.device_id);
    payload.record = EnrollmentInput {
        birth_name: "Lê Thị Hoa".into(),
        date_of_birth: "2005-03-01".into(),
        sex: "female".into(),
        personal_id: "079305000001".into(),
        ..Default::default()
    };
    if let Some(face) = payload.biometrics.face.as_mut() {
        face.image = [0xff, 0xd8, 0xff, 0xe0].repeat(100_000);
    }
    let bundle = seal(&payload, &device, &prov.registry, 1_790_000_100).unwrap();
    assert!(bundle.len() > 4 * PIECE);

    let seen: Seen = Arc::default();
    let target = registry_behind_a_recorder(dir.path(), seen.clone()).await;
    // The creation and about 2.5 pieces' worth of the body get through the first connection.
    let cut_after = 2 * PIECE + PIECE / 2;
    let (url, proxy) = proxy(target, cut_after).await;
    let client = Client::new(&url, prov.registry.clone(), Duration::from_secs(10)).unwrap();

    let (receipt, _) = client.upload(&bundle).await.unwrap();
    assert_eq!(receipt.verdict, Verdict::Accepted);
    assert_eq!(receipt.submission_sha256, Sha256::of(&bundle));

    assert!(proxy.cut.load(Ordering::SeqCst), "the proxy never cut");
    let seen = seen.lock().unwrap().clone();
    let head = seen
        .iter()
        .position(|(m, _)| m == "HEAD")
        .unwrap_or_else(|| panic!("no HEAD after the cut: {seen:?}"));
    let resumed = seen[head..]
        .iter()
        .find(|(m, _)| m == "PATCH")
        .and_then(|(_, o)| *o)
        .unwrap();
    // From what reached the registry before the cut (less the requests' headers), synced.
    assert!(resumed > PIECE as u64, "resumed from {resumed}: {seen:?}");
    assert!(resumed < cut_after as u64, "resumed past the cut: {seen:?}");
    // One PATCH with the whole bundle, one with the rest after the registry's offset.
    let patches: Vec<u64> = seen
        .iter()
        .filter(|(m, _)| m == "PATCH")
        .filter_map(|(_, o)| *o)
        .collect();
    assert_eq!(patches, vec![0, resumed], "{seen:?}");
    let received = proxy.forwarded.load(Ordering::SeqCst);
    assert!(
        received < 2 * bundle.len(),
        "{received} bytes for a {} byte bundle",
        bundle.len()
    );
}
