//! Tauri commands callable from the UI with `invoke(name, args)`.
//!
//! Each command is a thin adapter: JSON arguments in, one `Kit` call, JSON out. Blocking kit
//! work (Argon2id, SQLite fsyncs) runs on the blocking pool so the window never freezes.
//! Errors cross as data, `{code, message, fieldErrors}`; the UI switches on `code`.

use std::sync::Arc;

use ghidanh_kit::{
    sync_problem_message, EnrollmentId, EnrollmentInput, EnrollmentSummary, FormError, Kit,
    KitError, Lang, Operator, OperatorId, Rejection, SessionState, Status, SyncStatus,
};
use serde::Serialize;
use tauri::State;

use crate::AppState;

/// What the UI needs to decide which screen to show.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    state: &'static str,
    operator_name: Option<String>,
    operator_id: Option<String>,
    role: Option<&'static str>,
    device_id: Option<String>,
    registry_url: Option<String>,
    language: &'static str,
}

impl From<Status> for AppStatus {
    fn from(s: Status) -> Self {
        AppStatus {
            state: match s.state {
                SessionState::NeedsSetup => "needsSetup",
                SessionState::Locked => "locked",
                SessionState::Unlocked => "unlocked",
                SessionState::Wiped => "wiped",
            },
            operator_name: s.operator_name,
            operator_id: s.operator_id.map(|id| id.to_string()),
            role: s.role.map(|r| r.code()),
            device_id: s.device_id,
            registry_url: s.registry_url,
            language: s.language.code(),
        }
    }
}

/// One broken rule, localized.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldErrorDto {
    field: String,
    rule: String,
    message: String,
}

impl From<FormError> for FieldErrorDto {
    fn from(e: FormError) -> Self {
        FieldErrorDto {
            field: e.field,
            rule: e.rule,
            message: e.message,
        }
    }
}

/// The error object every command rejects with.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppError {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    field_errors: Vec<FieldErrorDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<u64>,
}

impl AppError {
    fn new(e: KitError, lang: Lang) -> AppError {
        if let KitError::Internal(detail)
        | KitError::Camera(detail)
        | KitError::NotProvisioned(detail)
        | KitError::VaultCorrupt(detail) = &e
        {
            // Details are for the log only; they never reach the screen.
            tracing::error!(code = e.code(), %detail, "command failed");
        }
        if let KitError::DiskFull(step) | KitError::ReadOnly(step) = &e {
            tracing::error!(code = e.code(), step, "command failed");
        }
        AppError {
            code: e.code(),
            message: e.message(lang),
            field_errors: e.form_errors(lang).into_iter().map(Into::into).collect(),
            retry_after_secs: e.retry_after_secs(),
        }
    }
}

/// One line of the enrollment list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentSummaryDto {
    id: String,
    birth_name: String,
    personal_id: String,
    state: &'static str,
    receipt_id: Option<String>,
    /// Why the registry refused it, as a sentence in the operator's language.
    reason: Option<String>,
    /// What the operator can do about it, while it waits for a decision.
    reason_advice: Option<String>,
    /// The receipt's reason code, for support.
    reason_code: Option<String>,
    /// Rejected for its content (or its bundle id): `redo_rejected` accepts it.
    can_correct: bool,
    updated_at: String,
}

impl EnrollmentSummaryDto {
    fn new(s: EnrollmentSummary, lang: Lang) -> Self {
        let rejection = Rejection::of(&s, lang);
        EnrollmentSummaryDto {
            id: s.id.to_string(),
            birth_name: s.input.birth_name,
            personal_id: s.input.personal_id,
            state: s.state.code(),
            receipt_id: s.receipt_id,
            can_correct: rejection.as_ref().is_some_and(|r| r.correctable),
            reason: rejection.as_ref().map(|r| r.message.clone()),
            reason_advice: rejection.as_ref().and_then(|r| r.advice.clone()),
            reason_code: rejection.map(|r| r.code),
            updated_at: rfc3339_ms(s.updated_at_ms),
        }
    }
}

/// Why the last attempt to reach the registry failed: a stable code and the operator's words.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SyncErrorDto {
    code: &'static str,
    message: String,
}

/// The sync panel: times in RFC 3339 (null when never), counts of bundles.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatusDto {
    last_contact_at: Option<String>,
    last_attempt_at: Option<String>,
    last_error: Option<SyncErrorDto>,
    uploading: bool,
    next_retry_at: Option<String>,
    budget_until_at: Option<String>,
    offline: bool,
    waiting: usize,
    custody: usize,
    delivered: usize,
    rejected: usize,
    discarded: usize,
}

