//! Sample values for tests of this and other crates (feature `testkit`; never in a release).

use ghidanh_record::EnrollmentInput;

use crate::{BundleId, DeviceId, EnrollmentId, OperatorId, OperatorRef, Payload};

/// A valid record of a made-up person.
pub fn sample_record() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: "Nguyễn Văn An".into(),
        date_of_birth: "1990-05-17".into(),
        sex: "male".into(),
        personal_id: "001090123456".into(),
    }
}

/// A payload with fresh ids for `device_id`, holding [`sample_record`].
pub fn sample_payload(device_id: DeviceId) -> Payload {
    Payload {
        bundle_id: BundleId::new(),
        enrollment_id: EnrollmentId::new(),
        device_id,
        operator: OperatorRef {
            id: OperatorId::new(),
            name: "Trần Thị Bình".into(),
        },
        captured_at: 1_790_000_000,
        record: sample_record(),
    }
}
