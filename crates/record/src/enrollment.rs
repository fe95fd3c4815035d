use std::fmt;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::age::{BiometricRequirement, REPRESENTATIVE_BELOW_AGE};
use crate::error::RepresentativePart as RepPart;
use crate::error::{AddressPart, CardPart, ConsentPart, PersonPart, Relative, Residence};
use crate::fields::{
    self, given, Address, BloodType, CardNumber, Cmnd, ConsentGiver, Email, MaritalStatus,
    PersonName, Phone, RepresentationReason, Text, MAX_SHORT_TEXT_CHARS, MAX_TEXT_CHARS,
};
use crate::reference::{CountryCode, EthnicGroupCode, ReligionCode};
use crate::{BirthName, Field, FieldError, PartialDate, PersonalId, Rule, Sex};

/// The nationality a form starts with.
const VIETNAM: &str = "VNM";

fn vietnam() -> String {
    VIETNAM.to_owned()
}

/// An enrollment as typed: every field a string, possibly empty or wrong.
///
/// This is what a draft holds and what travels inside a bundle; [`ValidRecord`]
/// is what it becomes once every rule holds. Empty strings mean "not given". Fields added after
/// the first four default when missing, so drafts and bundles of the 4-field form still read.
///
/// Its `Debug` names the fields that are filled and shows no value (personal data), e.g.
/// `EnrollmentInput { filled: [birth_name, personal_id, …], .. }`; so do the `Debug`s of every
/// other type here that carries a person's data (the parts of the input, [`ValidRecord`] and
/// its parts). A test that needs to see what differs compares the fields themselves.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrollmentInput {
    /// Họ, chữ đệm và tên khai sinh.
    pub birth_name: String,
    /// Tên gọi khác.
    #[serde(default)]
    pub other_name: String,
    /// Số định danh cá nhân: twelve digits, or whatever was typed.
    pub personal_id: String,
    /// Số CMND cũ: nine digits.
    #[serde(default)]
    pub old_id_number: String,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// "male", "female" or empty.
    pub sex: String,
    /// Nơi sinh (free text: places of birth may be units that no longer exist).
    #[serde(default)]
    pub place_of_birth: String,
    /// Nơi đăng ký khai sinh (free text, as on the birth certificate).
    #[serde(default)]
    pub birth_registration_place: String,
    /// Quê quán (free text).
    #[serde(default)]
    pub hometown: String,
    /// Dân tộc: a two-digit code of the ethnic-group list.
    #[serde(default)]
    pub ethnicity: String,
    /// Tôn giáo: a two-digit code of the religion list, `00` for none.
    #[serde(default)]
    pub religion: String,
    /// Quốc tịch: ISO 3166-1 alpha-3; `VNM` when missing.
    #[serde(default = "vietnam")]
    pub nationality: String,
    /// Nhóm máu: `A`, `B`, `AB`, `O`, optionally with `+` or `-`, or `unknown`.
    #[serde(default)]
    pub blood_type: String,
    /// Cha.
    #[serde(default)]
    pub father: PersonInput,
    /// Mẹ.
    #[serde(default)]
    pub mother: PersonInput,
    /// Vợ / chồng.
    #[serde(default)]
    pub spouse: PersonInput,
    /// Nơi thường trú.
    #[serde(default)]
    pub permanent_residence: AddressInput,
    /// Nơi tạm trú.
    #[serde(default)]
    pub temporary_residence: AddressInput,
    /// Nơi ở hiện tại.
    #[serde(default)]
    pub current_residence: AddressInput,
    /// Tình trạng hôn nhân: `single`, `married`, `divorced`, `widowed`.
    #[serde(default)]
    pub marital_status: String,
    /// Quan hệ với chủ hộ (free text, e.g. "Chủ hộ", "Con").
    #[serde(default)]
    pub household_relationship: String,
    /// Số điện thoại.
    #[serde(default)]
    pub phone: String,
    /// Thư điện tử.
    #[serde(default)]
    pub email: String,
    /// Nghề nghiệp (free text).
    #[serde(default)]
    pub occupation: String,
    /// The card or CMND issued before.
    #[serde(default)]
    pub previous_card: PreviousCardInput,
    /// The person has lost legal capacity (mất năng lực hành vi dân sự): a representative acts.
    #[serde(default)]
    pub lacks_legal_capacity: bool,
    /// Who acts for a person under 14 or without legal capacity.
    #[serde(default)]
    pub representative: RepresentativeInput,
    /// Consent to the processing of the person's data.
    #[serde(default)]
    pub consent: ConsentInput,
}

