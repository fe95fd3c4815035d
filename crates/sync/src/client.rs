//! HTTP client for the registry's ingest API (see schema/bundle.md § "HTTP").

use std::time::Duration;

use base64::Engine as _;
use ghidanh_bundle::{
    BundleId, CustodyReceipt, Envelope, Receipt, RegistryPublicKeys, RejectReason, RelayPublicKey,
    Sha256, Verdict,
};

use crate::SyncError;

/// Media type of bundles, registrations and receipts on the wire.
const OCTETS: &str = "application/octet-stream";
/// Media type of a signed receipt (the registry's answer to a revoked device's registration).
const RECEIPT: &str = "application/vnd.ghidanh.receipt";
/// Media type of a relay's custody receipt (schema/bundle.md § Relay mode).
const CUSTODY: &str = "application/vnd.ghidanh.custody-receipt";
/// The header carrying the relay certificate beside a custody receipt.
const RELAY_CERT: &str = "ghidanh-relay-certificate";
const RELAY_CERT_MAGIC: &[u8; 8] = b"GDRLYC01";

/// The registry's (or a relay's) answer to a bundle, verified and about the bytes sent.
#[derive(Debug, Clone)]
pub enum UploadAnswer {
    /// The registry's own receipt: the final word.
    Receipt(Receipt, Vec<u8>),
    /// A relay certified by the registry holds the bundle; the registry's receipt is to come
    /// (poll [`Client::central_receipt`]).
    Custody(CustodyReceipt, Vec<u8>),
}

/// Answer bytes, and the relay certificate when they are a custody receipt.
struct Raw {
    bytes: Vec<u8>,
    custody_cert: Option<String>,
}

async fn raw(resp: reqwest::Response) -> Result<Raw, SyncError> {
    let custody = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(CUSTODY));
    let custody_cert = custody.then(|| {
        resp.headers()
            .get(RELAY_CERT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    });
    let bytes = resp.bytes().await.map_err(unreachable)?.to_vec();
    Ok(Raw {
        bytes,
        custody_cert,
    })
}

/// The relay key a relay certificate vouches for, if the registry signed it:
/// `"GDRLYC01" || relay_public (32) || Ed25519 signature by the registry over the first 40`.
pub fn verify_relay_certificate(
    cert: &[u8],
    registry: &RegistryPublicKeys,
) -> Option<RelayPublicKey> {
    if cert.len() != 104 || &cert[..8] != RELAY_CERT_MAGIC {
        return None;
    }
    let key = ed25519_dalek::VerifyingKey::from_bytes(&registry.signing_bytes()).ok()?;
    let sig = ed25519_dalek::Signature::from_slice(&cert[40..]).ok()?;
    key.verify_strict(&cert[..40], &sig).ok()?;
    let relay: [u8; 32] = cert[8..40].try_into().ok()?;
    RelayPublicKey::from_bytes(&relay).ok()
}

