//! `POST /api/v1/devices/register`: body = `DeviceRegistration` bytes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::{blocking, ApiError};
use crate::Registry;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegisteredBody {
    status: &'static str,
    device_id: String,
}

pub(crate) async fn register(
    State(registry): State<Arc<Registry>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RegisteredBody>, ApiError> {
    let body = body?;
    let registered = blocking(move || registry.register_device(&body)).await?;
    tracing::info!(device_id = %registered.device_id, "device registered");
    Ok(Json(RegisteredBody {
        status: "registered",
        device_id: registered.device_id.to_string(),
    }))
}
