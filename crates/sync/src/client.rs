//! HTTP client for the registry's ingest API (see schema/bundle.md § "HTTP").

use std::time::Duration;

use ghidanh_bundle::{Receipt, RegistryPublicKeys, RejectReason, Sha256, Verdict};

use crate::SyncError;

/// Media type of bundles, registrations and receipts on the wire.
const OCTETS: &str = "application/octet-stream";
/// Media type of a signed receipt (the registry's answer to a revoked device's registration).
const RECEIPT: &str = "application/vnd.ghidanh.receipt";

/// Talks to one registry.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    registry: RegistryPublicKeys,
}

/// The registry's answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// The key is bound to the device.
    Registered,
    /// The registry refused (unknown device, used token): bundles will be rejected.
    Refused(String),
    /// The registry revoked this device, in a refusal signed with the registry key and
    /// about exactly the registration sent: the kit must destroy its vault.
    Revoked,
}

impl Client {
    /// A client for the registry at `base_url` whose receipts must verify with `registry`.
    pub fn new(
        base_url: &str,
        registry: RegistryPublicKeys,
        timeout: Duration,
    ) -> Result<Client, SyncError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            registry,
        })
    }

    /// Registers the device key (idempotent on the registry's side).
    pub async fn register(&self, registration: Vec<u8>) -> Result<Registration, SyncError> {
        let sent = Sha256::of(&registration);
        let resp = self
            .http
            .post(format!("{}/api/v1/devices/register", self.base))
            .header(reqwest::header::CONTENT_TYPE, OCTETS)
            .body(registration)
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        if status.is_success() {
            return Ok(Registration::Registered);
        }
        if status.as_u16() == 403 && is_receipt(&resp) {
            let bytes = resp.bytes().await.map_err(unreachable)?;
            return Ok(self.revocation(&bytes, sent));
        }
        let code = error_code(resp).await;
        if status.is_client_error() && status.as_u16() != 429 && status.as_u16() != 408 {
            return Ok(Registration::Refused(code));
        }
        Err(SyncError::Http {
            status: status.as_u16(),
            code,
        })
    }

    /// Sends one bundle; returns the receipt (verified, and about exactly these bytes) and its bytes.
    pub async fn upload(&self, bundle: &[u8]) -> Result<(Receipt, Vec<u8>), SyncError> {
        let resp = self
            .http
            .post(format!("{}/api/v1/bundles", self.base))
            .header(reqwest::header::CONTENT_TYPE, OCTETS)
            .body(bundle.to_vec())
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(SyncError::Http {
                status: status.as_u16(),
                code: error_code(resp).await,
            });
        }
        let bytes = resp.bytes().await.map_err(unreachable)?.to_vec();
        let receipt = Receipt::verify(&bytes, &self.registry).map_err(SyncError::BadReceipt)?;
        if receipt.submission_sha256 != Sha256::of(bundle) {
            return Err(SyncError::ReceiptMismatch);
        }
        Ok((receipt, bytes))
    }
}

impl Client {
    /// `Revoked` only for a refusal that verifies with the registry key, says
    /// `device_revoked` and is about the bytes sent; anything else is an ordinary refusal
    /// (a forged or replayed "revoked" must never destroy a vault).
    fn revocation(&self, bytes: &[u8], sent: Sha256) -> Registration {
        match Receipt::verify(bytes, &self.registry) {
            Ok(r)
                if r.submission_sha256 == sent
                    && r.verdict == Verdict::Rejected(RejectReason::DeviceRevoked) =>
            {
                Registration::Revoked
            }
            Ok(r) => Registration::Refused(match r.verdict {
                Verdict::Rejected(reason) if r.submission_sha256 == sent => reason.code(),
                _ => "unexpected_receipt".to_owned(),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "registration refusal does not verify: ignored");
                Registration::Refused("unverified_refusal".to_owned())
            }
        }
    }
}

fn is_receipt(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(RECEIPT))
}

fn unreachable(e: reqwest::Error) -> SyncError {
    // reqwest's Display names the URL and the cause, never the body.
    SyncError::Unreachable(e.to_string())
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    code: String,
}

async fn error_code(resp: reqwest::Response) -> String {
    let bytes = resp.bytes().await.unwrap_or_default();
    serde_json::from_slice::<ErrorBody>(&bytes)
        .ok()
        .map(|b| b.code)
        .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or_else(|| "unknown".to_owned())
}
