use serde::Serialize;

use crate::Lang;

/// A field of the enrollment form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    /// Họ, chữ đệm và tên khai sinh.
    BirthName,
    /// Ngày sinh.
    DateOfBirth,
    /// Giới tính.
    Sex,
    /// Số định danh cá nhân (12 digits).
    PersonalId,
}

impl Field {
    /// The field's name on the wire (matches the UI's field ids).
    pub fn code(self) -> &'static str {
        match self {
            Field::BirthName => "birthName",
            Field::DateOfBirth => "dateOfBirth",
            Field::Sex => "sex",
            Field::PersonalId => "personalId",
        }
    }

    /// The field's label as printed on the capture sheet.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Field::BirthName, Lang::Vi) => "Họ, chữ đệm và tên khai sinh",
            (Field::BirthName, Lang::En) => "Birth name",
            (Field::DateOfBirth, Lang::Vi) => "Ngày sinh",
            (Field::DateOfBirth, Lang::En) => "Date of birth",
            (Field::Sex, Lang::Vi) => "Giới tính",
            (Field::Sex, Lang::En) => "Sex",
            (Field::PersonalId, Lang::Vi) => "Số định danh cá nhân",
            (Field::PersonalId, Lang::En) => "Personal ID number",
        }
    }
}

/// A rule a field value broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The field is empty.
    Required,
    /// The value is longer than `max` characters.
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// A name holds something other than letters, spaces, apostrophes and hyphens.
    NameCharacters,
    /// Not a calendar date in the form YYYY-MM-DD.
    InvalidDate,
    /// A date of birth after today.
    DateInFuture,
    /// A date of birth before 1900.
    DateTooEarly,
    /// Sex is neither male nor female.
    InvalidSex,
    /// The ID number is not exactly 12 ASCII digits.
    NotTwelveDigits,
    /// The first three digits are neither a legacy province code nor a country code.
    UnknownProvinceCode {
        /// The three digits read.
        code: String,
    },
    /// The century/sex digit and the two year digits give another year than the date of birth.
    BirthYearMismatch {
        /// The year the ID number encodes.
        id_year: i32,
        /// The year of the date of birth.
        dob_year: i32,
    },
    /// The century/sex digit gives the other sex.
    SexMismatch {
        /// The sex the ID number encodes.
        id_sex: crate::Sex,
    },
}

impl Rule {
    /// A stable machine-readable name of the rule.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::TooLong { .. } => "tooLong",
            Rule::NameCharacters => "nameCharacters",
            Rule::InvalidDate => "invalidDate",
            Rule::DateInFuture => "dateInFuture",
            Rule::DateTooEarly => "dateTooEarly",
            Rule::InvalidSex => "invalidSex",
            Rule::NotTwelveDigits => "notTwelveDigits",
            Rule::UnknownProvinceCode { .. } => "unknownProvinceCode",
            Rule::BirthYearMismatch { .. } => "birthYearMismatch",
            Rule::SexMismatch { .. } => "sexMismatch",
        }
    }
}

/// One broken rule on one field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", field.code(), rule.code())]
pub struct FieldError {
    /// Which field.
    pub field: Field,
    /// Which rule.
    pub rule: Rule,
}

impl FieldError {
    /// Builds an error.
    pub fn new(field: Field, rule: Rule) -> FieldError {
        FieldError { field, rule }
    }

    /// The message an operator reads: the field's label, then the rule, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let label = self.field.label(lang);
        let rule = match (&self.rule, lang) {
            (Rule::Required, Lang::Vi) => "không được để trống.".to_owned(),
            (Rule::Required, Lang::En) => "is required.".to_owned(),
            (Rule::TooLong { max }, Lang::Vi) => format!("không được dài quá {max} ký tự."),
            (Rule::TooLong { max }, Lang::En) => format!("must be at most {max} characters."),
            (Rule::NameCharacters, Lang::Vi) => {
                "chỉ được gồm chữ cái, dấu cách, dấu nháy (') và dấu gạch nối (-).".to_owned()
            }
            (Rule::NameCharacters, Lang::En) => {
                "may only contain letters, spaces, apostrophes (') and hyphens (-).".to_owned()
            }
            (Rule::InvalidDate, Lang::Vi) => {
                "không phải là ngày hợp lệ (năm-tháng-ngày, ví dụ 1990-01-31).".to_owned()
            }
            (Rule::InvalidDate, Lang::En) => {
                "is not a valid date (year-month-day, e.g. 1990-01-31).".to_owned()
            }
            (Rule::DateInFuture, Lang::Vi) => "không được sau ngày hôm nay.".to_owned(),
            (Rule::DateInFuture, Lang::En) => "cannot be after today.".to_owned(),
            (Rule::DateTooEarly, Lang::Vi) => "không được trước năm 1900.".to_owned(),
            (Rule::DateTooEarly, Lang::En) => "cannot be before 1900.".to_owned(),
            (Rule::InvalidSex, Lang::Vi) => "phải chọn Nam hoặc Nữ.".to_owned(),
            (Rule::InvalidSex, Lang::En) => "must be male or female.".to_owned(),
            (Rule::NotTwelveDigits, Lang::Vi) => "phải gồm đúng 12 chữ số.".to_owned(),
            (Rule::NotTwelveDigits, Lang::En) => "must be exactly 12 digits.".to_owned(),
            (Rule::UnknownProvinceCode { code }, Lang::Vi) => format!(
                "3 chữ số đầu ({code}) không phải mã tỉnh nơi đăng ký khai sinh hay mã quốc gia."
            ),
            (Rule::UnknownProvinceCode { code }, Lang::En) => format!(
                "the first 3 digits ({code}) are not a birth-registration province or country code."
            ),
            (Rule::BirthYearMismatch { id_year, dob_year }, Lang::Vi) => format!(
                "mã thế kỷ và năm sinh trong số ({id_year}) không khớp với năm sinh {dob_year}."
            ),
            (Rule::BirthYearMismatch { id_year, dob_year }, Lang::En) => format!(
                "the century digit and year digits give {id_year}, but the date of birth is in {dob_year}."
            ),
            (Rule::SexMismatch { id_sex }, Lang::Vi) => format!(
                "mã giới tính trong số là {}, không khớp với giới tính đã chọn.",
                id_sex.label(lang)
            ),
            (Rule::SexMismatch { id_sex }, Lang::En) => format!(
                "the century/sex digit says {}, which does not match the sex chosen.",
                id_sex.label(lang)
            ),
        };
        format!("{label}: {rule}")
    }
}
