//! `ghidanh device provision`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum DeviceCmd {
    /// Issue a provisioning file for a new kit device.
    Provision {
        /// Registry data directory.
        #[arg(long)]
        data: PathBuf,
        /// The URL the kit will sync with (http:// or https://).
        #[arg(long)]
        url: String,
        /// Where to write the provisioning file (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// A human label for the device.
        #[arg(long, default_value = "")]
        label: String,
    },
}

impl DeviceCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let DeviceCmd::Provision {
            data,
            url,
            out,
            label,
        } = self;
        // Checked first so a refused path leaves no unused device behind in the registry.
        if out.exists() {
            bail!("{} already exists; refusing to overwrite it", out.display());
        }
        let (device_id, bytes) = ghidanh_registry::provision_device(&data, &url, &label)
            .with_context(|| format!("cannot provision a device in {}", data.display()))?;
        write_private(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
        println!("device {device_id}");
        Ok(ExitCode::SUCCESS)
    }
}

/// Writes a file that holds a secret (the one-time token): mode 0600, all or nothing.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // tempfile creates files readable by the owner only (0600 on Unix).
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
