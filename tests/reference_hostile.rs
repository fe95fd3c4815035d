//! Reference updates from a hostile server are refused and the lists in use stay: the kit's
//! real sync worker against a fake registry on loopback that answers registration and serves
//! a tampered update, one signed by another key, one offered as another list and one not
//! newer, beside one genuine update (of religions), whose installation shows the answer was
//! processed. Needs `cargo build -p ghidanh-cli` first (for the registry's keys and the
//! provisioning file).
//!
//! A test binary of its own: installing swaps this process's reference tables.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use base64::Engine as _;
use ghidanh_bundle::{ReferenceUpdate, RegistryKeys};
use ghidanh_kit::{KdfParams, Kit, KitConfig};
use ghidanh_record::reference::{self, List};
use ghidanh_record::{AddressInput, EnrollmentInput};
use ghidanh_sync::reference::stored_setting;
use ghidanh_sync::{Backoff, SyncConfig};
use ghidanh_tests::RegistryData;

const COMMUNES: &str = include_str!("../schema/reference/communes.tsv");
const RELIGIONS: &str = include_str!("../schema/reference/religions.tsv");
const NEW: &str = "vietnam-provinces-2026.1.0";
const PASSPHRASE: &str = "mật khẩu 123";

/// `text` as release `version`, with `edit` applied to its rows.
fn release(text: &str, version: &str, edit: impl Fn(&str) -> String) -> String {
    text.lines()
        .map(|line| {
            if line.starts_with("# version:") {
                format!("# version: {version}\n")
            } else if line.starts_with('#') {
                format!("{line}\n")
            } else {
                format!("{}\n", edit(line))
            }
        })
        .collect()
}

fn split(line: &str) -> String {
    if line.starts_with("00004\t") {
        "99001\tBa Đình Mới\tphường\t001".to_owned()
    } else {
        line.to_owned()
    }
}

fn signed(keys: &RegistryKeys, list: List, version: &str, tsv: String) -> Result<Vec<u8>> {
    Ok(ReferenceUpdate {
        list,
        version: version.into(),
        issued_at: 1_790_000_000,
        tsv,
    }
    .sign(keys)?)
}

