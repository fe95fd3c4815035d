//! Every vector of `schema/vectors/` through the command-line entry points:
//! `bundle verify` and `bundle open --key` report the vector's `expect` code.

use std::process::Command;

use ghidanh_bundle::testkit::vectors::{generate, Vector};

const BIN: &str = env!("CARGO_BIN_EXE_ghidanh");

/// Failures found before or while verifying; the others show only when opening.
const VERIFY_STAGE: [&str; 8] = [
    "truncated",
    "malformed_cbor",
    "body_too_long",
    "bad_signature",
    "ciphertext_mismatch",
    "duplicate_key",
    "bad_magic",
    "unsupported_version",
];

#[test]
fn verify_and_open_report_each_vectors_expectation() {
    let dir = tempfile::tempdir().unwrap();
    for v in generate() {
        let vector = Vector::parse(&v.text);
        if vector.fields.contains_key("kind") {
            continue; // receipts: not bundles
        }
        let expect = vector.fields["expect"].as_str();
        let file = dir.path().join(format!("{}.bundle", v.name));
        std::fs::write(&file, vector.bytes("bundle")).unwrap();
        let key = dir.path().join(format!("{}.key", v.name));
        let secret = [
            vector.bytes("registry_signing_secret"),
            vector.bytes("registry_seal_secret"),
        ]
        .concat();
        std::fs::write(&key, format!("{}\n", hex::encode(secret))).unwrap();

        let out = Command::new(BIN)
            .args(["bundle", "open", file.to_str().unwrap(), "--key"])
            .arg(&key)
            .arg("--json")
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if expect == "ok" {
            assert_eq!(out.status.code(), Some(0), "{}", v.name);
            assert_eq!(json["opened"], true, "{}", v.name);
        } else {
            assert_eq!(out.status.code(), Some(1), "{}", v.name);
            assert_eq!(json["opened"], false, "{}", v.name);
            assert_eq!(json["error"], expect, "{}", v.name);
        }

        let out = Command::new(BIN)
            .args(["bundle", "verify", file.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // A header that is not deterministic CBOR (06) is refused by parsing, before any check;
        // a payload that is not (08) verifies and fails only on opening.
        let header_stage = v.name.starts_with("06-") || VERIFY_STAGE.contains(&expect);
        if header_stage {
            assert_eq!(out.status.code(), Some(1), "{}", v.name);
            assert_eq!(json["error"], expect, "{}", v.name);
        } else {
            // ok, wrong_recipient and a non-deterministic payload all verify: only the
            // registry can see inside.
            assert_eq!(out.status.code(), Some(0), "{}", v.name);
            assert_eq!(json["valid"], true, "{}", v.name);
        }
    }
}
