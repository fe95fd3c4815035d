//! The HTTP API (`/api/v1`): thin handlers over [`Registry`], JSON errors from one type.

mod bundles;
mod devices;
mod error;
mod health;
mod reference;
mod relay;
mod uploads;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::config::{BUNDLE_BODY_LIMIT, REGISTRATION_BODY_LIMIT};
use crate::Registry;

pub(crate) use error::ApiError;
pub use relay::{relay_app, CUSTODY_CONTENT_TYPE, RELAY_CERT_HEADER, RELAY_ROUTES};

/// Every route [`app`] serves, with its methods: the API contract test checks this list
/// against `schema/openapi.yaml` and against the router's answers.
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/health", &["GET"]),
    ("/api/v1/devices/register", &["POST"]),
    ("/api/v1/reference", &["GET"]),
    ("/api/v1/bundles", &["POST"]),
    ("/api/v1/bundles/{bundle_id}", &["GET"]),
    ("/api/v1/bundles/{bundle_id}/receipt", &["GET"]),
    ("/api/v1/uploads", &["POST"]),
    (
        "/api/v1/uploads/{upload_id}",
        &["GET", "HEAD", "PATCH", "DELETE"],
    ),
];

/// The registry's HTTP API.
pub fn app(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/api/v1/health", get(health::get))
        .route(
            "/api/v1/devices/register",
            post(devices::register).layer(DefaultBodyLimit::max(REGISTRATION_BODY_LIMIT)),
        )
        .route("/api/v1/reference", get(reference::get))
        .route(
            "/api/v1/bundles",
            post(bundles::submit).layer(DefaultBodyLimit::max(BUNDLE_BODY_LIMIT)),
        )
        .route("/api/v1/bundles/{bundle_id}", get(bundles::status))
        .route("/api/v1/bundles/{bundle_id}/receipt", get(bundles::receipt))
        .route(
            "/api/v1/uploads",
            post(uploads::create).layer(DefaultBodyLimit::max(BUNDLE_BODY_LIMIT)),
        )
        .route(
            "/api/v1/uploads/{upload_id}",
            get(uploads::fetch_receipt)
                .head(uploads::offset)
                .patch(uploads::append)
                .delete(uploads::cancel)
                .layer(DefaultBodyLimit::max(BUNDLE_BODY_LIMIT)),
        )
        .fallback(|| async { ApiError::NotFound })
        .with_state(registry)
}

/// Runs blocking registry work off the async threads.
async fn blocking<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(ApiError::Internal(crate::RegistryError::Task)),
    }
}
