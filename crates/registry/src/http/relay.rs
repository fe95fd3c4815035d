//! The HTTP API of a registry in mode `relay` (schema/openapi.yaml, "relay"): the kit's
//! routes, answered from what the relay holds; registrations pass through to upstream.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use ghidanh_bundle::BundleId;
use serde_json::json;

use super::bundles::RECEIPT_CONTENT_TYPE;
use super::{blocking, ApiError};
use crate::config::{BUNDLE_BODY_LIMIT, REGISTRATION_BODY_LIMIT};
use crate::relay::{CentralReceipt, Relay, RelayAnswer};

/// Media type of a relay's custody receipt: never to be taken for the registry's verdict.
pub const CUSTODY_CONTENT_TYPE: &str = "application/vnd.ghidanh.custody-receipt";
/// The header carrying the relay certificate (base64) beside every custody receipt.
pub const RELAY_CERT_HEADER: &str = "ghidanh-relay-certificate";

/// Every route [`relay_app`] serves, with its methods (checked against schema/openapi.yaml).
pub const RELAY_ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/health", &["GET"]),
    ("/api/v1/devices/register", &["POST"]),
    ("/api/v1/bundles", &["POST"]),
    ("/api/v1/bundles/{bundle_id}/receipt", &["GET"]),
];

#[derive(Clone)]
struct RelayState {
    relay: Arc<Relay>,
    http: reqwest::Client,
}

/// The relay's HTTP API.
pub fn relay_app(relay: Arc<Relay>) -> Router {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    Router::new()
        .route("/api/v1/health", get(health))
        .route(
            "/api/v1/devices/register",
            post(register).layer(DefaultBodyLimit::max(REGISTRATION_BODY_LIMIT)),
        )
        .route(
            "/api/v1/bundles",
            post(submit).layer(DefaultBodyLimit::max(BUNDLE_BODY_LIMIT)),
        )
        .route("/api/v1/bundles/{bundle_id}/receipt", get(receipt))
        .fallback(|| async { ApiError::NotFound })
        .with_state(RelayState { relay, http })
}

async fn health(State(s): State<RelayState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "mode": "relay",
        "keyId": s.relay.public_key().key_id().as_str(),
    }))
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

async fn submit(
    State(s): State<RelayState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let relay = s.relay.clone();
    let answer = blocking(move || relay.submit(&body)).await?;
    Ok(match answer {
        RelayAnswer::Custody(bytes) => {
            let cert =
                base64::engine::general_purpose::STANDARD.encode(s.relay.certificate().bytes());
            (
                [
                    (CONTENT_TYPE, HeaderValue::from_static(CUSTODY_CONTENT_TYPE)),
                    (
                        HeaderName::from_static(RELAY_CERT_HEADER),
                        HeaderValue::from_str(&cert).unwrap_or(HeaderValue::from_static("")),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        RelayAnswer::Central(bytes) => {
            ([(CONTENT_TYPE, RECEIPT_CONTENT_TYPE)], bytes).into_response()
        }
        RelayAnswer::Refused(code) => json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "the relay cannot verify this bundle and holds nothing",
        ),
        RelayAnswer::Conflict => json_error(
            StatusCode::CONFLICT,
            "bundle_id_conflict",
            "another bundle with this id is held",
        ),
    })
}

async fn receipt(
    State(s): State<RelayState>,
    Path(bundle_id): Path<String>,
) -> Result<Response, ApiError> {
    let bundle_id = BundleId::parse(&bundle_id).map_err(|_| ApiError::NotFound)?;
    let relay = s.relay.clone();
    Ok(
        match blocking(move || relay.central_receipt(bundle_id)).await? {
            CentralReceipt::Known(bytes) => {
                ([(CONTENT_TYPE, RECEIPT_CONTENT_TYPE)], bytes).into_response()
            }
            CentralReceipt::Pending => json_error(
                StatusCode::ACCEPTED,
                "pending",
                "held by the relay; the registry's receipt is not there yet",
            ),
            CentralReceipt::Unknown => return Err(ApiError::NotFound),
        },
    )
}

/// A registration goes to the registry as it is, and its answer comes back as it is (the
/// relay cannot decide it; a revocation refusal stays signed by the registry).
async fn register(
    State(s): State<RelayState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let url = format!(
        "{}/api/v1/devices/register",
        s.relay.upstream.url.trim_end_matches('/')
    );
    let resp = match s
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/octet-stream")
        .body(body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "registration not passed upstream");
            return Ok(json_error(
                StatusCode::BAD_GATEWAY,
                "upstream_unreachable",
                "the registry cannot be reached; try again later",
            ));
        }
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(_) => {
            return Ok(json_error(
                StatusCode::BAD_GATEWAY,
                "upstream_unreachable",
                "the registry's answer was cut; try again later",
            ))
        }
    };
    Ok((status, [(CONTENT_TYPE, content_type)], bytes).into_response())
}