impl Default for EnrollmentInput {
    fn default() -> EnrollmentInput {
        EnrollmentInput {
            birth_name: String::new(),
            other_name: String::new(),
            personal_id: String::new(),
            old_id_number: String::new(),
            date_of_birth: String::new(),
            sex: String::new(),
            place_of_birth: String::new(),
            birth_registration_place: String::new(),
            hometown: String::new(),
            ethnicity: String::new(),
            religion: String::new(),
            nationality: vietnam(),
            blood_type: String::new(),
            father: PersonInput::default(),
            mother: PersonInput::default(),
            spouse: PersonInput::default(),
            permanent_residence: AddressInput::default(),
            temporary_residence: AddressInput::default(),
            current_residence: AddressInput::default(),
            marital_status: String::new(),
            household_relationship: String::new(),
            phone: String::new(),
            email: String::new(),
            occupation: String::new(),
            previous_card: PreviousCardInput::default(),
            lacks_legal_capacity: false,
            representative: RepresentativeInput::default(),
            consent: ConsentInput::default(),
        }
    }
}

/// A relative as typed: all empty means not given.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PersonInput {
    /// Họ, chữ đệm và tên.
    pub name: String,
    /// Số định danh cá nhân.
    pub personal_id: String,
    /// Quốc tịch, ISO 3166-1 alpha-3.
    pub nationality: String,
}

/// An address as typed: current province and commune codes and the street text.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AddressInput {
    /// Three-digit current province code.
    pub province: String,
    /// Five-digit commune code.
    pub commune: String,
    /// House number, street, village, hamlet.
    pub street: String,
}

/// The previous card as typed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PreviousCardInput {
    /// 9 or 12 digits.
    pub number: String,
    /// `YYYY-MM-DD`.
    pub issue_date: String,
    /// Free text.
    pub issue_place: String,
}

/// The representative as typed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RepresentativeInput {
    /// Họ, chữ đệm và tên.
    pub name: String,
    /// Số định danh cá nhân.
    pub personal_id: String,
    /// Quốc tịch, ISO 3166-1 alpha-3.
    pub nationality: String,
    /// Quan hệ với người được cấp (free text, e.g. "Mẹ", "Người giám hộ").
    pub relationship: String,
    /// `minor`, `lacksLegalCapacity`, `cognitiveDifficulty` or `restrictedCapacity`.
    pub reason: String,
}

/// The consent as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ConsentInput {
    /// `subject` or `representative`; empty when not (yet) given.
    pub given_by: String,
    /// RFC 3339, e.g. `2026-11-28T09:30:00+07:00`.
    pub time: String,
}

/// A relative on the record.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonRef {
    /// Name.
    pub name: PersonName,
    /// ID number, shape and prefix checked (their date of birth is not known here).
    pub personal_id: Option<PersonalId>,
    /// Nationality.
    pub nationality: Option<CountryCode>,
}

/// The person who acts for someone under 14 or without legal capacity.
#[derive(Clone, PartialEq, Eq)]
pub struct Representative {
    /// Name.
    pub name: PersonName,
    /// Relationship to the person enrolled.
    pub relationship: Text,
    /// ID number, shape and prefix checked.
    pub personal_id: Option<PersonalId>,
    /// Nationality.
    pub nationality: Option<CountryCode>,
    /// Why they act, when stated.
    pub reason: Option<RepresentationReason>,
}

/// The card or CMND issued before.
#[derive(Clone, PartialEq, Eq)]
pub struct PreviousCard {
    /// Its number.
    pub number: CardNumber,
    /// When it was issued.
    pub issue_date: Option<Date>,
    /// Where.
    pub issue_place: Option<Text>,
}

/// Consent to the processing of the person's data, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// By whom; [`ConsentGiver::Representative`] only when a representative is on the record.
    pub given_by: ConsentGiver,
    /// When, not after the day of validation.
    pub time: OffsetDateTime,
}

/// Whether the person can act for themself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegalCapacity {
    /// The usual case.
    Full,
    /// Mất năng lực hành vi dân sự: a representative acts.
    Lacking,
}

/// An enrollment record that obeys every rule. Only [`ValidRecord::validate`] makes one.
#[derive(Clone, PartialEq, Eq)]
pub struct ValidRecord {
    birth_name: BirthName,
    other_name: Option<PersonName>,
    personal_id: PersonalId,
    old_id_number: Option<Cmnd>,
    date_of_birth: PartialDate,
    sex: Sex,
    place_of_birth: Option<Text>,
    birth_registration_place: Option<Text>,
    hometown: Option<Text>,
    ethnicity: Option<EthnicGroupCode>,
    religion: Option<ReligionCode>,
    nationality: Option<CountryCode>,
    blood_type: Option<BloodType>,
    father: Option<PersonRef>,
    mother: Option<PersonRef>,
    spouse: Option<PersonRef>,
    permanent_residence: Option<Address>,
    temporary_residence: Option<Address>,
    current_residence: Option<Address>,
    marital_status: Option<MaritalStatus>,
    household_relationship: Option<Text>,
    phone: Option<Phone>,
    email: Option<Email>,
    occupation: Option<Text>,
    previous_card: Option<PreviousCard>,
    legal_capacity: LegalCapacity,
    representative: Option<Representative>,
    consent: Option<Consent>,
}

