//! A simulated fingerprint scanner speaking SBI: the test double for scanner hardware.
//!
//! Its Ed25519 key comes from [`SimConfig::seed`], so runs are reproducible. `RCAPTURE`
//! synthesizes the requested finger of the person the transaction id stands for (the same
//! enrollment always shows the same person), scores it, wraps it in an ISO/IEC 19794-4 record
//! and signs it. Failure modes behave like a real device: no finger, timeout, busy, unplugged.
//! Tests and demos steer it through `POST /sim/script`, `POST /sim/plug` and `GET /sim/state`
//! (docs/sbi.md § Simulator).

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use ed25519_dalek::SigningKey;
use ghidanh_biometrics::finger::{
    finger_quality, synthesize, CaptureTime, Degradation, FingerImageRecord, FingerSpec,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::wire::{bio_sub_type, capture_hash, position_of, SPEC_VERSION};
use crate::{codes, jws};

/// Largest request body the simulator reads (an RCAPTURE request is a few hundred bytes).
const MAX_REQUEST: usize = 64 * 1024;
/// Longest capture timeout the simulator honours, so a hostile request cannot park it.
const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// How good the simulated prints are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimQuality {
    /// A clean capture (scores about 80).
    Good,
    /// Some noise, blur and a lighter touch (scores about 58).
    Fair,
    /// A noisy, blurred, faint print (scores about 9).
    Poor,
}

impl SimQuality {
    /// What a capture at this level does to the finger (measured: docs/sbi.md § Simulator).
    pub fn degradation(self) -> Degradation {
        match self {
            SimQuality::Good => Degradation::default(),
            SimQuality::Fair => Degradation {
                noise: 10.0,
                blur: 1.2,
                pressure_loss: 0.2,
            },
            SimQuality::Poor => Degradation {
                noise: 60.0,
                blur: 3.5,
                pressure_loss: 0.75,
            },
        }
    }

    /// The level's name, as the CLI and the control endpoint spell it.
    pub fn name(self) -> &'static str {
        match self {
            SimQuality::Good => "good",
            SimQuality::Fair => "fair",
            SimQuality::Poor => "poor",
        }
    }
}

impl FromStr for SimQuality {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "good" => Ok(SimQuality::Good),
            "fair" => Ok(SimQuality::Fair),
            "poor" => Ok(SimQuality::Poor),
            other => Err(format!("unknown quality {other:?} (good, fair, poor)")),
        }
    }
}

/// What one capture does; a script is a list of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimStep {
    /// A print at this quality.
    Capture(SimQuality),
    /// Waits [`SimConfig::no_finger_wait`] (at most the request's timeout), then error 101.
    NoFinger,
    /// Waits the request's timeout, then the timeout error (502).
    Timeout,
    /// Refuses at once with the busy error (501), as when another application holds it.
    Busy,
    /// Breaks the connection mid-answer and vanishes until plugged in again.
    Unplugged,
}

impl SimStep {
    /// The step's name (`good`, `fair`, `poor`, `no_finger`, `timeout`, `busy`, `unplugged`).
    pub fn name(self) -> &'static str {
        match self {
            SimStep::Capture(q) => q.name(),
            SimStep::NoFinger => "no_finger",
            SimStep::Timeout => "timeout",
            SimStep::Busy => "busy",
            SimStep::Unplugged => "unplugged",
        }
    }
}

impl FromStr for SimStep {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "no_finger" => Ok(SimStep::NoFinger),
            "timeout" => Ok(SimStep::Timeout),
            "busy" => Ok(SimStep::Busy),
            "unplugged" => Ok(SimStep::Unplugged),
            other => other.parse().map(SimStep::Capture).map_err(|_| {
                format!(
                    "unknown step {other:?} (good, fair, poor, no_finger, timeout, busy, unplugged)"
                )
            }),
        }
    }
}

/// How the simulated scanner behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seeds the device key and serial number.
    pub seed: u64,
    /// The quality of captures the script does not decide.
    pub quality: SimQuality,
    /// One step per capture, in order; then [`SimConfig::quality`].
    pub script: Vec<SimStep>,
    /// How long a good capture takes (the finger on the glass); the device is Busy meanwhile.
    pub capture_delay: Duration,
    /// How long `no_finger` waits before it gives up (at most the request's timeout).
    pub no_finger_wait: Duration,
    /// Whether the device is registered (if not: status "Not Registered", captures error 100).
    pub registered: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            quality: SimQuality::Good,
            script: Vec::new(),
            capture_delay: Duration::from_millis(300),
            no_finger_wait: Duration::from_secs(2),
            registered: true,
        }
    }
}

