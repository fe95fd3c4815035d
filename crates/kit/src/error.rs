use ghidanh_record::{FieldError, Lang};
use ghidanh_vault::VaultError;

use crate::OperatorRule;

/// One broken rule, ready for display: the field, the rule's code, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    /// The form field (UI id).
    pub field: String,
    /// The rule's stable code.
    pub rule: String,
    /// The message in the operator's language.
    pub message: String,
}

impl FormError {
    /// From a record validation error.
    pub fn from_field_error(e: &FieldError, lang: Lang) -> FormError {
        FormError {
            field: e.field.code().into(),
            rule: e.rule.code().into(),
            message: e.message(lang),
        }
    }
}

/// What a kit operation can fail with. `code()` is what crosses to the UI.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    /// No operator account opens with this passphrase.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The enrollment breaks record rules.
    #[error("invalid enrollment")]
    InvalidRecord(Vec<FieldError>),
    /// The account form breaks operator rules.
    #[error("invalid operator account")]
    InvalidOperator(Vec<OperatorRule>),
    /// The vault is locked.
    #[error("locked")]
    Locked,
    /// Asked for something that is not there.
    #[error("not found")]
    NotFound,
    /// An operator account already exists.
    #[error("already set up")]
    AlreadySetUp,
    /// The enrollment is no longer a draft.
    #[error("not a draft")]
    NotADraft,
    /// The device has no (valid) provisioning file.
    #[error("device not provisioned: {0}")]
    NotProvisioned(String),
    /// Anything else; details are logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<VaultError> for KitError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::WrongPassphrase => KitError::WrongPassphrase,
            VaultError::NotFound(_) => KitError::NotFound,
            VaultError::AlreadyExists => KitError::AlreadySetUp,
            VaultError::WrongState { .. } => KitError::NotADraft,
            other => KitError::Internal(other.to_string()),
        }
    }
}

impl KitError {
    /// The stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            KitError::WrongPassphrase => "wrongPassphrase",
            KitError::InvalidRecord(_) | KitError::InvalidOperator(_) => "invalidInput",
            KitError::Locked => "locked",
            KitError::NotFound => "notFound",
            KitError::AlreadySetUp => "alreadySetUp",
            KitError::NotADraft => "notADraft",
            KitError::NotProvisioned(_) => "notProvisioned",
            KitError::Internal(_) => "internal",
        }
    }

    /// The per-field errors, for `invalidInput`.
    pub fn form_errors(&self, lang: Lang) -> Vec<FormError> {
        match self {
            KitError::InvalidRecord(es) => es
                .iter()
                .map(|e| FormError::from_field_error(e, lang))
                .collect(),
            KitError::InvalidOperator(rs) => rs.iter().map(|r| r.to_form_error(lang)).collect(),
            _ => Vec::new(),
        }
    }

    /// The message an operator reads.
    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        match self {
            KitError::WrongPassphrase if vi => "Cụm mật khẩu không đúng. Vui lòng nhập lại.".into(),
            KitError::WrongPassphrase => "Wrong passphrase. Please try again.".into(),
            KitError::InvalidRecord(_) | KitError::InvalidOperator(_) if vi => {
                "Vui lòng sửa các trường được đánh dấu.".into()
            }
            KitError::InvalidRecord(_) | KitError::InvalidOperator(_) => {
                "Please correct the marked fields.".into()
            }
            KitError::Locked if vi => "Phiên làm việc đã khóa. Vui lòng mở khóa.".into(),
            KitError::Locked => "The session is locked. Please unlock.".into(),
            KitError::NotFound if vi => "Không tìm thấy hồ sơ.".into(),
            KitError::NotFound => "Enrollment not found.".into(),
            KitError::AlreadySetUp if vi => "Máy đã có tài khoản người thu nhận.".into(),
            KitError::AlreadySetUp => "An operator account already exists.".into(),
            KitError::NotADraft if vi => "Hồ sơ đã niêm phong, không sửa được nữa.".into(),
            KitError::NotADraft => "This enrollment is sealed and can no longer change.".into(),
            KitError::NotProvisioned(_) if vi => {
                "Máy chưa được cấp phép (thiếu tệp cấp phép của trung tâm).".into()
            }
            KitError::NotProvisioned(_) => {
                "This device is not provisioned (no registry provisioning file).".into()
            }
            KitError::Internal(_) if vi => "Lỗi nội bộ; dữ liệu đã lưu không bị mất.".into(),
            KitError::Internal(_) => "Internal error; nothing already saved was lost.".into(),
        }
    }
}
