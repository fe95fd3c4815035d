use ghidanh_record::{FieldError, Lang};
use ghidanh_vault::VaultError;

use crate::{OperatorRule, SettingRule};

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
    /// Only an enrollment the registry refused (state rejected) can be discarded or redone.
    #[error("not a rejected enrollment")]
    NotRejected,
    /// The registry's reason is not about the record: a new enrollment from it would be
    /// refused the same way (the device or the bundle is at fault).
    #[error("rejection not correctable by editing the record")]
    NotCorrectable,
    /// The device has no (valid) provisioning file.
    #[error("device not provisioned: {0}")]
    NotProvisioned(String),
    /// Too many wrong passphrases in a row: unlocking waits this many seconds.
    #[error("too many wrong passphrases; retry after {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds until the next try is allowed.
        retry_after_secs: u64,
    },
    /// Only a supervisor may do this (add an operator, reset a passphrase).
    #[error("supervisor only: {0}")]
    NotSupervisor(&'static str),
    /// Another account already opens with the new passphrase.
    #[error("passphrase already used by another account")]
    PassphraseInUse,
    /// The disk is full: this change was not written, everything saved before is kept.
    #[error("disk full: {0}")]
    DiskFull(&'static str),
    /// The file system is read-only: this change was not written.
    #[error("read-only file system: {0}")]
    ReadOnly(&'static str),
    /// The registry revoked this device and its vault was wiped; nothing works any more.
    #[error("device revoked, vault wiped")]
    Wiped,
    /// A vault file is damaged, is not a Ghi Danh vault, or belongs to another vault (copied
    /// from another device): it does not open. Nothing was changed or removed; the detail
    /// (which file, which check) is for the log and for support.
    #[error("vault does not open: {0}")]
    VaultCorrupt(String),
    /// The settings form breaks a rule.
    #[error("invalid setting")]
    InvalidSetting(Vec<SettingRule>),
    /// A frame, an imported photo, a scanner's record or an exception was refused.
    #[error("capture refused: {0:?}")]
    Capture(CaptureRule),
    /// The frame fails a portrait check; the check says what to fix.
    #[error("portrait refused")]
    PortraitRefused(Box<ghidanh_biometrics::face::FaceCheck>),
    /// No fingerprint scanner answers on this computer.
    #[error("no fingerprint scanner")]
    NoScanner,
    /// The scanner answered, but not with a print.
    #[error("scanner: {0}")]
    Scanner(ghidanh_sbi::SbiError),
    /// No camera, or it would not give a frame; the detail is for the log.
    #[error("camera: {0}")]
    Camera(String),
    /// Anything else; details are logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a capture input was refused: each names what is wrong in the operator's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureRule {
    /// More than [`crate::MAX_FRAME_BYTES`] or larger than 10 000 pixels a side.
    TooLarge,
    /// The bytes are no image at all.
    NotAnImage,
    /// An image, but neither JPEG nor PNG.
    NotJpegOrPng,
    /// A JPEG or PNG that does not decode (cut short, damaged).
    Unreadable,
    /// The scanner's answer is not an ISO/IEC 19794-4 finger record.
    NotFingerRecord,
    /// The scanner sent another finger than the one asked for.
    WrongFinger,
    /// "Other" reason without the operator's words.
    DetailRequired,
    /// The operator's words are longer than a bundle carries.
    DetailTooLong,
    /// Not one of the reasons the kit knows.
    UnknownReason,
    /// Not a finger position 1–10.
    UnknownFinger,
}

impl CaptureRule {
    /// The stable code (the UI's `rule`).
    pub fn code(self) -> &'static str {
        match self {
            CaptureRule::TooLarge => "tooLarge",
            CaptureRule::NotAnImage => "notAnImage",
            CaptureRule::NotJpegOrPng => "notJpegOrPng",
            CaptureRule::Unreadable => "unreadable",
            CaptureRule::NotFingerRecord => "notFingerRecord",
            CaptureRule::WrongFinger => "wrongFinger",
            CaptureRule::DetailRequired => "detailRequired",
            CaptureRule::DetailTooLong => "detailTooLong",
            CaptureRule::UnknownReason => "unknownReason",
            CaptureRule::UnknownFinger => "unknownFinger",
        }
    }

    /// What the operator reads.
    pub fn message(self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        let (v, e) = match self {
            CaptureRule::TooLarge => (
                "Ảnh quá lớn: chỉ nhận tệp đến 20 MB, mỗi chiều đến 10 000 điểm ảnh.",
                "The photo is too large: files up to 20 MB and 10,000 pixels a side only.",
            ),
            CaptureRule::NotAnImage => (
                "Tệp này không phải là ảnh: hãy chọn ảnh JPEG hoặc PNG.",
                "This file is not a photo: choose a JPEG or PNG image.",
            ),
            CaptureRule::NotJpegOrPng => (
                "Chỉ nhận ảnh JPEG hoặc PNG.",
                "Only JPEG or PNG photos are accepted.",
            ),
            CaptureRule::Unreadable => (
                "Không đọc được ảnh: tệp bị hỏng hoặc chép chưa hết.",
                "The photo does not open: the file is damaged or incompletely copied.",
            ),
            CaptureRule::NotFingerRecord => (
                "Máy quét trả về dữ liệu không đúng chuẩn ISO/IEC 19794-4; hãy lấy lại vân tay.",
                "The scanner answered with data that is not an ISO/IEC 19794-4 record; capture again.",
            ),
            CaptureRule::WrongFinger => (
                "Máy quét trả về vân tay của ngón khác ngón được yêu cầu; hãy lấy lại.",
                "The scanner answered with another finger than the one asked for; capture again.",
            ),
            CaptureRule::DetailRequired => (
                "Lý do khác: hãy ghi rõ lý do không lấy được vân tay.",
                "Other reason: write why the finger cannot be captured.",
            ),
            CaptureRule::DetailTooLong => (
                "Lý do quá dài: tối đa 1024 byte.",
                "The reason is too long: at most 1024 bytes.",
            ),
            CaptureRule::UnknownFinger => (
                "Không có ngón tay này: chỉ có 10 ngón, từ ngón cái phải đến ngón út trái.",
                "No such finger: there are ten, from the right thumb to the left little finger.",
            ),
            CaptureRule::UnknownReason => (
                "Lý do không hợp lệ: chọn cụt/không có ngón, băng bó, không đọc được, hoặc lý do khác.",
                "Not a known reason: choose missing, bandaged, unreadable or other.",
            ),
        };
        if vi { v } else { e }.to_owned()
    }
}

impl From<VaultError> for KitError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::WrongPassphrase => KitError::WrongPassphrase,
            VaultError::NotFound(_) => KitError::NotFound,
            VaultError::AlreadyExists => KitError::AlreadySetUp,
            VaultError::WrongState { .. } => KitError::NotADraft,
            VaultError::TooManyAttempts { retry_after_secs } => {
                KitError::TooManyAttempts { retry_after_secs }
            }
            VaultError::NotSupervisor(what) => KitError::NotSupervisor(what),
            VaultError::PassphraseInUse => KitError::PassphraseInUse,
            VaultError::DiskFull(what) => KitError::DiskFull(what),
            VaultError::ReadOnly(what) => KitError::ReadOnly(what),
            VaultError::Wiped => KitError::Wiped,
            e @ VaultError::Corrupt(_) => KitError::VaultCorrupt(e.to_string()),
            e if is_damage(&e) => KitError::VaultCorrupt(e.to_string()),
            other => KitError::Internal(other.to_string()),
        }
    }
}

