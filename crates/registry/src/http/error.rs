//! The API's one error type: `{"code": "...", "message": "..."}`, never internals.

use axum::extract::rejection::BytesRejection;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::{RegisterError, RegistryError};

/// An error answer of the API. The code is the contract; the message is for people.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// The body is not what the endpoint takes.
    Malformed,
    /// The body is over the endpoint's limit.
    TooLarge,
    /// The device was never provisioned.
    UnknownDevice,
    /// The registration token is wrong or already used.
    InvalidToken,
    /// No such resource.
    NotFound,
    /// The device is revoked: the body is the signed `device_revoked` refusal, not JSON,
    /// because the kit acts on it (it wipes its vault) only after verifying the signature.
    DeviceRevoked(Vec<u8>),
    /// The registry failed; details go to the log, not to the client.
    Internal(RegistryError),
}

#[derive(Serialize)]
struct Body {
    code: &'static str,
    message: &'static str,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Malformed => (
                StatusCode::BAD_REQUEST,
                "malformed",
                "the request body is malformed",
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is over the limit",
            ),
            ApiError::UnknownDevice => (
                StatusCode::NOT_FOUND,
                "unknown_device",
                "no such device was provisioned",
            ),
            ApiError::InvalidToken => (
                StatusCode::FORBIDDEN,
                "invalid_token",
                "the token is invalid or was already used",
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "not found"),
            ApiError::DeviceRevoked(_) => (
                StatusCode::FORBIDDEN,
                "device_revoked",
                "this device was revoked",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the registry failed; try again later",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            // Registry errors name steps and paths, never bundle contents.
            tracing::error!(error = %e, "request failed");
        }
        let (status, code, message) = self.parts();
        if let ApiError::DeviceRevoked(receipt) = self {
            let content_type = super::bundles::RECEIPT_CONTENT_TYPE;
            return (status, [(CONTENT_TYPE, content_type)], receipt).into_response();
        }
        (status, Json(Body { code, message })).into_response()
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        ApiError::Internal(e)
    }
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Malformed => ApiError::Malformed,
            RegisterError::UnknownDevice => ApiError::UnknownDevice,
            RegisterError::InvalidToken => ApiError::InvalidToken,
            RegisterError::DeviceRevoked(refusal) => ApiError::DeviceRevoked(refusal.bytes),
            RegisterError::Registry(e) => ApiError::Internal(e),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::Malformed
        }
    }
}
