//! Importing a USB stick written by kits (`ghidanh relay import DIR`): register the devices that
//! never reached the registry, take every intact bundle through the same path as HTTP, and
//! write each answer back onto the stick for the kit to take home.
//!
//! Two destinations walk the stick the same way. The central registry ingests each bundle and
//! writes its receipt (`receipts/<id>.gdreceipt`). A relay holds each bundle exactly as its
//! HTTP route does (`Relay::submit`), writes the custody receipt (`receipts/<id>.gdcustody`)
//! with its certificate (`relays/<key id>.gdrelaycert`), keeps registrations for its forwarder
//! to pass upstream first, and on a later import writes the central receipt of every bundle
//! its forwarder delivered.
//!
//! A damaged copy is not a refused enrollment: a bundle file that does not verify on its own
//! (cut short, bit rot) or differs from what its kit's manifest lists is reported and left for
//! the next stick; it gets no receipt, so the kit keeps it and exports it again. Importing the
//! same stick twice changes nothing: a bundle whose answer is already on the stick is skipped.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use ghidanh_bundle::stick::{self, Manifest, ManifestEntry};
use ghidanh_bundle::{BundleId, Envelope, Receipt, Sha256, Verdict};

use crate::blobs;
use crate::provision::RegisterError;
use crate::relay::{CentralReceipt, HeldRegistration, Relay, RelayAnswer};
use crate::{Registry, RegistryError};

/// What happened to one file of the stick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Ingested; the receipt (accepted) is on the stick.
    Accepted,
    /// Ingested again; the registry already held it (the receipt says duplicate).
    Duplicate,
    /// Ingested and refused (the receipt, on the stick, says why).
    Rejected(String),
    /// Its receipt was already on the stick: not ingested again.
    AlreadyImported,
    /// A relay holds it (or a registration, to pass upstream): the custody receipt is on the
    /// stick, the registry's receipt comes with a later import.
    Held,
    /// A relay held it before and the registry has not answered yet: nothing written.
    AlreadyHeld,
    /// Not ingested: the file does not verify, or differs from its manifest entry.
    Damaged(String),
    /// Listed in a kit's manifest, but no file.
    Missing,
    /// A device registration carried for a kit that never reached the registry.
    Registered,
    /// A registration or manifest that could not be used.
    Unusable(String),
}

/// One line of the import report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file, relative to the stick's `ghidanh` folder.
    pub file: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The whole report, in the order the files were met.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StickImport {
    /// One line per file.
    pub files: Vec<FileReport>,
}

impl StickImport {
    /// How many files had `outcome`'s kind.
    pub fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|f| pred(&f.outcome)).count()
    }

    fn push(&mut self, file: String, outcome: Outcome) {
        self.files.push(FileReport { file, outcome });
    }
}

/// Largest bundle file read from a stick: what the HTTP API accepts.
const MAX_BUNDLE_FILE: u64 = crate::BUNDLE_BODY_LIMIT as u64;
/// Largest manifest or registration file read.
const MAX_SMALL_FILE: u64 = 16 * 1024 * 1024;

/// Where the files of a stick go: the central registry, or a relay.
trait Destination {
    /// A device registration file's bytes.
    fn register(&self, bytes: &[u8]) -> Result<Outcome, RegistryError>;
    /// An intact bundle: it verifies on its own, is named by its id and matches its
    /// manifest entry. `root` is the stick's `ghidanh` folder.
    fn deliver(&self, id: BundleId, bytes: &[u8], root: &Path) -> Result<Outcome, RegistryError>;
    /// After the bundle files: answers owed for bundles not on the stick any more (`seen`).
    fn finish(
        &self,
        _root: &Path,
        _seen: &[BundleId],
        _report: &mut StickImport,
    ) -> Result<(), RegistryError> {
        Ok(())
    }
}

impl Registry {
    /// Imports the stick mounted at `stick` (its `ghidanh` folder is looked for inside).
    /// Only a failure of the registry itself, or an unreadable stick, is an `Err`.
    pub fn import_stick(&self, stick: &Path) -> Result<StickImport, RegistryError> {
        walk(self, stick)
    }
}

impl Destination for Registry {
    fn register(&self, bytes: &[u8]) -> Result<Outcome, RegistryError> {
        Ok(match self.register_device(bytes) {
            Ok(_) => Outcome::Registered,
            Err(RegisterError::DeviceRevoked(_)) => Outcome::Unusable("device revoked".into()),
            Err(RegisterError::Registry(e)) => return Err(e),
            Err(e) => Outcome::Unusable(e.to_string()),
        })
    }

