//! The interface `docs/commands.md` documents, held against the real binary: for `id decode`,
//! `name key`, `qr parse`, `mrz parse` and `record validate`, a valid input exits 0 and its
//! `--json` has exactly the documented keys with the right values, an invalid input exits 1
//! naming the rule, a usage error exits 2.
//!
//! `prefill_commands.rs` and `record_cmd.rs` check messages and text output; this file checks
//! the contract: key sets, one JSON line, where the reason goes, exit codes.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

/// The MRZ of `docs/commands.md`: ID 001090123456, born 1990-01-01, male, expires 2030-01-01.
const MRZ: &str = "IDVNM0901234562001090123456<<3\n\
                   9001011M3001019VNM<<<<<<<<<<<4\n\
                   NGUYEN<<VAN<A<<<<<<<<<<<<<<<<<\n";

/// Every check digit holds, but the ID's prefix 003 is no birth-registration province.
const MRZ_PREFIX_003: &str = "IDVNM0901234562003090123456<<5\n\
                              9001011M3001019VNM<<<<<<<<<<<2\n\
                              NGUYEN<<VAN<A<<<<<<<<<<<<<<<<<\n";

const QR: &str = "001090123456|123456789|Nguyễn Văn An|01011990|Nam|Số 1 Hàng Bạc, Hà Nội|15072021";

const TODAY: &str = "2026-11-28";

/// A valid record with things to normalise: spaces in the ID, a local phone number.
const RECORD: &str = r#"{"birthName":"Nguyễn Văn Đức","dateOfBirth":"1999-05-17","sex":"male","personalId":"001 099 012345","phone":"0912 345 678"}"#;

/// What one run gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `ghidanh args…` (any bytes) with `stdin`.
fn run_os(args: &[&OsStr], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ghidanh"))
        .args(args)
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ghidanh");
    if let Some(mut pipe) = child.stdin.take() {
        // A command that reads less (or nothing) may exit first: a broken pipe is fine here.
        let _ = pipe.write_all(stdin);
    }
    let out = child.wait_with_output().expect("wait for ghidanh");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str], stdin: &str) -> Run {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    run_os(&args, stdin.as_bytes())
}