impl SyncStatusDto {
    fn new(s: SyncStatus, lang: Lang) -> Self {
        SyncStatusDto {
            last_contact_at: s.last_contact_ms.map(rfc3339_ms),
            last_attempt_at: s.last_attempt_ms.map(rfc3339_ms),
            last_error: s.last_error.map(|p| SyncErrorDto {
                code: p.code(),
                message: sync_problem_message(p, lang),
            }),
            uploading: s.uploading,
            next_retry_at: s.next_retry_ms.map(rfc3339_ms),
            budget_until_at: s.budget_until_ms.map(rfc3339_ms),
            offline: s.offline,
            waiting: s.waiting,
            custody: s.custody,
            delivered: s.delivered,
            rejected: s.rejected,
            discarded: s.discarded,
        }
    }
}

fn rfc3339_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// One account on this device.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OperatorDto {
    id: String,
    name: String,
    role: &'static str,
}

impl From<Operator> for OperatorDto {
    fn from(o: Operator) -> Self {
        OperatorDto {
            id: o.id.to_string(),
            name: o.name,
            role: o.role.code(),
        }
    }
}

/// The result of saving a draft.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SaveResult {
    id: String,
    errors: Vec<FieldErrorDto>,
}

pub(crate) type CmdResult<T> = Result<T, AppError>;

/// Runs blocking kit work off the UI thread and maps its error. A command a person causes
/// (typing, a button) restarts the idle lock's clock.
pub(crate) async fn with_kit<T: Send + 'static>(
    state: State<'_, AppState>,
    f: impl FnOnce(&Kit, Lang) -> Result<T, KitError> + Send + 'static,
) -> CmdResult<T> {
    state.kit.touch();
    polled(state, f).await
}

/// [`with_kit`] for what the UI polls on its own (status, the list): no activity, or an
/// open window would never lock.
pub(crate) async fn polled<T: Send + 'static>(
    state: State<'_, AppState>,
    f: impl FnOnce(&Kit, Lang) -> Result<T, KitError> + Send + 'static,
) -> CmdResult<T> {
    let kit: Arc<Kit> = state.kit.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let lang = kit.language();
        f(&kit, lang).map_err(|e| AppError::new(e, kit.language()))
    })
    .await
    .map_err(|_| AppError::new(KitError::Internal("task failed".into()), Lang::Vi))?
}

pub(crate) fn parse_id(id: &str) -> Result<EnrollmentId, KitError> {
    EnrollmentId::parse(id).map_err(|_| KitError::NotFound)
}

fn field_errors(kit: &Kit, input: &EnrollmentInput, lang: Lang) -> Vec<FieldErrorDto> {
    kit.validate(input)
        .iter()
        .map(|e| FormError::from_field_error(e, lang).into())
        .collect()
}

/// Session state and header facts.
#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    polled(state, |kit, _| kit.status().map(Into::into)).await
}

/// Switches the language of messages ("vi" or "en").
#[tauri::command]
pub async fn set_language(state: State<'_, AppState>, lang: String) -> CmdResult<AppStatus> {
    with_kit(state, move |kit, _| {
        let lang = Lang::parse(&lang).unwrap_or_default();
        kit.set_language(lang).map(Into::into)
    })
    .await
}

/// Creates the first operator account and opens the vault.
#[tauri::command]
pub async fn create_operator(
    state: State<'_, AppState>,
    name: String,
    passphrase: String,
    passphrase_confirm: String,
) -> CmdResult<AppStatus> {
    let passphrase = zeroize::Zeroizing::new(passphrase);
    let confirm = zeroize::Zeroizing::new(passphrase_confirm);
    with_kit(state, move |kit, _| {
        kit.create_operator(&name, &passphrase, &confirm)
            .map(Into::into)
    })
    .await
}

/// Opens the vault with the operator's passphrase.
#[tauri::command]
pub async fn unlock(state: State<'_, AppState>, passphrase: String) -> CmdResult<AppStatus> {
    let passphrase = zeroize::Zeroizing::new(passphrase);
    with_kit(state, move |kit, _| kit.unlock(&passphrase).map(Into::into)).await
}

/// Closes the vault.
#[tauri::command]
pub async fn lock(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    with_kit(state, |kit, _| kit.lock().map(Into::into)).await
}

/// Every account on this device.
#[tauri::command]
pub async fn list_operators(state: State<'_, AppState>) -> CmdResult<Vec<OperatorDto>> {
    with_kit(state, |kit, _| {
        Ok(kit.operators()?.into_iter().map(Into::into).collect())
    })
    .await
}