    fn deliver(&self, id: BundleId, bytes: &[u8], root: &Path) -> Result<Outcome, RegistryError> {
        let receipt_path = root.join(stick::RECEIPTS).join(stick::receipt_file(id));
        if receipt_path.exists() {
            return Ok(Outcome::AlreadyImported);
        }
        let submission = self.ingest(bytes)?;
        write_answer(&receipt_path, &submission.bytes)?;
        Ok(verdict_outcome(&submission.receipt))
    }
}

impl Relay {
    /// Imports the stick mounted at `stick` into this relay: each intact bundle is held as if
    /// POSTed (custody receipt and certificate onto the stick), registrations are kept for
    /// the forwarder, and the central receipt of every bundle already forwarded is written.
    /// Only a failure of the relay itself, or an unreadable stick, is an `Err`.
    pub fn import_stick(&self, stick: &Path) -> Result<StickImport, RegistryError> {
        walk(self, stick)
    }

    /// The certificate beside the custody receipts, so a kit with no network can check them.
    fn write_certificate(&self, root: &Path) -> Result<(), RegistryError> {
        let path = root
            .join(stick::RELAYS)
            .join(stick::relay_cert_file(self.public_key().key_id()));
        if fs::read(&path).is_ok_and(|b| b == self.certificate().bytes()) {
            return Ok(());
        }
        write_answer(&path, self.certificate().bytes())
    }

    /// Writes the central receipt the forwarder stored, if the upstream keys verify it.
    fn write_central(&self, bytes: &[u8], path: &Path) -> Result<Outcome, RegistryError> {
        let Some(receipt) = self.verify_central(bytes) else {
            return Ok(Outcome::Unusable(
                "the stored central receipt does not verify with the upstream keys".into(),
            ));
        };
        write_answer(path, bytes)?;
        Ok(verdict_outcome(&receipt))
    }
}

impl Destination for Relay {
    fn register(&self, bytes: &[u8]) -> Result<Outcome, RegistryError> {
        Ok(match self.hold_registration(bytes)? {
            HeldRegistration::New => Outcome::Held,
            HeldRegistration::Again => Outcome::AlreadyHeld,
            HeldRegistration::Refused(why) => Outcome::Unusable(why),
        })
    }

    fn deliver(&self, id: BundleId, bytes: &[u8], root: &Path) -> Result<Outcome, RegistryError> {
        let receipts = root.join(stick::RECEIPTS);
        let receipt_path = receipts.join(stick::receipt_file(id));
        if receipt_path.exists() {
            return Ok(Outcome::AlreadyImported);
        }
        let custody_path = receipts.join(stick::custody_file(id));
        if custody_path.exists() {
            match self.central_receipt(id)? {
                CentralReceipt::Known(central) => {
                    return self.write_central(&central, &receipt_path)
                }
                CentralReceipt::Pending => return Ok(Outcome::AlreadyHeld),
                // Another relay's custody: this one holds the bundle too (central answers
                // the second delivery `duplicate`: one enrollment either way).
                CentralReceipt::Unknown => {}
            }
        }
        Ok(match self.submit(bytes)? {
            RelayAnswer::Custody(custody) => {
                // The certificate first: a custody receipt on the stick always has it.
                self.write_certificate(root)?;
                write_answer(&custody_path, &custody)?;
                Outcome::Held
            }
            RelayAnswer::Central(central) => self.write_central(&central, &receipt_path)?,
            RelayAnswer::Refused(code) => Outcome::Damaged(code.into()),
            RelayAnswer::Conflict => {
                Outcome::Damaged("another bundle with this id is held here".into())
            }
        })
    }

    /// A kit whose bundle this relay holds may come back without the bundle file (another
    /// stick, or a tidied one) but with its custody receipt: it gets the central receipt.
    fn finish(
        &self,
        root: &Path,
        seen: &[BundleId],
        report: &mut StickImport,
    ) -> Result<(), RegistryError> {
        let receipts = root.join(stick::RECEIPTS);
        for path in files_ending(&receipts, ".gdcustody")? {
            let Some(id) = id_of(&path, ".gdcustody") else {
                continue;
            };
            let receipt_path = receipts.join(stick::receipt_file(id));
            if seen.contains(&id) || receipt_path.exists() {
                continue;
            }
            let outcome = match self.central_receipt(id)? {
                CentralReceipt::Known(central) => self.write_central(&central, &receipt_path)?,
                CentralReceipt::Pending => Outcome::AlreadyHeld,
                // Another relay's custody: that relay answers it.
                CentralReceipt::Unknown => continue,
            };
            report.push(relative(stick::RECEIPTS, &path), outcome);
        }
        Ok(())
    }
}

