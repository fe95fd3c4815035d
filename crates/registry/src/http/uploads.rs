//! Resumable uploads over HTTP (draft-ietf-httpbis-resumable-upload; schema/openapi.yaml):
//! `POST /api/v1/uploads` creates (or finds) an upload, `HEAD` on it tells the offset,
//! `PATCH` appends, `GET` gives the receipt of a completed one, `DELETE` cancels.
//!
//! Every header is parsed strictly here, before the registry sees a number: a hostile or
//! missing header is a 4xx JSON error, never a panic and never a file operation.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use ghidanh_bundle::{BundleId, Sha256};
use serde_json::json;

use super::bundles::RECEIPT_CONTENT_TYPE;
use crate::append_stream::{self, StreamAppended};
use crate::config::BUNDLE_BODY_LIMIT;
use crate::uploads::{UploadError, UploadState};
use crate::{Registry, RegistryError};

pub(super) const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
pub(super) const UPLOAD_COMPLETE: HeaderName = HeaderName::from_static("upload-complete");
pub(super) const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_LIMIT: HeaderName = HeaderName::from_static("upload-limit");
const REPR_DIGEST: HeaderName = HeaderName::from_static("repr-digest");
pub(super) const BUNDLE_ID: HeaderName = HeaderName::from_static("ghidanh-bundle-id");
/// Media type the draft requires for appended pieces.
pub(super) const PARTIAL_UPLOAD: &str = "application/partial-upload";

/// An answer of the upload endpoints that is not a success.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// A required header is absent.
    MissingHeader(&'static str),
    /// A header does not parse (negative, not a number, too long, wrong form).
    InvalidHeader(&'static str),
    /// A PATCH whose body is not `application/partial-upload`.
    UnsupportedMediaType,
    /// The body could not be read or is over the limit.
    Body(BytesRejection),
    /// Refused by the registry's upload rules.
    Upload(UploadError),
}

impl From<UploadError> for HttpError {
    fn from(e: UploadError) -> Self {
        HttpError::Upload(e)
    }
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let limit = BUNDLE_BODY_LIMIT;
        match self {
            HttpError::MissingHeader(h) => error(
                StatusCode::BAD_REQUEST,
                "missing_header",
                format!("the {h} header is required"),
            ),
            HttpError::InvalidHeader(h) => error(
                StatusCode::BAD_REQUEST,
                "invalid_header",
                format!("the {h} header is malformed"),
            ),
            HttpError::UnsupportedMediaType => error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("an appended piece must be {PARTIAL_UPLOAD}"),
            ),
            HttpError::Body(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the request body is over the limit of {limit} bytes"),
            ),
            HttpError::Body(_) => error(
                StatusCode::BAD_REQUEST,
                "malformed",
                "the request body could not be read".to_owned(),
            ),
            HttpError::Upload(e) => upload_error(e),
        }
    }
}

fn upload_error(e: UploadError) -> Response {
    let message = e.to_string();
    match e {
        UploadError::NotFound => error(StatusCode::NOT_FOUND, "not_found", message),
        UploadError::TooLarge { .. } => error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message),
        UploadError::OffsetMismatch { expected, provided } => (
            StatusCode::CONFLICT,
            [(UPLOAD_OFFSET, HeaderValue::from(expected))],
            Json(json!({
                "code": "mismatching_upload_offset",
                "message": message,
                "expectedOffset": expected,
                "providedOffset": provided,
            })),
        )
            .into_response(),
        UploadError::AlreadyComplete { length } => (
            StatusCode::CONFLICT,
            [
                (UPLOAD_OFFSET, HeaderValue::from(length)),
                (UPLOAD_COMPLETE, HeaderValue::from_static("?1")),
            ],
            Json(json!({ "code": "completed_upload", "message": message })),
        )
            .into_response(),
        UploadError::InconsistentLength { .. } => error(
            StatusCode::BAD_REQUEST,
            "inconsistent_upload_length",
            message,
        ),
        UploadError::DigestMismatch => error(StatusCode::BAD_REQUEST, "digest_mismatch", message),
        // Mostly to no one (the link is gone); a kit that does read it resumes from here.
        UploadError::Interrupted { offset } => (
            StatusCode::CONFLICT,
            [(UPLOAD_OFFSET, HeaderValue::from(offset))],
            Json(json!({ "code": "upload_interrupted", "message": message })),
        )
            .into_response(),
        UploadError::Registry(e) => internal(e),
    }
}

