//! The kit's application service: what the app shell (src-tauri) and the tests drive.
//!
//! [`Kit`] owns the operator session (locked / unlocked vault), the enrollment workflow
//! (draft → finalise → sealed bundle in the outbox) and the background sync worker.
//! It knows nothing of Tauri or JSON: the shell adapts it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod biometrics;
mod capture;
mod devices;
mod error;
mod kit;
mod operator;
mod rejection;
mod settings;
mod sync_status;

pub use biometrics::{
    BiometricsSheet, FingerEntry, FingerResult, FINGER_RETRY_BELOW, MAX_FRAME_BYTES,
};
pub use devices::{DeviceConfig, ScannerInfo};
pub use error::{CaptureRule, FormError, KitError};
pub use ghidanh_biometrics::face::{FaceCheck, FaceIssue};
pub use ghidanh_biometrics::finger::quality::{FingerIssue, FingerQuality};
pub use ghidanh_bundle::ExceptionReason;
pub use ghidanh_camera::CameraChoice;
pub use ghidanh_record::BiometricRequirement;
pub use kit::{parse_role, Kit, KitConfig, SessionState, Status};
pub use operator::OperatorRule;
pub use rejection::{is_correctable, rejection_advice, rejection_message, Rejection};
pub use settings::{SettingRule, MAX_DAILY_ALLOWANCE_MB, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS};
pub use sync_status::{sync_problem_message, SyncStatus};

pub use ghidanh_bundle::{EnrollmentId, OperatorId};
pub use ghidanh_record::{EnrollmentInput, Lang, RepresentativeInput};
pub use ghidanh_sync::SyncProblem;
pub use ghidanh_vault::{EnrollmentState, EnrollmentSummary, KdfParams, Operator, Role};