/// Runs with `--json` among `args`: expects exit `code` and exactly one JSON object on one
/// line of stdout, and returns it.
fn json_run(args: &[&str], stdin: &str, code: i32) -> Value {
    let r = run(args, stdin);
    assert_eq!(
        r.code, code,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert_eq!(
        r.stdout.lines().count(),
        1,
        "{args:?}: --json prints one line: {}",
        r.stdout
    );
    let value: Value = serde_json::from_str(&r.stdout).expect("one JSON object");
    assert!(value.is_object(), "{args:?}: not an object: {value}");
    value
}

/// The object's keys.
fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Expects exactly the keys `expected` in `v`.
fn assert_keys(v: &Value, expected: &[&str]) {
    assert_eq!(
        keys(v),
        expected.iter().copied().collect::<BTreeSet<_>>(),
        "keys of {v}"
    );
}

/// Expects the documented error shape `{"valid":false,"error":{"code","message"}}` with `code`.
fn assert_error(v: &Value, code: &str) {
    assert_keys(v, &["valid", "error"]);
    assert_eq!(v["valid"], false);
    assert_keys(&v["error"], &["code", "message"]);
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(
        !v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{v}"
    );
}

/// Expects a usage error: exit 2, nothing on stdout, the reason on stderr.
fn assert_usage(args: &[&OsStr], stdin: &[u8], on_stderr: &str) {
    let r = run_os(args, stdin);
    assert_eq!(
        r.code, 2,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert_eq!(
        r.stdout, "",
        "{args:?}: a usage error prints nothing on stdout"
    );
    assert!(
        r.stderr.contains(on_stderr),
        "{args:?}: missing {on_stderr:?} in stderr {}",
        r.stderr
    );
}

fn usage(args: &[&str], on_stderr: &str) {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    assert_usage(&args, b"", on_stderr);
}

/// An argument that is not UTF-8.
const NOT_UTF8: &[u8] = b"\xff\xfe";

#[test]
fn id_decode_valid_gives_prefix_century_year_and_sex() {
    let v = json_run(&["id", "decode", "001099012345", "--json"], "", 0);
    assert_keys(
        &v,
        &["valid", "number", "prefix", "century", "birthYear", "sex"],
    );
    assert_eq!(
        v,
        json!({
            "valid": true,
            "number": "001099012345",
            "prefix": { "code": "001", "kind": "province", "name": "Hà Nội" },
            "century": 1900,
            "birthYear": 1999,
            "sex": "male",
        })
    );
    // Spaces are allowed and removed; 2 is the century digit of a man born 2000–2099.
    let v = json_run(&["id", "decode", "079 203 000123", "--json"], "", 0);
    assert_eq!(v["number"], "079203000123");
    assert_eq!(v["prefix"]["name"], "TP Hồ Chí Minh");
    assert_eq!(v["century"], 2000);
    assert_eq!(v["birthYear"], 2003);
    assert_eq!(v["sex"], "male");
    // A country code: `kind` abroad, no `name`.
    let v = json_run(&["id", "decode", "101305000001", "--json"], "", 0);
    assert_eq!(v["prefix"], json!({ "code": "101", "kind": "abroad" }));
    assert_eq!(
        (v["century"].clone(), v["sex"].clone()),
        (json!(2000), json!("female"))
    );
    // Text: Vietnamese labels by default, English on request.
    let r = run(&["id", "decode", "001099012345"], "");
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("Nơi đăng ký khai sinh: 001 Hà Nội"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Thế kỷ: 1900–1999"), "{}", r.stdout);
    let r = run(&["id", "decode", "001099012345", "--lang", "en"], "");
    assert!(
        r.stdout.contains("Birth registered in: 001 Hà Nội"),
        "{}",
        r.stdout
    );
}

#[test]
fn id_decode_invalid_names_the_rule_and_exits_1() {
    for (number, rule) in [
        ("003090123456", "unknownProvinceCode"),
        ("00109901234", "notTwelveDigits"),
        ("001-099-012345", "notTwelveDigits"),
        ("", "required"),
    ] {
        let v = json_run(&["id", "decode", number, "--json"], "", 1);
        assert_error(&v, rule);
    }
    // Vietnamese by default, English with --lang en.
    let v = json_run(&["id", "decode", "003090123456", "--json"], "", 1);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("không phải mã tỉnh"));
    let v = json_run(
        &["id", "decode", "003090123456", "--json", "--lang", "en"],
        "",
        1,
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a birth-registration"));
    // Text mode: the reason on stderr, nothing on stdout.
    let r = run(&["id", "decode", "003090123456"], "");
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert!(r.stderr.contains("(003)"), "{}", r.stderr);
}

#[test]
fn id_decode_usage_errors_exit_2() {
    usage(&["id", "decode"], "<NUMBER>");
    usage(&["id", "decode", "--json"], "<NUMBER>");
    usage(&["id", "decode", "001099012345", "--bogus"], "--bogus");
    usage(
        &["id", "decode", "001099012345", "--lang", "fr"],
        "use vi or en",
    );
    usage(
        &["id", "decode", "001099012345", "002099012345"],
        "unexpected argument",
    );
    assert_usage(
        &[
            OsStr::new("id"),
            OsStr::new("decode"),
            OsStr::from_bytes(NOT_UTF8),
        ],
        b"",
        "invalid UTF-8",
    );
}

#[test]
fn name_key_gives_normal_form_and_search_key() {
    let v = json_run(&["name", "key", "Nguyễn Văn Đức", "--json"], "", 0);
    assert_keys(&v, &["normalized", "searchKey"]);
    assert_eq!(
        v,
        json!({ "normalized": "Nguyễn Văn Đức", "searchKey": "nguyen van duc" })
    );
    // Decomposed (NFD) letters, a curly apostrophe and extra spaces: stored as NFC, one
    // apostrophe, single spaces; the key drops the tones and đ → d.
    let nfd = "  Nguye\u{302}\u{303}n   Va\u{306}n  H\u{2019}Hen ";
    let v = json_run(&["name", "key", nfd, "--json"], "", 0);
    assert_eq!(v["normalized"], "Nguy\u{1ec5}n V\u{103}n H'Hen");
    assert_eq!(v["searchKey"], "nguyen van h'hen");
    let v = json_run(&["name", "key", "ĐỖ THỊ ĐÀO", "--json"], "", 0);
    assert_eq!(v["searchKey"], "do thi dao");
    let r = run(&["name", "key", "Nguyễn Văn Đức"], "");
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        "normalized: Nguyễn Văn Đức\nsearch key: nguyen van duc\n"
    );
}

/// Documented: `name key` judges nothing (that is `record validate`'s job), so it has no exit 1.
#[test]
fn name_key_refuses_no_text() {
    for text in ["", "12345 !!", "a\u{1}b"] {
        let v = json_run(&["name", "key", text, "--json"], "", 0);
        assert_keys(&v, &["normalized", "searchKey"]);
    }
}

#[test]
fn name_key_usage_errors_exit_2() {
    usage(&["name", "key"], "<TEXT>");
    // No --lang on this command.
    usage(&["name", "key", "An", "--lang", "en"], "--lang");
    assert_usage(
        &[
            OsStr::new("name"),
            OsStr::new("key"),
            OsStr::from_bytes(NOT_UTF8),
        ],
        b"",
        "invalid UTF-8",
    );
}

const QR_KEYS: [&str; 10] = [
    "valid",
    "idNumber",
    "oldIdNumber",
    "name",
    "dateOfBirth",
    "sex",
    "permanentResidence",
    "issueDate",
    "extra",
    "warnings",
];

#[test]
fn qr_parse_reads_every_field() {
    let v = json_run(&["qr", "parse", QR, "--json"], "", 0);
    assert_keys(&v, &QR_KEYS);
    assert_eq!(
        v,
        json!({
            "valid": true,
            "idNumber": "001090123456",
            "oldIdNumber": "123456789",
            "name": "Nguyễn Văn An",
            "dateOfBirth": "1990-01-01",
            "sex": "male",
            "permanentResidence": "Số 1 Hàng Bạc, Hà Nội",
            "issueDate": "2021-07-15",
            "extra": [],
            "warnings": [],
        })
    );
    // From stdin, with the newline a scanner adds.
    let v = json_run(&["qr", "parse", "-", "--json"], &format!("{QR}\n"), 0);
    assert_eq!(v["issueDate"], "2021-07-15");
}

#[test]
fn qr_parse_warnings_keep_exit_0_and_null_what_was_not_read() {
    // Field 4 is 31 February; two fields are missing.
    let v = json_run(
        &[
            "qr",
            "parse",
            "001090123456||Nguyễn Văn An|31021990|Nam",
            "--json",
        ],
        "",
        0,
    );
    assert_keys(&v, &QR_KEYS);
    assert_eq!(v["valid"], true);
    for absent in [
        "oldIdNumber",
        "dateOfBirth",
        "permanentResidence",
        "issueDate",
    ] {
        assert_eq!(v[absent], Value::Null, "{absent} in {v}");
    }
    let codes: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            assert_keys(w, &["code", "message"]);
            w["code"].as_str().unwrap()
        })
        .collect();
    assert_eq!(codes, ["unreadable", "missingFields"]);
    // A 2024 card's fields past the seventh are kept, uninterpreted.
    let v = json_run(
        &["qr", "parse", &format!("{QR}|Nguyễn Văn Bố"), "--json"],
        "",
        0,
    );
    assert_eq!(v["extra"], json!(["Nguyễn Văn Bố"]));
    assert_eq!(v["warnings"][0]["code"], "extraFields");
    // An ID number the record rules reject is a warning, not a refusal.
    let v = json_run(
        &["qr", "parse", &QR.replacen("001", "003", 1), "--json"],
        "",
        0,
    );
    assert_eq!(v["idNumber"], "003090123456");
    assert_eq!(v["warnings"][0]["code"], "idNumber");
}

