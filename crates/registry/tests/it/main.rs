//! The HTTP API through `app(..)` and `tower::ServiceExt::oneshot`: status codes, JSON
//! error bodies, receipts for every verdict, hostile bodies.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use ghidanh_bundle::{
    seal, BundleId, DeviceId, DeviceKey, DeviceRegistration, Payload, Provisioning, Receipt,
    RejectReason, Verdict,
};
use ghidanh_record::EnrollmentInput;
use ghidanh_registry::{app, init, provision_device, revoke_device, Registry};
use http_body_util::BodyExt;
use tower::ServiceExt;

struct Server {
    app: Router,
    registry: Arc<Registry>,
    provisioning: Provisioning,
    _dir: tempfile::TempDir,
}

fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path()).unwrap();
    let (_, prov) = provision_device(dir.path(), "http://127.0.0.1:8640", "Đội 3").unwrap();
    let registry = Arc::new(Registry::open(dir.path()).unwrap());
    Server {
        app: app(Arc::clone(&registry)),
        registry,
        provisioning: Provisioning::parse(&prov).unwrap(),
        _dir: dir,
    }
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn call(s: &Server, method: &str, uri: &str, body: Vec<u8>) -> Answer {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(body))
        .unwrap();
    let res = s.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status,
        content_type,
        body,
    }
}

async fn register(s: &Server, key: &DeviceKey) -> Answer {
    let p = &s.provisioning;
    let bytes = DeviceRegistration::sign(p.device_id, &p.token, key);
    call(s, "POST", "/api/v1/devices/register", bytes).await
}

fn payload(device_id: DeviceId) -> Payload {
    let mut p = ghidanh_bundle::testkit::sample_payload(device_id);
    p.record = EnrollmentInput {
        birth_name: "Lê Thị Hoa".into(),
        date_of_birth: "2005-03-01".into(),
        sex: "female".into(),
        personal_id: "079305000001".into(),
        ..Default::default()
    };
    p
}

/// Submits a bundle; the answer must be a signed receipt.
async fn submit(s: &Server, bytes: Vec<u8>) -> Receipt {
    let a = call(s, "POST", "/api/v1/bundles", bytes).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type, "application/vnd.ghidanh.receipt");
    Receipt::verify(&a.body, &s.provisioning.registry).unwrap()
}

#[tokio::test]
async fn health_names_the_key() {
    let s = server();
    let a = call(&s, "GET", "/api/v1/health", vec![]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.json(),
        serde_json::json!({"status": "ok", "keyId": s.registry.key_id().as_str()})
    );
}

#[tokio::test]
async fn registration_is_idempotent_and_binds_one_key() {
    let s = server();
    let key = DeviceKey::generate();
    let device_id = s.provisioning.device_id.to_string();
    for _ in 0..2 {
        let a = register(&s, &key).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(
            a.json(),
            serde_json::json!({"status": "registered", "deviceId": device_id})
        );
    }
    let a = register(&s, &DeviceKey::generate()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.json()["code"], "invalid_token");
}

