//! The relay's forwarder: a background task that uploads every held bundle upstream,
//! verifies the central receipt with the upstream keys, stores it, and only then lets the
//! held bytes go. Failures back off exponentially with jitter, per bundle. Everything it
//! needs is in `relay.db` and `held/`, so a relay killed at any moment resumes on restart.

use std::sync::Arc;
use std::time::Duration;

use ghidanh_bundle::Sha256;
use rand::Rng;

use crate::registry::unix_now;
use crate::relay::Relay;
use crate::relay_store::HeldRow;
use crate::RegistryError;

/// Pacing of the forwarder.
#[derive(Debug, Clone, Copy)]
pub struct ForwardConfig {
    /// Delay before the first retry of a bundle.
    pub initial: Duration,
    /// Longest delay between retries.
    pub max: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Longest sleep with nothing due.
    pub idle_poll: Duration,
}

impl Default for ForwardConfig {
    fn default() -> Self {
        ForwardConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            timeout: Duration::from_secs(60),
            idle_poll: Duration::from_secs(30),
        }
    }
}

impl ForwardConfig {
    /// Attempt n waits a random time in `[d/2, d]`, `d = min(max, initial · 2ⁿ)`.
    fn delay(&self, attempts: u32) -> Duration {
        let d = self
            .initial
            .saturating_mul(2u32.saturating_pow(attempts.min(20)))
            .min(self.max);
        let half = d / 2;
        half + Duration::from_millis(rand::thread_rng().gen_range(0..=half.as_millis() as u64))
    }
}

/// Why one forwarding attempt failed.
#[derive(Debug, thiserror::Error)]
enum ForwardError {
    #[error("upstream unreachable: {0}")]
    Unreachable(String),
    #[error("upstream answered HTTP {0}")]
    Http(u16),
    #[error("upstream receipt does not verify with any upstream key")]
    BadReceipt,
    #[error("upstream receipt is about other bytes")]
    Mismatch,
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Runs the forwarder until the task is dropped.
pub async fn forward(relay: Arc<Relay>, config: ForwardConfig) {
    let http = match reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(10)))
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "forwarder cannot start its HTTP client");
            return;
        }
    };
    loop {
        let sleep = match pass(&relay, &http, &config).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "forwarding pass failed");
                config.idle_poll
            }
        };
        tokio::select! {
            _ = relay.wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, RegistryError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| RegistryError::Task)?
}

/// Forwards every due bundle once; returns how long to sleep.
async fn pass(
    relay: &Arc<Relay>,
    http: &reqwest::Client,
    config: &ForwardConfig,
) -> Result<Duration, RegistryError> {
    // Registrations first: a bundle of a device the registry does not know yet would be
    // refused for good, so no bundle goes while a registration waits for its answer.
    if !forward_registrations(relay, http, config).await? {
        let r = relay.clone();
        let next = blocking(move || r.lock().next_registration_ms()).await?;
        return Ok(sleep_until(next, config));
    }
    let r = relay.clone();
    let due = blocking(move || r.lock().due(now_ms())).await?;
    for row in due {
        let bundle_id = row.bundle_id;
        let attempts = row.attempts;
        match forward_one(relay, http, row).await {
            Ok(()) => tracing::info!(%bundle_id, "forwarded; central receipt stored"),
            Err(e) => {
                let next = now_ms() + config.delay(attempts).as_millis() as i64;
                let msg = e.to_string();
                tracing::warn!(%bundle_id, error = %msg, attempts, "forwarding failed");
                let r = relay.clone();
                blocking(move || r.lock().failed(bundle_id, next, &msg)).await?;
                if let ForwardError::Unreachable(_) = e {
                    // The rest would fail the same way; each keeps its own schedule.
                    break;
                }
            }
        }
    }
    let r = relay.clone();
    let next = blocking(move || r.lock().next_due_ms()).await?;
    Ok(sleep_until(next, config))
}

fn sleep_until(next_ms: Option<i64>, config: &ForwardConfig) -> Duration {
    match next_ms {
        Some(at) => Duration::from_millis((at - now_ms()).max(0) as u64).min(config.idle_poll),
        None => config.idle_poll,
    }
}

/// Passes every due registration (carried on a stick) upstream, as the relay's HTTP route
/// passes a kit's. An answer (registered, or refused: the registry's signed receipts will say
/// why each bundle is refused) settles it; no answer backs off like a bundle. Returns
/// whether none is left unanswered.
async fn forward_registrations(
    relay: &Arc<Relay>,
    http: &reqwest::Client,
    config: &ForwardConfig,
) -> Result<bool, RegistryError> {
    let r = relay.clone();
    let due = blocking(move || r.lock().due_registrations(now_ms())).await?;
    let url = format!(
        "{}/api/v1/devices/register",
        relay.upstream.url.trim_end_matches('/')
    );
    for row in due {
        let sent = http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(row.bytes.clone())
            .send()
            .await;
        let answer = match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                // 408 and 429 ask to come back; 5xx is the registry failing, not deciding.
                if resp.status().is_success()
                    || (resp.status().is_client_error() && status != 408 && status != 429)
                {
                    Ok(status)
                } else {
                    Err(ForwardError::Http(status))
                }
            }
            Err(e) => Err(unreachable(e)),
        };
        let sha = row.sha256;
        match answer {
            Ok(status) => {
                tracing::info!(status, "registration passed upstream");
                let r = relay.clone();
                blocking(move || r.lock().registration_answered(sha, status, unix_now())).await?;
            }
            Err(e) => {
                let next = now_ms() + config.delay(row.attempts).as_millis() as i64;
                let msg = e.to_string();
                tracing::warn!(error = %msg, attempts = row.attempts, "registration not passed");
                let r = relay.clone();
                blocking(move || r.lock().registration_failed(sha, next, &msg)).await?;
                break;
            }
        }
    }
    let r = relay.clone();
    Ok(blocking(move || r.lock().unanswered_registrations()).await? == 0)
}