/// The simulator's Ed25519 device key for `seed`.
pub fn device_key(seed: u64) -> SigningKey {
    let digest = Sha256::new()
        .chain_update(b"ghidanh sbi-sim device key")
        .chain_update(seed.to_le_bytes())
        .finalize();
    SigningKey::from_bytes(&digest.into())
}

/// The person a transaction id stands for: the same enrollment, the same fingers.
pub fn person_seed(transaction_id: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(b"ghidanh sbi-sim person")
        .chain_update(transaction_id.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

struct Sim {
    key: SigningKey,
    serial: String,
    device_code: String,
    config: SimConfig,
    state: Mutex<SimState>,
}

struct SimState {
    plugged: bool,
    capturing: bool,
    script: VecDeque<SimStep>,
    captures: u64,
}

impl Sim {
    fn state(&self) -> MutexGuard<'_, SimState> {
        // A panic while holding the lock leaves plain flags behind: still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Marks the device Busy for as long as a capture runs, also when the client hangs up.
struct Capturing(Arc<Sim>);

impl Drop for Capturing {
    fn drop(&mut self) {
        self.0.state().capturing = false;
    }
}

/// The simulator's router (SBI methods and `/sim/*`), for in-process tests.
pub fn app(config: SimConfig) -> Router {
    let key = device_key(config.seed);
    let serial = format!("{:012}", config.seed % 1_000_000_000_000);
    let device_code = format!(
        "GD-SIM-{}",
        hex::encode(&key.verifying_key().as_bytes()[..6])
    );
    let sim = Arc::new(Sim {
        key,
        serial,
        device_code,
        state: Mutex::new(SimState {
            plugged: true,
            capturing: false,
            script: config.script.iter().copied().collect(),
            captures: 0,
        }),
        config,
    });
    // axum routes by standard methods only: SBI's own (MOSIPDISC, ...) are matched here.
    Router::new().fallback(dispatch).with_state(sim)
}

/// Serves the simulator on `listener` until the task is dropped or the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, config: SimConfig) -> std::io::Result<()> {
    axum::serve(listener, app(config)).await
}

async fn dispatch(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let body = match axum::body::to_bytes(req.into_body(), MAX_REQUEST).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request too large").into_response(),
    };
    let plugged = sim.state().plugged;
    match (method.as_str(), path.as_str()) {
        ("MOSIPDISC" | "MOSIPDINFO" | "RCAPTURE", _) if !plugged => drop_connection(&[]),
        ("MOSIPDISC", "/device") => Json(json!([descriptor(&sim, false)])).into_response(),
        ("MOSIPDINFO", "/info") => Json(json!([{
            "deviceInfo": jws::sign(&sim.key, descriptor(&sim, true).to_string().as_bytes()),
            "error": {"errorCode": codes::SUCCESS, "errorInfo": "Success"},
        }]))
        .into_response(),
        ("RCAPTURE", "/capture") => capture(sim, &body).await,
        ("POST", "/sim/script") => set_script(&sim, &body),
        ("POST", "/sim/plug") => plug(&sim, &body),
        ("GET", "/sim/state") => state(&sim),
        _ => (StatusCode::NOT_FOUND, "not an SBI endpoint").into_response(),
    }
}

fn descriptor(sim: &Sim, signed: bool) -> Value {
    let status = {
        let s = sim.state();
        match (sim.config.registered, s.capturing) {
            (false, _) => "Not Registered",
            (true, true) => "Busy",
            (true, false) => "Ready",
        }
    };
    let digital = json!({
        "serialNo": sim.serial,
        "make": "Ghi Danh",
        "model": "SBI-SIM-1",
        "type": "Finger",
        "deviceSubType": "Single",
        "deviceProvider": "Ghi Danh (simulated)",
        "deviceProviderId": "ghidanh.sim",
        "dateTime": now_rfc3339(),
    })
    .to_string();
    // Discovery carries the digital id unsigned (base64url), device info signed (SBI 0.9.5).
    let digital_id = match signed {
        true => jws::sign(&sim.key, digital.as_bytes()),
        false => jws::b64(digital.as_bytes()),
    };
    json!({
        "deviceId": "1",
        "deviceStatus": status,
        "certification": "L0",
        "serviceVersion": env!("CARGO_PKG_VERSION"),
        "deviceSubId": ["0"],
        "callbackId": "",
        "digitalId": digital_id,
        "deviceCode": sim.device_code,
        "specVersion": [SPEC_VERSION],
        "purpose": "Registration",
        "firmware": "sim",
        "env": "Developer",
        "error": {"errorCode": codes::SUCCESS, "errorInfo": "Success"},
    })
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A 200 whose body breaks off after `start`: the device vanished in the middle of its answer.
fn drop_connection(start: &'static [u8]) -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(start)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "unplugged",
        )),
    ];
    Body::from_stream(futures_util::stream::iter(chunks)).into_response()
}

