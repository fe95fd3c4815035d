//! Reference updates the registry publishes (`schema/bundle.md` § Reference updates): newer
//! releases of the reference lists, kept as signed frames in `<data>/reference/<list>.gdref`
//! (the latest of each list), installed into this process's record tables so that ingest
//! validates with exactly what kits are served, and served at `GET /api/v1/reference`.
//!
//! Publishing is an administrator's command on the data directory, like `rotate-key`; a
//! running registry picks a publication up at the next `GET /api/v1/reference` (it installs
//! the new set first, then serves it) or at its next start.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use ghidanh_bundle::{Keyring, ReferenceUpdate, RegistryKeys};
use ghidanh_record::reference::{self, is_newer, List, ListUpdate};

use crate::blobs::write_durably;
use crate::config::DataDir;
use crate::registry::unix_now;
use crate::{keys_file, Registry, RegistryError};

/// One list to publish: its text and the version it is published as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The list.
    pub list: List,
    /// Its version; must be newer than the published (or embedded) one.
    pub version: String,
    /// The TSV text.
    pub tsv: String,
}

/// Signs and stores newer releases of one or more lists (`ghidanh registry publish-reference`).
///
/// Refuses, storing nothing: a version not newer than the one published (or embedded, if none
/// was); a text the record crate's reader refuses or whose `# version:` differs; and a set that
/// is inconsistent once combined with the other published lists (a commune in no province, a
/// province's commune count off): provinces and communes that change together are published
/// together. Returns the updates as signed, with the registry's current key.
pub fn publish_reference(
    data_dir: &Path,
    publications: &[Publication],
) -> Result<Vec<ReferenceUpdate>, RegistryError> {
    let dir = DataDir::new(data_dir);
    let ring = keys_file::read(&dir.key_file())?;
    let mut set = read_published(&dir, &ring)?;
    let issued_at = unix_now();
    let mut new = Vec::new();
    let mut signed = Vec::new();
    for p in publications {
        let update = ReferenceUpdate {
            list: p.list,
            version: p.version.clone(),
            issued_at,
            tsv: p.tsv.clone(),
        };
        // Signed first: a version of the wrong shape is refused for its shape.
        let bytes = sign(&update, ring.current())?;
        let current = set
            .get(&p.list)
            .map(|u| u.version.as_str())
            .or_else(|| reference::versions().get(p.list.name()))
            .unwrap_or_default();
        if !is_newer(&p.version, current) {
            return Err(RegistryError::NotNewer {
                list: p.list.name(),
                version: p.version.clone(),
                current: current.to_owned(),
            });
        }
        set.insert(p.list, update.clone());
        signed.push((p.list, bytes));
        new.push(update);
    }
    // The whole published set, checked as a kit will check it before installing.
    reference::prepare(&list_updates(set.values())).map_err(RegistryError::Reference)?;
    let folder = dir.reference();
    std::fs::create_dir_all(&folder).map_err(|e| RegistryError::io("creating", &folder, e))?;
    for (list, bytes) in signed {
        write_durably(&dir.reference_update(list), &bytes)?;
    }
    Ok(new)
}

/// The latest published update of every list, each verified with the registry key it names.
fn read_published(
    dir: &DataDir,
    ring: &Keyring,
) -> Result<BTreeMap<List, ReferenceUpdate>, RegistryError> {
    let mut set = BTreeMap::new();
    for list in List::ALL {
        let path = dir.reference_update(list);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(RegistryError::io("reading", path, e)),
        };
        // Signed by whichever key was current at publication: any key of the ring.
        let update = ring
            .keys()
            .find_map(|k| ReferenceUpdate::verify(&bytes, k.public()).ok())
            .filter(|u| u.list == list)
            .ok_or_else(|| RegistryError::ReferenceFile {
                path: path.clone(),
                rule: "does not verify with a registry key, or names another list",
            })?;
        set.insert(list, update);
    }
    Ok(set)
}

fn list_updates<'a>(updates: impl Iterator<Item = &'a ReferenceUpdate>) -> Vec<ListUpdate> {
    updates
        .map(|u| ListUpdate {
            list: u.list,
            version: u.version.clone(),
            tsv: u.tsv.clone(),
        })
        .collect()
}

/// What a running registry has installed and serves.
#[derive(Default)]
pub(crate) struct Published {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The updates installed in this process: what is served.
    installed: BTreeMap<List, ReferenceUpdate>,
    /// The (list, version) set last tried, so a set that fails to install is tried once, not
    /// at every request (each try leaks its texts: see `reference::prepare`).
    tried: Vec<(List, String)>,
}

impl Published {
    /// Reads what is published in `dir` and installs it if it is not what is installed.
    /// Returns the error of a set that does not install (the previous one stays).
    pub(crate) fn refresh(&self, dir: &DataDir, ring: &Keyring) -> Result<(), RegistryError> {
        let set = read_published(dir, ring)?;
        let key: Vec<(List, String)> = set.iter().map(|(l, u)| (*l, u.version.clone())).collect();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if key == state.tried {
            return Ok(());
        }
        state.tried = key;
        let prepared =
            reference::prepare(&list_updates(set.values())).map_err(RegistryError::Reference)?;
        prepared.install();
        state.installed = set;
        Ok(())
    }

    /// Every installed update newer than what `have` names for its list (all of a list `have`
    /// does not name).
    fn newer_than(&self, have: &BTreeMap<List, String>) -> Vec<ReferenceUpdate> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .installed
            .values()
            .filter(|u| have.get(&u.list).is_none_or(|v| is_newer(&u.version, v)))
            .cloned()
            .collect()
    }
}

impl Registry {
    /// The published reference updates newer than what a kit `have`s, each signed with the
    /// key `key_id` names if this registry holds it (a kit knows only the key of its
    /// provisioning file, which may predate a rotation), else with the current key: what
    /// `GET /api/v1/reference` answers. Picks up a publication made since the start first.
    pub fn reference_updates(
        &self,
        have: &BTreeMap<List, String>,
        key_id: Option<&str>,
    ) -> Result<Vec<(ReferenceUpdate, Vec<u8>)>, RegistryError> {
        if let Err(e) = self.reference.refresh(&self.dir, &self.keys) {
            // The previous set stays installed and served; the administrator's to fix.
            tracing::error!(error = %e, "published reference updates not installed");
        }
        let key = key_id
            .and_then(|id| {
                self.keys
                    .keys()
                    .find(|k| k.public().key_id().as_str() == id)
            })
            .unwrap_or(self.keys.current());
        self.reference
            .newer_than(have)
            .into_iter()
            .map(|u| {
                let bytes = sign(&u, key)?;
                Ok((u, bytes))
            })
            .collect()
    }
}

fn sign(update: &ReferenceUpdate, key: &RegistryKeys) -> Result<Vec<u8>, RegistryError> {
    update.sign(key).map_err(|e| RegistryError::BadPublication {
        list: update.list.name(),
        detail: e.to_string(),
    })
}
