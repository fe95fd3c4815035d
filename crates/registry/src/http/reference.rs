//! `GET /api/v1/reference`: the signed reference updates newer than what the kit has
//! (schema/bundle.md § Reference updates, "Over HTTP").

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use base64::Engine as _;
use ghidanh_record::reference::List;
use serde::{Deserialize, Serialize};

use super::{blocking, ApiError};
use crate::Registry;

/// The query: `have=LIST:VERSION,...` and the kit's registry key id.
#[derive(Deserialize)]
pub(crate) struct Have {
    have: Option<String>,
    key_id: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Updates {
    updates: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    list: &'static str,
    version: String,
    /// Base64 of the signed frame: the part a kit trusts, once verified.
    update: String,
}

/// Parses `have`: comma-separated `list:version`; lists this registry does not know are
/// skipped (a newer kit may know more), an entry without `:` is malformed.
pub(crate) fn parse_have(have: &str) -> Result<BTreeMap<List, String>, ApiError> {
    let mut out = BTreeMap::new();
    for entry in have.split(',').filter(|e| !e.is_empty()) {
        let (list, version) = entry.split_once(':').ok_or(ApiError::Malformed)?;
        if let Some(list) = List::parse(list) {
            out.insert(list, version.to_owned());
        }
    }
    Ok(out)
}

pub(crate) async fn get(
    State(registry): State<Arc<Registry>>,
    Query(query): Query<Have>,
) -> Result<Json<Updates>, ApiError> {
    let have = parse_have(query.have.as_deref().unwrap_or_default())?;
    let updates =
        blocking(move || registry.reference_updates(&have, query.key_id.as_deref())).await?;
    Ok(Json(Updates {
        updates: updates
            .into_iter()
            .map(|(u, bytes)| Entry {
                list: u.list.name(),
                version: u.version,
                update: base64::engine::general_purpose::STANDARD.encode(bytes),
            })
            .collect(),
    }))
}
