//! The kit's side of SBI: find scanners, ask who they are, capture one finger, and believe
//! nothing that does not verify.

use std::ops::RangeInclusive;
use std::sync::OnceLock;
use std::time::Duration;

use ghidanh_biometrics::finger::FingerImageRecord;
use serde_json::{json, Value};

use crate::jws;
use crate::wire::{self, bio_sub_type, capture_hash, check_error, object, score, string};
use crate::SbiError;

/// Largest answer the client reads: a 500 ppi PNG print is ~60 KB, base64 in a JWS ~80 KB.
pub const MAX_RESPONSE: usize = 4 * 1024 * 1024;
/// How long discovery waits for one port: a local service answers in a few milliseconds.
pub const DISCOVERY_TIMEOUT: Duration = Duration::from_millis(300);
/// The ports the kit scans (a subset of SBI's 4501–4600: one or two scanners per laptop).
pub const KIT_PORTS: RangeInclusive<u16> = 4501..=4510;
/// Beyond the capture's own timeout, how long the client waits for the device's answer.
const CAPTURE_GRACE: Duration = Duration::from_secs(3);
/// Timeout of a device-info request outside discovery.
const INFO_TIMEOUT: Duration = Duration::from_secs(3);

/// What SBI says a device is doing (`deviceStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// "Ready".
    Ready,
    /// "Busy": capturing.
    Busy,
    /// "Not Ready".
    NotReady,
    /// "Not Registered".
    NotRegistered,
}

impl DeviceStatus {
    /// The status as SBI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Ready => "Ready",
            DeviceStatus::Busy => "Busy",
            DeviceStatus::NotReady => "Not Ready",
            DeviceStatus::NotRegistered => "Not Registered",
        }
    }

    /// Reads SBI's spelling.
    pub fn parse(s: &str) -> Option<DeviceStatus> {
        [
            DeviceStatus::Ready,
            DeviceStatus::Busy,
            DeviceStatus::NotReady,
            DeviceStatus::NotRegistered,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// Who a scanner is, from its signed device info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The device's unique code (`deviceCode`), signed again in every capture.
    pub device_id: String,
    /// SBI's `deviceId`: the sensor the RCAPTURE request names.
    pub slot: String,
    /// What the device is doing.
    pub status: DeviceStatus,
    /// "make model" from its digital id.
    pub make_model: String,
    /// Serial number from its digital id.
    pub serial: String,
    /// The Ed25519 public key that signed the info (the kit pins it at first pairing).
    pub key: [u8; 32],
}

/// One finger to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerRequest {
    /// The enrollment's transaction id (signed back by the device).
    pub transaction_id: String,
    /// ISO/IEC 19794-4 finger position 1–10.
    pub position: u8,
    /// The quality the kit hopes for, 0–100 (the device reports what it got).
    pub requested_score: u8,
    /// How long the device waits for a finger.
    pub timeout: Duration,
}

/// A finger the device signed and the client verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFinger {
    /// ISO/IEC 19794-4 finger position, as requested.
    pub position: u8,
    /// The ISO/IEC 19794-4:2011 record, exactly the bytes the device signed.
    pub record: Vec<u8>,
    /// The device's quality score (`qualityScore`), 0–100.
    pub device_quality: u8,
    /// The device's `deviceCode`.
    pub device_id: String,
    /// The key that signed it.
    pub device_key: [u8; 32],
}

/// One SBI endpoint: a service on `http://127.0.0.1:{port}`.
#[derive(Debug)]
pub struct SbiClient {
    port: u16,
    http: reqwest::Client,
    /// The first key this client saw (or the kit's pinned one): every later answer must carry it.
    pinned: OnceLock<[u8; 32]>,
}

/// Why a request got no answer, before the caller says what that means for it.
enum Failure {
    Refused(String),
    TimedOut,
    Broken,
    Sbi(SbiError),
}

impl SbiClient {
    /// A client of the SBI service on `http://127.0.0.1:{port}`.
    pub fn new(port: u16) -> SbiClient {
        // No proxy: SBI is loopback only, and an HTTP_PROXY in the environment must not see prints.
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        SbiClient {
            port,
            http,
            pinned: OnceLock::new(),
        }
    }

