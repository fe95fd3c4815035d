//! Removable media: `ghidanh export --to DIR` and `ghidanh import-receipts DIR` on a kit's
//! vault, `ghidanh relay import DIR` on a registry's data folder (spec § "Removable media").
//!
//! Exit codes: 0 every file fine; 1 the stick had a problem file (damaged, missing, refused),
//! reported one line per file, the good files handled all the same; 2 usage (no vault, wrong
//! passphrase, unreadable stick or data folder).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_registry::{Outcome, Registry};
use ghidanh_sync::stick::{self, ReceiptOutcome};

const PROBLEM: u8 = 1;
const USAGE: u8 = 2;

/// `ghidanh relay …`: what a district office does with a stick.
#[derive(Subcommand)]
pub enum RelayCmd {
    /// Ingest the bundles on a stick into the registry in `--data` (registering kits that never
    /// reached it) and write each receipt back onto the stick.
    Import {
        /// Where the stick is mounted (the folder holding `ghidanh/`).
        dir: PathBuf,
        /// The registry's data directory.
        #[arg(long)]
        data: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

impl RelayCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let RelayCmd::Import { dir, data, json } = self;
        let registry = match Registry::open(&data) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: cannot open the registry in {}: {e}", data.display());
                return Ok(ExitCode::from(USAGE));
            }
        };
        let report = match registry.import_stick(&dir) {
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
                "{} accepted, {} duplicate, {} rejected, {} already imported, {} with a problem",
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

fn outcome_parts(o: &Outcome) -> (&'static str, Option<String>) {
    match o {
        Outcome::Accepted => ("accepted", None),
        Outcome::Duplicate => ("duplicate", None),
        Outcome::Rejected(code) => ("rejected", Some(code.clone())),
        Outcome::AlreadyImported => ("already_imported", None),
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
        println!(
            "{}",
            serde_json::json!({"bundles": ids, "registration": report.registration})
        );
    } else {
        for id in &report.bundles {
            println!("exported  {id}");
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