/// Collects the errors of many fields while keeping the values that parsed.
struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn one<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.errors.push(e)).ok()
    }

    fn many<T>(&mut self, r: Result<T, Vec<FieldError>>) -> Option<T> {
        r.map_err(|es| self.errors.extend(es)).ok()
    }

    /// An optional field: `None` when empty, else `parse`'s verdict; `Err(())` when it broke a rule.
    fn optional<T>(
        &mut self,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Result<Option<T>, ()> {
        match given(raw) {
            None => Ok(None),
            Some(raw) => parse(raw).map(Some).map_err(|e| self.errors.push(e)),
        }
    }

    fn text(&mut self, raw: &str, field: Field, max: usize) -> Result<Option<Text>, ()> {
        self.optional(raw, |r| Text::parse(r, field, max))
    }

    fn person(&mut self, p: &PersonInput, who: Relative) -> Result<Option<PersonRef>, ()> {
        let field = |part| Field::Relative(who, part);
        if [&p.name, &p.personal_id, &p.nationality]
            .iter()
            .all(|s| given(s).is_none())
        {
            return Ok(None);
        }
        let name = self.one(PersonName::parse(&p.name, field(PersonPart::Name)));
        let id = self.optional(&p.personal_id, |r| {
            PersonalId::parse(r).map_err(|e| e.on(field(PersonPart::PersonalId)))
        });
        let nationality = self.optional(&p.nationality, |r| {
            fields::country(r, field(PersonPart::Nationality))
        });
        match (name, id, nationality) {
            (Some(name), Ok(personal_id), Ok(nationality)) => Ok(Some(PersonRef {
                name,
                personal_id,
                nationality,
            })),
            _ => Err(()),
        }
    }

    fn address(&mut self, a: &AddressInput, which: Residence) -> Result<Option<Address>, ()> {
        if [&a.province, &a.commune, &a.street]
            .iter()
            .all(|s| given(s).is_none())
        {
            return Ok(None);
        }
        let parsed = Address::parse(&a.province, &a.commune, &a.street, |part: AddressPart| {
            Field::Residence(which, part)
        });
        self.many(parsed).map(Some).ok_or(())
    }
}

