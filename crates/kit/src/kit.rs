use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use ghidanh_bundle::OperatorId;
use ghidanh_bundle::{seal, AuditEntry, BundleId, DeviceKey, EnrollmentId, OperatorRef, Payload};
use ghidanh_record::{EnrollmentInput, FieldError, Lang, ValidRecord};
use ghidanh_sync::{SyncConfig, SyncHandle};
use ghidanh_vault::{EnrollmentSummary, KdfParams, Operator, Role, Vault, VaultError};

use crate::{operator, settings, KitError, SyncStatus};

const LANGUAGE_SETTING: &str = "language";
/// How many rejected enrollments were discarded: both they and accepted ones end `purged`, and
/// the sync panel counts only the latter as delivered.
const DISCARDED_SETTING: &str = "discarded_rejected";

/// Where the kit keeps its data and how it behaves.
#[derive(Debug, Clone)]
pub struct KitConfig {
    /// Folder of the vault.
    pub data_dir: PathBuf,
    /// The registry's provisioning file, imported when the first operator is created
    /// (or at a later unlock if it was missing then).
    pub provisioning_file: Option<PathBuf>,
    /// Argon2id cost for new operator passphrases.
    pub kdf: KdfParams,
    /// Sync pacing.
    pub sync: SyncConfig,
    /// An unlocked session with no activity ([`Kit::touch`]) for this long locks itself.
    /// `Duration::ZERO` turns the idle lock off.
    pub idle_lock: Duration,
    /// Where the scanner and the camera are.
    pub devices: crate::DeviceConfig,
}

impl KitConfig {
    /// The idle lock the app uses unless configured otherwise.
    pub const DEFAULT_IDLE_LOCK: Duration = Duration::from_secs(10 * 60);
}

/// Where the operator session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// No operator account yet.
    NeedsSetup,
    /// An account exists; the vault is closed.
    Locked,
    /// The vault is open.
    Unlocked,
    /// The registry revoked this device and the vault was wiped: the app cannot be used.
    Wiped,
}

/// What the shell shows in its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Session state.
    pub state: SessionState,
    /// Signed-in operator.
    pub operator_name: Option<String>,
    /// The signed-in account's id.
    pub operator_id: Option<OperatorId>,
    /// What the signed-in account may do.
    pub role: Option<Role>,
    /// This device's id, once provisioned.
    pub device_id: Option<String>,
    /// The registry it syncs with, once provisioned.
    pub registry_url: Option<String>,
    /// UI language.
    pub language: Lang,
}

struct Session {
    vault: Arc<Vault>,
    operator: Operator,
    // Dropping the session stops the worker.
    sync: Option<SyncHandle>,
}

/// The kit: one per app process.
pub struct Kit {
    config: KitConfig,
    lang: Mutex<Lang>,
    // Shared with the idle-lock thread, which holds only weak references: it ends when the
    // kit does.
    session: Arc<Mutex<Option<Session>>>,
    last_activity: Arc<Mutex<Instant>>,
    wiped: AtomicBool,
    // The sync worker runs here, apart from whatever runtime the shell uses.
    runtime: Option<tokio::runtime::Runtime>,
    // Serialises the decisions on rejected enrollments: a double click on "correct and
    // resend" must not make two drafts of one record.
    rejected: Mutex<()>,
    pub(crate) devices: crate::devices::Devices,
    // Serialises what changes a draft's images with finalising: a print stored while
    // finalise reads them would be reported kept and missing from the bundle.
    media: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Today in Vietnam: the local date if the OS gives it, else UTC+7.
pub(crate) fn today() -> time::Date {
    time::OffsetDateTime::now_local()
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+7)))
        .date()
}

