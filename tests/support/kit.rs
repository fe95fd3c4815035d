//! A kit for the cross-process tests: the real `Kit` in the test process, paced for tests
//! (short backoff and polls, cheap passphrase KDF, no idle lock), and waiting for a state.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use ghidanh_kit::{EnrollmentId, EnrollmentState, EnrollmentSummary, KdfParams, Kit, KitConfig};
use ghidanh_sync::{Backoff, Budget, SyncConfig};

/// A kit whose vault is `root/kit`, provisioned by `provisioning`.
pub fn kit_config(root: &Path, provisioning: PathBuf) -> KitConfig {
    KitConfig {
        data_dir: root.join("kit"),
        provisioning_file: Some(provisioning),
        kdf: KdfParams::insecure_fast_for_tests(),
        sync: SyncConfig {
            backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_millis(400),
            },
            request_timeout: Duration::from_secs(5),
            idle_poll: Duration::from_millis(300),
            budget: Budget::UNLIMITED,
        },
        // Off: a test's kit must not lock itself while it waits for the registry.
        idle_lock: Duration::ZERO,
        devices: Default::default(),
    }
}

/// Waits until enrollment `id` is in state `want`; fails naming the state it stayed in.
pub fn wait_for_state(
    kit: &Kit,
    id: EnrollmentId,
    want: EnrollmentState,
    timeout: Duration,
) -> Result<EnrollmentSummary> {
    let start = Instant::now();
    loop {
        let s = kit.enrollment(id)?;
        if s.state == want {
            return Ok(s);
        }
        if start.elapsed() > timeout {
            bail!("still {:?} after {timeout:?}, wanted {want:?}", s.state);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
