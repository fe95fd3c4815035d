//! `ghidanh bundle inspect | verify | open`: a bundle's header and checks, without or with
//! the registry's key.
//!
//! Exit codes, for every subcommand: 0 valid (or opened), 1 invalid (malformed bytes,
//! signature, ciphertext, recipient or payload), 2 usage (unreadable file or key file, bad
//! arguments). Bytes that are not a well-formed bundle are an invalid bundle, not a usage
//! error: a relay scripting `verify` must treat both the same way, as "do not pass on".

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_bundle::{
    Blake3, Envelope, Error as BundleError, ExceptionReason, FingerCapture, Header, Payload, Sha256,
};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Subcommand)]
pub enum BundleCmd {
    /// Print a bundle's header and check its signature and ciphertext hash.
    ///
    /// Exit code 0: valid; 1: malformed, or signature or ciphertext does not verify; 2: usage.
    Inspect {
        /// The bundle file.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Check a bundle's device signature and ciphertext hash (what a relay can check).
    ///
    /// Exit code 0: valid; 1: malformed or does not verify; 2: usage.
    Verify {
        /// The bundle file.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Verify, open with the registry's key file and print the payload as JSON.
    /// Images are shown as their size and SHA-256, never as bytes.
    ///
    /// Exit code 0: opened; 1: malformed, does not verify or cannot be opened; 2: usage.
    Open {
        /// The bundle file.
        file: PathBuf,
        /// The registry key file (`registry.key` in the registry's data directory).
        #[arg(long)]
        key: PathBuf,
        /// Print one JSON object (the default prints indented JSON too, with a summary line).
        #[arg(long)]
        json: bool,
    },
}

const INVALID: u8 = 1;
const USAGE: u8 = 2;

impl BundleCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        Ok(match self {
            BundleCmd::Inspect { file, json } => inspect(&file, json),
            BundleCmd::Verify { file, json } => verify(&file, json),
            BundleCmd::Open { file, key, json } => open(&file, &key, json),
        })
    }
}

fn read(file: &Path) -> Result<Vec<u8>, ExitCode> {
    std::fs::read(file).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", file.display());
        ExitCode::from(USAGE)
    })
}

/// Splits and decodes the header; malformed bytes are reported (under `verdict_key`,
/// `valid` or `opened`, as the command's other answers are) and are an invalid bundle.
fn parse<'a>(
    file: &Path,
    bytes: &'a [u8],
    json: bool,
    verdict_key: &str,
) -> Result<Envelope<'a>, ExitCode> {
    Envelope::parse(bytes).map_err(|e| {
        if json {
            let mut out = serde_json::json!({"error": e.code(), "message": e.to_string()});
            out[verdict_key] = false.into();
            println!("{out}");
        }
        eprintln!("error: {} is not a well-formed bundle: {e}", file.display());
        ExitCode::from(INVALID)
    })
}

fn inspect(file: &Path, json: bool) -> ExitCode {
    let bytes = match read(file) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let envelope = match parse(file, &bytes, json, "valid") {
        Ok(env) => env,
        Err(code) => return code,
    };
    let checks = Checks::of(&envelope);
    if json {
        println!("{}", to_json(envelope.header(), &checks));
    } else {
        print_text(envelope.header(), &checks);
    }
    if checks.valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(INVALID)
    }
}

fn verify(file: &Path, json: bool) -> ExitCode {
    let bytes = match read(file) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let envelope = match parse(file, &bytes, json, "valid") {
        Ok(env) => env,
        Err(code) => return code,
    };
    let result = envelope.verify();
    let h = envelope.header();
    if json {
        let mut out = serde_json::json!({
            "valid": result.is_ok(),
            "bundleId": h.bundle_id.to_string(),
            "deviceId": h.device_id.to_string(),
            "deviceKey": h.device_key.to_string(),
            "recipientKeyId": h.recipient.as_str(),
        });
        if let Err(e) = &result {
            out["error"] = e.code().into();
            out["message"] = e.to_string().into();
        }
        println!("{out}");
    } else {
        match &result {
            Ok(()) => println!(
                "valid: bundle {} signed by device {} (key {})",
                h.bundle_id, h.device_id, h.device_key
            ),
            Err(e) => println!("NOT VALID: {e}"),
        }
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(INVALID)
    }
}

fn open(file: &Path, key: &Path, json: bool) -> ExitCode {
    let keyring = match ghidanh_registry::read_keyring(key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: cannot read the key file {}: {e}", key.display());
            return ExitCode::from(USAGE);
        }
    };
    let bytes = match read(file) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let envelope = match parse(file, &bytes, json, "opened") {
        Ok(env) => env,
        Err(code) => return code,
    };
    match envelope.open(&keyring) {
        Ok(payload) => {
            let out = payload_json(envelope.header(), &payload);
            if json {
                println!("{out}");
            } else {
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"opened": false, "error": e.code(), "message": e.to_string()})
                );
            }
            eprintln!("error: cannot open {}: {e}", file.display());
            ExitCode::from(INVALID)
        }
    }
}

/// An image as size and digest: the registry's operators check what arrived without the
/// biometric bytes passing through a terminal.
fn image_json(image: &[u8]) -> serde_json::Value {
    serde_json::json!({ "bytes": image.len(), "sha256": Sha256::of(image).to_hex() })
}

fn payload_json(h: &Header, p: &Payload) -> serde_json::Value {
    let face = p.biometrics.face.as_ref().map(|f| {
        serde_json::json!({
            "format": f.format,
            "image": image_json(&f.image),
            "width": f.width,
            "height": f.height,
            "quality": f.quality,
        })
    });
    let fingers: Vec<_> = p
        .biometrics
        .fingers
        .iter()
        .map(|f| match &f.capture {
            FingerCapture::Captured {
                format,
                image,
                quality,
            } => serde_json::json!({
                "position": f.position.code(),
                "format": format,
                "image": image_json(image),
                "quality": quality,
            }),
            FingerCapture::Exception(reason) => serde_json::json!({
                "position": f.position.code(),
                "exception": reason.code(),
                "detail": match reason {
                    ExceptionReason::Other(text) => Some(text.as_str()),
                    _ => None,
                },
            }),
        })
        .collect();
    let audit: Vec<_> = p
        .audit
        .iter()
        .map(|a| {
            serde_json::json!({
                "at": rfc3339(a.at),
                "action": a.action,
                "operatorId": a.operator_id.to_string(),
            })
        })
        .collect();
    serde_json::json!({
        "opened": true,
        "recipientKeyId": h.recipient.as_str(),
        "createdAt": rfc3339(h.created_at),
        "bundleId": p.bundle_id.to_string(),
        "enrollmentId": p.enrollment_id.to_string(),
        "deviceId": p.device_id.to_string(),
        "operator": { "id": p.operator.id.to_string(), "name": p.operator.name },
        "capturedAt": rfc3339(p.captured_at),
        "finalisedAt": rfc3339(p.finalised_at),
        "record": serde_json::to_value(&p.record).unwrap_or(serde_json::Value::Null),
        "biometrics": { "face": face, "fingers": fingers },
        "referenceVersions": p.reference_versions,
        "audit": audit,
    })
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
                && Blake3::of(ct) == h.ciphertext_blake3,
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
    println!("ciphertext hash  {}", h.ciphertext_blake3);
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
        "ciphertextBlake3": h.ciphertext_blake3.to_hex(),
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
