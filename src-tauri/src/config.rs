//! App configuration, read from the environment at start-up.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable: directory holding the kit's vault and settings.
pub const ENV_DATA_DIR: &str = "GHIDANH_DATA_DIR";
/// Environment variable: path to a provisioning file to import on first run.
pub const ENV_PROVISIONING: &str = "GHIDANH_PROVISIONING";
/// Environment variable: seconds without activity before the session locks
/// itself (`0` turns the idle lock off; unset or not a number: 10 minutes).
pub const ENV_IDLE_LOCK_SECS: &str = "GHIDANH_IDLE_LOCK_SECS";

/// Environment variable: loopback ports to look for an SBI fingerprint scanner on, `4501` or
/// `4501-4510` (unset: SBI's first ten, 4501–4510).
pub const ENV_SBI_PORTS: &str = "GHIDANH_SBI_PORTS";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `GHIDANH_SBI_PORTS`; `None` means the kit's default range.
    pub sbi_ports: Option<std::ops::RangeInclusive<u16>>,
    /// `GHIDANH_DATA_DIR`; `None` means "use the platform's app data dir".
    pub data_dir: Option<PathBuf>,
    /// `GHIDANH_PROVISIONING`; `None` means "ask the operator".
    pub provisioning: Option<PathBuf>,
    /// `GHIDANH_IDLE_LOCK_SECS`; `None` means the kit's default.
    pub idle_lock: Option<Duration>,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// Reads the configuration through `get` (testable without touching the
    /// process environment). Empty values count as unset.
    pub fn from_vars(get: impl Fn(&str) -> Option<OsString>) -> Self {
        let path = |name: &str| get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let idle_lock = get(ENV_IDLE_LOCK_SECS)
            .filter(|v| !v.is_empty())
            .and_then(|v| {
                let secs = v.to_str().and_then(|s| s.trim().parse::<u64>().ok());
                if secs.is_none() {
                    tracing::warn!(
                        "{ENV_IDLE_LOCK_SECS} is not a number of seconds; using the default"
                    );
                }
                secs
            })
            .map(Duration::from_secs);
        let sbi_ports = get(ENV_SBI_PORTS).filter(|v| !v.is_empty()).and_then(|v| {
            let ports = v.to_str().and_then(parse_ports);
            if ports.is_none() {
                tracing::warn!("{ENV_SBI_PORTS} is not a port or a range like 4501-4510");
            }
            ports
        });
        Self {
            sbi_ports,
            data_dir: path(ENV_DATA_DIR),
            provisioning: path(ENV_PROVISIONING),
            idle_lock,
        }
    }
}

/// `4501` or `4501-4510`.
fn parse_ports(text: &str) -> Option<std::ops::RangeInclusive<u16>> {
    let (from, to) = text
        .trim()
        .split_once('-')
        .unwrap_or((text.trim(), text.trim()));
    let (from, to) = (from.trim().parse().ok()?, to.trim().parse().ok()?);
    // At most SBI's hundred ports: discovery probes each one.
    (from <= to && to - from < 100 && from > 0).then_some(from..=to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_ports_are_one_port_or_a_range() {
        let ports = |v: &'static str| {
            Config::from_vars(move |name| (name == ENV_SBI_PORTS).then(|| v.into())).sbi_ports
        };
        assert_eq!(ports("4505"), Some(4505..=4505));
        assert_eq!(ports(" 4501-4510 "), Some(4501..=4510));
        assert_eq!(ports("4510-4501"), None);
        assert_eq!(ports("scanner"), None);
        assert_eq!(ports("1-65535"), None);
        assert_eq!(ports("0"), None);
        assert_eq!(ports(""), None);
    }

    #[test]
    fn reads_both_paths_and_ignores_empty_values() {
        let config = Config::from_vars(|name| match name {
            ENV_DATA_DIR => Some("/tmp/kit".into()),
            ENV_PROVISIONING => Some("".into()),
            _ => None,
        });
        assert_eq!(config.data_dir, Some(PathBuf::from("/tmp/kit")));
        assert_eq!(config.provisioning, None);
        assert_eq!(config.idle_lock, None);
    }

    #[test]
    fn idle_lock_is_seconds_and_zero_turns_it_off() {
        let with = |v: &'static str| {
            Config::from_vars(move |name| (name == ENV_IDLE_LOCK_SECS).then(|| v.into())).idle_lock
        };
        assert_eq!(with("3"), Some(Duration::from_secs(3)));
        assert_eq!(with(" 600 "), Some(Duration::from_secs(600)));
        assert_eq!(with("0"), Some(Duration::ZERO));
        assert_eq!(with("ten minutes"), None);
        assert_eq!(with(""), None);
    }
}