impl ValidRecord {
    /// Checks every field and the rules between fields; returns every broken rule, in form order.
    ///
    /// `today` bounds every date and gives the age; callers pass the local date.
    pub fn validate(input: &EnrollmentInput, today: Date) -> Result<ValidRecord, Vec<FieldError>> {
        let mut c = Checker { errors: Vec::new() };

        // The four fields of the card face come first, as on the form.
        let name = c.one(BirthName::parse(&input.birth_name));
        let dob = c.one(PartialDate::parse(
            &input.date_of_birth,
            Field::DateOfBirth,
            today,
        ));
        let sex = c.one(match input.sex.trim() {
            "" => Err(FieldError::new(Field::Sex, Rule::Required)),
            s => Sex::parse(s).ok_or_else(|| FieldError::new(Field::Sex, Rule::InvalidSex)),
        });
        let id = c.one(PersonalId::parse(&input.personal_id));
        // The ID number's century/sex digit and year must agree with the other fields;
        // checked only when those fields are themselves valid, so each error has one cause.
        // A partial date of birth still has its year, which is all the number encodes.
        if let (Some(id), Some(dob)) = (&id, &dob) {
            if id.birth_year() != dob.year() {
                c.errors.push(FieldError::new(
                    Field::PersonalId,
                    Rule::BirthYearMismatch {
                        id_year: id.birth_year(),
                        dob_year: dob.year(),
                    },
                ));
            }
        }
        if let (Some(id), Some(sex)) = (&id, &sex) {
            if id.sex() != *sex {
                c.errors.push(FieldError::new(
                    Field::PersonalId,
                    Rule::SexMismatch { id_sex: id.sex() },
                ));
            }
        }

        let other_name = c.optional(&input.other_name, |r| {
            PersonName::parse(r, Field::OtherName)
        });
        let old_id_number =
            c.optional(&input.old_id_number, |r| Cmnd::parse(r, Field::OldIdNumber));
        let place_of_birth = c.text(&input.place_of_birth, Field::PlaceOfBirth, MAX_TEXT_CHARS);
        let birth_registration_place = c.text(
            &input.birth_registration_place,
            Field::BirthRegistrationPlace,
            MAX_TEXT_CHARS,
        );
        let hometown = c.text(&input.hometown, Field::Hometown, MAX_TEXT_CHARS);
        let ethnicity = c.optional(&input.ethnicity, fields::ethnicity);
        let religion = c.optional(&input.religion, fields::religion);
        let nationality = c.optional(&input.nationality, |r| {
            fields::country(r, Field::Nationality)
        });
        let blood_type = c.optional(&input.blood_type, BloodType::parse);
        let father = c.person(&input.father, Relative::Father);
        let mother = c.person(&input.mother, Relative::Mother);
        let spouse = c.person(&input.spouse, Relative::Spouse);
        let permanent_residence = c.address(&input.permanent_residence, Residence::Permanent);
        let temporary_residence = c.address(&input.temporary_residence, Residence::Temporary);
        let current_residence = c.address(&input.current_residence, Residence::Current);
        let marital_status = c.optional(&input.marital_status, |r| {
            MaritalStatus::parse(r, Field::MaritalStatus)
        });
        let household_relationship = c.text(
            &input.household_relationship,
            Field::HouseholdRelationship,
            MAX_SHORT_TEXT_CHARS,
        );
        let phone = c.optional(&input.phone, Phone::parse);
        let email = c.optional(&input.email, Email::parse);
        let occupation = c.text(&input.occupation, Field::Occupation, MAX_TEXT_CHARS);
        let previous_card = previous_card(&mut c, &input.previous_card, dob, today);
        let legal_capacity = if input.lacks_legal_capacity {
            LegalCapacity::Lacking
        } else {
            LegalCapacity::Full
        };
        // With no valid date of birth the age is unknown: the date's own error is reported,
        // and the representative rule waits until the date is fixed.
        let needs_representative = match (legal_capacity, dob) {
            (LegalCapacity::Lacking, _) => Some(RepresentationReason::LacksLegalCapacity),
            (_, Some(d)) if d.age_on(today) < REPRESENTATIVE_BELOW_AGE => {
                Some(RepresentationReason::Minor)
            }
            _ => None,
        };
        let representative = representative(&mut c, &input.representative, needs_representative);
        let consent = consent(&mut c, &input.consent, &representative, today);

        match (
            name,
            dob,
            sex,
            id,
            other_name,
            old_id_number,
            place_of_birth,
            birth_registration_place,
            hometown,
            ethnicity,
            religion,
            nationality,
            blood_type,
            father,
            mother,
            spouse,
            permanent_residence,
            temporary_residence,
            current_residence,
            marital_status,
            household_relationship,
            phone,
            email,
            occupation,
            previous_card,
            representative,
            consent,
        ) {
            (
                Some(birth_name),
                Some(date_of_birth),
                Some(sex),
                Some(personal_id),
                Ok(other_name),
                Ok(old_id_number),
                Ok(place_of_birth),
                Ok(birth_registration_place),
                Ok(hometown),
                Ok(ethnicity),
                Ok(religion),
                Ok(nationality),
                Ok(blood_type),
                Ok(father),
                Ok(mother),
                Ok(spouse),
                Ok(permanent_residence),
                Ok(temporary_residence),
                Ok(current_residence),
                Ok(marital_status),
                Ok(household_relationship),
                Ok(phone),
                Ok(email),
                Ok(occupation),
                Ok(previous_card),
                Ok(representative),
                Ok(consent),
            ) if c.errors.is_empty() => Ok(ValidRecord {
                birth_name,
                other_name,
                personal_id,
                old_id_number,
                date_of_birth,
                sex,
                place_of_birth,
                birth_registration_place,
                hometown,
                ethnicity,
                religion,
                nationality,
                blood_type,
                father,
                mother,
                spouse,
                permanent_residence,
                temporary_residence,
                current_residence,
                marital_status,
                household_relationship,
                phone,
                email,
                occupation,
                previous_card,
                legal_capacity,
                representative,
                consent,
            }),
            _ => Err(c.errors),
        }
    }

    /// The birth name.
    pub fn birth_name(&self) -> &BirthName {
        &self.birth_name
    }

    /// Another name the person is known by.
    pub fn other_name(&self) -> Option<&PersonName> {
        self.other_name.as_ref()
    }

