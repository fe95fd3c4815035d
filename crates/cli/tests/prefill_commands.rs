//! `ghidanh id decode`, `name key`, `qr parse`, `mrz parse` run as the real binary:
//! output content and exit codes (0 valid, 1 invalid, 2 usage) are the stable interface.

use std::io::Write;
use std::process::{Command, Stdio};

const MRZ: &str = "IDVNM0901234562001090123456<<3\n\
                   9001011M3001019VNM<<<<<<<<<<<4\n\
                   NGUYEN<<VAN<A<<<<<<<<<<<<<<<<<\n";

const QR_2021: &str =
    "001090123456|123456789|Nguyễn Văn An|01011990|Nam|Số 1 Hàng Bạc, Hà Nội|15072021";

/// Runs `ghidanh args…` with `stdin`, returns (exit code, stdout, stderr).
fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
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
        let _ = pipe.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait for ghidanh");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Expects exit `code` and every line of `expected` in stdout (or stderr when the code is not 0).
fn check(args: &[&str], stdin: &str, code: i32, expected: &[&str]) {
    let (got_code, stdout, stderr) = run(args, stdin);
    assert_eq!(
        got_code, code,
        "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    let shown = format!("{stdout}{stderr}");
    for e in expected {
        assert!(shown.contains(e), "{args:?}: missing {e:?} in\n{shown}");
    }
}

/// Expects exit `code` and the JSON `expected` (a subset: every key given must match).
fn check_json(args: &[&str], stdin: &str, code: i32, expected: serde_json::Value) {
    let (got_code, stdout, stderr) = run(args, stdin);
    assert_eq!(
        got_code, code,
        "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    let got: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    for (key, value) in expected.as_object().expect("expected is an object") {
        assert_eq!(&got[key], value, "{args:?}: key {key} in {got}");
    }
}

#[test]
fn id_decode() {
    check(
        &["id", "decode", "001090123456"],
        "",
        0,
        &[
            "001 Hà Nội",
            "Năm sinh: 1990",
            "Giới tính: Nam",
            "1900–1999",
        ],
    );
    check(
        &["id", "decode", "101 3 05 000001", "--lang", "en"],
        "",
        0,
        &["101 abroad", "Birth year: 2005", "Sex: female", "2000–2099"],
    );
    // A reused code: 044 is labelled with its legacy name, never today's Quảng Trị.
    check(
        &["id", "decode", "044090123456"],
        "",
        0,
        &["044 Quảng Bình"],
    );
    check(
        &["id", "decode", "003090123456"],
        "",
        1,
        &["3 chữ số đầu (003) không phải mã tỉnh"],
    );
    check(
        &["id", "decode", "12345", "--lang", "en"],
        "",
        1,
        &["must be exactly 12 digits"],
    );
    check(&["id", "decode"], "", 2, &["<NUMBER>"]);
    check(
        &["id", "decode", "001090123456", "--lang", "fr"],
        "",
        2,
        &["use vi or en"],
    );
}

#[test]
fn id_decode_json() {
    check_json(
        &["id", "decode", "079185000123", "--json"],
        "",
        0,
        serde_json::json!({
            "valid": true,
            "number": "079185000123",
            "prefix": { "code": "079", "kind": "province", "name": "TP Hồ Chí Minh" },
            "century": 1900,
            "birthYear": 1985,
            "sex": "female",
        }),
    );
    check_json(
        &["id", "decode", "999090123456", "--json", "--lang", "en"],
        "",
        1,
        serde_json::json!({
            "valid": false,
            "error": {
                "code": "unknownProvinceCode",
                "message": "Personal ID number: the first 3 digits (999) are not a birth-registration province or country code.",
            },
        }),
    );
}

#[test]
fn name_key() {
    check(
        &[
            "name",
            "key",
            "  Nguye\u{302}\u{303}n   Va\u{306}n  H\u{2019}Hen ",
        ],
        "",
        0,
        &[
            "normalized: Nguyễn Văn H'Hen",
            "search key: nguyen van h'hen",
        ],
    );
    check_json(
        &["name", "key", "ĐẶNG Thị Hoà", "--json"],
        "",
        0,
        serde_json::json!({ "normalized": "ĐẶNG Thị Hoà", "searchKey": "dang thi hoa" }),
    );
}

#[test]
fn qr_parse() {
    check(
        &["qr", "parse", QR_2021],
        "",
        0,
        &[
            "Họ và tên: Nguyễn Văn An",
            "Ngày sinh: 1990-01-01",
            "Giới tính: Nam",
            "Ngày cấp: 2021-07-15",
        ],
    );
    check(
        &["qr", "parse", "-", "--lang", "en"],
        &format!("{QR_2021}\n"),
        0,
        &[
            "Old ID number: 123456789",
            "Permanent residence: Số 1 Hàng Bạc, Hà Nội",
        ],
    );
    check(
        &[
            "qr",
            "parse",
            "001090123456||Nguyễn Văn An|31021990|Nam",
            "--lang",
            "en",
        ],
        "",
        0,
        &[
            "Date of birth: —",
            "! Date of birth: field 4 of the QR code could not be read.",
            "has only 5 fields",
        ],
    );
    check(
        &["qr", "parse", "https://example.com"],
        "",
        1,
        &["không phải số định danh 12 chữ số"],
    );
    check(&["qr", "parse", "-"], &"1".repeat(5000), 1, &["quá 1024"]);
}

#[test]
fn qr_parse_json() {
    check_json(
        &["qr", "parse", "--json", &format!("{QR_2021}|Nguyễn Văn Bố")],
        "",
        0,
        serde_json::json!({
            "valid": true,
            "idNumber": "001090123456",
            "oldIdNumber": "123456789",
            "name": "Nguyễn Văn An",
            "dateOfBirth": "1990-01-01",
            "sex": "male",
            "issueDate": "2021-07-15",
            "extra": ["Nguyễn Văn Bố"],
        }),
    );
    check_json(
        &["qr", "parse", "--json", "abc"],
        "",
        1,
        serde_json::json!({ "valid": false }),
    );
}

#[test]
fn mrz_parse() {
    check(
        &["mrz", "parse", "-"],
        MRZ,
        0,
        &[
            "Số định danh: 001090123456",
            "Ngày sinh: 1990-01-01",
            "Có giá trị đến: 2030-01-01",
            "Họ: NGUYEN",
            "Chữ đệm và tên: VAN A",
        ],
    );
    check(
        &["mrz", "parse", "-", "--lang", "en"],
        &MRZ.replace('\n', "\r\n"),
        0,
        &["Surname: NGUYEN", "Given names: VAN A", "Sex: male"],
    );
    check(
        &["mrz", "parse", "-", "--lang", "en"],
        &MRZ.replacen("9001011M", "9001018M", 1),
        1,
        &["line 2, column 7: check digit of birthDate is '8', expected '1'"],
    );
    check(
        &["mrz", "parse", "-"],
        &MRZ.replacen("<<4\n", "<<<4\n", 1),
        1,
        &["dòng 2, cột 31"],
    );
    check(
        &["mrz", "parse", "/nonexistent/mrz.txt"],
        "",
        2,
        &["cannot read /nonexistent/mrz.txt"],
    );
}

#[test]
fn mrz_parse_file_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mrz.txt");
    std::fs::write(&path, MRZ).expect("write MRZ");
    let path = path.to_str().expect("UTF-8 temp path");
    check_json(
        &["mrz", "parse", path, "--json"],
        "",
        0,
        serde_json::json!({
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
        }),
    );
    check_json(
        &["mrz", "parse", "-", "--json"],
        "hello",
        1,
        serde_json::json!({
            "valid": false,
            "error": { "code": "lineCount", "message": "MRZ: cần 3 dòng, đọc được 1 dòng." },
        }),
    );
}
