//! `ghidanh`: run a registry, provision devices, inspect bundles.
//!
//! Output meant for people and scripts goes to stdout; logs (`RUST_LOG`) go to stderr.
#![forbid(unsafe_code)]

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc, not glibc's malloc: glibc hands each 400 KB bundle buffer back to the kernel on
/// free and faults it in again on the next (~100 page faults per seal or open, a third of
/// the time `ghidanh bench bundle` measured); the registry serves the same sizes all day.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "ghidanh", version, about = "Ghi Danh enrollment kit tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run and administer a registry.
    #[command(subcommand)]
    Registry(cmd::registry::RegistryCmd),
    /// Provision kit devices.
    #[command(subcommand)]
    Device(cmd::device::DeviceCmd),
    /// Look at bundles.
    #[command(subcommand)]
    Bundle(cmd::bundle::BundleCmd),
    /// Measure the bundle format and the vault against their raw baselines.
    #[command(subcommand)]
    Bench(cmd::bench::BenchCmd),
    /// Decode personal ID numbers.
    #[command(subcommand)]
    Id(cmd::id::IdCmd),
    /// Normalise names and compute their search keys.
    #[command(subcommand)]
    Name(cmd::name::NameCmd),
    /// Read the QR code of an existing card.
    #[command(subcommand)]
    Qr(cmd::qr::QrCmd),
    /// Read the machine-readable zone (MRZ) of an existing card.
    #[command(subcommand)]
    Mrz(cmd::mrz::MrzCmd),
    /// Validate enrollment records.
    #[command(subcommand)]
    Record(cmd::record::RecordCmd),
    /// Check a kit vault's audit log and report what it holds.
    #[command(subcommand)]
    Vault(cmd::vault::VaultCmd),
    /// Simulate many kit devices uploading sealed bundles to a registry; report throughput.
    Loadgen(cmd::loadgen::LoadgenArgs),
    /// Write every bundle still waiting for a receipt onto removable media (a USB stick),
    /// with a manifest signed by the device. Asks the passphrase (or GHIDANH_PASSPHRASE).
    Export {
        /// Where the stick is mounted.
        #[arg(long)]
        to: std::path::PathBuf,
        /// The kit's vault folder.
        #[arg(long)]
        vault: std::path::PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Record the receipts a registry wrote onto a stick. Asks the passphrase.
    ImportReceipts {
        /// Where the stick is mounted.
        dir: std::path::PathBuf,
        /// The kit's vault folder.
        #[arg(long)]
        vault: std::path::PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// What a district office does: import a stick of bundles.
    #[command(subcommand)]
    Relay(cmd::stick::RelayCmd),
    /// A kit without its window (for the sync fault harness): enroll N, wait for every receipt.
    KitSim(cmd::kit_sim::KitSimArgs),
    /// A simulated fingerprint scanner (MOSIP SBI on 127.0.0.1) until Ctrl-C or SIGTERM.
    SbiSim(cmd::sbi_sim::SbiSimArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    // The one-shot commands print and exit: piped into `head`, they should end quietly the
    // Unix way (SIGPIPE) rather than panic in println!. Not the registry, the benches, loadgen, kit-sim and sbi-sim,
    // which hold sockets, where a write to a closed peer must stay an error to handle.
    if !matches!(
        cli.command,
        Command::Registry(_)
            | Command::Bench(_)
            | Command::Loadgen(_)
            | Command::KitSim(_)
            | Command::SbiSim(_)
    ) {
        sigpipe::reset();
    }
    let result = match cli.command {
        Command::Registry(c) => c.run(),
        Command::Device(c) => c.run(),
        Command::Bundle(c) => c.run(),
        Command::Bench(c) => c.run(),
        Command::Id(c) => c.run(),
        Command::Name(c) => c.run(),
        Command::Qr(c) => c.run(),
        Command::Mrz(c) => c.run(),
        Command::Record(c) => c.run(),
        Command::Vault(c) => c.run(),
        Command::Loadgen(c) => c.run(),
        Command::Export { to, vault, json } => cmd::stick::export(&to, &vault, json),
        Command::ImportReceipts { dir, vault, json } => {
            cmd::stick::import_receipts(&dir, &vault, json)
        }
        Command::Relay(c) => c.run(),
        Command::KitSim(c) => c.run(),
        Command::SbiSim(c) => c.run(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
