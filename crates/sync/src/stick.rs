//! The kit's side of removable media (spec § "Removable media"): `ghidanh export --to DIR`
//! writes every bundle still waiting for a receipt onto a stick, with a signed manifest (and
//! the device's registration if the registry never confirmed it); `ghidanh import-receipts DIR`
//! takes the receipts a registry or a relay wrote back and records each one that verifies: a
//! relay's custody receipt (with its certificate from the stick) like the network path's
//! custody answer, the registry's receipt like the network path's receipt.
//!
//! What goes onto a stick is what the network path sends: sealed bundles and signed frames,
//! nothing readable. Every file is written under a temporary name, synced and renamed, so a
//! stick pulled out mid-export holds whole files or none (the importer checks anyway).

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ghidanh_bundle::stick::{self, Manifest, ManifestEntry};
use ghidanh_bundle::{
    BundleId, CustodyReceipt, DeviceRegistration, Receipt, RegistryPublicKeys, RejectReason,
    RelayPublicKey, Sha256, Verdict,
};
use ghidanh_vault::{Vault, VaultError};

use crate::client::verify_relay_certificate;
use crate::worker::{keep_custody, read_custody_pending, remove_custody_pending};

/// Why a stick could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum StickError {
    /// The stick (or a file on it) could not be written or listed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The vault has no provisioning file: there is no device to export for.
    #[error("this kit is not provisioned")]
    NotProvisioned,
    /// The vault failed.
    #[error("vault: {0}")]
    Vault(#[from] VaultError),
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StickError + 'a {
    move |source| StickError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// The bundles on the stick (all that wait for a receipt), in outbox order.
    pub bundles: Vec<BundleId>,
    /// The bundles in a relay's custody whose custody receipts went (or were there already),
    /// for the relay to answer with the registry's receipts.
    pub custody: Vec<BundleId>,
    /// Whether the device's registration went too (the registry never confirmed it).
    pub registration: bool,
}

/// Writes every bundle still queued onto the stick at `stick`, the custody receipts of the
/// bundles a relay holds, then the signed manifest.
/// Each bundle read out is audited (`exported`). Exporting again rewrites the same files.
pub fn export(vault: &Vault, stick: &Path, now_secs: u64) -> Result<ExportReport, StickError> {
    let device = vault.device()?.ok_or(StickError::NotProvisioned)?;
    let root = stick.join(stick::ROOT);
    let bundles_dir = root.join(stick::BUNDLES);
    let devices_dir = root.join(stick::DEVICES);
    for dir in [&bundles_dir, &devices_dir] {
        fs::create_dir_all(dir).map_err(io("creating", dir))?;
    }
    let mut entries = Vec::new();
    for item in vault.due_uploads(i64::MAX)? {
        // `sealed_bundle` rather than the item's bytes: it is the audited read for export.
        let Some(bytes) = vault.sealed_bundle(item.bundle_id)? else {
            continue;
        };
        write_atomically(
            &bundles_dir.join(stick::bundle_file(item.bundle_id)),
            &bytes,
        )?;
        entries.push(ManifestEntry {
            bundle_id: item.bundle_id,
            sha256: Sha256::of(&bytes),
            len: bytes.len() as u64,
        });
    }
    // A bundle a relay holds travels as its custody receipt, so a stick that never saw the
    // bundle still brings the registry's receipt home (the relay answers custody files).
    let receipts_dir = root.join(stick::RECEIPTS);
    let mut custody = Vec::new();
    for (id, bytes) in vault.custody_waiting()? {
        let path = receipts_dir.join(stick::custody_file(id));
        if !path.exists() {
            fs::create_dir_all(&receipts_dir).map_err(io("creating", &receipts_dir))?;
            write_atomically(&path, &bytes)?;
        }
        custody.push(id);
    }
    let device_id = device.provisioning.device_id;
    let registration = !device.registered;
    if registration {
        let frame = DeviceRegistration::sign(device_id, &device.provisioning.token, &device.key);
        write_atomically(
            &devices_dir.join(stick::registration_file(device_id)),
            &frame,
        )?;
    }
    // Last: a manifest on the stick means every file it lists was written before it.
    let manifest = Manifest::sign(device_id, &entries, now_secs, &device.key);
    write_atomically(
        &devices_dir.join(stick::manifest_file(device_id)),
        &manifest,
    )?;
    sync_dir(&root)?;
    Ok(ExportReport {
        bundles: entries.iter().map(|e| e.bundle_id).collect(),
        custody,
        registration,
    })
}