/// Adds an account (supervisors only). `role`: "operator" or "supervisor".
#[tauri::command]
pub async fn add_operator(
    state: State<'_, AppState>,
    name: String,
    role: String,
    passphrase: String,
    passphrase_confirm: String,
) -> CmdResult<OperatorDto> {
    let passphrase = zeroize::Zeroizing::new(passphrase);
    let confirm = zeroize::Zeroizing::new(passphrase_confirm);
    with_kit(state, move |kit, _| {
        let role = ghidanh_kit::parse_role(&role)?;
        kit.add_operator(&name, &passphrase, &confirm, role)
            .map(Into::into)
    })
    .await
}

/// Changes the signed-in account's own passphrase.
#[tauri::command]
pub async fn change_passphrase(
    state: State<'_, AppState>,
    current: String,
    passphrase: String,
    passphrase_confirm: String,
) -> CmdResult<()> {
    let current = zeroize::Zeroizing::new(current);
    let passphrase = zeroize::Zeroizing::new(passphrase);
    let confirm = zeroize::Zeroizing::new(passphrase_confirm);
    with_kit(state, move |kit, _| {
        kit.change_passphrase(&current, &passphrase, &confirm)
    })
    .await
}

/// Gives another account a new passphrase (supervisors only).
#[tauri::command]
pub async fn reset_passphrase(
    state: State<'_, AppState>,
    operator_id: String,
    passphrase: String,
    passphrase_confirm: String,
) -> CmdResult<()> {
    let passphrase = zeroize::Zeroizing::new(passphrase);
    let confirm = zeroize::Zeroizing::new(passphrase_confirm);
    with_kit(state, move |kit, _| {
        let id = OperatorId::parse(&operator_id).map_err(|_| KitError::NotFound)?;
        kit.reset_passphrase(id, &passphrase, &confirm)
    })
    .await
}

/// The retention period, in days (any signed-in account may read it).
#[tauri::command]
pub async fn get_retention_days(state: State<'_, AppState>) -> CmdResult<u32> {
    with_kit(state, |kit, _| kit.retention_days()).await
}

/// Sets the retention period (supervisors only) from the field as typed; the kit checks
/// it (whole days, within its limits) and answers the days set.
#[tauri::command]
pub async fn set_retention_days(state: State<'_, AppState>, days: String) -> CmdResult<u32> {
    with_kit(state, move |kit, _| kit.set_retention_days(&days)).await
}

/// The daily data allowance for sending, in MB (0: no limit; any signed-in account).
#[tauri::command]
pub async fn get_daily_allowance_mb(state: State<'_, AppState>) -> CmdResult<u32> {
    with_kit(state, |kit, _| kit.daily_allowance_mb()).await
}

/// Sets the daily data allowance (supervisors only) from the field as typed; the kit checks
/// it and answers the megabytes set.
#[tauri::command]
pub async fn set_daily_allowance_mb(
    state: State<'_, AppState>,
    megabytes: String,
) -> CmdResult<u32> {
    with_kit(state, move |kit, _| kit.set_daily_allowance_mb(&megabytes)).await
}

/// Every broken rule of the form as typed.
#[tauri::command]
pub async fn validate_enrollment(
    state: State<'_, AppState>,
    input: EnrollmentInput,
) -> CmdResult<Vec<FieldErrorDto>> {
    with_kit(state, move |kit, lang| Ok(field_errors(kit, &input, lang))).await
}

/// Saves a draft (valid or not) and returns its id and current problems.
#[tauri::command]
pub async fn save_draft(
    state: State<'_, AppState>,
    id: Option<String>,
    input: EnrollmentInput,
) -> CmdResult<SaveResult> {
    with_kit(state, move |kit, lang| {
        let id = id.as_deref().map(parse_id).transpose()?;
        let (id, _) = kit.save_draft(id, &input)?;
        Ok(SaveResult {
            id: id.to_string(),
            errors: field_errors(kit, &input, lang),
        })
    })
    .await
}

/// The record of a draft, to load it back into the form.
#[tauri::command]
pub async fn get_draft(state: State<'_, AppState>, id: String) -> CmdResult<EnrollmentInput> {
    with_kit(state, move |kit, _| {
        Ok(kit.enrollment(parse_id(&id)?)?.input)
    })
    .await
}

/// Seals a valid draft into a bundle and queues it for upload.
#[tauri::command]
pub async fn finalise(state: State<'_, AppState>, id: String) -> CmdResult<EnrollmentSummaryDto> {
    with_kit(state, move |kit, lang| {
        Ok(EnrollmentSummaryDto::new(
            kit.finalise(parse_id(&id)?)?,
            lang,
        ))
    })
    .await
}

