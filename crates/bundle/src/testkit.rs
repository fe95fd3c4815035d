//! Sample values for tests of this and other crates (feature `testkit`; never in a release).

mod hpke_trace;
pub mod vectors;

use std::collections::BTreeMap;

use ghidanh_record::EnrollmentInput;

use crate::{
    AuditEntry, Biometrics, BundleId, DeviceId, EnrollmentId, ExceptionReason, FaceFormat,
    FaceImage, Finger, FingerCapture, FingerFormat, FingerPosition, OperatorId, OperatorRef,
    Payload,
};

/// A valid record of a made-up person.
pub fn sample_record() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: "Nguyễn Văn An".into(),
        date_of_birth: "1990-05-17".into(),
        sex: "male".into(),
        personal_id: "001090123456".into(),
        ..Default::default()
    }
}

/// A valid record of a made-up child of two or three. Under 6 no biometrics are taken, so a
/// kit seals it without a capture: for tests about sync and storage, not about capture. The
/// ID number's century-sex and year digits follow the date of birth; `serial` gives the last
/// six digits.
pub fn young_child(birth_name: &str, serial: u32) -> EnrollmentInput {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // The mean Gregorian year: exact to within a day of New Year, plenty for "three years ago".
    let year = 1970 + secs / 31_556_952 - 3;
    EnrollmentInput {
        birth_name: birth_name.into(),
        date_of_birth: format!("{year}-01-15"),
        sex: "female".into(),
        // Province 036, century-sex 3 (female, born 2000–2099), the year's last two digits.
        personal_id: format!("0363{:02}{:06}", year % 100, serial % 1_000_000),
        representative: ghidanh_record::RepresentativeInput {
            name: "Hoàng Văn Minh".into(),
            relationship: "Cha".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Small biometrics: a face, nine captured fingers and one exception (left little, bandaged).
/// The "images" are short patterned bytes, not real images: the format does not decode them.
pub fn sample_biometrics() -> Biometrics {
    let fingers = FingerPosition::ALL
        .iter()
        .map(|&position| Finger {
            position,
            capture: if position == FingerPosition::LeftLittle {
                FingerCapture::Exception(ExceptionReason::Bandaged)
            } else {
                FingerCapture::Captured {
                    format: FingerFormat::Wsq,
                    image: vec![position.code(); 48],
                    quality: 60 + position.code(),
                }
            },
        })
        .collect();
    Biometrics {
        face: Some(FaceImage {
            format: FaceFormat::Jpeg,
            image: [0xff, 0xd8, 0xff, 0xe0].repeat(16),
            width: 480,
            height: 640,
            quality: 87,
        }),
        fingers,
    }
}

/// Reference-data versions as a kit would carry them.
pub fn sample_reference_versions() -> BTreeMap<String, String> {
    [
        ("communes", "2025-07-01"),
        ("ethnic-groups", "1979-03-02"),
        ("legacy-provinces", "2008-08-01"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A payload with fresh ids for `device_id`, holding [`sample_record`] and [`sample_biometrics`].
pub fn sample_payload(device_id: DeviceId) -> Payload {
    let operator = OperatorRef {
        id: OperatorId::new(),
        name: "Trần Thị Bình".into(),
    };
    Payload {
        bundle_id: BundleId::new(),
        enrollment_id: EnrollmentId::new(),
        device_id,
        captured_at: 1_790_000_000,
        finalised_at: 1_790_000_600,
        record: sample_record(),
        biometrics: sample_biometrics(),
        reference_versions: sample_reference_versions(),
        audit: vec![
            AuditEntry {
                at: 1_790_000_000,
                action: "created".into(),
                operator_id: operator.id,
            },
            AuditEntry {
                at: 1_790_000_600,
                action: "finalised".into(),
                operator_id: operator.id,
            },
        ],
        operator,
    }
}
