//! Every rule of the record, each with a case that fails when the rule is removed.

use time::macros::date;
use time::Date;

use super::*;
use crate::Lang;

const TODAY: Date = date!(2026 - 11 - 28);

/// An adult with only the four fields the first form had: the end-to-end test enrolls this.
fn adult() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: "Nguyễn Văn An".into(),
        date_of_birth: "1990-05-17".into(),
        sex: "male".into(),
        personal_id: "001090123456".into(),
        ..Default::default()
    }
}

/// A child of 10 (born 2016), with a representative.
fn child() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: "Lê Thị Hoa".into(),
        date_of_birth: "2016-03-01".into(),
        sex: "female".into(),
        personal_id: "079316000001".into(),
        representative: RepresentativeInput {
            name: "Lê Văn Bình".into(),
            relationship: "Cha".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Every field filled, all valid.
fn everything() -> EnrollmentInput {
    EnrollmentInput {
        other_name: "Tí".into(),
        old_id_number: "012345678".into(),
        place_of_birth: "Bệnh viện Bạch Mai, Hà Nội".into(),
        birth_registration_place: "Phường Ba Đình, Thành phố Hà Nội".into(),
        hometown: "Xã Hóa Châu, Thành phố Huế".into(),
        ethnicity: "01".into(),
        religion: "00".into(),
        nationality: "VNM".into(),
        blood_type: "O+".into(),
        father: PersonInput {
            name: "Nguyễn Văn Bố".into(),
            personal_id: "001060123456".into(),
            nationality: "VNM".into(),
        },
        mother: PersonInput {
            name: "Trần Thị Mẹ".into(),
            ..Default::default()
        },
        spouse: PersonInput {
            name: "H'Hen Niê".into(),
            nationality: "VNM".into(),
            ..Default::default()
        },
        permanent_residence: AddressInput {
            province: "001".into(),
            commune: "00004".into(),
            street: "Số 1 phố Hoàng Diệu".into(),
        },
        current_residence: AddressInput {
            province: "046".into(),
            commune: "20014".into(),
            street: String::new(),
        },
        marital_status: "married".into(),
        household_relationship: "Chủ hộ".into(),
        phone: "+84 912 345 678".into(),
        email: "an.nguyen@Example.VN".into(),
        occupation: "Giáo viên".into(),
        previous_card: PreviousCardInput {
            number: "012345678".into(),
            issue_date: "2008-06-01".into(),
            issue_place: "Công an Thành phố Hà Nội".into(),
        },
        consent: ConsentInput {
            given_by: "subject".into(),
            time: "2026-11-28T09:30:00+07:00".into(),
        },
        ..adult()
    }
}

/// Validates `base` changed by `edit` and compares the broken rules as `(field, rule)` codes.
fn check(
    base: EnrollmentInput,
    edit: impl FnOnce(&mut EnrollmentInput),
    expected: &[(&str, &str)],
) {
    let mut input = base;
    edit(&mut input);
    let got: Vec<(&str, &str)> = match ValidRecord::validate(&input, TODAY) {
        Ok(_) => vec![],
        Err(es) => es.iter().map(|e| (e.field.code(), e.rule.code())).collect(),
    };
    assert_eq!(got, expected, "{input:#?}");
}

#[test]
fn a_consistent_record_is_valid_and_normalised() {
    let r = ValidRecord::validate(
        &EnrollmentInput {
            birth_name: "  Nguye\u{302}\u{303}n  Văn An".into(),
            personal_id: "001 090 123456".into(),
            ..adult()
        },
        TODAY,
    )
    .unwrap();
    assert_eq!(r.to_input(), adult());
}

#[test]
fn every_field_filled_is_valid_and_normalised() {
    let r = ValidRecord::validate(&everything(), TODAY).unwrap();
    let out = r.to_input();
    assert_eq!(out.phone, "+84912345678");
    assert_eq!(out.email, "an.nguyen@example.vn");
    assert_eq!(out.current_residence.street, "");
    assert_eq!(
        r.current_residence().map(|a| a.commune().to_string()),
        Some("20014".into())
    );
    assert_eq!(out.blood_type, "O+");
    assert_eq!(out.consent.time, "2026-11-28T09:30:00+07:00");
    assert_eq!(ValidRecord::validate(&out, TODAY), Ok(r));
}

#[test]
fn every_required_field_is_reported_at_once() {
    check(
        EnrollmentInput::default(),
        |_| {},
        &[
            ("birthName", "required"),
            ("dateOfBirth", "required"),
            ("sex", "required"),
            ("personalId", "required"),
        ],
    );
}

#[test]
fn the_four_field_json_of_the_first_form_still_reads() {
    let json = r#"{"birthName":"Nguyễn Văn An","dateOfBirth":"1990-05-17","sex":"male","personalId":"001090123456"}"#;
    let input: EnrollmentInput = serde_json::from_str(json).unwrap();
    assert_eq!(input, adult());
    assert_eq!(input.nationality, "VNM");
    let unknown = r#"{"birthName":"","dateOfBirth":"","sex":"","personalId":"","hacker":1}"#;
    assert!(serde_json::from_str::<EnrollmentInput>(unknown).is_err());
}

#[test]
fn id_must_agree_with_date_of_birth_and_sex() {
    let hoa = || EnrollmentInput {
        birth_name: "Lê Thị Hoa".into(),
        date_of_birth: "2005-03-01".into(),
        sex: "female".into(),
        personal_id: "079305000001".into(),
        ..Default::default()
    };
    check(hoa(), |_| {}, &[]);
    check(
        hoa(),
        |i| i.personal_id = "079105000001".into(),
        &[("personalId", "birthYearMismatch")],
    );
    check(
        hoa(),
        |i| i.sex = "male".into(),
        &[("personalId", "sexMismatch")],
    );
    check(
        hoa(),
        |i| {
            i.date_of_birth = "1990-03-01".into();
            i.sex = "male".into();
        },
        &[
            ("personalId", "birthYearMismatch"),
            ("personalId", "sexMismatch"),
        ],
    );
    // A bad date of birth is reported once, not again as a mismatch.
    check(
        hoa(),
        |i| i.date_of_birth = "2005-02-30".into(),
        &[("dateOfBirth", "invalidDate")],
    );
    check(hoa(), |i| i.sex = "other".into(), &[("sex", "invalidSex")]);
    // With a partial date only the year is compared.
    check(hoa(), |i| i.date_of_birth = "2005".into(), &[]);
    check(hoa(), |i| i.date_of_birth = "2005-12".into(), &[]);
    check(
        hoa(),
        |i| i.date_of_birth = "2006".into(),
        &[("personalId", "birthYearMismatch")],
    );
}

#[test]
fn dates() {
    check(adult(), |i| i.date_of_birth = "1990".into(), &[]);
    check(
        adult(),
        |i| i.date_of_birth = "1990-13".into(),
        &[("dateOfBirth", "invalidDate")],
    );
    check(
        adult(),
        |i| i.date_of_birth = "1890".into(),
        &[("dateOfBirth", "dateTooEarly")],
    );
    check(
        everything(),
        |i| i.previous_card.issue_date = "2027-01-01".into(),
        &[("previousCard.issueDate", "dateInFuture")],
    );
    check(
        everything(),
        |i| i.previous_card.issue_date = "2008".into(),
        &[("previousCard.issueDate", "invalidDate")],
    );
    check(
        everything(),
        |i| i.previous_card.issue_date = "1989-01-01".into(),
        &[("previousCard.issueDate", "dateBeforeBirth")],
    );
    check(
        everything(),
        |i| i.previous_card.number = String::new(),
        &[("previousCard.number", "required")],
    );
    check(
        everything(),
        |i| i.previous_card.number = "001090123456".into(),
        &[],
    );
    check(
        everything(),
        |i| i.previous_card.number = "1234".into(),
        &[("previousCard.number", "invalidCardNumber")],
    );
}

#[test]
fn representatives_by_age_and_capacity() {
    check(child(), |_| {}, &[]);
    check(
        child(),
        |i| i.representative = RepresentativeInput::default(),
        &[
            ("representative.name", "representativeRequired"),
            ("representative.relationship", "representativeRequired"),
        ],
    );
    check(
        child(),
        |i| i.representative.relationship.clear(),
        &[("representative.relationship", "representativeRequired")],
    );
    check(
        child(),
        |i| i.representative.personal_id = "001090123456".into(),
        &[],
    );
    // The representative's ID gets the structure checks, not the agreement with the child's data.
    check(
        child(),
        |i| i.representative.personal_id = "003090123456".into(),
        &[("representative.personalId", "unknownProvinceCode")],
    );
    check(child(), |i| i.representative.reason = "minor".into(), &[]);
    check(
        child(),
        |i| i.representative.reason = "bored".into(),
        &[("representative.reason", "invalidRepresentationReason")],
    );
    check(
        child(),
        |i| i.representative.nationality = "XXX".into(),
        &[("representative.nationality", "unknownCode")],
    );
    // 14 on the day: no representative needed.
    check(
        adult(),
        |i| {
            i.date_of_birth = "2012-11-28".into();
            i.personal_id = "001212000001".into();
        },
        &[],
    );
    // A year-only date counts the youngest possible age: born "2012" may still be 13.
    check(
        adult(),
        |i| {
            i.date_of_birth = "2012".into();
            i.personal_id = "001212000001".into();
        },
        &[
            ("representative.name", "representativeRequired"),
            ("representative.relationship", "representativeRequired"),
        ],
    );
    check(
        adult(),
        |i| i.lacks_legal_capacity = true,
        &[
            ("representative.name", "representativeRequired"),
            ("representative.relationship", "representativeRequired"),
        ],
    );
    // An adult's representative, when given, must be complete.
    check(
        adult(),
        |i| i.representative.name = "Lê Văn Bình".into(),
        &[("representative.relationship", "required")],
    );
}

#[test]
fn biometric_requirement_follows_the_age() {
    let at = |dob: &str, id: &str| {
        let r = ValidRecord::validate(
            &EnrollmentInput {
                date_of_birth: dob.into(),
                personal_id: id.into(),
                ..child()
            },
            TODAY,
        )
        .unwrap();
        r.biometric_requirement(TODAY)
    };
    assert_eq!(at("2021-11-29", "079321000001"), BiometricRequirement::None);
    assert_eq!(
        at("2020-11-28", "079320000001"),
        BiometricRequirement::WithRepresentative
    );
    assert_eq!(
        at("2016-03-01", "079316000001"),
        BiometricRequirement::WithRepresentative
    );
    let adult = ValidRecord::validate(&adult(), TODAY).unwrap();
    assert_eq!(
        adult.biometric_requirement(TODAY),
        BiometricRequirement::Full
    );
}

#[test]
fn contact_and_closed_sets() {
    check(adult(), |i| i.phone = "0912345678".into(), &[]);
    check(adult(), |i| i.phone = "024 3825 1234".into(), &[]);
    check(
        adult(),
        |i| i.phone = "912345678".into(),
        &[("phone", "invalidPhone")],
    );
    check(
        adult(),
        |i| i.phone = "01234567890".into(),
        &[("phone", "invalidPhone")],
    );
    check(
        adult(),
        |i| i.email = "an@example".into(),
        &[("email", "invalidEmail")],
    );
    check(
        adult(),
        |i| i.email = "a@b@example.vn".into(),
        &[("email", "invalidEmail")],
    );
    check(
        adult(),
        |i| i.email = format!("{}@example.vn", "a".repeat(250)),
        &[("email", "tooLong")],
    );
    check(
        adult(),
        |i| i.old_id_number = "12345678".into(),
        &[("oldIdNumber", "notNineDigits")],
    );
    check(adult(), |i| i.blood_type = "AB-".into(), &[]);
    check(adult(), |i| i.blood_type = "unknown".into(), &[]);
    check(
        adult(),
        |i| i.blood_type = "C+".into(),
        &[("bloodType", "invalidBloodType")],
    );
    check(adult(), |i| i.marital_status = "widowed".into(), &[]);
    check(
        adult(),
        |i| i.marital_status = "complicated".into(),
        &[("maritalStatus", "invalidMaritalStatus")],
    );
}

#[test]
fn reference_codes() {
    check(
        adult(),
        |i| i.ethnicity = "99".into(),
        &[("ethnicity", "unknownCode")],
    );
    check(
        adult(),
        |i| i.religion = "1".into(),
        &[("religion", "unknownCode")],
    );
    check(
        adult(),
        |i| i.nationality = "vnm".into(),
        &[("nationality", "unknownCode")],
    );
    check(
        adult(),
        |i| i.nationality = "ZZZ".into(),
        &[("nationality", "unknownCode")],
    );
    check(adult(), |i| i.nationality = String::new(), &[]);
    check(
        everything(),
        |i| i.permanent_residence.province = "046".into(),
        &[("permanentResidence.commune", "communeNotInProvince")],
    );
    check(
        everything(),
        |i| i.permanent_residence.province = "003".into(),
        &[("permanentResidence.province", "unknownCode")],
    );
    check(
        everything(),
        |i| i.temporary_residence.street = "Thôn 3".into(),
        &[
            ("temporaryResidence.province", "required"),
            ("temporaryResidence.commune", "required"),
        ],
    );
    check(
        everything(),
        |i| i.current_residence.commune = "99999".into(),
        &[("currentResidence.commune", "unknownCode")],
    );
}

#[test]
fn related_persons() {
    check(
        everything(),
        |i| i.father.personal_id = "00106012345".into(),
        &[("father.personalId", "notTwelveDigits")],
    );
    check(everything(), |i| i.mother.name = String::new(), &[]);
    check(
        everything(),
        |i| {
            i.mother.name = String::new();
            i.mother.nationality = "VNM".into();
        },
        &[("mother.name", "required")],
    );
    check(
        everything(),
        |i| i.spouse.name = "X Æ A-12".into(),
        &[("spouse.name", "nameCharacters")],
    );
    check(
        everything(),
        |i| i.other_name = "Tí 2".into(),
        &[("otherName", "nameCharacters")],
    );
}

#[test]
fn consent() {
    check(
        everything(),
        |i| i.consent.time = "2026-11-29T00:30:00+07:00".into(),
        &[("consent.time", "dateInFuture")],
    );
    check(
        everything(),
        |i| i.consent.time = "yesterday".into(),
        &[("consent.time", "invalidDateTime")],
    );
    check(
        everything(),
        |i| i.consent.time = String::new(),
        &[("consent.time", "required")],
    );
    check(
        everything(),
        |i| i.consent.given_by = "neighbour".into(),
        &[("consent.givenBy", "invalidConsentGiver")],
    );
    check(
        everything(),
        |i| i.consent.given_by = "representative".into(),
        &[("consent.givenBy", "consentWithoutRepresentative")],
    );
    check(
        child(),
        |i| {
            i.consent = ConsentInput {
                given_by: "representative".into(),
                time: "2026-11-28T08:00:00Z".into(),
            }
        },
        &[],
    );
    // Consent is not mandatory (yet): a workflow policy decides that later.
    check(adult(), |i| i.consent = ConsentInput::default(), &[]);
}

#[test]
fn free_text_is_normalised_and_limited() {
    let r = ValidRecord::validate(
        &EnrollmentInput {
            occupation: "  Gia\u{301}o   viên ".into(),
            ..adult()
        },
        TODAY,
    )
    .unwrap();
    assert_eq!(r.occupation().map(Text::as_str), Some("Giáo viên"));
    check(
        adult(),
        |i| i.hometown = "a".repeat(201),
        &[("hometown", "tooLong")],
    );
    check(adult(), |i| i.hometown = "a".repeat(200), &[]);
    check(
        adult(),
        |i| i.household_relationship = "a".repeat(51),
        &[("householdRelationship", "tooLong")],
    );
    check(
        adult(),
        |i| i.place_of_birth = "Hà Nội\u{0}".into(),
        &[("placeOfBirth", "controlCharacters")],
    );
}

#[test]
fn messages_name_the_field_and_the_rule_in_both_languages() {
    let mut input = adult();
    input.date_of_birth = "2005-03-01".into();
    let errs = ValidRecord::validate(&input, TODAY).unwrap_err();
    assert_eq!(
        errs[0].message(Lang::Vi),
        "Số định danh cá nhân: mã thế kỷ và năm sinh trong số (1990) không khớp với năm sinh 2005."
    );
    assert_eq!(
        errs[0].message(Lang::En),
        "Personal ID number: the century digit and year digits give 1990, but the date of birth is in 2005."
    );
    let mut input = everything();
    input.father.personal_id = "1".into();
    input.permanent_residence.province = "046".into();
    let errs = ValidRecord::validate(&input, TODAY).unwrap_err();
    let vi: Vec<String> = errs.iter().map(|e| e.message(Lang::Vi)).collect();
    assert_eq!(
        vi,
        vec![
            "Cha – Số định danh cá nhân: phải gồm đúng 12 chữ số.",
            "Nơi thường trú – Xã/phường/đặc khu: xã/phường 00004 không thuộc tỉnh/thành phố 046.",
        ]
    );
    let en: Vec<String> = errs.iter().map(|e| e.message(Lang::En)).collect();
    assert_eq!(
        en,
        vec![
            "Father – Personal ID number: must be exactly 12 digits.",
            "Permanent residence – Commune: commune 00004 is not in province 046.",
        ]
    );
    let errs = ValidRecord::validate(&EnrollmentInput::default(), TODAY).unwrap_err();
    let vi: Vec<String> = errs.iter().map(|e| e.message(Lang::Vi)).collect();
    assert_eq!(vi[0], "Họ, chữ đệm và tên khai sinh: không được để trống.");
}

#[test]
fn every_field_code_is_distinct() {
    let mut codes: Vec<&str> = all_fields().iter().map(|f| f.code()).collect();
    let n = codes.len();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), n);
    // On the wire a field is its code, nested path included.
    let wire = serde_json::to_value(Field::Relative(Relative::Father, PersonPart::PersonalId));
    assert_eq!(wire.unwrap(), "father.personalId");
    for f in all_fields() {
        assert!(!f.label(Lang::Vi).is_empty() && !f.label(Lang::En).is_empty());
    }
}

