use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use ghidanh_bundle::{
    seal, AuditEntry, Biometrics, BundleId, DeviceKey, EnrollmentId, OperatorRef, Payload,
};
use ghidanh_record::{EnrollmentInput, FieldError, Lang, ValidRecord};
use ghidanh_sync::{SyncConfig, SyncHandle};
use ghidanh_vault::{EnrollmentSummary, KdfParams, Operator, Vault};

use crate::{operator, KitError};

const LANGUAGE_SETTING: &str = "language";

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
}

/// What the shell shows in its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Session state.
    pub state: SessionState,
    /// Signed-in operator.
    pub operator_name: Option<String>,
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
    session: Mutex<Option<Session>>,
    // The sync worker runs here, apart from whatever runtime the shell uses.
    runtime: Option<tokio::runtime::Runtime>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Today in Vietnam: the local date if the OS gives it, else UTC+7.
fn today() -> time::Date {
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
        Ok(Kit {
            config,
            lang: Mutex::new(Lang::Vi),
            session: Mutex::new(None),
            runtime: Some(runtime),
        })
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
        let session = lock(&self.session);
        let language = self.language();
        let Some(s) = session.as_ref() else {
            let state = if Vault::exists(&self.config.data_dir) {
                SessionState::Locked
            } else {
                SessionState::NeedsSetup
            };
            return Ok(Status {
                state,
                operator_name: None,
                device_id: None,
                registry_url: None,
                language,
            });
        };
        let device = s.vault.device()?;
        Ok(Status {
            state: SessionState::Unlocked,
            operator_name: Some(s.operator.name.clone()),
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
        let vault = Arc::new(vault);
        let sync = self.runtime.as_ref().map(|rt| {
            let _guard = rt.enter();
            ghidanh_sync::spawn(vault.clone(), self.config.sync)
        });
        *lock(&self.session) = Some(Session {
            vault,
            operator,
            sync,
        });
        self.status()
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

    /// Closes the vault and stops sync.
    pub fn lock(&self) -> Result<Status, KitError> {
        lock(&self.session).take();
        self.status()
    }

    fn vault(&self) -> Result<(Arc<Vault>, Operator), KitError> {
        lock(&self.session)
            .as_ref()
            .map(|s| (s.vault.clone(), s.operator.clone()))
            .ok_or(KitError::Locked)
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
        let record =
            ValidRecord::validate(&draft.input, today()).map_err(KitError::InvalidRecord)?;
        let device = vault
            .device()?
            .ok_or_else(|| KitError::NotProvisioned("no provisioning file imported".into()))?;
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
            // Capture of biometrics lands with its own issue.
            biometrics: Biometrics::default(),
            // The lists this build validated the record against, so the registry can tell.
            reference_versions: ghidanh_record::reference::versions()
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

impl Drop for Kit {
    fn drop(&mut self) {
        // Stop the worker before the runtime, and never block inside another runtime.
        lock(&self.session).take();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