/// What the relay (or registry) knows of a bundle's registry receipt.
#[derive(Debug)]
pub enum ReceiptLookup {
    /// The registry's verified receipt, and its signed bytes.
    Known(Receipt, Vec<u8>),
    /// Held; the registry's receipt has not come back yet.
    Pending,
    /// Not known there at all: a relay that lost its store, or the wrong address.
    Unknown,
}

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

    /// Whether the registry (or relay) at this client's URL answers at all: a few hundred
    /// bytes on `GET /api/v1/health`, asked before bundles are sent again after the link
    /// failed, so that a dead 2G link costs one small request and not the start of a 400 KB
    /// upload per bundle. Any HTTP answer counts as reachable (the uploads say the rest).
    pub async fn probe(&self, timeout: Duration) -> Result<(), SyncError> {
        self.http
            .get(format!("{}/api/v1/health", self.base))
            .timeout(timeout)
            .send()
            .await
            .map_err(unreachable)?;
        Ok(())
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
    /// Uses resumable uploads (schema/openapi.yaml): the bundle in one `PATCH`, and after a
    /// dropped connection the registry's durable offset (`HEAD`) and the rest from there,
    /// again in one `PATCH`. A registry without them (404/405 on creation) gets the bundle
    /// in one POST.
    /// A relay's custody receipt is refused here (`Protocol`): see [`Client::send`].
    pub async fn upload(&self, bundle: &[u8]) -> Result<(Receipt, Vec<u8>), SyncError> {
        match self.send(bundle).await? {
            UploadAnswer::Receipt(receipt, bytes) => Ok((receipt, bytes)),
            UploadAnswer::Custody(..) => Err(SyncError::Protocol(
                "a relay's custody receipt where the registry's receipt is expected",
            )),
        }
    }

    /// Sends one bundle, like [`Client::upload`], to a registry or a relay. A custody receipt
    /// counts only with a relay certificate signed by the registry key and a signature by
    /// the certified relay key over a custody statement about exactly these bytes.
    pub async fn send(&self, bundle: &[u8]) -> Result<UploadAnswer, SyncError> {
        // Hashed once: the upload declares it, the receipt must name it.
        let sent = Sha256::of(bundle);
        let raw = match self.upload_resumable(bundle, sent).await? {
            Some(raw) => raw,
            None => self.upload_whole(bundle).await?,
        };
        if let Some(cert) = raw.custody_cert {
            let cert = base64::engine::general_purpose::STANDARD
                .decode(cert.trim())
                .map_err(|_| SyncError::Protocol("relay certificate is not base64"))?;
            let relay = verify_relay_certificate(&cert, &self.registry)
                .ok_or(SyncError::Protocol("relay not certified by the registry"))?;
            let custody =
                CustodyReceipt::verify(&raw.bytes, &relay).map_err(SyncError::BadReceipt)?;
            if custody.submission_sha256 != sent {
                return Err(SyncError::ReceiptMismatch);
            }
            return Ok(UploadAnswer::Custody(custody, raw.bytes));
        }
        let receipt = Receipt::verify(&raw.bytes, &self.registry).map_err(SyncError::BadReceipt)?;
        if receipt.submission_sha256 != sent {
            return Err(SyncError::ReceiptMismatch);
        }
        Ok(UploadAnswer::Receipt(receipt, raw.bytes))
    }

    /// The registry's receipt for a bundle a relay holds, through the relay (or the registry)
    /// at this client's URL. A receipt is verified with the registry key and about the bytes
    /// whose SHA-256 is `sent`.
    pub async fn central_receipt(
        &self,
        bundle_id: BundleId,
        sent: Sha256,
    ) -> Result<ReceiptLookup, SyncError> {
        let resp = self
            .http
            .get(format!("{}/api/v1/bundles/{bundle_id}/receipt", self.base))
            .send()
            .await
            .map_err(unreachable)?;
        match resp.status().as_u16() {
            200 => {}
            202 => return Ok(ReceiptLookup::Pending),
            404 => return Ok(ReceiptLookup::Unknown),
            status => {
                return Err(SyncError::Http {
                    status,
                    code: error_code(resp).await,
                })
            }
        }
        let bytes = resp.bytes().await.map_err(unreachable)?.to_vec();
        let receipt = Receipt::verify(&bytes, &self.registry).map_err(SyncError::BadReceipt)?;
        if receipt.submission_sha256 != sent || receipt.bundle_id != Some(bundle_id) {
            return Err(SyncError::ReceiptMismatch);
        }
        Ok(ReceiptLookup::Known(receipt, bytes))
    }

    /// The reference updates the registry offers beyond the versions in `have`
    /// (`GET /api/v1/reference`), as received: nothing in them is verified yet (see
    /// [`crate::reference`]). The answer is read up to a limit, so a hostile server cannot
    /// make the kit hold more than five lists' worth.
    pub async fn reference_updates(
        &self,
        have: &[(&str, &str)],
    ) -> Result<Vec<OfferedUpdate>, SyncError> {
        let have: Vec<String> = have.iter().map(|(l, v)| format!("{l}:{v}")).collect();
        let mut resp = self
            .http
            .get(format!("{}/api/v1/reference", self.base))
            .query(&[
                ("have", have.join(",")),
                ("key_id", self.registry.key_id().as_str().to_owned()),
            ])
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
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_REFERENCE_ANSWER {
                return Err(SyncError::Protocol("reference answer over its limit"));
            }
            body.extend_from_slice(&chunk);
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            updates: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            list: String,
            version: String,
            update: String,
        }
        let answer: Answer = serde_json::from_slice(&body)
            .map_err(|_| SyncError::Protocol("reference answer is not the documented JSON"))?;
        answer
            .updates
            .into_iter()
            .map(|e| {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(e.update.trim())
                    .map_err(|_| SyncError::Protocol("reference update is not base64"))?;
                Ok(OfferedUpdate {
                    list: e.list,
                    version: e.version,
                    bytes,
                })
            })
            .collect()
    }

    /// The single POST of the whole bundle (registries before resumable uploads, relays).
    async fn upload_whole(&self, bundle: &[u8]) -> Result<Raw, SyncError> {
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
        raw(resp).await
    }

    /// The receipt bytes through a resumable upload; `None` when the registry has no
    /// resumable uploads or the bytes are not a bundle (the single POST then lets the
    /// registry say why in a signed receipt).
    async fn upload_resumable(
        &self,
        bundle: &[u8],
        sha256: Sha256,
    ) -> Result<Option<Raw>, SyncError> {
        let Ok(envelope) = Envelope::parse(bundle) else {
            return Ok(None);
        };
        let digest = base64::engine::general_purpose::STANDARD.encode(sha256.0);
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
        // Each round completes, learns a new offset from a 409, or counts an interruption; a
        // registry that keeps answering the same offset must not hold the worker forever.
        let max_rounds = 8 + 4 * MAX_RESUMES as usize;
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

    /// Sends the rest of the bundle, from `offset`, completing the upload. One request:
    /// the registry takes the body as it arrives and keeps what a cut link let through
    /// durably, so a split into pieces would only add round trips.
    async fn append(&self, url: &str, bundle: &[u8], offset: u64) -> Result<Appended, SyncError> {
        let start = usize::try_from(offset)
            .ok()
            .filter(|s| *s <= bundle.len())
            .ok_or(SyncError::Protocol("offset beyond the bundle"))?;
        let resp = self
            .http
            .patch(url)
            .header(reqwest::header::CONTENT_TYPE, PARTIAL_UPLOAD)
            .header(UPLOAD_OFFSET, offset)
            .header(UPLOAD_COMPLETE, "?1")
            .body(bundle[start..].to_vec())
            .send()
            .await
            .map_err(unreachable)?;
        match resp.status().as_u16() {
            200 => Ok(Appended::Receipt(raw(resp).await?)),
            // 409: the registry holds another offset (bytes arrived whose answer was lost,
            // or its append was interrupted) or already completed; it names where it is.
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
    async fn completed_receipt(&self, url: &str) -> Result<Raw, SyncError> {
        let resp = self.http.get(url).send().await.map_err(unreachable)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(SyncError::Http {
                status: status.as_u16(),
                code: error_code(resp).await,
            });
        }
        raw(resp).await
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

/// One entry of `GET /api/v1/reference`, not verified: `list` and `version` are what the
/// answer claims, `bytes` the frame to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedUpdate {
    /// The list the answer says this is.
    pub list: String,
    /// The version the answer says this is.
    pub version: String,
    /// The reference-update frame.
    pub bytes: Vec<u8>,
}

/// The largest `GET /api/v1/reference` answer read: five of the largest updates, in base64,
/// with room for the JSON around them.
const MAX_REFERENCE_ANSWER: usize =
    5 * (ghidanh_bundle::MAX_REFERENCE_UPDATE / 3 * 4 + 4) + 64 * 1024;

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
    Receipt(Raw),
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