#[tokio::test]
async fn registration_refusals_have_codes() {
    let s = server();
    let key = DeviceKey::generate();
    let wrong_token = DeviceRegistration::sign(s.provisioning.device_id, &[7u8; 32], &key);
    let a = call(&s, "POST", "/api/v1/devices/register", wrong_token).await;
    assert_eq!(
        (a.status, a.json()["code"].clone()),
        (StatusCode::FORBIDDEN, "invalid_token".into())
    );

    let unknown = DeviceRegistration::sign(DeviceId::new(), &s.provisioning.token, &key);
    let a = call(&s, "POST", "/api/v1/devices/register", unknown).await;
    assert_eq!(
        (a.status, a.json()["code"].clone()),
        (StatusCode::NOT_FOUND, "unknown_device".into())
    );

    for junk in [
        vec![],
        b"GDREGI01garbage-garbage".to_vec(),
        vec![0xff; 70_000],
    ] {
        let a = call(&s, "POST", "/api/v1/devices/register", junk).await;
        assert!(a.status.is_client_error(), "{}", a.status);
        assert!(["malformed", "too_large"].contains(&a.json()["code"].as_str().unwrap()));
    }
    // The token still works after all that.
    assert_eq!(register(&s, &key).await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_verdict_comes_back_as_a_signed_receipt() {
    let s = server();
    let key = DeviceKey::generate();
    assert_eq!(register(&s, &key).await.status, StatusCode::OK);
    let p = payload(s.provisioning.device_id);
    let bytes = seal(&p, &key, &s.provisioning.registry, 1_790_000_100).unwrap();

    let first = submit(&s, bytes.clone()).await;
    assert_eq!(first.verdict, Verdict::Accepted);
    let again = submit(&s, bytes.clone()).await;
    assert_eq!(
        again.verdict,
        Verdict::Duplicate {
            accepted_receipt_id: first.receipt_id
        }
    );
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        submit(&s, tampered).await.verdict,
        Verdict::Rejected(RejectReason::CiphertextMismatch)
    );

    let a = call(
        &s,
        "GET",
        &format!("/api/v1/bundles/{}", p.bundle_id),
        vec![],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.json(),
        serde_json::json!({
            "bundleId": p.bundle_id.to_string(),
            "verdict": "accepted",
            "receiptId": first.receipt_id.to_string(),
        })
    );
}

#[tokio::test]
async fn unknown_bundles_and_routes_are_json_404s() {
    let s = server();
    for uri in [
        format!("/api/v1/bundles/{}", BundleId::new()),
        "/api/v1/bundles/not-a-uuid".to_owned(),
        "/api/v1/nothing".to_owned(),
    ] {
        let a = call(&s, "GET", &uri, vec![]).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(a.json()["code"], "not_found", "{uri}");
    }
}

#[tokio::test]
async fn hostile_bundle_bodies_get_rejected_receipts_or_json_errors() {
    let s = server();
    let mut huge_len = b"GDBUNDL1".to_vec();
    huge_len.extend_from_slice(&u32::MAX.to_be_bytes());
    for body in [vec![], vec![0x42; 1000], huge_len] {
        let r = submit(&s, body).await;
        assert_eq!(r.verdict, Verdict::Rejected(RejectReason::Malformed));
        assert_eq!(r.bundle_id, None);
    }
    let too_big = vec![0u8; ghidanh_registry::BUNDLE_BODY_LIMIT + 1];
    let a = call(&s, "POST", "/api/v1/bundles", too_big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.json()["code"], "too_large");
    assert!(a.content_type.starts_with("application/json"));
}

#[tokio::test]
async fn a_revoked_device_gets_signed_device_revoked_answers_to_register_and_upload() {
    let s = server();
    let key = DeviceKey::generate();
    assert_eq!(register(&s, &key).await.status, StatusCode::OK);
    let p = payload(s.provisioning.device_id);
    let bytes = seal(&p, &key, &s.provisioning.registry, 1_790_000_100).unwrap();

    let revoked =
        revoke_device(s._dir.path(), s.provisioning.device_id, Some("máy bị mất")).unwrap();
    assert!(revoked.newly);
    // The running registry sees it on the next request.
    let r = submit(&s, bytes.clone()).await;
    assert_eq!(r.verdict, Verdict::Rejected(RejectReason::DeviceRevoked));
    assert_eq!(r.bundle_id, Some(p.bundle_id));
    assert_eq!(s.registry.accepted_receipt(p.bundle_id).unwrap(), None);

    // Registering again: 403 whose body is a receipt signed by the registry, not JSON.
    let reg = DeviceRegistration::sign(s.provisioning.device_id, &s.provisioning.token, &key);
    let a = call(&s, "POST", "/api/v1/devices/register", reg.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.content_type, "application/vnd.ghidanh.receipt");
    let refusal = Receipt::verify(&a.body, &s.provisioning.registry).unwrap();
    assert_eq!(
        refusal.verdict,
        Verdict::Rejected(RejectReason::DeviceRevoked)
    );
    assert_eq!(refusal.submission_sha256, ghidanh_bundle::Sha256::of(&reg));

    // Revoking twice is idempotent; an unknown device is an error naming it.
    let again = revoke_device(s._dir.path(), s.provisioning.device_id, None).unwrap();
    assert!(!again.newly);
    let stranger = DeviceId::new();
    let e = revoke_device(s._dir.path(), stranger, None).unwrap_err();
    assert!(e.to_string().contains(&stranger.to_string()), "{e}");
}
