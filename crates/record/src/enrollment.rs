use serde::{Deserialize, Serialize};
use time::Date;

use crate::{BirthDate, BirthName, Field, FieldError, PersonalId, Rule, Sex};

/// An enrollment as typed: every field a string, possibly empty or wrong.
///
/// This is what a draft holds and what travels inside a bundle; [`ValidRecord`]
/// is what it becomes once every rule holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrollmentInput {
    /// Họ, chữ đệm và tên khai sinh.
    pub birth_name: String,
    /// `YYYY-MM-DD`, or empty.
    pub date_of_birth: String,
    /// "male", "female" or empty.
    pub sex: String,
    /// Twelve digits, or whatever was typed.
    pub personal_id: String,
}

/// An enrollment record that obeys every rule. Only [`ValidRecord::validate`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRecord {
    birth_name: BirthName,
    date_of_birth: BirthDate,
    sex: Sex,
    personal_id: PersonalId,
}

impl ValidRecord {
    /// Checks every field and the rules between fields; returns every broken rule, in form order.
    ///
    /// `today` bounds the date of birth; callers pass the local date.
    pub fn validate(input: &EnrollmentInput, today: Date) -> Result<ValidRecord, Vec<FieldError>> {
        let name = BirthName::parse(&input.birth_name);
        let dob = BirthDate::parse(&input.date_of_birth, today);
        let sex = match input.sex.trim() {
            "" => Err(FieldError::new(Field::Sex, Rule::Required)),
            s => Sex::parse(s).ok_or_else(|| FieldError::new(Field::Sex, Rule::InvalidSex)),
        };
        let id = PersonalId::parse(&input.personal_id);
        let mut errors: Vec<FieldError> = [
            name.as_ref().err(),
            dob.as_ref().err(),
            sex.as_ref().err(),
            id.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();

        // The ID number's century/sex digit and year must agree with the other fields;
        // checked only when those fields are themselves valid, so each error has one cause.
        if let (Ok(id), Ok(dob)) = (&id, &dob) {
            if id.birth_year() != dob.year() {
                errors.push(FieldError::new(
                    Field::PersonalId,
                    Rule::BirthYearMismatch {
                        id_year: id.birth_year(),
                        dob_year: dob.year(),
                    },
                ));
            }
        }
        if let (Ok(id), Ok(sex)) = (&id, &sex) {
            if id.sex() != *sex {
                errors.push(FieldError::new(
                    Field::PersonalId,
                    Rule::SexMismatch { id_sex: id.sex() },
                ));
            }
        }
        match (name, dob, sex, id) {
            (Ok(birth_name), Ok(date_of_birth), Ok(sex), Ok(personal_id)) if errors.is_empty() => {
                Ok(ValidRecord {
                    birth_name,
                    date_of_birth,
                    sex,
                    personal_id,
                })
            }
            _ => Err(errors),
        }
    }

    /// The birth name.
    pub fn birth_name(&self) -> &BirthName {
        &self.birth_name
    }

    /// The date of birth.
    pub fn date_of_birth(&self) -> BirthDate {
        self.date_of_birth
    }

    /// The sex.
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// The personal ID number.
    pub fn personal_id(&self) -> &PersonalId {
        &self.personal_id
    }

    /// The record in its normalised typed form, as it is sealed into a bundle.
    pub fn to_input(&self) -> EnrollmentInput {
        EnrollmentInput {
            birth_name: self.birth_name.as_str().to_owned(),
            date_of_birth: self.date_of_birth.to_iso(),
            sex: self.sex.code().to_owned(),
            personal_id: self.personal_id.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 28);

    fn input(name: &str, dob: &str, sex: &str, id: &str) -> EnrollmentInput {
        EnrollmentInput {
            birth_name: name.into(),
            date_of_birth: dob.into(),
            sex: sex.into(),
            personal_id: id.into(),
        }
    }

    fn rules(i: &EnrollmentInput) -> Vec<(Field, &'static str)> {
        match ValidRecord::validate(i, TODAY) {
            Ok(_) => vec![],
            Err(es) => es.iter().map(|e| (e.field, e.rule.code())).collect(),
        }
    }

    #[test]
    fn a_consistent_record_is_valid_and_normalised() {
        let r = ValidRecord::validate(
            &input(
                "  Nguye\u{302}\u{303}n  Văn An",
                "1990-05-17",
                "male",
                "001 090 123456",
            ),
            TODAY,
        )
        .unwrap();
        assert_eq!(
            r.to_input(),
            input("Nguyễn Văn An", "1990-05-17", "male", "001090123456")
        );
    }

    #[test]
    fn every_field_is_reported_at_once() {
        assert_eq!(
            rules(&EnrollmentInput::default()),
            vec![
                (Field::BirthName, "required"),
                (Field::DateOfBirth, "required"),
                (Field::Sex, "required"),
                (Field::PersonalId, "required"),
            ]
        );
    }

    #[test]
    fn id_must_agree_with_date_of_birth_and_sex() {
        // 2000s female digit is 3.
        assert_eq!(
            rules(&input("Lê Thị Hoa", "2005-03-01", "female", "079305000001")),
            vec![]
        );
        assert_eq!(
            rules(&input("Lê Thị Hoa", "2005-03-01", "female", "079105000001")),
            vec![(Field::PersonalId, "birthYearMismatch")]
        );
        assert_eq!(
            rules(&input("Lê Thị Hoa", "2005-03-01", "male", "079305000001")),
            vec![(Field::PersonalId, "sexMismatch")]
        );
        assert_eq!(
            rules(&input("Lê Thị Hoa", "1990-03-01", "male", "079305000001")),
            vec![
                (Field::PersonalId, "birthYearMismatch"),
                (Field::PersonalId, "sexMismatch")
            ]
        );
        // A bad date of birth is reported once, not again as a mismatch.
        assert_eq!(
            rules(&input("Lê Thị Hoa", "2005-02-30", "female", "079305000001")),
            vec![(Field::DateOfBirth, "invalidDate")]
        );
        assert_eq!(
            rules(&input("Lê Thị Hoa", "2005-03-01", "other", "079305000001")),
            vec![(Field::Sex, "invalidSex")]
        );
    }

    #[test]
    fn messages_name_the_field_and_the_rule_in_both_languages() {
        let errs = ValidRecord::validate(
            &input("Lê Thị Hoa", "1990-03-01", "female", "079305000001"),
            TODAY,
        )
        .unwrap_err();
        assert_eq!(
            errs[0].message(Lang::Vi),
            "Số định danh cá nhân: mã thế kỷ và năm sinh trong số (2005) không khớp với năm sinh 1990."
        );
        assert_eq!(
            errs[0].message(Lang::En),
            "Personal ID number: the century digit and year digits give 2005, but the date of birth is in 1990."
        );
        let errs = ValidRecord::validate(&input("", "x", "", "1"), TODAY).unwrap_err();
        let vi: Vec<String> = errs.iter().map(|e| e.message(Lang::Vi)).collect();
        assert_eq!(
            vi,
            vec![
                "Họ, chữ đệm và tên khai sinh: không được để trống.",
                "Ngày sinh: không phải là ngày hợp lệ (năm-tháng-ngày, ví dụ 1990-01-31).",
                "Giới tính: không được để trống.",
                "Số định danh cá nhân: phải gồm đúng 12 chữ số.",
            ]
        );
    }
}
