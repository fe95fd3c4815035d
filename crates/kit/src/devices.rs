//! The capture devices: a fingerprint scanner speaking SBI on loopback (docs/sbi.md), a
//! camera (docs/biometrics.md § Portrait sources) and the face model, each opened on first
//! use and kept for the kit's life.

use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::time::Duration;

use ghidanh_biometrics::face::PortraitPipeline;
use ghidanh_camera::{CameraChoice, FrameSource};
use ghidanh_sbi::{DeviceInfo, DeviceStatus, SbiClient};

use crate::KitError;

/// Where the kit looks for its devices.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// Loopback ports to look for an SBI scanner on (SBI's range is 4501–4600).
    pub scanner_ports: RangeInclusive<u16>,
    /// The camera for the live preview; `None`: file import only.
    pub camera: Option<CameraChoice>,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            scanner_ports: 4501..=4510,
            camera: None,
        }
    }
}

/// The scanner the kit found, for the capture screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerInfo {
    /// Make and model as the device names itself.
    pub make_model: String,
    /// Serial number.
    pub serial: String,
    /// `ready`, `busy`, `notReady` or `notRegistered`.
    pub status: &'static str,
}

/// How long one finger capture may take before the scanner gives up.
pub const CAPTURE_TIMEOUT: Duration = Duration::from_secs(10);
/// The score a capture asks the scanner for (SBI's `requestedScore`).
pub const REQUESTED_SCORE: u8 = 40;

pub(crate) struct Devices {
    config: DeviceConfig,
    scanner: Mutex<Option<(u16, DeviceInfo)>>,
    camera: Mutex<Option<Box<dyn FrameSource>>>,
}

thread_local! {
    // rustface's detector is not `Send`: each thread of the shell's blocking pool keeps its
    // own (loading the model takes milliseconds; the pool's threads live on).
    static PIPELINE: std::cell::RefCell<Option<PortraitPipeline>> = const { std::cell::RefCell::new(None) };
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Devices {
    pub(crate) fn new(config: DeviceConfig) -> Devices {
        Devices {
            config,
            scanner: Mutex::new(None),
            camera: Mutex::new(None),
        }
    }

    /// Runs `f` with the face model, loading it on first use (a few milliseconds; kept).
    pub(crate) fn with_pipeline<T>(
        &self,
        f: impl FnOnce(&mut PortraitPipeline) -> Result<T, KitError>,
    ) -> Result<T, KitError> {
        PIPELINE.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = Some(
                    PortraitPipeline::new()
                        .map_err(|e| KitError::Internal(format!("face model: {e}")))?,
                );
            }
            match slot.as_mut() {
                Some(p) => f(p),
                None => Err(KitError::Internal("face model not loaded".into())),
            }
        })
    }

    /// Looks for a scanner (again); the first one found is kept.
    pub(crate) async fn discover(&self) -> Option<ScannerInfo> {
        let found = SbiClient::discover(self.config.scanner_ports.clone()).await;
        let first = found
            .into_iter()
            .next()
            .map(|(client, info)| (client.port(), info));
        let info = first.as_ref().map(|(_, info)| scanner_info(info));
        *lock(&self.scanner) = first;
        info
    }

    /// The kept scanner, looked for if there is none yet.
    pub(crate) async fn scanner(&self) -> Result<SbiClient, KitError> {
        let kept = || {
            lock(&self.scanner)
                .as_ref()
                .map(|(port, info)| SbiClient::with_pinned_key(*port, info.key))
        };
        if let Some(client) = kept() {
            return Ok(client);
        }
        self.discover().await;
        kept().ok_or(KitError::NoScanner)
    }

    /// Forgets the scanner (unplugged): the next capture looks again.
    pub(crate) fn forget_scanner(&self) {
        *lock(&self.scanner) = None;
    }

    /// Whether a camera is configured.
    pub(crate) fn has_camera(&self) -> bool {
        self.config.camera.is_some()
    }

    /// One frame from the camera, opening it on first use.
    pub(crate) fn frame(&self) -> Result<Vec<u8>, KitError> {
        let Some(choice) = self.config.camera.as_ref() else {
            return Err(KitError::Camera("no camera configured".into()));
        };
        let mut guard = lock(&self.camera);
        if guard.is_none() {
            *guard =
                Some(ghidanh_camera::open(choice).map_err(|e| KitError::Camera(e.to_string()))?);
        }
        let Some(camera) = guard.as_mut() else {
            return Err(KitError::Camera("camera not open".into()));
        };
        match camera.next_frame() {
            Ok(frame) => Ok(frame.bytes),
            Err(e) => {
                // Unplugged or failing: open it afresh next time.
                *guard = None;
                Err(KitError::Camera(e.to_string()))
            }
        }
    }
}

fn scanner_info(info: &DeviceInfo) -> ScannerInfo {
    ScannerInfo {
        make_model: info.make_model.clone(),
        serial: info.serial.clone(),
        status: match info.status {
            DeviceStatus::Ready => "ready",
            DeviceStatus::Busy => "busy",
            DeviceStatus::NotReady => "notReady",
            DeviceStatus::NotRegistered => "notRegistered",
        },
    }
}