impl Kit {
    /// A kit over `config.data_dir`; nothing is opened until an operator signs in.
    pub fn new(config: KitConfig) -> Result<Kit, KitError> {
        // Validation leans on the embedded reference tables: refuse to run on broken ones.
        ghidanh_record::reference::check()
            .map_err(|e| KitError::Internal(format!("reference data: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ghidanh-sync")
            .enable_all()
            .build()
            .map_err(|e| KitError::Internal(format!("sync runtime: {e}")))?;
        let devices = crate::devices::Devices::new(config.devices.clone());
        let kit = Kit {
            devices,
            config,
            lang: Mutex::new(Lang::Vi),
            session: Arc::new(Mutex::new(None)),
            last_activity: Arc::new(Mutex::new(Instant::now())),
            wiped: AtomicBool::new(false),
            runtime: Some(runtime),
            rejected: Mutex::new(()),
            media: Mutex::new(()),
        };
        if !kit.config.idle_lock.is_zero() {
            spawn_idle_lock(
                Arc::downgrade(&kit.session),
                Arc::downgrade(&kit.last_activity),
                kit.config.idle_lock,
            )?;
        }
        Ok(kit)
    }

    /// Runs `f` on the kit's runtime and waits for it, from any thread: the shell calls the
    /// kit from its blocking pool, where a runtime's own `block_on` would panic.
    pub(crate) fn block_on<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = T> + Send,
    ) -> Result<T, KitError> {
        let Some(rt) = self.runtime.as_ref() else {
            return Err(KitError::Internal("runtime stopped".into()));
        };
        let handle = rt.handle().clone();
        std::thread::scope(|scope| {
            scope
                .spawn(move || handle.block_on(f))
                .join()
                .map_err(|_| KitError::Internal("device task panicked".into()))
        })
    }

    /// Held while a draft's images change or are sealed.
    pub(crate) fn media_lock(&self) -> MutexGuard<'_, ()> {
        lock(&self.media)
    }

    /// The operator did something: the idle lock starts counting again. The shell calls this
    /// for every command a person causes, and not for polling.
    pub fn touch(&self) {
        *lock(&self.last_activity) = Instant::now();
    }

    /// The current language.
    pub fn language(&self) -> Lang {
        *lock(&self.lang)
    }

    /// Changes the language (kept in the vault while unlocked).
    pub fn set_language(&self, lang: Lang) -> Result<Status, KitError> {
        *lock(&self.lang) = lang;
        if let Some(s) = lock(&self.session).as_ref() {
            s.vault.set_setting(LANGUAGE_SETTING, lang.code())?;
        }
        self.status()
    }