fn internal(e: RegistryError) -> Response {
    // Registry errors name steps and paths, never bundle contents.
    tracing::error!(error = %e, "upload request failed");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the registry failed; try again later".to_owned(),
    )
}

/// Runs blocking upload work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UploadError> + Send + 'static,
) -> Result<T, HttpError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(HttpError::from),
        Err(_) => Err(HttpError::Upload(UploadError::Registry(
            RegistryError::Task,
        ))),
    }
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"))
}

/// An RFC 8941 integer that is not negative: 1 to 15 digits.
pub(super) fn sf_offset(
    headers: &HeaderMap,
    name: &HeaderName,
    label: &'static str,
) -> Result<u64, HttpError> {
    let v = header(headers, name).ok_or(HttpError::MissingHeader(label))?;
    let v = v.trim();
    if v.is_empty() || v.len() > 15 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HttpError::InvalidHeader(label));
    }
    v.parse().map_err(|_| HttpError::InvalidHeader(label))
}

/// An RFC 8941 boolean: `?1` or `?0`.
pub(super) fn sf_bool(
    headers: &HeaderMap,
    name: &HeaderName,
    label: &'static str,
) -> Result<Option<bool>, HttpError> {
    match header(headers, name).map(str::trim) {
        None => Ok(None),
        Some("?1") => Ok(Some(true)),
        Some("?0") => Ok(Some(false)),
        Some(_) => Err(HttpError::InvalidHeader(label)),
    }
}

/// The `sha-256` member of an RFC 9530 `Repr-Digest` dictionary.
pub(super) fn repr_digest(headers: &HeaderMap) -> Result<Sha256, HttpError> {
    let v = header(headers, &REPR_DIGEST).ok_or(HttpError::MissingHeader("Repr-Digest"))?;
    let invalid = HttpError::InvalidHeader("Repr-Digest");
    let member = v
        .split(',')
        .map(str::trim)
        .find_map(|m| m.strip_prefix("sha-256="))
        .ok_or(HttpError::InvalidHeader("Repr-Digest"))?;
    let b64 = member
        .strip_prefix(':')
        .and_then(|m| m.strip_suffix(':'))
        .ok_or(HttpError::InvalidHeader("Repr-Digest"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| HttpError::InvalidHeader("Repr-Digest"))?;
    let digest: [u8; 32] = bytes.try_into().map_err(|_| invalid)?;
    Ok(Sha256(digest))
}

pub(super) fn state_headers(state: &UploadState) -> [(HeaderName, HeaderValue); 4] {
    [
        (UPLOAD_OFFSET, HeaderValue::from(state.offset)),
        (
            UPLOAD_COMPLETE,
            HeaderValue::from_static(if state.complete { "?1" } else { "?0" }),
        ),
        (UPLOAD_LENGTH, HeaderValue::from(state.length)),
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ]
}

pub(super) fn location(upload_id: &str) -> HeaderValue {
    // An upload id is 32 hex digits: always a valid header value.
    HeaderValue::from_str(&format!("/api/v1/uploads/{upload_id}"))
        .unwrap_or(HeaderValue::from_static("/api/v1/uploads"))
}

fn receipt(status: StatusCode, length: u64, bytes: Vec<u8>) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static(RECEIPT_CONTENT_TYPE)),
            (UPLOAD_OFFSET, HeaderValue::from(length)),
            (UPLOAD_COMPLETE, HeaderValue::from_static("?1")),
        ],
        bytes,
    )
        .into_response()
}

/// `POST /api/v1/uploads`: creates the upload, or returns the one already created for the
/// same bundle id and digest. A body, if any, is the first piece (only for a new upload).
pub(crate) async fn create(
    State(registry): State<Arc<Registry>>,
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
    let state = {
        let registry = Arc::clone(&registry);
        blocking(move || registry.create_upload(bundle_id, sha256, length)).await?
    };
    let loc = location(&state.upload_id);
    if state.offset == 0 && !state.complete && (!body.is_empty() || complete) {
        let declared = Some(body.len() as u64);
        let appended = append_stream::append(
            registry,
            state.upload_id.clone(),
            0,
            complete,
            declared,
            Body::from(body),
        )
        .await?;
        return Ok(match appended {
            StreamAppended::Complete { done: bytes, .. } => {
                let mut res = receipt(StatusCode::OK, length, bytes);
                res.headers_mut().insert(LOCATION, loc);
                res
            }
            StreamAppended::Partial(state) => created(&state, loc),
        });
    }
    Ok(created(&state, loc))
}

