//! Tauri commands callable from the UI with `invoke(name, args)`.
//!
//! Placeholders for now: they will be replaced by thin wrappers around the
//! `ghidanh-kit` crate. Keep each command small: parse arguments, call the
//! kit, map the error.

use serde::Serialize;
use tauri::State;

use crate::AppState;

/// What the UI needs to decide which screen to show first.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    /// `needsSetup` until the kit is provisioned.
    pub state: &'static str,
    pub operator_name: Option<String>,
    pub device_id: Option<String>,
    pub registry_url: Option<String>,
    /// UI language, `vi` by default.
    pub language: &'static str,
}

impl AppStatus {
    /// Status of a kit that has not been provisioned yet.
    pub fn needs_setup() -> Self {
        Self {
            state: "needsSetup",
            operator_name: None,
            device_id: None,
            registry_url: None,
            language: "vi",
        }
    }
}

/// Placeholder: always reports a kit that still needs setup.
#[tauri::command]
pub fn app_status(state: State<'_, AppState>) -> AppStatus {
    let _config = &state.config;
    AppStatus::needs_setup()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_setup_serializes_like_the_ui_expects() {
        let json = serde_json::to_value(AppStatus::needs_setup()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "state": "needsSetup",
                "operatorName": null,
                "deviceId": null,
                "registryUrl": null,
                "language": "vi"
            })
        );
    }
}
