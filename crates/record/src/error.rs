use serde::{Serialize, Serializer};

use crate::fields::RepresentationReason;
use crate::Lang;

/// A field of the enrollment form; nested fields (a parent's ID number, an address's commune) included.
///
/// [`Field::code`] is the UI's field id: a camelCase path such as `father.personalId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Họ, chữ đệm và tên khai sinh.
    BirthName,
    /// Tên gọi khác.
    OtherName,
    /// Số định danh cá nhân (12 digits).
    PersonalId,
    /// Số CMND cũ (9 digits).
    OldIdNumber,
    /// Ngày sinh.
    DateOfBirth,
    /// Giới tính.
    Sex,
    /// Nơi sinh.
    PlaceOfBirth,
    /// Nơi đăng ký khai sinh.
    BirthRegistrationPlace,
    /// Quê quán.
    Hometown,
    /// Dân tộc.
    Ethnicity,
    /// Tôn giáo.
    Religion,
    /// Quốc tịch.
    Nationality,
    /// Nhóm máu.
    BloodType,
    /// Tình trạng hôn nhân.
    MaritalStatus,
    /// Quan hệ với chủ hộ.
    HouseholdRelationship,
    /// Số điện thoại.
    Phone,
    /// Thư điện tử.
    Email,
    /// Nghề nghiệp.
    Occupation,
    /// A part of a relative's details.
    Relative(Relative, PersonPart),
    /// A part of an address.
    Residence(Residence, AddressPart),
    /// A part of the previous card.
    PreviousCard(CardPart),
    /// A part of the consent.
    Consent(ConsentPart),
    /// A part of the representative's details.
    Representative(RepresentativePart),
    /// Ảnh chân dung: the portrait.
    Face,
    /// Vân tay: the ten fingers, each captured or excused.
    Fingerprints,
}

/// Whose details: the relatives the population database records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relative {
    /// Cha.
    Father,
    /// Mẹ.
    Mother,
    /// Vợ / chồng.
    Spouse,
}

/// A part of a relative's details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonPart {
    /// Họ tên.
    Name,
    /// Số định danh cá nhân.
    PersonalId,
    /// Quốc tịch.
    Nationality,
}

/// Which residence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Residence {
    /// Nơi thường trú.
    Permanent,
    /// Nơi tạm trú.
    Temporary,
    /// Nơi ở hiện tại.
    Current,
}

/// A part of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressPart {
    /// Tỉnh / thành phố.
    Province,
    /// Xã / phường / đặc khu.
    Commune,
    /// Số nhà, đường, thôn, tổ.
    Street,
}

/// A part of the previous card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardPart {
    /// Số thẻ / CMND.
    Number,
    /// Ngày cấp.
    IssueDate,
    /// Nơi cấp.
    IssuePlace,
}

/// A part of the consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentPart {
    /// Who gave it.
    GivenBy,
    /// When.
    Time,
}

/// A part of the representative's details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepresentativePart {
    /// Họ tên.
    Name,
    /// Số định danh cá nhân.
    PersonalId,
    /// Quốc tịch.
    Nationality,
    /// Quan hệ với người được cấp.
    Relationship,
    /// Lý do đại diện.
    Reason,
}

