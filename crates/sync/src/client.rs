//! HTTP client for the registry's ingest API (see schema/bundle.md § "HTTP").

use std::time::Duration;

use base64::Engine as _;
use ghidanh_bundle::{Envelope, Receipt, RegistryPublicKeys, RejectReason, Sha256, Verdict};

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
    ///
    /// Uses resumable uploads (schema/openapi.yaml) in [`PIECE`]-sized pieces: after a
    /// dropped connection it asks the registry for its offset and goes on from there. A
    /// registry without them (404/405 on creation) gets the bundle in one POST.
    pub async fn upload(&self, bundle: &[u8]) -> Result<(Receipt, Vec<u8>), SyncError> {
        let bytes = match self.upload_resumable(bundle).await? {
            Some(bytes) => bytes,
            None => self.upload_whole(bundle).await?,
        };
        let receipt = Receipt::verify(&bytes, &self.registry).map_err(SyncError::BadReceipt)?;
        if receipt.submission_sha256 != Sha256::of(bundle) {
            return Err(SyncError::ReceiptMismatch);
        }
        Ok((receipt, bytes))
    }

    /// The single POST of the whole bundle (registries before resumable uploads).
    async fn upload_whole(&self, bundle: &[u8]) -> Result<Vec<u8>, SyncError> {
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
        Ok(resp.bytes().await.map_err(unreachable)?.to_vec())
    }

    /// The receipt bytes through a resumable upload; `None` when the registry has no
    /// resumable uploads or the bytes are not a bundle (the single POST then lets the
    /// registry say why in a signed receipt).
    async fn upload_resumable(&self, bundle: &[u8]) -> Result<Option<Vec<u8>>, SyncError> {
        let Ok(envelope) = Envelope::parse(bundle) else {
            return Ok(None);
        };
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::of(bundle).0);
        let resp = self
            .http
            .post(format!("{}/api/v1/uploads", self.base))
            .header(UPLOAD_LENGTH, bundle.len())
            .header(UPLOAD_COMPLETE, "?0")
            .header(REPR_DIGEST, format!("sha-256=:{digest}:"))
            .header(BUNDLE_ID, envelope.header().bundle_id.to_string())
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status().as_u16();
        if status == 404 || status == 405 {
            return Ok(None);
        }
        if status != 201 {
            return Err(SyncError::Http {
                status,
                code: error_code(resp).await,
            });
        }
        let url = self.upload_url(&resp)?;
        let mut at = Position::of(&resp)?;
        let mut interruptions = 0u32;
        // Each round either moves forward or counts an interruption; a registry that keeps
        // answering the same offset must not hold the worker forever.
        let max_rounds = bundle.len() / PIECE + 8 + 4 * MAX_RESUMES as usize;
        for _ in 0..max_rounds {
            if at.complete {
                return self.completed_receipt(&url).await.map(Some);
            }
            match self.append(&url, bundle, at.offset).await {
                Ok(Appended::Receipt(bytes)) => return Ok(Some(bytes)),
                Ok(Appended::At(next)) => at = next,
                Err(e @ SyncError::Unreachable(_)) => {
                    interruptions += 1;
                    if interruptions > MAX_RESUMES {
                        return Err(e);
                    }
                    tracing::info!(error = %e, "upload interrupted; asking the registry where it is");
                    at = self.position(&url).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(SyncError::Protocol("the upload makes no progress"))
    }

    /// Sends the piece starting at `offset`.
    async fn append(&self, url: &str, bundle: &[u8], offset: u64) -> Result<Appended, SyncError> {
        let start = usize::try_from(offset)
            .ok()
            .filter(|s| *s <= bundle.len())
            .ok_or(SyncError::Protocol("offset beyond the bundle"))?;
        let end = bundle.len().min(start.saturating_add(PIECE));
        let last = end == bundle.len();
        let resp = self
            .http
            .patch(url)
            .header(reqwest::header::CONTENT_TYPE, PARTIAL_UPLOAD)
            .header(UPLOAD_OFFSET, offset)
            .header(UPLOAD_COMPLETE, if last { "?1" } else { "?0" })
            .body(bundle[start..end].to_vec())
            .send()
            .await
            .map_err(unreachable)?;
        match resp.status().as_u16() {
            200 if last => Ok(Appended::Receipt(
                resp.bytes().await.map_err(unreachable)?.to_vec(),
            )),
            // 409: the registry holds another offset (a piece arrived whose answer was
            // lost) or already completed; it names where it is.
            204 | 409 => Ok(Appended::At(Position::of(&resp)?)),
            status => Err(SyncError::Http {
                status,
                code: error_code(resp).await,
            }),
        }
    }

    /// Asks the registry for the upload's durable offset.
    async fn position(&self, url: &str) -> Result<Position, SyncError> {
        let resp = self.http.head(url).send().await.map_err(unreachable)?;
        if !resp.status().is_success() {
            return Err(SyncError::Http {
                status: resp.status().as_u16(),
                code: "upload_offset".to_owned(),
            });
        }
        Position::of(&resp)
    }

    /// The receipt of an upload that completed (its answer may have been lost).
    async fn completed_receipt(&self, url: &str) -> Result<Vec<u8>, SyncError> {
        let resp = self.http.get(url).send().await.map_err(unreachable)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(SyncError::Http {
                status: status.as_u16(),
                code: error_code(resp).await,
            });
        }
        Ok(resp.bytes().await.map_err(unreachable)?.to_vec())
    }

    /// The upload's URL from `Location`, only ever on this registry's upload path: a
    /// hostile answer must not send the bundle elsewhere.
    fn upload_url(&self, resp: &reqwest::Response) -> Result<String, SyncError> {
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(SyncError::Protocol("no Location for the upload"))?;
        let path = location.strip_prefix(&self.base).unwrap_or(location);
        let id = path
            .strip_prefix("/api/v1/uploads/")
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
            .ok_or(SyncError::Protocol("unexpected upload Location"))?;
        Ok(format!("{}/api/v1/uploads/{id}", self.base))
    }
}

/// Size of one appended piece: a dropped connection costs at most this much again.
pub const PIECE: usize = 64 * 1024;
/// Resumptions within one `upload` call; past them the worker's backoff takes over (and
/// the next call resumes too: the registry finds the upload by bundle id and digest).
const MAX_RESUMES: u32 = 5;
/// Media type of an appended piece (draft-ietf-httpbis-resumable-upload).
const PARTIAL_UPLOAD: &str = "application/partial-upload";
const UPLOAD_OFFSET: &str = "upload-offset";
const UPLOAD_COMPLETE: &str = "upload-complete";
const UPLOAD_LENGTH: &str = "upload-length";
const REPR_DIGEST: &str = "repr-digest";
const BUNDLE_ID: &str = "ghidanh-bundle-id";

/// Where the registry says an upload is.
#[derive(Debug, Clone, Copy)]
struct Position {
    offset: u64,
    complete: bool,
}

impl Position {
    fn of(resp: &reqwest::Response) -> Result<Position, SyncError> {
        let h = resp.headers();
        let offset = h
            .get(UPLOAD_OFFSET)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or(SyncError::Protocol("no valid Upload-Offset"))?;
        let complete = h
            .get(UPLOAD_COMPLETE)
            .is_some_and(|v| v.as_bytes() == b"?1");
        Ok(Position { offset, complete })
    }
}

/// What an appended piece led to.
enum Appended {
    Receipt(Vec<u8>),
    At(Position),
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
