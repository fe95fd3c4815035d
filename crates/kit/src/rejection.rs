//! What an operator reads about a bundle the registry refused, and what they can do about it.
//!
//! The registry's receipt carries a reason code (`invalid_record:personalId/notTwelveDigits`,
//! `bundle_id_conflict`, `device_revoked`, …). The list shows it as a sentence in the
//! operator's language; the code stays for support. Whether the record can be corrected and
//! sent again ([`Kit::redo_rejected`](crate::Kit::redo_rejected)) depends on the reason:
//! only when the refusal is about the record itself, or about the bundle id it was sent
//! under, does a new enrollment from the same record help.

use ghidanh_bundle::RejectReason;
use ghidanh_record::{EnrollmentInput, Lang, ValidRecord};
use ghidanh_vault::{EnrollmentState, EnrollmentSummary};

/// A refusal as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The registry's reason code, as in the receipt (for support).
    pub code: String,
    /// What the registry refused, in the operator's language.
    pub message: String,
    /// What the operator can do about it (`None` once discarded).
    pub advice: Option<String>,
    /// Whether [`Kit::redo_rejected`](crate::Kit::redo_rejected) accepts this enrollment: it
    /// is still rejected (not discarded) and the reason is one a new enrollment can fix.
    pub correctable: bool,
    /// The enrollment was discarded after the refusal (its personal data is gone; the
    /// receipt and the audit entries stay).
    pub discarded: bool,
}

impl Rejection {
    /// The refusal of a rejected or discarded enrollment; `None` for any other (no reason).
    pub fn of(summary: &EnrollmentSummary, lang: Lang) -> Option<Rejection> {
        let code = summary.reason.as_deref()?;
        let rejected = summary.state == EnrollmentState::Rejected;
        // After a discard the record is empty: there is nothing left to point at.
        let input = rejected.then_some(&summary.input);
        Some(Rejection {
            code: code.to_owned(),
            message: rejection_message(code, input, lang),
            advice: rejected.then(|| rejection_advice(code, lang)),
            correctable: rejected && is_correctable(code),
            discarded: summary.state == EnrollmentState::Purged,
        })
    }
}

/// Whether a new enrollment from the same record can fix this refusal: the record broke a
/// rule (the operator corrects it), or the bundle id was already taken at the registry (a new
/// enrollment is sealed under a new one). Refusals about the device (unknown, revoked, key
/// mismatch) or about the bundle's bytes (damaged, altered, sealed to another key) are not
/// the record's fault: editing it changes nothing.
pub fn is_correctable(code: &str) -> bool {
    matches!(
        RejectReason::parse(code),
        RejectReason::InvalidRecord { .. } | RejectReason::BundleIdConflict
    )
}

enum Remedy {
    /// Correct the record and send it again.
    Correct,
    /// Send the same record again under a new enrollment.
    Resend,
    /// Nothing the operator can fix here.
    Support,
}

/// The operator's sentence for a refusal. For a broken record rule, `input` (the record as
/// sealed) is checked again so the sentence names the field and the rule in words; when this
/// kit finds no such problem (the registry's rules or reference lists differ), or the record
/// is gone (discarded), the field and rule codes are named instead.
pub fn rejection_message(code: &str, input: Option<&EnrollmentInput>, lang: Lang) -> String {
    let vi = lang == Lang::Vi;
    let reason = RejectReason::parse(code);
    let what = match &reason {
        RejectReason::InvalidRecord { field, rule } => {
            let found = input.and_then(|input| {
                ValidRecord::validate(input, crate::kit::today())
                    .err()?
                    .into_iter()
                    .find(|e| e.field.code() == field && e.rule.code() == rule)
            });
            match found {
                Some(e) if vi => format!("hồ sơ chưa đúng — {}", e.message(lang)),
                Some(e) => format!("the record is not right — {}", e.message(lang)),
                None if vi => format!("một mục của hồ sơ chưa đúng quy định ({field}: {rule})."),
                None => format!("a field of the record breaks a rule ({field}: {rule})."),
            }
        }
        _ => format!("{}.", reason.message(lang)),
    };
    if vi {
        format!("Trung tâm từ chối: {what}")
    } else {
        format!("The registry refused it: {what}")
    }
}

