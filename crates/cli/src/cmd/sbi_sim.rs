//! `ghidanh sbi-sim`: a simulated fingerprint scanner speaking SBI on loopback, for demos and
//! tests of the kit without hardware (docs/sbi.md § Simulator). Logs one line per capture.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use anyhow::Context;
use ghidanh_sbi::sim::{self, SimConfig, SimQuality, SimStep};

/// Options of `ghidanh sbi-sim`.
#[derive(clap::Args)]
pub struct SbiSimArgs {
    /// The port on 127.0.0.1 (SBI uses 4501–4600; the kit scans 4501–4510; 0 picks a free one).
    #[arg(long, default_value_t = 4501)]
    port: u16,
    /// The quality of captures the script does not decide: good, fair or poor.
    #[arg(long, default_value = "good", value_parser = str::parse::<SimQuality>)]
    quality: SimQuality,
    /// One step per capture, comma-separated: good, fair, poor, no_finger, timeout, busy,
    /// unplugged; then --quality.
    #[arg(long, value_delimiter = ',', value_parser = str::parse::<SimStep>)]
    script: Vec<SimStep>,
    /// Seeds the device key and serial number (the same seed, the same device).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl SbiSimArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = SimConfig {
            seed: self.seed,
            quality: self.quality,
            script: self.script,
            ..SimConfig::default()
        };
        let key = hex_key(&config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async move {
            let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener
                .local_addr()
                .context("cannot read the bound address")?;
            // Scripts and tests wait for this exact line; with port 0 it carries the real port.
            println!("listening on http://{addr}");
            std::io::stdout().flush().ok();
            tracing::info!(%addr, key, quality = config.quality.name(), "sbi-sim serving");
            tokio::select! {
                served = sim::serve(listener, config) => served.context("the simulator failed")?,
                () = ghidanh_registry::shutdown_signal() => tracing::info!("sbi-sim stopping"),
            }
            Ok(ExitCode::SUCCESS)
        })
    }
}

fn hex_key(config: &SimConfig) -> String {
    sim::device_key(config.seed)
        .verifying_key()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