fn capture_error(code: &str, info: &str) -> Response {
    Json(json!({"biometrics": [{
        "specVersion": SPEC_VERSION,
        "data": "",
        "hash": "",
        "error": {"errorCode": code, "errorInfo": info},
    }]}))
    .into_response()
}

/// What an RCAPTURE request asks for, as far as the simulator reads it.
struct Asked {
    transaction_id: String,
    position: u8,
    timeout: Duration,
    requested_score: String,
    previous_hash: String,
}

fn read_request(body: &[u8]) -> Result<Asked, (&'static str, String)> {
    let bad = |what: &str| (codes::BAD_REQUEST, what.to_owned());
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("request is not JSON"))?;
    if v.get("purpose").and_then(Value::as_str) != Some("Registration") {
        return Err(bad("purpose must be Registration"));
    }
    let transaction_id = match v.get("transactionId").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => return Err(bad("transactionId missing")),
    };
    let timeout = match v.get("timeout") {
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        None => Some(10_000),
        _ => None,
    }
    .ok_or_else(|| bad("timeout is not a number of milliseconds"))?;
    let bio = match v.get("bio").and_then(Value::as_array).map(Vec::as_slice) {
        Some([one]) => one,
        _ => return Err((codes::COUNT_NOT_SUPPORTED, "one finger per capture".into())),
    };
    if bio.get("type").and_then(Value::as_str) != Some("Finger") {
        return Err(bad("type must be Finger"));
    }
    let count = match bio.get("count") {
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    let sub = match bio
        .get("bioSubType")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([Value::String(s)]) if count == Some(1) => s,
        _ => return Err((codes::COUNT_NOT_SUPPORTED, "one finger per capture".into())),
    };
    let position = position_of(sub).ok_or_else(|| bad("unknown bioSubType"))?;
    Ok(Asked {
        transaction_id,
        position,
        timeout: Duration::from_millis(timeout).min(MAX_TIMEOUT),
        requested_score: match bio.get("requestedScore") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => "0".into(),
        },
        previous_hash: bio
            .get("previousHash")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    })
}

async fn capture(sim: Arc<Sim>, body: &[u8]) -> Response {
    let asked = match read_request(body) {
        Ok(a) => a,
        Err((code, info)) => {
            tracing::info!(outcome = "refused", code, %info, "sbi-sim capture");
            return capture_error(code, &info);
        }
    };
    let finger = bio_sub_type(asked.position).unwrap_or("?");
    let position = asked.position;
    if !sim.config.registered {
        tracing::info!(
            position,
            finger,
            outcome = "not_registered",
            "sbi-sim capture"
        );
        return capture_error(codes::NOT_REGISTERED, "Device not registered");
    }
    let step = {
        let mut s = sim.state();
        if s.capturing {
            drop(s);
            tracing::info!(position, finger, outcome = "busy", "sbi-sim capture");
            return capture_error(codes::BUSY, "Device busy: another capture is in progress");
        }
        let step = s
            .script
            .pop_front()
            .unwrap_or(SimStep::Capture(sim.config.quality));
        s.captures += 1;
        if step != SimStep::Busy {
            s.capturing = true;
        }
        step
    };
    let _busy = (step != SimStep::Busy).then(|| Capturing(sim.clone()));
    match step {
        SimStep::Busy => {
            tracing::info!(position, finger, outcome = "busy", "sbi-sim capture");
            capture_error(codes::BUSY, "Device busy")
        }
        SimStep::NoFinger => {
            tokio::time::sleep(sim.config.no_finger_wait.min(asked.timeout)).await;
            tracing::info!(position, finger, outcome = "no_finger", "sbi-sim capture");
            capture_error(codes::NO_BIOMETRIC, "Unable to detect a biometric object")
        }
        SimStep::Timeout => {
            tokio::time::sleep(asked.timeout).await;
            tracing::info!(position, finger, outcome = "timeout", "sbi-sim capture");
            capture_error(codes::TIMEOUT, "Capture timed out")
        }
        SimStep::Unplugged => {
            sim.state().plugged = false;
            tracing::info!(position, finger, outcome = "unplugged", "sbi-sim capture");
            drop_connection(b"{\"biometrics\":[{\"specVersion\":\"0.9.5\",\"data\":\"")
        }
        SimStep::Capture(quality) => {
            tokio::time::sleep(sim.config.capture_delay).await;
            let signer = sim.clone();
            let made =
                tokio::task::spawn_blocking(move || signed_capture(&signer, &asked, quality)).await;
            match made {
                Ok(Ok((answer, score))) => {
                    tracing::info!(
                        position,
                        finger,
                        quality = quality.name(),
                        score,
                        outcome = "captured",
                        "sbi-sim capture"
                    );
                    Json(answer).into_response()
                }
                _ => {
                    tracing::warn!(
                        position,
                        finger,
                        outcome = "technical_error",
                        "sbi-sim capture"
                    );
                    capture_error(codes::TECHNICAL, "Technical error during extraction")
                }
            }
        }
    }
}

