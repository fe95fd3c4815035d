//! What a person's age asks of the enrollment (Law 26/2023 on identification; procedure 2.000200).

/// Which biometrics may and must be collected, by age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BiometricRequirement {
    /// Under 6: no face, no fingerprints, no iris may be collected; the card has no photo.
    None,
    /// 6 to 13: face, fingerprints and iris, with the legal representative present.
    WithRepresentative,
    /// 14 and over: face, fingerprints and iris.
    Full,
}

/// Below this age a representative must act for the person.
pub const REPRESENTATIVE_BELOW_AGE: i32 = 14;
/// Below this age no biometrics are collected.
pub const BIOMETRICS_FROM_AGE: i32 = 6;

impl BiometricRequirement {
    /// The requirement at `age` whole years.
    pub fn for_age(age: i32) -> BiometricRequirement {
        if age < BIOMETRICS_FROM_AGE {
            BiometricRequirement::None
        } else if age < REPRESENTATIVE_BELOW_AGE {
            BiometricRequirement::WithRepresentative
        } else {
            BiometricRequirement::Full
        }
    }

    /// Whether the face is photographed.
    pub fn face(self) -> bool {
        self != BiometricRequirement::None
    }

    /// Whether fingerprints are taken.
    pub fn fingerprints(self) -> bool {
        self != BiometricRequirement::None
    }

    /// Whether the iris is scanned.
    pub fn iris(self) -> bool {
        self != BiometricRequirement::None
    }

    /// A stable machine-readable name.
    pub fn code(self) -> &'static str {
        match self {
            BiometricRequirement::None => "none",
            BiometricRequirement::WithRepresentative => "withRepresentative",
            BiometricRequirement::Full => "full",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(age: i32, expected: BiometricRequirement) {
        assert_eq!(BiometricRequirement::for_age(age), expected, "{age}");
    }

    #[test]
    fn by_age() {
        check(0, BiometricRequirement::None);
        check(5, BiometricRequirement::None);
        check(6, BiometricRequirement::WithRepresentative);
        check(13, BiometricRequirement::WithRepresentative);
        check(14, BiometricRequirement::Full);
        check(90, BiometricRequirement::Full);
        assert!(!BiometricRequirement::None.face());
        assert!(!BiometricRequirement::None.fingerprints());
        assert!(BiometricRequirement::WithRepresentative.iris());
    }
}
