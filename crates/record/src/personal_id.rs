use std::fmt;

use crate::{Field, FieldError, LegacyProvince, Rule, Sex};

/// A 12-digit personal identification number, `PPP G YY RRRRRR`, checked for shape and prefix.
///
/// There is no check digit; the century/sex digit and year are checked against the
/// date of birth and sex by [`crate::ValidRecord`], which has both.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonalId {
    digits: String,
    province: LegacyProvince,
}

impl PersonalId {
    /// Parses the number (spaces are ignored, as people type it in groups).
    pub fn parse(raw: &str) -> Result<PersonalId, FieldError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err(FieldError::new(Field::PersonalId, Rule::Required));
        }
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(Field::PersonalId, Rule::NotTwelveDigits));
        }
        let prefix = digits[..3].parse::<u16>().unwrap_or(0);
        let province = LegacyProvince::from_code(prefix).ok_or_else(|| {
            FieldError::new(
                Field::PersonalId,
                Rule::UnknownProvinceCode {
                    code: digits[..3].to_owned(),
                },
            )
        })?;
        Ok(PersonalId { digits, province })
    }

    /// The twelve digits.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    fn digit(&self, i: usize) -> u16 {
        // Safe by construction: the constructor checked 12 ASCII digits.
        u16::from(self.digits.as_bytes()[i] - b'0')
    }

    /// The three-digit birth-registration prefix.
    pub fn prefix(&self) -> u16 {
        self.digit(0) * 100 + self.digit(1) * 10 + self.digit(2)
    }

    /// Where the birth was registered.
    pub fn province(&self) -> &LegacyProvince {
        &self.province
    }

    /// The birth year the number encodes: 1900 + 100·⌊G/2⌋ + YY.
    pub fn birth_year(&self) -> i32 {
        let g = i32::from(self.digit(3));
        let yy = i32::from(self.digit(4) * 10 + self.digit(5));
        1900 + 100 * (g / 2) + yy
    }

    /// The sex the number encodes: G even is male, odd is female.
    pub fn sex(&self) -> Sex {
        if self.digit(3).is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

impl fmt::Debug for PersonalId {
    // Personal data never goes to logs whole: show the prefix only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalId({}*********)", &self.digits[..3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Result<(u16, i32, Sex), Rule>) {
        let got = PersonalId::parse(raw).map(|id| (id.prefix(), id.birth_year(), id.sex()));
        assert_eq!(
            got,
            expected.map_err(|r| FieldError::new(Field::PersonalId, r)),
            "{raw}"
        );
    }

    #[test]
    fn shapes_and_prefixes() {
        check("001090123456", Ok((1, 1990, Sex::Male)));
        check("079 1 85 000123", Ok((79, 1985, Sex::Female)));
        check("001205000001", Ok((1, 2005, Sex::Male)));
        check("001305000001", Ok((1, 2005, Sex::Female)));
        check("001400000001", Ok((1, 2100, Sex::Male)));
        check("101090123456", Ok((101, 1990, Sex::Male)));
        check("", Err(Rule::Required));
        check("   ", Err(Rule::Required));
        check("00109012345", Err(Rule::NotTwelveDigits));
        check("0010901234567", Err(Rule::NotTwelveDigits));
        check("00109012345a", Err(Rule::NotTwelveDigits));
        check("٠٠١٠٩٠١٢٣٤٥٦", Err(Rule::NotTwelveDigits));
        check(
            "003090123456",
            Err(Rule::UnknownProvinceCode { code: "003".into() }),
        );
        check(
            "999090123456",
            Err(Rule::UnknownProvinceCode { code: "999".into() }),
        );
    }

    #[test]
    fn debug_hides_the_number() {
        let id = PersonalId::parse("001090123456").unwrap();
        assert!(!format!("{id:?}").contains("090123456"));
    }
}
