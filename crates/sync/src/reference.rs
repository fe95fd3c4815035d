//! Down-sync of reference data (`schema/bundle.md` § Reference updates): the worker asks the
//! registry for newer lists after it reached it, at most once an hour; each update counts only
//! if it verifies with the registry key of the provisioning file, is the list it claims and is
//! newer than the installed one, and the set installs (the record crate's reader and its
//! consistency checks). Accepted frames are kept in the vault (settings
//! `reference_update_<list>`, base64, encrypted like everything there) before the lookups
//! switch to them, and are verified and installed again at every unlock
//! ([`install_stored`]). Whatever is refused is logged, and the lists in use stay.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ghidanh_bundle::{ReferenceUpdate, RegistryPublicKeys};
use ghidanh_record::reference::{self, is_newer, List, ListUpdate, ReferenceError};
use ghidanh_vault::{Vault, VaultError};

use crate::{Client, OfferedUpdate, SyncError};

/// The vault setting holding the accepted update of `list` (base64 of the signed frame).
pub fn stored_setting(list: List) -> String {
    format!("reference_update_{}", list.name())
}

/// The vault setting with the last time the worker asked for reference updates (Unix ms).
pub const REFERENCE_CHECKED_SETTING: &str = "sync_reference_checked_ms";

/// How often the worker asks for reference updates.
pub const REFERENCE_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Why an update was not installed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateRefused {
    /// The frame does not parse or verify with the registry key.
    #[error("does not verify with the registry key: {0}")]
    Unverified(ghidanh_bundle::Error),
    /// The answer named another list than the signed frame.
    #[error("offered as {offered}, signed as {signed}")]
    OtherList {
        /// What the answer said.
        offered: String,
        /// What the frame says.
        signed: &'static str,
    },
    /// Not newer than the version installed.
    #[error("{list} {version} is not newer than the installed {installed}")]
    NotNewer {
        /// The list.
        list: &'static str,
        /// The version offered.
        version: String,
        /// The version in use.
        installed: String,
    },
    /// The set does not install (a bad line, a version line that differs, inconsistent lists).
    #[error("does not install: {0}")]
    Invalid(ReferenceError),
}

/// Checks one offered update against the registry key and what is installed.
pub fn accept(
    offered: &OfferedUpdate,
    registry: &RegistryPublicKeys,
) -> Result<ReferenceUpdate, UpdateRefused> {
    let update =
        ReferenceUpdate::verify(&offered.bytes, registry).map_err(UpdateRefused::Unverified)?;
    if offered.list != update.list.name() {
        return Err(UpdateRefused::OtherList {
            offered: offered.list.clone(),
            signed: update.list.name(),
        });
    }
    let installed = reference::versions()
        .get(update.list.name())
        .unwrap_or_default();
    if !is_newer(&update.version, installed) {
        return Err(UpdateRefused::NotNewer {
            list: update.list.name(),
            version: update.version,
            installed: installed.to_owned(),
        });
    }
    Ok(update)
}

fn list_update(u: &ReferenceUpdate) -> ListUpdate {
    ListUpdate {
        list: u.list,
        version: u.version.clone(),
        tsv: u.tsv.clone(),
    }
}

/// Verifies the updates kept in the vault with the registry key of its provisioning file and
/// installs them (at unlock; nothing happens for what is installed already). A kept update
/// that does not verify, or is not newer than what this build embeds, is left out and logged.
/// Returns how many lists are installed from the vault.
pub fn install_stored(vault: &Vault) -> Result<usize, VaultError> {
    let Some(device) = vault.device()? else {
        return Ok(0);
    };
    let registry = &device.provisioning.registry;
    let mut kept = Vec::new();
    for list in List::ALL {
        let Some(text) = vault.setting(&stored_setting(list))? else {
            continue;
        };
        let verified = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| UpdateRefused::Unverified(ghidanh_bundle::Error::Truncated("base64")))
            .and_then(|bytes| {
                ReferenceUpdate::verify(&bytes, registry).map_err(UpdateRefused::Unverified)
            });
        match verified {
            Ok(u) if u.list == list => kept.push(u),
            Ok(u) => {
                tracing::warn!(list = %list, signed = %u.list, "kept reference update is another list: left out")
            }
            Err(e) => tracing::warn!(list = %list, error = %e, "kept reference update left out"),
        }
    }
    // A newer build may embed a newer release than an update kept from before.
    let installed = reference::versions();
    kept.retain(|u| {
        let current = installed.get(u.list.name()).unwrap_or_default();
        let keep = u.version == current || is_newer(&u.version, current);
        if !keep {
            tracing::info!(list = %u.list, version = %u.version, current, "kept reference update older than this build's: left out");
        }
        keep
    });
    if kept.is_empty() {
        return Ok(0);
    }
    let updates: Vec<ListUpdate> = kept.iter().map(list_update).collect();
    match reference::prepare(&updates) {
        Ok(prepared) => {
            let changed = prepared.changes_anything();
            prepared.install();
            if changed {
                for u in &kept {
                    tracing::info!(list = %u.list, version = %u.version, "reference update installed from the vault");
                }
            }
            Ok(kept.len())
        }
        Err(e) => {
            tracing::warn!(error = %e, "kept reference updates do not install: the built-in lists stay");
            Ok(0)
        }
    }
}