async fn forward_one(
    relay: &Arc<Relay>,
    http: &reqwest::Client,
    row: HeldRow,
) -> Result<(), ForwardError> {
    let r = relay.clone();
    let id = row.bundle_id;
    let bytes = blocking(move || r.held_bytes(id)).await?;
    if Sha256::of(&bytes) != row.submission_sha256 {
        return Err(RegistryError::Corrupt("held bundle bytes").into());
    }
    let base = relay.upstream.url.trim_end_matches('/').to_owned();
    let receipt = match upload_resumable(http, &base, id, &bytes).await? {
        Some(receipt) => receipt,
        None => upload_whole(http, &base, bytes).await?,
    };
    let verified = relay
        .verify_central(&receipt)
        .ok_or(ForwardError::BadReceipt)?;
    if verified.submission_sha256 != row.submission_sha256
        || verified.bundle_id.is_some_and(|b| b != row.bundle_id)
    {
        return Err(ForwardError::Mismatch);
    }
    let r = relay.clone();
    blocking(move || r.forwarded(id, &receipt)).await?;
    Ok(())
}

fn unreachable(e: reqwest::Error) -> ForwardError {
    ForwardError::Unreachable(e.to_string())
}

/// The single POST (an upstream without resumable uploads).
async fn upload_whole(
    http: &reqwest::Client,
    base: &str,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, ForwardError> {
    let resp = http
        .post(format!("{base}/api/v1/bundles"))
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(ForwardError::Http(status.as_u16()));
    }
    Ok(resp.bytes().await.map_err(unreachable)?.to_vec())
}

fn offset_of(resp: &reqwest::Response) -> Option<(u64, bool)> {
    let h = resp.headers();
    let offset = h
        .get("upload-offset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()?;
    let complete = h
        .get("upload-complete")
        .is_some_and(|v| v.as_bytes() == b"?1");
    Some((offset, complete))
}

/// The receipt through the upstream's resumable uploads (schema/openapi.yaml), resuming from
/// the upstream's durable offset: `None` when it has none (404/405 on creation). Creating
/// the upload again (the next attempt, or after a restart) finds the same upload at the
/// offset the upstream made durable of an interrupted request. The rest goes in one PATCH:
/// the upstream takes it as a stream and keeps what a cut let through.
async fn upload_resumable(
    http: &reqwest::Client,
    base: &str,
    bundle_id: ghidanh_bundle::BundleId,
    bytes: &[u8],
) -> Result<Option<Vec<u8>>, ForwardError> {
    use base64::Engine as _;
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::of(bytes).0);
    let resp = http
        .post(format!("{base}/api/v1/uploads"))
        .header("upload-length", bytes.len())
        .header("upload-complete", "?0")
        .header("repr-digest", format!("sha-256=:{digest}:"))
        .header("ghidanh-bundle-id", bundle_id.to_string())
        .send()
        .await
        .map_err(unreachable)?;
    match resp.status().as_u16() {
        404 | 405 => return Ok(None),
        201 => {}
        status => return Err(ForwardError::Http(status)),
    }
    let id = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.rsplit('/').next())
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or(ForwardError::Http(201))?
        .to_owned();
    let url = format!("{base}/api/v1/uploads/{id}");
    let (mut offset, mut complete) = offset_of(&resp).ok_or(ForwardError::Http(201))?;
    for _ in 0..8 {
        if complete {
            let resp = http.get(&url).send().await.map_err(unreachable)?;
            if !resp.status().is_success() {
                return Err(ForwardError::Http(resp.status().as_u16()));
            }
            return Ok(Some(resp.bytes().await.map_err(unreachable)?.to_vec()));
        }
        let start = usize::try_from(offset)
            .ok()
            .filter(|s| *s <= bytes.len())
            .ok_or(ForwardError::Http(409))?;
        let resp = http
            .patch(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/partial-upload")
            .header("upload-offset", offset)
            .header("upload-complete", "?1")
            .body(bytes[start..].to_vec())
            .send()
            .await
            .map_err(unreachable)?;
        match resp.status().as_u16() {
            200 => return Ok(Some(resp.bytes().await.map_err(unreachable)?.to_vec())),
            // The upstream holds another offset, or completed: it names where it is.
            409 => {
                (offset, complete) = offset_of(&resp).ok_or(ForwardError::Http(409))?;
            }
            status => return Err(ForwardError::Http(status)),
        }
    }
    Err(ForwardError::Http(409))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