impl Field {
    /// The field's name on the wire (matches the UI's field ids): `birthName`, `father.personalId`, ….
    pub fn code(self) -> &'static str {
        use AddressPart as A;
        use PersonPart as P;
        use RepresentativePart as R;
        match self {
            Field::BirthName => "birthName",
            Field::OtherName => "otherName",
            Field::PersonalId => "personalId",
            Field::OldIdNumber => "oldIdNumber",
            Field::DateOfBirth => "dateOfBirth",
            Field::Sex => "sex",
            Field::PlaceOfBirth => "placeOfBirth",
            Field::BirthRegistrationPlace => "birthRegistrationPlace",
            Field::Hometown => "hometown",
            Field::Ethnicity => "ethnicity",
            Field::Religion => "religion",
            Field::Nationality => "nationality",
            Field::BloodType => "bloodType",
            Field::MaritalStatus => "maritalStatus",
            Field::HouseholdRelationship => "householdRelationship",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Occupation => "occupation",
            Field::Relative(Relative::Father, P::Name) => "father.name",
            Field::Relative(Relative::Father, P::PersonalId) => "father.personalId",
            Field::Relative(Relative::Father, P::Nationality) => "father.nationality",
            Field::Relative(Relative::Mother, P::Name) => "mother.name",
            Field::Relative(Relative::Mother, P::PersonalId) => "mother.personalId",
            Field::Relative(Relative::Mother, P::Nationality) => "mother.nationality",
            Field::Relative(Relative::Spouse, P::Name) => "spouse.name",
            Field::Relative(Relative::Spouse, P::PersonalId) => "spouse.personalId",
            Field::Relative(Relative::Spouse, P::Nationality) => "spouse.nationality",
            Field::Residence(Residence::Permanent, A::Province) => "permanentResidence.province",
            Field::Residence(Residence::Permanent, A::Commune) => "permanentResidence.commune",
            Field::Residence(Residence::Permanent, A::Street) => "permanentResidence.street",
            Field::Residence(Residence::Temporary, A::Province) => "temporaryResidence.province",
            Field::Residence(Residence::Temporary, A::Commune) => "temporaryResidence.commune",
            Field::Residence(Residence::Temporary, A::Street) => "temporaryResidence.street",
            Field::Residence(Residence::Current, A::Province) => "currentResidence.province",
            Field::Residence(Residence::Current, A::Commune) => "currentResidence.commune",
            Field::Residence(Residence::Current, A::Street) => "currentResidence.street",
            Field::PreviousCard(CardPart::Number) => "previousCard.number",
            Field::PreviousCard(CardPart::IssueDate) => "previousCard.issueDate",
            Field::PreviousCard(CardPart::IssuePlace) => "previousCard.issuePlace",
            Field::Consent(ConsentPart::GivenBy) => "consent.givenBy",
            Field::Consent(ConsentPart::Time) => "consent.time",
            Field::Representative(R::Name) => "representative.name",
            Field::Representative(R::PersonalId) => "representative.personalId",
            Field::Representative(R::Nationality) => "representative.nationality",
            Field::Representative(R::Relationship) => "representative.relationship",
            Field::Representative(R::Reason) => "representative.reason",
            Field::Face => "biometrics.face",
            Field::Fingerprints => "biometrics.fingers",
        }
    }

    /// The field's label as printed on the capture sheet; nested fields read "Cha – Số định danh cá nhân".
    pub fn label(self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        let pick = |v: &'static str, e: &'static str| if vi { v } else { e };
        let own = |s: &str, part: &str| format!("{s} – {part}");
        let person_part = |p: PersonPart| match p {
            PersonPart::Name => pick("Họ, chữ đệm và tên", "Name"),
            PersonPart::PersonalId => pick("Số định danh cá nhân", "Personal ID number"),
            PersonPart::Nationality => pick("Quốc tịch", "Nationality"),
        };
        match self {
            Field::BirthName => pick("Họ, chữ đệm và tên khai sinh", "Birth name").into(),
            Field::OtherName => pick("Tên gọi khác", "Other name").into(),
            Field::PersonalId => pick("Số định danh cá nhân", "Personal ID number").into(),
            Field::OldIdNumber => pick("Số CMND cũ", "Old ID card (CMND) number").into(),
            Field::DateOfBirth => pick("Ngày sinh", "Date of birth").into(),
            Field::Sex => pick("Giới tính", "Sex").into(),
            Field::PlaceOfBirth => pick("Nơi sinh", "Place of birth").into(),
            Field::BirthRegistrationPlace => {
                pick("Nơi đăng ký khai sinh", "Birth registration place").into()
            }
            Field::Hometown => pick("Quê quán", "Hometown").into(),
            Field::Ethnicity => pick("Dân tộc", "Ethnicity").into(),
            Field::Religion => pick("Tôn giáo", "Religion").into(),
            Field::Nationality => pick("Quốc tịch", "Nationality").into(),
            Field::BloodType => pick("Nhóm máu", "Blood type").into(),
            Field::MaritalStatus => pick("Tình trạng hôn nhân", "Marital status").into(),
            Field::HouseholdRelationship => {
                pick("Quan hệ với chủ hộ", "Relationship to household head").into()
            }
            Field::Phone => pick("Số điện thoại", "Phone").into(),
            Field::Email => pick("Thư điện tử", "E-mail").into(),
            Field::Occupation => pick("Nghề nghiệp", "Occupation").into(),
            Field::Relative(who, part) => {
                let who = match who {
                    Relative::Father => pick("Cha", "Father"),
                    Relative::Mother => pick("Mẹ", "Mother"),
                    Relative::Spouse => pick("Vợ/chồng", "Spouse"),
                };
                own(who, person_part(part))
            }
            Field::Residence(which, part) => {
                let which = match which {
                    Residence::Permanent => pick("Nơi thường trú", "Permanent residence"),
                    Residence::Temporary => pick("Nơi tạm trú", "Temporary residence"),
                    Residence::Current => pick("Nơi ở hiện tại", "Current residence"),
                };
                let part = match part {
                    AddressPart::Province => pick("Tỉnh/thành phố", "Province"),
                    AddressPart::Commune => pick("Xã/phường/đặc khu", "Commune"),
                    AddressPart::Street => pick("Số nhà, đường, thôn", "Street"),
                };
                own(which, part)
            }
            Field::PreviousCard(part) => {
                let part = match part {
                    CardPart::Number => pick("Số", "Number"),
                    CardPart::IssueDate => pick("Ngày cấp", "Issue date"),
                    CardPart::IssuePlace => pick("Nơi cấp", "Issue place"),
                };
                own(pick("Thẻ/CMND đã cấp", "Previous card"), part)
            }
            Field::Consent(part) => {
                let part = match part {
                    ConsentPart::GivenBy => pick("Người đồng ý", "Given by"),
                    ConsentPart::Time => pick("Thời điểm", "Time"),
                };
                own(pick("Đồng ý", "Consent"), part)
            }
            Field::Face => pick("Ảnh chân dung", "Portrait").into(),
            Field::Fingerprints => pick("Vân tay", "Fingerprints").into(),
            Field::Representative(part) => {
                let part = match part {
                    RepresentativePart::Name => person_part(PersonPart::Name),
                    RepresentativePart::PersonalId => person_part(PersonPart::PersonalId),
                    RepresentativePart::Nationality => person_part(PersonPart::Nationality),
                    RepresentativePart::Relationship => pick("Quan hệ", "Relationship"),
                    RepresentativePart::Reason => pick("Lý do", "Reason"),
                };
                own(pick("Người đại diện", "Representative"), part)
            }
        }
    }
}

