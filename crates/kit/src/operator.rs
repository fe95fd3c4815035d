//! Rules for creating an operator account.

use crate::FormError;
use ghidanh_record::Lang;

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
}

impl OperatorRule {
    fn field(self) -> &'static str {
        match self {
            OperatorRule::NameRequired | OperatorRule::NameTooLong => "name",
            OperatorRule::PassphraseTooShort => "passphrase",
            OperatorRule::PassphraseMismatch => "passphraseConfirm",
        }
    }

    fn code(self) -> &'static str {
        match self {
            OperatorRule::NameRequired => "required",
            OperatorRule::NameTooLong => "tooLong",
            OperatorRule::PassphraseTooShort => "tooShort",
            OperatorRule::PassphraseMismatch => "mismatch",
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

/// Checks the account form; returns the normalised name.
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
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        problems.push(OperatorRule::PassphraseTooShort);
    }
    if passphrase != confirm {
        problems.push(OperatorRule::PassphraseMismatch);
    }
    if problems.is_empty() {
        Ok(name)
    } else {
        Err(problems)
    }
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
}