/// What one check for updates did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fetched {
    /// The lists installed, with their versions.
    pub installed: Vec<(List, String)>,
    /// How many offered updates were refused.
    pub refused: usize,
}

/// Asks the registry for updates if the last check is older than [`REFERENCE_INTERVAL`], and
/// installs what it accepts. A failure to reach the registry, or an answer that is not the
/// documented one, is `Err` and the check is tried again at the next pass; an answer of
/// updates, good or refused, or a 404/405 (a registry without the route) counts as the check.
pub async fn check_for_updates(
    vault: &Arc<Vault>,
    client: &Client,
    registry: &RegistryPublicKeys,
    now_ms: i64,
) -> Result<Option<Fetched>, SyncError> {
    let checked = on_vault(vault, |v| v.setting(REFERENCE_CHECKED_SETTING))
        .await?
        .and_then(|v| v.parse::<i64>().ok());
    if checked.is_some_and(|at| now_ms.saturating_sub(at) < REFERENCE_INTERVAL.as_millis() as i64) {
        return Ok(None);
    }
    let installed = reference::versions();
    let have: Vec<(&str, &str)> = List::ALL
        .iter()
        .filter_map(|l| installed.get(l.name()).map(|v| (l.name(), v)))
        .collect();
    let answer = client.reference_updates(&have).await;
    // Any answer is the check, a registry (or relay) from before these updates too (404/405):
    // asking it at every pass would change nothing.
    let no_route = matches!(
        answer,
        Err(SyncError::Http {
            status: 404 | 405,
            ..
        })
    );
    if answer.is_ok() || no_route {
        on_vault(vault, move |v| {
            v.set_setting(REFERENCE_CHECKED_SETTING, &now_ms.to_string())
        })
        .await?;
    }
    if no_route {
        return Ok(None);
    }
    let offered = answer?;
    let mut fetched = Fetched::default();
    let mut accepted: Vec<(ReferenceUpdate, Vec<u8>)> = Vec::new();
    for o in offered {
        match accept(&o, registry) {
            Ok(u) if accepted.iter().any(|(a, _)| a.list == u.list) => {
                tracing::warn!(list = %u.list, "reference update offered twice: refused");
                fetched.refused += 1;
            }
            Ok(u) => accepted.push((u, o.bytes)),
            Err(e) => {
                tracing::warn!(offered = %o.list, version = %o.version, error = %e, "reference update refused; the installed list stays");
                fetched.refused += 1;
            }
        }
    }
    if accepted.is_empty() {
        return Ok(Some(fetched));
    }
    let updates: Vec<ListUpdate> = accepted.iter().map(|(u, _)| list_update(u)).collect();
    let prepared = match tokio::task::spawn_blocking(move || reference::prepare(&updates)).await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            let e = UpdateRefused::Invalid(e);
            tracing::warn!(error = %e, "reference updates refused; the installed lists stay");
            fetched.refused += accepted.len();
            return Ok(Some(fetched));
        }
        Err(_) => return Err(SyncError::Unreachable("reference task stopped".into())),
    };
    // Kept first, then in use: an update in use is always one the next unlock installs again.
    let frames: Vec<(String, String)> = accepted
        .iter()
        .map(|(u, bytes)| {
            (
                stored_setting(u.list),
                base64::engine::general_purpose::STANDARD.encode(bytes),
            )
        })
        .collect();
    on_vault(vault, move |v| {
        frames.iter().try_for_each(|(k, b)| v.set_setting(k, b))
    })
    .await?;
    prepared.install();
    for (u, _) in accepted {
        tracing::info!(list = %u.list, version = %u.version, "reference update installed");
        fetched.installed.push((u.list, u.version));
    }
    Ok(Some(fetched))
}

async fn on_vault<T: Send + 'static>(
    vault: &Arc<Vault>,
    f: impl FnOnce(&Vault) -> Result<T, VaultError> + Send + 'static,
) -> Result<T, SyncError> {
    let vault = vault.clone();
    tokio::task::spawn_blocking(move || f(&vault))
        .await
        .map_err(|_| SyncError::Unreachable("vault task stopped".into()))?
        .map_err(SyncError::from)
}