    /// The date of birth, possibly only a year or a month.
    pub fn date_of_birth(&self) -> PartialDate {
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

    /// The old 9-digit CMND number.
    pub fn old_id_number(&self) -> Option<&Cmnd> {
        self.old_id_number.as_ref()
    }

    /// Place of birth.
    pub fn place_of_birth(&self) -> Option<&Text> {
        self.place_of_birth.as_ref()
    }

    /// Birth registration place.
    pub fn birth_registration_place(&self) -> Option<&Text> {
        self.birth_registration_place.as_ref()
    }

    /// Hometown (quê quán).
    pub fn hometown(&self) -> Option<&Text> {
        self.hometown.as_ref()
    }

    /// Ethnic group.
    pub fn ethnicity(&self) -> Option<EthnicGroupCode> {
        self.ethnicity
    }

    /// Religion.
    pub fn religion(&self) -> Option<ReligionCode> {
        self.religion
    }

    /// Nationality.
    pub fn nationality(&self) -> Option<CountryCode> {
        self.nationality
    }

    /// Blood type.
    pub fn blood_type(&self) -> Option<BloodType> {
        self.blood_type
    }

    /// Father.
    pub fn father(&self) -> Option<&PersonRef> {
        self.father.as_ref()
    }

    /// Mother.
    pub fn mother(&self) -> Option<&PersonRef> {
        self.mother.as_ref()
    }

    /// Spouse.
    pub fn spouse(&self) -> Option<&PersonRef> {
        self.spouse.as_ref()
    }

    /// Permanent residence.
    pub fn permanent_residence(&self) -> Option<&Address> {
        self.permanent_residence.as_ref()
    }

    /// Temporary residence.
    pub fn temporary_residence(&self) -> Option<&Address> {
        self.temporary_residence.as_ref()
    }

    /// Current residence.
    pub fn current_residence(&self) -> Option<&Address> {
        self.current_residence.as_ref()
    }

    /// Marital status.
    pub fn marital_status(&self) -> Option<MaritalStatus> {
        self.marital_status
    }

    /// Relationship to the household head.
    pub fn household_relationship(&self) -> Option<&Text> {
        self.household_relationship.as_ref()
    }

    /// Phone, normalised to `+84…`.
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }

    /// E-mail.
    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    /// Occupation.
    pub fn occupation(&self) -> Option<&Text> {
        self.occupation.as_ref()
    }

    /// The card issued before.
    pub fn previous_card(&self) -> Option<&PreviousCard> {
        self.previous_card.as_ref()
    }

    /// Whether the person has legal capacity.
    pub fn legal_capacity(&self) -> LegalCapacity {
        self.legal_capacity
    }

    /// The representative; always present under 14 and without legal capacity.
    pub fn representative(&self) -> Option<&Representative> {
        self.representative.as_ref()
    }

    /// The consent, when given.
    pub fn consent(&self) -> Option<&Consent> {
        self.consent.as_ref()
    }

    /// Age in whole years on `today` (the youngest possible with a partial date of birth).
    pub fn age_on(&self, today: Date) -> i32 {
        self.date_of_birth.age_on(today)
    }

    /// Which biometrics may and must be collected on `today`: the bundle and the kit enforce it.
    pub fn biometric_requirement(&self, today: Date) -> BiometricRequirement {
        BiometricRequirement::for_age(self.age_on(today))
    }

    /// The record in its normalised typed form, as it is sealed into a bundle.
    pub fn to_input(&self) -> EnrollmentInput {
        fn text(t: &Option<Text>) -> String {
            t.as_ref()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default()
        }
        fn code(c: Option<impl ToString>) -> String {
            c.map(|c| c.to_string()).unwrap_or_default()
        }
        fn person(p: &Option<PersonRef>) -> PersonInput {
            p.as_ref()
                .map(|p| PersonInput {
                    name: p.name.as_str().to_owned(),
                    personal_id: p
                        .personal_id
                        .as_ref()
                        .map(|i| i.as_str().to_owned())
                        .unwrap_or_default(),
                    nationality: code(p.nationality),
                })
                .unwrap_or_default()
        }
        fn address(a: &Option<Address>) -> AddressInput {
            a.as_ref()
                .map(|a| AddressInput {
                    province: a.province().to_string(),
                    commune: a.commune().to_string(),
                    street: a
                        .street()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                })
                .unwrap_or_default()
        }
        EnrollmentInput {
            birth_name: self.birth_name.as_str().to_owned(),
            other_name: self
                .other_name
                .as_ref()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default(),
            personal_id: self.personal_id.as_str().to_owned(),
            old_id_number: self
                .old_id_number
                .as_ref()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default(),
            date_of_birth: self.date_of_birth.to_iso(),
            sex: self.sex.code().to_owned(),
            place_of_birth: text(&self.place_of_birth),
            birth_registration_place: text(&self.birth_registration_place),
            hometown: text(&self.hometown),
            ethnicity: code(self.ethnicity),
            religion: code(self.religion),
            nationality: code(self.nationality),
            blood_type: self.blood_type.map(BloodType::code).unwrap_or_default(),
            father: person(&self.father),
            mother: person(&self.mother),
            spouse: person(&self.spouse),
            permanent_residence: address(&self.permanent_residence),
            temporary_residence: address(&self.temporary_residence),
            current_residence: address(&self.current_residence),
            marital_status: self
                .marital_status
                .map(|m| m.code().to_owned())
                .unwrap_or_default(),
            household_relationship: text(&self.household_relationship),
            phone: self
                .phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            email: self
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            occupation: text(&self.occupation),
            previous_card: self
                .previous_card
                .as_ref()
                .map(|p| PreviousCardInput {
                    number: p.number.as_str().to_owned(),
                    issue_date: p
                        .issue_date
                        .map(|d| PartialDate::Full(d).to_iso())
                        .unwrap_or_default(),
                    issue_place: text(&p.issue_place),
                })
                .unwrap_or_default(),
            lacks_legal_capacity: self.legal_capacity == LegalCapacity::Lacking,
            representative: self
                .representative
                .as_ref()
                .map(|r| RepresentativeInput {
                    name: r.name.as_str().to_owned(),
                    personal_id: r
                        .personal_id
                        .as_ref()
                        .map(|i| i.as_str().to_owned())
                        .unwrap_or_default(),
                    nationality: code(r.nationality),
                    relationship: r.relationship.as_str().to_owned(),
                    reason: r.reason.map(|x| x.code().to_owned()).unwrap_or_default(),
                })
                .unwrap_or_default(),
            consent: self
                .consent
                .as_ref()
                .map(|c| ConsentInput {
                    given_by: c.given_by.code().to_owned(),
                    // A time that parsed as RFC 3339 formats as RFC 3339 (its year has 4 digits).
                    time: c.time.format(&Rfc3339).unwrap_or_default(),
                })
                .unwrap_or_default(),
        }
    }
}