fn entry(list: &str, version: &str, bytes: &[u8]) -> serde_json::Value {
    serde_json::json!({
        "list": list,
        "version": version,
        "update": base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

/// The registry's current key, from its key file (the last line).
fn registry_keys(data: &RegistryData) -> Result<RegistryKeys> {
    let text = std::fs::read_to_string(data.dir.join("registry.key"))?;
    let line = text.lines().last().context("empty key file")?.trim();
    let mut secret = [0u8; 64];
    for (i, b) in secret.iter_mut().enumerate() {
        *b = u8::from_str_radix(line.get(2 * i..2 * i + 2).context("short key")?, 16)?;
    }
    Ok(RegistryKeys::from_secret_bytes(&secret)?)
}

/// Serves `answer` at `GET /api/v1/reference` and accepts every registration, on `listener`,
/// in a thread with its own runtime; counts the reference requests.
fn hostile_registry(
    listener: std::net::TcpListener,
    answer: serde_json::Value,
    asked: Arc<AtomicUsize>,
) {
    use axum::routing::{get, post};
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Runtime::new() else {
            return;
        };
        rt.block_on(async move {
            let app = axum::Router::new()
                .route(
                    "/api/v1/devices/register",
                    post(|| async {
                        axum::Json(serde_json::json!({"status": "registered", "deviceId": "x"}))
                    }),
                )
                .route(
                    "/api/v1/reference",
                    get(move || {
                        asked.fetch_add(1, Ordering::SeqCst);
                        let answer = answer.clone();
                        async move { axum::Json(answer) }
                    }),
                );
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let _ = axum::serve(listener, app).await;
        });
    });
}

#[test]
fn tampered_foreign_mislabelled_and_old_updates_are_refused_and_the_old_list_stays() -> Result<()> {
    let root = tempfile::tempdir()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let data = RegistryData::create(root.path(), &url)?;
    let keys = registry_keys(&data)?;
    let embedded_communes = reference::versions()
        .get("communes")
        .context("no version")?;

    let split_new = release(COMMUNES, NEW, split);
    let mut tampered = signed(&keys, List::Communes, NEW, split_new.clone())?;
    if let Some(b) = tampered.iter().rposition(|b| *b == b'9') {
        tampered[b] = b'8';
    }
    let foreign = signed(
        &RegistryKeys::generate(),
        List::Communes,
        NEW,
        split_new.clone(),
    )?;
    let genuine = signed(&keys, List::Communes, NEW, split_new)?;
    let old = signed(
        &keys,
        List::Communes,
        embedded_communes,
        release(COMMUNES, embedded_communes, split),
    )?;
    let religions = signed(
        &keys,
        List::Religions,
        "ghidanh-ref-2",
        release(RELIGIONS, "ghidanh-ref-2", str::to_owned) + "90\tĐạo thử nghiệm\n",
    )?;
    let answer = serde_json::json!({ "updates": [
        entry("communes", NEW, &tampered),
        entry("communes", NEW, &foreign),
        entry("provinces", NEW, &genuine),
        entry("communes", embedded_communes, &old),
        entry("religions", "ghidanh-ref-2", &religions),
    ]});
    let asked = Arc::new(AtomicUsize::new(0));
    hostile_registry(listener, answer, asked.clone());

    let config = KitConfig {
        data_dir: root.path().join("kit"),
        provisioning_file: Some(data.provisioning.clone()),
        kdf: KdfParams::insecure_fast_for_tests(),
        sync: SyncConfig {
            backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_millis(400),
            },
            request_timeout: Duration::from_secs(5),
            idle_poll: Duration::from_millis(300),
            budget: ghidanh_sync::Budget::UNLIMITED,
        },
        idle_lock: Duration::ZERO,
        devices: Default::default(),
    };
    let vault_dir = config.data_dir.clone();
    let kit = Kit::new(config)?;
    kit.create_operator("Trần Văn Cảnh", PASSPHRASE, PASSPHRASE)?;
    let start = Instant::now();
    while reference::versions().get("religions") != Some("ghidanh-ref-2") {
        if start.elapsed() > Duration::from_secs(20) {
            bail!(
                "the genuine update was not installed ({} requests)",
                asked.load(Ordering::SeqCst)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ensure!(reference::religion("90").map(|r| r.name) == Some("Đạo thử nghiệm"));

    // Every communes update was refused: the old list stays, in lookups and validation.
    ensure!(reference::versions().get("communes") == Some(embedded_communes));
    ensure!(reference::commune("99001").is_none());
    ensure!(reference::commune("00004").is_some());
    let record = EnrollmentInput {
        birth_name: "Hoàng Thị Lan".into(),
        date_of_birth: "1987-09-02".into(),
        sex: "female".into(),
        personal_id: "036187004512".into(),
        permanent_residence: AddressInput {
            province: "001".into(),
            commune: "99001".into(),
            street: "Số 2 Phan Đình Phùng".into(),
        },
        ..Default::default()
    };
    ensure!(!kit.validate(&record).is_empty());

    // Only the genuine update is kept in the vault; the worker asked once (hourly).
    kit.lock()?;
    let (vault, _) = ghidanh_vault::Vault::unlock(&vault_dir, PASSPHRASE)?;
    ensure!(vault.setting(&stored_setting(List::Communes))?.is_none());
    ensure!(vault.setting(&stored_setting(List::Provinces))?.is_none());
    ensure!(vault.setting(&stored_setting(List::Religions))?.is_some());
    ensure!(asked.load(Ordering::SeqCst) == 1, "asked {asked:?} times");
    Ok(())
}
