//! The sync budget and the link probe, with the real registry in-process on loopback: a kit
//! allowed two upload attempts per window sends two bundles and keeps the third, says until
//! when, and still keeps it after a restart (what was spent is in the vault); a kit whose
//! registry is down makes one real attempt, then only small probes, so the bundle's attempt
//! count (its backoff) does not grow while the link is dead, and it is sent once the
//! registry is back.

use ghidanh_bundle::testkit::young_child;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ghidanh_kit::{EnrollmentId, EnrollmentInput, EnrollmentState as S, KdfParams, Kit, KitConfig};
use ghidanh_registry::{app, init, provision_device, Registry};
use ghidanh_sync::{Backoff, Budget, SyncConfig};

const PASS: &str = "mật khẩu 123";

fn config(dir: &Path, provisioning: PathBuf, budget: Budget) -> KitConfig {
    KitConfig {
        data_dir: dir.join("kit"),
        provisioning_file: Some(provisioning),
        kdf: KdfParams::insecure_fast_for_tests(),
        sync: SyncConfig {
            backoff: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(200),
            },
            request_timeout: Duration::from_secs(5),
            idle_poll: Duration::from_millis(100),
            budget,
        },
        idle_lock: Duration::ZERO,
        devices: Default::default(),
    }
}

// A child under 6: no biometrics are taken, so the kit seals without a capture (this test
// is about sync, not capture).
fn person(serial: u32) -> EnrollmentInput {
    young_child("Nguyễn Thị Hoa", 4500 + serial)
}

/// A registry data folder with one provisioned device for `url`; its provisioning file.
fn registry(root: &Path, url: &str) -> (PathBuf, PathBuf) {
    let dir = root.join("registry");
    init(&dir).unwrap();
    let (_, prov) = provision_device(&dir, url, "Đội 3").unwrap();
    let path = root.join("device.gdprov");
    std::fs::write(&path, prov).unwrap();
    (dir, path)
}

fn serve(rt: &tokio::runtime::Runtime, dir: &Path, listener: std::net::TcpListener) {
    let registry = Arc::new(Registry::open(dir).unwrap());
    listener.set_nonblocking(true).unwrap();
    rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app(registry)).await.unwrap()
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: not after 20 s"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn states(kit: &Kit, ids: &[EnrollmentId]) -> Vec<S> {
    ids.iter()
        .map(|id| kit.enrollment(*id).unwrap().state)
        .collect()
}

#[test]
fn two_attempts_per_window_send_two_bundles_and_keep_the_third_across_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (registry_dir, prov) = registry(root.path(), &format!("http://{addr}"));
    let rt = runtime();
    serve(&rt, &registry_dir, listener);
    let budget = Budget {
        window: Duration::from_secs(3600),
        max_bytes: None,
        max_attempts: Some(2),
    };

    let kit = Kit::new(config(root.path(), prov.clone(), budget)).unwrap();
    kit.create_operator("Trần Văn Cảnh", PASS, PASS).unwrap();
    kit.set_retention_days("30").unwrap();
    let mut ids = Vec::new();
    for serial in 0..3 {
        let (id, errors) = kit.save_draft(None, &person(serial)).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        kit.finalise(id).unwrap();
        ids.push(id);
    }
    wait_for("budget spent", || {
        kit.sync_status().unwrap().budget_until_ms.is_some()
    });
    std::thread::sleep(Duration::from_millis(500));
    let got = states(&kit, &ids);
    assert_eq!(
        got.iter().filter(|s| **s == S::Accepted).count(),
        2,
        "{got:?}"
    );
    assert_eq!(
        got.iter().filter(|s| **s == S::Sealed).count(),
        1,
        "{got:?}"
    );
    let status = kit.sync_status().unwrap();
    let until = status.budget_until_ms.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        until > now + 3_500_000 && until <= now + 3_600_000,
        "until {until}, now {now}"
    );
    assert_eq!(status.waiting, 1);

    // Closed and opened again: the spent budget is remembered; nothing more goes.
    kit.lock().unwrap();
    drop(kit);
    let kit = Kit::new(config(root.path(), prov.clone(), budget)).unwrap();
    kit.unlock(PASS).unwrap();
    wait_for("budget spent after the restart", || {
        kit.sync_status().unwrap().budget_until_ms.is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        states(&kit, &ids)
            .iter()
            .filter(|s| **s == S::Accepted)
            .count(),
        2
    );
    kit.lock().unwrap();
    drop(kit);

    // Without the limit the third goes at once.
    let kit = Kit::new(config(root.path(), prov, Budget::UNLIMITED)).unwrap();
    kit.unlock(PASS).unwrap();
    wait_for("the third accepted", || {
        states(&kit, &ids).iter().all(|s| *s == S::Accepted)
    });
    assert_eq!(kit.sync_status().unwrap().budget_until_ms, None);
}

