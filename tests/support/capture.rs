//! The capture devices of an app under test: `ghidanh sbi-sim` (the fingerprint scanner's
//! test double, a separate process on loopback) and a frames folder as the camera, holding
//! the portrait composed from a real photograph (`make test-images`).

use std::ffi::OsString;
use std::process::Command;

use anyhow::{anyhow, Result};

use crate::process::{free_ports, spawn_listening, ChildGuard};
use crate::registry::ghidanh_binary;

/// A running simulated scanner and a camera folder; both go when this is dropped.
pub struct CaptureDevices {
    _sim: ChildGuard,
    port: u16,
    frames: tempfile::TempDir,
}

impl CaptureDevices {
    /// Starts `ghidanh sbi-sim` (extra `args`, e.g. `--script poor,good`) on a free port and
    /// writes the portrait into a frames folder.
    pub fn start(args: &[&str]) -> Result<CaptureDevices> {
        let [port] = free_ports::<1>()?;
        let mut cmd = Command::new(ghidanh_binary()?);
        cmd.args(["sbi-sim", "--port", &port.to_string()])
            .args(args);
        let (sim, _) = spawn_listening("sbi-sim", cmd)?;
        let frames = tempfile::tempdir()?;
        let portrait =
            ghidanh_biometrics::testing::plain_backdrop_jpeg().map_err(|e| anyhow!(e))?;
        std::fs::write(frames.path().join("portrait.jpg"), portrait)?;
        Ok(CaptureDevices {
            _sim: sim,
            port,
            frames,
        })
    }

    /// The app's environment for these devices.
    pub fn env(&self) -> [(&'static str, OsString); 2] {
        let mut camera = OsString::from("frames:");
        camera.push(self.frames.path());
        [
            ("GHIDANH_SBI_PORTS", self.port.to_string().into()),
            ("GHIDANH_CAMERA", camera),
        ]
    }
}
