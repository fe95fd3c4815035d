//! `GET /api/v1/health`.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::Registry;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Health {
    status: &'static str,
    key_id: String,
}

pub(crate) async fn get(State(registry): State<Arc<Registry>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        key_id: registry.key_id().to_string(),
    })
}
