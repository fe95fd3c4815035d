//! Kit ↔ registry across processes: the real `ghidanh registry serve` on loopback and the
//! kit's own sync worker. Needs `cargo build -p ghidanh-cli` first.

#![forbid(unsafe_code)]

use ghidanh_bundle::testkit::young_child;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ghidanh_bundle::{Envelope, Provisioning, Verdict};
use ghidanh_kit::{EnrollmentInput, EnrollmentState, Kit};
use ghidanh_sync::Client;
use ghidanh_tests::kit::{kit_config, wait_for_state};
use ghidanh_tests::process::free_ports;
use ghidanh_tests::{RegistryData, RegistryProcess};

// A child under 6: no biometrics are taken, so the kit seals without a capture (this test
// is about sync, not capture).
fn person() -> EnrollmentInput {
    young_child("Hoàng Thị Lan", 4512)
}

#[test]
fn a_bundle_waits_while_the_registry_is_down_and_arrives_once_when_it_is_up() -> Result<()> {
    let root = tempfile::tempdir()?;
    let [port] = free_ports::<1>()?;
    let listen = format!("127.0.0.1:{port}");
    let data = RegistryData::create(root.path(), &format!("http://{listen}"))?;

    let kit = Kit::new(kit_config(root.path(), data.provisioning.clone()))?;
    kit.create_operator("Trần Văn Cảnh", "mật khẩu 123", "mật khẩu 123")?;
    let (id, errors) = kit.save_draft(None, &person())?;
    ensure!(errors.is_empty(), "{errors:?}");
    kit.finalise(id)?;

    // Registry down: several attempts fail, the bundle stays sealed, no receipt.
    std::thread::sleep(Duration::from_millis(1500));
    let s = kit.enrollment(id)?;
    ensure!(
        matches!(
            s.state,
            EnrollmentState::Sealed | EnrollmentState::Uploading
        ),
        "state while down: {:?}",
        s.state
    );
    ensure!(s.receipt_id.is_none());

    // Registry up on the provisioned address: delivered without anyone doing anything.
    let registry = RegistryProcess::start(&data, &listen)?;
    let accepted = wait_for_state(&kit, id, EnrollmentState::Accepted, Duration::from_secs(20))?;
    let receipt_id = accepted
        .receipt_id
        .context("accepted without a receipt id")?;

    let stored = data.accepted_bundles()?;
    ensure!(stored.len() == 1, "registry holds {} bundles", stored.len());
    ensure!(
        stored[0]["receiptId"] == receipt_id.as_str(),
        "kit shows {receipt_id}, registry stored {}",
        stored[0]["receiptId"]
    );
    ensure!(
        stored[0]["bundleId"]
            == accepted
                .bundle_id
                .context("no bundle id")?
                .to_string()
                .as_str()
    );

    // Restart the registry: the kit sends nothing new, the registry still holds one bundle.
    drop(registry);
    let _registry = RegistryProcess::start(&data, &listen)?;
    std::thread::sleep(Duration::from_millis(1000));
    ensure!(data.accepted_bundles()?.len() == 1);
    ensure!(kit.enrollment(id)?.receipt_id.as_deref() == Some(receipt_id.as_str()));

    // Retention (default 0 days): at the next sign-in the person's data is gone from the kit;
    // the receipt stays as proof of delivery.
    kit.lock()?;
    kit.unlock("mật khẩu 123")?;
    let purged = kit.enrollment(id)?;
    ensure!(
        purged.state == EnrollmentState::Purged,
        "{:?}",
        purged.state
    );
    ensure!(purged.receipt_id.as_deref() == Some(receipt_id.as_str()));
    ensure!(purged.input.birth_name.is_empty() && purged.input.personal_id.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_delivered_bytes_gets_the_first_receipt_back_or_a_duplicate_naming_it(
) -> Result<()> {
    let root = tempfile::tempdir()?;
    let [port] = free_ports::<1>()?;
    let listen = format!("127.0.0.1:{port}");
    let data = RegistryData::create(root.path(), &format!("http://{listen}"))?;
    let _registry = RegistryProcess::start(&data, &listen)?;

    // Enroll through the kit and let its worker deliver.
    let config = kit_config(root.path(), data.provisioning.clone());
    let vault_dir = config.data_dir.clone();
    let (id, first_receipt) = tokio::task::spawn_blocking(move || -> Result<_> {
        let kit = Kit::new(config)?;
        kit.create_operator("Trần Văn Cảnh", "mật khẩu 123", "mật khẩu 123")?;
        let (id, _) = kit.save_draft(None, &person())?;
        kit.finalise(id)?;
        let s = wait_for_state(&kit, id, EnrollmentState::Accepted, Duration::from_secs(20))?;
        Ok((id, s.receipt_id.context("no receipt id")?))
    })
    .await??;

    // Send the very bytes from the kit's outbox again, as a kit would after a lost answer.
    let (vault, _) = ghidanh_vault::Vault::unlock(&vault_dir, "mật khẩu 123")?;
    let bundle_id = vault.enrollment(id)?.bundle_id.context("no bundle id")?;
    drop(vault);
    let bytes = outbox_bytes(&vault_dir, bundle_id)?;
    let prov = Provisioning::parse(&std::fs::read(&data.provisioning)?)?;
    let client = Client::new(
        &prov.registry_url,
        prov.registry.clone(),
        Duration::from_secs(5),
    )?;
    // Through a resumable upload the registry finds the completed upload and hands back its
    // receipt: the same acceptance, not a second one.
    let (receipt, _) = client.upload(&bytes).await?;
    ensure!(
        receipt.verdict == Verdict::Accepted && receipt.receipt_id.to_string() == first_receipt,
        "resumable resend gave {:?} {}",
        receipt.verdict,
        receipt.receipt_id
    );
    ensure!(data.accepted_bundles()?.len() == 1);

    // The single POST of the same bytes goes through the decision again: a signed duplicate
    // naming the first receipt.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/bundles", prov.registry_url))
        .header("content-type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await?;
    ensure!(resp.status() == 200, "POST gave {}", resp.status());
    let receipt = ghidanh_bundle::Receipt::verify(&resp.bytes().await?, &prov.registry)?;
    match receipt.verdict {
        Verdict::Duplicate {
            accepted_receipt_id,
        } => ensure!(accepted_receipt_id.to_string() == first_receipt),
        other => bail!("second POST gave {other:?}"),
    }
    ensure!(data.accepted_bundles()?.len() == 1);

    // One flipped byte: a signed rejection, nothing stored.
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let (receipt, _) = client.upload(&tampered).await?;
    ensure!(
        matches!(receipt.verdict, Verdict::Rejected(ref r) if r.code() == "ciphertext_mismatch"),
        "{:?}",
        receipt.verdict
    );
    ensure!(data.accepted_bundles()?.len() == 1);
    Ok(())
}

/// The sealed bytes the kit queued for `bundle_id` (the outbox keeps them after delivery).
fn outbox_bytes(
    vault_dir: &std::path::Path,
    bundle_id: ghidanh_bundle::BundleId,
) -> Result<Vec<u8>> {
    let (vault, _) = ghidanh_vault::Vault::unlock(vault_dir, "mật khẩu 123")?;
    let bytes = vault
        .sealed_bundle(bundle_id)?
        .context("bundle not in the outbox")?;
    ensure!(Envelope::parse(&bytes)?.header().bundle_id == bundle_id);
    Ok(bytes)
}

/// Remote wipe across processes: the real registry, `ghidanh registry revoke-device`, and the
/// kit's own worker, which gets a signed `device_revoked` receipt and destroys the vault.
#[test]
fn a_device_revoked_with_the_cli_wipes_its_vault_on_the_next_sync() -> Result<()> {
    let root = tempfile::tempdir()?;
    let [port] = free_ports::<1>()?;
    let listen = format!("127.0.0.1:{port}");
    let data = RegistryData::create(root.path(), &format!("http://{listen}"))?;
    let _registry = RegistryProcess::start(&data, &listen)?;

    let config = kit_config(root.path(), data.provisioning.clone());
    let vault_dir = config.data_dir.clone();
    let kit = Kit::new(config)?;
    kit.create_operator("Trần Văn Cảnh", "mật khẩu 123", "mật khẩu 123")?;
    // Before the revocation the device works: a first bundle is accepted.
    let (first, _) = kit.save_draft(None, &person())?;
    kit.finalise(first)?;
    wait_for_state(
        &kit,
        first,
        EnrollmentState::Accepted,
        Duration::from_secs(20),
    )?;

    let device_id = Provisioning::parse(&std::fs::read(&data.provisioning)?)?.device_id;
    let out = ghidanh_tests::ghidanh(&[
        "registry",
        "revoke-device",
        "--data",
        data.dir.to_str().context("non-UTF-8 path")?,
        "--device",
        &device_id.to_string(),
        "--reason",
        "máy bị mất",
    ])?;
    ensure!(out.trim() == format!("device {device_id} revoked"), "{out}");

    // The next bundle is refused with a signed device_revoked: the kit wipes itself.
    let second = EnrollmentInput {
        personal_id: young_child("", 4513).personal_id,
        ..person()
    };
    let (id, _) = kit.save_draft(None, &second)?;
    kit.finalise(id)?;
    let start = Instant::now();
    while vault_dir.join("vault.keys").exists() || vault_dir.join("vault.db").exists() {
        ensure!(
            start.elapsed() < Duration::from_secs(20),
            "vault still there 20 s after the revocation"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for file in ["vault.keys", "vault.db", "vault.db-wal", "vault.db-shm"] {
        ensure!(!vault_dir.join(file).exists(), "{file} survived the wipe");
    }
    ensure!(!ghidanh_vault::Vault::exists(&vault_dir));
    // Every call of the kit now says so.
    for result in [kit.list().map(drop), kit.enrollment(first).map(drop)] {
        match result {
            Err(e) => ensure!(e.code() == "wiped", "{} ({e})", e.code()),
            Ok(()) => bail!("a wiped kit still answered"),
        }
    }
    let e = kit
        .save_draft(None, &person())
        .err()
        .context("a wiped kit saved a draft")?;
    ensure!(e.code() == "wiped", "{} ({e})", e.code());
    // The registry stored the first bundle only.
    ensure!(data.accepted_bundles()?.len() == 1);
    Ok(())
}
