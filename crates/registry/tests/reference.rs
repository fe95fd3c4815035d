//! Publishing reference updates and serving them at `GET /api/v1/reference`; the registry
//! validates records with what it publishes. One test: installing swaps this process's
//! reference tables, which parallel tests would see half-way.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use ghidanh_bundle::{
    seal, DeviceKey, DeviceRegistration, Provisioning, ReferenceUpdate, RegistryPublicKeys, Verdict,
};
use ghidanh_record::reference::{self, List, ReferenceError};
use ghidanh_record::{AddressInput, EnrollmentInput};
use ghidanh_registry::{
    app, init, provision_device, publish_reference, rotate_key, Publication, Registry,
    RegistryError,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

const COMMUNES: &str = include_str!("../../../schema/reference/communes.tsv");
const NEW: &str = "vietnam-provinces-2026.1.0";

/// The embedded communes under `version`, Ba Đình (00004) split off as Ba Đình Mới (99001)
/// and, with `extra`, one more commune in Hà Nội.
fn communes(version: &str, extra: bool) -> String {
    let mut out = String::new();
    for line in COMMUNES.lines() {
        if line.starts_with("# version:") {
            out.push_str(&format!("# version: {version}\n"));
        } else if line.starts_with("00004\t") {
            out.push_str("99001\tBa Đình Mới\tphường\t001\n");
            if extra {
                out.push_str("99002\tTây Hồ Mới\tphường\t001\n");
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn publication(version: &str, tsv: String) -> Publication {
    Publication {
        list: List::Communes,
        version: version.into(),
        tsv,
    }
}

/// `GET uri`: status and JSON body.
async fn get(app: &axum::Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// The updates of an answer, each verified with `key`.
fn verified(body: &serde_json::Value, key: &RegistryPublicKeys) -> Vec<ReferenceUpdate> {
    body["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(e["update"].as_str().unwrap())
                .unwrap();
            let u = ReferenceUpdate::verify(&bytes, key).unwrap();
            assert_eq!(e["list"], u.list.name());
            assert_eq!(e["version"], u.version.as_str());
            u
        })
        .collect()
}

#[tokio::test]
async fn published_updates_are_refused_unless_newer_and_valid_served_signed_and_used_for_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let first_key = init(dir.path()).unwrap();
    let (_, prov) = provision_device(dir.path(), "http://127.0.0.1:1", "Đội 3").unwrap();
    let prov = Provisioning::parse(&prov).unwrap();
    let embedded = reference::versions().get("communes").unwrap().to_owned();

    // Refusals store nothing: not newer, a bad line, a version line that differs, a set whose
    // province counts no longer hold, a version of the wrong shape.
    let refusals = [
        publication(&embedded, communes(&embedded, false)),
        publication(
            "vietnam-provinces-2024.1.0",
            communes("vietnam-provinces-2024.1.0", false),
        ),
        publication(
            NEW,
            communes(NEW, false).replacen("\tphường\t", "\tquận\t", 1),
        ),
        publication(NEW, communes("vietnam-provinces-2026.9.9", false)),
        publication(NEW, communes(NEW, true)),
        publication("2026 1", communes("2026 1", false)),
    ];
    let mut codes = Vec::new();
    for p in refusals {
        codes.push(match publish_reference(dir.path(), &[p]) {
            Err(RegistryError::NotNewer { .. }) => "not_newer",
            Err(RegistryError::Reference(ReferenceError::Line { .. })) => "line",
            Err(RegistryError::Reference(ReferenceError::VersionMismatch { .. })) => "version",
            Err(RegistryError::Reference(ReferenceError::CommuneCount { .. })) => "count",
            Err(RegistryError::BadPublication { .. }) => "shape",
            other => panic!("{other:?}"),
        });
    }
    assert_eq!(
        codes,
        [
            "not_newer",
            "not_newer",
            "line",
            "version",
            "count",
            "shape"
        ]
    );
    assert!(!dir.path().join("reference/communes.gdref").exists());

    // A running registry serves nothing yet, and refuses a record in the coming commune.
    let registry = Arc::new(Registry::open(dir.path()).unwrap());
    let device = DeviceKey::generate();
    registry
        .register_device(&DeviceRegistration::sign(
            prov.device_id,
            &prov.token,
            &device,
        ))
        .unwrap();
    let bundle = |personal_id: &str| {
        let mut p = ghidanh_bundle::testkit::sample_payload(prov.device_id);
        p.record = EnrollmentInput {
            birth_name: "Lê Thị Hoa".into(),
            date_of_birth: "2005-03-01".into(),
            sex: "female".into(),
            personal_id: personal_id.into(),
            permanent_residence: AddressInput {
                province: "001".into(),
                commune: "99001".into(),
                street: "Số 2 Phan Đình Phùng".into(),
            },
            ..Default::default()
        };
        seal(&p, &device, &prov.registry, 1_790_000_100).unwrap()
    };
    let verdict = registry
        .ingest(&bundle("079305000001"))
        .unwrap()
        .receipt
        .verdict;
    assert!(matches!(verdict, Verdict::Rejected(_)), "{verdict:?}");
    let api = app(registry.clone());
    let (status, body) = get(&api, "/api/v1/reference").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!({ "updates": [] }));

    // Published while it runs: the next GET installs and serves it, and ingest then accepts.
    let published =
        publish_reference(dir.path(), &[publication(NEW, communes(NEW, false))]).unwrap();
    assert_eq!(published.len(), 1);
    let have_old = format!("/api/v1/reference?have=communes:{embedded},religions:ghidanh-ref-1");
    let (status, body) = get(&api, &have_old).await;
    assert_eq!(status, StatusCode::OK);
    let updates = verified(&body, &first_key);
    assert_eq!(updates.len(), 1);
    assert_eq!(
        (updates[0].list, updates[0].version.as_str()),
        (List::Communes, NEW)
    );
    assert_eq!(updates[0].tsv, communes(NEW, false));
    assert_eq!(reference::versions().get("communes"), Some(NEW));
    let verdict = registry
        .ingest(&bundle("079305000002"))
        .unwrap()
        .receipt
        .verdict;
    assert_eq!(verdict, Verdict::Accepted);

    // Nothing newer than what the kit has; unknown lists in `have` are ignored; a malformed
    // `have` is a 400.
    let (_, body) = get(
        &api,
        &format!("/api/v1/reference?have=communes:{NEW},towns:1"),
    )
    .await;
    assert_eq!(body["updates"].as_array().unwrap().len(), 0);
    let (status, _) = get(&api, "/api/v1/reference?have=communes").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The same version again is not newer.
    assert!(matches!(
        publish_reference(dir.path(), &[publication(NEW, communes(NEW, false))]),
        Err(RegistryError::NotNewer { .. })
    ));

    // After a rotation: a kit naming its (older) key gets updates signed with it; others get
    // the current key's signature.
    drop(api);
    drop(registry);
    let second_key = rotate_key(dir.path()).unwrap();
    let registry = Arc::new(Registry::open(dir.path()).unwrap());
    let api = app(registry);
    let (_, body) = get(
        &api,
        &format!("/api/v1/reference?key_id={}", first_key.key_id()),
    )
    .await;
    assert_eq!(verified(&body, &first_key).len(), 1);
    let (_, body) = get(&api, "/api/v1/reference").await;
    assert_eq!(verified(&body, &second_key).len(), 1);
}
