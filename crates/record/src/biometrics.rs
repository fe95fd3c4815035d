//! The age rule for biometrics (Law 26/2023 art. 16 and 23; procedure 2.000200): none are taken
//! under 6; from 6 the portrait and all ten fingers, each captured or excused with a reason.
//!
//! Two checks, because they bind at different moments: what is *forbidden* holds for every
//! bundle today; what is *missing* can only be asked once the kit captures (until then the
//! kit seals no biometrics at all, see docs/ARCHITECTURE.md § Known limits).

use crate::{BiometricRequirement, Field, FieldError, Rule};

/// Fingers on a capture sheet.
pub const FINGERS: usize = 10;

/// What an enrollment carries, as far as the age rule cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BiometricsTaken {
    /// A portrait is present.
    pub face: bool,
    /// Fingers with an image.
    pub fingers_captured: usize,
    /// Fingers recorded as not capturable, with a reason (amputated, bandaged, unreadable).
    pub fingers_excepted: usize,
}

/// Biometrics that must not be there: any portrait or finger entry of a child under 6.
pub fn forbidden_biometrics(
    requirement: BiometricRequirement,
    taken: &BiometricsTaken,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if requirement == BiometricRequirement::None {
        if taken.face {
            errors.push(FieldError::new(Field::Face, Rule::BiometricsUnderSix));
        }
        if taken.fingers_captured + taken.fingers_excepted > 0 {
            errors.push(FieldError::new(
                Field::Fingerprints,
                Rule::BiometricsUnderSix,
            ));
        }
    }
    errors
}

/// Biometrics that must be there from age 6: the portrait, and ten fingers accounted for.
pub fn missing_biometrics(
    requirement: BiometricRequirement,
    taken: &BiometricsTaken,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if requirement.face() && !taken.face {
        errors.push(FieldError::new(Field::Face, Rule::Required));
    }
    let accounted = taken.fingers_captured + taken.fingers_excepted;
    if requirement.fingerprints() && accounted < FINGERS {
        errors.push(FieldError::new(
            Field::Fingerprints,
            Rule::FingersIncomplete { accounted },
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    const NONE: BiometricsTaken = BiometricsTaken {
        face: false,
        fingers_captured: 0,
        fingers_excepted: 0,
    };
    const FULL: BiometricsTaken = BiometricsTaken {
        face: true,
        fingers_captured: 9,
        fingers_excepted: 1,
    };

    fn codes(errors: &[FieldError]) -> Vec<(&'static str, &'static str)> {
        errors
            .iter()
            .map(|e| (e.field.code(), e.rule.code()))
            .collect()
    }

    #[test]
    fn under_six_no_portrait_and_no_finger_may_be_taken() {
        let under6 = BiometricRequirement::for_age(5);
        assert!(forbidden_biometrics(under6, &NONE).is_empty());
        assert_eq!(
            codes(&forbidden_biometrics(under6, &FULL)),
            [
                ("biometrics.face", "biometricsUnderSix"),
                ("biometrics.fingers", "biometricsUnderSix")
            ]
        );
        // One excused finger is a finger entry too.
        let one = BiometricsTaken {
            fingers_excepted: 1,
            ..NONE
        };
        assert_eq!(
            codes(&forbidden_biometrics(under6, &one)),
            [("biometrics.fingers", "biometricsUnderSix")]
        );
        // Nothing is missing for a child under 6.
        assert!(missing_biometrics(under6, &NONE).is_empty());
    }

    #[test]
    fn from_six_the_portrait_and_ten_accounted_fingers_are_required() {
        for age in [6, 13, 14, 90] {
            let req = BiometricRequirement::for_age(age);
            assert!(forbidden_biometrics(req, &FULL).is_empty(), "{age}");
            assert!(missing_biometrics(req, &FULL).is_empty(), "{age}");
            assert_eq!(
                codes(&missing_biometrics(req, &NONE)),
                [
                    ("biometrics.face", "required"),
                    ("biometrics.fingers", "fingersIncomplete")
                ],
                "{age}"
            );
        }
        let nine = BiometricsTaken {
            fingers_excepted: 0,
            ..FULL
        };
        let errors = missing_biometrics(BiometricRequirement::Full, &nine);
        assert_eq!(
            errors,
            [FieldError::new(
                Field::Fingerprints,
                Rule::FingersIncomplete { accounted: 9 }
            )]
        );
        assert_eq!(
            errors[0].message(Lang::Vi),
            "Vân tay: phải đủ 10 ngón, mỗi ngón đã thu nhận hoặc ghi lý do không thu nhận được; mới có 9."
        );
        assert_eq!(
            errors[0].message(Lang::En),
            "Fingerprints: needs all 10 fingers, each captured or excused with a reason; 9 are."
        );
    }
}
