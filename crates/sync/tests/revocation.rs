//! Remote wipe (issue 4): the worker destroys the vault only on a `device_revoked` answer
//! that verifies with this device's registry key and is about the bytes it sent. A fake
//! registry on loopback answers every way a revocation could be faked.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header::CONTENT_TYPE, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use ghidanh_bundle::{
    BundleId, DeviceId, DeviceKey, Provisioning, Receipt, ReceiptId, RegistryKeys, RejectReason,
    Sha256, Verdict,
};
use ghidanh_record::EnrollmentInput;
use ghidanh_sync::{spawn, Backoff, SyncConfig, SyncHandle};
use ghidanh_vault::{Approval, KdfParams, Vault, VaultError};

const PASS: &str = "mật khẩu dài 123";
const RECEIPT: &str = "application/vnd.ghidanh.receipt";

/// How the fake registry says "revoked".
#[derive(Clone, Copy, Debug)]
enum Answer {
    /// A `device_revoked` receipt about the request, signed with the device's registry key.
    Signed,
    /// The same, signed with another key.
    ForeignKey,
    /// Correctly signed, but about other bytes (a replay of someone else's refusal).
    Replayed,
    /// A receipt-looking body with no valid signature at all.
    Unsigned,
    /// JSON `{"code":"device_revoked"}`, as a proxy or an impostor might say it.
    Json,
}

struct Fake {
    registry: RegistryKeys,
    other: RegistryKeys,
    register: Answer,
    upload: Answer,
    hits: AtomicUsize,
}

impl Fake {
    fn answer(&self, how: Answer, body: &[u8], status: StatusCode) -> Response {
        self.hits.fetch_add(1, Ordering::SeqCst);
        let receipt = |sha: Sha256| Receipt {
            receipt_id: ReceiptId::new(),
            issued_at: 1_790_000_000,
            registry_key_id: self.registry.public().key_id().clone(),
            submission_sha256: sha,
            bundle_id: None,
            verdict: Verdict::Rejected(RejectReason::DeviceRevoked),
        };
        let bytes = match how {
            Answer::Signed => receipt(Sha256::of(body)).sign(&self.registry),
            Answer::ForeignKey => receipt(Sha256::of(body)).sign(&self.other),
            Answer::Replayed => receipt(Sha256::of(b"other bytes")).sign(&self.registry),
            Answer::Unsigned => {
                let mut b = receipt(Sha256::of(body)).sign(&self.registry);
                let last = b.len() - 1;
                b[last] ^= 0x01;
                b
            }
            Answer::Json => {
                return (
                    StatusCode::FORBIDDEN,
                    [(CONTENT_TYPE, "application/json")],
                    r#"{"code":"device_revoked","message":"revoked"}"#,
                )
                    .into_response()
            }
        };
        (status, [(CONTENT_TYPE, RECEIPT)], bytes).into_response()
    }
}

async fn register(State(f): State<Arc<Fake>>, body: Bytes) -> Response {
    f.answer(f.register, &body, StatusCode::FORBIDDEN)
}

async fn upload(State(f): State<Arc<Fake>>, body: Bytes) -> Response {
    f.answer(f.upload, &body, StatusCode::OK)
}

/// Starts the fake registry; returns its state and URL.
async fn fake(register_answer: Answer, upload_answer: Answer) -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake {
        registry: RegistryKeys::generate(),
        other: RegistryKeys::generate(),
        register: register_answer,
        upload: upload_answer,
        hits: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/api/v1/devices/register", post(register))
        .route("/api/v1/bundles", post(upload))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, url)
}

