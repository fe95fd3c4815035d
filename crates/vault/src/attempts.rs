//! The rate limit on wrong passphrases.
//!
//! A failed unlock cannot write into the database it failed to open, so the count of wrong
//! passphrases and the time of the last one wait in [`UNLOCK_FAILURES_FILE`] next to it:
//! two decimal numbers, `"<count> <unix ms>"`, nothing personal. The next successful unlock
//! turns them into audit entries and removes the file.
//!
//! This slows down someone guessing at the unlock screen; it cannot slow down a thief who
//! copies `vault.keys` and runs Argon2id elsewhere: that is what the Argon2id cost is for.

use std::io::Write;
use std::path::Path;

use crate::UNLOCK_FAILURES_FILE;

/// Wrong passphrases allowed without any wait (typos happen).
pub(crate) const FREE_TRIES: u64 = 3;
/// The longest wait between two tries, in seconds.
pub(crate) const MAX_DELAY_SECS: u64 = 5 * 60;

/// Seconds to wait after `failures` wrong passphrases in a row: none for the first
/// [`FREE_TRIES`], then 2, 4, 8 … seconds (`2^(failures − 3)`), at most [`MAX_DELAY_SECS`].
pub(crate) fn delay_secs(failures: u64) -> u64 {
    if failures <= FREE_TRIES {
        return 0;
    }
    let exponent = failures - FREE_TRIES;
    // 2^9 already exceeds the cap; checking first keeps the shift in range for any count.
    if exponent >= 9 {
        return MAX_DELAY_SECS;
    }
    (1u64 << exponent).min(MAX_DELAY_SECS)
}

/// Wrong passphrases since the last successful unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Failures {
    /// How many in a row.
    pub(crate) count: u64,
    /// When the last one happened, Unix milliseconds (0 if unknown).
    pub(crate) last_ms: u64,
}

impl Failures {
    /// Seconds still to wait at `now_ms` before the next try, or `None` if it may run now.
    /// A clock set back never makes the wait longer than the full delay.
    pub(crate) fn wait_at(self, now_ms: u64) -> Option<u64> {
        let delay_ms = delay_secs(self.count).saturating_mul(1000);
        let until = self.last_ms.saturating_add(delay_ms);
        if delay_ms == 0 || now_ms >= until {
            return None;
        }
        let left_ms = (until - now_ms).min(delay_ms);
        Some(left_ms.div_ceil(1000))
    }

    /// Parses the file's text; a damaged file reads as no failures (it holds a count, not data:
    /// losing it costs one delay, never a record). The count alone is the pre-delay format.
    fn parse(text: &str) -> Failures {
        let mut parts = text.split_whitespace();
        let count = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let last_ms = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        Failures { count, last_ms }
    }
}

/// The waiting failures of the vault in `dir`.
pub(crate) fn read(dir: &Path) -> Failures {
    std::fs::read_to_string(dir.join(UNLOCK_FAILURES_FILE))
        .map(|s| Failures::parse(&s))
        .unwrap_or_default()
}

/// Counts one more wrong passphrase at `now_ms` and returns the new state. Best effort on
/// the disk: failing to count must not hide the wrong-passphrase error from the operator.
pub(crate) fn record_failure(dir: &Path, now_ms: u64) -> Failures {
    let f = Failures {
        count: read(dir).count.saturating_add(1),
        last_ms: now_ms,
    };
    if let Err(e) = write_atomically(dir, &format!("{} {}", f.count, f.last_ms)) {
        tracing::warn!("cannot count a failed unlock: {e}");
    }
    f
}

/// Removes the file after its counts were audited.
pub(crate) fn clear(dir: &Path) {
    match std::fs::remove_file(dir.join(UNLOCK_FAILURES_FILE)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("cannot clear the unlock failure count: {e}"),
    }
}

/// Temp file, fsync, rename: a crash leaves the old count or the new one, never half a number
/// (half a number would read as a smaller count and shorten the delay).
fn write_atomically(dir: &Path, text: &str) -> std::io::Result<()> {
    let tmp = dir.join(format!("{UNLOCK_FAILURES_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(UNLOCK_FAILURES_FILE))
}

/// Now, Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_free_tries_then_doubling_up_to_five_minutes() {
        let delays: Vec<u64> = (0..=14).map(delay_secs).collect();
        assert_eq!(
            delays,
            [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
        );
        assert_eq!(delay_secs(u64::MAX), MAX_DELAY_SECS);
    }

    #[test]
    fn the_wait_counts_down_from_the_last_failure() {
        let f = Failures {
            count: 5,
            last_ms: 100_000_000,
        };
        assert_eq!(f.wait_at(100_000_000), Some(4));
        assert_eq!(f.wait_at(100_000_001), Some(4));
        assert_eq!(f.wait_at(100_003_000), Some(1));
        assert_eq!(f.wait_at(100_003_999), Some(1));
        assert_eq!(f.wait_at(100_004_000), None);
        // A clock set back a day waits the full delay, not a day.
        assert_eq!(f.wait_at(100_000_000 - 86_400_000), Some(4));
        assert_eq!(
            Failures {
                count: 3,
                last_ms: 1_000_000
            }
            .wait_at(1_000_000),
            None
        );
    }

    #[test]
    fn the_file_holds_two_numbers_and_survives_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), Failures::default());
        record_failure(dir.path(), 10);
        let f = record_failure(dir.path(), 20);
        assert_eq!(
            f,
            Failures {
                count: 2,
                last_ms: 20
            }
        );
        assert_eq!(read(dir.path()), f);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(UNLOCK_FAILURES_FILE)).unwrap(),
            "2 20"
        );
        // The count-only format of earlier versions still counts.
        std::fs::write(dir.path().join(UNLOCK_FAILURES_FILE), "3").unwrap();
        assert_eq!(read(dir.path()).count, 3);
        std::fs::write(dir.path().join(UNLOCK_FAILURES_FILE), "\u{0}garbage").unwrap();
        assert_eq!(read(dir.path()), Failures::default());
        clear(dir.path());
        clear(dir.path());
        assert!(!dir.path().join(UNLOCK_FAILURES_FILE).exists());
    }
}
