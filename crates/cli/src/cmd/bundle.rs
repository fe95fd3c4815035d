//! `ghidanh bundle inspect`: what a bundle's header says and whether it holds, without opening it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_bundle::{Envelope, Error as BundleError, Header, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Subcommand)]
pub enum BundleCmd {
    /// Print a bundle's header and check its signature and ciphertext hash.
    ///
    /// Exit code 0: valid; 1: signature or ciphertext does not verify; 2: not a bundle.
    Inspect {
        /// The bundle file.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

const NOT_A_BUNDLE: u8 = 2;

impl BundleCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let BundleCmd::Inspect { file, json } = self;
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", file.display());
                return Ok(ExitCode::from(NOT_A_BUNDLE));
            }
        };
        let envelope = match Envelope::parse(&bytes) {
            Ok(env) => env,
            Err(e) => {
                eprintln!("error: {} is not a bundle: {e}", file.display());
                return Ok(ExitCode::from(NOT_A_BUNDLE));
            }
        };
        let checks = Checks::of(&envelope);
        if json {
            println!("{}", to_json(envelope.header(), &checks));
        } else {
            print_text(envelope.header(), &checks);
        }
        Ok(if checks.valid() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}

/// The two checks, each reported on its own even when the other fails.
struct Checks {
    signature: bool,
    ciphertext: bool,
}

impl Checks {
    fn of(envelope: &Envelope<'_>) -> Checks {
        let h = envelope.header();
        let ct = envelope.ciphertext();
        Checks {
            // `verify` checks the signature first: anything but BadSignature means it held.
            signature: !matches!(envelope.verify(), Err(BundleError::BadSignature)),
            ciphertext: ct.len() as u64 == h.ciphertext_len
                && Sha256::of(ct) == h.ciphertext_sha256,
        }
    }

    fn valid(&self) -> bool {
        self.signature && self.ciphertext
    }
}

fn print_text(h: &Header, c: &Checks) {
    let ok = |b| if b { "valid" } else { "INVALID" };
    println!("bundle id        {}", h.bundle_id);
    println!("device id        {}", h.device_id);
    println!("device key       {}", h.device_key);
    println!("created          {}", rfc3339(h.created_at));
    println!("recipient key    {}", h.recipient);
    println!("ciphertext       {} bytes", h.ciphertext_len);
    println!("ciphertext hash  {}", h.ciphertext_sha256);
    println!("signature        {}", ok(c.signature));
    println!("ciphertext check {}", ok(c.ciphertext));
    println!(
        "verdict          {}",
        if c.valid() { "valid" } else { "NOT VALID" }
    );
}

fn to_json(h: &Header, c: &Checks) -> serde_json::Value {
    serde_json::json!({
        "bundleId": h.bundle_id.to_string(),
        "deviceId": h.device_id.to_string(),
        "deviceKey": h.device_key.to_string(),
        "createdAt": rfc3339(h.created_at),
        "recipientKeyId": h.recipient.as_str(),
        "ciphertextLength": h.ciphertext_len,
        "ciphertextSha256": h.ciphertext_sha256.to_hex(),
        "signatureValid": c.signature,
        "ciphertextValid": c.ciphertext,
        "valid": c.valid(),
    })
}

/// Unix seconds as RFC 3339; a time out of range (a hostile header) is shown as the raw number.
pub fn rfc3339(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{unix} (Unix seconds, out of range)"))
}