    /// The session state and header facts.
    pub fn status(&self) -> Result<Status, KitError> {
        let mut session = lock(&self.session);
        let language = self.language();
        let device = match session.as_ref().map(|s| s.vault.device()) {
            Some(Err(VaultError::Wiped)) => {
                // The sync worker wiped the vault (device revoked): the session is over.
                self.wiped.store(true, Ordering::SeqCst);
                session.take();
                None
            }
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(device)) => Some(device),
            None => None,
        };
        let (Some(s), Some(device)) = (session.as_ref(), device) else {
            let state = if self.wiped.load(Ordering::SeqCst) {
                SessionState::Wiped
            } else if Vault::exists(&self.config.data_dir) {
                SessionState::Locked
            } else {
                SessionState::NeedsSetup
            };
            return Ok(Status {
                state,
                operator_name: None,
                operator_id: None,
                role: None,
                device_id: None,
                registry_url: None,
                language,
            });
        };
        Ok(Status {
            state: SessionState::Unlocked,
            operator_name: Some(s.operator.name.clone()),
            operator_id: Some(s.operator.id),
            role: Some(s.operator.role),
            device_id: device
                .as_ref()
                .map(|d| d.provisioning.device_id.to_string()),
            registry_url: device.map(|d| d.provisioning.registry_url),
            language,
        })
    }

    /// Creates the first operator account, opens the vault and provisions the device.
    pub fn create_operator(
        &self,
        name: &str,
        passphrase: &str,
        confirm: &str,
    ) -> Result<Status, KitError> {
        self.refuse_if_wiped()?;
        if Vault::exists(&self.config.data_dir) {
            return Err(KitError::AlreadySetUp);
        }
        let name = operator::check(name, passphrase, confirm).map_err(KitError::InvalidOperator)?;
        let (vault, operator) =
            Vault::create(&self.config.data_dir, &name, passphrase, self.config.kdf)?;
        vault.set_setting(LANGUAGE_SETTING, self.language().code())?;
        self.open_session(vault, operator)
    }

    /// Opens the vault with the operator's passphrase.
    pub fn unlock(&self, passphrase: &str) -> Result<Status, KitError> {
        self.refuse_if_wiped()?;
        if lock(&self.session).is_some() {
            return self.status();
        }
        let (vault, operator) = Vault::unlock(&self.config.data_dir, passphrase)?;
        if let Some(lang) = vault
            .setting(LANGUAGE_SETTING)?
            .as_deref()
            .and_then(Lang::parse)
        {
            *lock(&self.lang) = lang;
        }
        self.open_session(vault, operator)
    }

    fn open_session(&self, vault: Vault, operator: Operator) -> Result<Status, KitError> {
        self.import_provisioning(&vault)?;
        // The reference updates the registry sent earlier, verified again and installed, so
        // validation and the lists use them from the first record (nothing to do if they are).
        match ghidanh_sync::reference::install_stored(&vault) {
            Ok(0) => {}
            Ok(lists) => tracing::info!(lists, "reference updates from the vault in use"),
            Err(e) => tracing::warn!(
                code = KitError::from(e).code(),
                "reference updates not read; the built-in lists stay"
            ),
        }
        // Retention runs at each sign-in (the idle lock makes that several times a day): what
        // the registry accepted longer ago than the configured days loses its personal data.
        let purged = vault.purge_due(now_ms())?;
        if purged > 0 {
            tracing::info!(
                purged,
                "retention: personal data of accepted enrollments purged"
            );
        }
        let vault = Arc::new(vault);
        let sync = self.runtime.as_ref().map(|rt| {
            let _guard = rt.enter();
            ghidanh_sync::spawn(vault.clone(), self.config.sync)
        });
        self.touch();
        *lock(&self.session) = Some(Session {
            vault,
            operator,
            sync,
        });
        self.status()
    }

    fn refuse_if_wiped(&self) -> Result<(), KitError> {
        if self.wiped.load(Ordering::SeqCst) {
            return Err(KitError::Wiped);
        }
        Ok(())
    }

    /// Imports the provisioning file into a vault that has none yet, with a new device key.
    fn import_provisioning(&self, vault: &Vault) -> Result<(), KitError> {
        if vault.device()?.is_some() {
            return Ok(());
        }
        let Some(path) = &self.config.provisioning_file else {
            tracing::warn!("no provisioning file configured; the device cannot sync");
            return Ok(());
        };
        let bytes = std::fs::read(path).map_err(|e| {
            KitError::NotProvisioned(format!("cannot read {}: {e}", path.display()))
        })?;
        vault
            .provision(&bytes, &DeviceKey::generate())
            .map_err(|e| KitError::NotProvisioned(e.to_string()))
    }

    /// Locks the vault on demand ([`Vault::lock`]: audited, key zeroised) and stops sync.
    pub fn lock(&self) -> Result<Status, KitError> {
        let session = lock(&self.session).take();
        if let Some(s) = session {
            // The vault is closed and its key zeroised even when the audit entry could not be
            // written (disk full): the operator asked to lock, and locked it is.
            if let Err(e) = close_session(s) {
                tracing::error!(code = e.code(), detail = %e, "lock: audit entry not written");
            }
        }
        self.status()
    }

    pub(crate) fn vault(&self) -> Result<(Arc<Vault>, Operator), KitError> {
        self.refuse_if_wiped()?;
        lock(&self.session)
            .as_ref()
            .map(|s| (s.vault.clone(), s.operator.clone()))
            .ok_or(KitError::Locked)
    }

    /// Every account on this device, in Vietnamese name order.
    pub fn operators(&self) -> Result<Vec<Operator>, KitError> {
        Ok(self.vault()?.0.operators()?)
    }

    /// Adds an account (supervisors only; the vault checks the role).
    pub fn add_operator(
        &self,
        name: &str,
        passphrase: &str,
        confirm: &str,
        role: Role,
    ) -> Result<Operator, KitError> {
        let (vault, _) = self.vault()?;
        let name = operator::check(name, passphrase, confirm).map_err(KitError::InvalidOperator)?;
        Ok(vault.add_operator(&name, passphrase, role, self.config.kdf)?)
    }

    /// Changes the signed-in account's own passphrase; `current` must open it.
    pub fn change_passphrase(
        &self,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<(), KitError> {
        let (vault, _) = self.vault()?;
        operator::check_change(current, new, confirm).map_err(KitError::InvalidOperator)?;
        Ok(vault.change_passphrase(current, new, self.config.kdf)?)
    }

    /// Gives another account a new passphrase (supervisors only); its data stays.
    pub fn reset_passphrase(
        &self,
        operator_id: OperatorId,
        new: &str,
        confirm: &str,
    ) -> Result<(), KitError> {
        let (vault, _) = self.vault()?;
        operator::check_new_passphrase(new, confirm).map_err(KitError::InvalidOperator)?;
        Ok(vault.reset_passphrase(operator_id, new, self.config.kdf)?)
    }

    /// Days an accepted enrollment keeps its personal data after its receipt (0 by default:
    /// until the next sign-in).
    pub fn retention_days(&self) -> Result<u32, KitError> {
        Ok(self.vault()?.0.retention_days()?)
    }

    /// Sets the retention period as typed in the settings form (supervisors only): whole
    /// days from [`MIN_RETENTION_DAYS`](crate::MIN_RETENTION_DAYS) to
    /// [`MAX_RETENTION_DAYS`](crate::MAX_RETENTION_DAYS). The retention sweep runs at each
    /// sign-in, so a shorter period purges what it makes due at the next one.
    pub fn set_retention_days(&self, typed: &str) -> Result<u32, KitError> {
        let (vault, operator) = self.vault()?;
        if operator.role != Role::Supervisor {
            return Err(KitError::NotSupervisor("set the retention period"));
        }
        let days = settings::parse_retention_days(typed)
            .map_err(|rule| KitError::InvalidSetting(vec![rule]))?;
        vault.set_retention_days(days)?;
        tracing::info!(days, "retention period set");
        Ok(days)
    }

    /// The daily data allowance for sending, in megabytes (0: no limit, the default).
    pub fn daily_allowance_mb(&self) -> Result<u32, KitError> {
        let (vault, _) = self.vault()?;
        Ok(vault
            .setting(ghidanh_sync::DAILY_ALLOWANCE_SETTING)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Sets the daily data allowance as typed in the settings form (supervisors only): whole
    /// megabytes up to [`MAX_DAILY_ALLOWANCE_MB`](crate::MAX_DAILY_ALLOWANCE_MB), empty or 0
    /// for no limit. The sync worker reads it at every pass; what was sent today counts.
    pub fn set_daily_allowance_mb(&self, typed: &str) -> Result<u32, KitError> {
        let (vault, operator) = self.vault()?;
        if operator.role != Role::Supervisor {
            return Err(KitError::NotSupervisor("set the daily data allowance"));
        }
        let mb = settings::parse_daily_allowance_mb(typed)
            .map_err(|rule| KitError::InvalidSetting(vec![rule]))?;
        vault.set_setting_audited(ghidanh_sync::DAILY_ALLOWANCE_SETTING, &mb.to_string())?;
        tracing::info!(mb, "daily data allowance set");
        Ok(mb)
    }

    /// Every broken rule of `input` (empty when valid).
    pub fn validate(&self, input: &EnrollmentInput) -> Vec<FieldError> {
        ValidRecord::validate(input, today())
            .err()
            .unwrap_or_default()
    }

    /// Saves a draft whatever its validity; returns its id and its current problems.
    pub fn save_draft(
        &self,
        id: Option<EnrollmentId>,
        input: &EnrollmentInput,
    ) -> Result<(EnrollmentId, Vec<FieldError>), KitError> {
        let (vault, operator) = self.vault()?;
        let id = vault.save_draft(id, operator.id, input)?;
        Ok((id, self.validate(input)))
    }

    /// The enrollment as last saved.
    pub fn enrollment(&self, id: EnrollmentId) -> Result<EnrollmentSummary, KitError> {
        Ok(self.vault()?.0.enrollment(id)?)
    }

    /// Every enrollment on this device, newest first.
    pub fn list(&self) -> Result<Vec<EnrollmentSummary>, KitError> {
        Ok(self.vault()?.0.list()?)
    }

    /// The state of sync: the worker's last contact, last attempt and its problem, whether it
    /// is sending, when it tries again, and how many bundles wait, were delivered or refused.
    /// Cheap enough to poll: the counts come from the vault's per-state counts (no personal
    /// data is read, nothing is audited).
    pub fn sync_status(&self) -> Result<SyncStatus, KitError> {
        let (vault, _) = self.vault()?;
        let activity = lock(&self.session)
            .as_ref()
            .and_then(|s| s.sync.as_ref().map(|h| h.activity()))
            .unwrap_or_default();
        let discarded = vault
            .setting(DISCARDED_SETTING)?
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Ok(SyncStatus::new(
            activity,
            &vault.report()?.by_state,
            discarded,
        ))
    }

    /// Gives up on an enrollment the registry refused: Rejected → Purged. Its record, images
    /// and sealed bundle are removed as by the retention sweep; the row (bundle id, reason),
    /// the receipt and every audit entry stay, and the move is audited as `discarded`. Any
    /// signed-in account may do it (the vault asks no role: the operator at the kit is the one
    /// who meets the person again). Anything but a rejected enrollment is refused with
    /// [`KitError::NotRejected`] and nothing changes.
    pub fn discard_rejected(&self, id: EnrollmentId) -> Result<(), KitError> {
        let (vault, _) = self.vault()?;
        let _one_at_a_time = lock(&self.rejected);
        vault.discard_rejected(id).map_err(not_rejected)?;
        count_discarded(&vault);
        tracing::info!(enrollment = %id, "rejected enrollment discarded");
        Ok(())
    }

    /// Starts over from an enrollment the registry refused for its content (or its bundle id,
    /// see [`is_correctable`](crate::is_correctable)): a new draft (a new enrollment id) holds
    /// the record as it was sealed, for the signed-in operator to correct and finalise again;
    /// then the rejected one is discarded as by [`Kit::discard_rejected`] (its receipt and audit
    /// entries stay). Returns the new draft's id.
    ///
    /// Two vault transactions, the draft first: a crash between them leaves the new draft and
    /// the rejected enrollment both (nothing lost; the operator can discard the old one), never
    /// a discarded record without its copy. Refused with [`KitError::NotRejected`] for any
    /// other state and [`KitError::NotCorrectable`] when the reason is not the record's.
    pub fn redo_rejected(&self, id: EnrollmentId) -> Result<EnrollmentId, KitError> {
        use ghidanh_vault::EnrollmentState as S;
        let (vault, operator) = self.vault()?;
        let _one_at_a_time = lock(&self.rejected);
        let old = vault.enrollment(id)?;
        if old.state != S::Rejected {
            return Err(KitError::NotRejected);
        }
        if !old.reason.as_deref().is_some_and(crate::is_correctable) {
            return Err(KitError::NotCorrectable);
        }
        let new = vault.save_draft(None, operator.id, &old.input)?;
        // The person may be far away by now: the photo and prints go with the correction.
        vault.copy_media(id, new)?;
        vault.discard_rejected(id).map_err(not_rejected)?;
        count_discarded(&vault);
        tracing::info!(rejected = %id, draft = %new, "rejected enrollment redone as a new draft");
        Ok(new)
    }

    /// Validates a draft, seals it into a bundle for the registry and queues it for upload.
    pub fn finalise(&self, id: EnrollmentId) -> Result<EnrollmentSummary, KitError> {
        let (vault, operator) = self.vault()?;
        let draft = vault.enrollment(id)?;
        use ghidanh_vault::EnrollmentState as S;
        // Finalised or Approved: an earlier finalise stopped part-way (a crash
        // between its transactions); it picks up where that one stopped.
        if !matches!(draft.state, S::Draft | S::Finalised | S::Approved) {
            return Err(KitError::NotADraft);
        }
        // The bundle names the reference versions the record was validated against: read
        // before and after, and validated again if an update was installed in between.
        let (record, reference_versions) = loop {
            let versions = ghidanh_record::reference::versions();
            let record =
                ValidRecord::validate(&draft.input, today()).map_err(KitError::InvalidRecord)?;
            if std::ptr::eq(versions, ghidanh_record::reference::versions()) {
                break (record, versions);
            }
        };
        let device = vault
            .device()?
            .ok_or_else(|| KitError::NotProvisioned("no provisioning file imported".into()))?;
        let _images_stay = self.media_lock();
        let requirement = record.biometric_requirement(today());
        if requirement == ghidanh_record::BiometricRequirement::None && draft.state == S::Draft {
            // Taken before the date of birth said "under 6": none may be collected, so none
            // is kept (the panel said so as soon as the date was typed).
            crate::biometrics::drop_all(&vault, id)?;
        }
        let now = now_secs();
        let payload = Payload {
            bundle_id: BundleId::new(),
            enrollment_id: id,
            device_id: device.provisioning.device_id,
            operator: OperatorRef {
                id: operator.id,
                name: operator.name.clone(),
            },
            captured_at: now,
            finalised_at: now,
            record: record.to_input(),
            biometrics: crate::biometrics::sealed(&vault, id, requirement)?,
            // The lists the record was validated against (built in, or installed updates),
            // so the registry can tell.
            reference_versions: reference_versions
                .iter()
                .map(|(name, version)| (name.to_owned(), version.to_owned()))
                .collect(),
            audit: vec![AuditEntry {
                at: now,
                action: "finalised".into(),
                operator_id: operator.id,
            }],
        };
        let bytes = seal(
            &payload,
            &device.key,
            &device.provisioning.registry,
            now_secs(),
        )
        .map_err(|e| KitError::Internal(e.to_string()))?;
        if draft.state == S::Draft {
            vault.finalise(id)?;
        }
        if draft.state != S::Approved {
            // Review by a supervisor comes with its own issue; until then nobody reviews.
            vault.approve(id, ghidanh_vault::Approval::NoReviewPolicy)?;
        }
        vault.seal(id, &payload.record, payload.bundle_id, &bytes)?;
        if let Some(sync) = lock(&self.session).as_ref().and_then(|s| s.sync.as_ref()) {
            sync.wake();
        }
        Ok(vault.enrollment(id)?)
    }
}

/// Counts one more discarded enrollment for the sync panel. A separate write after the
/// discard's transaction: if it fails (or the kit stops in between) the panel counts that one
/// as delivered; the enrollment itself is discarded and audited either way.
fn count_discarded(vault: &Vault) {
    let n: u64 = match vault.setting(DISCARDED_SETTING) {
        Ok(v) => v.and_then(|n| n.parse().ok()).unwrap_or(0),
        Err(e) => {
            tracing::warn!(code = KitError::from(e).code(), "discarded count not read");
            return;
        }
    };
    if let Err(e) = vault.set_setting(DISCARDED_SETTING, &(n + 1).to_string()) {
        tracing::warn!(
            code = KitError::from(e).code(),
            "discarded count not written"
        );
    }
}

/// A move the vault's table refuses on a rejected-only action: the enrollment is not rejected.
fn not_rejected(e: VaultError) -> KitError {
    match e {
        VaultError::IllegalTransition { .. } => KitError::NotRejected,
        other => other.into(),
    }
}

/// The role as a form sends it ("operator" or "supervisor").
pub fn parse_role(role: &str) -> Result<Role, KitError> {
    operator::parse_role(role).map_err(KitError::InvalidOperator)
}

/// Ends a session: stops sync, then locks the vault (audit entry, key zeroised).
fn close_session(session: Session) -> Result<(), KitError> {
    let Session { vault, sync, .. } = session;
    if let Some(sync) = sync {
        sync.stop();
    }
    // The aborted worker, or a command still running, may hold a clone for a moment.
    let mut vault = vault;
    for _ in 0..100 {
        match Arc::try_unwrap(vault) {
            Ok(v) => return Ok(v.lock()?),
            Err(shared) => vault = shared,
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Still shared: the last holder's drop closes the database and zeroises the key.
    tracing::warn!("vault still in use at lock; it closes when the last call ends");
    Ok(())
}

/// Locks the session after `idle` without [`Kit::touch`]. Ends with the kit.
fn spawn_idle_lock(
    session: Weak<Mutex<Option<Session>>>,
    last_activity: Weak<Mutex<Instant>>,
    idle: Duration,
) -> Result<(), KitError> {
    // Checking a few times per period keeps the lock within a quarter of `idle` of its due time.
    let tick = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
    std::thread::Builder::new()
        .name("ghidanh-idle-lock".into())
        .spawn(move || loop {
            std::thread::sleep(tick);
            let (Some(session), Some(last_activity)) = (session.upgrade(), last_activity.upgrade())
            else {
                return;
            };
            let idle_for = lock(&last_activity).elapsed();
            if idle_for < idle {
                continue;
            }
            let Some(s) = lock(&session).take() else {
                continue;
            };
            tracing::info!(idle_secs = idle_for.as_secs(), "locking the idle session");
            if let Err(e) = close_session(s) {
                tracing::error!(code = e.code(), detail = %e, "idle lock");
            }
        })
        .map(drop)
        .map_err(|e| KitError::Internal(format!("idle-lock thread: {e}")))
}

impl Drop for Kit {
    fn drop(&mut self) {
        // Stop the worker before the runtime, and never block inside another runtime.
        lock(&self.session).take();
        if let Some(rt) = self.runtime.take() {
            // Outside any runtime (a CLI, a test, the app's main thread), wait a moment for a
            // vault call still running on the worker's blocking pool: a process that exits
            // under it runs SQLCipher's exit handlers while it still uses the database
            // (seen as SIGSEGV/SIGABRT at exit of `ghidanh kit-sim`). Inside a runtime
            // blocking is not allowed, so there it only detaches.
            if tokio::runtime::Handle::try_current().is_err() {
                rt.shutdown_timeout(Duration::from_secs(5));
            } else {
                rt.shutdown_background();
            }
        }
    }
}
