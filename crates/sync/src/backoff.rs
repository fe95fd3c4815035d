use std::time::Duration;

use rand::Rng;

/// Exponential backoff with jitter: attempt n waits a random time in
/// `[d/2, d]` where `d = min(max, initial · 2ⁿ)`. The jitter keeps a fleet of kits that
/// come back online together from hammering the registry in lockstep.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Delay before the first retry.
    pub initial: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay after `attempts` failed attempts.
    pub fn delay(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.min(20));
        let d = self.initial.saturating_mul(factor).min(self.max);
        let half = d / 2;
        let jitter = rand::thread_rng().gen_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_stays_within_the_jitter_band() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
        };
        for (attempts, full) in [(0, 100), (1, 200), (3, 800), (6, 5000), (40, 5000)] {
            for _ in 0..50 {
                let d = b.delay(attempts).as_millis() as u64;
                assert!(d >= full / 2 && d <= full, "attempt {attempts}: {d} ms");
            }
        }
    }
}
