//! Removable media: `ghidanh export --to DIR` and `ghidanh import-receipts DIR` on a kit's
//! vault, `ghidanh relay import DIR` on a central registry's or a relay's data folder (spec
//! § "Removable media").
//!
//! Exit codes: 0 every file fine; 1 the stick had a problem file (damaged, missing, refused),
//! reported one line per file, the good files handled all the same; 2 usage (no vault, wrong
//! passphrase, unreadable stick or data folder).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_registry::{Outcome, Registry, Relay, Upstream};
use ghidanh_sync::stick::{self, ReceiptOutcome};

const PROBLEM: u8 = 1;
const USAGE: u8 = 2;

/// `ghidanh relay …`: what a district office does with a stick.
#[derive(Subcommand)]
pub enum RelayCmd {
    /// Ingest the bundles on a stick into the registry in `--data` (registering kits that never
    /// reached it) and write each receipt back onto the stick. When `--data` is a relay's, hold
    /// them instead (custody receipts and the relay's certificate onto the stick, registrations
    /// kept for the forwarder) and write the central receipt of every bundle already forwarded.
    Import {
        /// Where the stick is mounted (the folder holding `ghidanh/`).
        dir: PathBuf,
        /// The registry's (or the relay's) data directory.
        #[arg(long)]
        data: PathBuf,
        /// Relay only: the upstream registry's public keys, as given to `serve --mode relay`
        /// (the relay's certificate and the central receipts are checked with them).
        #[arg(long)]
        upstream_keys: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

impl RelayCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let RelayCmd::Import {
            dir,
            data,
            upstream_keys,
            json,
        } = self;
        let imported = if ghidanh_registry::is_relay_dir(&data) {
            let Some(relay) = open_relay(&data, upstream_keys.as_deref()) else {
                return Ok(ExitCode::from(USAGE));
            };
            relay.import_stick(&dir)
        } else {
            match Registry::open(&data) {
                Ok(r) => r.import_stick(&dir),
                Err(e) => {
                    eprintln!("error: cannot open the registry in {}: {e}", data.display());
                    return Ok(ExitCode::from(USAGE));
                }
            }
        };
        let report = match imported {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: cannot import {}: {e}", dir.display());
                return Ok(ExitCode::from(USAGE));
            }
        };
        let problem = |o: &Outcome| {
            matches!(
                o,
                Outcome::Damaged(_) | Outcome::Missing | Outcome::Unusable(_)
            )
        };
        if json {
            let files: Vec<_> = report
                .files
                .iter()
                .map(|f| {
                    let (outcome, detail) = outcome_parts(&f.outcome);
                    serde_json::json!({"file": f.file, "outcome": outcome, "detail": detail})
                })
                .collect();
            println!("{}", serde_json::json!({ "files": files }));
        } else {
            for f in &report.files {
                let (outcome, detail) = outcome_parts(&f.outcome);
                match detail {
                    Some(d) => println!("{:<18} {}  ({d})", outcome, f.file),
                    None => println!("{:<18} {}", outcome, f.file),
                }
            }
            println!(
                "{} held, {} already held, {} accepted, {} duplicate, {} rejected, \
                 {} already imported, {} with a problem",
                report.count(|o| *o == Outcome::Held),
                report.count(|o| *o == Outcome::AlreadyHeld),
                report.count(|o| *o == Outcome::Accepted),
                report.count(|o| *o == Outcome::Duplicate),
                report.count(|o| matches!(o, Outcome::Rejected(_))),
                report.count(|o| *o == Outcome::AlreadyImported),
                report.count(problem),
            );
        }
        Ok(if report.count(problem) > 0 {
            ExitCode::from(PROBLEM)
        } else {
            ExitCode::SUCCESS
        })
    }
}