fn previous_card(
    c: &mut Checker,
    p: &PreviousCardInput,
    dob: Option<PartialDate>,
    today: Date,
) -> Result<Option<PreviousCard>, ()> {
    let field = Field::PreviousCard;
    if [&p.number, &p.issue_date, &p.issue_place]
        .iter()
        .all(|s| given(s).is_none())
    {
        return Ok(None);
    }
    let number = c.one(match given(&p.number) {
        None => Err(FieldError::new(field(CardPart::Number), Rule::Required)),
        Some(raw) => CardNumber::parse(raw, field(CardPart::Number)),
    });
    let issue_date = c.optional(&p.issue_date, |raw| {
        let date = PartialDate::parse_full(raw, field(CardPart::IssueDate), today)?;
        // Compared with the earliest possible birthday, so a partial date of birth never errs.
        match dob {
            Some(dob) if date < dob.first_day() => Err(FieldError::new(
                field(CardPart::IssueDate),
                Rule::DateBeforeBirth,
            )),
            _ => Ok(date),
        }
    });
    let issue_place = c.text(&p.issue_place, field(CardPart::IssuePlace), MAX_TEXT_CHARS);
    match (number, issue_date, issue_place) {
        (Some(number), Ok(issue_date), Ok(issue_place)) => Ok(Some(PreviousCard {
            number,
            issue_date,
            issue_place,
        })),
        _ => Err(()),
    }
}

fn representative(
    c: &mut Checker,
    r: &RepresentativeInput,
    needed: Option<RepresentationReason>,
) -> Result<Option<Representative>, ()> {
    let field = Field::Representative;
    let any_given = [
        &r.name,
        &r.personal_id,
        &r.nationality,
        &r.relationship,
        &r.reason,
    ]
    .iter()
    .any(|s| given(s).is_some());
    if !any_given && needed.is_none() {
        return Ok(None);
    }
    // Missing parts are "required" in general, and say why when age or capacity asks for them.
    let missing = |part| match needed {
        Some(reason) => FieldError::new(field(part), Rule::RepresentativeRequired { reason }),
        None => FieldError::new(field(part), Rule::Required),
    };
    let name = c.one(match given(&r.name) {
        None => Err(missing(RepPart::Name)),
        Some(raw) => PersonName::parse(raw, field(RepPart::Name)),
    });
    let personal_id = c.optional(&r.personal_id, |raw| {
        PersonalId::parse(raw).map_err(|e| e.on(field(RepPart::PersonalId)))
    });
    let nationality = c.optional(&r.nationality, |raw| {
        fields::country(raw, field(RepPart::Nationality))
    });
    let relationship = c.one(match given(&r.relationship) {
        None => Err(missing(RepPart::Relationship)),
        Some(raw) => Text::parse(raw, field(RepPart::Relationship), MAX_SHORT_TEXT_CHARS),
    });
    let reason = c.optional(&r.reason, |raw| {
        RepresentationReason::parse(raw, field(RepPart::Reason))
    });
    match (name, personal_id, nationality, relationship, reason) {
        (Some(name), Ok(personal_id), Ok(nationality), Some(relationship), Ok(reason)) => {
            Ok(Some(Representative {
                name,
                relationship,
                personal_id,
                nationality,
                reason,
            }))
        }
        _ => Err(()),
    }
}

