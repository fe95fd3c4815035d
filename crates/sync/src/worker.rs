//! The background task that drains the outbox.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ghidanh_bundle::{
    BundleId, DeviceRegistration, Receipt, RegistryPublicKeys, RejectReason, Sha256, Verdict,
};
use ghidanh_vault::{OutboxItem, Vault, VaultError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::budget::{Spent, BUDGET_SPENT_SETTING, DAILY_ALLOWANCE_SETTING};
use crate::{Backoff, Budget, Client, ReceiptLookup, Registration, SyncError, UploadAnswer};

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct SyncConfig {
    /// Retry pacing after failures.
    pub backoff: Backoff,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Longest sleep with nothing due (a safety net; `wake` is the normal trigger).
    pub idle_poll: Duration,
    /// What sync may spend per window (bytes, attempts).
    pub budget: Budget,
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
            budget: Budget::UNLIMITED,
        }
    }
}

/// The longest wait for the answer to a probe of the link.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The vault setting that keeps the last successful contact with the registry (Unix ms),
/// so the kit can say when it last reached the registry after a restart.
pub const LAST_CONTACT_SETTING: &str = "sync_last_contact_ms";

/// The vault setting listing the bundles a relay holds whose registry receipt the worker still
/// polls for: one `bundle_id sha256-hex` per line. Written before the custody receipt is
/// recorded and cleared after the registry's receipt is, so a restart goes on polling.
pub const CUSTODY_PENDING_SETTING: &str = "sync_custody_pending";

/// Why the last attempt to reach the registry failed, without any detail: the raw error text
/// (addresses, bodies) stays in the log; the kit translates these for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncProblem {
    /// No answer: connection refused, timeout, DNS.
    Unreachable,
    /// The registry answered with an HTTP error status.
    RegistryError {
        /// The HTTP status.
        status: u16,
    },
    /// The registry refused the device's registration (its code is logged).
    RegistrationRefused,
    /// An answer that breaks the protocol, or a receipt that does not verify or is not about
    /// the bytes sent (a proxy in the way?).
    BadAnswer,
    /// The kit's own store failed.
    Local,
}

impl SyncProblem {
    /// The stable code the UI may switch on.
    pub fn code(self) -> &'static str {
        match self {
            SyncProblem::Unreachable => "unreachable",
            SyncProblem::RegistryError { .. } => "registryError",
            SyncProblem::RegistrationRefused => "registrationRefused",
            SyncProblem::BadAnswer => "badAnswer",
            SyncProblem::Local => "local",
        }
    }

    fn of(e: &SyncError) -> SyncProblem {
        match e {
            SyncError::Unreachable(_) => SyncProblem::Unreachable,
            SyncError::Http { status, .. } => SyncProblem::RegistryError { status: *status },
            SyncError::Protocol(_) | SyncError::BadReceipt(_) | SyncError::ReceiptMismatch => {
                SyncProblem::BadAnswer
            }
            SyncError::Vault(_) => SyncProblem::Local,
        }
    }
}

/// What the worker is doing and has done, as of now. Times are Unix milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncActivity {
    /// The last time the registry answered (a registration or a verified receipt). Kept in
    /// the vault ([`LAST_CONTACT_SETTING`]), so it survives a restart.
    pub last_contact_ms: Option<i64>,
    /// The last time the worker tried to reach the registry (this process only).
    pub last_attempt_ms: Option<i64>,
    /// Why that attempt failed; `None` when it succeeded.
    pub last_error: Option<SyncProblem>,
    /// A bundle is being sent right now.
    pub uploading: bool,
    /// When the worker tries again, while something waits to be sent.
    pub next_retry_ms: Option<i64>,
    /// The budget is spent: nothing is sent until this time (Unix ms).
    pub budget_until_ms: Option<i64>,
    /// The last failure was that the registry could not be reached; the worker asks it a
    /// small question (`Client::probe`) before it sends bundles again.
    pub offline: bool,
}

type Activity = Arc<Mutex<SyncActivity>>;

fn update(activity: &Activity, f: impl FnOnce(&mut SyncActivity)) {
    f(&mut activity.lock().unwrap_or_else(|p| p.into_inner()));
}

