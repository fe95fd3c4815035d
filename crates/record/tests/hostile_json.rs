//! Hostile record JSON, fed to the parser `ghidanh record validate` uses
//! (`EnrollmentInput::from_json`, used by `crates/cli/src/cmd/record.rs`) and then to
//! `ValidRecord::validate`: it never panics, and what it refuses it refuses with an error that
//! says why (and where); a member given twice is refused, never resolved; text comes out NFC.

use ghidanh_record::{EnrollmentInput, FieldError, Lang, ValidRecord};
use proptest::prelude::*;
use serde_json::Value;
use time::macros::date;
use time::Date;
use unicode_normalization::UnicodeNormalization;

const TODAY: Date = date!(2026 - 11 - 28);

/// The parser of `record validate`.
fn parse(bytes: &[u8]) -> Result<EnrollmentInput, serde_json::Error> {
    EnrollmentInput::from_json(bytes)
}

/// Parses `bytes`; expects a refusal and returns its message.
fn refused(bytes: &[u8]) -> String {
    match parse(bytes) {
        Ok(input) => panic!(
            "accepted {:?} as {input:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        ),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.is_empty(), "an error without a message");
            message
        }
    }
}

/// A record with the four required members, and `extra` members (`"k":v,` each) before them.
fn record_with(extra: &str) -> String {
    format!(
        r#"{{{extra}"birthName":"Nguyễn Văn An","dateOfBirth":"1990-05-17","sex":"male","personalId":"001090123456"}}"#
    )
}

/// Validates and renders every message in both languages: nothing may panic on the way.
fn validate_all_the_way(input: &EnrollmentInput) -> Result<ValidRecord, Vec<FieldError>> {
    let result = ValidRecord::validate(input, TODAY);
    match &result {
        Ok(record) => {
            let again = ValidRecord::validate(&record.to_input(), TODAY);
            assert!(
                again.is_ok(),
                "the normal form of a valid record is invalid"
            );
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "invalid with no error");
            for e in errors {
                assert!(!e.message(Lang::Vi).is_empty());
                assert!(!e.message(Lang::En).is_empty());
            }
        }
    }
    result
}

