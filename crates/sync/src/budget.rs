//! The sync budget: how many bytes and upload attempts a kit may spend in a window (a field
//! laptop on a prepaid 3G/2G SIM, a day's data allowance). What was spent is kept in the
//! vault, so closing and opening the kit does not refill it.

use std::time::Duration;

/// Limits on what the worker may spend per window; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The window the limits apply to (it starts at the first upload after the last one ended).
    pub window: Duration,
    /// Bundle bytes the worker may start sending per window. An attempt counts the whole
    /// bundle, also when a resumed upload sends only its rest: the count errs on the side of
    /// the allowance. The first bundle of a window always goes, however big, or it never could.
    pub max_bytes: Option<u64>,
    /// Upload attempts per window (each costs a connection and radio time on battery).
    pub max_attempts: Option<u32>,
}

impl Budget {
    /// No limit at all (the default: a kit on a wired or unmetered link).
    pub const UNLIMITED: Budget = Budget {
        window: Duration::from_secs(24 * 3600),
        max_bytes: None,
        max_attempts: None,
    };
}

impl Default for Budget {
    fn default() -> Self {
        Budget::UNLIMITED
    }
}

/// The vault setting with the daily data allowance a supervisor set, in megabytes (10⁶
/// bytes); absent or 0: the configured budget applies.
pub const DAILY_ALLOWANCE_SETTING: &str = "sync_daily_megabytes";

impl Budget {
    /// The budget in force: a daily allowance of `megabytes` (as the supervisor set it)
    /// replaces the configured byte limit and window; the attempt limit stays.
    pub fn with_daily_allowance(self, megabytes: Option<u32>) -> Budget {
        match megabytes.filter(|mb| *mb > 0) {
            Some(mb) => Budget {
                window: Duration::from_secs(24 * 3600),
                max_bytes: Some(u64::from(mb) * 1_000_000),
                max_attempts: self.max_attempts,
            },
            None => self,
        }
    }
}

/// The vault setting with what was spent: `window_start_ms bytes attempts`.
pub const BUDGET_SPENT_SETTING: &str = "sync_budget_spent";

/// What was spent in the current window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Spent {
    window_start_ms: i64,
    bytes: u64,
    attempts: u32,
}

impl Spent {
    /// Reads the setting's text; anything unreadable is a fresh window (a damaged counter must
    /// never stop sync for good).
    pub(crate) fn parse(text: Option<&str>) -> Spent {
        let mut parts = text.unwrap_or_default().split_whitespace();
        let (Some(start), Some(bytes), Some(attempts)) = (parts.next(), parts.next(), parts.next())
        else {
            return Spent::default();
        };
        match (start.parse(), bytes.parse(), attempts.parse()) {
            (Ok(window_start_ms), Ok(bytes), Ok(attempts)) => Spent {
                window_start_ms,
                bytes,
                attempts,
            },
            _ => Spent::default(),
        }
    }

    /// The setting's text.
    pub(crate) fn to_text(self) -> String {
        format!("{} {} {}", self.window_start_ms, self.bytes, self.attempts)
    }

    fn rolled(self, budget: &Budget, now_ms: i64) -> Spent {
        let window = i64::try_from(budget.window.as_millis()).unwrap_or(i64::MAX);
        if now_ms.saturating_sub(self.window_start_ms) >= window || now_ms < self.window_start_ms {
            Spent {
                window_start_ms: now_ms,
                bytes: 0,
                attempts: 0,
            }
        } else {
            self
        }
    }

    /// Whether an attempt of `bytes` fits at `now_ms`: `Err(when)` names the time (Unix ms)
    /// the window ends and the budget is whole again.
    pub(crate) fn check(self, budget: &Budget, now_ms: i64, bytes: u64) -> Result<(), i64> {
        let s = self.rolled(budget, now_ms);
        let over_bytes = budget
            .max_bytes
            .is_some_and(|max| s.bytes.saturating_add(bytes) > max && s.bytes > 0);
        let over_attempts = budget.max_attempts.is_some_and(|max| s.attempts >= max);
        if over_bytes || over_attempts {
            let window = i64::try_from(budget.window.as_millis()).unwrap_or(i64::MAX);
            Err(s.window_start_ms.saturating_add(window))
        } else {
            Ok(())
        }
    }