#[test]
fn qr_parse_invalid_names_the_reason_and_exits_1() {
    let v = json_run(&["qr", "parse", "https://example.com", "--json"], "", 1);
    assert_error(&v, "noIdNumber");
    let v = json_run(&["qr", "parse", "001090123456|\u{1}", "--json"], "", 1);
    assert_error(&v, "controlCharacter");
    let v = json_run(&["qr", "parse", "-", "--json"], &"1".repeat(2000), 1);
    assert_error(&v, "tooLong");
    let v = json_run(&["qr", "parse", "abc", "--json", "--lang", "en"], "", 1);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Not a card QR code"));
    let r = run(&["qr", "parse", "abc"], "");
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert!(
        r.stderr.contains("không phải mã QR trên thẻ"),
        "{}",
        r.stderr
    );
}

#[test]
fn qr_parse_usage_errors_exit_2() {
    usage(&["qr", "parse"], "<TEXT>");
    usage(&["qr", "parse", QR, "--lang", "de"], "use vi or en");
    usage(&["qr", "parse", QR, "--bogus"], "--bogus");
    assert_usage(
        &[
            OsStr::new("qr"),
            OsStr::new("parse"),
            OsStr::from_bytes(NOT_UTF8),
        ],
        b"",
        "invalid UTF-8",
    );
}