/// The relay in `data`, its certificate checked with the upstream keys (no forwarding
/// happens here: the running relay's forwarder takes what the import held).
fn open_relay(data: &Path, upstream_keys: Option<&Path>) -> Option<Relay> {
    let Some(keys_file) = upstream_keys else {
        eprintln!(
            "error: {} is a relay: --upstream-keys is required (the file `serve --mode relay` uses)",
            data.display()
        );
        return None;
    };
    let keys = match ghidanh_registry::read_upstream_keys(keys_file) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", keys_file.display());
            return None;
        }
    };
    let upstream = Upstream {
        url: String::new(),
        keys,
    };
    match Relay::open(data, upstream) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("error: cannot open the relay in {}: {e}", data.display());
            None
        }
    }
}

fn outcome_parts(o: &Outcome) -> (&'static str, Option<String>) {
    match o {
        Outcome::Accepted => ("accepted", None),
        Outcome::Duplicate => ("duplicate", None),
        Outcome::Rejected(code) => ("rejected", Some(code.clone())),
        Outcome::AlreadyImported => ("already_imported", None),
        Outcome::Held => ("held", None),
        Outcome::AlreadyHeld => ("already_held", None),
        Outcome::Damaged(why) => ("damaged", Some(why.clone())),
        Outcome::Missing => ("missing", None),
        Outcome::Registered => ("registered", None),
        Outcome::Unusable(why) => ("unusable", Some(why.clone())),
    }
}

/// `ghidanh export --to DIR --vault VAULT`.
pub fn export(to: &Path, vault_dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let Some(vault) = super::vault::open(vault_dir) else {
        return Ok(ExitCode::from(USAGE));
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let report = match stick::export(&vault, to, now) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot export to {}: {e}", to.display());
            return Ok(ExitCode::from(USAGE));
        }
    };
    if json {
        let ids: Vec<String> = report.bundles.iter().map(ToString::to_string).collect();
        let custody: Vec<String> = report.custody.iter().map(ToString::to_string).collect();
        println!(
            "{}",
            serde_json::json!({
                "bundles": ids,
                "custody": custody,
                "registration": report.registration,
            })
        );
    } else {
        for id in &report.bundles {
            println!("exported  {id}");
        }
        for id in &report.custody {
            println!("custody   {id}");
        }
        println!(
            "{} bundles and a signed manifest on {}{}",
            report.bundles.len(),
            to.display(),
            if report.registration {
                ", with this device's registration"
            } else {
                ""
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `ghidanh import-receipts DIR --vault VAULT`.
pub fn import_receipts(dir: &Path, vault_dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let Some(vault) = super::vault::open(vault_dir) else {
        return Ok(ExitCode::from(USAGE));
    };
    let report = match stick::import_receipts(&vault, dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot import receipts from {}: {e}", dir.display());
            return Ok(ExitCode::from(USAGE));
        }
    };
    let parts = |o: &ReceiptOutcome| match o {
        ReceiptOutcome::Recorded(code) => ("recorded", Some(code.clone())),
        ReceiptOutcome::NotWaiting => ("not_waiting", None),
        ReceiptOutcome::Refused(why) => ("refused", Some(why.clone())),
    };
    if json {
        let files: Vec<_> = report
            .files
            .iter()
            .map(|(file, o)| {
                let (outcome, detail) = parts(o);
                serde_json::json!({"file": file, "outcome": outcome, "detail": detail})
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"files": files, "revoked": report.revoked})
        );
    } else {
        for (file, o) in &report.files {
            match parts(o) {
                (outcome, Some(d)) => println!("{outcome:<12} {file}  ({d})"),
                (outcome, None) => println!("{outcome:<12} {file}"),
            }
        }
        if report.revoked {
            println!("the registry revoked this device: its vault has been wiped");
        }
    }
    let refused = report
        .files
        .iter()
        .any(|(_, o)| matches!(o, ReceiptOutcome::Refused(_)));
    Ok(if refused {
        ExitCode::from(PROBLEM)
    } else {
        ExitCode::SUCCESS
    })
}
