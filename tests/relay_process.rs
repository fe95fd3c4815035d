//! Kit → district relay → central registry across processes: the real `ghidanh registry
//! serve` in mode central and in mode relay on loopback, and the kit's own sync worker (or
//! the sync client). Needs `cargo build -p ghidanh-cli` first.
//!
//! A bundle sent to the relay gets a custody receipt, reaches central exactly once, and the
//! kit ends with the central registry's verified receipt; a relay SIGKILLed while it holds a
//! bundle forwards it after its restart; the same bundle sent twice to the relay is one
//! enrollment at central.

#![forbid(unsafe_code)]

use ghidanh_bundle::testkit::young_child;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ghidanh_bundle::{Envelope, Provisioning, Sha256, Verdict};
use ghidanh_kit::{EnrollmentInput, EnrollmentState, Kit};
use ghidanh_sync::{Client, ReceiptLookup, UploadAnswer};
use ghidanh_tests::kit::{kit_config, wait_for_state};
use ghidanh_tests::process::free_ports;
use ghidanh_tests::relay::{RelayData, RelayProcess};
use ghidanh_tests::{ghidanh, RegistryData, RegistryProcess};

// A child under 6: no biometrics are taken, so the kit seals without a capture (this test
// is about sync, not capture).
fn person(personal_id: &str) -> EnrollmentInput {
    young_child("Hoàng Thị Lan", personal_id[6..].parse().unwrap_or(0))
}

/// Each accepted bundle at central exactly once, with the receipt id each kit shows.
fn ensure_central_holds(data: &RegistryData, want: &[(String, String)]) -> Result<()> {
    let stored = data.accepted_bundles()?;
    ensure!(
        stored.len() == want.len(),
        "central holds {} bundles, wanted {}",
        stored.len(),
        want.len()
    );
    for (bundle_id, receipt_id) in want {
        let rows: Vec<_> = stored
            .iter()
            .filter(|b| b["bundleId"] == bundle_id.as_str())
            .collect();
        ensure!(
            rows.len() == 1,
            "bundle {bundle_id} stored {} times",
            rows.len()
        );
        ensure!(
            rows[0]["receiptId"] == receipt_id.as_str(),
            "kit shows {receipt_id}, central stored {}",
            rows[0]["receiptId"]
        );
    }
    Ok(())
}

