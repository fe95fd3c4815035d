//! Rules of the supervisor's settings: the retention period and the daily data allowance
//! for sending.

use crate::FormError;
use ghidanh_record::Lang;

/// Shortest retention period, in days: 0 purges an accepted enrollment's personal data at
/// the next sign-in after its receipt (the vault's default).
pub const MIN_RETENTION_DAYS: u32 = 0;
/// Longest retention period, in days. Once the registry has signed a receipt the kit needs
/// the personal data no longer; keeping it only widens what a lost device exposes, so a
/// quarter is the limit (a correction or a question about a record comes within weeks).
pub const MAX_RETENTION_DAYS: u32 = 90;

/// Largest daily data allowance, in megabytes: more is no limit in practice on a field SIM.
pub const MAX_DAILY_ALLOWANCE_MB: u32 = 10_000;

/// A rule of the settings form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingRule {
    /// The retention period was left empty.
    RetentionRequired,
    /// The retention period is not a whole number of days (a fraction, a sign, letters).
    RetentionNotWholeDays,
    /// The retention period is outside MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS.
    RetentionOutOfRange,
    /// The daily allowance is not a whole number of megabytes.
    AllowanceNotWholeMegabytes,
    /// The daily allowance is above MAX_DAILY_ALLOWANCE_MB.
    AllowanceOutOfRange,
}

impl SettingRule {
    fn field(self) -> &'static str {
        match self {
            SettingRule::RetentionRequired
            | SettingRule::RetentionNotWholeDays
            | SettingRule::RetentionOutOfRange => "retentionDays",
            SettingRule::AllowanceNotWholeMegabytes | SettingRule::AllowanceOutOfRange => {
                "dailyAllowanceMb"
            }
        }
    }

    fn code(self) -> &'static str {
        match self {
            SettingRule::RetentionRequired => "required",
            SettingRule::RetentionNotWholeDays => "wholeDays",
            SettingRule::RetentionOutOfRange | SettingRule::AllowanceOutOfRange => "range",
            SettingRule::AllowanceNotWholeMegabytes => "wholeMegabytes",
        }
    }

    fn message(self, lang: Lang) -> String {
        match (self, lang) {
            (SettingRule::RetentionRequired, Lang::Vi) => {
                "Thời hạn lưu giữ (ngày): không được để trống.".into()
            }
            (SettingRule::RetentionRequired, Lang::En) => {
                "Retention period (days): is required.".into()
            }
            (SettingRule::RetentionNotWholeDays, Lang::Vi) => {
                "Thời hạn lưu giữ (ngày): phải là một số ngày nguyên, chỉ gồm chữ số.".into()
            }
            (SettingRule::RetentionNotWholeDays, Lang::En) => {
                "Retention period (days): must be a whole number of days, digits only.".into()
            }
            (SettingRule::RetentionOutOfRange, Lang::Vi) => format!(
                "Thời hạn lưu giữ (ngày): phải từ {MIN_RETENTION_DAYS} đến {MAX_RETENTION_DAYS} ngày."
            ),
            (SettingRule::RetentionOutOfRange, Lang::En) => format!(
                "Retention period (days): must be from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS} days."
            ),
            (SettingRule::AllowanceNotWholeMegabytes, Lang::Vi) => {
                "Hạn mức dữ liệu mỗi ngày (MB): phải là một số MB nguyên, chỉ gồm chữ số; để trống hoặc 0 là không giới hạn.".into()
            }
            (SettingRule::AllowanceNotWholeMegabytes, Lang::En) => {
                "Daily data allowance (MB): must be a whole number of megabytes, digits only; empty or 0 is no limit.".into()
            }
            (SettingRule::AllowanceOutOfRange, Lang::Vi) => format!(
                "Hạn mức dữ liệu mỗi ngày (MB): tối đa {MAX_DAILY_ALLOWANCE_MB} MB."
            ),
            (SettingRule::AllowanceOutOfRange, Lang::En) => format!(
                "Daily data allowance (MB): at most {MAX_DAILY_ALLOWANCE_MB} MB."
            ),
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

/// The retention period as typed: whole days (ASCII digits, surrounding spaces ignored)
/// within the limits.
pub(crate) fn parse_retention_days(typed: &str) -> Result<u32, SettingRule> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(SettingRule::RetentionRequired);
    }
    if !typed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SettingRule::RetentionNotWholeDays);
    }
    // Digits only: a failure to parse is a number too large for u32, out of range anyway.
    match typed.parse::<u32>() {
        Ok(days) if (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) => Ok(days),
        _ => Err(SettingRule::RetentionOutOfRange),
    }
}

