//! `ghidanh record validate` run as the real binary: output content and exit codes
//! (0 valid, 1 invalid, 2 usage) are the stable interface.

use std::io::Write;
use std::process::{Command, Stdio};

const TODAY: &str = "2026-11-28";

const ADULT: &str = r#"{"birthName":"Nguye\u0302\u0303n  Văn An","dateOfBirth":"1990-05-17","sex":"male","personalId":"001 090 123456"}"#;

const BROKEN: &str = r#"{"birthName":"Nguyễn Văn An","dateOfBirth":"2005-03-01","sex":"male",
"personalId":"001090123456","phone":"12345","father":{"name":"Nguyễn Văn Bố","personalId":"1"}}"#;

/// Runs `ghidanh record validate … -` with `stdin`, returns (exit code, stdout, stderr).
fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ghidanh"))
        .args(["record", "validate", "--today", TODAY])
        .args(args)
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ghidanh");
    if let Some(mut pipe) = child.stdin.take() {
        // A command that stops reading early may exit first: a broken pipe is fine here.
        let _ = pipe.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait for ghidanh");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Expects exit `code` and every piece of `expected` in stdout + stderr.
fn check(args: &[&str], stdin: &str, code: i32, expected: &[&str]) {
    let (got, stdout, stderr) = run(args, stdin);
    assert_eq!(got, code, "{args:?}\nstdout: {stdout}\nstderr: {stderr}");
    let shown = format!("{stdout}{stderr}");
    for e in expected {
        assert!(shown.contains(e), "{args:?}: missing {e:?} in\n{shown}");
    }
}

/// Expects exit `code` and the JSON `expected` (a subset: every key given must match).
fn check_json(args: &[&str], stdin: &str, code: i32, expected: serde_json::Value) {
    let (got, stdout, stderr) = run(args, stdin);
    assert_eq!(got, code, "{args:?}\nstdout: {stdout}\nstderr: {stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    for (key, value) in expected.as_object().expect("expected is an object") {
        assert_eq!(&out[key], value, "{args:?}: key {key} in {out}");
    }
}

#[test]
fn a_valid_record_prints_its_normalised_form() {
    check(
        &["-"],
        ADULT,
        0,
        &[
            "valid",
            r#""birthName": "Nguyễn Văn An""#,
            r#""personalId": "001090123456""#,
        ],
    );
    check_json(
        &["--json", "-"],
        ADULT,
        0,
        serde_json::json!({ "valid": true, "age": 36, "biometricRequirement": "full" }),
    );
}

#[test]
fn every_broken_rule_is_listed_with_its_field() {
    check(
        &["-"],
        BROKEN,
        1,
        &[
            "personalId [birthYearMismatch]: Số định danh cá nhân: mã thế kỷ và năm sinh trong số (1990) không khớp với năm sinh 2005.",
            "phone [invalidPhone]: Số điện thoại:",
            "father.personalId [notTwelveDigits]: Cha – Số định danh cá nhân: phải gồm đúng 12 chữ số.",
        ],
    );
    check(
        &["--lang", "en", "-"],
        BROKEN,
        1,
        &["father.personalId [notTwelveDigits]: Father – Personal ID number: must be exactly 12 digits."],
    );
    check_json(
        &["--json", "--lang", "en", "-"],
        BROKEN,
        1,
        serde_json::json!({
            "valid": false,
            "errors": [
                {
                    "field": "personalId",
                    "rule": "birthYearMismatch",
                    "message": "Personal ID number: the century digit and year digits give 1990, but the date of birth is in 2005.",
                },
                {
                    "field": "father.personalId",
                    "rule": "notTwelveDigits",
                    "message": "Father – Personal ID number: must be exactly 12 digits.",
                },
                {
                    "field": "phone",
                    "rule": "invalidPhone",
                    "message": "Phone: is not a Vietnamese phone number (10 digits starting with 0, an 11-digit landline starting with 02, or the +84 form).",
                },
            ],
        }),
    );
}

#[test]
fn a_file_is_read_like_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.json");
    std::fs::write(&path, ADULT).unwrap();
    check(&[path.to_str().unwrap()], "", 0, &["valid"]);
}

#[test]
fn malformed_json_names_line_and_column() {
    check(
        &["-"],
        "{\n  \"birthName\": ,\n}",
        1,
        &["JSON không hợp lệ ở dòng 2, cột 16"],
    );
    check(
        &["--lang", "en", "-"],
        "{\"birthName\":\"A\",\"hacker\":1}",
        1,
        &["line 1, column", "unknown field `hacker`"],
    );
    check_json(
        &["--json", "-"],
        "[1, 2",
        1,
        serde_json::json!({ "valid": false }),
    );
}

#[test]
fn oversized_input_is_refused() {
    let big = format!("{{\"birthName\":\"{}\"}}", "a".repeat(1024 * 1024));
    check(
        &["--lang", "en", "-"],
        &big,
        1,
        &["larger than 1048576 bytes"],
    );
}

#[test]
fn usage_errors_exit_2() {
    check(
        &["/nonexistent/record.json"],
        "",
        2,
        &["/nonexistent/record.json"],
    );
    check(&["--lang", "fr", "-"], "", 2, &["unknown language"]);
    check(&[], "", 2, &[]);
}