impl Serialize for Field {
    // On the wire a field is its UI id, nested paths included.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Which reference list a code was looked up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeList {
    /// Ethnic groups (QĐ 121-TCTK/PPCĐ).
    Ethnicity,
    /// Religions (QĐ 1019/QĐ-TCTK).
    Religion,
    /// Countries (ISO 3166-1 alpha-3).
    Country,
    /// The 34 current provinces.
    Province,
    /// The 3,321 current communes.
    Commune,
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
    /// Free text holds control characters.
    ControlCharacters,
    /// Not a calendar date in the form YYYY, YYYY-MM or YYYY-MM-DD (or YYYY-MM-DD where the whole date is needed).
    InvalidDate,
    /// Not an RFC 3339 date and time.
    InvalidDateTime,
    /// A date after today.
    DateInFuture,
    /// A date before 1900.
    DateTooEarly,
    /// A date before the date of birth.
    DateBeforeBirth,
    /// Sex is neither male nor female.
    InvalidSex,
    /// The ID number is not exactly 12 ASCII digits.
    NotTwelveDigits,
    /// The old ID card (CMND) number is not exactly 9 ASCII digits.
    NotNineDigits,
    /// A previous card number is neither 9 nor 12 ASCII digits.
    InvalidCardNumber,
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
    /// Not a Vietnamese phone number (0 + 9 digits mobile, 02 + 9 digits landline, or the +84 form).
    InvalidPhone,
    /// Not an e-mail address.
    InvalidEmail,
    /// Not one of A, B, AB, O (with Rh + or −) or "unknown".
    InvalidBloodType,
    /// Not one of the marital statuses.
    InvalidMaritalStatus,
    /// Not one of the reasons a representative acts.
    InvalidRepresentationReason,
    /// Not "subject" nor "representative".
    InvalidConsentGiver,
    /// The code is not in the reference list.
    UnknownCode {
        /// Which list.
        list: CodeList,
        /// The code read.
        code: String,
    },
    /// The commune is not in the province given.
    CommuneNotInProvince {
        /// The commune code.
        commune: String,
        /// The province code given.
        province: String,
    },
    /// A representative must be named because of the person's age or capacity.
    RepresentativeRequired {
        /// Why.
        reason: RepresentationReason,
    },
    /// Consent given by a representative, but no representative is named.
    ConsentWithoutRepresentative,
    /// Biometrics of a child under 6, who must not have any taken.
    BiometricsUnderSix,
    /// Fewer than ten fingers are accounted for (captured, or excused with a reason).
    FingersIncomplete {
        /// How many are.
        accounted: usize,
    },
}