/// Synthesizes, scores, records and signs one finger: the whole RCAPTURE answer and the score.
fn signed_capture(
    sim: &Sim,
    asked: &Asked,
    quality: SimQuality,
) -> Result<(Value, u8), image::ImageError> {
    let image = synthesize(&FingerSpec {
        person_seed: person_seed(&asked.transaction_id),
        position: asked.position,
        degradation: quality.degradation(),
    });
    let score = finger_quality(&image).score;
    let mut png = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    let now = time::OffsetDateTime::now_utc();
    let record = FingerImageRecord {
        position: asked.position,
        quality: score,
        captured_at: CaptureTime {
            year: u16::try_from(now.year()).unwrap_or(2000),
            month: u8::from(now.month()),
            day: now.day(),
            hour: now.hour(),
            minute: now.minute(),
            second: now.second(),
            millisecond: now.millisecond(),
        },
        width: u16::try_from(image.width()).unwrap_or(u16::MAX),
        height: u16::try_from(image.height()).unwrap_or(u16::MAX),
        png,
    }
    .encode();
    let digital = json!({
        "serialNo": sim.serial,
        "make": "Ghi Danh",
        "model": "SBI-SIM-1",
        "type": "Finger",
        "deviceSubType": "Single",
        "deviceProvider": "Ghi Danh (simulated)",
        "deviceProviderId": "ghidanh.sim",
        "dateTime": now_rfc3339(),
    })
    .to_string();
    let payload = json!({
        "digitalId": jws::sign(&sim.key, digital.as_bytes()),
        "deviceCode": sim.device_code,
        "deviceServiceVersion": env!("CARGO_PKG_VERSION"),
        "bioType": "Finger",
        "bioSubType": bio_sub_type(asked.position).unwrap_or("UNKNOWN"),
        "purpose": "Registration",
        "env": "Developer",
        "bioValue": jws::b64(&record),
        "transactionId": asked.transaction_id,
        "timestamp": now_rfc3339(),
        "requestedScore": asked.requested_score,
        "qualityScore": score.to_string(),
    });
    let answer = json!({"biometrics": [{
        "specVersion": SPEC_VERSION,
        "data": jws::sign(&sim.key, payload.to_string().as_bytes()),
        "hash": capture_hash(&asked.previous_hash, &record),
        "error": {"errorCode": codes::SUCCESS, "errorInfo": "Success"},
    }]});
    Ok((answer, score))
}

fn control_error(reason: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": reason}))).into_response()
}

fn set_script(sim: &Sim, body: &[u8]) -> Response {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return control_error(format!("not JSON: {e}")),
    };
    let Some(steps) = v.get("steps").and_then(Value::as_array) else {
        return control_error("steps must be an array of step names".into());
    };
    let mut script = VecDeque::new();
    for step in steps {
        match step.as_str().map(str::parse::<SimStep>) {
            Some(Ok(s)) => script.push_back(s),
            Some(Err(e)) => return control_error(e),
            None => return control_error("every step is a string".into()),
        }
    }
    let n = script.len();
    sim.state().script = script;
    Json(json!({"steps": n})).into_response()
}

fn plug(sim: &Sim, body: &[u8]) -> Response {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return control_error(format!("not JSON: {e}")),
    };
    let Some(plugged) = v.get("plugged").and_then(Value::as_bool) else {
        return control_error("plugged must be true or false".into());
    };
    sim.state().plugged = plugged;
    tracing::info!(plugged, "sbi-sim plug");
    Json(json!({"plugged": plugged})).into_response()
}

fn state(sim: &Sim) -> Response {
    let s = sim.state();
    let script: Vec<&str> = s.script.iter().map(|st| st.name()).collect();
    Json(json!({
        "plugged": s.plugged,
        "capturing": s.capturing,
        "captures": s.captures,
        "script": script,
        "quality": sim.config.quality.name(),
        "registered": sim.config.registered,
        "deviceCode": sim.device_code,
        "key": hex::encode(sim.key.verifying_key().as_bytes()),
    }))
    .into_response()
}