/// A provisioned vault (registered or not) with one sealed bundle in its outbox.
fn kit(dir: &std::path::Path, fake: &Fake, url: &str, registered: bool) -> Arc<Vault> {
    let (vault, op) = Vault::create(
        dir,
        "Trần Văn Cảnh",
        PASS,
        KdfParams::insecure_fast_for_tests(),
    )
    .unwrap();
    let prov = Provisioning {
        registry_url: url.to_owned(),
        registry: fake.registry.public().clone(),
        device_id: DeviceId::new(),
        token: zeroize::Zeroizing::new([9u8; 32]),
        issued_at: 1_790_000_000,
        label: "Đội 3".into(),
    }
    .sign(&fake.registry);
    vault.provision(&prov, &DeviceKey::generate()).unwrap();
    if registered {
        vault.mark_registered().unwrap();
    }
    let input = EnrollmentInput {
        birth_name: "Hoàng Thị Lan".into(),
        date_of_birth: "1987-09-02".into(),
        sex: "female".into(),
        personal_id: "036187004512".into(),
        ..Default::default()
    };
    let id = vault.save_draft(None, op.id, &input).unwrap();
    vault.finalise(id).unwrap();
    vault.approve(id, Approval::Supervisor).unwrap();
    vault
        .seal(id, &input, BundleId::new(), b"sealed bundle bytes")
        .unwrap();
    Arc::new(vault)
}

fn config() -> SyncConfig {
    SyncConfig {
        backoff: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(60),
        },
        request_timeout: Duration::from_secs(5),
        idle_poll: Duration::from_millis(50),
        budget: ghidanh_sync::Budget::UNLIMITED,
    }
}

async fn wait_until(what: &str, timeout: Duration, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "{what} not after {timeout:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_wiped(dir: &std::path::Path, vault: &Vault, worker: &SyncHandle) {
    assert!(worker.is_stopped());
    assert!(!Vault::exists(dir));
    for file in ["vault.keys", "vault.db", "vault.db-wal"] {
        assert!(!dir.join(file).exists(), "{file} survived the wipe");
    }
    assert!(matches!(vault.list(), Err(VaultError::Wiped)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_revocation_of_an_upload_wipes_the_vault_and_stops_the_worker() {
    let (fake, url) = fake(Answer::Signed, Answer::Signed).await;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("kit");
    let vault = kit(&dir, &fake, &url, true);
    let worker = spawn(vault.clone(), config());
    wait_until("worker stopped", Duration::from_secs(10), || {
        worker.is_stopped()
    })
    .await;
    assert_wiped(&dir, &vault, &worker);
    // Stopped for good: nothing more reaches the registry.
    let hits = fake.hits.load(Ordering::SeqCst);
    assert_eq!(hits, 1, "one upload, then nothing");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.hits.load(Ordering::SeqCst), hits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_revocation_of_the_registration_wipes_the_vault() {
    let (fake, url) = fake(Answer::Signed, Answer::Json).await;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("kit");
    let vault = kit(&dir, &fake, &url, false);
    let worker = spawn(vault.clone(), config());
    wait_until("worker stopped", Duration::from_secs(10), || {
        worker.is_stopped()
    })
    .await;
    assert_wiped(&dir, &vault, &worker);
    assert_eq!(fake.hits.load(Ordering::SeqCst), 1, "the registration only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_foreign_or_replayed_revocations_never_wipe() {
    for how in [
        Answer::Unsigned,
        Answer::ForeignKey,
        Answer::Replayed,
        Answer::Json,
    ] {
        // Both the registration and the upload answer this way.
        let (fake, url) = fake(how, how).await;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("kit");
        let vault = kit(&dir, &fake, &url, false);
        let worker = spawn(vault.clone(), config());
        // Several passes, each with a registration and an upload attempt.
        wait_until("six requests", Duration::from_secs(10), || {
            fake.hits.load(Ordering::SeqCst) >= 6
        })
        .await;
        assert!(!worker.is_stopped(), "{how:?} stopped the worker");
        assert!(Vault::exists(&dir), "{how:?} wiped the vault");
        assert!(dir.join("vault.db").exists(), "{how:?}");
        let list = vault.list().unwrap();
        assert_eq!(list.len(), 1, "{how:?}");
        assert_eq!(list[0].input.personal_id, "036187004512");
        worker.stop();
    }
}
