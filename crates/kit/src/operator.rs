//! Rules of the operator account forms: create, add, change and reset a passphrase.

use crate::FormError;
use ghidanh_record::Lang;
use ghidanh_vault::Role;

/// Shortest passphrase accepted, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
/// Longest operator name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A rule of the operator account form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRule {
    /// The name is empty.
    NameRequired,
    /// The name is too long.
    NameTooLong,
    /// The passphrase is too short.
    PassphraseTooShort,
    /// The two passphrases differ.
    PassphraseMismatch,
    /// The current passphrase (to change it) was left empty.
    CurrentRequired,
    /// The new passphrase is the current one.
    PassphraseUnchanged,
    /// Another account already opens with this passphrase (found by the vault: unlock tells
    /// accounts apart by their passphrase).
    PassphraseInUse,
    /// The role is neither operator nor supervisor.
    RoleUnknown,
}

impl OperatorRule {
    fn field(self) -> &'static str {
        match self {
            OperatorRule::NameRequired | OperatorRule::NameTooLong => "name",
            OperatorRule::PassphraseTooShort
            | OperatorRule::PassphraseUnchanged
            | OperatorRule::PassphraseInUse => "passphrase",
            OperatorRule::PassphraseMismatch => "passphraseConfirm",
            OperatorRule::CurrentRequired => "current",
            OperatorRule::RoleUnknown => "role",
        }
    }

    fn code(self) -> &'static str {
        match self {
            OperatorRule::NameRequired | OperatorRule::CurrentRequired => "required",
            OperatorRule::NameTooLong => "tooLong",
            OperatorRule::PassphraseTooShort => "tooShort",
            OperatorRule::PassphraseMismatch => "mismatch",
            OperatorRule::PassphraseUnchanged => "unchanged",
            OperatorRule::PassphraseInUse => "inUse",
            OperatorRule::RoleUnknown => "unknown",
        }
    }

    fn message(self, lang: Lang) -> String {
        match (self, lang) {
            (OperatorRule::NameRequired, Lang::Vi) => {
                "Họ và tên người thu nhận: không được để trống.".into()
            }
            (OperatorRule::NameRequired, Lang::En) => "Operator name: is required.".into(),
            (OperatorRule::NameTooLong, Lang::Vi) => {
                format!("Họ và tên người thu nhận: không được dài quá {MAX_NAME_CHARS} ký tự.")
            }
            (OperatorRule::NameTooLong, Lang::En) => {
                format!("Operator name: must be at most {MAX_NAME_CHARS} characters.")
            }
            (OperatorRule::PassphraseTooShort, Lang::Vi) => {
                format!("Cụm mật khẩu: phải có ít nhất {MIN_PASSPHRASE_CHARS} ký tự.")
            }
            (OperatorRule::PassphraseTooShort, Lang::En) => {
                format!("Passphrase: must be at least {MIN_PASSPHRASE_CHARS} characters.")
            }
            (OperatorRule::PassphraseMismatch, Lang::Vi) => {
                "Nhập lại cụm mật khẩu: không khớp với cụm mật khẩu đã nhập.".into()
            }
            (OperatorRule::PassphraseMismatch, Lang::En) => {
                "Passphrase again: does not match the passphrase.".into()
            }
            (OperatorRule::CurrentRequired, Lang::Vi) => {
                "Cụm mật khẩu hiện tại: không được để trống.".into()
            }
            (OperatorRule::CurrentRequired, Lang::En) => "Current passphrase: is required.".into(),
            (OperatorRule::PassphraseUnchanged, Lang::Vi) => {
                "Cụm mật khẩu mới: phải khác cụm mật khẩu hiện tại.".into()
            }
            (OperatorRule::PassphraseUnchanged, Lang::En) => {
                "New passphrase: must differ from the current one.".into()
            }
            (OperatorRule::PassphraseInUse, Lang::Vi) => {
                "Cụm mật khẩu: đã có tài khoản khác dùng; hãy chọn cụm khác.".into()
            }
            (OperatorRule::PassphraseInUse, Lang::En) => {
                "Passphrase: another account already uses it; choose another one.".into()
            }
            (OperatorRule::RoleUnknown, Lang::Vi) => {
                "Vai trò: phải là người thu nhận hoặc giám sát viên.".into()
            }
            (OperatorRule::RoleUnknown, Lang::En) => "Role: must be operator or supervisor.".into(),
        }
    }

    /// The error as the UI shows it.
    pub fn to_form_error(self, lang: Lang) -> FormError {
        FormError {
            field: self.field().into(),
            rule: self.code().into(),
            message: self.message(lang),
        }
    }
}