#[test]
fn a_dead_link_costs_probes_not_upload_attempts_and_the_bundle_goes_when_it_is_back() {
    let root = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (registry_dir, prov) = registry(root.path(), &format!("http://{addr}"));
    let rt = runtime();
    serve(&rt, &registry_dir, listener);

    // Registered and one bundle delivered while the registry is up.
    let kit = Kit::new(config(root.path(), prov.clone(), Budget::UNLIMITED)).unwrap();
    kit.create_operator("Trần Văn Cảnh", PASS, PASS).unwrap();
    let (first, _) = kit.save_draft(None, &person(0)).unwrap();
    kit.finalise(first).unwrap();
    wait_for("the first accepted", || {
        kit.enrollment(first).unwrap().state == S::Accepted
    });

    // The registry goes away (its runtime and listener with it).
    rt.shutdown_timeout(Duration::from_secs(2));
    let (second, _) = kit.save_draft(None, &person(1)).unwrap();
    kit.finalise(second).unwrap();
    wait_for("offline", || kit.sync_status().unwrap().offline);
    // Many passes (backoff 50–200 ms) while the link is dead.
    std::thread::sleep(Duration::from_millis(1500));
    let status = kit.sync_status().unwrap();
    assert!(status.offline && status.waiting == 1, "{status:?}");
    kit.lock().unwrap();
    drop(kit);

    // One upload was tried (the one that found the link dead); after it only probes, so
    // the bundle's backoff did not climb while nothing could get through.
    let (vault, _) = ghidanh_vault::Vault::unlock(&root.path().join("kit"), PASS).unwrap();
    let due = vault.due_uploads(i64::MAX).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempts, 1, "uploads were attempted on a dead link");
    vault.lock().unwrap();

    let rt = runtime();
    let listener = std::net::TcpListener::bind(addr).unwrap();
    serve(&rt, &registry_dir, listener);
    let kit = Kit::new(config(root.path(), prov, Budget::UNLIMITED)).unwrap();
    kit.unlock(PASS).unwrap();
    wait_for("accepted once the registry is back", || {
        kit.enrollment(second).unwrap().state == S::Accepted
    });
    assert!(!kit.sync_status().unwrap().offline);
}

#[test]
fn the_daily_allowance_is_a_setting_checked_by_the_core_and_kept_in_the_vault() {
    let root = tempfile::tempdir().unwrap();
    let (_, prov) = registry(root.path(), "http://127.0.0.1:1");
    let kit = Kit::new(config(root.path(), prov, Budget::UNLIMITED)).unwrap();
    kit.create_operator("Trần Văn Cảnh", PASS, PASS).unwrap();
    assert_eq!(kit.daily_allowance_mb().unwrap(), 0);
    match kit.set_daily_allowance_mb("50MB") {
        Err(ghidanh_kit::KitError::InvalidSetting(rules)) => {
            assert_eq!(
                rules,
                vec![ghidanh_kit::SettingRule::AllowanceNotWholeMegabytes]
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(kit.daily_allowance_mb().unwrap(), 0);
    assert_eq!(kit.set_daily_allowance_mb(" 50 ").unwrap(), 50);
    assert_eq!(kit.daily_allowance_mb().unwrap(), 50);
    assert_eq!(kit.set_daily_allowance_mb("").unwrap(), 0);
    kit.lock().unwrap();
    drop(kit);
    let (vault, _) = ghidanh_vault::Vault::unlock(&root.path().join("kit"), PASS).unwrap();
    assert_eq!(
        vault
            .setting(ghidanh_sync::DAILY_ALLOWANCE_SETTING)
            .unwrap()
            .as_deref(),
        Some("0")
    );
    vault.audit_verify().unwrap();
}