const MRZ_KEYS: [&str; 12] = [
    "valid",
    "documentCode",
    "issuingState",
    "documentNumber",
    "idNumber",
    "idNumberProblem",
    "dateOfBirth",
    "sex",
    "expiryDate",
    "nationality",
    "surname",
    "givenNames",
];

#[test]
fn mrz_parse_valid_gives_every_field() {
    let v = json_run(&["mrz", "parse", "-", "--json"], MRZ, 0);
    assert_keys(&v, &MRZ_KEYS);
    assert_eq!(
        v,
        json!({
            "valid": true,
            "documentCode": "ID",
            "issuingState": "VNM",
            "documentNumber": "090123456",
            "idNumber": "001090123456",
            "idNumberProblem": null,
            "dateOfBirth": "1990-01-01",
            "sex": "male",
            "expiryDate": "2030-01-01",
            "nationality": "VNM",
            "surname": "NGUYEN",
            "givenNames": "VAN A",
        })
    );
    // Check digits hold, the ID's prefix does not: valid, with the problem named.
    let v = json_run(&["mrz", "parse", "-", "--json"], MRZ_PREFIX_003, 0);
    assert_keys(&v, &MRZ_KEYS);
    assert_eq!(v["idNumber"], "003090123456");
    assert_eq!(v["idNumberProblem"], "unknownProvinceCode");
    let r = run(&["mrz", "parse", "-"], MRZ_PREFIX_003);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("! Số định danh cá nhân: 3 chữ số đầu (003)"),
        "{}",
        r.stdout
    );
}

#[test]
fn mrz_parse_invalid_names_the_rule_and_exits_1() {
    for (text, code) in [
        (MRZ.replacen("9001011M", "9001018M", 1), "checkDigit"),
        (MRZ.replacen("IDVNM", "IDFRA", 1), "notVietnamese"),
        (MRZ.replacen("IDVNM", "PPVNM", 1), "notIdentityCard"),
        (MRZ.replacen("<<4\n", "<<<4\n", 1), "lineLength"),
        (MRZ.replacen("NGUYEN", "NGUYÊN", 1), "invalidCharacter"),
        ("hello".to_owned(), "lineCount"),
        (format!("{MRZ}{}", "<".repeat(600)), "tooLong"),
    ] {
        let v = json_run(&["mrz", "parse", "-", "--json"], &text, 1);
        assert_error(&v, code);
    }
    let bad = MRZ.replacen("9001011M", "9001018M", 1);
    let v = json_run(&["mrz", "parse", "-", "--json"], &bad, 1);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("dòng 2, cột 7"),
        "Vietnamese by default: {v}"
    );
    let r = run(&["mrz", "parse", "-"], &bad);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert!(r.stderr.contains("số kiểm tra"), "{}", r.stderr);
}

#[test]
fn mrz_parse_usage_and_unreadable_input_exit_2() {
    usage(&["mrz", "parse"], "<FILE>");
    usage(&["mrz", "parse", "-", "--lang", "xx"], "use vi or en");
    // Documented: an unreadable file prints nothing on stdout, even with --json.
    usage(
        &["mrz", "parse", "/nonexistent/mrz.txt", "--json"],
        "cannot read /nonexistent/mrz.txt",
    );
}

const TOP_LEVEL_RECORD_KEYS: [&str; 4] = ["valid", "record", "age", "biometricRequirement"];