#[test]
fn a_kit_behind_a_relay_gets_custody_then_the_central_receipt_across_a_relay_sigkill_and_a_kit_restart(
) -> Result<()> {
    let root = tempfile::tempdir()?;
    let [central_port, relay_port] = free_ports::<2>()?;
    let central_listen = format!("127.0.0.1:{central_port}");
    let relay_listen = format!("127.0.0.1:{relay_port}");
    let central_url = format!("http://{central_listen}");
    // The kit is provisioned by the central registry to talk to the relay.
    let data = RegistryData::create(root.path(), &format!("http://{relay_listen}"))?;
    let relay_data = RelayData::create(root.path(), &data)?;
    let central = RegistryProcess::start(&data, &central_listen)?;
    let relay = RelayProcess::start(&relay_data, &relay_listen, &central_url)?;

    let kit = Kit::new(kit_config(root.path(), data.provisioning.clone()))?;
    kit.create_operator("Trần Văn Cảnh", "mật khẩu 123", "mật khẩu 123")?;

    // 1. Everything up: registration passes through the relay; custody, then accepted.
    let (first, errors) = kit.save_draft(None, &person("036187004512"))?;
    ensure!(errors.is_empty(), "{errors:?}");
    kit.finalise(first)?;
    let a = wait_for_state(
        &kit,
        first,
        EnrollmentState::Accepted,
        Duration::from_secs(30),
    )?;
    let a_bundle = a.bundle_id.context("no bundle id")?.to_string();
    let a_receipt = a.receipt_id.context("accepted without a receipt id")?;

    // 2. Central down: the relay takes custody; the kit stops sending and waits.
    central.kill_hard();
    let (second, _) = kit.save_draft(None, &person("036187004513"))?;
    kit.finalise(second)?;
    wait_for_state(
        &kit,
        second,
        EnrollmentState::Custody,
        Duration::from_secs(30),
    )?;
    std::thread::sleep(Duration::from_millis(800));
    let s = kit.enrollment(second)?;
    ensure!(
        s.state == EnrollmentState::Custody && s.receipt_id.is_none(),
        "{:?}",
        s.state
    );

    // 3. The relay is SIGKILLed while it holds the bundle, then restarted; the kit is
    // closed and opened again (its list of bundles to poll for is in the vault); central
    // comes back: the relay forwards, the kit polls the relay and records the central receipt.
    relay.kill_hard();
    drop(kit);
    let _relay = RelayProcess::start(&relay_data, &relay_listen, &central_url)?;
    let _central = RegistryProcess::start(&data, &central_listen)?;
    let kit = Kit::new(kit_config(root.path(), data.provisioning.clone()))?;
    kit.unlock("mật khẩu 123")?;
    let b = wait_for_state(
        &kit,
        second,
        EnrollmentState::Accepted,
        Duration::from_secs(30),
    )?;
    let b_bundle = b.bundle_id.context("no bundle id")?.to_string();
    let b_receipt = b.receipt_id.context("accepted without a receipt id")?;

    ensure_central_holds(&data, &[(a_bundle, a_receipt), (b_bundle, b_receipt)])?;
    // Nothing left to poll for.
    std::thread::sleep(Duration::from_millis(600));
    ensure!(data.accepted_bundles()?.len() == 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bundle_sent_twice_to_the_relay_is_one_enrollment_at_central() -> Result<()> {
    let root = tempfile::tempdir()?;
    let [central_port, relay_port] = free_ports::<2>()?;
    let central_listen = format!("127.0.0.1:{central_port}");
    let relay_listen = format!("127.0.0.1:{relay_port}");
    let relay_url = format!("http://{relay_listen}");
    let data = RegistryData::create(root.path(), &relay_url)?;
    let relay_data = RelayData::create(root.path(), &data)?;
    // Central up for the registration only (it passes through the relay), then down, so the
    // relay holds the bundle while it is sent twice.
    let central = RegistryProcess::start(&data, &central_listen)?;
    let _relay = RelayProcess::start(
        &relay_data,
        &relay_listen,
        &format!("http://{central_listen}"),
    )?;

    // A kit seals one bundle; central down meanwhile, so it stays in the relay's custody.
    let config = kit_config(root.path(), data.provisioning.clone());
    let vault_dir = config.data_dir.clone();
    let bundle_id = tokio::task::spawn_blocking(move || -> Result<_> {
        let kit = Kit::new(config)?;
        kit.create_operator("Trần Văn Cảnh", "mật khẩu 123", "mật khẩu 123")?;
        let (warm, _) = kit.save_draft(None, &person("036187004512"))?;
        kit.finalise(warm)?;
        wait_for_state(
            &kit,
            warm,
            EnrollmentState::Accepted,
            Duration::from_secs(30),
        )?;
        central.kill_hard();
        let (id, _) = kit.save_draft(None, &person("036187004513"))?;
        kit.finalise(id)?;
        let s = wait_for_state(&kit, id, EnrollmentState::Custody, Duration::from_secs(30))?;
        kit.lock()?;
        s.bundle_id.context("no bundle id")
    })
    .await??;
    let (vault, _) = ghidanh_vault::Vault::unlock(&vault_dir, "mật khẩu 123")?;
    let bytes = vault
        .sealed_bundle(bundle_id)?
        .context("bundle not in the outbox")?;
    drop(vault);
    ensure!(Envelope::parse(&bytes)?.header().bundle_id == bundle_id);

    // Sent again, twice, by the sync client: the same custody receipt each time.
    let prov = Provisioning::parse(&std::fs::read(&data.provisioning)?)?;
    let client = Client::new(&relay_url, prov.registry.clone(), Duration::from_secs(5))?;
    let UploadAnswer::Custody(c1, b1) = client.send(&bytes).await? else {
        bail!("no custody receipt while central is down");
    };
    let UploadAnswer::Custody(_, b2) = client.send(&bytes).await? else {
        bail!("no custody receipt the second time");
    };
    ensure!(b1 == b2, "two custody receipts for the same bytes");
    ensure!(c1.submission_sha256 == Sha256::of(&bytes) && c1.bundle_id == bundle_id);
    ensure!(matches!(
        client
            .central_receipt(bundle_id, Sha256::of(&bytes))
            .await?,
        ReceiptLookup::Pending
    ));

    // Central back: one enrollment; the relay now answers the bytes with central's receipt.
    let _central = RegistryProcess::start(&data, &central_listen)?;
    let start = Instant::now();
    let (receipt, _) = loop {
        if let ReceiptLookup::Known(receipt, bytes) = client
            .central_receipt(bundle_id, Sha256::of(&bytes))
            .await?
        {
            break (receipt, bytes);
        }
        ensure!(start.elapsed() < Duration::from_secs(30), "never forwarded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    ensure!(
        receipt.verdict == Verdict::Accepted,
        "{:?}",
        receipt.verdict
    );
    let UploadAnswer::Receipt(again, _) = client.send(&bytes).await? else {
        bail!("custody again after the central receipt");
    };
    ensure!(again.receipt_id == receipt.receipt_id);
    let stored = data.accepted_bundles()?;
    ensure!(stored.len() == 2, "central holds {}", stored.len());
    ensure!(
        stored
            .iter()
            .filter(|b| b["bundleId"] == bundle_id.to_string().as_str())
            .count()
            == 1
    );

    // A relay certified by another registry (its own upstream): its custody receipts are
    // refused by this kit's client, which keeps the bundle queued (a transient error).
    let other_root = root.path().join("other");
    std::fs::create_dir_all(&other_root)?;
    let [other_port] = free_ports::<1>()?;
    let other = RegistryData::create(&other_root, "http://127.0.0.1:1")?;
    let rogue_data = RelayData::create(&other_root, &other)?;
    let rogue_url = format!("http://127.0.0.1:{other_port}");
    let _rogue = RelayProcess::start(
        &rogue_data,
        &format!("127.0.0.1:{other_port}"),
        "http://127.0.0.1:1",
    )?;
    let rogue = Client::new(&rogue_url, prov.registry.clone(), Duration::from_secs(5))?;
    match rogue.send(&bytes).await {
        Err(e @ ghidanh_sync::SyncError::Protocol(_)) => ensure!(e.is_transient()),
        other => bail!("an uncertified relay's custody was taken: {other:?}"),
    }
    Ok(())
}

/// A device revoked at central, behind a relay: the relay (which cannot know) takes custody
/// of its next bundle, central refuses it with a signed `device_revoked`, and the kit,
/// polling the relay, verifies that refusal and wipes its vault.
#[test]
fn a_revoked_device_behind_a_relay_wipes_on_the_refusal_that_comes_back_through_it() -> Result<()> {
    let root = tempfile::tempdir()?;
    let [central_port, relay_port] = free_ports::<2>()?;
    let central_listen = format!("127.0.0.1:{central_port}");
    let relay_listen = format!("127.0.0.1:{relay_port}");
    let central_url = format!("http://{central_listen}");
    let data = RegistryData::create(root.path(), &format!("http://{relay_listen}"))?;
    let relay_data = RelayData::create(root.path(), &data)?;
    let _central = RegistryProcess::start(&data, &central_listen)?;
    let _relay = RelayProcess::start(&relay_data, &relay_listen, &central_url)?;

    let config = kit_config(root.path(), data.provisioning.clone());
    let vault_dir = config.data_dir.clone();
    let kit = Kit::new(config)?;
    kit.create_operator("Trần Văn Cảnh", "mật khẩu 123", "mật khẩu 123")?;
    let (first, _) = kit.save_draft(None, &person("036187004512"))?;
    kit.finalise(first)?;
    wait_for_state(
        &kit,
        first,
        EnrollmentState::Accepted,
        Duration::from_secs(30),
    )?;

    let device_id = Provisioning::parse(&std::fs::read(&data.provisioning)?)?.device_id;
    ghidanh(&[
        "registry",
        "revoke-device",
        "--data",
        data.dir.to_str().context("non-UTF-8 path")?,
        "--device",
        &device_id.to_string(),
    ])?;
    let (second, _) = kit.save_draft(None, &person("036187004513"))?;
    kit.finalise(second)?;
    let start = Instant::now();
    while ghidanh_vault::Vault::exists(&vault_dir) {
        ensure!(
            start.elapsed() < Duration::from_secs(30),
            "vault still there 30 s after the revocation"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    match kit.list() {
        Err(e) => ensure!(e.code() == "wiped", "{} ({e})", e.code()),
        Ok(_) => bail!("a wiped kit still answered"),
    }
    ensure!(data.accepted_bundles()?.len() == 1);
    Ok(())
}

/// A relay whose store is lost after it gave a custody receipt (a disk replaced, a new
/// relay on the same address): it answers "unknown" to the kit's poll, the kit puts the
/// bundle back in its outbox and sends it again, and central gets it exactly once. (Before,
/// the kit polled for that receipt forever.)
#[test]
fn a_bundle_a_relay_lost_after_custody_is_sent_again_and_arrives_once() -> Result<()> {
    let root = tempfile::tempdir()?;
    let [central_port, relay_port] = free_ports::<2>()?;
    let central_listen = format!("127.0.0.1:{central_port}");
    let relay_listen = format!("127.0.0.1:{relay_port}");
    let central_url = format!("http://{central_listen}");
    let data = RegistryData::create(root.path(), &format!("http://{relay_listen}"))?;
    let relay_data = RelayData::create(root.path(), &data)?;
    let central = RegistryProcess::start(&data, &central_listen)?;
    let relay = RelayProcess::start(&relay_data, &relay_listen, &central_url)?;

    let kit = Kit::new(kit_config(root.path(), data.provisioning.clone()))?;
    kit.create_operator("Trần Văn Cảnh", "mật khẩu 123", "mật khẩu 123")?;
    // Registered through the relay while central is up; then central goes down, so the
    // next bundle stays in the relay's custody.
    let (first, _) = kit.save_draft(None, &person("036187004512"))?;
    kit.finalise(first)?;
    wait_for_state(
        &kit,
        first,
        EnrollmentState::Accepted,
        Duration::from_secs(30),
    )?;
    central.kill_hard();
    let (second, _) = kit.save_draft(None, &person("036187004513"))?;
    kit.finalise(second)?;
    wait_for_state(
        &kit,
        second,
        EnrollmentState::Custody,
        Duration::from_secs(30),
    )?;

    // The relay and everything it held are gone; a new relay (new key, certified by the
    // same central) takes the address.
    relay.kill_hard();
    std::fs::remove_dir_all(&relay_data.dir)?;
    let replacement_root = root.path().join("replacement");
    std::fs::create_dir_all(&replacement_root)?;
    let replacement = RelayData::create(&replacement_root, &data)?;
    let _relay = RelayProcess::start(&replacement, &relay_listen, &central_url)?;
    let _central = RegistryProcess::start(&data, &central_listen)?;

    let b = wait_for_state(
        &kit,
        second,
        EnrollmentState::Accepted,
        Duration::from_secs(30),
    )?;
    let accepted = data.accepted_bundles()?;
    ensure!(accepted.len() == 2, "central holds {}", accepted.len());
    let b_bundle = b.bundle_id.context("no bundle id")?.to_string();
    ensure!(
        accepted
            .iter()
            .filter(|r| r["bundleId"] == b_bundle.as_str())
            .count()
            == 1,
        "the resent bundle is not at central exactly once"
    );
    Ok(())
}
