//! Importing a USB stick written by kits (`ghidanh relay import DIR`): register the devices that
//! never reached the registry, ingest every intact bundle through the same path as HTTP, and
//! write each receipt back onto the stick for the kit to take home.
//!
//! A damaged copy is not a refused enrollment: a bundle file that does not verify on its own
//! (cut short, bit rot) or differs from what its kit's manifest lists is reported and left for
//! the next stick; it gets no receipt, so the kit keeps it and exports it again. Importing the
//! same stick twice changes nothing: a bundle whose receipt is already on the stick is skipped.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use ghidanh_bundle::stick::{self, Manifest, ManifestEntry};
use ghidanh_bundle::{BundleId, Envelope, Sha256, Verdict};

use crate::blobs;
use crate::provision::RegisterError;
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

impl Registry {
    /// Imports the stick mounted at `stick` (its `ghidanh` folder is looked for inside).
    /// Only a failure of the registry itself, or an unreadable stick, is an `Err`.
    pub fn import_stick(&self, stick: &Path) -> Result<StickImport, RegistryError> {
        let root = stick.join(stick::ROOT);
        let mut report = StickImport::default();
        let devices = root.join(stick::DEVICES);
        let mut listed: HashMap<BundleId, ManifestEntry> = HashMap::new();
        for path in files_ending(&devices, ".gdregistration")? {
            let name = relative(stick::DEVICES, &path);
            let outcome = match read_limited(&path, MAX_SMALL_FILE) {
                Err(e) => Outcome::Unusable(e),
                Ok(bytes) => match self.register_device(&bytes) {
                    Ok(_) => Outcome::Registered,
                    Err(RegisterError::DeviceRevoked(_)) => {
                        Outcome::Unusable("device revoked".into())
                    }
                    Err(RegisterError::Registry(e)) => return Err(e),
                    Err(e) => Outcome::Unusable(e.to_string()),
                },
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

        let receipts = root.join(stick::RECEIPTS);
        let mut seen = Vec::new();
        for path in files_ending(&root.join(stick::BUNDLES), ".gdbundle")? {
            let name = relative(stick::BUNDLES, &path);
            let outcome = self.import_bundle(&path, &receipts, &listed, &mut seen)?;
            report.push(name, outcome);
        }
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

    fn import_bundle(
        &self,
        path: &Path,
        receipts: &Path,
        listed: &HashMap<BundleId, ManifestEntry>,
        seen: &mut Vec<BundleId>,
    ) -> Result<Outcome, RegistryError> {
        // A damaged file still accounts for its manifest entry: it is there, not missing.
        let named = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".gdbundle"))
            .and_then(|stem| BundleId::parse(stem).ok());
        seen.extend(named);
        let bytes = match read_limited(path, MAX_BUNDLE_FILE) {
            Ok(b) => b,
            Err(e) => return Ok(Outcome::Damaged(e)),
        };
        let envelope = match Envelope::parse(&bytes).and_then(|e| e.verify().map(|()| e)) {
            Ok(e) => e,
            Err(e) => return Ok(Outcome::Damaged(e.to_string())),
        };
        let id = envelope.header().bundle_id;
        if path.file_name().and_then(|n| n.to_str()) != Some(stick::bundle_file(id).as_str()) {
            return Ok(Outcome::Damaged(
                "the file name is not its bundle id".into(),
            ));
        }
        seen.push(id);
        if let Some(entry) = listed.get(&id) {
            if entry.sha256 != Sha256::of(&bytes) || entry.len != bytes.len() as u64 {
                return Ok(Outcome::Damaged("differs from its manifest entry".into()));
            }
        }
        let receipt_path = receipts.join(stick::receipt_file(id));
        if receipt_path.exists() {
            return Ok(Outcome::AlreadyImported);
        }
        let submission = self.ingest(&bytes)?;
        fs::create_dir_all(receipts).map_err(|e| RegistryError::io("creating", receipts, e))?;
        blobs::write_durably(&receipt_path, &submission.bytes)?;
        Ok(match submission.receipt.verdict {
            Verdict::Accepted => Outcome::Accepted,
            Verdict::Duplicate { .. } => Outcome::Duplicate,
            Verdict::Rejected(reason) => Outcome::Rejected(reason.code()),
        })
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
