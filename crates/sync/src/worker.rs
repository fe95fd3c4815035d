//! The background task that drains the outbox.

use std::sync::Arc;
use std::time::Duration;

use ghidanh_bundle::{DeviceRegistration, RejectReason, Verdict};
use ghidanh_vault::{OutboxItem, Vault, VaultError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::{Backoff, Client, Registration, SyncError};

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct SyncConfig {
    /// Retry pacing after failures.
    pub backoff: Backoff,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Longest sleep with nothing due (a safety net; `wake` is the normal trigger).
    pub idle_poll: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(30),
            },
            request_timeout: Duration::from_secs(60),
            idle_poll: Duration::from_secs(30),
        }
    }
}

/// Handle on the running worker.
pub struct SyncHandle {
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl SyncHandle {
    /// Asks the worker to look at the outbox now (after a new bundle was sealed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Whether the worker has stopped by itself (after the registry revoked the device).
    pub fn is_stopped(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the worker. A bundle in flight stays in the outbox and is sent again later;
    /// the registry answers `duplicate` if the first send had arrived.
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the worker on the current tokio runtime.
pub fn spawn(vault: Arc<Vault>, config: SyncConfig) -> SyncHandle {
    let wake = Arc::new(Notify::new());
    let task = tokio::spawn(run(vault, config, wake.clone()));
    SyncHandle { wake, task }
}

async fn run(vault: Arc<Vault>, config: SyncConfig, wake: Arc<Notify>) {
    let mut failures = 0u32;
    loop {
        let sleep = match pass(&vault, &config).await {
            Ok(Next::Sleep(next)) => {
                failures = 0;
                next
            }
            Ok(Next::Revoked) => {
                wipe(&vault).await;
                return;
            }
            // Wiped (by a revocation seen elsewhere): nothing is left to send, ever.
            Err(SyncError::Vault(VaultError::Wiped)) => {
                tracing::warn!("vault wiped: sync stopped");
                return;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, failures, "sync pass failed");
                config.backoff.delay(failures)
            }
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// What the worker does after a pass.
enum Next {
    /// Sleep this long (or until woken).
    Sleep(Duration),
    /// The registry revoked this device, in an answer verified against its key: wipe and stop.
    Revoked,
}

/// Destroys the vault after a verified revocation. The log names no person and no record:
/// only that it happened, or why it failed (a failed wipe stops the worker all the same;
/// the next start of the kit sends again and is refused again).
async fn wipe(vault: &Arc<Vault>) {
    match blocking(vault, |v| v.wipe()).await {
        Ok(()) | Err(SyncError::Vault(VaultError::Wiped)) => {
            tracing::warn!("the registry revoked this device: vault wiped, sync stopped")
        }
        Err(e) => tracing::error!(error = %e, "the registry revoked this device; wiping failed"),
    }
}

async fn blocking<T: Send + 'static>(
    vault: &Arc<Vault>,
    f: impl FnOnce(&Vault) -> Result<T, ghidanh_vault::VaultError> + Send + 'static,
) -> Result<T, SyncError> {
    let vault = vault.clone();
    tokio::task::spawn_blocking(move || f(&vault))
        .await
        .map_err(|_| SyncError::Unreachable("vault task stopped".into()))?
        .map_err(SyncError::from)
}

/// One pass: register if needed, send what is due. Returns what to do next.
async fn pass(vault: &Arc<Vault>, config: &SyncConfig) -> Result<Next, SyncError> {
    let Some(device) = blocking(vault, |v| v.device()).await? else {
        return Ok(Next::Sleep(config.idle_poll));
    };
    let client = Client::new(
        &device.provisioning.registry_url,
        device.provisioning.registry.clone(),
        config.request_timeout,
    )?;
    if !device.registered {
        let registration = DeviceRegistration::sign(
            device.provisioning.device_id,
            &device.provisioning.token,
            &device.key,
        );
        match client.register(registration).await? {
            Registration::Registered => blocking(vault, |v| v.mark_registered()).await?,
            // Go on: the registry's signed receipts will say why each bundle is refused.
            Registration::Refused(code) => tracing::warn!(code, "registration refused"),
            Registration::Revoked => return Ok(Next::Revoked),
        }
    }
    let due = blocking(vault, |v| v.due_uploads(now_ms())).await?;
    for item in due {
        if let Sent::Revoked = send_one(vault, &client, config, item).await? {
            return Ok(Next::Revoked);
        }
    }
    let next = blocking(vault, |v| v.next_attempt_at()).await?;
    Ok(Next::Sleep(match next {
        Some(at) => Duration::from_millis((at - now_ms()).max(0) as u64).min(config.idle_poll),
        None => config.idle_poll,
    }))
}

/// What became of one upload.
enum Sent {
    /// Recorded (receipt or retry).
    Done,
    /// A verified receipt about these bytes says the device is revoked.
    Revoked,
}

async fn send_one(
    vault: &Arc<Vault>,
    client: &Client,
    config: &SyncConfig,
    item: OutboxItem,
) -> Result<Sent, SyncError> {
    let id = item.bundle_id;
    blocking(vault, move |v| v.mark_uploading(id)).await?;
    match client.upload(&item.bytes).await {
        // `upload` verified the signature and that the receipt is about these bytes.
        Ok((receipt, bytes)) => {
            if receipt.bundle_id.is_some() && receipt.bundle_id != Some(id) {
                return Err(SyncError::ReceiptMismatch);
            }
            if receipt.verdict == Verdict::Rejected(RejectReason::DeviceRevoked) {
                return Ok(Sent::Revoked);
            }
            tracing::info!(bundle = %id, verdict = verdict_name(&receipt.verdict), "receipt");
            blocking(vault, move |v| v.record_receipt(id, &bytes, &receipt)).await?;
            Ok(Sent::Done)
        }
        Err(e) if e.is_transient() => {
            let next = now_ms() + config.backoff.delay(item.attempts).as_millis() as i64;
            let msg = e.to_string();
            blocking(vault, move |v| v.upload_failed(id, next, &msg)).await?;
            // Unreachable: stop this pass, the rest would fail the same way.
            match e {
                SyncError::Unreachable(_) => Err(e),
                _ => Ok(Sent::Done),
            }
        }
        Err(e) => Err(e),
    }
}

fn verdict_name(v: &Verdict) -> &'static str {
    match v {
        Verdict::Accepted => "accepted",
        Verdict::Duplicate { .. } => "duplicate",
        Verdict::Rejected(_) => "rejected",
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