pub(super) fn created(state: &UploadState, loc: HeaderValue) -> Response {
    let limit = format!("max-size={BUNDLE_BODY_LIMIT}");
    (
        StatusCode::CREATED,
        state_headers(state),
        [
            (LOCATION, loc),
            (
                UPLOAD_LIMIT,
                HeaderValue::from_str(&limit).unwrap_or(HeaderValue::from_static("max-size=0")),
            ),
        ],
        Json(json!({
            "uploadId": state.upload_id,
            "offset": state.offset,
            "length": state.length,
            "complete": state.complete,
        })),
    )
        .into_response()
}

/// `HEAD /api/v1/uploads/{id}`: the durable offset, for resuming. An append in progress
/// on the upload is ended first and its bytes synced (the draft: the offset must not change
/// under a kit that is about to resume from it).
pub(crate) async fn offset(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let reg = Arc::clone(&registry);
    let lookup = id.clone();
    let state = registry
        .appends
        .quiesced(&id, blocking(move || reg.upload_state(&lookup)))
        .await?;
    Ok((StatusCode::NO_CONTENT, state_headers(&state)).into_response())
}

/// What a `PATCH` append says in its headers (central and relay alike): its
/// `Upload-Offset`, its `Upload-Complete`, and its Content-Length when sent, under the
/// draft's `application/partial-upload`. A body declared over the limit is refused here.
pub(super) fn append_request(headers: &HeaderMap) -> Result<(u64, bool, Option<u64>), HttpError> {
    let media = header(headers, &CONTENT_TYPE).map(|v| v.split(';').next().unwrap_or("").trim());
    if media != Some(PARTIAL_UPLOAD) {
        return Err(HttpError::UnsupportedMediaType);
    }
    let offset = sf_offset(headers, &UPLOAD_OFFSET, "Upload-Offset")?;
    let complete = sf_bool(headers, &UPLOAD_COMPLETE, "Upload-Complete")?
        .ok_or(HttpError::MissingHeader("Upload-Complete"))?;
    // hyper has checked Content-Length's form already (it frames the body by it).
    let declared = header(headers, &CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    let limit = BUNDLE_BODY_LIMIT as u64;
    if let Some(length) = declared.filter(|l| *l > limit) {
        return Err(HttpError::Upload(UploadError::TooLarge { length, limit }));
    }
    Ok((offset, complete, declared))
}

/// `PATCH /api/v1/uploads/{id}`: appends the body at `Upload-Offset`, as it arrives.
pub(crate) async fn append(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let (offset, complete, declared) = append_request(&headers)?;
    let appended = append_stream::append(registry, id, offset, complete, declared, body).await?;
    Ok(match appended {
        StreamAppended::Partial(state) => {
            (StatusCode::NO_CONTENT, state_headers(&state)).into_response()
        }
        StreamAppended::Complete {
            done: bytes,
            length,
        } => receipt(StatusCode::OK, length, bytes),
    })
}

/// `GET /api/v1/uploads/{id}`: the receipt of a completed upload.
pub(crate) async fn fetch_receipt(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let reg = Arc::clone(&registry);
    let lookup = id.clone();
    let state = blocking(move || reg.upload_state(&lookup)).await?;
    match blocking(move || registry.upload_receipt(&id)).await? {
        Some(bytes) => Ok(receipt(StatusCode::OK, state.length, bytes)),
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

/// `DELETE /api/v1/uploads/{id}`: cancels the upload.
pub(crate) async fn cancel(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    // An append in progress ends first: its sync must not bring the part file back.
    let reg = Arc::clone(&registry);
    let lookup = id.clone();
    registry
        .appends
        .quiesced(&id, blocking(move || reg.cancel_upload(&lookup)))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