/// What the operator can do about a refusal still waiting for a decision.
pub fn rejection_advice(code: &str, lang: Lang) -> String {
    let vi = lang == Lang::Vi;
    let remedy = match RejectReason::parse(code) {
        RejectReason::InvalidRecord { .. } => Remedy::Correct,
        RejectReason::BundleIdConflict => Remedy::Resend,
        _ => Remedy::Support,
    };
    match remedy {
        Remedy::Correct if vi => "Bấm “Sửa và gửi lại” để sửa hồ sơ rồi gửi lại, hoặc huỷ hồ sơ.",
        Remedy::Correct => "Press “Correct and resend” to correct the record and send it again, or discard it.",
        Remedy::Resend if vi => "Bấm “Sửa và gửi lại” để gửi lại hồ sơ với mã mới, hoặc huỷ hồ sơ.",
        Remedy::Resend => "Press “Correct and resend” to send the record again under a new id, or discard it.",
        Remedy::Support if vi => "Sửa hồ sơ không giải quyết được việc này: hãy gọi bộ phận hỗ trợ kỹ thuật, hoặc huỷ hồ sơ.",
        Remedy::Support => "Correcting the record does not fix this: call technical support, or discard the record.",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(personal_id: &str) -> EnrollmentInput {
        EnrollmentInput {
            birth_name: "Hoàng Thị Lan".into(),
            date_of_birth: "1987-09-02".into(),
            sex: "female".into(),
            personal_id: personal_id.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_broken_rule_is_named_in_words_when_this_kit_finds_it_too() {
        let code = "invalid_record:personalId/notTwelveDigits";
        let bad = input("03618700451");
        let vi = rejection_message(code, Some(&bad), Lang::Vi);
        assert!(
            vi.starts_with("Trung tâm từ chối: hồ sơ chưa đúng — Số định danh"),
            "{vi}"
        );
        assert!(vi.contains("12 chữ số"), "{vi}");
        assert!(!vi.contains("notTwelveDigits"), "{vi}");
        let en = rejection_message(code, Some(&bad), Lang::En);
        assert!(en.contains("must be exactly 12 digits"), "{en}");
        // The registry's rules differ from this kit's: the codes are all there is to say.
        let vi = rejection_message(code, Some(&input("036187004512")), Lang::Vi);
        assert!(vi.contains("(personalId: notTwelveDigits)"), "{vi}");
        assert!(is_correctable(code) && is_correctable("bundle_id_conflict"));
    }

    #[test]
    fn device_and_bundle_faults_send_to_support_and_discarded_ones_name_the_codes() {
        let x = input("036187004512");
        for code in [
            "device_revoked",
            "unknown_device",
            "ciphertext_mismatch",
            "malformed",
        ] {
            assert!(!is_correctable(code), "{code}");
            let vi = rejection_message(code, Some(&x), Lang::Vi);
            assert!(vi.starts_with("Trung tâm từ chối: "), "{vi}");
            assert!(rejection_advice(code, Lang::Vi).contains("hỗ trợ kỹ thuật"));
        }
        let en = rejection_advice("bundle_id_conflict", Lang::En);
        assert!(en.contains("under a new id"), "{en}");
        assert!(
            rejection_advice("invalid_record:sex/invalidSex", Lang::Vi).contains("Sửa và gửi lại")
        );
        let gone = rejection_message("invalid_record:personalId/notTwelveDigits", None, Lang::En);
        assert_eq!(
            gone,
            "The registry refused it: a field of the record breaks a rule (personalId: notTwelveDigits)."
        );
    }
}