/// What happened to one receipt file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// Verified and recorded (the verdict's code: `accepted`, `duplicate`, `rejected:…`, or
    /// `custody` for a relay's custody receipt).
    Recorded(String),
    /// No bundle of this kit waits for it: its receipt is recorded already (an import run
    /// twice), or it is another kit's.
    NotWaiting,
    /// Not a receipt signed by this kit's registry (or by a relay it certified), or about
    /// other bytes than ours.
    Refused(String),
}

/// The receipt import, one line per file, and whether the registry revoked this device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiptImport {
    /// (file name, outcome): the registry's receipts in file name order, then the custody
    /// receipts in file name order.
    pub files: Vec<(String, ReceiptOutcome)>,
    /// A verified `device_revoked` was among them: the vault has been wiped.
    pub revoked: bool,
}

/// Largest receipt or relay certificate file read (receipts are a few hundred bytes).
const MAX_RECEIPT_FILE: u64 = 64 * 1024;

/// Records every receipt on the stick that the registry signed for a bundle this kit is
/// waiting on (queued, or in a relay's custody), then every custody receipt of a relay the
/// registry certified for a bundle still queued (recorded as on the network: listed for the
/// registry's receipt, which a later import brings). Importing twice records nothing new. A
/// verified revocation wipes the vault, as on the network path.
pub fn import_receipts(vault: &Vault, stick: &Path) -> Result<ReceiptImport, StickError> {
    let device = vault.device()?.ok_or(StickError::NotProvisioned)?;
    let registry = &device.provisioning.registry;
    let root = stick.join(stick::ROOT);
    let dir = root.join(stick::RECEIPTS);
    let mut report = ReceiptImport::default();

    // The registry's receipts first: the final word makes a custody receipt beside it moot.
    let mut custody_pending = read_custody_pending(vault)?;
    let mut waiting: HashMap<BundleId, Sha256> = vault
        .due_uploads(i64::MAX)?
        .into_iter()
        .map(|i| (i.bundle_id, Sha256::of(&i.bytes)))
        .collect();
    waiting.extend(custody_pending.iter().copied());
    for path in files_with(&dir, "gdreceipt")? {
        let outcome = match read_limited(&path) {
            Err(e) => ReceiptOutcome::Refused(e),
            Ok(bytes) => match Receipt::verify(&bytes, registry) {
                Err(e) => ReceiptOutcome::Refused(e.to_string()),
                Ok(receipt) => match receipt.bundle_id {
                    None => ReceiptOutcome::NotWaiting,
                    Some(id) => match waiting.remove(&id) {
                        None => ReceiptOutcome::NotWaiting,
                        Some(sent) if sent != receipt.submission_sha256 => {
                            waiting.insert(id, sent);
                            ReceiptOutcome::Refused("about other bytes than this kit's".into())
                        }
                        Some(_) => {
                            if receipt.verdict == Verdict::Rejected(RejectReason::DeviceRevoked) {
                                report.revoked = true;
                            }
                            let code = verdict_code(&receipt.verdict);
                            vault.record_receipt(id, &bytes, &receipt)?;
                            // Recorded first: a stale entry only costs the worker one poll.
                            if custody_pending.iter().any(|(p, _)| *p == id) {
                                custody_pending.retain(|(p, _)| *p != id);
                                remove_custody_pending(vault, &[id])?;
                            }
                            // A receipt about our bundle proves the registry knows our key.
                            if !device.registered && !report.revoked {
                                vault.mark_registered()?;
                            }
                            ReceiptOutcome::Recorded(code)
                        }
                    },
                },
            },
        };
        report.files.push((file_name(&path), outcome));
        if report.revoked {
            vault.wipe().or_else(|e| match e {
                VaultError::Wiped => Ok(()),
                e => Err(e),
            })?;
            return Ok(report);
        }
    }

    // Then custody: only for bundles still queued, from a relay the registry certified.
    let relays = certified_relays(&root, registry)?;
    let queued: HashMap<BundleId, Sha256> = vault
        .due_uploads(i64::MAX)?
        .into_iter()
        .map(|i| (i.bundle_id, Sha256::of(&i.bytes)))
        .collect();
    for path in files_with(&dir, "gdcustody")? {
        // Named for a bundle not queued (recorded already, or carried by this kit for the
        // relay to answer, with no certificate beside it): nothing can change, whoever
        // signed it. A misnamed file is checked like any other.
        let named = path
            .file_stem()
            .and_then(|n| n.to_str())
            .and_then(|n| BundleId::parse(n).ok());
        if named.is_some_and(|id| !queued.contains_key(&id)) {
            report
                .files
                .push((file_name(&path), ReceiptOutcome::NotWaiting));
            continue;
        }
        let outcome = match read_limited(&path) {
            Err(e) => ReceiptOutcome::Refused(e),
            Ok(bytes) => match relays
                .iter()
                .find_map(|k| CustodyReceipt::verify(&bytes, k).ok())
            {
                None => ReceiptOutcome::Refused(
                    "not signed by a relay this kit's registry certified".into(),
                ),
                Some(custody) => match queued.get(&custody.bundle_id) {
                    None => ReceiptOutcome::NotWaiting,
                    Some(sent) if *sent != custody.submission_sha256 => {
                        ReceiptOutcome::Refused("about other bytes than this kit's".into())
                    }
                    Some(sent) => {
                        keep_custody(vault, custody.bundle_id, *sent, &bytes)?;
                        ReceiptOutcome::Recorded("custody".into())
                    }
                },
            },
        };
        report.files.push((file_name(&path), outcome));
    }
    Ok(report)
}