/// Every field of the form, for tests that range over all of them.
pub(crate) fn all_fields() -> Vec<Field> {
    use crate::error::RepresentativePart as R;
    let mut all = vec![
        Field::BirthName,
        Field::OtherName,
        Field::PersonalId,
        Field::OldIdNumber,
        Field::DateOfBirth,
        Field::Sex,
        Field::PlaceOfBirth,
        Field::BirthRegistrationPlace,
        Field::Hometown,
        Field::Ethnicity,
        Field::Religion,
        Field::Nationality,
        Field::BloodType,
        Field::MaritalStatus,
        Field::HouseholdRelationship,
        Field::Phone,
        Field::Email,
        Field::Occupation,
    ];
    for who in [Relative::Father, Relative::Mother, Relative::Spouse] {
        for part in [
            PersonPart::Name,
            PersonPart::PersonalId,
            PersonPart::Nationality,
        ] {
            all.push(Field::Relative(who, part));
        }
    }
    for which in [
        Residence::Permanent,
        Residence::Temporary,
        Residence::Current,
    ] {
        for part in [
            AddressPart::Province,
            AddressPart::Commune,
            AddressPart::Street,
        ] {
            all.push(Field::Residence(which, part));
        }
    }
    for part in [CardPart::Number, CardPart::IssueDate, CardPart::IssuePlace] {
        all.push(Field::PreviousCard(part));
    }
    all.extend([ConsentPart::GivenBy, ConsentPart::Time].map(Field::Consent));
    all.extend(
        [
            R::Name,
            R::PersonalId,
            R::Nationality,
            R::Relationship,
            R::Reason,
        ]
        .map(Field::Representative),
    );
    all
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn text() -> BoxedStrategy<String> {
        prop_oneof![
            Just(String::new()),
            "[0-9 +]{0,14}",
            "[A-Za-z@.\\-+ ]{0,20}",
            ".{0,30}",
            Just("001".to_owned()),
            Just("00004".to_owned()),
            Just("VNM".to_owned()),
            Just("1990".to_owned()),
            Just("2016-03-01".to_owned()),
        ]
        .boxed()
    }

    /// Which strategy fills the optional fields.
    type Field_ = fn() -> BoxedStrategy<String>;

    /// Mostly empty: records that are often valid, to exercise the round trip.
    fn sparse() -> BoxedStrategy<String> {
        prop_oneof![20 => Just(String::new()), 1 => text()].boxed()
    }

    /// Mostly `valid`, sometimes anything.
    fn or_valid(valid: &'static str) -> BoxedStrategy<String> {
        prop_oneof![3 => Just(valid.to_owned()), 1 => text()].boxed()
    }

    fn person(f: Field_) -> impl Strategy<Value = PersonInput> {
        (f(), f(), f()).prop_map(|(name, personal_id, nationality)| PersonInput {
            name,
            personal_id,
            nationality,
        })
    }

    fn address(f: Field_) -> impl Strategy<Value = AddressInput> {
        (f(), f(), f()).prop_map(|(province, commune, street)| AddressInput {
            province,
            commune,
            street,
        })
    }

    /// Arbitrary records: the card-face fields mostly valid, every other field drawn from `f`.
    fn input(f: Field_) -> BoxedStrategy<EnrollmentInput> {
        let core = (
            or_valid("Nguyễn Văn An"),
            f(),
            or_valid("001090123456"),
            f(),
            or_valid("1990-05-17"),
            or_valid("male"),
            f(),
            f(),
            f(),
            f(),
        );
        let more = (
            f(),
            f(),
            f(),
            person(f),
            person(f),
            person(f),
            address(f),
            address(f),
            address(f),
        );
        let rest = (
            f(),
            f(),
            f(),
            f(),
            f(),
            (f(), f(), f()),
            any::<bool>(),
            (f(), f(), f(), f(), f()),
            (f(), f()),
        );
        (core, more, rest)
            .prop_map(|(c, m, r)| EnrollmentInput {
                birth_name: c.0,
                other_name: c.1,
                personal_id: c.2,
                old_id_number: c.3,
                date_of_birth: c.4,
                sex: c.5,
                place_of_birth: c.6,
                birth_registration_place: c.7,
                hometown: c.8,
                ethnicity: c.9,
                religion: m.0,
                nationality: m.1,
                blood_type: m.2,
                father: m.3,
                mother: m.4,
                spouse: m.5,
                permanent_residence: m.6,
                temporary_residence: m.7,
                current_residence: m.8,
                marital_status: r.0,
                household_relationship: r.1,
                phone: r.2,
                email: r.3,
                occupation: r.4,
                previous_card: PreviousCardInput {
                    number: r.5 .0,
                    issue_date: r.5 .1,
                    issue_place: r.5 .2,
                },
                lacks_legal_capacity: r.6,
                representative: RepresentativeInput {
                    name: r.7 .0,
                    personal_id: r.7 .1,
                    nationality: r.7 .2,
                    relationship: r.7 .3,
                    reason: r.7 .4,
                },
                consent: ConsentInput {
                    given_by: r.8 .0,
                    time: r.8 .1,
                },
            })
            .boxed()
    }

    proptest! {
        #[test]
        fn validate_never_panics_and_valid_records_round_trip(input in input(text)) {
            if let Ok(record) = ValidRecord::validate(&input, TODAY) {
                let again = record.to_input();
                prop_assert_eq!(super::schema::schema_problems(&again), Vec::<String>::new());
                prop_assert_eq!(ValidRecord::validate(&again, TODAY), Ok(record));
            }
        }

        #[test]
        fn sparse_records_round_trip(input in input(sparse)) {
            if let Ok(record) = ValidRecord::validate(&input, TODAY) {
                let again = record.to_input();
                prop_assert_eq!(super::schema::schema_problems(&again), Vec::<String>::new());
                prop_assert_eq!(ValidRecord::validate(&again, TODAY), Ok(record));
            }
        }

        #[test]
        fn round_trip_from_a_valid_base(occupation in ".{0,40}", phone in "(0|\\+84)[0-9 ]{8,12}") {
            let mut input = everything();
            input.occupation = occupation;
            input.phone = phone;
            if let Ok(record) = ValidRecord::validate(&input, TODAY) {
                let again = record.to_input();
                prop_assert_eq!(super::schema::schema_problems(&again), Vec::<String>::new());
                prop_assert_eq!(ValidRecord::validate(&again, TODAY), Ok(record));
            }
        }
    }
}

