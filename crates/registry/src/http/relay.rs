//! The HTTP API of a registry in mode `relay` (schema/openapi.yaml, "relay"): the kit's
//! routes, answered from what the relay holds; registrations and reference updates pass
//! through to upstream.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use ghidanh_bundle::BundleId;
use serde_json::json;

use super::bundles::RECEIPT_CONTENT_TYPE;
use super::uploads::{
    blocking as upload_blocking, created, header, location, repr_digest, sf_bool, sf_offset,
    state_headers, HttpError, BUNDLE_ID, UPLOAD_COMPLETE, UPLOAD_LENGTH, UPLOAD_OFFSET,
};
use super::{blocking, ApiError};
use crate::append_stream::{self, StreamAppended};
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
    ("/api/v1/reference", &["GET"]),
    ("/api/v1/bundles", &["POST"]),
    ("/api/v1/bundles/{bundle_id}/receipt", &["GET"]),
    ("/api/v1/uploads", &["POST"]),
    (
        "/api/v1/uploads/{upload_id}",
        &["GET", "HEAD", "PATCH", "DELETE"],
    ),
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
        .route("/api/v1/reference", get(reference))
        .route(
            "/api/v1/bundles",
            post(submit).layer(DefaultBodyLimit::max(BUNDLE_BODY_LIMIT)),
        )
        .route("/api/v1/bundles/{bundle_id}/receipt", get(receipt))
        .route(
            "/api/v1/uploads",
            post(upload_create).layer(DefaultBodyLimit::max(BUNDLE_BODY_LIMIT)),
        )
        .route(
            "/api/v1/uploads/{upload_id}",
            get(upload_fetch)
                .head(upload_offset)
                .patch(upload_append)
                .delete(upload_cancel)
                .layer(DefaultBodyLimit::max(BUNDLE_BODY_LIMIT)),
        )
        .fallback(|| async { ApiError::NotFound })
        .with_state(RelayState { relay, http })
}

async fn health(State(s): State<RelayState>) -> Result<Json<serde_json::Value>, ApiError> {
    let relay = s.relay.clone();
    let pending = blocking(move || relay.pending()).await?;
    Ok(Json(json!({
        "status": "ok",
        "mode": "relay",
        "keyId": s.relay.public_key().key_id().as_str(),
        "pending": pending,
    })))
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
    Ok(answer_response(&s.relay, answer))
}

/// The HTTP answer to a bundle the relay decided on (single POST or completed upload).
fn answer_response(relay: &Relay, answer: RelayAnswer) -> Response {
    match answer {
        RelayAnswer::Custody(bytes) => {
            let cert =
                base64::engine::general_purpose::STANDARD.encode(relay.certificate().bytes());
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
    }
}

/// A completed upload's answer, with the offset headers of the draft.
fn completed(relay: &Relay, answer: RelayAnswer, length: u64) -> Response {
    let mut res = answer_response(relay, answer);
    let h = res.headers_mut();
    h.insert(UPLOAD_OFFSET, HeaderValue::from(length));
    h.insert(UPLOAD_COMPLETE, HeaderValue::from_static("?1"));
    res
}

async fn upload_create(
    State(s): State<RelayState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, HttpError> {
    let length = sf_offset(&headers, &UPLOAD_LENGTH, "Upload-Length")?;
    let sha256 = repr_digest(&headers)?;
    let bundle_id =
        header(&headers, &BUNDLE_ID).ok_or(HttpError::MissingHeader("Ghidanh-Bundle-Id"))?;
    let bundle_id = BundleId::parse(bundle_id.trim())
        .map_err(|_| HttpError::InvalidHeader("Ghidanh-Bundle-Id"))?;
    let complete = sf_bool(&headers, &UPLOAD_COMPLETE, "Upload-Complete")?.unwrap_or(false);
    let body = body.map_err(HttpError::Body)?;
    let relay = s.relay.clone();
    let state = upload_blocking(move || relay.create_upload(bundle_id, sha256, length)).await?;
    let loc = location(&state.upload_id);
    if state.offset == 0 && !state.complete && (!body.is_empty() || complete) {
        let declared = Some(body.len() as u64);
        let appended = append_stream::append(
            s.relay.clone(),
            state.upload_id.clone(),
            0,
            complete,
            declared,
            Body::from(body),
        )
        .await?;
        return Ok(match appended {
            StreamAppended::Complete { done: answer, .. } => {
                let mut res = completed(&s.relay, answer, length);
                res.headers_mut().insert(LOCATION, loc);
                res
            }
            StreamAppended::Partial(state) => created(&state, loc),
        });
    }
    Ok(created(&state, loc))
}

async fn upload_offset(
    State(s): State<RelayState>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    // As central: an append in progress ends, synced, before the offset is told.
    let relay = s.relay.clone();
    let lookup = id.clone();
    let state = s
        .relay
        .appends
        .quiesced(&id, upload_blocking(move || relay.upload_state(&lookup)))
        .await?;
    Ok((StatusCode::NO_CONTENT, state_headers(&state)).into_response())
}

async fn upload_append(
    State(s): State<RelayState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let (offset, complete, declared) = super::uploads::append_request(&headers)?;
    let appended =
        append_stream::append(s.relay.clone(), id, offset, complete, declared, body).await?;
    Ok(match appended {
        StreamAppended::Partial(state) => {
            (StatusCode::NO_CONTENT, state_headers(&state)).into_response()
        }
        StreamAppended::Complete {
            done: answer,
            length,
        } => completed(&s.relay, answer, length),
    })
}

async fn upload_fetch(
    State(s): State<RelayState>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let relay = s.relay.clone();
    let lookup = id.clone();
    let state = upload_blocking(move || relay.upload_state(&lookup)).await?;
    let relay = s.relay.clone();
    match upload_blocking(move || relay.upload_answer(&id)).await? {
        Some(answer) => Ok(completed(&s.relay, answer, state.length)),
        None => Ok((
            StatusCode::CONFLICT,
            state_headers(&state),
            Json(json!({
                "code": "upload_incomplete",
                "message": "the upload is not complete yet",
            })),
        )
            .into_response()),
    }
}

async fn upload_cancel(
    State(s): State<RelayState>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    // An append in progress ends first: its sync must not bring the part file back.
    let relay = s.relay.clone();
    let lookup = id.clone();
    s.relay
        .appends
        .quiesced(&id, upload_blocking(move || relay.cancel_upload(&lookup)))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
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

/// `GET /api/v1/reference`, passed to the upstream registry with its query, and its answer
/// back as it is: the updates are signed by the registry, and the kit verifies them with the
/// registry key, so the relay need not (and a relay cannot forge one).
async fn reference(
    State(s): State<RelayState>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let url = format!(
        "{}/api/v1/reference{query}",
        s.relay.upstream.url.trim_end_matches('/')
    );
    let cut = || {
        json_error(
            StatusCode::BAD_GATEWAY,
            "upstream_unreachable",
            "the registry cannot be reached; try again later",
        )
    };
    let resp = match s.http.get(url).send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "reference request not passed upstream");
            return Ok(cut());
        }
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
        .unwrap_or(HeaderValue::from_static("application/json"));
    match resp.bytes().await {
        Ok(bytes) => Ok((status, [(CONTENT_TYPE, content_type)], bytes).into_response()),
        Err(_) => Ok(cut()),
    }
}