/// Whether SQLite itself calls the database damaged, met after the vault opened (a page that
/// fails SQLCipher's check when first read): `SQLITE_CORRUPT` (11) or `SQLITE_NOTADB` (26),
/// primary result codes of SQLite's C API (fixed by SQLite's contract), read from the low
/// byte of the extended code so the kit needs no SQLite dependency of its own.
fn is_damage(e: &VaultError) -> bool {
    match e {
        VaultError::Sqlite(sqlite) => matches!(
            sqlite.sqlite_error().map(|f| f.extended_code & 0xff),
            Some(11 | 26)
        ),
        _ => false,
    }
}

impl KitError {
    /// The stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            KitError::WrongPassphrase => "wrongPassphrase",
            KitError::InvalidRecord(_)
            | KitError::InvalidOperator(_)
            | KitError::InvalidSetting(_) => "invalidInput",
            KitError::Locked => "locked",
            KitError::NotFound => "notFound",
            KitError::AlreadySetUp => "alreadySetUp",
            KitError::NotADraft => "notADraft",
            KitError::NotRejected => "notRejected",
            KitError::NotCorrectable => "notCorrectable",
            KitError::NotProvisioned(_) => "notProvisioned",
            KitError::TooManyAttempts { .. } => "tooManyAttempts",
            KitError::NotSupervisor(_) => "notSupervisor",
            KitError::PassphraseInUse => "passphraseInUse",
            KitError::DiskFull(_) => "diskFull",
            KitError::ReadOnly(_) => "readOnly",
            KitError::Wiped => "wiped",
            KitError::VaultCorrupt(_) => "vaultCorrupt",
            KitError::Capture(_) => "captureRefused",
            KitError::PortraitRefused(_) => "portraitRefused",
            KitError::NoScanner => "noScanner",
            KitError::Scanner(_) => "scanner",
            KitError::Camera(_) => "camera",
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
            KitError::InvalidSetting(rs) => rs.iter().map(|r| r.to_form_error(lang)).collect(),
            // The vault finds this one, but it is the new passphrase field's problem.
            KitError::PassphraseInUse => vec![OperatorRule::PassphraseInUse.to_form_error(lang)],
            _ => Vec::new(),
        }
    }

    /// Seconds to wait before the next unlock, for `tooManyAttempts`.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            KitError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The message an operator reads. Never holds the vault's detail (`DiskFull("…")`
    /// says which step failed, for the log).
    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        match self {
            KitError::WrongPassphrase if vi => "Cụm mật khẩu không đúng. Vui lòng nhập lại.".into(),
            KitError::WrongPassphrase => "Wrong passphrase. Please try again.".into(),
            KitError::InvalidRecord(_)
            | KitError::InvalidOperator(_)
            | KitError::InvalidSetting(_)
                if vi =>
            {
                "Vui lòng sửa các trường được đánh dấu.".into()
            }
            KitError::InvalidRecord(_)
            | KitError::InvalidOperator(_)
            | KitError::InvalidSetting(_) => "Please correct the marked fields.".into(),
            KitError::Locked if vi => "Phiên làm việc đã khóa. Vui lòng mở khóa.".into(),
            KitError::Locked => "The session is locked. Please unlock.".into(),
            KitError::NotFound if vi => "Không tìm thấy hồ sơ.".into(),
            KitError::NotFound => "Enrollment not found.".into(),
            KitError::AlreadySetUp if vi => "Máy đã có tài khoản người thu nhận.".into(),
            KitError::AlreadySetUp => "An operator account already exists.".into(),
            KitError::NotADraft if vi => "Hồ sơ đã niêm phong, không sửa được nữa.".into(),
            KitError::NotADraft => "This enrollment is sealed and can no longer change.".into(),
            KitError::NotRejected if vi => "Chỉ hồ sơ bị trung tâm từ chối mới huỷ hoặc sửa để gửi lại được; hồ sơ này không bị từ chối (hoặc đã được xử lý).".into(),
            KitError::NotRejected => "Only a record the registry refused can be discarded or corrected and resent; this one was not refused (or was already dealt with).".into(),
            KitError::NotCorrectable if vi => "Trung tâm từ chối hồ sơ này không phải vì nội dung hồ sơ, nên sửa hồ sơ không giải quyết được: hãy gọi bộ phận hỗ trợ kỹ thuật, hoặc huỷ hồ sơ.".into(),
            KitError::NotCorrectable => "The registry refused this record for a reason other than its content, so correcting it does not help: call technical support, or discard it.".into(),
            KitError::NotProvisioned(_) if vi => {
                "Máy chưa được cấp phép (thiếu tệp cấp phép của trung tâm).".into()
            }
            KitError::NotProvisioned(_) => {
                "This device is not provisioned (no registry provisioning file).".into()
            }
            KitError::TooManyAttempts { retry_after_secs } if vi => format!(
                "Đã nhập sai cụm mật khẩu quá nhiều lần. Vui lòng thử lại sau {retry_after_secs} giây."
            ),
            KitError::TooManyAttempts { retry_after_secs } => format!(
                "Too many wrong passphrases. Please try again in {retry_after_secs} seconds."
            ),
            KitError::NotSupervisor(_) if vi => "Chỉ giám sát viên mới được làm việc này.".into(),
            KitError::NotSupervisor(_) => "Only a supervisor may do this.".into(),
            KitError::PassphraseInUse if vi => {
                "Cụm mật khẩu này đã có tài khoản khác dùng; hãy chọn cụm khác.".into()
            }
            KitError::PassphraseInUse => {
                "Another account already uses this passphrase; choose another one.".into()
            }
            KitError::DiskFull(_) if vi => "Ổ đĩa đã đầy: chưa lưu được thay đổi vừa rồi; dữ liệu đã lưu trước đó vẫn còn nguyên. Hãy giải phóng dung lượng rồi thử lại.".into(),
            KitError::DiskFull(_) => "The disk is full: the last change was not saved; everything saved before is intact. Free some space and try again.".into(),
            KitError::ReadOnly(_) if vi => "Ổ đĩa chỉ cho phép đọc: chưa lưu được thay đổi vừa rồi; dữ liệu đã lưu trước đó vẫn còn nguyên. Hãy kiểm tra ổ đĩa rồi thử lại.".into(),
            KitError::ReadOnly(_) => "The disk is read-only: the last change was not saved; everything saved before is intact. Check the disk and try again.".into(),
            KitError::Wiped if vi => "Máy này đã bị thu hồi; dữ liệu đã được xoá.".into(),
            KitError::Wiped => "This device was revoked; its data has been erased.".into(),
            KitError::VaultCorrupt(_) if vi => "Không mở được dữ liệu trên máy: tệp dữ liệu bị hỏng, hoặc không phải dữ liệu Ghi Danh của máy này. Dữ liệu đã lưu vẫn được giữ nguyên; đừng xoá gì, hãy gọi bộ phận hỗ trợ kỹ thuật.".into(),
            KitError::VaultCorrupt(_) => "The data on this device does not open: a data file is damaged, or is not this device's Ghi Danh data. Everything saved is kept; do not delete anything, call technical support.".into(),
            KitError::Capture(rule) => rule.message(lang),
            KitError::PortraitRefused(check) => {
                let issues: Vec<String> = check.issues.iter().map(|i| i.message(lang)).collect();
                let head = if vi { "Ảnh chưa đạt" } else { "The photo is not usable" };
                format!("{head}: {}", issues.join(" "))
            }
            KitError::NoScanner if vi => "Không thấy máy quét vân tay: kiểm tra dây cắm rồi bấm “Tìm máy quét”.".into(),
            KitError::NoScanner => "No fingerprint scanner found: check its cable, then press “Find scanner”.".into(),
            KitError::Scanner(e) => e.message(lang),
            KitError::Camera(_) if vi => "Không lấy được hình từ camera: kiểm tra camera, hoặc chọn tệp ảnh từ máy ảnh rời.".into(),
            KitError::Camera(_) => "No picture from the camera: check it, or import a photo file from a separate camera.".into(),
            KitError::Internal(_) if vi => "Lỗi nội bộ; dữ liệu đã lưu không bị mất.".into(),
            KitError::Internal(_) => "Internal error; nothing already saved was lost.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_faults_get_their_own_code_and_a_message_without_detail() {
        let cases = [
            (
                VaultError::DiskFull("write to the vault database"),
                "diskFull",
                "Ổ đĩa đã đầy: ",
            ),
            (
                VaultError::ReadOnly("write to the vault database"),
                "readOnly",
                "Ổ đĩa chỉ cho phép đọc: ",
            ),
        ];
        for (vault_error, code, start) in cases {
            let e = KitError::from(vault_error);
            assert_eq!(e.code(), code);
            let vi = e.message(Lang::Vi);
            assert!(vi.starts_with(start), "{vi}");
            assert!(
                vi.contains("dữ liệu đã lưu trước đó vẫn còn nguyên"),
                "{vi}"
            );
            assert!(!vi.contains("vault") && !e.message(Lang::En).contains("vault database"));
        }
        let e = KitError::from(VaultError::Wiped);
        assert_eq!(e.code(), "wiped");
        assert_eq!(
            e.message(Lang::Vi),
            "Máy này đã bị thu hồi; dữ liệu đã được xoá."
        );
        let e = KitError::from(VaultError::TooManyAttempts {
            retry_after_secs: 8,
        });
        assert_eq!(
            (e.code(), e.retry_after_secs()),
            ("tooManyAttempts", Some(8))
        );
        assert_eq!(
            e.message(Lang::En),
            "Too many wrong passphrases. Please try again in 8 seconds."
        );
        assert_eq!(
            KitError::from(VaultError::NotSupervisor("reset a passphrase")).code(),
            "notSupervisor"
        );
    }

    #[test]
    fn a_vault_that_does_not_open_is_vault_corrupt_with_its_detail_off_screen() {
        let e = KitError::from(VaultError::Corrupt(
            "vault.keys and vault.db come from different vaults",
        ));
        assert_eq!(e.code(), "vaultCorrupt");
        // The log keeps which file and which check; the operator reads what to do.
        assert!(e.to_string().contains("different vaults"), "{e}");
        for lang in [Lang::Vi, Lang::En] {
            let m = e.message(lang);
            assert!(
                !m.contains("vault.") && !m.contains("different vaults"),
                "{m}"
            );
        }
        assert!(e
            .message(Lang::Vi)
            .contains("Dữ liệu đã lưu vẫn được giữ nguyên; đừng xoá gì"));
        assert!(e
            .message(Lang::En)
            .contains("Everything saved is kept; do not delete anything"));
        // Other vault failures stay internal.
        assert_eq!(KitError::from(VaultError::Crypto("x")).code(), "internal");
    }
}