impl Rule {
    /// A stable machine-readable name of the rule.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::TooLong { .. } => "tooLong",
            Rule::NameCharacters => "nameCharacters",
            Rule::ControlCharacters => "controlCharacters",
            Rule::InvalidDate => "invalidDate",
            Rule::InvalidDateTime => "invalidDateTime",
            Rule::DateInFuture => "dateInFuture",
            Rule::DateTooEarly => "dateTooEarly",
            Rule::DateBeforeBirth => "dateBeforeBirth",
            Rule::InvalidSex => "invalidSex",
            Rule::NotTwelveDigits => "notTwelveDigits",
            Rule::NotNineDigits => "notNineDigits",
            Rule::InvalidCardNumber => "invalidCardNumber",
            Rule::UnknownProvinceCode { .. } => "unknownProvinceCode",
            Rule::BirthYearMismatch { .. } => "birthYearMismatch",
            Rule::SexMismatch { .. } => "sexMismatch",
            Rule::InvalidPhone => "invalidPhone",
            Rule::InvalidEmail => "invalidEmail",
            Rule::InvalidBloodType => "invalidBloodType",
            Rule::InvalidMaritalStatus => "invalidMaritalStatus",
            Rule::InvalidRepresentationReason => "invalidRepresentationReason",
            Rule::InvalidConsentGiver => "invalidConsentGiver",
            Rule::UnknownCode { .. } => "unknownCode",
            Rule::CommuneNotInProvince { .. } => "communeNotInProvince",
            Rule::RepresentativeRequired { .. } => "representativeRequired",
            Rule::ConsentWithoutRepresentative => "consentWithoutRepresentative",
            Rule::BiometricsUnderSix => "biometricsUnderSix",
            Rule::FingersIncomplete { .. } => "fingersIncomplete",
        }
    }

    /// What the rule says, in `lang`, after the field's label.
    fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        let s = |v: &str, e: &str| if vi { v.to_owned() } else { e.to_owned() };
        match self {
            Rule::Required => s("không được để trống.", "is required."),
            Rule::TooLong { max } if vi => format!("không được dài quá {max} ký tự."),
            Rule::TooLong { max } => format!("must be at most {max} characters."),
            Rule::NameCharacters => s(
                "chỉ được gồm chữ cái, dấu cách, dấu nháy (') và dấu gạch nối (-).",
                "may only contain letters, spaces, apostrophes (') and hyphens (-).",
            ),
            Rule::ControlCharacters => s(
                "chứa ký tự điều khiển không in được.",
                "contains unprintable control characters.",
            ),
            Rule::InvalidDate => s(
                "không phải là ngày hợp lệ (năm-tháng-ngày, ví dụ 1990-01-31; ngày sinh có thể chỉ có năm 1945 hoặc năm-tháng 1945-08).",
                "is not a valid date (year-month-day, e.g. 1990-01-31; a date of birth may be just a year, 1945, or year-month, 1945-08).",
            ),
            Rule::InvalidDateTime => s(
                "không phải là thời điểm hợp lệ (ví dụ 2026-11-28T09:30:00+07:00).",
                "is not a valid time (e.g. 2026-11-28T09:30:00+07:00).",
            ),
            Rule::DateInFuture => s("không được sau ngày hôm nay.", "cannot be after today."),
            Rule::DateTooEarly => s("không được trước năm 1900.", "cannot be before 1900."),
            Rule::DateBeforeBirth => s("không được trước ngày sinh.", "cannot be before the date of birth."),
            Rule::InvalidSex => s("phải chọn Nam hoặc Nữ.", "must be male or female."),
            Rule::NotTwelveDigits => s("phải gồm đúng 12 chữ số.", "must be exactly 12 digits."),
            Rule::NotNineDigits => s("phải gồm đúng 9 chữ số.", "must be exactly 9 digits."),
            Rule::InvalidCardNumber => s("phải gồm 9 hoặc 12 chữ số.", "must be 9 or 12 digits."),
            Rule::UnknownProvinceCode { code } if vi => format!(
                "3 chữ số đầu ({code}) không phải mã tỉnh nơi đăng ký khai sinh hay mã quốc gia."
            ),
            Rule::UnknownProvinceCode { code } => format!(
                "the first 3 digits ({code}) are not a birth-registration province or country code."
            ),
            Rule::BirthYearMismatch { id_year, dob_year } if vi => format!(
                "mã thế kỷ và năm sinh trong số ({id_year}) không khớp với năm sinh {dob_year}."
            ),
            Rule::BirthYearMismatch { id_year, dob_year } => format!(
                "the century digit and year digits give {id_year}, but the date of birth is in {dob_year}."
            ),
            Rule::SexMismatch { id_sex } if vi => format!(
                "mã giới tính trong số là {}, không khớp với giới tính đã chọn.",
                id_sex.label(lang)
            ),
            Rule::SexMismatch { id_sex } => format!(
                "the century/sex digit says {}, which does not match the sex chosen.",
                id_sex.label(lang)
            ),
            Rule::InvalidPhone => s(
                "không phải số điện thoại Việt Nam (10 chữ số bắt đầu bằng 0, số cố định 11 chữ số bắt đầu bằng 02, hoặc dạng +84).",
                "is not a Vietnamese phone number (10 digits starting with 0, an 11-digit landline starting with 02, or the +84 form).",
            ),
            Rule::InvalidEmail => s(
                "không phải địa chỉ thư điện tử (ví dụ ten@vi-du.vn).",
                "is not an e-mail address (e.g. name@example.vn).",
            ),
            Rule::InvalidBloodType => s(
                "phải là A, B, AB hoặc O (có thể kèm Rh + hoặc −), hoặc \"chưa rõ\".",
                "must be A, B, AB or O (optionally with Rh + or −), or \"unknown\".",
            ),
            Rule::InvalidMaritalStatus => s(
                "phải là chưa kết hôn, đã kết hôn, ly hôn hoặc góa.",
                "must be single, married, divorced or widowed.",
            ),
            Rule::InvalidRepresentationReason => s(
                "phải là người chưa thành niên, mất năng lực hành vi dân sự, khó khăn trong nhận thức hoặc hạn chế năng lực hành vi dân sự.",
                "must be minor, lacks legal capacity, cognitive difficulty or restricted capacity.",
            ),
            Rule::InvalidConsentGiver => s(
                "phải là người được cấp hoặc người đại diện.",
                "must be the subject or the representative.",
            ),
            Rule::UnknownCode { list, code } => {
                let list = match (list, vi) {
                    (CodeList::Ethnicity, true) => "dân tộc",
                    (CodeList::Ethnicity, false) => "ethnic group",
                    (CodeList::Religion, true) => "tôn giáo",
                    (CodeList::Religion, false) => "religion",
                    (CodeList::Country, true) => "quốc gia (ISO 3166, ví dụ VNM)",
                    (CodeList::Country, false) => "country (ISO 3166 alpha-3, e.g. VNM)",
                    (CodeList::Province, true) => "tỉnh/thành phố",
                    (CodeList::Province, false) => "province",
                    (CodeList::Commune, true) => "xã/phường/đặc khu",
                    (CodeList::Commune, false) => "commune",
                };
                if vi {
                    format!("mã {code} không có trong danh mục {list}.")
                } else {
                    format!("{code} is not a {list} code.")
                }
            }
            Rule::CommuneNotInProvince { commune, province } if vi => {
                format!("xã/phường {commune} không thuộc tỉnh/thành phố {province}.")
            }
            Rule::CommuneNotInProvince { commune, province } => {
                format!("commune {commune} is not in province {province}.")
            }
            Rule::RepresentativeRequired { reason } => match (reason, vi) {
                (RepresentationReason::Minor, true) => {
                    "bắt buộc vì người được cấp chưa đủ 14 tuổi.".to_owned()
                }
                (RepresentationReason::Minor, false) => {
                    "is required: the person is under 14.".to_owned()
                }
                (_, true) => {
                    "bắt buộc vì người được cấp mất hoặc hạn chế năng lực hành vi dân sự.".to_owned()
                }
                (_, false) => "is required: the person lacks legal capacity.".to_owned(),
            },
            Rule::ConsentWithoutRepresentative => s(
                "người đại diện đồng ý nhưng chưa ghi thông tin người đại diện.",
                "says the representative consented, but no representative is named.",
            ),
            Rule::BiometricsUnderSix => s(
                "không được thu nhận vì người được cấp chưa đủ 6 tuổi.",
                "must not be taken: the person is under 6.",
            ),
            Rule::FingersIncomplete { accounted } if vi => format!(
                "phải đủ 10 ngón, mỗi ngón đã thu nhận hoặc ghi lý do không thu nhận được; mới có {accounted}."
            ),
            Rule::FingersIncomplete { accounted } => format!(
                "needs all 10 fingers, each captured or excused with a reason; {accounted} are."
            ),
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

    /// The same rule, reported on another field (a relative's ID number checked with the subject's rules).
    pub fn on(self, field: Field) -> FieldError {
        FieldError { field, ..self }
    }

    /// The message an operator reads: the field's label, then the rule, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        format!("{}: {}", self.field.label(lang), self.rule.message(lang))
    }
}