    /// A client that accepts only `key` (the kit's key pinned at pairing).
    pub fn with_pinned_key(port: u16, key: [u8; 32]) -> SbiClient {
        let client = SbiClient::new(port);
        let _ = client.pinned.set(key);
        client
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The key this client holds every answer to, once it has one.
    pub fn pinned_key(&self) -> Option<[u8; 32]> {
        self.pinned.get().copied()
    }

    /// Scans `ports` in parallel (each with [`DISCOVERY_TIMEOUT`]) and returns, in port order,
    /// the finger scanners that answer discovery and a verifying device info; silent ports,
    /// other services and broken answers are skipped.
    pub async fn discover(ports: RangeInclusive<u16>) -> Vec<(SbiClient, DeviceInfo)> {
        let mut tasks = tokio::task::JoinSet::new();
        for port in ports {
            tasks.spawn(async move {
                let client = SbiClient::new(port);
                let found = client.discover_one().await;
                found.ok().map(|info| (client, info))
            });
        }
        let mut found = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok(Some(pair)) = joined {
                found.push(pair);
            }
        }
        found.sort_by_key(|(c, _)| c.port);
        found
    }

    async fn discover_one(&self) -> Result<DeviceInfo, SbiError> {
        let bytes = self
            .call(
                "MOSIPDISC",
                "/device",
                &json!({"type": "Finger"}),
                DISCOVERY_TIMEOUT,
            )
            .await
            .map_err(|_| SbiError::Unreachable(format!("port {}", self.port)))?;
        let answer: Value = serde_json::from_slice(&bytes)
            .map_err(|e| SbiError::bad("body", format!("not JSON: {e}")))?;
        match answer.as_array() {
            Some(devices) if !devices.is_empty() => {}
            _ => return Err(SbiError::bad("body", "no device in the discovery answer")),
        }
        self.info(DISCOVERY_TIMEOUT).await
    }

    /// The device's signed info (`MOSIPDINFO /info`); the first key seen is pinned.
    pub async fn device_info(&self) -> Result<DeviceInfo, SbiError> {
        self.info(INFO_TIMEOUT).await
    }

    async fn info(&self, timeout: Duration) -> Result<DeviceInfo, SbiError> {
        let bytes = self
            .call("MOSIPDINFO", "/info", &json!({}), timeout)
            .await
            .map_err(|f| match f {
                Failure::Refused(e) => SbiError::Unreachable(e),
                Failure::TimedOut => SbiError::Unreachable(format!("no answer within {timeout:?}")),
                Failure::Broken => SbiError::Unplugged,
                Failure::Sbi(e) => e,
            })?;
        let info = parse_device_info(&bytes, self.pinned.get())?;
        let _ = self.pinned.set(info.key);
        Ok(info)
    }

    /// Captures one finger (`RCAPTURE /capture`, count 1) and verifies the answer
    /// ([`parse_capture_response`]) against the device's pinned key.
    pub async fn capture_finger(&self, req: &FingerRequest) -> Result<CapturedFinger, SbiError> {
        let sub_type = bio_sub_type(req.position)
            .ok_or(SbiError::InvalidRequest("finger position is not 1–10"))?;
        let info = self.device_info().await?;
        match info.status {
            DeviceStatus::Ready => {}
            DeviceStatus::Busy => return Err(SbiError::Busy),
            DeviceStatus::NotReady => return Err(SbiError::NotReady),
            DeviceStatus::NotRegistered => return Err(SbiError::NotRegistered),
        }
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let body = json!({
            "env": "Developer",
            "purpose": "Registration",
            "specVersion": wire::SPEC_VERSION,
            "timeout": req.timeout.as_millis().to_string(),
            "captureTime": now,
            "transactionId": req.transaction_id,
            "bio": [{
                "type": "Finger",
                "count": "1",
                "bioSubType": [sub_type],
                "exception": [],
                "requestedScore": req.requested_score.to_string(),
                "deviceId": info.slot,
                "deviceSubId": "0",
                "previousHash": "",
            }],
        });
        let bytes = self
            .call("RCAPTURE", "/capture", &body, req.timeout + CAPTURE_GRACE)
            .await
            .map_err(|f| match f {
                Failure::Refused(e) => SbiError::Unreachable(e),
                Failure::TimedOut => SbiError::Timeout,
                Failure::Broken => SbiError::Unplugged,
                Failure::Sbi(e) => e,
            })?;
        let captured = parse_capture_response(&bytes, req, &info.key)?;
        if captured.device_id != info.device_id {
            return Err(SbiError::Mismatch {
                field: "deviceCode",
                expected: info.device_id,
                got: captured.device_id,
            });
        }
        Ok(captured)
    }

