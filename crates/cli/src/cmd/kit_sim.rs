//! `ghidanh kit-sim`: a kit without its window, for the sync fault harness: the real `Kit`
//! (vault, finalise, the background sync worker) enrolls N people and waits until the registry
//! has accepted every one, or gives up. One process per simulated device.
//!
//! Only the passphrase KDF is cheapened (the test setting: the harness is about sync, not about
//! passphrases); everything else is the code a field laptop runs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ghidanh_kit::{EnrollmentInput, EnrollmentState, KdfParams, Kit, KitConfig};
use ghidanh_sync::{Backoff, SyncConfig};

const PASS: &str = "kit-sim passphrase";

/// Options of `ghidanh kit-sim`.
#[derive(clap::Args)]
pub struct KitSimArgs {
    /// The device's provisioning file (its registry URL is where the kit sends).
    #[arg(long)]
    provisioning: PathBuf,
    /// The kit's folder (its vault); reused when it exists, so a killed kit-sim resumes.
    #[arg(long)]
    dir: PathBuf,
    /// How many enrollments to make in all.
    #[arg(long, default_value_t = 10)]
    enrollments: usize,
    /// Give up (exit 1) after this many seconds without every receipt.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
    /// Seal the enrollments and exit at once, waiting for no receipt: a kit in the field
    /// with no network, whose bundles go by USB stick (`ghidanh export --to`). The report
    /// is the same; the exit code is 0.
    #[arg(long)]
    seal_only: bool,
}

impl KitSimArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let kit = Kit::new(KitConfig {
            data_dir: self.dir.join("vault"),
            provisioning_file: Some(self.provisioning.clone()),
            kdf: KdfParams::insecure_fast_for_tests(),
            sync: SyncConfig {
                backoff: Backoff {
                    initial: Duration::from_millis(100),
                    max: Duration::from_secs(2),
                },
                request_timeout: Duration::from_secs(10),
                idle_poll: Duration::from_millis(200),
                budget: ghidanh_sync::Budget::UNLIMITED,
            },
            idle_lock: Duration::ZERO,
            devices: Default::default(),
        })?;
        if ghidanh_vault::Vault::exists(&self.dir.join("vault")) {
            kit.unlock(PASS)?;
        } else {
            kit.create_operator("Kit Sim", PASS, PASS)?;
        }
        let have = kit.list()?.len();
        for serial in have..self.enrollments {
            let (id, errors) = kit.save_draft(None, &person(serial))?;
            anyhow::ensure!(errors.is_empty(), "the simulated record is invalid");
            kit.finalise(id)?;
        }
        let deadline = Instant::now() + Duration::from_secs(self.timeout_secs);
        loop {
            let list = kit.list()?;
            let accepted = list
                .iter()
                .filter(|e| e.state == EnrollmentState::Accepted)
                .count();
            let done = accepted == list.len();
            if done || self.seal_only || Instant::now() > deadline {
                let bundles: Vec<String> = list
                    .iter()
                    .filter_map(|e| e.bundle_id.map(|b| b.to_string()))
                    .collect();
                let states: Vec<&str> = list.iter().map(|e| e.state.code()).collect();
                println!(
                    "{}",
                    serde_json::json!({
                        "enrollments": list.len(),
                        "accepted": accepted,
                        "bundles": bundles,
                        "states": states,
                    })
                );
                // Stop the sync worker and close the vault before the process exits.
                kit.lock()?;
                drop(kit);
                return Ok(if done || self.seal_only {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A valid adult record; `serial` makes each one's ID number its own.
/// A child of two or three: under 6 no biometrics are taken, so the simulated kit seals
/// without a scanner or a camera (the harness is about sync; `loadgen` sends full-size
/// bundles with biometrics).
fn person(serial: usize) -> EnrollmentInput {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // The mean Gregorian year: exact to within a day of New Year, plenty for "three years ago".
    let year = 1970 + secs / 31_556_952 - 3;
    EnrollmentInput {
        birth_name: "Nguyễn Văn An".into(),
        date_of_birth: format!("{year}-01-15"),
        sex: "male".into(),
        // Province 001, century-sex 2 (male, born 2000–2099), the year, then a serial.
        personal_id: format!("0012{:02}{:06}", year % 100, serial % 1_000_000),
        representative: ghidanh_kit::RepresentativeInput {
            name: "Nguyễn Văn Bình".into(),
            relationship: "Cha".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}
