//! `schema/openapi.yaml` against the router: every route served is documented with its
//! methods, every documented operation answers (not 404/405) with a documented status.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use ghidanh_bundle::{seal, DeviceKey, DeviceRegistration, Provisioning, Sha256};
use ghidanh_record::EnrollmentInput;
use ghidanh_registry::{app, init, provision_device, Registry, ROUTES};
use http_body_util::BodyExt;
use serde_yaml::Value;
use tower::ServiceExt;

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/openapi.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// (path, METHOD) of every documented operation.
fn documented(spec: &Value) -> BTreeSet<(String, String)> {
    let paths = spec["paths"].as_mapping().unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        for (key, _) in item.as_mapping().unwrap() {
            let key = key.as_str().unwrap().to_ascii_uppercase();
            if METHODS.contains(&key.as_str()) {
                out.insert((path.as_str().unwrap().to_owned(), key));
            }
        }
    }
    out
}

fn served() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .flat_map(|(path, methods)| methods.iter().map(|m| (path.to_string(), m.to_string())))
        .collect()
}

#[test]
fn the_spec_is_openapi_3_1_and_documents_exactly_the_served_routes() {
    let spec = spec();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(documented(&spec), served());
    for (path, method) in documented(&spec) {
        let op = &spec["paths"][path.as_str()][method.to_ascii_lowercase().as_str()];
        let responses = op["responses"].as_mapping().unwrap();
        assert!(
            !responses.is_empty(),
            "{method} {path} documents no response"
        );
    }
}

struct Probe {
    app: axum::Router,
    bundle: Vec<u8>,
    bundle_id: String,
    upload_id: String,
    _dir: tempfile::TempDir,
}

async fn send(app: &axum::Router, req: Request<Body>) -> StatusCode {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let _ = res.into_body().collect().await.unwrap();
    status
}

/// A registry with a registered device, an accepted bundle and an open upload, so that
/// every documented route has something to answer about.
async fn probe() -> Probe {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path()).unwrap();
    let (_, prov) = provision_device(dir.path(), "http://127.0.0.1:1", "Đội 3").unwrap();
    let prov = Provisioning::parse(&prov).unwrap();
    let registry = Arc::new(Registry::open(dir.path()).unwrap());
    let device = DeviceKey::generate();
    registry
        .register_device(&DeviceRegistration::sign(
            prov.device_id,
            &prov.token,
            &device,
        ))
        .unwrap();
    let sealed = |personal_id: &str| {
        let mut p = ghidanh_bundle::testkit::sample_payload(prov.device_id);
        p.record = EnrollmentInput {
            birth_name: "Lê Thị Hoa".into(),
            date_of_birth: "2005-03-01".into(),
            sex: "female".into(),
            personal_id: personal_id.into(),
            ..Default::default()
        };
        (
            p.bundle_id,
            seal(&p, &device, &prov.registry, 1_790_000_100).unwrap(),
        )
    };
    let (accepted_id, accepted) = sealed("079305000001");
    registry.ingest(&accepted).unwrap();
    let (id, bundle) = sealed("079305000002");
    let upload = registry
        .create_upload(id, Sha256::of(&bundle), bundle.len() as u64)
        .unwrap();
    Probe {
        app: app(registry),
        bundle,
        bundle_id: accepted_id.to_string(),
        upload_id: upload.upload_id,
        _dir: dir,
    }
}

impl Probe {
    /// A well-formed request for a documented operation.
    fn request(&self, path: &str, method: &str) -> Request<Body> {
        let uri = path
            .replace("{bundle_id}", &self.bundle_id)
            .replace("{upload_id}", &self.upload_id);
        let b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(uri);
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::of(&self.bundle).0);
        let bundle_id = ghidanh_bundle::Envelope::parse(&self.bundle)
            .unwrap()
            .header()
            .bundle_id
            .to_string();
        match (path, method) {
            ("/api/v1/uploads", "POST") => b
                .header("Upload-Length", self.bundle.len())
                .header("Repr-Digest", format!("sha-256=:{digest}:"))
                .header("Ghidanh-Bundle-Id", bundle_id)
                .body(Body::empty()),
            ("/api/v1/uploads/{upload_id}", "PATCH") => b
                .header("Content-Type", "application/partial-upload")
                .header("Upload-Offset", 0)
                .header("Upload-Complete", "?0")
                .body(Body::from(self.bundle[..1000].to_vec())),
            (_, "POST") => b.body(Body::from(self.bundle.clone())),
            _ => b.body(Body::empty()),
        }
        .unwrap()
    }
}

#[tokio::test]
async fn every_documented_operation_answers_with_a_documented_status() {
    let spec = spec();
    let p = probe().await;
    // DELETE last: it removes the upload the other operations talk about.
    let mut ops: Vec<_> = documented(&spec).into_iter().collect();
    ops.sort_by_key(|(_, m)| m == "DELETE");
    for (path, method) in ops {
        let status = send(&p.app, p.request(&path, &method)).await;
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {status}"
        );
        let op = &spec["paths"][path.as_str()][method.to_ascii_lowercase().as_str()];
        assert!(
            op["responses"].get(status.as_str()).is_some(),
            "{method} {path} answered {status}, which the spec does not document"
        );
    }
}

#[tokio::test]
async fn undocumented_methods_on_served_paths_are_refused() {
    let p = probe().await;
    let served = served();
    for (path, methods) in ROUTES {
        for method in METHODS {
            if methods.contains(&method) {
                continue;
            }
            // HTTP answers HEAD wherever it answers GET (axum does so by itself).
            if method == "HEAD" && methods.contains(&"GET") {
                continue;
            }
            assert!(!served.contains(&(path.to_string(), method.to_string())));
            let status = send(&p.app, p.request(path, method)).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
    }
    let status = send(&p.app, p.request("/api/v1/nothing", "GET")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