    /// One SBI request; the body read up to [`MAX_RESPONSE`].
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<Vec<u8>, Failure> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Failure::Refused(format!("bad method {method}")))?;
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let sent = self
            .http
            .request(method, url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .timeout(timeout)
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(Failure::TimedOut),
            Err(e) if e.is_connect() => return Err(Failure::Refused(e.to_string())),
            // Connected, then the connection closed before an answer.
            Err(_) => return Err(Failure::Broken),
        };
        if !response.status().is_success() {
            return Err(Failure::Sbi(SbiError::bad(
                "status",
                format!("HTTP {}", response.status().as_u16()),
            )));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE as u64)
        {
            return Err(Failure::Sbi(too_large()));
        }
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_RESPONSE {
                        return Err(Failure::Sbi(too_large()));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(bytes),
                Err(e) if e.is_timeout() => return Err(Failure::TimedOut),
                Err(_) => return Err(Failure::Broken),
            }
        }
    }
}

fn too_large() -> SbiError {
    SbiError::bad("body", format!("larger than {MAX_RESPONSE} bytes"))
}

/// Reads a `MOSIPDINFO` answer: `[{"deviceInfo": JWS, "error": {..}}]`, the JWS payload a
/// device descriptor whose `digitalId` is a JWS by the same key. With `pinned`, any other
/// key is [`SbiError::WrongKey`].
pub fn parse_device_info(bytes: &[u8], pinned: Option<&[u8; 32]>) -> Result<DeviceInfo, SbiError> {
    if bytes.len() > MAX_RESPONSE {
        return Err(too_large());
    }
    let answer: Value = serde_json::from_slice(bytes)
        .map_err(|e| SbiError::bad("body", format!("not JSON: {e}")))?;
    // One scanner per port in Ghi Danh's subset: the first entry is the device.
    let first = match answer.as_array().map(Vec::as_slice) {
        Some([first, ..]) => object("deviceInfo", first)?,
        Some([]) => return Err(SbiError::bad("body", "no device")),
        None => return Err(SbiError::bad("body", "not a JSON array")),
    };
    check_error("error", first)?;
    let token = string("deviceInfo", first, "deviceInfo")?;
    let (key, payload) = jws::verify("deviceInfo", token, pinned)?;
    let descriptor: Value = serde_json::from_slice(&payload)
        .map_err(|e| SbiError::bad("deviceInfo", format!("payload is not JSON: {e}")))?;
    let d = object("deviceInfo", &descriptor)?;
    let status = string("deviceStatus", d, "deviceStatus")?;
    let status = DeviceStatus::parse(status)
        .ok_or_else(|| SbiError::bad("deviceStatus", format!("unknown status {status:?}")))?;
    let purpose = string("purpose", d, "purpose")?;
    if purpose != "Registration" {
        return Err(SbiError::bad(
            "purpose",
            format!("{purpose:?}, not Registration"),
        ));
    }
    let device_id = string("deviceCode", d, "deviceCode")?.to_owned();
    let slot = string("deviceId", d, "deviceId")?.to_owned();
    let digital = digital_id(string("digitalId", d, "digitalId")?, &key)?;
    let dtype = string("digitalId.type", &digital, "type")?;
    if dtype != "Finger" {
        return Err(SbiError::bad(
            "digitalId.type",
            format!("{dtype:?}, not Finger"),
        ));
    }
    let make = string("digitalId.make", &digital, "make")?;
    let model = string("digitalId.model", &digital, "model")?;
    Ok(DeviceInfo {
        device_id,
        slot,
        status,
        make_model: format!("{make} {model}"),
        serial: string("digitalId.serialNo", &digital, "serialNo")?.to_owned(),
        key,
    })
}

