//! `ghidanh registry init | serve | bundles | rotate-key | revoke-device`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use ghidanh_bundle::DeviceId;
use ghidanh_registry::Registry;

#[derive(Subcommand)]
pub enum RegistryCmd {
    /// Create a registry: keys and an empty database.
    Init {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
    },
    /// Serve the registry's HTTP API until Ctrl-C or SIGTERM.
    Serve {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8640")]
        listen: SocketAddr,
    },
    /// Add a fresh registry key pair as the current one. Older keys stay, so bundles sealed
    /// to them still open; provisioning files issued afterwards carry the new key.
    /// Restart a running registry to use it.
    RotateKey {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
    },
    /// Revoke a device: its registrations and bundles are refused from now on with a signed
    /// `device_revoked`, on which the kit destroys its vault. Revoking twice changes nothing.
    RevokeDevice {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// The device id (as printed by `ghidanh device provision`).
        #[arg(long)]
        device: String,
        /// Why, for the registry's records (no personal data).
        #[arg(long)]
        reason: Option<String>,
    },
    /// List the accepted bundles.
    Bundles {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

impl RegistryCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            RegistryCmd::Init { data } => {
                let keys = ghidanh_registry::init(&data)
                    .with_context(|| format!("cannot create a registry in {}", data.display()))?;
                println!("registry created in {}", data.display());
                println!("key id {}", keys.key_id());
            }
            RegistryCmd::RotateKey { data } => {
                let keys = ghidanh_registry::rotate_key(&data)
                    .with_context(|| format!("cannot rotate the key in {}", data.display()))?;
                println!("new current key id {}", keys.key_id());
            }
            RegistryCmd::Serve { data, listen } => serve(data, listen)?,
            RegistryCmd::Bundles { data, json } => bundles(data, json)?,
            RegistryCmd::RevokeDevice {
                data,
                device,
                reason,
            } => revoke(data, &device, reason.as_deref())?,
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn serve(data: PathBuf, listen: SocketAddr) -> anyhow::Result<()> {
    let registry = Arc::new(
        Registry::open(&data)
            .with_context(|| format!("cannot open the registry in {}", data.display()))?,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener
            .local_addr()
            .context("cannot read the bound address")?;
        // Scripts and tests wait for this exact line; with port 0 it carries the real port.
        println!("listening on http://{addr}");
        std::io::stdout().flush().ok();
        tracing::info!(key_id = %registry.key_id(), %addr, "registry serving");
        ghidanh_registry::serve_with(registry, listener)
            .await
            .context("the server failed")
    })
}

fn revoke(data: PathBuf, device: &str, reason: Option<&str>) -> anyhow::Result<()> {
    let device_id =
        DeviceId::parse(device).map_err(|_| anyhow::anyhow!("{device:?} is not a device id"))?;
    let revoked = ghidanh_registry::revoke_device(&data, device_id, reason)
        .with_context(|| format!("cannot revoke device {device_id}"))?;
    if revoked.newly {
        println!("device {device_id} revoked");
    } else {
        println!(
            "device {device_id} was already revoked at {}",
            super::bundle::rfc3339(revoked.revoked_at)
        );
    }
    Ok(())
}

fn bundles(data: PathBuf, json: bool) -> anyhow::Result<()> {
    let bundles = ghidanh_registry::list_bundles(&data)
        .with_context(|| format!("cannot read the registry in {}", data.display()))?;
    let mut out = std::io::stdout().lock();
    for b in bundles {
        if json {
            let line = serde_json::json!({
                "bundleId": b.bundle_id.to_string(),
                "deviceId": b.device_id.to_string(),
                "receiptId": b.receipt_id.to_string(),
                "verdict": b.verdict,
                "receivedAt": b.received_at,
            });
            writeln!(out, "{line}")?;
        } else {
            writeln!(
                out,
                "{}  {}  {}  {}  {}",
                b.bundle_id,
                b.device_id,
                b.receipt_id,
                b.verdict,
                super::bundle::rfc3339(b.received_at)
            )?;
        }
    }
    Ok(())
}