/// Checks the account form (create, add); returns the normalised name.
pub(crate) fn check(
    name: &str,
    passphrase: &str,
    confirm: &str,
) -> Result<String, Vec<OperatorRule>> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut problems = Vec::new();
    if name.is_empty() {
        problems.push(OperatorRule::NameRequired);
    } else if name.chars().count() > MAX_NAME_CHARS {
        problems.push(OperatorRule::NameTooLong);
    }
    problems.extend(new_passphrase_problems(passphrase, confirm));
    if problems.is_empty() {
        Ok(name)
    } else {
        Err(problems)
    }
}

/// Checks a new passphrase typed twice (reset by a supervisor).
pub(crate) fn check_new_passphrase(
    passphrase: &str,
    confirm: &str,
) -> Result<(), Vec<OperatorRule>> {
    let problems = new_passphrase_problems(passphrase, confirm);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Checks the change-passphrase form: the current one, and the new one twice.
pub(crate) fn check_change(
    current: &str,
    passphrase: &str,
    confirm: &str,
) -> Result<(), Vec<OperatorRule>> {
    let mut problems = Vec::new();
    if current.is_empty() {
        problems.push(OperatorRule::CurrentRequired);
    }
    problems.extend(new_passphrase_problems(passphrase, confirm));
    if !current.is_empty() && passphrase == current {
        problems.push(OperatorRule::PassphraseUnchanged);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The role as the form sends it.
pub(crate) fn parse_role(role: &str) -> Result<Role, Vec<OperatorRule>> {
    match role {
        "operator" => Ok(Role::Operator),
        "supervisor" => Ok(Role::Supervisor),
        _ => Err(vec![OperatorRule::RoleUnknown]),
    }
}

/// The rules every new passphrase obeys, wherever it is typed.
fn new_passphrase_problems(passphrase: &str, confirm: &str) -> Vec<OperatorRule> {
    let mut problems = Vec::new();
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        problems.push(OperatorRule::PassphraseTooShort);
    }
    if passphrase != confirm {
        problems.push(OperatorRule::PassphraseMismatch);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_rules() {
        assert_eq!(
            check("  Trần  Văn Cảnh ", "12345678", "12345678"),
            Ok("Trần Văn Cảnh".into())
        );
        assert_eq!(
            check("", "short", "other"),
            Err(vec![
                OperatorRule::NameRequired,
                OperatorRule::PassphraseTooShort,
                OperatorRule::PassphraseMismatch
            ])
        );
        assert_eq!(
            OperatorRule::PassphraseMismatch
                .to_form_error(Lang::Vi)
                .message,
            "Nhập lại cụm mật khẩu: không khớp với cụm mật khẩu đã nhập."
        );
    }

    #[test]
    fn change_and_reset_rules_name_their_field() {
        assert_eq!(
            check_change("cũ lắm rồi", "mới tinh khôi", "mới tinh khôi"),
            Ok(())
        );
        assert_eq!(
            check_change("", "ngắn", "ngắn"),
            Err(vec![
                OperatorRule::CurrentRequired,
                OperatorRule::PassphraseTooShort
            ])
        );
        assert_eq!(
            check_change("giữ nguyên nhé", "giữ nguyên nhé", "giữ nguyên nhé"),
            Err(vec![OperatorRule::PassphraseUnchanged])
        );
        let e = OperatorRule::CurrentRequired.to_form_error(Lang::Vi);
        assert_eq!((e.field.as_str(), e.rule.as_str()), ("current", "required"));
        assert!(e.message.starts_with("Cụm mật khẩu hiện tại:"));
        assert_eq!(
            check_new_passphrase("mới tinh khôi", "mới tinh khoi"),
            Err(vec![OperatorRule::PassphraseMismatch])
        );
        let e = OperatorRule::PassphraseInUse.to_form_error(Lang::En);
        assert_eq!(e.field, "passphrase");
        assert!(e.message.starts_with("Passphrase:"));
        assert_eq!(parse_role("supervisor"), Ok(Role::Supervisor));
        assert_eq!(parse_role("admin"), Err(vec![OperatorRule::RoleUnknown]));
    }
}
