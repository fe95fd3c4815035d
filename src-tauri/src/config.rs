//! App configuration, read from the environment at start-up.

use std::ffi::OsString;
use std::path::PathBuf;

/// Environment variable: directory holding the kit's vault and settings.
pub const ENV_DATA_DIR: &str = "GHIDANH_DATA_DIR";
/// Environment variable: path to a provisioning file to import on first run.
pub const ENV_PROVISIONING: &str = "GHIDANH_PROVISIONING";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `GHIDANH_DATA_DIR`; `None` means "use the platform's app data dir".
    pub data_dir: Option<PathBuf>,
    /// `GHIDANH_PROVISIONING`; `None` means "ask the operator".
    pub provisioning: Option<PathBuf>,
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
        Self {
            data_dir: path(ENV_DATA_DIR),
            provisioning: path(ENV_PROVISIONING),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_paths_and_ignores_empty_values() {
        let config = Config::from_vars(|name| match name {
            ENV_DATA_DIR => Some("/tmp/kit".into()),
            ENV_PROVISIONING => Some("".into()),
            _ => None,
        });
        assert_eq!(config.data_dir, Some(PathBuf::from("/tmp/kit")));
        assert_eq!(config.provisioning, None);
    }
}