fn consent(
    c: &mut Checker,
    input: &ConsentInput,
    representative: &Result<Option<Representative>, ()>,
    today: Date,
) -> Result<Option<Consent>, ()> {
    let field = Field::Consent;
    if given(&input.given_by).is_none() && given(&input.time).is_none() {
        return Ok(None);
    }
    let given_by = c.one(match given(&input.given_by) {
        None => Err(FieldError::new(field(ConsentPart::GivenBy), Rule::Required)),
        Some(raw) => ConsentGiver::parse(raw, field(ConsentPart::GivenBy)).and_then(|g| {
            // A broken representative is reported on its own fields; only a missing one here.
            if g == ConsentGiver::Representative && matches!(representative, Ok(None)) {
                Err(FieldError::new(
                    field(ConsentPart::GivenBy),
                    Rule::ConsentWithoutRepresentative,
                ))
            } else {
                Ok(g)
            }
        }),
    });
    let time = c.one(match given(&input.time) {
        None => Err(FieldError::new(field(ConsentPart::Time), Rule::Required)),
        Some(raw) => OffsetDateTime::parse(raw, &Rfc3339)
            .map_err(|_| FieldError::new(field(ConsentPart::Time), Rule::InvalidDateTime))
            .and_then(|t| {
                if t.date() > today {
                    Err(FieldError::new(
                        field(ConsentPart::Time),
                        Rule::DateInFuture,
                    ))
                } else {
                    Ok(t)
                }
            }),
    });
    match (given_by, time) {
        (Some(given_by), Some(time)) => Ok(Some(Consent { given_by, time })),
        _ => Err(()),
    }
}

// ---------------------------------------------------------------------------------------
// Debug without personal data

/// The one rule for `Debug` of a type that carries a person's data (issue 4): it names the
/// fields that are filled — `EnrollmentInput { filled: [birth_name, father.name, …], .. }` —
/// and never shows a value, not even a length or a code (a sex, a blood type, a religion
/// are personal data too). So no name, number, address, date or code of a person reaches a
/// panic message, a `{:?}` log line or a failed `assert_eq!`. A test that needs to see what
/// differs compares the fields themselves.
///
/// Every hand-written `Debug` below builds one of these; `crates/record/tests/redaction.rs`
/// fails if any of them shows a value.
#[derive(Default)]
struct Redacted(Vec<String>);

impl Redacted {
    /// `name` is filled when `value` holds more than blanks (as [`given`] decides).
    fn text(self, name: &str, value: &str) -> Redacted {
        self.flag(name, given(value).is_some())
    }

    /// `name` is filled when `filled` (an option that is `Some`, a box that is ticked).
    fn flag(mut self, name: &str, filled: bool) -> Redacted {
        if filled {
            self.0.push(name.to_owned());
        }
        self
    }

    /// The filled fields of a part of the record, named `prefix.field`.
    fn part(mut self, prefix: &str, part: Redacted) -> Redacted {
        self.0
            .extend(part.0.into_iter().map(|name| format!("{prefix}.{name}")));
        self
    }

    fn finish(&self, f: &mut fmt::Formatter<'_>, type_name: &str) -> fmt::Result {
        struct Names<'a>(&'a [String]);
        impl fmt::Debug for Names<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                struct Bare<'a>(&'a str);
                impl fmt::Debug for Bare<'_> {
                    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(self.0)
                    }
                }
                f.debug_list()
                    .entries(self.0.iter().map(|n| Bare(n)))
                    .finish()
            }
        }
        f.debug_struct(type_name)
            .field("filled", &Names(&self.0))
            .finish_non_exhaustive()
    }
}

impl EnrollmentInput {
    fn redacted(&self) -> Redacted {
        Redacted::default()
            .text("birth_name", &self.birth_name)
            .text("other_name", &self.other_name)
            .text("personal_id", &self.personal_id)
            .text("old_id_number", &self.old_id_number)
            .text("date_of_birth", &self.date_of_birth)
            .text("sex", &self.sex)
            .text("place_of_birth", &self.place_of_birth)
            .text("birth_registration_place", &self.birth_registration_place)
            .text("hometown", &self.hometown)
            .text("ethnicity", &self.ethnicity)
            .text("religion", &self.religion)
            .text("nationality", &self.nationality)
            .text("blood_type", &self.blood_type)
            .part("father", self.father.redacted())
            .part("mother", self.mother.redacted())
            .part("spouse", self.spouse.redacted())
            .part("permanent_residence", self.permanent_residence.redacted())
            .part("temporary_residence", self.temporary_residence.redacted())
            .part("current_residence", self.current_residence.redacted())
            .text("marital_status", &self.marital_status)
            .text("household_relationship", &self.household_relationship)
            .text("phone", &self.phone)
            .text("email", &self.email)
            .text("occupation", &self.occupation)
            .part("previous_card", self.previous_card.redacted())
            .flag("lacks_legal_capacity", self.lacks_legal_capacity)
            .part("representative", self.representative.redacted())
            .text("consent.given_by", &self.consent.given_by)
            .text("consent.time", &self.consent.time)
    }
}