    /// Adds one attempt of `bytes` at `now_ms`.
    pub(crate) fn spend(self, budget: &Budget, now_ms: i64, bytes: u64) -> Spent {
        let s = self.rolled(budget, now_ms);
        Spent {
            bytes: s.bytes.saturating_add(bytes),
            attempts: s.attempts.saturating_add(1),
            ..s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn bytes_and_attempts_stop_at_their_limit_until_the_window_ends() {
        let b = Budget {
            window: HOUR,
            max_bytes: Some(1_000_000),
            max_attempts: Some(3),
        };
        let t0 = 1_000_000_000;
        let s = Spent::default().spend(&b, t0, 400_000);
        assert_eq!(s.check(&b, t0 + 1, 400_000), Ok(()));
        let s = s.spend(&b, t0 + 1, 400_000);
        // 1.2 MB would pass the limit: refused until the window that began at t0 ends.
        assert_eq!(s.check(&b, t0 + 2, 400_000), Err(t0 + 3_600_000));
        assert_eq!(s.check(&b, t0 + 2, 100_000), Ok(()));
        let s = s.spend(&b, t0 + 2, 100_000);
        // Three attempts spent.
        assert_eq!(s.check(&b, t0 + 3, 1), Err(t0 + 3_600_000));
        // A new window.
        assert_eq!(s.check(&b, t0 + 3_600_000, 400_000), Ok(()));
        assert_eq!(s.spend(&b, t0 + 3_600_000, 5).to_text(), "1003600000 5 1");
    }

    #[test]
    fn a_bundle_bigger_than_the_whole_budget_still_goes_first_in_a_window() {
        // Otherwise it could never be sent at all.
        let b = Budget {
            window: HOUR,
            max_bytes: Some(100),
            max_attempts: None,
        };
        assert_eq!(Spent::default().check(&b, 5, 400_000), Ok(()));
        let s = Spent::default().spend(&b, 5, 400_000);
        assert!(s.check(&b, 6, 1).is_err());
    }

    #[test]
    fn unlimited_never_refuses_and_a_damaged_counter_is_a_fresh_window() {
        let s = Spent::parse(Some("12 999999999999 4000000000"));
        assert_eq!(s.check(&Budget::UNLIMITED, 13, u64::MAX), Ok(()));
        for bad in ["", "x y z", "1 2", "-1 -2 -3", "1 2 99999999999"] {
            assert_eq!(Spent::parse(Some(bad)), Spent::default(), "{bad:?}");
        }
        assert_eq!(Spent::parse(Some("7 8 9")).to_text(), "7 8 9");
    }

    #[test]
    fn a_daily_allowance_replaces_the_byte_limit_and_keeps_the_attempt_limit() {
        let configured = Budget {
            window: HOUR,
            max_bytes: Some(5),
            max_attempts: Some(7),
        };
        let b = configured.with_daily_allowance(Some(50));
        assert_eq!(b.window, Duration::from_secs(86_400));
        assert_eq!(b.max_bytes, Some(50_000_000));
        assert_eq!(b.max_attempts, Some(7));
        assert_eq!(configured.with_daily_allowance(Some(0)), configured);
        assert_eq!(configured.with_daily_allowance(None), configured);
    }

    #[test]
    fn a_clock_set_back_starts_a_new_window() {
        let b = Budget {
            window: HOUR,
            max_bytes: None,
            max_attempts: Some(1),
        };
        let s = Spent::default().spend(&b, 10_000_000, 1);
        assert!(s.check(&b, 10_000_001, 1).is_err());
        assert_eq!(s.check(&b, 5_000_000, 1), Ok(()));
    }
}
