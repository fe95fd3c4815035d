//! The sync status against the real registry on loopback: before any contact, while the
//! registry is down, once it is up, and after a restart of the session.

use ghidanh_bundle::testkit::young_child;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ghidanh_kit::{
    sync_problem_message, EnrollmentInput, KdfParams, Kit, KitConfig, Lang, SyncProblem, SyncStatus,
};
use ghidanh_registry::{app, init, provision_device, Registry};
use ghidanh_sync::{Backoff, SyncConfig};

fn config(dir: &std::path::Path, provisioning: std::path::PathBuf) -> KitConfig {
    KitConfig {
        data_dir: dir.join("kit"),
        provisioning_file: Some(provisioning),
        kdf: KdfParams::insecure_fast_for_tests(),
        sync: SyncConfig {
            backoff: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(300),
            },
            request_timeout: Duration::from_secs(5),
            idle_poll: Duration::from_millis(300),
            budget: ghidanh_sync::Budget::UNLIMITED,
        },
        idle_lock: Duration::ZERO,
        devices: Default::default(),
    }
}

// A child under 6: no biometrics are taken, so the kit seals without a capture (this test
// is about sync, not capture).
fn person(personal_id: &str) -> EnrollmentInput {
    young_child("Hoàng Thị Lan", personal_id[6..].parse().unwrap())
}

fn wait_status(kit: &Kit, what: &str, ok: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
    let start = Instant::now();
    loop {
        let s = kit.sync_status().unwrap();
        if ok(&s) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}: {s:?}"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn status_before_contact_while_the_registry_is_down_and_once_it_is_up() {
    let root = tempfile::tempdir().unwrap();
    let registry_dir = root.path().join("registry");
    // A free port on loopback, closed again: the registry is "down" until it listens there.
    let addr: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    init(&registry_dir).unwrap();
    let (_, prov) = provision_device(&registry_dir, &format!("http://{addr}"), "Đội 3").unwrap();
    let prov_path = root.path().join("device.gdprov");
    std::fs::write(&prov_path, prov).unwrap();

    let kit = Kit::new(config(root.path(), prov_path)).unwrap();
    assert_eq!(kit.sync_status().unwrap_err().code(), "locked");
    kit.create_operator("Trần Văn Cảnh", "mật khẩu 123", "mật khẩu 123")
        .unwrap();

    // Before any contact: nothing delivered, nothing waits, no last contact.
    let s = kit.sync_status().unwrap();
    assert_eq!(s.last_contact_ms, None);
    assert_eq!(
        (s.waiting, s.delivered, s.rejected, s.custody),
        (0, 0, 0, 0)
    );
    assert!(!s.uploading);

    // Two records sealed while the registry is down: both wait, the attempt failed.
    let mut ids = Vec::new();
    for pid in ["036187004512", "036187004513"] {
        let (id, errors) = kit.save_draft(None, &person(pid)).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        kit.finalise(id).unwrap();
        ids.push(id);
    }
    let before_down = now_ms();
    let down = wait_status(&kit, "an unreachable registry", |s| {
        s.last_error == Some(SyncProblem::Unreachable)
            && s.waiting == 2
            && s.last_attempt_ms.is_some_and(|t| t >= before_down)
    });
    assert_eq!(down.last_contact_ms, None);
    assert_eq!(down.delivered, 0);
    let retry = down.next_retry_ms.expect("a retry is planned");
    assert!(retry >= before_down, "{down:?}");
    assert!(sync_problem_message(SyncProblem::Unreachable, Lang::Vi)
        .starts_with("Không kết nối được máy chủ"));

    // The registry comes up on the provisioned address: both are delivered.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let registry = Arc::new(Registry::open(&registry_dir).unwrap());
    let listener = rt.block_on(tokio::net::TcpListener::bind(addr)).unwrap();
    rt.spawn(async move { axum::serve(listener, app(registry)).await.unwrap() });
    let up_at = now_ms();
    // The counts come from the vault and move first; the worker clears its error and retry
    // time when its pass ends: wait for the whole settled picture, not just the counts.
    let up = wait_status(&kit, "both delivered, the pass over", |s| {
        s.delivered == 2 && s.last_error.is_none() && !s.uploading && s.next_retry_ms.is_none()
    });
    assert_eq!(up.waiting, 0, "{up:?}");
    assert_eq!(up.last_error, None, "{up:?}");
    assert!(!up.uploading);
    assert_eq!(up.next_retry_ms, None, "nothing waits: {up:?}");
    let contact = up.last_contact_ms.expect("a last contact");
    assert!(contact >= up_at && contact <= now_ms(), "{up:?}");
    for id in &ids {
        assert!(kit.enrollment(*id).unwrap().receipt_id.is_some());
    }

    // The last contact survives the end of the session (it is kept in the vault); the new
    // session has tried nothing yet. Retention purges the two at sign-in: still delivered.
    kit.lock().unwrap();
    kit.unlock("mật khẩu 123").unwrap();
    let again = kit.sync_status().unwrap();
    assert_eq!(again.last_contact_ms, Some(contact), "{again:?}");
    assert_eq!((again.waiting, again.delivered), (0, 2), "{again:?}");
    assert_eq!(again.last_error, None);
    rt.shutdown_background();
}
