//! `ghidanh registry init | serve | bundles | rotate-key | revoke-device | publish-reference`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use ghidanh_bundle::{DeviceId, RelayPublicKey};
use ghidanh_record::reference::List;
use ghidanh_registry::{ForwardConfig, Publication, Registry, Relay, RelayCertificate, Upstream};

/// What a registry process is: the central registry, or a district relay in front of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Opens, validates, de-duplicates and accepts bundles.
    Central,
    /// Verifies and holds bundles (custody receipts) and forwards them upstream; cannot open them.
    Relay,
}

#[derive(Subcommand)]
pub enum RegistryCmd {
    /// Create a registry: keys and an empty database. With `--mode relay`, a relay: its own
    /// Ed25519 key (printed, for `certify-relay` on the central registry) and an empty database.
    Init {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Central registry or relay.
        #[arg(long, value_enum, default_value = "central")]
        mode: Mode,
    },
    /// Serve the registry's HTTP API until Ctrl-C or SIGTERM.
    Serve {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8640")]
        listen: SocketAddr,
        /// Central registry or relay.
        #[arg(long, value_enum, default_value = "central")]
        mode: Mode,
        /// Relay only: the base URL of the registry it forwards to.
        #[arg(long, required_if_eq("mode", "relay"))]
        upstream: Option<String>,
        /// Relay only: the upstream registry's public keys (`ghidanh registry public-keys`).
        #[arg(long, required_if_eq("mode", "relay"))]
        upstream_keys: Option<PathBuf>,
        /// Relay only: first retry delay of the forwarder, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        forward_initial_ms: u64,
        /// Relay only: longest retry delay of the forwarder, in milliseconds.
        #[arg(long, default_value_t = 60_000)]
        forward_max_ms: u64,
        /// Relay only: longest sleep of the forwarder with nothing due, in milliseconds: how
        /// soon it notices what a `relay import` (another process) held.
        #[arg(long, default_value_t = 30_000)]
        forward_poll_ms: u64,
    },
    /// Print the registry's public keys, one line per key of its keyring (hex of the Ed25519
    /// and X25519 public keys): the `--upstream-keys` file of a relay.
    PublicKeys {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
    },
    /// Certify a relay's key with the registry's current signing key: kits then accept the
    /// relay's custody receipts. Writes the certificate (install it as `relay.cert` in the
    /// relay's data directory).
    CertifyRelay {
        /// Data directory of the central registry.
        #[arg(long)]
        data: PathBuf,
        /// The relay's public key in hex, as `registry init --mode relay` printed it.
        #[arg(long)]
        relay_key: String,
        /// Where to write the certificate.
        #[arg(long)]
        out: PathBuf,
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
    /// Publish a newer release of reference lists (provinces, communes, ethnic-groups,
    /// religions, countries): checked with the record crate's reader, signed with the current
    /// key, stored in the data directory and served to kits at `GET /api/v1/reference` (a
    /// running registry picks it up at the next request). Give `--list`, `--file` and
    /// `--version` once per list; lists that change together (provinces and their communes)
    /// go in one command. Refuses a version not newer than the published (or built-in) one.
    PublishReference {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// The list: provinces, communes, ethnic-groups, religions or countries.
        #[arg(long, required = true)]
        list: Vec<String>,
        /// Its TSV file, in the format of schema/reference/*.tsv.
        #[arg(long, required = true)]
        file: Vec<PathBuf>,
        /// Its version, as the file's `# version:` line says (e.g. vietnam-provinces-2026.1.0).
        #[arg(long, required = true)]
        version: Vec<String>,
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
            RegistryCmd::Init {
                data,
                mode: Mode::Relay,
            } => {
                let key = ghidanh_registry::init_relay(&data)
                    .with_context(|| format!("cannot create a relay in {}", data.display()))?;
                println!("relay created in {}", data.display());
                println!(
                    "relay key {}",
                    key.to_bytes()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                );
                println!("key id {}", key.key_id());
            }
            RegistryCmd::Init { data, .. } => {
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
            RegistryCmd::Serve {
                data,
                listen,
                mode: Mode::Central,
                ..
            } => serve(data, listen)?,
            RegistryCmd::Serve {
                data,
                listen,
                upstream,
                upstream_keys,
                forward_initial_ms,
                forward_max_ms,
                forward_poll_ms,
                ..
            } => serve_relay(
                data,
                listen,
                upstream.context("--upstream is required for a relay")?,
                upstream_keys.context("--upstream-keys is required for a relay")?,
                ForwardConfig {
                    initial: std::time::Duration::from_millis(forward_initial_ms),
                    max: std::time::Duration::from_millis(forward_max_ms),
                    idle_poll: std::time::Duration::from_millis(forward_poll_ms.max(1)),
                    ..ForwardConfig::default()
                },
            )?,
            RegistryCmd::PublicKeys { data } => {
                let ring = ghidanh_registry::read_keyring(&data.join("registry.key"))
                    .with_context(|| format!("cannot read the keys in {}", data.display()))?;
                print!(
                    "{}",
                    ghidanh_registry::upstream_keys_text(ring.keys().map(|k| k.public()))
                );
            }
            RegistryCmd::CertifyRelay {
                data,
                relay_key,
                out,
            } => certify(data, &relay_key, out)?,
            RegistryCmd::Bundles { data, json } => bundles(data, json)?,
            RegistryCmd::PublishReference {
                data,
                list,
                file,
                version,
            } => publish_reference(data, list, file, version)?,
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

fn certify(data: PathBuf, relay_key: &str, out: PathBuf) -> anyhow::Result<()> {
    let mut bytes = [0u8; 32];
    let text = relay_key.trim();
    anyhow::ensure!(
        text.len() == 64 && text.is_ascii(),
        "the relay key is not 64 hex digits"
    );
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
            .map_err(|_| anyhow::anyhow!("the relay key is not 64 hex digits"))?;
    }
    let relay = RelayPublicKey::from_bytes(&bytes)
        .map_err(|_| anyhow::anyhow!("the relay key is not an Ed25519 public key"))?;
    let ring = ghidanh_registry::read_keyring(&data.join("registry.key"))
        .with_context(|| format!("cannot read the keys in {}", data.display()))?;
    let cert = RelayCertificate::sign(ring.current(), &relay);
    std::fs::write(&out, cert.bytes())
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "relay {} certified by {}",
        relay.key_id(),
        ring.current().public().key_id()
    );
    Ok(())
}

fn serve_relay(
    data: PathBuf,
    listen: SocketAddr,
    upstream: String,
    upstream_keys: PathBuf,
    forward: ForwardConfig,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        upstream.starts_with("http://") || upstream.starts_with("https://"),
        "--upstream must start with http:// or https://"
    );
    let keys = ghidanh_registry::read_upstream_keys(&upstream_keys)
        .with_context(|| format!("cannot read {}", upstream_keys.display()))?;
    let relay = Arc::new(
        Relay::open(
            &data,
            Upstream {
                url: upstream,
                keys,
            },
        )
        .with_context(|| format!("cannot open the relay in {}", data.display()))?,
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
        println!("listening on http://{addr}");
        std::io::stdout().flush().ok();
        tracing::info!(key_id = %relay.public_key().key_id(), %addr, "relay serving");
        ghidanh_registry::serve_relay(relay, listener, forward)
            .await
            .context("the server failed")
    })
}

fn publish_reference(
    data: PathBuf,
    lists: Vec<String>,
    files: Vec<PathBuf>,
    versions: Vec<String>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        lists.len() == files.len() && lists.len() == versions.len(),
        "give --list, --file and --version once per list ({} lists, {} files, {} versions)",
        lists.len(),
        files.len(),
        versions.len()
    );
    let mut publications: Vec<Publication> = Vec::new();
    for ((name, file), version) in lists.iter().zip(files).zip(versions) {
        let list = List::parse(name).with_context(|| {
            format!(
                "--list {name:?}: not one of provinces, communes, ethnic-groups, religions, countries"
            )
        })?;
        anyhow::ensure!(
            publications.iter().all(|p| p.list != list),
            "--list {name} given twice"
        );
        let tsv = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))?;
        publications.push(Publication { list, version, tsv });
    }
    let published = ghidanh_registry::publish_reference(&data, &publications)
        .with_context(|| format!("nothing published in {}", data.display()))?;
    for u in published {
        println!("published {} {} ({} bytes)", u.list, u.version, u.tsv.len());
    }
    Ok(())
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