/// Handle on the running worker.
pub struct SyncHandle {
    wake: Arc<Notify>,
    task: JoinHandle<()>,
    activity: Activity,
}

impl SyncHandle {
    /// Asks the worker to look at the outbox now (after a new bundle was sealed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// What the worker is doing and has done.
    pub fn activity(&self) -> SyncActivity {
        *self.activity.lock().unwrap_or_else(|p| p.into_inner())
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
/// The last contact kept in the vault is read here, so [`SyncHandle::activity`] has it at once.
pub fn spawn(vault: Arc<Vault>, config: SyncConfig) -> SyncHandle {
    let wake = Arc::new(Notify::new());
    let last_contact_ms = match vault.setting(LAST_CONTACT_SETTING) {
        Ok(v) => v.and_then(|v| v.parse().ok()),
        Err(e) => {
            tracing::warn!(error = %e, "last contact not read");
            None
        }
    };
    let activity = Arc::new(Mutex::new(SyncActivity {
        last_contact_ms,
        ..SyncActivity::default()
    }));
    let task = tokio::spawn(run(vault, config, wake.clone(), activity.clone()));
    SyncHandle {
        wake,
        task,
        activity,
    }
}

async fn run(vault: Arc<Vault>, config: SyncConfig, wake: Arc<Notify>, activity: Activity) {
    let mut failures = 0u32;
    let mut custody = CustodyPoll::new(&config.backoff);
    loop {
        let sleep = match pass(&vault, &config, &activity, &mut custody).await {
            Ok(Next::Sleep(next, waiting)) => {
                failures = 0;
                update(&activity, |a| {
                    a.next_retry_ms = waiting.then(|| now_ms() + next.as_millis() as i64)
                });
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
                let delay = config.backoff.delay(failures);
                failed(&activity, &e);
                update(&activity, |a| {
                    a.next_retry_ms = Some(now_ms() + delay.as_millis() as i64)
                });
                delay
            }
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// When to ask next for the registry's receipts of bundles a relay holds. Asking on every
/// pass would cost one request per held bundle each time a bundle is sealed (a kit behind a
/// relay may have hundreds held), so the interval starts at the backoff's first delay and
/// doubles up to its longest while nothing new comes back; a receipt or a new custody starts
/// it over.
struct CustodyPoll {
    next_at: Instant,
    interval: Duration,
    initial: Duration,
    max: Duration,
}

impl CustodyPoll {
    fn new(backoff: &Backoff) -> CustodyPoll {
        CustodyPoll {
            next_at: Instant::now(),
            interval: backoff.initial,
            initial: backoff.initial,
            max: backoff.max.max(backoff.initial),
        }
    }

    fn due(&self) -> bool {
        Instant::now() >= self.next_at
    }

    /// How long until the next poll is due.
    fn wait(&self) -> Duration {
        self.next_at.saturating_duration_since(Instant::now())
    }

    /// A poll happened; `news` when it brought a receipt.
    fn polled(&mut self, news: bool) {
        self.interval = if news {
            self.initial
        } else {
            (self.interval * 2).min(self.max)
        };
        self.next_at = Instant::now() + self.interval;
    }

    /// A relay took a new bundle into custody: its receipt may come soon.
    fn restart(&mut self) {
        self.interval = self.initial;
        self.next_at = Instant::now() + self.initial;
    }
}

/// What the worker does after a pass.
enum Next {
    /// Sleep this long (or until woken); whether bundles still wait for a receipt.
    Sleep(Duration, bool),
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

/// The worker is about to ask the registry something.
fn attempting(activity: &Activity) {
    update(activity, |a| a.last_attempt_ms = Some(now_ms()));
}

/// The registry answered: the last attempt succeeded. The time is kept in the vault too (a
/// failure to keep it is logged; it costs only the display after a restart).
async fn contacted(vault: &Arc<Vault>, activity: &Activity) {
    let now = now_ms();
    update(activity, |a| {
        a.last_contact_ms = Some(now);
        a.last_error = None;
        a.offline = false;
    });
    if let Err(e) = blocking(vault, move |v| {
        v.set_setting(LAST_CONTACT_SETTING, &now.to_string())
    })
    .await
    {
        tracing::warn!(error = %e, "last contact not kept");
    }
}

/// The last attempt failed with `e`.
fn failed(activity: &Activity, e: &SyncError) {
    let problem = SyncProblem::of(e);
    update(activity, |a| {
        a.last_error = Some(problem);
        a.uploading = false;
        a.offline = problem == SyncProblem::Unreachable;
    });
}

/// One pass: register if needed, send what is due. Returns what to do next.
async fn pass(
    vault: &Arc<Vault>,
    config: &SyncConfig,
    activity: &Activity,
    custody: &mut CustodyPoll,
) -> Result<Next, SyncError> {
    let Some(device) = blocking(vault, |v| v.device()).await? else {
        return Ok(Next::Sleep(config.idle_poll, false));
    };
    let client = Client::new(
        &device.provisioning.registry_url,
        device.provisioning.registry.clone(),
        config.request_timeout,
    )?;
    let offline = activity.lock().unwrap_or_else(|p| p.into_inner()).offline;
    if offline {
        attempting(activity);
        if let Err(e) = client
            .probe(config.request_timeout.min(PROBE_TIMEOUT))
            .await
        {
            failed(activity, &e);
            return Err(e);
        }
        // Reachable again: the registry answered; what it says about bundles comes next.
        update(activity, |a| a.offline = false);
    }
    if !device.registered {
        let registration = DeviceRegistration::sign(
            device.provisioning.device_id,
            &device.provisioning.token,
            &device.key,
        );
        attempting(activity);
        match client.register(registration).await? {
            Registration::Registered => {
                contacted(vault, activity).await;
                blocking(vault, |v| v.mark_registered()).await?
            }
            // Go on: the registry's signed receipts will say why each bundle is refused.
            Registration::Refused(code) => {
                contacted(vault, activity).await;
                update(activity, |a| {
                    a.last_error = Some(SyncProblem::RegistrationRefused)
                });
                tracing::warn!(code, "registration refused")
            }
            Registration::Revoked => return Ok(Next::Revoked),
        }
    }
    let due = blocking(vault, |v| v.due_uploads(now_ms())).await?;
    update(activity, |a| a.budget_until_ms = None);
    // The budget is read only when something is due (most passes send nothing), in one
    // trip to the vault.
    let (mut spent, budget) = if due.is_empty() {
        (Spent::default(), config.budget)
    } else {
        let (spent, allowance) = blocking(vault, |v| {
            Ok((
                v.setting(BUDGET_SPENT_SETTING)?,
                v.setting(DAILY_ALLOWANCE_SETTING)?,
            ))
        })
        .await?;
        (
            Spent::parse(spent.as_deref()),
            config
                .budget
                .with_daily_allowance(allowance.and_then(|v| v.parse().ok())),
        )
    };
    for item in due {
        let size = item.bytes.len() as u64;
        if let Err(until) = spent.check(&budget, now_ms(), size) {
            tracing::info!(
                until,
                "sync budget spent; sending resumes when the window ends"
            );
            update(activity, |a| a.budget_until_ms = Some(until));
            return Ok(Next::Sleep(
                Duration::from_millis((until - now_ms()).max(0) as u64).min(config.idle_poll),
                true,
            ));
        }
        spent = spent.spend(&budget, now_ms(), size);
        if budget != Budget::UNLIMITED {
            let text = spent.to_text();
            blocking(vault, move |v| v.set_setting(BUDGET_SPENT_SETTING, &text)).await?;
        }
        match send_one(vault, &client, config, activity, item).await? {
            Sent::Revoked => return Ok(Next::Revoked),
            Sent::Custody => custody.restart(),
            Sent::Done => {}
        }
    }
    let custody_left = if custody.due() {
        let polled = poll_custody(vault, &client, activity).await?;
        if polled.revoked {
            return Ok(Next::Revoked);
        }
        custody.polled(polled.received > 0);
        if polled.lost > 0 {
            // Due now: the next pass sends them again.
            return Ok(Next::Sleep(Duration::ZERO, true));
        }
        polled.left
    } else {
        !custody_pending(vault).await?.is_empty()
    };
    reference_updates(vault, &client, &device.provisioning.registry).await;
    let next = blocking(vault, |v| v.next_attempt_at()).await?;
    let custody_wait = custody_left.then(|| custody.wait());
    Ok(match next {
        Some(at) => Next::Sleep(
            Duration::from_millis((at - now_ms()).max(0) as u64)
                .min(config.idle_poll)
                .min(custody_wait.unwrap_or(Duration::MAX)),
            true,
        ),
        None => Next::Sleep(
            config.idle_poll.min(custody_wait.unwrap_or(Duration::MAX)),
            custody_left,
        ),
    })
}

/// Down-sync of reference data, at most hourly (`crate::reference`). Never fails the pass:
/// the uploads matter more, and a registry that cannot answer now is asked at the next pass.
async fn reference_updates(vault: &Arc<Vault>, client: &Client, registry: &RegistryPublicKeys) {
    match crate::reference::check_for_updates(vault, client, registry, now_ms()).await {
        Ok(_) => {}
        Err(SyncError::Vault(VaultError::Wiped)) => {}
        Err(e) => tracing::warn!(error = %e, "reference updates not fetched"),
    }
}

/// The bundles a relay holds whose registry receipt is still to come.
async fn custody_pending(vault: &Arc<Vault>) -> Result<Vec<(BundleId, Sha256)>, SyncError> {
    blocking(vault, read_custody_pending).await
}

/// [`CUSTODY_PENDING_SETTING`], parsed (also read by the USB path, `stick.rs`).
pub(crate) fn read_custody_pending(v: &Vault) -> Result<Vec<(BundleId, Sha256)>, VaultError> {
    Ok(parse_custody_pending(
        v.setting(CUSTODY_PENDING_SETTING)?.as_deref(),
    ))
}

fn parse_custody_pending(text: Option<&str>) -> Vec<(BundleId, Sha256)> {
    text.unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (id, sha) = line.split_once(' ')?;
            let mut digest = [0u8; 32];
            for (i, b) in digest.iter_mut().enumerate() {
                *b = u8::from_str_radix(sha.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            Some((BundleId::parse(id).ok()?, Sha256(digest)))
        })
        .collect()
}

fn format_custody_pending(pending: &[(BundleId, Sha256)]) -> String {
    pending
        .iter()
        .map(|(id, sha)| {
            let hex: String = sha.0.iter().map(|b| format!("{b:02x}")).collect();
            format!("{id} {hex}\n")
        })
        .collect()
}

/// Adds a bundle to the custody list, atomically (another process may change it too).
fn add_custody_pending(v: &Vault, id: BundleId, sent: Sha256) -> Result<(), VaultError> {
    v.update_setting(CUSTODY_PENDING_SETTING, |current| {
        let mut pending = parse_custody_pending(current);
        if !pending.iter().any(|(p, _)| *p == id) {
            pending.push((id, sent));
        }
        format_custody_pending(&pending)
    })
}

/// Takes bundles off the custody list, atomically, leaving whatever else is on it now.
pub(crate) fn remove_custody_pending(v: &Vault, done: &[BundleId]) -> Result<(), VaultError> {
    v.update_setting(CUSTODY_PENDING_SETTING, |current| {
        let mut pending = parse_custody_pending(current);
        pending.retain(|(p, _)| !done.contains(p));
        format_custody_pending(&pending)
    })
}

/// Records a verified custody receipt about the bytes whose SHA-256 is `sent`: the bundle is
/// listed for its registry receipt first, so a crash in between still looks for it, then
/// leaves the queue. Shared by the network path and the USB path (`stick.rs`).
pub(crate) fn keep_custody(
    v: &Vault,
    id: BundleId,
    sent: Sha256,
    custody_bytes: &[u8],
) -> Result<(), VaultError> {
    add_custody_pending(v, id, sent)?;
    v.record_custody(id, custody_bytes)
}

/// What one poll of the custody list found.
struct Polled {
    /// Registry receipts received and recorded.
    received: usize,
    /// Bundles the relay no longer knows, back in the outbox.
    lost: usize,
    /// Some bundles still wait for theirs.
    left: bool,
    /// A verified receipt says the device is revoked.
    revoked: bool,
}

/// Asks for the registry's receipt of every bundle in a relay's custody and records each
/// one that verifies. Stops at the first failure to reach the relay: the rest would fail
/// the same way, each after its own timeout.
async fn poll_custody(
    vault: &Arc<Vault>,
    client: &Client,
    activity: &Activity,
) -> Result<Polled, SyncError> {
    let pending = custody_pending(vault).await?;
    if pending.is_empty() {
        return Ok(Polled {
            received: 0,
            lost: 0,
            left: false,
            revoked: false,
        });
    }
    let before = pending.len();
    let mut kept = Vec::new();
    let mut revoked = false;
    let mut answered = false;
    let mut unreachable = false;
    let mut lost = 0;
    let mut resolved = Vec::new();
    for (id, sha) in pending {
        if unreachable {
            kept.push((id, sha));
            continue;
        }
        attempting(activity);
        match client.central_receipt(id, sha).await {
            Ok(ReceiptLookup::Known(receipt, bytes)) => {
                answered = true;
                if receipt.verdict == Verdict::Rejected(RejectReason::DeviceRevoked) {
                    revoked = true;
                }
                tracing::info!(bundle = %id, verdict = verdict_name(&receipt.verdict), "registry receipt via relay");
                record(vault, id, bytes, receipt).await?;
                resolved.push(id);
            }
            Ok(ReceiptLookup::Pending) => {
                answered = true;
                kept.push((id, sha));
            }
            // The relay lost it after its custody receipt: send it again (the bytes are
            // still in the outbox; de-duplication makes a second arrival safe).
            Ok(ReceiptLookup::Unknown) => {
                answered = true;
                tracing::warn!(bundle = %id, "the relay no longer knows a bundle in its custody; sending again");
                blocking(vault, move |v| v.custody_lost(id)).await?;
                resolved.push(id);
                lost += 1;
            }
            Err(e) => {
                tracing::warn!(bundle = %id, error = %e, "registry receipt not fetched");
                failed(activity, &e);
                unreachable = matches!(e, SyncError::Unreachable(_));
                kept.push((id, sha));
            }
        }
    }
    // Once per poll, not per answer: it is a write to the vault.
    if answered {
        contacted(vault, activity).await;
    }
    if !resolved.is_empty() {
        // Only what this poll settled comes off: `import-receipts` may have changed the list
        // meanwhile.
        blocking(vault, move |v| remove_custody_pending(v, &resolved)).await?;
    }
    Ok(Polled {
        received: before - kept.len() - lost,
        lost,
        left: !kept.is_empty(),
        revoked,
    })
}

async fn record(
    vault: &Arc<Vault>,
    id: BundleId,
    bytes: Vec<u8>,
    receipt: Receipt,
) -> Result<(), SyncError> {
    blocking(vault, move |v| v.record_receipt(id, &bytes, &receipt)).await
}

/// What became of one upload.
enum Sent {
    /// Recorded (receipt or retry).
    Done,
    /// A relay holds it; its registry receipt is to be polled for.
    Custody,
    /// A verified receipt about these bytes says the device is revoked.
    Revoked,
}

async fn send_one(
    vault: &Arc<Vault>,
    client: &Client,
    config: &SyncConfig,
    activity: &Activity,
    item: OutboxItem,
) -> Result<Sent, SyncError> {
    let id = item.bundle_id;
    blocking(vault, move |v| v.mark_uploading(id)).await?;
    attempting(activity);
    update(activity, |a| a.uploading = true);
    let result = client.send(&item.bytes).await;
    update(activity, |a| a.uploading = false);
    match result {
        // `send` verified the relay's certificate and signature, and that the custody
        // receipt is about these bytes. The bundle leaves the queue; its registry receipt is
        // polled for (listed first, so a crash in between still polls).
        Ok(UploadAnswer::Custody(custody, bytes)) => {
            contacted(vault, activity).await;
            if custody.bundle_id != id {
                return Err(SyncError::ReceiptMismatch);
            }
            tracing::info!(bundle = %id, relay_key = %custody.relay_key_id, "custody receipt");
            let sent = custody.submission_sha256;
            blocking(vault, move |v| keep_custody(v, id, sent, &bytes)).await?;
            Ok(Sent::Custody)
        }
        // `send` verified the signature and that the receipt is about these bytes.
        Ok(UploadAnswer::Receipt(receipt, bytes)) => {
            contacted(vault, activity).await;
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
            failed(activity, &e);
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
