//! Reference data down-sync across processes: the real `ghidanh` registry publishes a communes
//! update with a new commune (`ghidanh registry publish-reference`, while it serves), a real
//! kit's sync worker fetches, verifies and installs it, a record in the new commune then
//! validates, its sealed bundle names the new version, and the registry accepts it (it
//! validates with what it publishes). Needs `cargo build -p ghidanh-cli` first.
//!
//! A test binary of its own: installing swaps this process's reference tables.

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ghidanh_kit::{EnrollmentId, EnrollmentState, Kit};
use ghidanh_record::reference;
use ghidanh_record::{AddressInput, EnrollmentInput};
use ghidanh_tests::kit::kit_config;
use ghidanh_tests::process::free_ports;
use ghidanh_tests::{RegistryData, RegistryProcess};

const COMMUNES: &str = include_str!("../schema/reference/communes.tsv");
const NEW: &str = "vietnam-provinces-2026.1.0";
const PASSPHRASE: &str = "mật khẩu 123";

/// The embedded communes as release NEW: Ba Đình (00004) split off as Ba Đình Mới (99001).
fn split_communes() -> String {
    COMMUNES
        .lines()
        .map(|line| {
            if line.starts_with("# version:") {
                format!("# version: {NEW}\n")
            } else if line.starts_with("00004\t") {
                "99001\tBa Đình Mới\tphường\t001\n".to_owned()
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

// A child under 6: no biometrics are taken, so the kit seals without a capture (this test is
// about reference data, not capture).
fn living_in_the_new_commune() -> EnrollmentInput {
    EnrollmentInput {
        permanent_residence: AddressInput {
            province: "001".into(),
            commune: "99001".into(),
            street: "Số 2 Phan Đình Phùng".into(),
        },
        ..ghidanh_bundle::testkit::young_child("Hoàng Thị Lan", 4512)
    }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    while !done()? {
        if start.elapsed() > timeout {
            bail!("{what}: not within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn state(kit: &Kit, id: EnrollmentId) -> Result<EnrollmentState> {
    Ok(kit.enrollment(id)?.state)
}

#[test]
fn a_published_commune_reaches_the_kit_validates_and_is_named_in_the_sealed_bundle() -> Result<()> {
    let root = tempfile::tempdir()?;
    let [port] = free_ports::<1>()?;
    let listen = format!("127.0.0.1:{port}");
    let data = RegistryData::create(root.path(), &format!("http://{listen}"))?;
    let _registry = RegistryProcess::start(&data, &listen)?;
    let embedded = reference::versions()
        .get("communes")
        .context("no communes version")?;

    // Published while the registry runs.
    let file = root.path().join("communes.tsv");
    std::fs::write(&file, split_communes())?;
    let out = ghidanh_tests::ghidanh(&[
        "registry",
        "publish-reference",
        "--data",
        data.dir.to_str().context("non-UTF-8 path")?,
        "--list",
        "communes",
        "--file",
        file.to_str().context("non-UTF-8 path")?,
        "--version",
        NEW,
    ])?;
    ensure!(
        out.starts_with(&format!("published communes {NEW}")),
        "{out}"
    );

    // Before the kit syncs, the commune does not exist for it.
    let config = kit_config(root.path(), data.provisioning.clone());
    let vault_dir = config.data_dir.clone();
    let kit = Kit::new(config)?;
    ensure!(!kit.validate(&living_in_the_new_commune()).is_empty());
    kit.create_operator("Trần Văn Cảnh", PASSPHRASE, PASSPHRASE)?;
    wait_until(
        "the kit installs the update",
        Duration::from_secs(20),
        || Ok(reference::versions().get("communes") == Some(NEW)),
    )?;
    ensure!(reference::commune("99001").map(|c| c.name) == Some("Ba Đình Mới"));
    ensure!(
        reference::versions()
            .get("provinces")
            .is_some_and(|v| v != NEW),
        "only communes changed"
    );

    // Validates now, is sealed naming the new version, and the registry accepts it.
    let errors = kit.validate(&living_in_the_new_commune());
    ensure!(errors.is_empty(), "{errors:?}");
    let (id, _) = kit.save_draft(None, &living_in_the_new_commune())?;
    let sealed = kit.finalise(id)?;
    let bundle_id = sealed.bundle_id.context("finalised without a bundle id")?;
    wait_until("the registry accepts it", Duration::from_secs(20), || {
        Ok(state(&kit, id)? == EnrollmentState::Accepted)
    })?;
    ensure!(data.accepted_bundles()?.len() == 1);

    // The kit keeps the update in its vault (verified again and installed at unlock).
    kit.lock()?;
    let (vault, _) = ghidanh_vault::Vault::unlock(&vault_dir, PASSPHRASE)?;
    let kept = vault.setting(&ghidanh_sync::reference::stored_setting(
        reference::List::Communes,
    ))?;
    ensure!(
        kept.is_some_and(|k| !k.is_empty()),
        "update not kept in the vault"
    );
    ensure!(ghidanh_sync::reference::install_stored(&vault)? == 1);
    let bytes = vault
        .sealed_bundle(bundle_id)?
        .context("bundle not in the outbox")?;
    drop(vault);
    let bundle_file = root.path().join("sealed.gdbundle");
    std::fs::write(&bundle_file, bytes)?;
    let opened = ghidanh_tests::ghidanh(&[
        "bundle",
        "open",
        bundle_file.to_str().context("non-UTF-8 path")?,
        "--key",
        data.dir
            .join("registry.key")
            .to_str()
            .context("non-UTF-8 path")?,
        "--json",
    ])?;
    let opened: serde_json::Value = serde_json::from_str(&opened)?;
    ensure!(
        opened["referenceVersions"]["communes"] == NEW,
        "the bundle names {} (embedded {embedded})",
        opened["referenceVersions"]
    );
    ensure!(opened["record"]["permanentResidence"]["commune"] == "99001");
    Ok(())
}
