//! Issue 4: no personal data in `Debug` output. A person's name, ID number, address, phone,
//! dates or codes never appear in `{:?}` of the input, the valid record or any part of them
//! (the panic side: `redaction_panic.rs`). Each test fails if a hand-written `Debug` in
//! `enrollment.rs` is replaced by `#[derive(Debug)]` again.

mod redaction_sample;

use ghidanh_record::{EnrollmentInput, ValidRecord};
use redaction_sample::{assert_no_digits, assert_no_personal_data, person, today};

#[test]
fn the_sample_fills_every_field_and_is_valid() {
    let input = person();
    // Every string of the form is filled: a field added later without a sample value fails
    // here, so the checks below keep covering every field.
    fn empty_leaves(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if s.trim().is_empty() => out.push(path.to_owned()),
            serde_json::Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| empty_leaves(v, &format!("{path}.{k}"), out)),
            _ => {}
        }
    }
    let mut empty = Vec::new();
    empty_leaves(&serde_json::to_value(&input).unwrap(), "", &mut empty);
    assert!(empty.is_empty(), "the sample leaves {empty:?} empty");
    assert!(input.lacks_legal_capacity);
    let record = ValidRecord::validate(&input, today())
        .unwrap_or_else(|es| panic!("{:?}", es.iter().map(|e| e.to_string()).collect::<Vec<_>>()));
    for part in [
        record.other_name().is_some(),
        record
            .father()
            .and_then(|p| p.personal_id.as_ref())
            .is_some(),
        record.spouse().is_some(),
        record.temporary_residence().is_some(),
        record
            .previous_card()
            .and_then(|c| c.issue_place.as_ref())
            .is_some(),
        record.representative().and_then(|r| r.reason).is_some(),
        record.consent().is_some(),
    ] {
        assert!(part);
    }
}

#[test]
fn debug_of_a_filled_input_shows_no_personal_data() {
    let input = person();
    for text in [format!("{input:?}"), format!("{input:#?}")] {
        assert_no_personal_data("Debug of EnrollmentInput", &text, &input);
        assert_no_digits("Debug of EnrollmentInput", &text);
        // It still says what is there.
        for field in ["birth_name", "father.personal_id", "representative.reason"] {
            assert!(text.contains(field), "{text}");
        }
    }
    // Inside the usual containers too (they delegate).
    let text = format!(
        "{:?}",
        (Some(&input), vec![input.clone()], Ok::<_, ()>(&input))
    );
    assert_no_personal_data("Debug of containers", &text, &input);
    assert_no_digits("Debug of containers", &text);
}

#[test]
fn debug_of_each_part_of_the_input_shows_no_personal_data() {
    let input = person();
    let parts = [
        format!("{:?}", input.father),
        format!("{:?}", input.mother),
        format!("{:?}", input.spouse),
        format!("{:?}", input.permanent_residence),
        format!("{:?}", input.temporary_residence),
        format!("{:?}", input.current_residence),
        format!("{:?}", input.previous_card),
        format!("{:#?}", input.representative),
    ];
    for text in parts {
        assert_no_personal_data("Debug of a part", &text, &input);
        assert_no_digits("Debug of a part", &text);
    }
}

#[test]
fn debug_of_a_valid_record_shows_no_personal_data() {
    let input = person();
    let record = ValidRecord::validate(&input, today()).unwrap();
    let texts = [
        format!("{record:?}"),
        format!("{record:#?}"),
        format!("{:?}", record.father()),
        format!("{:?}", record.spouse()),
        format!("{:?}", record.previous_card()),
        format!("{:?}", record.representative()),
        // The normalised form that is sealed into a bundle.
        format!("{:?}", record.to_input()),
    ];
    for text in texts {
        assert_no_personal_data("Debug of ValidRecord", &text, &input);
        assert_no_personal_data("Debug of ValidRecord", &text, &record.to_input());
        assert_no_digits("Debug of ValidRecord", &text);
    }
}

#[test]
fn debug_names_the_filled_fields_and_nothing_else() {
    let input = EnrollmentInput {
        birth_name: "Lê Văn Tám".into(),
        date_of_birth: "1990-05-17".into(),
        sex: "male".into(),
        personal_id: "001090123456".into(),
        // Blanks are not "filled", as validation sees it.
        other_name: "   ".into(),
        ..Default::default()
    };
    assert_eq!(
        format!("{input:?}"),
        "EnrollmentInput { filled: [birth_name, personal_id, date_of_birth, sex, nationality], .. }"
    );
    assert_eq!(
        format!("{:?}", EnrollmentInput::default().father),
        "PersonInput { filled: [], .. }"
    );
    let record = ValidRecord::validate(&input, today()).unwrap();
    assert_eq!(
        format!("{record:?}"),
        "ValidRecord { filled: [birth_name, personal_id, date_of_birth, sex, nationality], .. }"
    );
}