/// Discards an enrollment the registry refused (its personal data goes; the receipt and the
/// audit entries stay). Refused with `notRejected` for any other.
#[tauri::command]
pub async fn discard_rejected(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    with_kit(state, move |kit, _| kit.discard_rejected(parse_id(&id)?)).await
}

/// Starts a new draft from an enrollment refused for its content and discards the refused
/// one; answers the new draft's id. `notRejected` / `notCorrectable` otherwise.
#[tauri::command]
pub async fn redo_rejected(state: State<'_, AppState>, id: String) -> CmdResult<String> {
    with_kit(state, move |kit, _| {
        Ok(kit.redo_rejected(parse_id(&id)?)?.to_string())
    })
    .await
}

/// Every enrollment, newest first.
#[tauri::command]
pub async fn list_enrollments(state: State<'_, AppState>) -> CmdResult<Vec<EnrollmentSummaryDto>> {
    polled(state, |kit, lang| {
        Ok(kit
            .list()?
            .into_iter()
            .map(|s| EnrollmentSummaryDto::new(s, lang))
            .collect())
    })
    .await
}

/// The state of sync, for the panel on the main screen (polled: no activity).
#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> CmdResult<SyncStatusDto> {
    polled(state, |kit, lang| {
        Ok(SyncStatusDto::new(kit.sync_status()?, lang))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_as_code_message_and_field_errors() {
        let e = KitError::InvalidOperator(vec![ghidanh_kit::OperatorRule::PassphraseMismatch]);
        let json = serde_json::to_value(AppError::new(e, Lang::En)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "invalidInput",
                "message": "Please correct the marked fields.",
                "fieldErrors": [{
                    "field": "passphraseConfirm",
                    "rule": "mismatch",
                    "message": "Passphrase again: does not match the passphrase."
                }]
            })
        );
        let json = serde_json::to_value(AppError::new(KitError::Internal("disk".into()), Lang::Vi))
            .unwrap();
        assert_eq!(json["code"], "internal");
        assert!(
            !json.to_string().contains("disk"),
            "details stay out of the UI"
        );
    }

    #[test]
    fn rate_limit_carries_its_wait_and_faults_keep_their_detail_off_screen() {
        let json = serde_json::to_value(AppError::new(
            KitError::TooManyAttempts {
                retry_after_secs: 16,
            },
            Lang::Vi,
        ))
        .unwrap();
        assert_eq!(json["code"], "tooManyAttempts");
        assert_eq!(json["retryAfterSecs"], 16);
        assert!(json["message"].as_str().unwrap().contains("16 giây"));
        let json = serde_json::to_value(AppError::new(
            KitError::DiskFull("write to the vault database"),
            Lang::Vi,
        ))
        .unwrap();
        assert_eq!(json["code"], "diskFull");
        assert!(json.get("retryAfterSecs").is_none());
        assert!(!json.to_string().contains("vault database"));
        let json =
            serde_json::to_value(AppError::new(KitError::PassphraseInUse, Lang::Vi)).unwrap();
        assert_eq!(json["fieldErrors"][0]["field"], "passphrase");
    }

    #[test]
    fn a_vault_that_does_not_open_crosses_as_vault_corrupt_without_its_detail() {
        let e = KitError::VaultCorrupt("vault is damaged: vault.db is damaged".into());
        let json = serde_json::to_value(AppError::new(e, Lang::Vi)).unwrap();
        assert_eq!(json["code"], "vaultCorrupt");
        assert!(json["message"]
            .as_str()
            .unwrap()
            .starts_with("Không mở được dữ liệu trên máy"));
        assert!(!json.to_string().contains("vault.db"), "{json}");
        let e = KitError::InvalidSetting(vec![ghidanh_kit::SettingRule::RetentionOutOfRange]);
        let json = serde_json::to_value(AppError::new(e, Lang::En)).unwrap();
        assert_eq!(json["code"], "invalidInput");
        assert_eq!(json["fieldErrors"][0]["field"], "retentionDays");
        assert_eq!(json["fieldErrors"][0]["rule"], "range");
    }

    #[test]
    fn status_carries_role_id_and_the_wiped_state() {
        let s = Status {
            state: SessionState::Wiped,
            operator_name: None,
            operator_id: None,
            role: None,
            device_id: None,
            registry_url: None,
            language: Lang::Vi,
        };
        let json = serde_json::to_value(AppStatus::from(s)).unwrap();
        assert_eq!(json["state"], "wiped");
        assert!(json["role"].is_null() && json["operatorId"].is_null());
        let id = OperatorId::new();
        let dto = OperatorDto::from(Operator {
            id,
            name: "Đỗ Thị Anh".into(),
            role: ghidanh_kit::Role::Supervisor,
        });
        assert_eq!(
            serde_json::to_value(dto).unwrap(),
            serde_json::json!({"id": id.to_string(), "name": "Đỗ Thị Anh", "role": "supervisor"})
        );
    }

    #[test]
    fn sync_status_crosses_with_times_counts_and_a_translated_problem() {
        let s = SyncStatus {
            last_contact_ms: Some(1_700_000_000_000),
            last_attempt_ms: Some(1_700_000_060_000),
            last_error: Some(ghidanh_kit::SyncProblem::Unreachable),
            uploading: false,
            next_retry_ms: Some(1_700_000_061_500),
            budget_until_ms: Some(1_700_003_600_000),
            offline: true,
            waiting: 2,
            custody: 0,
            delivered: 5,
            rejected: 1,
            discarded: 2,
        };
        let json = serde_json::to_value(SyncStatusDto::new(s, Lang::Vi)).unwrap();
        assert_eq!(json["lastContactAt"], "2023-11-14T22:13:20Z");
        assert_eq!(json["nextRetryAt"], "2023-11-14T22:14:21.5Z");
        assert_eq!(json["budgetUntilAt"], "2023-11-14T23:13:20Z");
        assert_eq!(json["offline"], true);
        assert_eq!(json["lastError"]["code"], "unreachable");
        assert!(json["lastError"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Không kết nối được máy chủ"));
        assert_eq!(
            (&json["waiting"], &json["delivered"], &json["rejected"]),
            (
                &serde_json::json!(2),
                &serde_json::json!(5),
                &serde_json::json!(1)
            )
        );
        assert_eq!(json["discarded"], 2);
        let json =
            serde_json::to_value(SyncStatusDto::new(SyncStatus::default(), Lang::En)).unwrap();
        assert!(json["lastContactAt"].is_null() && json["lastError"].is_null());
        assert_eq!(json["uploading"], false);
    }

    #[test]
    fn rejected_reasons_are_explained_and_keep_their_code() {
        let mut s = EnrollmentSummary {
            id: EnrollmentId::new(),
            input: EnrollmentInput::default(),
            state: ghidanh_kit::EnrollmentState::Rejected,
            bundle_id: None,
            receipt_id: None,
            reason: Some("unknown_device".into()),
            review_comment: None,
            updated_at_ms: 0,
        };
        let dto = EnrollmentSummaryDto::new(s.clone(), Lang::Vi);
        assert!(
            dto.reason
                .as_deref()
                .unwrap()
                .starts_with("Trung tâm từ chối: máy chưa được đăng ký với trung tâm."),
            "{dto:?}"
        );
        assert_eq!(dto.reason_code.as_deref(), Some("unknown_device"));
        assert!(dto
            .reason_advice
            .as_deref()
            .unwrap()
            .contains("hỗ trợ kỹ thuật"));
        assert!(!dto.can_correct);
        assert_eq!(dto.updated_at, "1970-01-01T00:00:00Z");
        assert_eq!(dto.state, "rejected");

        s.reason = Some("invalid_record:personalId/notTwelveDigits".into());
        s.input.personal_id = "03618700451".into();
        let json = serde_json::to_value(EnrollmentSummaryDto::new(s.clone(), Lang::En)).unwrap();
        assert_eq!(json["canCorrect"], true);
        assert_eq!(
            json["reasonCode"],
            "invalid_record:personalId/notTwelveDigits"
        );
        assert!(json["reason"]
            .as_str()
            .unwrap()
            .contains("must be exactly 12 digits"));
        // Discarded: the reason stays, nothing more to correct.
        s.state = ghidanh_kit::EnrollmentState::Purged;
        s.input = EnrollmentInput::default();
        let json = serde_json::to_value(EnrollmentSummaryDto::new(s, Lang::En)).unwrap();
        assert_eq!(json["canCorrect"], false);
        assert!(json["reasonCode"].is_string() && json["reasonAdvice"].is_null());
    }

    #[test]
    fn a_refused_move_on_a_rejected_record_crosses_with_its_code() {
        for (e, code) in [
            (KitError::NotRejected, "notRejected"),
            (KitError::NotCorrectable, "notCorrectable"),
        ] {
            let json = serde_json::to_value(AppError::new(e, Lang::Vi)).unwrap();
            assert_eq!(json["code"], code);
            assert!(json["message"].as_str().unwrap().contains("từ chối"));
        }
    }
}
