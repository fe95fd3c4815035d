//! The background task that drains the outbox.

use std::sync::Arc;
use std::time::Duration;

use ghidanh_bundle::{DeviceRegistration, Verdict};
use ghidanh_vault::{OutboxItem, Vault};
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
            Ok(next) => {
                failures = 0;
                next
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

/// One pass: register if needed, send what is due. Returns how long to sleep.
async fn pass(vault: &Arc<Vault>, config: &SyncConfig) -> Result<Duration, SyncError> {
    let Some(device) = blocking(vault, |v| v.device()).await? else {
        return Ok(config.idle_poll);
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
        }
    }
    let due = blocking(vault, |v| v.due_uploads(now_ms())).await?;
    for item in due {
        send_one(vault, &client, config, item).await?;
    }
    let next = blocking(vault, |v| v.next_attempt_at()).await?;
    Ok(match next {
        Some(at) => Duration::from_millis((at - now_ms()).max(0) as u64).min(config.idle_poll),
        None => config.idle_poll,
    })
}

async fn send_one(
    vault: &Arc<Vault>,
    client: &Client,
    config: &SyncConfig,
    item: OutboxItem,
) -> Result<(), SyncError> {
    let id = item.bundle_id;
    blocking(vault, move |v| v.mark_uploading(id)).await?;
    match client.upload(&item.bytes).await {
        Ok((receipt, bytes)) => {
            if receipt.bundle_id.is_some() && receipt.bundle_id != Some(id) {
                return Err(SyncError::ReceiptMismatch);
            }
            tracing::info!(bundle = %id, verdict = verdict_name(&receipt.verdict), "receipt");
            blocking(vault, move |v| v.record_receipt(id, &bytes, &receipt)).await
        }
        Err(e) if e.is_transient() => {
            let next = now_ms() + config.backoff.delay(item.attempts).as_millis() as i64;
            let msg = e.to_string();
            blocking(vault, move |v| v.upload_failed(id, next, &msg)).await?;
            // Unreachable: stop this pass, the rest would fail the same way.
            match e {
                SyncError::Unreachable(_) => Err(e),
                _ => Ok(()),
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