/// Walks the stick: registrations, manifests, every bundle file, then what is missing.
fn walk(dest: &impl Destination, stick: &Path) -> Result<StickImport, RegistryError> {
    let root = stick.join(stick::ROOT);
    let mut report = StickImport::default();
    let devices = root.join(stick::DEVICES);
    let mut listed: HashMap<BundleId, ManifestEntry> = HashMap::new();
    for path in files_ending(&devices, ".gdregistration")? {
        let name = relative(stick::DEVICES, &path);
        let outcome = match read_limited(&path, MAX_SMALL_FILE) {
            Err(e) => Outcome::Unusable(e),
            Ok(bytes) => dest.register(&bytes)?,
        };
        report.push(name, outcome);
    }
    for path in files_ending(&devices, ".gdmanifest")? {
        let name = relative(stick::DEVICES, &path);
        match read_limited(&path, MAX_SMALL_FILE)
            .and_then(|b| Manifest::verify(&b).map_err(|e| e.to_string()))
        {
            Ok(m) => listed.extend(m.entries.into_iter().map(|e| (e.bundle_id, e))),
            Err(e) => report.push(name, Outcome::Unusable(e)),
        }
    }

    let mut seen = Vec::new();
    for path in files_ending(&root.join(stick::BUNDLES), ".gdbundle")? {
        let name = relative(stick::BUNDLES, &path);
        let outcome = match intact_bundle(&path, &listed, &mut seen) {
            Ok((id, bytes)) => dest.deliver(id, &bytes, &root)?,
            Err(damaged) => damaged,
        };
        report.push(name, outcome);
    }
    dest.finish(&root, &seen, &mut report)?;
    let mut missing: Vec<BundleId> = listed
        .keys()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    missing.sort_by_key(|id| id.to_string());
    for id in missing {
        report.push(
            format!("{}/{}", stick::BUNDLES, stick::bundle_file(id)),
            Outcome::Missing,
        );
    }
    Ok(report)
}

/// The bundle in `path` if it verifies on its own, is named by its id and is what its
/// manifest lists; otherwise the `Damaged` outcome saying why. Every id met goes to `seen`.
fn intact_bundle(
    path: &Path,
    listed: &HashMap<BundleId, ManifestEntry>,
    seen: &mut Vec<BundleId>,
) -> Result<(BundleId, Vec<u8>), Outcome> {
    // A damaged file still accounts for its manifest entry: it is there, not missing.
    seen.extend(id_of(path, ".gdbundle"));
    let bytes = read_limited(path, MAX_BUNDLE_FILE).map_err(Outcome::Damaged)?;
    let envelope = Envelope::parse(&bytes)
        .and_then(|e| e.verify().map(|()| e))
        .map_err(|e| Outcome::Damaged(e.to_string()))?;
    let id = envelope.header().bundle_id;
    if path.file_name().and_then(|n| n.to_str()) != Some(stick::bundle_file(id).as_str()) {
        return Err(Outcome::Damaged(
            "the file name is not its bundle id".into(),
        ));
    }
    seen.push(id);
    if let Some(entry) = listed.get(&id) {
        if entry.sha256 != Sha256::of(&bytes) || entry.len != bytes.len() as u64 {
            return Err(Outcome::Damaged("differs from its manifest entry".into()));
        }
    }
    Ok((id, bytes))
}

/// The bundle id a file is named by (`<id><suffix>`).
fn id_of(path: &Path, suffix: &str) -> Option<BundleId> {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(suffix))
        .and_then(|stem| BundleId::parse(stem).ok())
}

/// Writes an answer onto the stick durably (temporary name, sync, rename): a stick pulled
/// out mid-import holds whole answers or none.
fn write_answer(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| RegistryError::io("creating", dir, e))?;
    }
    blobs::write_durably(path, bytes)
}

fn verdict_outcome(receipt: &Receipt) -> Outcome {
    match &receipt.verdict {
        Verdict::Accepted => Outcome::Accepted,
        Verdict::Duplicate { .. } => Outcome::Duplicate,
        Verdict::Rejected(reason) => Outcome::Rejected(reason.code()),
    }
}

/// The regular files in `dir` whose names end with `suffix`, sorted; none if `dir` is absent.
fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, RegistryError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RegistryError::io("listing", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RegistryError::io("listing", dir, e))?;
        let path = entry.path();
        let name_ok = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(suffix));
        if name_ok && entry.file_type().is_ok_and(|t| t.is_file()) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn relative(folder: &str, path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    format!("{folder}/{name}")
}

/// Reads at most `limit` bytes; a longer file is refused, not cut.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("over the {limit}-byte limit"));
    }
    Ok(bytes)
}