/// The daily data allowance as typed: whole megabytes up to the limit; empty or 0 is no
/// limit (returned as 0).
pub(crate) fn parse_daily_allowance_mb(typed: &str) -> Result<u32, SettingRule> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(0);
    }
    if !typed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SettingRule::AllowanceNotWholeMegabytes);
    }
    match typed.parse::<u32>() {
        Ok(mb) if mb <= MAX_DAILY_ALLOWANCE_MB => Ok(mb),
        _ => Err(SettingRule::AllowanceOutOfRange),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowance_is_whole_megabytes_and_empty_or_zero_is_no_limit() {
        assert_eq!(parse_daily_allowance_mb(""), Ok(0));
        assert_eq!(parse_daily_allowance_mb(" 0 "), Ok(0));
        assert_eq!(parse_daily_allowance_mb("50"), Ok(50));
        assert_eq!(parse_daily_allowance_mb("10000"), Ok(10_000));
        assert_eq!(
            parse_daily_allowance_mb("10001"),
            Err(SettingRule::AllowanceOutOfRange)
        );
        for typed in ["1.5", "-1", "50MB", "năm mươi"] {
            assert_eq!(
                parse_daily_allowance_mb(typed),
                Err(SettingRule::AllowanceNotWholeMegabytes),
                "{typed}"
            );
        }
        let e = SettingRule::AllowanceOutOfRange.to_form_error(Lang::Vi);
        assert_eq!(
            (e.field.as_str(), e.rule.as_str(), e.message.as_str()),
            (
                "dailyAllowanceMb",
                "range",
                "Hạn mức dữ liệu mỗi ngày (MB): tối đa 10000 MB."
            )
        );
    }

    #[test]
    fn retention_is_whole_days_within_the_limits() {
        assert_eq!(parse_retention_days("0"), Ok(0));
        assert_eq!(parse_retention_days(" 30 "), Ok(30));
        assert_eq!(parse_retention_days("090"), Ok(90));
        assert_eq!(
            parse_retention_days("91"),
            Err(SettingRule::RetentionOutOfRange)
        );
        assert_eq!(
            parse_retention_days("99999999999999999999"),
            Err(SettingRule::RetentionOutOfRange)
        );
        for typed in ["1.5", "-1", "+3", "ba", "1e2", "٣", "3 ngày"] {
            assert_eq!(
                parse_retention_days(typed),
                Err(SettingRule::RetentionNotWholeDays),
                "{typed}"
            );
        }
        assert_eq!(
            parse_retention_days("  "),
            Err(SettingRule::RetentionRequired)
        );
    }

    #[test]
    fn each_rule_names_the_field_and_the_rule_in_both_languages() {
        let e = SettingRule::RetentionOutOfRange.to_form_error(Lang::Vi);
        assert_eq!(
            (e.field.as_str(), e.rule.as_str()),
            ("retentionDays", "range")
        );
        assert_eq!(e.message, "Thời hạn lưu giữ (ngày): phải từ 0 đến 90 ngày.");
        assert_eq!(
            SettingRule::RetentionOutOfRange
                .to_form_error(Lang::En)
                .message,
            "Retention period (days): must be from 0 to 90 days."
        );
        let e = SettingRule::RetentionNotWholeDays.to_form_error(Lang::En);
        assert_eq!(e.rule, "wholeDays");
        assert_eq!(
            e.message,
            "Retention period (days): must be a whole number of days, digits only."
        );
        assert!(SettingRule::RetentionNotWholeDays
            .to_form_error(Lang::Vi)
            .message
            .starts_with("Thời hạn lưu giữ (ngày): "));
    }
}
