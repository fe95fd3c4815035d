//! The sample person of the redaction tests: every field of the form filled, all valid, so
//! both `EnrollmentInput` and `ValidRecord` carry each kind of personal data.
#![allow(dead_code)]

use ghidanh_record::{
    AddressInput, ConsentInput, EnrollmentInput, PersonInput, PreviousCardInput,
    RepresentativeInput,
};
use time::{Date, Month};

/// The day the sample is validated on.
pub fn today() -> Date {
    Date::from_calendar_date(2026, Month::November, 28).unwrap()
}

/// Every field filled, all valid (checked by a test).
pub fn person() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: "Nguyễn Thị Thuỳ Dương".into(),
        other_name: "Bé Mít".into(),
        personal_id: "079190012345".into(),
        old_id_number: "024681357".into(),
        date_of_birth: "1990-04-30".into(),
        sex: "female".into(),
        place_of_birth: "Bệnh viện Từ Dũ, Quận Một".into(),
        birth_registration_place: "Ủy ban Phường Bến Nghé".into(),
        hometown: "Xã Hóa Châu, Thành phố Huế".into(),
        ethnicity: "01".into(),
        religion: "00".into(),
        nationality: "VNM".into(),
        blood_type: "AB-".into(),
        father: PersonInput {
            name: "Nguyễn Văn Khải".into(),
            personal_id: "001060123456".into(),
            nationality: "VNM".into(),
        },
        mother: PersonInput {
            name: "Trần Thị Lụa".into(),
            personal_id: "001165654321".into(),
            nationality: "VNM".into(),
        },
        spouse: PersonInput {
            name: "H'Hen Niê".into(),
            personal_id: "001088777666".into(),
            nationality: "VNM".into(),
        },
        permanent_residence: AddressInput {
            province: "001".into(),
            commune: "00004".into(),
            street: "Số 17 ngõ Quỳnh Lôi".into(),
        },
        temporary_residence: AddressInput {
            province: "046".into(),
            commune: "20014".into(),
            street: "Kiệt 42 đường Chi Lăng".into(),
        },
        current_residence: AddressInput {
            province: "001".into(),
            commune: "00004".into(),
            street: "Căn hộ 1203 tòa Sông Hồng".into(),
        },
        marital_status: "married".into(),
        household_relationship: "Con dâu".into(),
        phone: "0912 345 678".into(),
        email: "thuy.duong.nguyen@example.vn".into(),
        occupation: "Kỹ sư cầu đường".into(),
        previous_card: PreviousCardInput {
            number: "024681357".into(),
            issue_date: "2008-06-01".into(),
            issue_place: "Công an Thành phố Hồ Chí Minh".into(),
        },
        lacks_legal_capacity: true,
        representative: RepresentativeInput {
            name: "Phạm Quang Giám".into(),
            personal_id: "001075246813".into(),
            nationality: "VNM".into(),
            relationship: "Người giám hộ".into(),
            reason: "lacksLegalCapacity".into(),
        },
        consent: ConsentInput {
            given_by: "subject".into(),
            time: "2026-11-28T09:30:00+07:00".into(),
        },
    }
}

/// Every string of `input`, and every word of at least four letters in them.
pub fn personal_strings(input: &EnrollmentInput) -> Vec<String> {
    fn leaves(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Object(m) => m.values().for_each(|v| leaves(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    leaves(&serde_json::to_value(input).unwrap(), &mut out);
    let words: Vec<String> = out
        .iter()
        .flat_map(|s| s.split(|c: char| !c.is_alphanumeric() && c != '\''))
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_owned)
        .collect();
    out.extend(words);
    out.retain(|s| !s.is_empty());
    out
}

/// `text` (a `Debug` output, a panic message, a log) holds no value of `input`: none of its
/// strings or their words.
pub fn assert_no_personal_data(what: &str, text: &str, input: &EnrollmentInput) {
    for s in personal_strings(input) {
        assert!(!text.contains(&s), "{what} shows {s:?}:\n{text}");
    }
}

/// `text` holds no digit at all: no ID number, phone, date or code, not even in part.
pub fn assert_no_digits(what: &str, text: &str) {
    assert!(
        !text.chars().any(|c| c.is_ascii_digit()),
        "{what} shows a digit:\n{text}"
    );
}