/// Checks a parse result of arbitrary input: an error says what and where; a record validates
/// without panicking.
fn check_any(bytes: &[u8]) -> Result<(), TestCaseError> {
    match parse(bytes) {
        Ok(input) => {
            let _ = validate_all_the_way(&input);
        }
        Err(e) => {
            prop_assert!(!e.to_string().is_empty());
            // A syntax or data error has a position (line 0 would mean an I/O error); a shape
            // error (an array where an object belongs) names the member instead.
            let shape = e.to_string().contains("must be a JSON object");
            prop_assert!(e.line() >= 1 || shape, "neither position nor member in {e}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_any(&bytes)?;
    }

    /// Token soup: braces, brackets, quotes, colons, commas, escapes, real member names,
    /// literals and odd characters, in any order.
    #[test]
    fn json_ish_strings_never_panic(tokens in prop::collection::vec(json_token(), 0..64)) {
        check_any(tokens.concat().as_bytes())?;
    }

    /// Well-formed JSON shaped like a record: real member names (and a few others) with values
    /// of every type, nested up to a few levels. Reaches the type checks and the validator.
    #[test]
    fn record_shaped_json_never_panics(value in record_shaped()) {
        let text = value.to_string();
        check_any(text.as_bytes())?;
    }
}

fn json_token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(":".to_owned()),
        Just(",".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("\\u".to_owned()),
        Just("\\ud800".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("-0.5e99".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just(" ".to_owned()),
        Just("\u{0}".to_owned()),
        prop::sample::select(MEMBERS.to_vec()).prop_map(|m| format!("\"{m}\"")),
        "[a-zA-Z0-9ăâđêôơư\u{300}-\u{323} ]{0,8}",
        any::<char>().prop_map(String::from),
    ]
}

/// Top-level members, the members of the groups, and one that exists nowhere.
const MEMBERS: [&str; 34] = [
    "birthName",
    "otherName",
    "personalId",
    "oldIdNumber",
    "dateOfBirth",
    "sex",
    "placeOfBirth",
    "birthRegistrationPlace",
    "hometown",
    "ethnicity",
    "religion",
    "nationality",
    "bloodType",
    "father",
    "mother",
    "spouse",
    "permanentResidence",
    "temporaryResidence",
    "currentResidence",
    "maritalStatus",
    "householdRelationship",
    "phone",
    "email",
    "occupation",
    "previousCard",
    "lacksLegalCapacity",
    "representative",
    "consent",
    "name",
    "province",
    "commune",
    "street",
    "givenBy",
    "hacker",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        // Mostly strings, some of them plausible.
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "Nguyễn Văn An",
            "Nguye\u{302}\u{303}n Va\u{306}n An",
            "001090123456",
            "1990-05-17",
            "1990",
            "male",
            "female",
            "VNM",
            "001",
            "00070",
            "0912345678",
            "",
            "\u{0}",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn record_shaped() -> impl Strategy<Value = Value> {
    let value = leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(MEMBERS.to_vec()), inner), 0..5).prop_map(
                |members| {
                    Value::Object(
                        members
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect(),
                    )
                }
            ),
        ]
    });
    prop::collection::vec((prop::sample::select(MEMBERS.to_vec()), value), 0..12).prop_map(
        |members| {
            let mut object: serde_json::Map<String, Value> = [
                ("birthName", "Nguyễn Văn An"),
                ("dateOfBirth", "1990-05-17"),
                ("sex", "male"),
                ("personalId", "001090123456"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
            for (k, v) in members {
                object.insert(k.to_owned(), v);
            }
            Value::Object(object)
        },
    )
}

#[test]
fn the_base_record_is_valid() {
    let input = parse(record_with("").as_bytes()).expect("a record");
    assert!(validate_all_the_way(&input).is_ok());
}

#[test]
fn a_member_given_twice_is_refused_and_named() {
    // Same value or not, first or last: never silently one of them.
    for (extra, member) in [
        (r#""birthName":"A","#, "birthName"),
        (r#""birthName":"Nguyễn Văn An","#, "birthName"),
        (r#""sex":"female","#, "sex"),
        (r#""phone":"0912345678","phone":"0987654321","#, "phone"),
        (
            r#""father":{"name":"Nguyễn Văn Bố","name":"Trần Văn Khác"},"#,
            "name",
        ),
        (
            r#""permanentResidence":{"province":"001","province":"079"},"#,
            "province",
        ),
        (
            r#""consent":{"givenBy":"subject","givenBy":"representative"},"#,
            "givenBy",
        ),
        (
            r#""lacksLegalCapacity":false,"lacksLegalCapacity":true,"#,
            "lacksLegalCapacity",
        ),
    ] {
        let message = refused(record_with(extra).as_bytes());
        assert!(
            message.contains(&format!("duplicate field `{member}`")),
            "{extra}: {message}"
        );
        assert!(message.contains("line 1 column"), "{message}");
    }
    // A whole group given twice.
    let twice = record_with(r#""father":{"name":"A"},"father":{"name":"B"},"#);
    assert!(refused(twice.as_bytes()).contains("duplicate field `father`"));
    // The snake_case spelling of the issue's example is not a member at all: refused at the
    // first one, by name.
    let message = refused(br#"{"birth_name": "A", "birth_name": "B"}"#);
    assert!(message.contains("unknown field `birth_name`"), "{message}");
}

#[test]
fn unknown_members_are_refused_and_named() {
    for (extra, member) in [
        (r#""hacker":1,"#, "hacker"),
        (r#""BirthName":"A","#, "BirthName"),
        (r#""birth_name":"A","#, "birth_name"),
        (r#""father":{"age":40},"#, "age"),
        (r#""currentResidence":{"ward":"x"},"#, "ward"),
        (r#""":"","#, ""),
    ] {
        let message = refused(record_with(extra).as_bytes());
        assert!(
            message.contains(&format!("unknown field `{member}`")),
            "{extra}: {message}"
        );
    }
}

#[test]
fn wrong_types_are_refused_with_a_position() {
    for extra in [
        r#""birthName":1,"#,
        r#""birthName":null,"#,
        r#""birthName":true,"#,
        r#""birthName":{"a":"b"},"#,
        r#""birthName":["Nguyễn Văn An"],"#,
        r#""lacksLegalCapacity":"yes","#,
        r#""lacksLegalCapacity":1,"#,
        r#""father":"Nguyễn Văn Bố","#,
        r#""father":null,"#,
        r#""phone":912345678,"#,
        r#""previousCard":{"number":123456789},"#,
    ] {
        // Members after the required ones, so the wrong one is the first thing refused.
        let text = record_with("").replacen('{', &format!("{{{extra}"), 1);
        let message = refused(text.as_bytes());
        assert!(message.contains("invalid type"), "{extra}: {message}");
        assert!(message.contains("line 1 column"), "{extra}: {message}");
    }
    for text in ["null", "1", "\"Nguyễn Văn An\"", "true", "{}"] {
        refused(text.as_bytes());
    }
    let message = refused(br#"{"birthName":"A"}"#);
    assert!(message.contains("missing field `personalId`"), "{message}");
}

#[test]
fn ten_thousand_levels_of_nesting_are_refused_without_overflowing_the_stack() {
    const DEPTH: usize = 10_000;
    let arrays = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(DEPTH), "}".repeat(DEPTH));
    // At the top, as a required member, as an unknown member, inside a group.
    for text in [
        arrays.clone(),
        objects.clone(),
        format!(r#"{{"birthName":{arrays}}}"#),
        record_with(&format!(r#""hacker":{arrays},"#)),
        record_with(&format!(r#""father":{{"name":{objects}}},"#)),
        // Unclosed: an attacker need not close what they open.
        "[".repeat(DEPTH),
        format!(r#"{{"father":{}"#, "[".repeat(DEPTH)),
    ] {
        refused(text.as_bytes());
    }
    // The JSON parser itself stops at its recursion limit rather than at the stack's end.
    let e = serde_json::from_str::<Value>(&arrays).expect_err("over the recursion limit");
    assert!(e.to_string().contains("recursion limit"), "{e}");
}

#[test]
fn a_twenty_megabyte_string_is_refused_by_the_rules() {
    // The parser has no size limit of its own (the command refuses over 1 MiB before parsing);
    // the rules still refuse an overlong member, and quickly enough.
    const LEN: usize = 20 * 1024 * 1024;
    let huge = "ễ".repeat(LEN / "ễ".len());
    for member in ["birthName", "occupation", "placeOfBirth"] {
        let text = record_with("").replacen('{', &format!(r#"{{"{member}":"{huge}","#), 1);
        // birthName given twice (the huge one first): refused as a duplicate, never parsed twice.
        if member == "birthName" {
            assert!(refused(text.as_bytes()).contains("duplicate field `birthName`"));
            continue;
        }
        let input = parse(text.as_bytes()).expect("a 20 MB string is JSON");
        let errors = validate_all_the_way(&input).expect_err("20 MB is too long");
        assert!(
            errors
                .iter()
                .any(|e| e.field.code() == member && e.rule.code() == "tooLong"),
            "{member}: {errors:?}"
        );
    }
    let mut input = parse(record_with("").as_bytes()).expect("a record");
    input.birth_name = huge;
    let errors = validate_all_the_way(&input).expect_err("too long");
    assert_eq!(errors[0].field.code(), "birthName");
    assert_eq!(errors[0].rule.code(), "tooLong");
    // The same as a number: 20 MB of digits where a string belongs.
    let digits = "9".repeat(LEN);
    let text = record_with("").replacen('{', &format!(r#"{{"phone":{digits},"#), 1);
    let message = refused(text.as_bytes());
    assert!(message.contains("line 1 column"), "{message}");
}

#[test]
fn nul_bytes_are_refused_raw_and_judged_escaped() {
    // Raw NUL: inside a string, in a member name, between tokens.
    for text in [
        "{\"birthName\":\"Nguy\u{0}n\"}".to_owned(),
        record_with("\"birth\u{0}Name\":\"A\","),
        record_with("\u{0}"),
        "\u{0}".to_owned(),
    ] {
        refused(text.as_bytes());
    }
    let message = refused("{\"birthName\":\"A\u{0}B\"}".as_bytes());
    assert!(message.contains("control character"), "{message}");
    // Escaped NUL is JSON; the rules refuse it where a name or a text is expected.
    let text = record_with(r#""occupation":"Nông\u0000dân","father":{"name":"A\u0000B"},"#)
        .replace("Nguyễn Văn An", r"Nguyễn\u0000Văn An");
    let input = parse(text.as_bytes()).expect("escaped NUL is valid JSON");
    assert!(input.birth_name.contains('\0'));
    let errors = validate_all_the_way(&input).expect_err("NUL in a name");
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.field.code(), e.rule.code()))
        .collect();
    for expected in [
        ("birthName", "nameCharacters"),
        ("father.name", "nameCharacters"),
        ("occupation", "controlCharacters"),
    ] {
        assert!(got.contains(&expected), "{expected:?} in {got:?}");
    }
}

#[test]
fn invalid_utf8_is_refused() {
    let good = record_with(r#""occupation":"Nông dân","#);
    let start = good.find("Nông").expect("the occupation");
    for bad in [
        &b"\xff"[..],
        b"\xc3",             // a lead byte with nothing after it
        b"\xc0\x80",         // overlong NUL
        b"\xed\xa0\x80",     // a surrogate, UTF-8-encoded (CESU-8)
        b"\xf4\x90\x80\x80", // above U+10FFFF
        b"\x80",             // a lone continuation byte
    ] {
        let mut bytes = good.as_bytes().to_vec();
        bytes.splice(start..start, bad.iter().copied());
        refused(&bytes);
        // In a member name too.
        let mut bytes = good.as_bytes().to_vec();
        bytes.splice(2..2, bad.iter().copied());
        refused(&bytes);
    }
    // Escapes that name no character.
    for escape in [r"\ud800", r"\udc00", r"\ud800\u0041", r"\u12", r"\x41"] {
        let text = record_with(&format!(r#""occupation":"{escape}","#));
        refused(text.as_bytes());
    }
    // A surrogate pair is fine.
    let text = record_with(r#""occupation":"\ud83d\ude00","#);
    assert_eq!(parse(text.as_bytes()).expect("a pair").occupation, "😀");
}

#[test]
fn non_nfc_text_comes_out_nfc() {
    // Decomposed (NFD) and odd orders of combining marks, as some keyboards and OCR give them.
    let nfd = |s: &str| s.nfd().collect::<String>();
    let name = nfd("Nguyễn Văn Đức");
    assert_ne!(name, "Nguyễn Văn Đức");
    let text = serde_json::json!({
        "birthName": name,
        "dateOfBirth": "1999-05-17",
        "sex": "male",
        "personalId": "001099012345",
        "placeOfBirth": nfd("Bệnh viện Bạch Mai, Hà Nội"),
        "occupation": nfd("Kỹ sư"),
        "father": { "name": nfd("Nguyễn Văn Bố") },
        "permanentResidence": { "province": "001", "commune": "00070", "street": nfd("Số 1 Hàng Bạc") },
    })
    .to_string();
    // The parser keeps the bytes as sent; validation normalises.
    let input = parse(text.as_bytes()).expect("a record");
    assert_eq!(input.birth_name, name);
    let record = validate_all_the_way(&input).expect("valid");
    let out = record.to_input();
    assert_eq!(out.birth_name, "Nguyễn Văn Đức");
    assert_eq!(out.place_of_birth, "Bệnh viện Bạch Mai, Hà Nội");
    assert_eq!(out.occupation, "Kỹ sư");
    assert_eq!(out.father.name, "Nguyễn Văn Bố");
    assert_eq!(out.permanent_residence.street, "Số 1 Hàng Bạc");
    let wire = serde_json::to_value(&out).expect("to JSON");
    assert_all_nfc(&wire);
}

fn assert_all_nfc(v: &Value) {
    match v {
        Value::String(s) => assert!(unicode_normalization::is_nfc(s), "not NFC: {s:?}"),
        Value::Array(items) => items.iter().for_each(assert_all_nfc),
        Value::Object(members) => members.values().for_each(assert_all_nfc),
        _ => {}
    }
}

/// The schema's record is an object. serde's derived `Deserialize` for `EnrollmentInput` (and
/// its groups) would also read a JSON array, members by position; `from_json` refuses it.
#[test]
fn an_array_is_not_a_record() {
    let m = refused(r#"["Nguyễn Văn An","","001090123456","","1990-05-17","male"]"#.as_bytes());
    assert!(m.contains("must be a JSON object"), "{m}");
    let m = refused(record_with(r#""father":["Nguyễn Văn Bố"],"#).as_bytes());
    assert!(m.contains("`father` must be a JSON object"), "{m}");
    let m = refused(record_with(r#""consent":["subject"],"#).as_bytes());
    assert!(m.contains("`consent`"), "{m}");
    // Objects (and a null-free record without groups) still read.
    assert!(parse(record_with(r#""father":{"name":"Nguyễn Văn Bố"},"#).as_bytes()).is_ok());
}
