//! What the sync panel shows: the worker's activity and what waits in the outbox.

use ghidanh_record::Lang;
use ghidanh_sync::{SyncActivity, SyncProblem};
use ghidanh_vault::EnrollmentState;

/// The state of sync for the signed-in session. Times are Unix milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// The last time the registry answered (kept across restarts).
    pub last_contact_ms: Option<i64>,
    /// The last time the kit tried to reach the registry (since the session opened).
    pub last_attempt_ms: Option<i64>,
    /// Why the last attempt failed; `None` when it succeeded or none was made.
    pub last_error: Option<SyncProblem>,
    /// A bundle is being sent right now.
    pub uploading: bool,
    /// When the worker tries again, while something waits.
    pub next_retry_ms: Option<i64>,
    /// The sync budget is spent: nothing is sent until then.
    pub budget_until_ms: Option<i64>,
    /// The registry could not be reached at the last attempt; the kit checks the link with a
    /// small request before it sends again.
    pub offline: bool,
    /// Sealed bundles without a receipt (sealed or being sent).
    pub waiting: usize,
    /// Bundles a district relay holds; the registry's receipt is still to come.
    pub custody: usize,
    /// Bundles the registry accepted (purged ones included: they were accepted first;
    /// discarded ones are not).
    pub delivered: usize,
    /// Bundles the registry refused, waiting for an operator's decision.
    pub rejected: usize,
    /// Refused bundles an operator discarded (or redid as a new draft).
    pub discarded: usize,
}

impl SyncStatus {
    /// The worker's activity, the vault's counts of enrollments per state code
    /// ([`ghidanh_vault::VaultReport::by_state`]) and how many of the purged ones were
    /// discarded after a refusal rather than purged after acceptance (the kit's count).
    pub(crate) fn new(
        activity: SyncActivity,
        by_state: &[(&str, i64)],
        discarded: usize,
    ) -> SyncStatus {
        let count = |states: &[EnrollmentState]| {
            by_state
                .iter()
                .filter(|(code, _)| states.iter().any(|s| s.code() == *code))
                .map(|(_, n)| usize::try_from(*n).unwrap_or(0))
                .sum()
        };
        use EnrollmentState as S;
        SyncStatus {
            last_contact_ms: activity.last_contact_ms,
            last_attempt_ms: activity.last_attempt_ms,
            last_error: activity.last_error,
            uploading: activity.uploading,
            next_retry_ms: activity.next_retry_ms,
            budget_until_ms: activity.budget_until_ms,
            offline: activity.offline,
            waiting: count(&[S::Sealed, S::Uploading]),
            custody: count(&[S::Custody]),
            delivered: count(&[S::Accepted, S::Purged]).saturating_sub(discarded),
            rejected: count(&[S::Rejected]),
            discarded,
        }
    }
}

/// The operator's words for why the registry was not reached: never the raw error (an
/// address, a server's body), only what happened and that the kit keeps trying.
pub fn sync_problem_message(problem: SyncProblem, lang: Lang) -> String {
    let vi = lang == Lang::Vi;
    match problem {
        SyncProblem::Unreachable if vi => {
            "Không kết nối được máy chủ. Hồ sơ vẫn được giữ trên máy và sẽ tự gửi lại.".into()
        }
        SyncProblem::Unreachable => {
            "Cannot reach the registry. Records stay on this device and are sent again automatically.".into()
        }
        SyncProblem::RegistryError { status } if vi => format!(
            "Máy chủ đang gặp lỗi (HTTP {status}). Hồ sơ vẫn được giữ trên máy và sẽ tự gửi lại."
        ),
        SyncProblem::RegistryError { status } => format!(
            "The registry answered with an error (HTTP {status}). Records stay on this device and are sent again automatically."
        ),
        SyncProblem::RegistrationRefused if vi => {
            "Máy chủ từ chối đăng ký thiết bị này; hãy liên hệ trung tâm.".into()
        }
        SyncProblem::RegistrationRefused => {
            "The registry refused to register this device; contact the registry staff.".into()
        }
        SyncProblem::BadAnswer if vi => {
            "Câu trả lời của máy chủ không hợp lệ (có thể do mạng trung gian). Sẽ tự thử lại.".into()
        }
        SyncProblem::BadAnswer => {
            "The registry's answer was not valid (a proxy in the way?). Trying again automatically.".into()
        }
        SyncProblem::Local if vi => {
            "Lỗi khi đọc hoặc ghi dữ liệu trên máy; dữ liệu đã lưu không bị mất.".into()
        }
        SyncProblem::Local => {
            "Reading or writing the data on this device failed; nothing already saved was lost.".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_has_a_message_in_both_languages_without_detail() {
        let all = [
            SyncProblem::Unreachable,
            SyncProblem::RegistryError { status: 503 },
            SyncProblem::RegistrationRefused,
            SyncProblem::BadAnswer,
            SyncProblem::Local,
        ];
        for p in all {
            let (vi, en) = (
                sync_problem_message(p, Lang::Vi),
                sync_problem_message(p, Lang::En),
            );
            assert!(!vi.is_empty() && !en.is_empty() && vi != en, "{p:?}");
            assert!(!vi.contains("http://") && !en.contains("127.0.0.1"));
        }
        assert!(sync_problem_message(SyncProblem::Unreachable, Lang::Vi)
            .starts_with("Không kết nối được máy chủ"));
        assert!(
            sync_problem_message(SyncProblem::RegistryError { status: 503 }, Lang::En)
                .contains("HTTP 503")
        );
    }
}