impl PersonInput {
    fn redacted(&self) -> Redacted {
        Redacted::default()
            .text("name", &self.name)
            .text("personal_id", &self.personal_id)
            .text("nationality", &self.nationality)
    }
}

impl AddressInput {
    fn redacted(&self) -> Redacted {
        Redacted::default()
            .text("province", &self.province)
            .text("commune", &self.commune)
            .text("street", &self.street)
    }
}

impl PreviousCardInput {
    fn redacted(&self) -> Redacted {
        Redacted::default()
            .text("number", &self.number)
            .text("issue_date", &self.issue_date)
            .text("issue_place", &self.issue_place)
    }
}

impl RepresentativeInput {
    fn redacted(&self) -> Redacted {
        Redacted::default()
            .text("name", &self.name)
            .text("personal_id", &self.personal_id)
            .text("nationality", &self.nationality)
            .text("relationship", &self.relationship)
            .text("reason", &self.reason)
    }
}

impl PersonRef {
    fn redacted(&self) -> Redacted {
        Redacted::default()
            .flag("name", true)
            .flag("personal_id", self.personal_id.is_some())
            .flag("nationality", self.nationality.is_some())
    }
}

impl Representative {
    fn redacted(&self) -> Redacted {
        Redacted::default()
            .flag("name", true)
            .flag("relationship", true)
            .flag("personal_id", self.personal_id.is_some())
            .flag("nationality", self.nationality.is_some())
            .flag("reason", self.reason.is_some())
    }
}

impl PreviousCard {
    fn redacted(&self) -> Redacted {
        Redacted::default()
            .flag("number", true)
            .flag("issue_date", self.issue_date.is_some())
            .flag("issue_place", self.issue_place.is_some())
    }
}

impl ValidRecord {
    fn redacted(&self) -> Redacted {
        fn part<T>(r: Redacted, prefix: &str, p: &Option<T>, f: fn(&T) -> Redacted) -> Redacted {
            match p {
                Some(p) => r.part(prefix, f(p)),
                None => r,
            }
        }
        let r = Redacted::default()
            .flag("birth_name", true)
            .flag("other_name", self.other_name.is_some())
            .flag("personal_id", true)
            .flag("old_id_number", self.old_id_number.is_some())
            .flag("date_of_birth", true)
            .flag("sex", true)
            .flag("place_of_birth", self.place_of_birth.is_some())
            .flag(
                "birth_registration_place",
                self.birth_registration_place.is_some(),
            )
            .flag("hometown", self.hometown.is_some())
            .flag("ethnicity", self.ethnicity.is_some())
            .flag("religion", self.religion.is_some())
            .flag("nationality", self.nationality.is_some())
            .flag("blood_type", self.blood_type.is_some());
        let r = part(r, "father", &self.father, PersonRef::redacted);
        let r = part(r, "mother", &self.mother, PersonRef::redacted);
        let r = part(r, "spouse", &self.spouse, PersonRef::redacted);
        let r = r
            .flag("permanent_residence", self.permanent_residence.is_some())
            .flag("temporary_residence", self.temporary_residence.is_some())
            .flag("current_residence", self.current_residence.is_some())
            .flag("marital_status", self.marital_status.is_some())
            .flag(
                "household_relationship",
                self.household_relationship.is_some(),
            )
            .flag("phone", self.phone.is_some())
            .flag("email", self.email.is_some())
            .flag("occupation", self.occupation.is_some());
        let r = part(
            r,
            "previous_card",
            &self.previous_card,
            PreviousCard::redacted,
        );
        let r = r.flag(
            "lacks_legal_capacity",
            self.legal_capacity == LegalCapacity::Lacking,
        );
        let r = part(
            r,
            "representative",
            &self.representative,
            Representative::redacted,
        );
        r.flag("consent", self.consent.is_some())
    }
}

/// `Debug` through [`Redacted`]: which fields are filled, never a value.
macro_rules! debug_redacted {
    ($($t:ident),* $(,)?) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.redacted().finish(f, stringify!($t))
            }
        }
    )*};
}

debug_redacted!(
    EnrollmentInput,
    PersonInput,
    AddressInput,
    PreviousCardInput,
    RepresentativeInput,
    PersonRef,
    Representative,
    PreviousCard,
    ValidRecord,
);

#[cfg(test)]
mod tests;