#[test]
fn record_validate_valid_gives_the_normalised_record() {
    let v = json_run(
        &["record", "validate", "--today", TODAY, "--json", "-"],
        RECORD,
        0,
    );
    assert_keys(&v, &TOP_LEVEL_RECORD_KEYS);
    assert_eq!(v["valid"], true);
    assert_eq!(v["age"], 27);
    assert_eq!(v["biometricRequirement"], "full");
    let record = &v["record"];
    assert_eq!(record["birthName"], "Nguyễn Văn Đức");
    assert_eq!(record["personalId"], "001099012345");
    assert_eq!(record["phone"], "+84912345678");
    assert_eq!(record["nationality"], "VNM");
    // Every member of EnrollmentInput is there, given or not.
    for member in [
        "otherName",
        "oldIdNumber",
        "father",
        "permanentResidence",
        "previousCard",
        "lacksLegalCapacity",
        "representative",
        "consent",
    ] {
        assert!(record.get(member).is_some(), "{member} missing in {record}");
    }
    // The normalised record is valid again, and the same.
    let again = json_run(
        &["record", "validate", "--today", TODAY, "--json", "-"],
        &record.to_string(),
        0,
    );
    assert_eq!(&again["record"], record);
    // Under 6: no biometrics.
    let child = RECORD
        .replace("1999-05-17", "2022-01-01")
        .replace("001 099", "001 222")
        .replace(
            r#""phone""#,
            r#""representative":{"name":"Nguyễn Văn Bố","relationship":"Cha"},"phone""#,
        );
    let v = json_run(
        &["record", "validate", "--today", TODAY, "--json", "-"],
        &child,
        0,
    );
    assert_eq!(
        (v["age"].clone(), v["biometricRequirement"].clone()),
        (json!(4), json!("none"))
    );
}

#[test]
fn record_validate_invalid_names_field_and_rule() {
    let broken = RECORD
        .replace(r#""male""#, r#""female""#)
        .replace("0912 345 678", "12345");
    let v = json_run(
        &["record", "validate", "--today", TODAY, "--json", "-"],
        &broken,
        1,
    );
    assert_keys(&v, &["valid", "errors"]);
    assert_eq!(v["valid"], false);
    let errors = v["errors"].as_array().unwrap();
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| {
            assert_keys(e, &["field", "rule", "message"]);
            (e["field"].as_str().unwrap(), e["rule"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        got,
        [("personalId", "sexMismatch"), ("phone", "invalidPhone")]
    );
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Số định danh cá nhân"));
    // Text: one `field [rule]: message` line per broken rule, on stdout.
    let r = run(&["record", "validate", "--today", TODAY, "-"], &broken);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("personalId [sexMismatch]: "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("phone [invalidPhone]: "), "{}", r.stdout);
}

#[test]
fn record_validate_not_a_record_exits_1_with_its_code() {
    // A member given twice is refused and named, never resolved either way.
    let dup = r#"{"birthName":"A","birthName":"B","dateOfBirth":"1999","sex":"male","personalId":"001099012345"}"#;
    let v = json_run(&["record", "validate", "--json", "-"], dup, 1);
    assert_error(&v, "malformedJson");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("duplicate field `birthName`"),
        "{v}"
    );
    let v = json_run(&["record", "validate", "--json", "-"], "{\"birthName\":", 1);
    assert_error(&v, "malformedJson");
    let big = format!("{{\"birthName\":\"{}\"}}", "a".repeat(1024 * 1024));
    let v = json_run(&["record", "validate", "--json", "-"], &big, 1);
    assert_error(&v, "tooLarge");
}

#[test]
fn record_validate_usage_errors_exit_2() {
    // Documented: an unreadable file still answers in JSON, with code `unreadable`.
    let v = json_run(
        &["record", "validate", "--json", "/nonexistent/record.json"],
        "",
        2,
    );
    assert_error(&v, "unreadable");
    usage(&["record", "validate"], "<FILE>");
    usage(&["record", "validate", "-", "--lang", "fr"], "use vi or en");
    usage(
        &["record", "validate", "-", "--today", "2026-13-01"],
        "not a date",
    );
}

#[test]
fn card_text_that_is_not_utf8_is_invalid_not_a_usage_error() {
    for args in [
        ["qr", "parse", "-", "--json"],
        ["mrz", "parse", "-", "--json"],
    ] {
        let r = run_os(&args.map(OsStr::new), b"IDVNM\xff\xfe");
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        let v: Value = serde_json::from_str(r.stdout.trim()).expect("one JSON line");
        assert_eq!(v["valid"], false);
        assert_eq!(v["error"]["code"], "notUtf8");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("vị trí 5"),
            "{v}"
        );
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly_not_with_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    // ~100 KB of name: its two output lines overflow a pipe's 64 KiB buffer, so the write
    // meets a closed pipe whatever the timing.
    let name = "Nguyễn Văn Đức ".repeat(6000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ghidanh"))
        .args(["name", "key", &name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ghidanh");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(13), "SIGPIPE, as `head` expects");
}