/// The digital id: a JWS by the device's own key over `{serialNo, make, model, type, ...}`.
fn digital_id(token: &str, key: &[u8; 32]) -> Result<serde_json::Map<String, Value>, SbiError> {
    let (_, payload) = jws::verify("digitalId", token, Some(key))?;
    match serde_json::from_slice(&payload) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(SbiError::bad("digitalId", "payload is not a JSON object")),
    }
}

/// Reads and verifies an `RCAPTURE` answer for `req`: one biometric, its JWS signed by
/// `expected_key`, the signed `transactionId` and `bioSubType` those of the request, the
/// `hash` that of the `bioValue`, and the `bioValue` an ISO/IEC 19794-4 record of the
/// requested finger. Device errors come back as their [`SbiError`].
pub fn parse_capture_response(
    bytes: &[u8],
    req: &FingerRequest,
    expected_key: &[u8; 32],
) -> Result<CapturedFinger, SbiError> {
    if bytes.len() > MAX_RESPONSE {
        return Err(too_large());
    }
    let answer: Value = serde_json::from_slice(bytes)
        .map_err(|e| SbiError::bad("body", format!("not JSON: {e}")))?;
    let biometrics = object("body", &answer)?
        .get("biometrics")
        .and_then(Value::as_array)
        .ok_or_else(|| SbiError::bad("biometrics", "missing or not an array"))?;
    // One finger per RCAPTURE in Ghi Danh's subset.
    let [bio] = biometrics.as_slice() else {
        return Err(SbiError::bad(
            "biometrics",
            format!("{} entries, not one", biometrics.len()),
        ));
    };
    let bio = object("biometrics[0]", bio)?;
    check_error("biometrics[0].error", bio)?;
    let token = string("biometrics[0].data", bio, "data")?;
    let (key, payload) = jws::verify("biometrics[0].data", token, Some(expected_key))?;
    let payload: Value = serde_json::from_slice(&payload)
        .map_err(|e| SbiError::bad("biometrics[0].data", format!("payload is not JSON: {e}")))?;
    let p = object("biometrics[0].data", &payload)?;
    let transaction = string("transactionId", p, "transactionId")?;
    if transaction != req.transaction_id {
        return Err(SbiError::Mismatch {
            field: "transactionId",
            expected: req.transaction_id.clone(),
            got: transaction.to_owned(),
        });
    }
    let bio_type = string("bioType", p, "bioType")?;
    if bio_type != "Finger" {
        return Err(SbiError::bad(
            "bioType",
            format!("{bio_type:?}, not Finger"),
        ));
    }
    let wanted = bio_sub_type(req.position)
        .ok_or(SbiError::InvalidRequest("finger position is not 1–10"))?;
    let sub_type = string("bioSubType", p, "bioSubType")?;
    if sub_type != wanted {
        return Err(SbiError::Mismatch {
            field: "bioSubType",
            expected: wanted.to_owned(),
            got: sub_type.to_owned(),
        });
    }
    let purpose = string("purpose", p, "purpose")?;
    if purpose != "Registration" {
        return Err(SbiError::bad(
            "purpose",
            format!("{purpose:?}, not Registration"),
        ));
    }
    digital_id(string("digitalId", p, "digitalId")?, &key)?;
    let device_id = string("deviceCode", p, "deviceCode")?.to_owned();
    let device_quality = score("qualityScore", p, "qualityScore")?;
    let record = jws::unb64("bioValue", string("bioValue", p, "bioValue")?)?;
    let hash = string("biometrics[0].hash", bio, "hash")?;
    if !hash.eq_ignore_ascii_case(&capture_hash("", &record)) {
        return Err(SbiError::bad(
            "biometrics[0].hash",
            "does not match bioValue",
        ));
    }
    let parsed =
        FingerImageRecord::parse(&record).map_err(|e| SbiError::bad("bioValue", e.to_string()))?;
    if parsed.position != req.position {
        return Err(SbiError::Mismatch {
            field: "bioValue.position",
            expected: req.position.to_string(),
            got: parsed.position.to_string(),
        });
    }
    Ok(CapturedFinger {
        position: req.position,
        record,
        device_quality,
        device_id,
        device_key: key,
    })
}