/// The relay keys certified by `registry` among the certificates on the stick (a file that
/// does not verify is ignored: the custody receipts it would vouch for are refused).
fn certified_relays(
    root: &Path,
    registry: &RegistryPublicKeys,
) -> Result<Vec<RelayPublicKey>, StickError> {
    let mut keys = Vec::new();
    for path in files_with(&root.join(stick::RELAYS), "gdrelaycert")? {
        if let Some(key) = read_limited(&path)
            .ok()
            .and_then(|cert| verify_relay_certificate(&cert, registry))
        {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// The files in `dir` with extension `ext`, sorted; none if `dir` is absent.
fn files_with(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, StickError> {
    let mut files = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .collect::<Vec<_>>(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io("listing", dir)(e)),
    };
    files.sort();
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn verdict_code(v: &Verdict) -> String {
    match v {
        Verdict::Accepted => "accepted".into(),
        Verdict::Duplicate { .. } => "duplicate".into(),
        Verdict::Rejected(reason) => format!("rejected:{}", reason.code()),
    }
}

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let file = fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_RECEIPT_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_RECEIPT_FILE {
        return Err("too large for a receipt".into());
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` under a temporary name, syncs, renames, syncs the folder.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StickError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".part");
    let tmp = dir.join(tmp_name);
    let mut file = fs::File::create(&tmp).map_err(io("creating", &tmp))?;
    file.write_all(bytes).map_err(io("writing", &tmp))?;
    file.sync_all().map_err(io("syncing", &tmp))?;
    fs::rename(&tmp, path).map_err(io("renaming into", path))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), StickError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing", dir))
}