mod schema {
    use std::collections::BTreeSet;

    use serde_json::{Map, Value};

    use super::*;

    const SCHEMA: &str = include_str!("../../../../schema/record.schema.json");

    /// Every member path (`father.personalId`) of an object schema, `$ref`s followed.
    fn schema_paths(schema: &Value, node: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        let node = match node.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.trim_start_matches("#/$defs/");
                &schema["$defs"][name]
            }
            None => node,
        };
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let path = format!("{prefix}{k}");
                out.insert(path.clone());
                schema_paths(schema, v, &format!("{path}."), out);
            }
        }
    }

    fn value_paths(v: &Map<String, Value>, prefix: &str, out: &mut BTreeSet<String>) {
        for (k, v) in v {
            let path = format!("{prefix}{k}");
            out.insert(path.clone());
            if let Some(obj) = v.as_object() {
                value_paths(obj, &format!("{path}."), out);
            }
        }
    }

    #[test]
    fn the_json_schema_names_exactly_the_fields_of_enrollment_input() {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        let mut in_schema = BTreeSet::new();
        schema_paths(&schema, &schema, "", &mut in_schema);
        let wire = serde_json::to_value(EnrollmentInput::default()).unwrap();
        let mut in_type = BTreeSet::new();
        value_paths(wire.as_object().unwrap(), "", &mut in_type);
        assert_eq!(in_schema, in_type);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(required, ["birthName", "dateOfBirth", "sex", "personalId"]);
    }

    /// What in `value` breaks `node` of the schema (types, required, unknown members, enums,
    /// patterns, lengths): a small checker of the keywords the schema uses.
    fn problems(schema: &Value, node: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
        let node = match node.get("$ref").and_then(Value::as_str) {
            Some(r) => &schema["$defs"][r.trim_start_matches("#/$defs/")],
            None => node,
        };
        match (node["type"].as_str(), value) {
            (Some("object"), Value::Object(members)) => {
                for req in node["required"].as_array().into_iter().flatten() {
                    if let Some(req) = req.as_str() {
                        if !members.contains_key(req) {
                            out.push(format!("{path}{req}: missing"));
                        }
                    }
                }
                for (k, v) in members {
                    match node["properties"].get(k) {
                        Some(sub) => problems(schema, sub, v, &format!("{path}{k}."), out),
                        None => out.push(format!("{path}{k}: not in the schema")),
                    }
                }
            }
            (Some("boolean"), Value::Bool(_)) => {}
            (Some("string"), Value::String(s)) => {
                if let Some(values) = node["enum"].as_array() {
                    if !values.iter().any(|v| v == value) {
                        out.push(format!("{path} {s:?}: not in enum"));
                    }
                }
                if let Some(p) = node["pattern"].as_str() {
                    if !regex::Regex::new(p).unwrap().is_match(s) {
                        out.push(format!("{path} {s:?}: does not match {p}"));
                    }
                }
                let n = s.chars().count() as u64;
                if node["maxLength"].as_u64().is_some_and(|max| n > max) {
                    out.push(format!("{path} {s:?}: too long"));
                }
                if node["minLength"].as_u64().is_some_and(|min| n < min) {
                    out.push(format!("{path} {s:?}: too short"));
                }
            }
            (t, v) => out.push(format!("{path}: {v} is not {t:?}")),
        }
    }

    /// The schema's complaints about the normalised form of a valid record.
    pub(super) fn schema_problems(input: &EnrollmentInput) -> Vec<String> {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        let value = serde_json::to_value(input).unwrap();
        let mut out = Vec::new();
        problems(&schema, &schema, &value, "", &mut out);
        out
    }

    #[test]
    fn normalised_valid_records_obey_the_schema() {
        for input in [adult(), child(), everything()] {
            let record = ValidRecord::validate(&input, TODAY).unwrap();
            assert_eq!(schema_problems(&record.to_input()), Vec::<String>::new());
        }
        // The checker itself notices a broken record.
        let mut broken = adult();
        broken.phone = "0912345678".into();
        broken.blood_type = "C".into();
        assert_eq!(schema_problems(&broken).len(), 2);
    }

    #[test]
    fn every_field_code_is_a_path_of_the_schema() {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        let mut in_schema = BTreeSet::new();
        schema_paths(&schema, &schema, "", &mut in_schema);
        for f in all_fields() {
            assert!(in_schema.contains(f.code()), "{}", f.code());
        }
    }
}
