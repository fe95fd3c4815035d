//! `ghidanh vault audit verify` and `ghidanh vault report`: what a supervisor or an incident
//! responder asks of a kit's vault folder.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_vault::{Vault, VaultError};

/// The environment variable scripts and tests use instead of typing the passphrase.
const PASSPHRASE_ENV: &str = "GHIDANH_PASSPHRASE";

/// Exit code when the audit chain is broken.
const EXIT_BROKEN: u8 = 1;
/// Exit code when the command cannot run (usage, no vault, wrong passphrase): the same code
/// clap uses for usage errors, so "1" always means a broken chain.
const EXIT_USAGE: u8 = 2;

#[derive(Subcommand)]
pub enum VaultCmd {
    /// Check the vault's audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Print what the vault holds (counts by state, date range; no personal data).
    Report {
        /// The vault folder.
        #[arg(long)]
        dir: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Walk the hash chain and check the signed checkpoints; exit 1 if anything is wrong.
    Verify {
        /// The vault folder.
        #[arg(long)]
        dir: PathBuf,
    },
}

impl VaultCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            VaultCmd::Audit(AuditCmd::Verify { dir }) => {
                let Some(vault) = open(&dir) else {
                    return Ok(ExitCode::from(EXIT_USAGE));
                };
                match vault.audit_verify() {
                    Ok(r) => {
                        println!(
                            "audit chain ok: {} entries, {} signed checkpoints, {} after the last",
                            r.entries, r.checkpoints, r.unsigned_tail
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => {
                        println!("audit chain BROKEN: {e}");
                        Ok(ExitCode::from(EXIT_BROKEN))
                    }
                }
            }
            VaultCmd::Report { dir, json } => {
                let Some(vault) = open(&dir) else {
                    return Ok(ExitCode::from(EXIT_USAGE));
                };
                let r = vault.report()?;
                if json {
                    let states: serde_json::Map<String, serde_json::Value> = r
                        .by_state
                        .iter()
                        .map(|(s, n)| ((*s).to_owned(), (*n).into()))
                        .collect();
                    let out = serde_json::json!({
                        "device_id": r.device_id,
                        "enrollments": r.enrollments,
                        "by_state": states,
                        "first_enrollment_ms": r.first_enrollment_ms,
                        "last_enrollment_ms": r.last_enrollment_ms,
                        "audit_entries": r.audit_entries,
                    });
                    println!("{out}");
                } else {
                    println!(
                        "device: {}",
                        r.device_id.as_deref().unwrap_or("not provisioned")
                    );
                    println!("enrollments: {}", r.enrollments);
                    for (state, n) in &r.by_state {
                        println!("  {state}: {n}");
                    }
                    println!("first enrollment: {}", date(r.first_enrollment_ms));
                    println!("last enrollment: {}", date(r.last_enrollment_ms));
                    println!("audit entries: {}", r.audit_entries);
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// Unlocks the vault, or says why not on stderr. Unlocking is itself audited.
pub(crate) fn open(dir: &Path) -> Option<Vault> {
    let passphrase = match passphrase() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot read the passphrase: {e}");
            return None;
        }
    };
    match Vault::unlock(dir, &passphrase) {
        Ok((vault, _)) => Some(vault),
        Err(VaultError::NotFound(_)) => {
            eprintln!("error: no vault in {}", dir.display());
            None
        }
        Err(e) => {
            eprintln!("error: cannot open the vault in {}: {e}", dir.display());
            None
        }
    }
}

/// The passphrase from `GHIDANH_PASSPHRASE`, else the first line of stdin.
fn passphrase() -> std::io::Result<String> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    // Only the line ending goes: spaces may be part of a passphrase.
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// A Unix-ms timestamp as an RFC 3339 UTC date, or "none".
fn date(ms: Option<i64>) -> String {
    ms.and_then(|ms| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
    })
    .and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_else(|| "none".into())
}
