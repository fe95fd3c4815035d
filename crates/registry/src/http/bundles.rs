//! `POST /api/v1/bundles` (submit; the answer is always a signed receipt) and
//! `GET /api/v1/bundles/{bundle_id}` (status of an accepted bundle).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use ghidanh_bundle::BundleId;
use serde::Serialize;

use super::{blocking, ApiError};
use crate::Registry;

/// Media type of a signed receipt.
pub(crate) const RECEIPT_CONTENT_TYPE: &str = "application/vnd.ghidanh.receipt";

pub(crate) async fn submit(
    State(registry): State<Arc<Registry>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body?;
    let submission = blocking(move || registry.ingest(&body)).await?;
    Ok(([(CONTENT_TYPE, RECEIPT_CONTENT_TYPE)], submission.bytes))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BundleStatus {
    bundle_id: String,
    verdict: &'static str,
    receipt_id: String,
}

pub(crate) async fn status(
    State(registry): State<Arc<Registry>>,
    Path(bundle_id): Path<String>,
) -> Result<Json<BundleStatus>, ApiError> {
    // A string that is not a bundle id names no stored bundle.
    let bundle_id = BundleId::parse(&bundle_id).map_err(|_| ApiError::NotFound)?;
    let receipt_id = blocking(move || registry.accepted_receipt(bundle_id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(BundleStatus {
        bundle_id: bundle_id.to_string(),
        verdict: "accepted",
        receipt_id: receipt_id.to_string(),
    }))
}

/// `GET /api/v1/bundles/{bundle_id}/receipt`: the signed receipt of an accepted bundle, the
/// one a kit polls for after a relay's custody receipt (a relay answers the same route).
pub(crate) async fn receipt(
    State(registry): State<Arc<Registry>>,
    Path(bundle_id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let bundle_id = BundleId::parse(&bundle_id).map_err(|_| ApiError::NotFound)?;
    let bytes = blocking(move || registry.accepted_receipt_bytes(bundle_id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(([(CONTENT_TYPE, RECEIPT_CONTENT_TYPE)], bytes))
}
